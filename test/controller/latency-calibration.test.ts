import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LatencyCalibration } from '../../src/controller/index.js';

test('admission calibration: measured/predicted latency lifts the factor (mean plus spread), and it relaxes back to 1 without samples', () => {
  const c = new LatencyCalibration();
  assert.equal(c.factor(0), 1);
  // queries take three times their prediction
  for (let i = 0; i < 200; i++) c.observe(i, 30, 10);
  const busy = c.factor(200);
  assert.ok(busy > 2.9 && busy < 3.2, `factor ${busy}`);
  // noisy ratios (1 and 5, mean 3): the spread lifts the factor above the mean
  const noisy = new LatencyCalibration();
  for (let i = 0; i < 400; i++) noisy.observe(i, i % 2 === 0 ? 10 : 50, 10);
  assert.ok(noisy.factor(400) > 5, `noisy factor ${noisy.factor(400)}`);
  // nothing completes for 20 s (admission shut): the factor decays to about 1, so admission reopens
  assert.ok(c.factor(200 + 20_000) < 1.01, `relaxed ${c.factor(20_200)}`);
  // outliers are clamped: one sample cannot blow the factor up
  const one = new LatencyCalibration();
  one.observe(0, 1e9, 1);
  assert.ok(one.factor(0) <= 1 + 0.05 * 49 * 3 + 1e-9, `clamped ${one.factor(0)}`);
  // samples without a prediction are ignored
  one.observe(1, 10, Number.NaN);
  one.observe(1, 10, 0);
});
