/**
 * Evaluation: a seeded held-out test split and seeded k-fold cross-validation on the rest (the original's
 * "cross-validation" was one unseeded re-split). Both split by group configuration -- every row of one
 * configuration lands on one side, so a held-out or validation row is a group the model never saw -- and
 * are stratified by combination and by solo / co-located. MAPE (percent), MAE (ms) and percentiles of the
 * absolute percentage error, overall, for solo and co-located rows apart, and per combination.
 */
import { InputError } from '../common/errors.js';
import { Rng } from '../common/rng.js';
import { mean, percentileSorted, std } from '../common/stats.js';
import { type Dataset, type DuplicateReport, subsetDataset } from './dataset.js';
import type { FeatureEncoding } from './features.js';
import type { Predictor } from './predictor.js';

export interface ErrorMetrics {
  n: number;
  /** Mean absolute percentage error, in percent. */
  mapePct: number;
  /** Mean absolute error, ms. */
  maeMs: number;
  /** Percentiles of the absolute percentage error, in percent. */
  apeP50Pct: number;
  apeP95Pct: number;
  apeP99Pct: number;
}

export interface SplitMetrics {
  overall: ErrorMetrics;
  /** Rows with one member present (null: none), and with two or more. Absent in reports before these. */
  solo?: ErrorMetrics | null;
  colocated?: ErrorMetrics | null;
  perCombination: Record<string, ErrorMetrics>;
}

export interface CrossValidationReport {
  folds: number;
  perFold: ErrorMetrics[];
  /** Mean and sample std over folds of the per-fold MAPE and MAE. */
  meanMapePct: number;
  stdMapePct: number;
  meanMaeMs: number;
  stdMaeMs: number;
  /** Metrics of the pooled out-of-fold predictions (every training row predicted once). */
  pooled: SplitMetrics;
}

/** The settings selection may vary. */
export interface TrainSetting {
  encoding: FeatureEncoding;
  /** A bundle's LabelTransform (bundle-format.ts, which imports this module's types). */
  labelTransform: 'none' | 'log';
  /** MLP epochs (null for LR and SVM). */
  epochs: number | null;
}

/** How a setting was chosen: every candidate's pooled out-of-fold MAPE on the training rows. */
export interface SelectionReport {
  by: 'pooled k-fold CV MAPE on the training rows';
  /** `cvMapePct` null: the candidate did not train (`failed` says why: an MLP that diverged). */
  candidates: Array<TrainSetting & { cvMapePct: number | null; failed?: string }>;
  chosen: TrainSetting;
}

export interface EvaluationReport {
  seed: number;
  testFraction: number;
  rows: { total: number; train: number; test: number };
  crossValidation: CrossValidationReport | null;
  /** The final model (fitted on every training row) on the held-out test rows. */
  test: SplitMetrics | null;
  /** How rows were split (bundles from before the split by configuration lack it). */
  split?: { by: 'configuration'; duplicates: DuplicateReport };
  /** The setting chosen by CV on the training rows, when several were candidates. */
  selection?: SelectionReport;
}

/** Error metrics of predictions against labels (both ms), optionally on a subset of positions. */
export function errorMetrics(predMs: ArrayLike<number>, trueMs: ArrayLike<number>, positions?: ArrayLike<number>): ErrorMetrics {
  const n = positions ? positions.length : trueMs.length;
  const ape = new Float64Array(n);
  let abs = 0;
  for (let i = 0; i < n; i++) {
    const j = positions ? (positions[i] as number) : i;
    const t = trueMs[j] as number;
    const err = Math.abs((predMs[j] as number) - t);
    abs += err;
    ape[i] = (100 * err) / Math.abs(t);
  }
  const sorted = Float64Array.from(ape).sort();
  return {
    n,
    mapePct: n ? mean(ape) : Number.NaN,
    maeMs: n ? abs / n : Number.NaN,
    apeP50Pct: percentileSorted(sorted, 50),
    apeP95Pct: percentileSorted(sorted, 95),
    apeP99Pct: percentileSorted(sorted, 99),
  };
}

/** Overall and per-combination metrics of predictions for every row of `ds`. */
export function splitMetrics(ds: Dataset, predMs: ArrayLike<number>): SplitMetrics {
  const byCombo = new Map<number, number[]>();
  for (let r = 0; r < ds.rows; r++) {
    const c = ds.combinationOf[r] as number;
    let list = byCombo.get(c);
    if (!list) byCombo.set(c, (list = []));
    list.push(r);
  }
  const perCombination: Record<string, ErrorMetrics> = {};
  for (const [c, list] of [...byCombo.entries()].sort((a, b) => a[0] - b[0])) {
    perCombination[ds.combinations[c] as string] = errorMetrics(predMs, ds.labelsMs, list);
  }
  const { solo, colocated } = byKind(ds, predMs, ds.labelsMs);
  return { overall: errorMetrics(predMs, ds.labelsMs.subarray(0, ds.rows)), solo, colocated, perCombination };
}

/** Metrics of the solo rows and of the co-located rows of `ds` (null where there are none). */
export function byKind(ds: Pick<Dataset, 'rows' | 'presentOf'>, predMs: ArrayLike<number>, trueMs: ArrayLike<number>): { solo: ErrorMetrics | null; colocated: ErrorMetrics | null } {
  const solo: number[] = [];
  const colocated: number[] = [];
  for (let r = 0; r < ds.rows; r++) ((ds.presentOf[r] as number) <= 1 ? solo : colocated).push(r);
  return {
    solo: solo.length ? errorMetrics(predMs, trueMs, solo) : null,
    colocated: colocated.length ? errorMetrics(predMs, trueMs, colocated) : null,
  };
}

/** Predict every row of a data set (in chunks, through the predictor's batched path). */
export function predictDataset(p: Predictor, ds: Dataset): Float64Array {
  if (ds.width !== p.width) throw new InputError(`data set has ${ds.width} features per row, the predictor ${p.width}`);
  return p.predictMs(ds.features, ds.rows, new Float64Array(ds.rows));
}

export function evaluatePredictor(p: Predictor, ds: Dataset): SplitMetrics {
  return splitMetrics(ds, predictDataset(p, ds));
}

/**
 * The rows grouped by configuration (one unit per configuration), the units grouped into strata by
 * combination and solo / co-located, each stratum shuffled (seeded).
 */
function shuffledUnits(ds: Dataset, rng: Rng): number[][][] {
  const unitOf = new Map<number, number[]>();
  const strata = new Map<string, number[][]>();
  for (let r = 0; r < ds.rows; r++) {
    const c = ds.configurationOf[r] as number;
    let unit = unitOf.get(c);
    if (!unit) {
      unitOf.set(c, (unit = []));
      const key = `${ds.combinationOf[r] as number}:${(ds.presentOf[r] as number) <= 1 ? 'solo' : 'colocated'}`;
      let list = strata.get(key);
      if (!list) strata.set(key, (list = []));
      list.push(unit);
    }
    unit.push(r);
  }
  return [...strata.values()].map((units) => rng.shuffle(units));
}

/**
 * A seeded train/test split by configuration: about `testFraction` of the configurations of each stratum
 * (combination x solo / co-located) are test, with all their rows; no configuration is on both sides.
 */
export function holdoutSplit(ds: Dataset, testFraction: number, seed: number): { train: Int32Array; test: Int32Array } {
  if (!(testFraction >= 0 && testFraction < 1)) throw new InputError(`test fraction must be in [0, 1), got ${testFraction}`);
  const rng = new Rng(seed);
  const train: number[] = [];
  const test: number[] = [];
  for (const units of shuffledUnits(ds, rng)) {
    const nTest = units.length > 1 ? Math.round(units.length * testFraction) : 0;
    for (const u of units.slice(0, nTest)) test.push(...u);
    for (const u of units.slice(nTest)) train.push(...u);
  }
  const asc = (a: number, b: number): number => a - b;
  return { train: Int32Array.from(train.sort(asc)), test: Int32Array.from(test.sort(asc)) };
}

/**
 * Seeded k folds that partition the rows by configuration, stratified by combination and solo /
 * co-located: each stratum's configurations are shuffled and dealt round-robin (continuing across
 * strata), so fold sizes differ by at most one configuration each. Returns the validation rows of each
 * fold (ascending).
 */
export function kFoldSplits(ds: Dataset, k: number, seed: number): Int32Array[] {
  if (!Number.isInteger(k) || k < 2) throw new InputError(`k-fold needs at least 2 folds, got ${k}`);
  const strata = shuffledUnits(ds, new Rng(seed));
  const configurations = strata.reduce((n, s) => n + s.length, 0);
  if (configurations < k) throw new InputError(`${k}-fold cross-validation needs at least ${k} distinct groups, have ${configurations}`);
  const folds: number[][] = Array.from({ length: k }, () => []);
  let next = 0;
  for (const units of strata) {
    for (const u of units) {
      (folds[next] as number[]).push(...u);
      next = (next + 1) % k;
    }
  }
  return folds.map((f) => Int32Array.from(f.sort((a, b) => a - b)));
}

/** The rows not in `fold`. */
export function complement(rows: number, fold: Int32Array): Int32Array {
  const inFold = new Uint8Array(rows);
  for (const r of fold) inFold[r] = 1;
  const out = new Int32Array(rows - fold.length);
  let j = 0;
  for (let r = 0; r < rows; r++) if (!inFold[r]) out[j++] = r;
  return out;
}

export type Fitter = (train: Dataset, ctx: { fold: number | null; folds: number }) => Promise<Predictor>;

/** k-fold cross-validation of a fitter on `ds`: the report and every row's out-of-fold prediction. */
export async function crossValidate(ds: Dataset, fit: Fitter, folds: number, seed: number): Promise<{ report: CrossValidationReport; outOfFoldMs: Float64Array }> {
  const splits = kFoldSplits(ds, folds, seed);
  const oof = new Float64Array(ds.rows);
  const perFold: ErrorMetrics[] = [];
  for (let f = 0; f < folds; f++) {
    const valRows = splits[f] as Int32Array;
    const trainSet = subsetDataset(ds, complement(ds.rows, valRows));
    const valSet = subsetDataset(ds, valRows);
    const p = await fit(trainSet, { fold: f, folds });
    try {
      const pred = predictDataset(p, valSet);
      perFold.push(errorMetrics(pred, valSet.labelsMs));
      for (let i = 0; i < valRows.length; i++) oof[valRows[i] as number] = pred[i] as number;
    } finally {
      p.dispose();
    }
  }
  const mapes = perFold.map((m) => m.mapePct);
  const maes = perFold.map((m) => m.maeMs);
  const report: CrossValidationReport = {
    folds,
    perFold,
    meanMapePct: mean(mapes),
    stdMapePct: std(mapes),
    meanMaeMs: mean(maes),
    stdMaeMs: std(maes),
    pooled: splitMetrics(ds, oof),
  };
  return { report, outOfFoldMs: oof };
}
