/**
 * Linear predictors: least squares (`lr`, ml-regression-multivariate-linear) and the original's "SVM", a
 * linear ε-insensitive SVR fitted by dual coordinate descent (svr.ts). Both learn weights on standardised
 * features plus an intercept; inference folds the standardisation into the weights once.
 */
import MultivariateLinearRegression from 'ml-regression-multivariate-linear';
import { InputError } from '../common/errors.js';
import type { BundleFile, LabelScaling, LinearModelJson, ModelJson, Standardization } from './bundle-format.js';
import type { FeatureSpec } from './features.js';
import { BasePredictor, IDENTITY_LABEL, computeStandardization, standardizeRows } from './predictor.js';
import { type SvrOptions, type SvrResult, solveLinearSvr } from './svr.js';

export class LinearPredictor extends BasePredictor {
  private readonly foldedWeights: Float64Array;
  private readonly foldedIntercept: number;

  constructor(
    readonly modeling: 'lr' | 'svm',
    spec: FeatureSpec,
    standardization: Standardization,
    readonly weights: readonly number[],
    readonly intercept: number,
    label: LabelScaling = IDENTITY_LABEL,
    name?: string,
  ) {
    super(spec, standardization, label, name);
    if (weights.length !== this.width) throw new InputError(`linear model has ${weights.length} weights for ${this.width} features`);
    this.foldedWeights = new Float64Array(this.width);
    let b = intercept;
    for (let k = 0; k < this.width; k++) {
      const w = (weights[k] as number) / (standardization.std[k] as number);
      this.foldedWeights[k] = w * label.std;
      b -= w * (standardization.mean[k] as number);
    }
    this.foldedIntercept = label.mean + label.std * b;
  }

  protected run(features: Float32Array, rows: number, out: Float64Array): void {
    const w = this.foldedWeights;
    const width = this.width;
    for (let r = 0; r < rows; r++) {
      let acc = this.foldedIntercept;
      const base = r * width;
      for (let k = 0; k < width; k++) acc += (w[k] as number) * (features[base + k] as number);
      out[r] = acc;
    }
  }

  protected modelJson(): { model: ModelJson; files: BundleFile[] } {
    const model: LinearModelJson = { kind: 'linear', weights: [...this.weights], intercept: this.intercept };
    return { model, files: [] };
  }
}

export interface TrainingData {
  features: Float32Array;
  labelsMs: Float64Array;
  rows: number;
}

/** Ordinary least squares with intercept on standardised features. */
export function fitLinearRegression(spec: FeatureSpec, data: TrainingData, width: number): LinearPredictor {
  if (data.rows === 0) throw new InputError('cannot fit a linear regression on no rows');
  const st = computeStandardization(data.features, data.rows, width);
  const xs = standardizeRows(data.features, data.rows, width, st);
  const x: number[][] = [];
  const y: number[][] = [];
  for (let r = 0; r < data.rows; r++) {
    x.push(Array.from(xs.subarray(r * width, (r + 1) * width)));
    y.push([data.labelsMs[r] as number]);
  }
  const mlr = new MultivariateLinearRegression(x, y, { intercept: true, statistics: false });
  const weights = mlr.weights.slice(0, width).map((row) => row[0] as number);
  const intercept = (mlr.weights[width] as number[])[0] as number;
  if (!weights.every(Number.isFinite) || !Number.isFinite(intercept)) throw new InputError('linear regression did not give finite weights');
  return new LinearPredictor('lr', spec, st, weights, intercept);
}

/** StandardScaler + linear SVR (C, ε, L1 loss, regularised bias), as the original's sklearn pipeline. */
export function fitLinearSvr(spec: FeatureSpec, data: TrainingData, width: number, options: SvrOptions): { predictor: LinearPredictor; fit: SvrResult } {
  if (data.rows === 0) throw new InputError('cannot fit an SVR on no rows');
  const st = computeStandardization(data.features, data.rows, width);
  const xs = standardizeRows(data.features, data.rows, width, st);
  const fit = solveLinearSvr(xs, data.labelsMs, data.rows, width, options);
  const weights = Array.from(fit.weights);
  return { predictor: new LinearPredictor('svm', spec, st, weights, fit.bias), fit };
}
