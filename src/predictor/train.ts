/**
 * `abacus train`: read profile data, hold out a seeded test split, cross-validate on the rest (seeded
 * k-fold), fit the final model on every training row, evaluate it on the test split, and return bundles
 * ready to save. `mode: 'all'` trains one model on every combination (the one used online); `'onebyone'`
 * trains one model per combination (results for comparison, as the original's onebyone mode).
 * Nothing is printed: progress goes to `onProgress`.
 */
import { trainedRanges } from './ranges.js';
import { join } from 'node:path';
import { InputError } from '../common/errors.js';
import { writeJsonAtomic } from '../common/fsutil.js';
import type { Progress } from '../common/progress.js';
import { collectProvenance } from '../common/provenance.js';
import type { LabelTransform, Modeling, TrainingRecord } from './bundle-format.js';
export type { SelectionReport, TrainSetting } from './evaluate.js';
import { LABEL_TRANSFORMS, MODELINGS } from './bundle-format.js';
import { type Dataset, type DuplicateReport, type LabelNoise, type WorkResolver, duplicateReport, loadDataset, mergeDuplicateRows, rowsByCombination, subsetDataset } from './dataset.js';
import {
  type ErrorMetrics,
  type EvaluationReport,
  type SelectionReport,
  type TrainSetting,
  type Fitter,
  byKind,
  crossValidate,
  errorMetrics,
  evaluatePredictor,
  holdoutSplit,
  predictDataset,
} from './evaluate.js';
import { DEFAULT_FEATURE_ENCODING, FEATURE_ENCODINGS, type FeatureEncoding, type FeatureSpec, describeFeatureSpec } from './features.js';
import { fitLinearRegression, fitLinearSvr } from './linear.js';
import { DEFAULT_MLP, TrainingDivergedError, type MlpOptimizer } from './mlp-options.js';
import type { Predictor } from './predictor.js';
import { DEFAULT_SVR } from './svr.js';

export type TrainMode = 'all' | 'onebyone';
export type SvmKernel = 'linear' | 'rbf';

export interface TrainProgressEvent {
  /** 'fold' = a cross-validation model, 'final' = the model that is kept. */
  phase: 'fold' | 'final';
  /** The combination (onebyone) or null (all). */
  combination: string | null;
  /** Fold index (0-based) or null for the final model. */
  fold: number | null;
  folds: number;
  /** Epoch just finished (MLP) or null (models fitted in one step). */
  epoch: number | null;
  epochs: number | null;
  /** Mean training MSE of the epoch (MLP) in label units: ms², or (ln ms)² when the label is log-latency. */
  trainMse: number | null;
  /** Work units done and in total (an MLP epoch or one non-MLP fit is one unit), for a progress bar. */
  done: number;
  total: number;
}

export interface TrainOptions {
  dataDirs: string[];
  modeling: Modeling;
  mode?: TrainMode;
  /** k of the k-fold cross-validation (default 5); 0 or 1 skips cross-validation. */
  folds?: number;
  /** Fraction of each combination held out for the final test (default 0.2); 0 skips the test. */
  testFraction?: number;
  seed?: number;
  /** Slots of the feature spec (default: the widest combination of the data). */
  slots?: number;
  /** Feature encoding (default 3: start, end, batch, seq, the segment's GFLOPs and ln(1 + MFLOPs) per slot; 1 = the original's). */
  encoding?: FeatureEncoding;
  /** Encodings 2 and 3: the work table of a profiled model whose profile.json does not record one. */
  resolveWork?: WorkResolver;
  /** What the models learn: the latency in ms ('none', the original's) or its logarithm ('log', default). */
  labelTransform?: LabelTransform;
  // MLP
  epochs?: number;
  batchSize?: number;
  lr?: number;
  optimizer?: MlpOptimizer;
  hidden?: number[];
  // SVM
  kernel?: SvmKernel;
  /** SVM cost C (default 1). */
  C?: number;
  /** SVM ε (linear: ms, default 0 as the original; rbf: standardised label units, default 0.1). */
  epsilon?: number;
  /** RBF kernel width (default 1 / features). */
  gamma?: number;
  /** Linear SVR: maximum passes (default 1000) and relative tolerance (default 1e-5). */
  maxIter?: number;
  tol?: number;
  /**
   * Candidate settings to choose among by k-fold CV on the training rows only (the held-out rows play no
   * part; their figure is reported once, for the chosen setting). Each list replaces the single value of
   * its option; every combination of the lists is a candidate. Epochs apply to the MLP only.
   */
  select?: { encodings?: FeatureEncoding[]; labelTransforms?: LabelTransform[]; epochs?: number[] };
  /** Merge rows of one group configuration into one (default true; see loadDataset). */
  mergeDuplicates?: boolean;
  onProgress?: (e: TrainProgressEvent) => void | Promise<void>;
  /** Command line recorded in the provenance (default: this process's arguments). */
  command?: string;
}

export interface TrainedBundle {
  /** Bundle name: "all" or the combination. */
  name: string;
  combination: string | null;
  predictor: Predictor;
}

export interface CombinationSummary {
  rows: number;
  test: ErrorMetrics | null;
  crossValidation: ErrorMetrics | null;
}

/** Metrics of solo rows and of co-located rows apart (null where a side has no row). */
export interface KindMetrics {
  solo: ErrorMetrics | null;
  colocated: ErrorMetrics | null;
}

export interface TrainSummary {
  modeling: Modeling;
  kernel: SvmKernel | null;
  mode: TrainMode;
  seed: number;
  folds: number;
  testFraction: number;
  featureSpec: FeatureSpec;
  rows: number;
  /** Test metrics over every held-out row (in onebyone: each row predicted by its combination's model). */
  test: ErrorMetrics | null;
  /** Pooled out-of-fold metrics over every training row. */
  crossValidation: ErrorMetrics | null;
  /** The same, for solo rows (one member) and co-located rows (two or more) apart. */
  testByKind: KindMetrics | null;
  crossValidationByKind: KindMetrics | null;
  /** How the test and CV rows relate to training: split by configuration, duplicates merged or not. */
  split: { by: 'configuration'; duplicates: DuplicateReport };
  /** The measurement noise of the labels (over the rows read): a floor under any MAPE. */
  labelNoise: LabelNoise;
  /** The setting chosen by CV (one per unit: one for 'all', one per combination for 'onebyone'). */
  selection: Array<{ combination: string | null } & SelectionReport> | null;
  perCombination: Record<string, CombinationSummary>;
}

export interface TrainResult {
  bundles: TrainedBundle[];
  evaluation: TrainSummary;
}

/** The same rows with ln(latency) as the label (every profiled latency is > 0, checked when read). */
function logLabels(data: Dataset): Dataset {
  const labelsMs = new Float64Array(data.rows);
  for (let i = 0; i < data.rows; i++) labelsMs[i] = Math.log(data.labelsMs[i] as number);
  return { ...data, labelsMs };
}

/** FNV-1a over the seed and labels: independent, order-free seeds for each random choice. */
export function deriveSeed(seed: number, ...parts: Array<string | number>): number {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  for (const ch of parts.join('\u0000')) {
    h ^= ch.codePointAt(0) as number;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
}

interface Resolved {
  encoding: FeatureEncoding;
  labelTransform: LabelTransform;
  modeling: Modeling;
  mode: TrainMode;
  folds: number;
  testFraction: number;
  seed: number;
  kernel: SvmKernel | null;
  epochs: number;
  batchSize: number;
  lr: number;
  optimizer: MlpOptimizer;
  hidden: number[];
  C: number;
  epsilon: number;
  gamma: number | null;
  maxIter: number;
  tol: number;
}

function resolve(o: TrainOptions): Resolved {
  if (!(MODELINGS as readonly string[]).includes(o.modeling)) throw new InputError(`unknown modeling "${String(o.modeling)}" (expected ${MODELINGS.join(', ')})`);
  const mode = o.mode ?? 'all';
  if (mode !== 'all' && mode !== 'onebyone') throw new InputError(`unknown mode "${String(mode)}" (expected all or onebyone)`);
  const folds = o.folds ?? 5;
  if (!Number.isInteger(folds) || folds < 0) throw new InputError(`folds must be a non-negative integer, got ${folds}`);
  const seed = o.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0) throw new InputError(`seed must be a non-negative integer, got ${seed}`);
  const kernel = o.modeling === 'svm' ? (o.kernel ?? 'linear') : null;
  const encoding = o.encoding ?? DEFAULT_FEATURE_ENCODING;
  if (!(FEATURE_ENCODINGS as readonly number[]).includes(encoding)) throw new InputError(`unknown feature encoding ${String(encoding)} (expected ${FEATURE_ENCODINGS.join(' or ')})`);
  const labelTransform = o.labelTransform ?? 'log';
  if (!(LABEL_TRANSFORMS as readonly string[]).includes(labelTransform)) throw new InputError(`unknown label transform "${String(labelTransform)}" (expected ${LABEL_TRANSFORMS.join(' or ')})`);
  if (kernel !== null && kernel !== 'linear' && kernel !== 'rbf') throw new InputError(`unknown kernel "${String(kernel)}" (expected linear or rbf)`);
  return {
    encoding,
    labelTransform,
    modeling: o.modeling,
    mode,
    folds,
    testFraction: o.testFraction ?? 0.2,
    seed,
    kernel,
    epochs: o.epochs ?? DEFAULT_MLP.epochs,
    batchSize: o.batchSize ?? DEFAULT_MLP.batchSize,
    lr: o.lr ?? DEFAULT_MLP.lr,
    optimizer: o.optimizer ?? DEFAULT_MLP.optimizer,
    hidden: o.hidden ?? DEFAULT_MLP.hidden,
    C: o.C ?? 1,
    epsilon: o.epsilon ?? (kernel === 'rbf' ? 0.1 : DEFAULT_SVR.epsilon),
    gamma: o.gamma ?? null,
    maxIter: o.maxIter ?? DEFAULT_SVR.maxIter,
    tol: o.tol ?? DEFAULT_SVR.tol,
  };
}

function hyperParameters(r: Resolved, setting: TrainSetting): TrainingRecord['hyperParameters'] {
  const common = { folds: r.folds, testFraction: r.testFraction, seed: r.seed, featureEncoding: setting.encoding, labelTransform: setting.labelTransform };
  if (r.modeling === 'mlp') {
    return { ...common, hidden: r.hidden, activation: 'relu', loss: 'mse', epochs: setting.epochs ?? r.epochs, batchSize: r.batchSize, lr: r.lr, optimizer: r.optimizer, schedule: 'cosine-per-iteration', standardizedLabels: true };
  }
  if (r.modeling === 'lr') return { ...common, solver: 'normal-equations-svd-pseudoinverse', intercept: true };
  if (r.kernel === 'rbf') return { ...common, kernel: 'rbf', svmType: 'epsilon-svr', C: r.C, epsilon: r.epsilon, gamma: r.gamma ?? 'auto (1/features)', standardizedLabels: true };
  return { ...common, kernel: 'linear', loss: 'epsilon-insensitive (L1)', solver: 'dual coordinate descent', C: r.C, epsilon: r.epsilon, tol: r.tol, maxIter: r.maxIter, bias: 1 };
}

/** Every combination of the candidate lists (the resolved options where a list is not given). */
function candidateSettings(r: Resolved, select: TrainOptions['select']): TrainSetting[] {
  const encodings = select?.encodings?.length ? select.encodings : [r.encoding];
  const labels = select?.labelTransforms?.length ? select.labelTransforms : [r.labelTransform];
  const epochs = r.modeling !== 'mlp' ? [null] : select?.epochs?.length ? select.epochs : [r.epochs];
  for (const e of encodings) if (!(FEATURE_ENCODINGS as readonly number[]).includes(e)) throw new InputError(`unknown feature encoding ${String(e)} (expected ${FEATURE_ENCODINGS.join(' or ')})`);
  for (const l of labels) if (!(LABEL_TRANSFORMS as readonly string[]).includes(l)) throw new InputError(`unknown label transform "${String(l)}" (expected ${LABEL_TRANSFORMS.join(' or ')})`);
  for (const n of epochs) if (n !== null && !(Number.isInteger(n) && n >= 1)) throw new InputError(`epochs must be integers >= 1, got ${n}`);
  const out: TrainSetting[] = [];
  for (const encoding of new Set(encodings)) for (const labelTransform of new Set(labels)) for (const e of new Set(epochs)) out.push({ encoding, labelTransform, epochs: e });
  return out;
}

/** Train as the options say; returns the bundles (not yet saved) and the evaluation. */
export async function trainPredictor(options: TrainOptions): Promise<TrainResult> {
  const r = resolve(options);
  const candidates = candidateSettings(r, options.select);
  const cv = r.folds >= 2;
  if (candidates.length > 1 && !cv) throw new InputError(`choosing among ${candidates.length} settings needs cross-validation: give --folds 2 or more`);
  // one encoded data set per encoding; the rows, their order and so every split are the same in each
  const byEncoding = new Map<FeatureEncoding, Dataset>();
  for (const encoding of new Set(candidates.map((c) => c.encoding))) {
    byEncoding.set(
      encoding,
      loadDataset(options.dataDirs, {
        encoding,
        ...(options.slots === undefined ? {} : { slots: options.slots }),
        ...(options.resolveWork ? { resolveWork: options.resolveWork } : {}),
      }),
    );
  }
  const ds = byEncoding.get(candidates[0]!.encoding)!;
  const provenance = collectProvenance({ seed: r.seed, ...(options.command ? { command: options.command } : {}) });
  // duplicates merge within what each model sees: all rows for 'all', its combination's for 'onebyone'
  const merge = options.mergeDuplicates ?? true;
  const prepared = (d: Dataset): Dataset => (merge ? mergeDuplicateRows(d) : { ...d, duplicates: duplicateReport(d) });
  const unitsOf = (d: Dataset): Array<{ combination: string | null; data: Dataset }> =>
    r.mode === 'all'
      ? [{ combination: null, data: prepared(d) }]
      : rowsByCombination(d).map((rows, c) => ({ combination: d.combinations[c] as string, data: prepared(subsetDataset(d, rows)) }));
  const unitsByEncoding = new Map([...byEncoding].map(([e, d]) => [e, unitsOf(d)]));
  const units = unitsOf(ds);
  const perFit = (s: TrainSetting): number => (r.modeling === 'mlp' ? (s.epochs ?? r.epochs) : 1);
  const selecting = candidates.length > 1;
  const selectWork = selecting ? candidates.reduce((n, c) => n + r.folds * perFit(c), 0) : 0;
  let total = units.length * (selectWork + (selecting ? 0 : (cv ? r.folds : 0) * perFit(candidates[0]!)) + Math.max(...candidates.map(perFit)));
  let done = 0;
  const report = async (e: Omit<TrainProgressEvent, 'done' | 'total' | 'folds'>): Promise<void> => {
    done += 1;
    if (options.onProgress) await options.onProgress({ ...e, folds: cv ? r.folds : 0, done, total });
  };

  const makeFitter = (combination: string | null, fits: Array<Record<string, string | number | boolean | null>>, setting: TrainSetting): Fitter => {
    const fitOn = fitterFor(combination, fits, setting);
    return async (data, ctx) => {
      const predictor = await fitOn(setting.labelTransform === 'log' ? logLabels(data) : data, ctx);
      predictor.labelTransform = setting.labelTransform;
      return predictor;
    };
  };
  const fitterFor = (combination: string | null, fits: Array<Record<string, string | number | boolean | null>>, setting: TrainSetting): Fitter => {
    return async (train, ctx) => {
      const phase = ctx.fold === null ? 'final' : 'fold';
      const seed = deriveSeed(r.seed, 'model', combination ?? '', ctx.fold ?? 'final');
      const base = { phase, combination, fold: ctx.fold } as const;
      if (r.modeling === 'mlp') {
        const { trainMlp } = await import('./mlp-train.js');
        const { predictor, fit } = await trainMlp(train.spec, train, train.width, {
          hidden: r.hidden,
          epochs: setting.epochs ?? r.epochs,
          batchSize: r.batchSize,
          lr: r.lr,
          optimizer: r.optimizer,
          seed,
          onEpoch: (e) => report({ ...base, epoch: e.epoch, epochs: e.epochs, trainMse: e.trainMse }),
        });
        fits.push({ ...fit });
        return predictor;
      }
      let predictor: Predictor;
      if (r.modeling === 'lr') {
        predictor = fitLinearRegression(train.spec, train, train.width);
        fits.push({ rows: train.rows });
      } else if (r.kernel === 'rbf') {
        const { fitRbfSvr } = await import('./rbf.js');
        const out = await fitRbfSvr(train.spec, train, train.width, { C: r.C, epsilon: r.epsilon, ...(r.gamma !== null ? { gamma: r.gamma } : {}) });
        predictor = out.predictor;
        fits.push(out.fit);
      } else {
        const out = fitLinearSvr(train.spec, train, train.width, { C: r.C, epsilon: r.epsilon, tol: r.tol, maxIter: r.maxIter, seed });
        predictor = out.predictor;
        fits.push({ iterations: out.fit.iterations, converged: out.fit.converged, primal: out.fit.primal, dual: out.fit.dual });
      }
      await report({ ...base, epoch: null, epochs: null, trainMse: null });
      return predictor;
    };
  };

  const bundles: TrainedBundle[] = [];
  const perCombination: Record<string, CombinationSummary> = {};
  const selections: Array<{ combination: string | null } & SelectionReport> = [];
  const testPred: number[] = [];
  const testTrue: number[] = [];
  const testPresent: number[] = [];
  const oofPred: number[] = [];
  const oofTrue: number[] = [];
  const oofPresent: number[] = [];
  for (const [u, first] of units.entries()) {
    const where = first.combination === null ? '' : ` (combination ${first.combination})`;
    const dataOf = (s: TrainSetting): Dataset => unitsByEncoding.get(s.encoding)![u]!.data;
    // the split depends on the rows only (configurations, combinations, solo / co-located), not on the encoding
    const split = holdoutSplit(first.data, r.testFraction, deriveSeed(r.seed, 'holdout', first.combination ?? ''));
    if (split.train.length === 0) throw new InputError(`no training rows${where}`);
    const kfoldSeed = deriveSeed(r.seed, 'kfold', first.combination ?? '');
    let chosen = candidates[0]!;
    let cvRun: Awaited<ReturnType<typeof crossValidate>> | null = null;
    if (cv) {
      const scored: SelectionReport['candidates'] = [];
      let bestMape = Number.POSITIVE_INFINITY;
      for (const setting of candidates) {
        const doneBefore = done;
        let run: Awaited<ReturnType<typeof crossValidate>>;
        try {
          run = await crossValidate(subsetDataset(dataOf(setting), split.train), makeFitter(first.combination, [], setting), r.folds, kfoldSeed);
        } catch (err) {
          // a candidate whose MLP diverges is out of the running (when there are others to choose from)
          if (!(selecting && err instanceof TrainingDivergedError)) throw err;
          scored.push({ ...setting, cvMapePct: null, failed: err.message });
          total -= r.folds * perFit(setting) - (done - doneBefore);
          continue;
        }
        const mape = run.report.pooled.overall.mapePct;
        scored.push({ ...setting, cvMapePct: mape });
        if (mape < bestMape || cvRun === null) {
          bestMape = mape;
          chosen = setting;
          cvRun = run;
        }
      }
      if (cvRun === null) throw new InputError(`no candidate setting trained${where}: ${scored.map((c) => c.failed).join('; ')}`);
      if (selecting) selections.push({ combination: first.combination, by: 'pooled k-fold CV MAPE on the training rows', candidates: scored, chosen });
    }
    total -= Math.max(...candidates.map(perFit)) - perFit(chosen);
    const data = dataOf(chosen);
    const trainSet = subsetDataset(data, split.train);
    const testSet = subsetDataset(data, split.test);
    const fits: Array<Record<string, string | number | boolean | null>> = [];
    const fitter = makeFitter(first.combination, fits, chosen);
    const cvReport = cvRun?.report ?? null;
    const predictor = await fitter(trainSet, { fold: null, folds: r.folds });
    const test = testSet.rows > 0 ? evaluatePredictor(predictor, testSet) : null;
    const evaluation: EvaluationReport = {
      seed: r.seed,
      testFraction: r.testFraction,
      rows: { total: data.rows, train: trainSet.rows, test: testSet.rows },
      crossValidation: cvReport,
      test,
      split: { by: 'configuration', duplicates: data.duplicates },
      ...(selecting ? { selection: selections[selections.length - 1]! } : {}),
    };
    predictor.name = first.combination ?? 'all';
    predictor.evaluation = evaluation;
    predictor.training = {
      provenance,
      dataSets: data.sources,
      mode: r.mode,
      combination: first.combination,
      seed: r.seed,
      rows: trainSet.rows,
      hyperParameters: hyperParameters(r, chosen),
      fit: fits[fits.length - 1] ?? {},
    };
    predictor.ranges = trainedRanges(data);
    bundles.push({ name: predictor.name, combination: first.combination, predictor });

    if (testSet.rows > 0) {
      const p = predictDataset(predictor, testSet);
      for (let i = 0; i < testSet.rows; i++) {
        testPred.push(p[i] as number);
        testTrue.push(testSet.labelsMs[i] as number);
        testPresent.push(testSet.presentOf[i] as number);
      }
    }
    const entry = (name: string): CombinationSummary => (perCombination[name] ??= { rows: 0, test: null, crossValidation: null });
    rowsByCombination(data).forEach((rows, c) => {
      if (rows.length > 0) entry(data.combinations[c] as string).rows = rows.length;
    });
    for (const [name, m] of Object.entries(test?.perCombination ?? {})) entry(name).test = m;
    if (cvRun) {
      for (const [name, m] of Object.entries(cvRun.report.pooled.perCombination)) entry(name).crossValidation = m;
      for (let i = 0; i < trainSet.rows; i++) {
        oofPred.push(cvRun.outOfFoldMs[i] as number);
        oofTrue.push(trainSet.labelsMs[i] as number);
        oofPresent.push(trainSet.presentOf[i] as number);
      }
    }
  }
  const kinds = (present: number[], pred: number[], truth: number[]): KindMetrics | null =>
    truth.length ? byKind({ rows: truth.length, presentOf: Uint8Array.from(present) }, pred, truth) : null;
  const unitReports = units.map((u) => u.data.duplicates);
  const configurations = unitReports.reduce((n, d) => n + d.configurations, 0);
  const duplicates: DuplicateReport = { rowsRead: ds.rows, configurations, duplicateRows: ds.rows - configurations, merged: merge };
  const evaluation: TrainSummary = {
    modeling: r.modeling,
    kernel: r.kernel,
    mode: r.mode,
    seed: r.seed,
    folds: cv ? r.folds : 0,
    testFraction: r.testFraction,
    featureSpec: bundles[0]?.predictor.spec ?? ds.spec,
    rows: ds.rows,
    test: testTrue.length ? errorMetrics(testPred, testTrue) : null,
    crossValidation: oofTrue.length ? errorMetrics(oofPred, oofTrue) : null,
    testByKind: kinds(testPresent, testPred, testTrue),
    crossValidationByKind: kinds(oofPresent, oofPred, oofTrue),
    split: { by: 'configuration', duplicates },
    labelNoise: ds.labelNoise,
    selection: selecting ? selections : null,
    perCombination,
  };
  return { bundles, evaluation };
}

/** Save the bundles: `all` into `outDir` itself, `onebyone` into `outDir/<combination>/`; plus `outDir/evaluation.json`. */
export function saveTrainResult(result: TrainResult, outDir: string): string[] {
  const dirs: string[] = [];
  for (const b of result.bundles) {
    const dir = result.evaluation.mode === 'all' ? outDir : join(outDir, b.name);
    b.predictor.save(dir);
    dirs.push(dir);
  }
  writeJsonAtomic(join(outDir, 'evaluation.json'), result.evaluation);
  return dirs;
}

export function describeTrainSummary(s: TrainSummary): string {
  const pct = (m: ErrorMetrics | null): string => (m ? `MAPE ${m.mapePct.toFixed(2)} %, MAE ${m.maeMs.toFixed(3)} ms` : 'n/a');
  return `${s.modeling}${s.kernel ? `/${s.kernel}` : ''} ${s.mode} on ${s.rows} rows (${describeFeatureSpec(s.featureSpec)}): test ${pct(s.test)}; ${s.folds}-fold CV ${pct(s.crossValidation)}`;
}

/** An `onProgress` that drives a progress bar (src/common/progress.ts): total, position and a short label. */
export function progressBarReporter(bar: Progress): (e: TrainProgressEvent) => void {
  let total = -1;
  return (e) => {
    if (e.total !== total) {
      total = e.total;
      bar.setTotal(total);
    }
    const what = [e.combination, e.phase === 'fold' ? `fold ${(e.fold ?? 0) + 1}/${e.folds}` : 'final', e.epoch !== null ? `epoch ${e.epoch}/${e.epochs}` : null]
      .filter((x) => x !== null)
      .join(' ');
    const loss = e.trainMse !== null ? ` mse ${e.trainMse.toPrecision(3)}` : '';
    bar.update(e.done, { info: `${what}${loss}` });
  };
}
