/** `abacus train`. */
import { Command, Option } from '@commander-js/extra-typings';
import { basename, join } from 'node:path';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { trainPredictor, saveTrainResult, describeTrainSummary, readProfileMeta, MODELINGS, type Modeling, type TrainMode, type SvmKernel, type MlpOptimizer, type ModelWork, type WorkResolver, type FeatureEncoding, type LabelTransform, type ErrorMetrics } from '../predictor/index.js';
import { InputError } from '../common/errors.js';
import { startProgress } from '../common/progress.js';
import { isZooName } from '../zoo/catalog.js';
import { ensureZooModel } from '../zoo/build.js';
import { manifestPath, operatorWork, readManifest } from '../zoo/manifest.js';
import type { ZooScale } from '../zoo/definition.js';
import { InvalidArgumentError } from '@commander-js/extra-typings';
import { checkProfilesComplete } from './profile-check.js';
import { action, parseIntList, parseIntOption, parseNumberOption, parseScale, printJson } from './shared.js';

function parseEncodingList(value: string): FeatureEncoding[] {
  return parseIntList('--select-encodings')(value).map((e) => {
    if (e !== 1 && e !== 2 && e !== 3) throw new InvalidArgumentError(`--select-encodings: ${e} is not a feature encoding (1, 2 or 3)`);
    return e;
  });
}

function parseLabelList(value: string): LabelTransform[] {
  const parts = value.split(/[\s,]+/).filter((p) => p.length > 0);
  if (parts.length === 0) throw new InvalidArgumentError('--select-labels is an empty list');
  return parts.map((p) => {
    if (p !== 'log' && p !== 'ms') throw new InvalidArgumentError(`--select-labels: '${p}' is not a label (log or ms)`);
    return p === 'ms' ? 'none' : 'log';
  });
}

/**
 * Work tables for the models of profiles written before feature encoding 2 (their profile.json has no
 * per-operator FLOPs): read from the models' manifests in `modelsDir` (a zoo model missing there is built
 * at the profile's scale), after checking that the manifest describes the ONNX file that was profiled.
 */
async function manifestWork(dataDirs: readonly string[], modelsDir: string, fallbackScale: ZooScale, workFrom: readonly string[] = []): Promise<WorkResolver> {
  const found = new Map<string, ModelWork>();
  // first: profiles of the same models (same model.onnx) that record the FLOPs
  const recorded = workFrom.flatMap((dir) => readProfileMeta(dir).models.map((m) => ({ ...m, dir })));
  for (const dir of dataDirs) {
    for (const m of readProfileMeta(dir).models) {
      if (m.work || found.has(m.name)) continue;
      const other = recorded.find((r) => r.name === m.name && r.work);
      if (!other) continue;
      if (!m.sha256 || !other.sha256 || m.sha256 !== other.sha256) {
        throw new InputError(`--work-from ${other.dir}: its ${m.name} (sha256 ${other.sha256?.slice(0, 12) ?? 'not recorded'}) is not the one profiled in ${dir} (${m.sha256?.slice(0, 12) ?? 'not recorded'})`);
      }
      found.set(m.name, other.work!);
    }
  }
  for (const dir of dataDirs) {
    const { meta, models } = readProfileMeta(dir);
    const settings = (meta.settings ?? {}) as { scale?: unknown };
    const scale: ZooScale = settings.scale === 'tiny' || settings.scale === 'full' ? settings.scale : fallbackScale;
    for (const m of models) {
      if (m.work || found.has(m.name)) continue;
      const modelDir = join(modelsDir, m.name);
      const built = existsSync(manifestPath(modelDir));
      if (!built && !isZooName(m.name)) continue;
      const manifest = built ? readManifest(modelDir) : await ensureZooModel(m.name, modelsDir, scale);
      if (m.sha256 && manifest.model.sha256 !== m.sha256) {
        throw new InputError(`${modelDir}: this ${m.name} (model.onnx sha256 ${manifest.model.sha256.slice(0, 12)}) is not the one profiled in ${dir} (${m.sha256.slice(0, 12)}); point --models-dir at the profiled models`);
      }
      found.set(m.name, operatorWork(manifest));
    }
  }
  return (model, dataDir) => {
    const work = found.get(model.name);
    if (!work) throw new InputError(`${join(dataDir, 'profile.json')}: model ${model.id} (${model.name}) has no per-operator FLOPs and no manifest in ${modelsDir}; give --models-dir, or train with --encoding 1`);
    return work;
  };
}

/** Where bare `abacus train` looks for a profile: the user's own runs first, then the committed data sets. */
const PROFILE_ROOTS = [join('runs', 'profile'), join('data', 'profile')];

/** The profile folder (one holding profile.json) written last under the first root that has any. */
export function newestProfile(roots: readonly string[]): string {
  for (const root of roots) {
    if (!existsSync(root)) continue;
    const found = readdirSync(root, { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(join(root, d.name, 'profile.json')))
      .map((d) => ({ dir: join(root, d.name), mtimeMs: statSync(join(root, d.name, 'profile.json')).mtimeMs }))
      .sort((a, b) => b.mtimeMs - a.mtimeMs);
    if (found[0]) return found[0].dir;
  }
  throw new InputError(`no --data given and no profile under ${roots.join(' or ')}: make one with 'abacus profile --model-num 2 --comb resnet50 vgg16 --scale tiny --samples 10 --reps 10', or pass --data <profile dir>`);
}

export function trainCommand(): Command {
  return new Command('train')
    .description('train an overlap-aware latency predictor (MLP, LR or SVM) on profile data, with k-fold and held-out error reports')
    .option('--data <dirs...>', 'profile data set folder(s) (abacus profile --out); default: the newest profile under runs/profile/, else under data/profile/')
    .addOption(new Option('--modeling <m>', 'predictor').choices(MODELINGS as readonly Modeling[]).default('mlp' as Modeling))
    .addOption(new Option('--mode <mode>', "'all': one model for every combination; 'onebyone': one per combination").choices(['all', 'onebyone'] as const).default('all' as TrainMode))
    .option('--folds <k>', 'k of the k-fold cross-validation (0: none)', parseIntOption('--folds', 0), 5)
    .option('--test-fraction <x>', 'share of each combination held out for the final test', parseNumberOption('--test-fraction', 0), 0.2)
    .option('--seed <n>', 'seed of splits and initialisation', parseIntOption('--seed'), 0)
    .option('--epochs <n>', 'MLP epochs', parseIntOption('--epochs', 1))
    .option('--batch-size <n>', 'MLP mini-batch', parseIntOption('--batch-size', 1))
    .option('--lr <x>', 'MLP initial learning rate', parseNumberOption('--lr', 0))
    .addOption(new Option('--optimizer <o>', 'MLP optimiser (sgd with a per-iteration cosine schedule, as the original)').choices(['sgd', 'adam'] as const))
    .addOption(new Option('--kernel <k>', 'SVM kernel: linear (the original LinearSVR) or rbf (libsvm)').choices(['linear', 'rbf'] as const).default('linear' as SvmKernel))
    .addOption(new Option('--encoding <n>', "feature encoding: 3 adds each member's GFLOPs and ln(1 + MFLOPs) to start, end, batch, seq; 2 the GFLOPs only; 1 is the original's").choices(['1', '2', '3'] as const).default('3' as const))
    .addOption(new Option('--label <l>', "what the models learn: 'log' (log-latency: relative errors count) or 'ms' (the original's)").choices(['log', 'ms'] as const).default('log' as const))
    .option('--select-encodings <list>', 'choose the feature encoding among these by k-fold CV on the training rows (e.g. 1,2,3)', parseEncodingList)
    .option('--select-labels <list>', 'choose the label among these by k-fold CV on the training rows (log,ms)', parseLabelList)
    .option('--select-epochs <list>', 'choose the MLP epochs among these by k-fold CV on the training rows (e.g. 250,500,1000)', parseIntList('--select-epochs'))
    .option('--work-from <dirs...>', "profile folders that record per-operator FLOPs of the same models (same sha256), for profiles that do not (before the manifests in --models-dir)")
    .option('--keep-duplicates', 'keep rows of one group configuration apart (default: merge them into one row, median of their medians)')
    .option('--models-dir <dir>', "where the profiled models' manifests are (for profiles without per-operator FLOPs)", 'models')
    .addOption(new Option('--scale <scale>', 'scale of zoo models built on demand for their manifests (default: the profile\'s)').default('full' as ZooScale).argParser(parseScale))
    .option('--out <dir>', 'bundle folder (default runs/predictor/<data>-<modeling>-<mode>, git-ignored)')
    .option('--allow-partial', "train on a profile with fewer groups than its profile.json plans (refused by default)")
    .option('--json', 'print one JSON object on stdout')
    .action(
      action(async (opts) => {
        const data = opts.data ?? [newestProfile(PROFILE_ROOTS)];
        if (!opts.data) process.stderr.write(`abacus train: no --data given: training on the newest profile, ${data[0]}\n`);
        checkProfilesComplete(data, opts.allowPartial === true);
        const out = opts.out ?? join('runs', 'predictor', `${basename(data[0]!)}-${opts.modeling}${opts.modeling === 'svm' && opts.kernel === 'rbf' ? '-rbf' : ''}-${opts.mode}`);
        const bar = startProgress('train', 1);
        const encoding = Number(opts.encoding) as FeatureEncoding;
        const usesWork = encoding !== 1 || (opts.selectEncodings ?? []).some((e) => e !== 1);
        const resolveWork = usesWork ? await manifestWork(data, opts.modelsDir, opts.scale, opts.workFrom ?? []) : undefined;
        const result = await trainPredictor({
          dataDirs: data,
          encoding,
          labelTransform: opts.label === 'ms' ? 'none' : 'log',
          ...(resolveWork ? { resolveWork } : {}),
          modeling: opts.modeling,
          mode: opts.mode,
          folds: opts.folds,
          testFraction: opts.testFraction,
          seed: opts.seed,
          ...(opts.epochs !== undefined ? { epochs: opts.epochs } : {}),
          ...(opts.batchSize !== undefined ? { batchSize: opts.batchSize } : {}),
          ...(opts.lr !== undefined ? { lr: opts.lr } : {}),
          ...(opts.optimizer !== undefined ? { optimizer: opts.optimizer as MlpOptimizer } : {}),
          kernel: opts.kernel,
          mergeDuplicates: !opts.keepDuplicates,
          ...(opts.selectEncodings || opts.selectLabels || opts.selectEpochs
            ? { select: { ...(opts.selectEncodings ? { encodings: opts.selectEncodings } : {}), ...(opts.selectLabels ? { labelTransforms: opts.selectLabels } : {}), ...(opts.selectEpochs ? { epochs: opts.selectEpochs } : {}) } }
            : {}),
          onProgress: (e) => {
            bar.setTotal(e.total);
            bar.update(e.done, { info: `${e.phase}${e.fold !== null ? ` ${e.fold + 1}/${e.folds}` : ''}${e.combination ? ` ${e.combination}` : ''}` });
          },
        });
        bar.stop();
        const dirs = saveTrainResult(result, out);
        const s = result.evaluation;
        const headline = s.test ?? s.crossValidation;
        if (opts.json) {
          printJson({
            modeling: s.modeling,
            kernel: s.kernel,
            mode: s.mode,
            mape: headline?.mapePct ?? null,
            mae: headline?.maeMs ?? null,
            test: s.test,
            crossValidation: s.crossValidation,
            testByKind: s.testByKind,
            crossValidationByKind: s.crossValidationByKind,
            split: s.split,
            labelNoise: s.labelNoise,
            selection: s.selection,
            folds: s.folds,
            perCombination: Object.entries(s.perCombination).map(([combination, c]) => ({ combination, rows: c.rows, test: c.test, crossValidation: c.crossValidation, mape: (c.test ?? c.crossValidation)?.mapePct ?? null })),
            bundles: dirs,
          });
        } else {
          console.log(describeTrainSummary(s));
          const pct = (m: ErrorMetrics | null | undefined): string => (m ? `${m.mapePct.toFixed(2)} % (${m.n})` : '-');
          console.log(`unseen groups (split by configuration; ${s.split.duplicates.duplicateRows} duplicate row(s) ${s.split.duplicates.merged ? 'merged' : 'kept'}): solo test ${pct(s.testByKind?.solo)}, CV ${pct(s.crossValidationByKind?.solo)}; co-located test ${pct(s.testByKind?.colocated)}, CV ${pct(s.crossValidationByKind?.colocated)}`);
          const n = s.labelNoise;
          console.log(`label noise over ${n.rows} rows: ${n.reps.min === n.reps.max ? n.reps.min : `${n.reps.min}-${n.reps.max}`} reps per row, spread (std / mean) median ${n.spreadPct.median.toFixed(2)} %, p95 ${n.spreadPct.p95.toFixed(2)} %${n.medianCiPct ? `; median's 95 % CI ±${n.medianCiPct.median.toFixed(2)} % (p95 ±${n.medianCiPct.p95.toFixed(2)} %)` : ''}`);
          for (const sel of s.selection ?? []) {
            const name = (c: { encoding: number; labelTransform: string; epochs: number | null }) => `encoding ${c.encoding}, label ${c.labelTransform === 'none' ? 'ms' : 'log'}${c.epochs !== null ? `, ${c.epochs} epochs` : ''}`;
            console.log(`${sel.combination ?? 'all'}: chose ${name(sel.chosen)} by CV on the training rows (${sel.candidates.map((c) => `${name(c)}: ${c.cvMapePct === null ? 'did not train' : `${c.cvMapePct.toFixed(2)} %`}`).join('; ')})`);
          }
          console.log('combination'.padEnd(34) + 'rows    test MAPE   CV MAPE');
          for (const [c, v] of Object.entries(s.perCombination)) {
            console.log(`${c.padEnd(34)}${String(v.rows).padEnd(8)}${(v.test ? `${v.test.mapePct.toFixed(2)} %` : '-').padEnd(12)}${v.crossValidation ? `${v.crossValidation.mapePct.toFixed(2)} %` : '-'}`);
          }
          console.log(`bundle(s): ${dirs.join(', ')}`);
        }
      }),
    );
}
