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
import { LABEL_TRANSFORMS, MODELINGS } from './bundle-format.js';
import { type Dataset, type WorkResolver, loadDataset, rowsByCombination, subsetDataset } from './dataset.js';
import {
  type ErrorMetrics,
  type EvaluationReport,
  type Fitter,
  crossValidate,
  errorMetrics,
  evaluatePredictor,
  holdoutSplit,
  predictDataset,
} from './evaluate.js';
import { DEFAULT_FEATURE_ENCODING, FEATURE_ENCODINGS, type FeatureEncoding, type FeatureSpec, describeFeatureSpec } from './features.js';
import { fitLinearRegression, fitLinearSvr } from './linear.js';
import { DEFAULT_MLP, type MlpOptimizer } from './mlp-options.js';
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

function hyperParameters(r: Resolved): TrainingRecord['hyperParameters'] {
  const common = { folds: r.folds, testFraction: r.testFraction, seed: r.seed, featureEncoding: r.encoding, labelTransform: r.labelTransform };
  if (r.modeling === 'mlp') {
    return { ...common, hidden: r.hidden, activation: 'relu', loss: 'mse', epochs: r.epochs, batchSize: r.batchSize, lr: r.lr, optimizer: r.optimizer, schedule: 'cosine-per-iteration', standardizedLabels: true };
  }
  if (r.modeling === 'lr') return { ...common, solver: 'normal-equations-svd-pseudoinverse', intercept: true };
  if (r.kernel === 'rbf') return { ...common, kernel: 'rbf', svmType: 'epsilon-svr', C: r.C, epsilon: r.epsilon, gamma: r.gamma ?? 'auto (1/features)', standardizedLabels: true };
  return { ...common, kernel: 'linear', loss: 'epsilon-insensitive (L1)', solver: 'dual coordinate descent', C: r.C, epsilon: r.epsilon, tol: r.tol, maxIter: r.maxIter, bias: 1 };
}

/** Train as the options say; returns the bundles (not yet saved) and the evaluation. */
export async function trainPredictor(options: TrainOptions): Promise<TrainResult> {
  const r = resolve(options);
  const ds = loadDataset(options.dataDirs, {
    encoding: r.encoding,
    ...(options.slots === undefined ? {} : { slots: options.slots }),
    ...(options.resolveWork ? { resolveWork: options.resolveWork } : {}),
  });
  const provenance = collectProvenance({ seed: r.seed, ...(options.command ? { command: options.command } : {}) });
  const units: Array<{ combination: string | null; data: Dataset }> =
    r.mode === 'all'
      ? [{ combination: null, data: ds }]
      : rowsByCombination(ds).map((rows, c) => ({ combination: ds.combinations[c] as string, data: subsetDataset(ds, rows) }));
  const cv = r.folds >= 2;
  const perFit = r.modeling === 'mlp' ? r.epochs : 1;
  const total = units.length * ((cv ? r.folds : 0) + 1) * perFit;
  let done = 0;
  const report = async (e: Omit<TrainProgressEvent, 'done' | 'total' | 'folds'>): Promise<void> => {
    done += 1;
    if (options.onProgress) await options.onProgress({ ...e, folds: cv ? r.folds : 0, done, total });
  };

  const makeFitter = (combination: string | null, fits: Array<Record<string, string | number | boolean | null>>): Fitter => {
    const fitOn = fitterFor(combination, fits);
    return async (data, ctx) => {
      const predictor = await fitOn(r.labelTransform === 'log' ? logLabels(data) : data, ctx);
      predictor.labelTransform = r.labelTransform;
      return predictor;
    };
  };
  const fitterFor = (combination: string | null, fits: Array<Record<string, string | number | boolean | null>>): Fitter => {
    return async (train, ctx) => {
      const phase = ctx.fold === null ? 'final' : 'fold';
      const seed = deriveSeed(r.seed, 'model', combination ?? '', ctx.fold ?? 'final');
      const base = { phase, combination, fold: ctx.fold } as const;
      if (r.modeling === 'mlp') {
        const { trainMlp } = await import('./mlp-train.js');
        const { predictor, fit } = await trainMlp(ds.spec, train, ds.width, {
          hidden: r.hidden,
          epochs: r.epochs,
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
        predictor = fitLinearRegression(ds.spec, train, ds.width);
        fits.push({ rows: train.rows });
      } else if (r.kernel === 'rbf') {
        const { fitRbfSvr } = await import('./rbf.js');
        const out = await fitRbfSvr(ds.spec, train, ds.width, { C: r.C, epsilon: r.epsilon, ...(r.gamma !== null ? { gamma: r.gamma } : {}) });
        predictor = out.predictor;
        fits.push(out.fit);
      } else {
        const out = fitLinearSvr(ds.spec, train, ds.width, { C: r.C, epsilon: r.epsilon, tol: r.tol, maxIter: r.maxIter, seed });
        predictor = out.predictor;
        fits.push({ iterations: out.fit.iterations, converged: out.fit.converged, primal: out.fit.primal, dual: out.fit.dual });
      }
      await report({ ...base, epoch: null, epochs: null, trainMse: null });
      return predictor;
    };
  };

  const bundles: TrainedBundle[] = [];
  const perCombination: Record<string, CombinationSummary> = {};
  const testPred: number[] = [];
  const testTrue: number[] = [];
  const oofPred: number[] = [];
  const oofTrue: number[] = [];
  for (const unit of units) {
    const where = unit.combination === null ? '' : ` (combination ${unit.combination})`;
    const data = unit.data;
    const split = holdoutSplit(data, r.testFraction, deriveSeed(r.seed, 'holdout', unit.combination ?? ''));
    const trainSet = subsetDataset(data, split.train);
    const testSet = subsetDataset(data, split.test);
    if (trainSet.rows === 0) throw new InputError(`no training rows${where}`);
    if (cv && trainSet.rows < r.folds) throw new InputError(`${r.folds}-fold cross-validation needs at least ${r.folds} training rows${where}, have ${trainSet.rows}`);
    const fits: Array<Record<string, string | number | boolean | null>> = [];
    const fitter = makeFitter(unit.combination, fits);
    const cvRun = cv ? await crossValidate(trainSet, fitter, r.folds, deriveSeed(r.seed, 'kfold', unit.combination ?? '')) : null;
    const cvReport = cvRun?.report ?? null;
    const predictor = await fitter(trainSet, { fold: null, folds: r.folds });
    const test = testSet.rows > 0 ? evaluatePredictor(predictor, testSet) : null;
    const evaluation: EvaluationReport = {
      seed: r.seed,
      testFraction: r.testFraction,
      rows: { total: data.rows, train: trainSet.rows, test: testSet.rows },
      crossValidation: cvReport,
      test,
    };
    predictor.name = unit.combination ?? 'all';
    predictor.evaluation = evaluation;
    predictor.training = {
      provenance,
      dataSets: ds.sources,
      mode: r.mode,
      combination: unit.combination,
      seed: r.seed,
      rows: trainSet.rows,
      hyperParameters: hyperParameters(r),
      fit: fits[fits.length - 1] ?? {},
    };
    predictor.ranges = trainedRanges(data);
    bundles.push({ name: predictor.name, combination: unit.combination, predictor });

    if (testSet.rows > 0) {
      const p = predictDataset(predictor, testSet);
      for (let i = 0; i < testSet.rows; i++) {
        testPred.push(p[i] as number);
        testTrue.push(testSet.labelsMs[i] as number);
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
      }
    }
  }
  const evaluation: TrainSummary = {
    modeling: r.modeling,
    kernel: r.kernel,
    mode: r.mode,
    seed: r.seed,
    folds: cv ? r.folds : 0,
    testFraction: r.testFraction,
    featureSpec: ds.spec,
    rows: ds.rows,
    test: testTrue.length ? errorMetrics(testPred, testTrue) : null,
    crossValidation: oofTrue.length ? errorMetrics(oofPred, oofTrue) : null,
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
