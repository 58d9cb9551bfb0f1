import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../../src/controller/clock.js';
import { generateTrace, zooOperatorCounts, zooServices } from '../../src/controller/load.js';
import { MemoryRunLog } from '../../src/controller/runlog.js';
import { runServing } from '../../src/controller/serving.js';
import { AnalyticLatencyModel, latencyFromModel, simulateServing } from '../../src/controller/simulate.js';
import type { GroupOutcome, GroupRunner, SegmentRun, TraceQuery } from '../../src/controller/types.js';
import { query } from './helpers.js';

test('the next group is decided while one runs and launched unchanged when nothing changed', async () => {
  const trace: TraceQuery[] = [0, 1, 2, 3].map((i) => query(`q${i}`, 'a', 0, 0, 1000));
  const log = new MemoryRunLog();
  const { summary } = await simulateServing({ policy: 'fcfs', trace, operatorCounts: { a: 5 }, latency: () => 10, log });
  assert.equal(summary.plansReused, 3, 'q1..q3 were planned during the previous group');
  assert.deepEqual(log.groups.map((g) => g.launchMs), [0, 10, 20, 30], 'launched at the barriers');
});

test('an arrival during a group triggers a fresh decision', async () => {
  const trace: TraceQuery[] = [query('a1', 'a', 0, 0, 500), query('a2', 'a', 0, 1, 500), query('b1', 'b', 1, 2, 15)];
  const log = new MemoryRunLog();
  const { summary } = await simulateServing({ policy: 'edf', trace, operatorCounts: { a: 5, b: 5 }, latency: () => 10, log });
  assert.deepEqual(log.groups.map((g) => g.members[0]?.id), ['a1', 'b1', 'a2']);
  assert.ok(summary.decisions >= 4);
});

test('abacus: every group is predicted, at its actual launch time, to meet the deadline of its most urgent member', async () => {
  const services = zooServices(['resnet101', 'resnet152', 'vgg19', 'bert']);
  const trace = generateTrace({ services, loadQps: 140, queries: 400, seed: 8, qos: { resnet101: 70, resnet152: 90, vgg19: 60, bert: 50 } });
  const model = new AnalyticLatencyModel();
  const log = new MemoryRunLog();
  // Groups take up to 30% longer or shorter than predicted, so pipelined plans often go stale.
  const { summary } = await simulateServing({
    policy: 'abacus', trace, latencyModel: model, abandon: true, log, operatorCounts: zooOperatorCounts(), latency: latencyFromModel(model, { noise: 0.15, seed: 3 }),
  });
  const deadline = new Map(trace.map((q) => [q.id, q.arrivalMs + q.qosMs]));
  let partial = 0;
  for (const g of log.groups) {
    const urgent = Math.min(...g.members.map((m) => deadline.get(m.id) as number));
    assert.ok(g.predictedMs !== null);
    assert.ok(g.launchMs + g.predictedMs <= urgent + 2e-3, `group ${g.index} launched at ${g.launchMs}, predicted ${g.predictedMs}, deadline ${urgent}`);
    if (g.members.some((m) => !m.final)) partial++;
  }
  assert.ok(partial > 0, 'some groups split a query');
  assert.ok(summary.plansReused > 0 && summary.plansReused < summary.groups, `reused ${summary.plansReused} of ${summary.groups}`);
  assert.ok(summary.searchStepsMax >= 1);
  assert.equal(log.queries.reduce((s, r) => s + (r.groups > 1 ? 1 : 0), 0) > 0, true, 'some queries ran in several groups');
});

test('latency ends at the last segment\'s finish, not when the controller sees the barrier', async () => {
  const clock = new VirtualClock();
  // Reports that each member finished after 5 ms, but resolves only at 8 ms.
  const runner: GroupRunner = {
    operatorCount: () => 4,
    runGroup: async (members: readonly SegmentRun[]): Promise<GroupOutcome> => {
      await clock.sleepUntil(clock.nowMs() + 8);
      return { groupMs: 6, members: members.map((m) => ({ queryId: m.queryId, ms: 5 })) };
    },
  };
  const log = new MemoryRunLog();
  await runServing({ policy: 'fcfs', runner, trace: [query('x', 'a', 0, 0, 100), query('y', 'a', 0, 1, 100)], clock, log });
  const byId = new Map(log.queries.map((r) => [r.id, r]));
  assert.equal(byId.get('x')?.finishMs, 5);
  assert.equal(byId.get('x')?.latencyMs, 5);
  assert.equal(byId.get('y')?.startMs, 8);
  assert.equal(byId.get('y')?.finishMs, 13);
  assert.equal(byId.get('y')?.latencyMs, 12);
});

test('decisions made during a group budget for its predicted remaining time (a doomed query is dropped at once)', async () => {
  // a1 runs 0..10 as predicted. b1 arrives at 2 with QoS 15: after a1's remaining 8 ms, its 10 ms cannot fit.
  const trace: TraceQuery[] = [query('a1', 'a', 0, 0, 100), query('b1', 'b', 1, 2, 15), query('b2', 'b', 1, 3, 100)];
  const log = new MemoryRunLog();
  const latencyModel = { predictMs: (groups: readonly (readonly unknown[])[]) => Float64Array.from(groups.map(() => 10)) };
  for (const policy of ['fcfs', 'edf', 'sjf', 'abacus'] as const) {
    log.queries.length = 0;
    const { summary } = await simulateServing({ policy, trace, latencyModel, abandon: true, operatorCounts: { a: 5, b: 5 }, latency: () => 10, log });
    const b1 = log.queries.find((r) => r.id === 'b1');
    assert.equal(b1?.status, 'dropped', policy);
    assert.equal(b1?.finishMs, 2, `${policy}: dropped when it arrived, not at the barrier`);
    assert.equal(summary.completed, 2);
  }
});
