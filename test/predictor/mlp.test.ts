import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/common/rng.js';
import { ZOO } from '../../src/zoo/catalog.js';
import { type GroupMember, encodeGroups, featureCount, makeFeatureSpec } from '../../src/predictor/features.js';
import { errorMetrics } from '../../src/predictor/evaluate.js';
import { fitLinearRegression } from '../../src/predictor/linear.js';
import * as tf from '@tensorflow/tfjs-core';
import { trainMlp } from '../../src/predictor/mlp-train.js';

const spec = makeFeatureSpec([ZOO[0]!, ZOO[4]!], 2);
const width = featureCount(spec);

/** Pairs of resnet50/vgg16 segments; latency = 1 ms + the longer member + 20 % of the shorter (a max: nonlinear). */
function data(rows: number, seed: number): { features: Float32Array; labelsMs: Float64Array; rows: number } {
  const rng = new Rng(seed);
  const groups: GroupMember[][] = [];
  const labels: number[] = [];
  for (let r = 0; r < rows; r++) {
    const cost = (m: GroupMember): number => ((m.end - m.start) * m.batch) / 16;
    const member = (id: number, ops: number): GroupMember => {
      const start = rng.int(0, ops - 1);
      return { modelId: id, start, end: rng.int(start + 1, ops), batch: rng.pick([4, 8, 16, 32]), seq: 0 };
    };
    const a = member(0, 18);
    const b = member(4, 19);
    groups.push([a, b]);
    labels.push(1 + Math.max(cost(a), cost(b)) + 0.2 * Math.min(cost(a), cost(b)));
  }
  return { features: encodeGroups(spec, groups), labelsMs: Float64Array.from(labels), rows };
}

test('the MLP learns a nonlinear law to a low error on unseen rows (and beats least squares there)', async () => {
  const train = data(1000, 1);
  const test = data(200, 2);
  const epochs: number[] = [];
  const { predictor, fit } = await trainMlp(spec, train, width, {
    epochs: 150,
    batchSize: 128,
    optimizer: 'adam',
    lr: 0.03,
    seed: 3,
    onEpoch: (e) => {
      epochs.push(e.epoch);
    },
  });
  assert.deepEqual(epochs, Array.from({ length: 150 }, (_, i) => i + 1));
  assert.ok(['wasm', 'cpu'].includes(fit.backend));
  const mlp = errorMetrics(predictor.predictMs(test.features, test.rows), test.labelsMs);
  const lr = errorMetrics(fitLinearRegression(spec, train, width).predictMs(test.features, test.rows), test.labelsMs);
  assert.ok(mlp.mapePct < 5, `MLP MAPE ${mlp.mapePct.toFixed(2)} %`);
  assert.ok(mlp.mapePct < lr.mapePct / 2, `MLP ${mlp.mapePct.toFixed(2)} % vs LR ${lr.mapePct.toFixed(2)} %`);
  assert.equal(predictor.parameterCount, width * 32 + 32 + 2 * (32 * 32 + 32) + 33);
});

test('training is seeded: the same seed gives the same weights, another seed others', async () => {
  const d = data(100, 4);
  const opts = { epochs: 3, batchSize: 16, seed: 5 } as const;
  const tensors = tf.memory().numTensors;
  const a = await trainMlp(spec, d, width, opts);
  assert.equal(tf.memory().numTensors, tensors, 'training leaves no tensors behind');
  const b = await trainMlp(spec, d, width, opts);
  const c = await trainMlp(spec, d, width, { ...opts, seed: 6 });
  assert.deepEqual(a.predictor.layers, b.predictor.layers);
  assert.notDeepEqual(a.predictor.layers, c.predictor.layers);
  assert.equal(a.fit.iterations, 3 * Math.ceil(100 / 16));
});

test('the SGD default follows the cosine schedule to convergence on a plain problem', async () => {
  const d = data(300, 7);
  const losses: number[] = [];
  await trainMlp(spec, d, width, { epochs: 30, batchSize: 32, seed: 1, onEpoch: (e) => void losses.push(e.trainMse) });
  assert.ok(losses[losses.length - 1]! < losses[0]! / 4, `loss ${losses[0]} → ${losses[losses.length - 1]}`);
});

test('bad options are InputErrors', async () => {
  const d = data(10, 8);
  await assert.rejects(trainMlp(spec, d, width, { epochs: 0 }), /epochs/);
  await assert.rejects(trainMlp(spec, d, width, { lr: -1 }), /learning rate/);
  await assert.rejects(trainMlp(spec, { ...d, rows: 0 }, width), /no rows/);
});
