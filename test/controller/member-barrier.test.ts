import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryRunLog } from '../../src/controller/runlog.js';
import { latencyPerMemberFromModel, simulateServing } from '../../src/controller/simulate.js';
import { runServing } from '../../src/controller/serving.js';
import { InputError } from '../../src/common/errors.js';
import type { TraceQuery } from '../../src/controller/types.js';
import { linearModel, query } from './helpers.js';

// a: 10 operators of 4 ms (40 ms whole); b: 10 operators of 1 ms (10 ms); a group costs its longest member
// plus half of the rest, so a beside b takes 45 ms and the overlap's slowdown is 45 / 40.
const counts = { a: 10, b: 10 };
const model = (): ReturnType<typeof linearModel> => linearModel({ 0: 4, 1: 1 }, 0.5);

async function serve(trace: TraceQuery[], barrier: 'group' | 'member') {
  const log = new MemoryRunLog();
  const m = model();
  const { summary, runner } = await simulateServing({ policy: 'abacus', barrier, trace, operatorCounts: counts, latency: latencyPerMemberFromModel(m), latencyModel: m, log });
  const launchOf = (id: string): number => runner.history.find((g) => g.members.some((s) => s.queryId === id))?.launchMs ?? Number.NaN;
  const finishOf = (id: string): number => log.queries.find((r) => r.id === id)?.finishMs ?? Number.NaN;
  return { summary, runner, log, launchOf, finishOf };
}

test("barrier 'member': a short member's service starts its next query while the long member still runs; 'group' waits for the barrier", async () => {
  const trace = [query('a1', 'a', 0, 0, 200), query('b1', 'b', 1, 0, 200), query('b2', 'b', 1, 0, 200)];
  const group = await serve(trace, 'group');
  const member = await serve(trace, 'member');
  assert.ok(group.launchOf('b2') >= group.finishOf('a1') - 1e-9, `group barrier: b2 launched at ${group.launchOf('b2')}, a1 finished at ${group.finishOf('a1')}`);
  assert.ok(member.launchOf('b2') < member.finishOf('a1'), `per-member: b2 launched at ${member.launchOf('b2')}, before a1 finished at ${member.finishOf('a1')}`);
  assert.ok(member.finishOf('b2') < group.finishOf('b2'));
  // every runner group holds one member, and the accounting holds
  assert.ok(member.runner.history.every((g) => g.members.length === 1));
  assert.equal(member.summary.completed, 3);
  assert.equal(member.summary.barrier, 'member');
  assert.equal(group.summary.barrier, 'group');
  // the group log reports each member's prediction at launch and as last updated
  for (const g of member.log.groups) assert.equal(typeof g.predictedFinalMs, 'number');
});

test("barrier 'member': a segment does not start beside a running query whose deadline the overlap would break", async () => {
  // a1 runs alone from 0 (predicted end 40). b1 arrives at 5: beside it a1's remaining 35 ms stretch by 45/40,
  // to 44.4 ms. With a1's QoS at 44 ms, b1 must wait for a1; at 50 ms it may start at once.
  const tight = await serve([query('a1', 'a', 0, 0, 44), query('b1', 'b', 1, 5, 200)], 'member');
  assert.equal(tight.launchOf('b1'), tight.finishOf('a1'));
  assert.equal(tight.log.queries.find((r) => r.id === 'a1')?.status, 'ok');
  const loose = await serve([query('a1', 'a', 0, 0, 50), query('b1', 'b', 1, 5, 200)], 'member');
  assert.equal(loose.launchOf('b1'), 5);
});

test("barrier 'member' with abandon drops a query at once that misses both beside what runs and alone after it", async () => {
  // a1 (40 ms) runs from 0. b1 (10 ms alone) arrives at 5 with a QoS of 10.5 ms: alone from now it would
  // make it (so the common abandon rule keeps it), beside a1 it ends at 5 + 11.25, alone after a1 at 50:
  // it is dropped at 5, not left to expire while a1 runs. b2 then starts beside a1 at once.
  const m = model();
  const log = new MemoryRunLog();
  const trace = [query('a1', 'a', 0, 0, 200), query('b1', 'b', 1, 5, 10.5), query('b2', 'b', 1, 5, 200)];
  const { summary, runner } = await simulateServing({ policy: 'abacus', barrier: 'member', abandon: true, trace, operatorCounts: counts, latency: latencyPerMemberFromModel(m), latencyModel: m, log });
  const row = (id: string) => log.queries.find((r) => r.id === id);
  assert.deepEqual(Object.fromEntries(log.queries.map((r) => [r.id, r.status])), { a1: 'ok', b1: 'dropped', b2: 'ok' });
  assert.equal(row('b1')?.finishMs, 5);
  assert.equal(runner.history.find((g) => g.members[0]?.queryId === 'b2')?.launchMs, 5);
  assert.equal(summary.issued, 3);
});

test("barrier 'member' is a mode of abacus only", async () => {
  const m = model();
  await assert.rejects(
    runServing({ policy: 'fcfs', barrier: 'member', trace: [], latencyModel: m, runner: { runGroup: () => Promise.reject(new Error('unused')), operatorCount: () => 10 } }),
    (e: unknown) => e instanceof InputError && /mode of the abacus policy/.test(e.message),
  );
});
