import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from '../../src/common/errors.js';
import { generateTrace, zooOperatorCounts, zooServices } from '../../src/controller/load.js';
import { findPeakLoad, meetsServerRule } from '../../src/controller/peak.js';
import { summarizeRun } from '../../src/controller/runlog.js';
import { AnalyticLatencyModel, latencyFromModel, simulateServing } from '../../src/controller/simulate.js';
import type { RunSummary } from '../../src/controller/types.js';

/** A summary that passes iff the load is at most `capacity`. */
function fake(loadQps: number, capacity: number): RunSummary {
  const s = summarizeRun([], { policy: 'fcfs', ways: 2, thldMs: 5, abandon: false, decisionsUs: [], plansReused: 0, groupSearchSteps: [] });
  return { ...s, p99OverQos: loadQps <= capacity ? 0.9 : 1.2, violationRatio: loadQps <= capacity ? 0.005 : 0.2 };
}

test('bisection converges on the highest passing load', async () => {
  const r = await findPeakLoad({ evaluate: async (l) => fake(l, 123.4), lowQps: 10, highQps: 1000, resolutionQps: 0.5 });
  assert.ok(r.peakQps !== null && r.failQps !== null);
  assert.ok(r.peakQps <= 123.4 && r.failQps > 123.4 && r.failQps - r.peakQps <= 0.5);
  assert.ok(r.points.length <= 1 + Math.ceil(Math.log2(990 / 0.5)));
  assert.ok(r.points.every((p) => p.pass === p.loadQps <= 123.4));
  // the high end first; the low end (the longest run) only when nothing else passed
  assert.equal(r.points[0]!.loadQps, 1000);
  assert.ok(!r.points.some((p) => p.loadQps === 10));
  const low = await findPeakLoad({ evaluate: async (l) => fake(l, 11), lowQps: 10, highQps: 100, resolutionQps: 5 });
  assert.equal(low.peakQps, 10);
  assert.equal(low.points[low.points.length - 1]!.loadQps, 10, 'the low end is confirmed when no bisection probe passed');
});

test('bounds: a failing low end gives no peak; a passing high end is reported as the peak', async () => {
  assert.equal((await findPeakLoad({ evaluate: async (l) => fake(l, 5), lowQps: 10, highQps: 100 })).peakQps, null);
  const high = await findPeakLoad({ evaluate: async (l) => fake(l, 500), lowQps: 10, highQps: 100 });
  assert.equal(high.peakQps, 100);
  assert.equal(high.failQps, null);
  await assert.rejects(findPeakLoad({ evaluate: async (l) => fake(l, 5), lowQps: 10, highQps: 10 }), InputError);
});

test('the server rule: p99 within QoS and at most 1% violations; a run with no completions fails', () => {
  const base = fake(1, 2);
  assert.equal(meetsServerRule(base), true);
  assert.equal(meetsServerRule({ ...base, violationRatio: 0.011 }), false);
  assert.equal(meetsServerRule({ ...base, p99OverQos: 1.0001 }), false);
  assert.equal(meetsServerRule({ ...base, p99OverQos: null }), false);
});

test('a simulated peak search: abacus sustains at least the load fcfs does', async () => {
  const services = zooServices(['resnet50', 'resnet152']);
  const model = new AnalyticLatencyModel();
  const peak = async (policy: 'fcfs' | 'abacus') => (await findPeakLoad({
    lowQps: 10,
    highQps: 400,
    resolutionQps: 10,
    evaluate: async (loadQps) => (await simulateServing({
      policy, latencyModel: model, abandon: true, operatorCounts: zooOperatorCounts(), latency: latencyFromModel(model),
      trace: generateTrace({ services, loadQps, queries: 300, seed: 0, qos: 60 }),
    })).summary,
  })).peakQps as number;
  const fcfs = await peak('fcfs');
  const abacus = await peak('abacus');
  assert.ok(fcfs > 10);
  assert.ok(abacus >= fcfs, `abacus ${abacus} < fcfs ${fcfs}`);
});
