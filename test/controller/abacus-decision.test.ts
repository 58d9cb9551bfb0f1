import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideAbacus, type DecisionContext } from '../../src/controller/policies.js';
import type { QueryState, ServicePool } from '../../src/controller/state.js';
import type { GroupMember } from '../../src/controller/types.js';
import { FnModel, linearModel, pool, query, state } from './helpers.js';

function context(pools: ServicePool[], model: FnModel, over: Partial<DecisionContext> = {}): DecisionContext & { dropped: QueryState[] } {
  const dropped: QueryState[] = [];
  return {
    nowMs: 0,
    inflightRemainingMs: 0,
    pools,
    model,
    abandon: false,
    ways: 2,
    thldMs: 0,
    drop: (q) => {
      dropped.push(q);
      for (const p of pools) {
        p.waiting = p.waiting.filter((x) => x !== q);
        if (p.inProgress === q) p.inProgress = null;
      }
    },
    dropped,
    ...over,
  };
}

/** a: 20 ops of 1 ms; b: 40 ops of 1 ms; a group costs its longest member + half the rest. */
const model = (): FnModel => linearModel({ 0: 1, 1: 1 }, 0.5);

test('all candidates fit: every one runs to completion, one predictor call, no search', () => {
  const a = state(query('a', 'a', 0, 0, 100), 20);
  const b = state(query('b', 'b', 1, 0, 100), 40);
  const m = model();
  const plan = decideAbacus(context([pool('a', 0, [a]), pool('b', 1, [b])], m));
  assert.deepEqual(plan.segments.map((s) => [s.query.trace.id, s.end]), [['a', 20], ['b', 40]]);
  assert.equal(plan.predictedMs, 40 + 10);
  assert.equal(plan.searchSteps, 0);
  assert.equal(m.calls, 1);
});

test('the budget is the urgent headroom minus the predicted remaining time of the group in flight', () => {
  // a: headroom 45 (most urgent). b (QoS 500) gets a partial segment.
  const make = () => [pool('a', 0, [state(query('a', 'a', 0, 0, 45), 20)]), pool('b', 1, [state(query('b', 'b', 1, 0, 500), 40)])];
  const idle = decideAbacus(context(make(), model()));
  const busy = decideAbacus(context(make(), model(), { inflightRemainingMs: 10 }));
  // idle: budget 45 = max(20, e) + 0.5 * min(20, e) -> e = 35 (35 + 10 = 45).
  assert.deepEqual(idle.segments.map((s) => [s.query.trace.id, s.end]), [['a', 20], ['b', 35]]);
  assert.ok((idle.predictedMs as number) <= 45);
  // busy: budget 35 -> e = 25 (25 + 10 = 35).
  assert.deepEqual(busy.segments.map((s) => [s.query.trace.id, s.end]), [['a', 20], ['b', 25]]);
  assert.ok((busy.predictedMs as number) <= 35);
  assert.ok(busy.searchSteps >= 1);
  // The plan says until when it may still be launched: deadline of a minus the predicted latency.
  assert.equal(busy.feasibleUntilMs, 45 - (busy.predictedMs as number));
});

test('a partial split is never predicted over budget, for ways 1..16 and any thld', () => {
  for (let ways = 1; ways <= 16; ways++) {
    for (const thldMs of [0, 1, 5, 50]) {
      for (const headroom of [21, 25, 33, 47, 59]) {
        const a = state(query('a', 'a', 0, 0, headroom), 20);
        const b = state(query('b', 'b', 1, 0, 1000), 40);
        const m = model();
        const plan = decideAbacus(context([pool('a', 0, [a]), pool('b', 1, [b])], m, { ways, thldMs }));
        const group: GroupMember[] = plan.segments.map((s) => ({ modelId: s.query.trace.modelId, start: s.query.progress, end: s.end, batch: 4, seq: 0 }));
        const ms = m.predictMs([group])[0] as number;
        assert.ok(ms <= headroom, `ways ${ways}, thld ${thldMs}: predicted ${ms} > budget ${headroom}`);
        assert.equal(ms, plan.predictedMs);
        assert.ok(plan.segments.every((s) => s.end > s.query.progress), 'no empty segment');
      }
    }
  }
});

test('a started query is its service\'s candidate; the ranking is by headroom', () => {
  const started = state(query('b-old', 'b', 1, 0, 300), 40, 12);
  const urgentB = state(query('b-new', 'b', 1, 5, 30), 40);
  const a = state(query('a', 'a', 0, 0, 200), 20);
  const m = model();
  const pools = [pool('a', 0, [a]), pool('b', 1, [started, urgentB], started)];
  const plan = decideAbacus(context(pools, m, { nowMs: 10 }));
  assert.ok(!plan.segments.some((s) => s.query === urgentB), 'no second query of a service with one in progress');
  assert.equal(plan.segments[0]?.query, a, 'a (headroom 190) ranks before b-old (290)');
  assert.deepEqual(plan.segments.map((s) => [s.query.trace.id, s.query.progress, s.end]), [['a', 0, 20], ['b-old', 12, 40]]);
});

test('without abandon, a most urgent query that cannot fit runs alone; with abandon it is dropped', () => {
  const make = () => [pool('a', 0, [state(query('a', 'a', 0, 0, 15), 20)]), pool('b', 1, [state(query('b', 'b', 1, 0, 500), 40)])];
  const keep = decideAbacus(context(make(), model()));
  assert.deepEqual(keep.segments.map((s) => [s.query.trace.id, s.end]), [['a', 20]]);
  const ctx = context(make(), model(), { abandon: true });
  const plan = decideAbacus(ctx);
  assert.deepEqual(ctx.dropped.map((q) => q.trace.id), ['a']);
  assert.deepEqual(plan.segments.map((s) => [s.query.trace.id, s.end]), [['b', 40]]);
});

test('abandon drops expired queries and refills the candidate from the same service', () => {
  const expired = state(query('a-old', 'a', 0, 0, 10), 20);
  const next = state(query('a-new', 'a', 0, 8, 100), 20);
  const ctx = context([pool('a', 0, [expired, next])], model(), { abandon: true, nowMs: 12 });
  const plan = decideAbacus(ctx);
  assert.deepEqual(ctx.dropped.map((q) => q.trace.id), ['a-old']);
  assert.deepEqual(plan.segments.map((s) => s.query.trace.id), ['a-new']);
});

test('no candidates: an empty plan', () => {
  const plan = decideAbacus(context([pool('a', 0, [])], model()));
  assert.equal(plan.segments.length, 0);
});
