import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { VirtualClock } from '../../src/controller/clock.js';
import { MemoryRunLog } from '../../src/controller/runlog.js';
import { runServing } from '../../src/controller/serving.js';
import { SimulatedRunner } from '../../src/controller/simulate.js';
import type { GroupOutcome, GroupRunner, SegmentRun } from '../../src/controller/types.js';
import { linearModel, query } from './helpers.js';

/** Spin for `us` microseconds of real time. */
function spinUs(us: number): void {
  const until = performance.now() + us / 1000;
  while (performance.now() < until) { /* spin */ }
}

// The reaction time runs from the event (a group's completion, an arrival's wake) to the launch handed to the
// runner, so it holds the runner's synchronous part; the decision time does not.
for (const policy of ['fcfs', 'abacus'] as const) {
  test(`${policy}: the reaction time holds the runner's synchronous launch, the decision time does not`, async () => {
    const clock = new VirtualClock();
    const simulated = new SimulatedRunner({ clock, operatorCounts: { a: 4, b: 4 }, latency: () => 5 });
    const runner: GroupRunner = {
      operatorCount: (s) => simulated.operatorCount(s),
      runGroup: (members: readonly SegmentRun[]): Promise<GroupOutcome> => {
        spinUs(3000);
        return simulated.runGroup(members);
      },
    };
    const trace = Array.from({ length: 20 }, (_, i) => query(`q${i}`, i % 2 ? 'a' : 'b', i % 2, i * 2, 500));
    const log = new MemoryRunLog();
    const summary = await runServing({ policy, runner, latencyModel: linearModel({ 0: 1, 1: 1 }), trace, clock, log, ways: 2, thldMs: 1, ...(policy === 'abacus' ? { barrier: 'member' as const } : {}) });
    assert.equal(summary.completed, 20);
    assert.equal(log.queries.length, 20, 'every query row reached the log (rows are written after the launches)');
    assert.equal(log.groups.length, summary.groups, 'every group row reached the log');
    assert.ok(summary.reactionP50Us !== null && summary.reactionP99Us !== null, 'reactions recorded');
    assert.ok(summary.reactionP50Us >= 3000, `reaction p50 ${summary.reactionP50Us} µs holds the 3 ms launch`);
    assert.ok(summary.reactionP99Us >= summary.reactionP50Us);
    assert.ok(summary.decisionP50Us !== null && summary.decisionP50Us < 3000, `decision p50 ${summary.decisionP50Us} µs does not`);
  });
}
