import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateTrace, zooOperatorCounts, zooServices } from '../../src/controller/load.js';
import { MemoryRunLog } from '../../src/controller/runlog.js';
import { runServing } from '../../src/controller/serving.js';
import { VirtualClock } from '../../src/controller/clock.js';
import { AnalyticLatencyModel, latencyFromModel, simulateServing } from '../../src/controller/simulate.js';
import type { GroupOutcome, GroupRunner, SegmentRun } from '../../src/controller/types.js';
import { POLICY_NAMES } from '../../src/controller/types.js';

const services = zooServices(['resnet152', 'bert']);
const trace = generateTrace({ services, loadQps: 150, queries: 120, seed: 21, qos: 100 });
const model = new AnalyticLatencyModel();

test('a runner whose groups all fail: every query is failed, none lost', async () => {
  const clock = new VirtualClock();
  const runner: GroupRunner = {
    operatorCount: (service) => zooOperatorCounts()[service] as number,
    runGroup: async (members: readonly SegmentRun[]): Promise<GroupOutcome> => {
      await clock.sleepUntil(clock.nowMs() + 3);
      throw new Error(`device lost while running ${members.length} segments`);
    },
  };
  for (const policy of POLICY_NAMES) {
    const log = new MemoryRunLog();
    const summary = await runServing({ policy, runner, latencyModel: model, trace, clock, log });
    assert.equal(summary.failed, trace.length, policy);
    assert.equal(summary.completed, 0);
    assert.equal(summary.violationRatio, 1);
    assert.equal(summary.p99Ms, null);
    assert.equal(log.queries.length, trace.length);
    assert.ok(log.queries.every((r) => r.status === 'failed' && r.latencyMs === null && r.startMs !== null));
    assert.ok(log.groups.every((g) => g.status === 'failed'));
  }
});

test('some groups fail: their queries are failed and never run again, the others complete', async () => {
  for (const policy of ['abacus', 'fcfs', 'concurrent'] as const) {
    const log = new MemoryRunLog();
    const { summary, runner } = await simulateServing({
      policy,
      trace,
      latencyModel: model,
      operatorCounts: zooOperatorCounts(),
      latency: latencyFromModel(model),
      fail: (_m, index) => index % 5 === 2,
      log,
    });
    const failedIds = new Set(log.queries.filter((r) => r.status === 'failed').map((r) => r.id));
    assert.ok(failedIds.size > 0);
    assert.equal(summary.failed, failedIds.size);
    assert.equal(summary.completed + summary.dropped + summary.failed, trace.length);
    // A query that failed appears in no group launched after its failing group.
    const failedAt = new Map<string, number>();
    for (const g of runner.history) {
      for (const m of g.members) {
        const at = failedAt.get(m.queryId);
        assert.ok(at === undefined, `${policy}: query ${m.queryId} relaunched after it failed in group ${at}`);
        if (g.failed) failedAt.set(m.queryId, g.index);
      }
    }
    assert.deepEqual(new Set(failedAt.keys()), failedIds);
  }
});
