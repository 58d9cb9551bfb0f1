import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../../src/controller/clock.js';
import { AnalyticLatencyModel, SimulatedRunner, latencyFromModel } from '../../src/controller/simulate.js';
import type { SegmentRun } from '../../src/controller/types.js';

const seg = (service: string, queryId: string, start: number, end: number): SegmentRun => ({ service, modelId: service === 'a' ? 0 : 1, queryId, start, end, batch: 4, seq: 0 });

test('the simulated runner enforces the executor invariants', async () => {
  const clock = new VirtualClock();
  const runner = new SimulatedRunner({ clock, operatorCounts: { a: 10, b: 10 }, latency: () => 5 });
  assert.throws(() => runner.runGroup([]), /empty group/);
  assert.throws(() => runner.runGroup([seg('a', 'x', 0, 5), seg('a', 'y', 0, 5)]), /two segments of 'a'/);
  assert.throws(() => runner.runGroup([seg('a', 'x', 0, 11)]), /bad segment/);
  assert.throws(() => runner.runGroup([seg('c', 'x', 0, 1)]), /unknown service/);
  const first = runner.runGroup([seg('a', 'x', 0, 5)]);
  assert.throws(() => runner.runGroup([seg('a', 'y', 0, 5)]), /already runs/);
  const other = runner.runGroup([seg('b', 'z', 0, 5)]); // another service may overlap (concurrent policy)
  assert.deepEqual(await first, { groupMs: 5, members: [{ queryId: 'x', ms: 5 }] });
  await other;
  assert.equal(clock.nowMs(), 5);
  assert.deepEqual(runner.busyServices(), []);
  const later = await runner.runGroup([seg('a', 'y', 5, 10)]);
  assert.equal(later.groupMs, 5);
  assert.equal(clock.nowMs(), 10);
});

test('simulated failures reject at the group\'s finish time', async () => {
  const clock = new VirtualClock();
  const runner = new SimulatedRunner({ clock, operatorCounts: { a: 10 }, latency: () => 7, fail: (_m, i) => i === 0 });
  await assert.rejects(runner.runGroup([seg('a', 'x', 0, 10)]), /simulated failure/);
  assert.equal(clock.nowMs(), 7);
  assert.equal(runner.history[0]?.failed, true);
});

test('analytic latency model: the A100 solo table at whole models, monotone in segment length and batch', () => {
  const m = new AnalyticLatencyModel({ groupOverheadMs: 0 });
  const whole = (modelId: number, end: number, batch: number) => m.predictMs([[{ modelId, start: 0, end, batch, seq: 0 }]])[0] as number;
  assert.ok(Math.abs(whole(0, 18, 4) - 8.68) < 1e-9);
  assert.ok(Math.abs(whole(4, 19, 32) - 23.35) < 1e-9);
  assert.ok(whole(4, 10, 4) < whole(4, 19, 4));
  assert.ok(whole(4, 19, 8) < whole(4, 19, 16));
  const pair = m.predictMs([[{ modelId: 0, start: 0, end: 18, batch: 4, seq: 0 }, { modelId: 4, start: 0, end: 19, batch: 4, seq: 0 }]])[0] as number;
  assert.ok(Math.abs(pair - (8.68 + 0.3 * 3.05)) < 1e-9, 'longest member plus a share of the others');
  assert.throws(() => m.predictMs([[{ modelId: 99, start: 0, end: 1, batch: 4, seq: 0 }]]), /model id 99/);
});

test('latencyFromModel: seeded noise, the same for the same seed', () => {
  const model = new AnalyticLatencyModel();
  const draw = (seed: number) => {
    const f = latencyFromModel(model, { noise: 0.2, seed });
    return [0, 1, 2, 3].map(() => f([seg('a', 'x', 0, 18)], []) as number);
  };
  assert.deepEqual(draw(1), draw(1));
  assert.notDeepEqual(draw(1), draw(2));
  const exact = latencyFromModel(model)([seg('a', 'x', 0, 18)], []) as number;
  assert.equal(exact, model.predictMs([[{ modelId: 0, start: 0, end: 18, batch: 4, seq: 0 }]])[0]);
  // Overlapping segments of other groups are priced together with the new group.
  assert.ok((latencyFromModel(model)([seg('a', 'x', 0, 18)], [seg('b', 'y', 0, 35)]) as number) > exact);
});
