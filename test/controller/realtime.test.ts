import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MonotonicClock } from '../../src/controller/clock.js';
import { MemoryRunLog } from '../../src/controller/runlog.js';
import { runServing } from '../../src/controller/serving.js';
import type { GroupOutcome, GroupRunner, SegmentRun } from '../../src/controller/types.js';
import { linearModel, query } from './helpers.js';

test('serving in real time on the monotonic clock', async () => {
  const clock = new MonotonicClock();
  const runner: GroupRunner = {
    operatorCount: () => 4,
    runGroup: (members: readonly SegmentRun[]): Promise<GroupOutcome> =>
      new Promise((resolve) => {
        const t0 = clock.nowMs();
        setTimeout(() => resolve({ groupMs: clock.nowMs() - t0, members: members.map((m) => ({ queryId: m.queryId, ms: clock.nowMs() - t0 })) }), 3);
      }),
  };
  const trace = Array.from({ length: 12 }, (_, i) => query(`q${i}`, i % 2 ? 'a' : 'b', i % 2, i * 4, 200));
  const log = new MemoryRunLog();
  const t0 = clock.nowMs();
  const summary = await runServing({ policy: 'abacus', runner, latencyModel: linearModel({ 0: 1, 1: 1 }), trace, clock, log, ways: 2, thldMs: 1 });
  const wallMs = clock.nowMs() - t0;
  assert.equal(summary.completed, 12);
  assert.ok(wallMs >= 44 && wallMs < 5000, `took ${wallMs} ms`);
  for (const r of log.queries) {
    assert.ok((r.startMs as number) >= r.arrivalMs - 1e-6, 'no query starts before it arrives');
    // the runner's groups are 3 ms timers; libuv may fire a timer up to ~1 ms early on performance.now()
    assert.ok((r.latencyMs as number) >= 2, `latency ${r.latencyMs} ms covers the query's group`);
  }
});
