import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/common/rng.js';
import { ZOO } from '../../src/zoo/catalog.js';
import { type GroupMember, encodeGroups, featureCount, makeFeatureSpec } from '../../src/predictor/features.js';
import { errorMetrics } from '../../src/predictor/evaluate.js';
import { fitLinearRegression, fitLinearSvr } from '../../src/predictor/linear.js';

const spec = makeFeatureSpec(ZOO, 2);
const width = featureCount(spec);

/** Random pairs (sometimes one member only) and a label that is an exact linear function of the features. */
function linearData(rows: number, seed: number): { features: Float32Array; labelsMs: Float64Array; rows: number; coef: number[] } {
  const rng = new Rng(seed);
  const groups: GroupMember[][] = [];
  for (let r = 0; r < rows; r++) {
    const a = ZOO[rng.int(0, 2)]!;
    const b = ZOO[rng.int(4, 6)]!;
    const member = (m: typeof a): GroupMember => {
      const start = rng.int(0, m.operatorCount - 1);
      return { modelId: m.id, start, end: rng.int(start, m.operatorCount), batch: rng.pick([4, 8, 16, 32]), seq: m.hasSeq ? rng.pick([8, 64]) : 0 };
    };
    groups.push(rng.next() < 0.2 ? [member(a)] : [member(a), member(b)]);
  }
  const features = encodeGroups(spec, groups);
  const coef = Array.from({ length: width }, () => rng.next() - 0.3);
  const labelsMs = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let y = 20;
    for (let k = 0; k < width; k++) y += coef[k]! * features[r * width + k]!;
    labelsMs[r] = y;
  }
  return { features, labelsMs, rows, coef };
}

test('least squares recovers a linear function of the features exactly (on rows it never saw)', () => {
  const train = linearData(300, 1);
  const p = fitLinearRegression(spec, train, width);
  const test = linearData(100, 2);
  // same law, other rows: use the training coefficients for the expected labels
  const expected = new Float64Array(test.rows);
  for (let r = 0; r < test.rows; r++) {
    let y = 20;
    for (let k = 0; k < width; k++) y += train.coef[k]! * test.features[r * width + k]!;
    expected[r] = y;
  }
  const pred = p.predictMs(test.features, test.rows);
  const m = errorMetrics(pred, expected);
  assert.ok(m.maeMs < 1e-6, `MAE ${m.maeMs} ms`);
  assert.ok(pred.every(Number.isFinite), 'constant features (all 0, like some counts) do not give NaN');
  // the stored weights are on standardised features: w_k = coef_k · std_k for the varying features
  const std = p.standardization.std;
  for (const k of [7, 8, 9, 11, 12, 13]) assert.ok(Math.abs(p.weights[k]! - train.coef[k]! * std[k]!) < 1e-6 * Math.max(1, Math.abs(p.weights[k]!)), `feature ${k}`);
});

test('a nonlinear law is not fitted exactly by least squares (the check above can fail)', () => {
  const d = linearData(200, 3);
  for (let r = 0; r < d.rows; r++) d.labelsMs[r] = d.labelsMs[r]! ** 2 / 50;
  const p = fitLinearRegression(spec, d, width);
  assert.ok(errorMetrics(p.predictMs(d.features, d.rows), d.labelsMs).maeMs > 0.1);
});

test('the linear SVR pipeline (standardise + SVR, C = 1, ε = 0) also recovers an exact linear law', () => {
  const d = linearData(300, 4);
  const { predictor, fit } = fitLinearSvr(spec, d, width, { tol: 1e-8, maxIter: 20_000 });
  assert.equal(predictor.modeling, 'svm');
  const m = errorMetrics(predictor.predictMs(d.features, d.rows), d.labelsMs);
  assert.ok(m.mapePct < 0.05, `MAPE ${m.mapePct} % after ${fit.iterations} passes`);
});
