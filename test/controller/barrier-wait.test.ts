import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../../src/controller/clock.js';
import { MemoryRunLog } from '../../src/controller/runlog.js';
import { runServing } from '../../src/controller/serving.js';
import { AnalyticLatencyModel } from '../../src/controller/simulate.js';
import type { GroupOutcome, GroupRunner, SegmentRun } from '../../src/controller/types.js';
import { query } from './helpers.js';

test('the group log records each member\'s own time and how long it waited at the barrier for the last one', async () => {
  const clock = new VirtualClock();
  // service a's member takes 4 ms, b's 10 ms: a waits 6 ms at the barrier, b none
  const own: Record<string, number> = { a: 4, b: 10 };
  const runner: GroupRunner = {
    operatorCount: () => 4,
    runGroup: async (members: readonly SegmentRun[]): Promise<GroupOutcome> => {
      const groupMs = Math.max(...members.map((m) => own[m.service] as number));
      await clock.sleepUntil(clock.nowMs() + groupMs);
      return { groupMs, members: members.map((m) => ({ queryId: m.queryId, ms: own[m.service] as number })) };
    },
  };
  const log = new MemoryRunLog();
  // abacus co-locates the two whole queries (both fit their QoS together)
  await runServing({ policy: 'abacus', runner, trace: [query('x', 'a', 0, 0, 100), query('y', 'b', 1, 0, 100)], clock, log, latencyModel: new AnalyticLatencyModel() });
  const together = log.groups.find((g) => g.members.length === 2);
  assert.ok(together, `a group of both (groups: ${JSON.stringify(log.groups.map((g) => g.members.map((m) => m.id)))})`);
  const byId = new Map(together.members.map((m) => [m.id, m]));
  assert.equal(byId.get('x')?.ms, 4);
  assert.equal(byId.get('x')?.barrierWaitMs, 6);
  assert.equal(byId.get('y')?.ms, 10);
  assert.equal(byId.get('y')?.barrierWaitMs, 0);
});
