import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryRunLog } from '../../src/controller/runlog.js';
import { simulateServing } from '../../src/controller/simulate.js';
import type { TraceQuery } from '../../src/controller/types.js';
import { query } from './helpers.js';

test('concurrent: services overlap freely, each service runs its queries one after another', async () => {
  const trace: TraceQuery[] = [query('a1', 'a', 0, 0, 100), query('a2', 'a', 0, 0, 100), query('b1', 'b', 1, 1, 100), query('b2', 'b', 1, 2, 100)];
  const log = new MemoryRunLog();
  // Interference: a segment launched while another runs takes 15 ms instead of 10.
  const { summary, runner } = await simulateServing({
    policy: 'concurrent',
    trace,
    operatorCounts: { a: 5, b: 5 },
    latency: (_members, overlapping) => (overlapping.length > 0 ? 15 : 10),
    log,
  });
  const launches = runner.history.map((g) => [g.members[0]?.queryId, g.launchMs, g.finishMs]);
  assert.deepEqual(launches, [['a1', 0, 10], ['b1', 1, 16], ['a2', 10, 25], ['b2', 16, 31]]);
  assert.equal(summary.completed, 4);
  assert.equal(summary.plansReused, 0);
});
