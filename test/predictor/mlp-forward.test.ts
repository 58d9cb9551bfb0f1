import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { Rng } from '../../src/common/rng.js';
import { ZOO } from '../../src/zoo/catalog.js';
import type { DenseLayerJson } from '../../src/predictor/bundle-format.js';
import { featureCount, makeFeatureSpec } from '../../src/predictor/features.js';
import { MlpPredictor } from '../../src/predictor/mlp.js';
import { initTfBackend } from '../../src/predictor/mlp-train.js';

const spec = makeFeatureSpec(ZOO, 2);
const width = featureCount(spec);
const rng = new Rng(21);
const sizes = [width, 32, 32, 32, 1];
const layers: DenseLayerJson[] = sizes.slice(1).map((outputs, i) => ({
  inputs: sizes[i]!,
  outputs,
  kernel: Array.from({ length: sizes[i]! * outputs }, () => Math.fround(rng.normal() / Math.sqrt(sizes[i]!))),
  bias: Array.from({ length: outputs }, () => Math.fround(0.1 * rng.normal())),
}));
const standardization = { mean: Array.from({ length: width }, () => 10 * rng.next()), std: Array.from({ length: width }, () => 0.5 + 5 * rng.next()) };
const label = { unit: 'ms' as const, mean: 25, std: 12 };
const predictor = new MlpPredictor(spec, standardization, label, layers);

test('the forward pass equals tfjs on the same weights (standardisation and label scaling folded in)', async () => {
  await initTfBackend();
  const model = tfl.sequential();
  sizes.slice(1).forEach((units, i) => model.add(tfl.layers.dense({ units, activation: i < 3 ? 'relu' : 'linear', ...(i === 0 ? { inputShape: [width] } : {}) })));
  model.setWeights(layers.flatMap((l) => [tf.tensor2d(l.kernel, [l.inputs, l.outputs]), tf.tensor1d(l.bias)]));
  const rows = 37;
  const x = Float32Array.from({ length: rows * width }, () => Math.round(40 * rng.next()));
  const xs = Float32Array.from(x, (v, i) => (v - standardization.mean[i % width]!) / standardization.std[i % width]!);
  const ref = (model.predict(tf.tensor2d(xs, [rows, width])) as tf.Tensor).dataSync();
  const out = predictor.predictMs(x, rows);
  for (let r = 0; r < rows; r++) {
    const expected = label.mean + label.std * ref[r]!;
    assert.ok(Math.abs(out[r]! - expected) <= 1e-4 * Math.max(1, Math.abs(expected)), `row ${r}: ${out[r]} vs ${expected}`);
  }
  model.dispose();
});

test('every batch size gives the row-by-row result; `out` is filled in place; buffers grow past the reserve', () => {
  const rows = 70;
  const x = Float32Array.from({ length: rows * width }, () => Math.round(40 * rng.next()));
  const single = new Float64Array(rows);
  const one = new Float64Array(1);
  for (let r = 0; r < rows; r++) single[r] = predictor.predictMs(x.subarray(r * width, (r + 1) * width), 1, one)[0]!;
  const out = new Float64Array(rows + 3).fill(-7);
  for (const n of [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 70]) {
    const got = predictor.predictMs(x, n, out);
    assert.equal(got, out, 'returns the given array');
    for (let r = 0; r < n; r++) assert.equal(got[r], single[r], `rows ${n}, row ${r}`);
    assert.equal(out[rows], -7, 'nothing written past the rows');
  }
  assert.throws(() => predictor.predictMs(x, 71), RangeError);
  assert.throws(() => predictor.predictMs(x, 4, new Float64Array(3)), RangeError);
  assert.equal(predictor.predictMs(x, 0).length, 0);
});

test('predictGroupsMs encodes members in any order', () => {
  const a = { modelId: 6, start: 2, end: 12, batch: 8, seq: 32 };
  const b = { modelId: 1, start: 0, end: 35, batch: 16, seq: 0 };
  const [p, q] = predictor.predictGroupsMs([[a, b], [b, a]]);
  assert.equal(p, q);
  assert.ok(Number.isFinite(p));
});
