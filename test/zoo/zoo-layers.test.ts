// Helpers shared by the zoo's model definitions: weight statistics and window arithmetic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/common/rng.js';
import { GraphBuilder } from '../../src/onnx/index.js';
import { adaptiveAveragePool, scaleChannels, uniformValues, windowOutputSize } from '../../src/zoo/models/layers.js';

test('uniformValues: seeded, zero mean, the asked standard deviation, bounded by std·√3', () => {
  const std = 0.05;
  const values = uniformValues(new Rng(7), 200_000, std);
  assert.deepEqual(uniformValues(new Rng(7), 200_000, std), values);
  assert.notDeepEqual(uniformValues(new Rng(8), 200_000, std), values);
  let sum = 0;
  let squares = 0;
  let largest = 0;
  for (const v of values) {
    sum += v;
    squares += v * v;
    largest = Math.max(largest, Math.abs(v));
  }
  const mean = sum / values.length;
  assert.ok(Math.abs(mean) < std * 0.01, `mean ${mean}`);
  assert.ok(Math.abs(Math.sqrt(squares / values.length - mean * mean) / std - 1) < 0.01);
  assert.ok(largest <= std * Math.sqrt(3));
});

test('uniformValues: consecutive tensors from one generator differ', () => {
  const rng = new Rng(0);
  const first = uniformValues(rng, 1000, 1);
  const second = uniformValues(rng, 1000, 1);
  assert.ok(first.some((v, i) => v !== second[i]));
});

test('window arithmetic matches torch (floor mode)', () => {
  assert.equal(windowOutputSize(224, 7, 2, 3, 3), 112);
  assert.equal(windowOutputSize(112, 3, 2, 1, 1), 56);
  assert.equal(windowOutputSize(299, 3, 2, 0, 0), 149);
  assert.equal(windowOutputSize(147, 3, 2, 0, 0), 73);
  assert.equal(windowOutputSize(17, 3, 2, 0, 0), 8);
  assert.throws(() => windowOutputSize(2, 3, 2, 0, 0), /does not fit/);
  assert.equal(scaleChannels(448, 8), 56);
  assert.throws(() => scaleChannels(100, 8), /do not divide/);
});

test('adaptive average pooling needs a whole ratio', () => {
  const b = new GraphBuilder('pool');
  const x = b.input('x', ['batch', 4, 14, 14]);
  adaptiveAveragePool(b, x, { height: 14, width: 14 }, 7);
  assert.equal(b.nodes.at(-1)!.opType, 'AveragePool');
  assert.throws(() => adaptiveAveragePool(b, x, { height: 10, width: 10 }, 7), /whole ratio/);
});
