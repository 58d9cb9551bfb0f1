/** `abacus train`. */
import { Command, Option } from '@commander-js/extra-typings';
import { basename, join } from 'node:path';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { trainPredictor, saveTrainResult, describeTrainSummary, readProfileMeta, MODELINGS, type Modeling, type TrainMode, type SvmKernel, type MlpOptimizer, type ModelWork, type WorkResolver, type FeatureEncoding } from '../predictor/index.js';
import { InputError } from '../common/errors.js';
import { startProgress } from '../common/progress.js';
import { isZooName } from '../zoo/catalog.js';
import { ensureZooModel } from '../zoo/build.js';
import { manifestPath, operatorWork, readManifest } from '../zoo/manifest.js';
import type { ZooScale } from '../zoo/definition.js';
import { checkProfilesComplete } from './profile-check.js';
import { action, parseIntOption, parseNumberOption, parseScale, printJson } from './shared.js';

/**
 * Work tables for the models of profiles written before feature encoding 2 (their profile.json has no
 * per-operator FLOPs): read from the models' manifests in `modelsDir` (a zoo model missing there is built
 * at the profile's scale), after checking that the manifest describes the ONNX file that was profiled.
 */
async function manifestWork(dataDirs: readonly string[], modelsDir: string, fallbackScale: ZooScale): Promise<WorkResolver> {
  const found = new Map<string, ModelWork>();
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
        const resolveWork = encoding !== 1 ? await manifestWork(data, opts.modelsDir, opts.scale) : undefined;
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
            folds: s.folds,
            perCombination: Object.entries(s.perCombination).map(([combination, c]) => ({ combination, rows: c.rows, test: c.test, crossValidation: c.crossValidation, mape: (c.test ?? c.crossValidation)?.mapePct ?? null })),
            bundles: dirs,
          });
        } else {
          console.log(describeTrainSummary(s));
          console.log('combination'.padEnd(34) + 'rows    test MAPE   CV MAPE');
          for (const [c, v] of Object.entries(s.perCombination)) {
            console.log(`${c.padEnd(34)}${String(v.rows).padEnd(8)}${(v.test ? `${v.test.mapePct.toFixed(2)} %` : '-').padEnd(12)}${v.crossValidation ? `${v.crossValidation.mapePct.toFixed(2)} %` : '-'}`);
          }
          console.log(`bundle(s): ${dirs.join(', ')}`);
        }
      }),
    );
}
