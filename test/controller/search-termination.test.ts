import { test } from 'node:test';
import assert from 'node:assert/strict';
import { searchSplit } from '../../src/controller/search.js';
import type { GroupMember } from '../../src/controller/types.js';
import { FnModel } from './helpers.js';

const searchedOf = (start: number, end: number): GroupMember => ({ modelId: 2, start, end, batch: 4, seq: 0 });
/** 1 ms per operator of the searched segment. */
const perOp = (): FnModel => new FnModel((g) => (g[g.length - 1] as GroupMember).end - (g[g.length - 1] as GroupMember).start);

test('every step prices distinct candidates strictly inside the untested range, and the range shrinks', () => {
  for (let ways = 1; ways <= 16; ways++) {
    for (const [start, end] of [[0, 52], [10, 12], [0, 1], [5, 40], [17, 18], [0, 3]] as const) {
      for (const budgetMs of [0.5, 1, 7.5, 20, 100]) {
        const model = perOp();
        const r = searchSplit({ base: [], searched: searchedOf(start, end), budgetMs, ways, thldMs: 0, model });
        let lo = start + 1;
        let hi = end;
        let best: number | null = null;
        for (const step of r.candidates) {
          assert.ok(step.length >= 1 && step.length <= ways, `ways ${ways}: ${step.length} candidates`);
          assert.equal(new Set(step).size, step.length, 'distinct');
          for (let i = 1; i < step.length; i++) assert.ok((step[i] as number) > (step[i - 1] as number), 'ascending');
          for (const c of step) assert.ok(c >= lo && c <= hi, `candidate ${c} outside [${lo}, ${hi}]`);
          // Replay the narrowing with the known prices.
          const feasible = step.filter((c) => c - start <= budgetMs);
          if (feasible.length > 0) {
            const f = feasible[feasible.length - 1] as number;
            best = f;
            const above = step.find((c) => c > f);
            lo = f + 1;
            if (above !== undefined) hi = above - 1;
          } else hi = (step[0] as number) - 1;
        }
        assert.equal(r.end, best);
        assert.ok(r.steps <= end - start, `ways ${ways}: ${r.steps} steps for ${end - start} ends`);
      }
    }
  }
});

test('few remaining operators: one step prices every end when the range is no wider than ways', () => {
  const model = perOp();
  const r = searchSplit({ base: [], searched: searchedOf(9, 12), budgetMs: 100, ways: 8, thldMs: 0, model });
  assert.deepEqual(r.candidates, [[10, 11, 12]]);
  assert.equal(r.steps, 1);
  assert.equal(r.end, 12);
  const one = searchSplit({ base: [], searched: searchedOf(11, 12), budgetMs: 100, ways: 4, thldMs: 0, model: perOp() });
  assert.deepEqual(one.candidates, [[12]]);
  const none = searchSplit({ base: [], searched: searchedOf(12, 12), budgetMs: 100, ways: 4, thldMs: 0, model: perOp() });
  assert.equal(none.steps, 0);
  assert.equal(none.end, null);
});

test('step counts are logarithmic in the range for a monotone predictor', () => {
  // 52 ends: ways 1 is a binary search (about log2 53), ways 16 needs two steps.
  const steps = (ways: number): number => searchSplit({ base: [], searched: searchedOf(0, 52), budgetMs: 30.5, ways, thldMs: 0, model: perOp() }).steps;
  assert.ok(steps(1) <= 7, `ways 1: ${steps(1)}`);
  assert.ok(steps(2) <= 5, `ways 2: ${steps(2)}`);
  assert.ok(steps(16) <= 2, `ways 16: ${steps(16)}`);
  assert.ok(steps(16) < steps(2) && steps(2) < steps(1));
});

test('the search stops as soon as a feasible split leaves less slack than thld', () => {
  const model = perOp();
  // Budget 40 over ends 1..52 at 1 ms each: the first step (ways 2) prices 17 and 35; 35 leaves 5 ms slack.
  const r = searchSplit({ base: [], searched: searchedOf(0, 52), budgetMs: 40, ways: 2, thldMs: 6, model });
  assert.equal(r.steps, 1);
  assert.equal(r.end, 35);
  assert.equal(r.slackMs, 5);
  const exact = searchSplit({ base: [], searched: searchedOf(0, 52), budgetMs: 40, ways: 2, thldMs: 0, model: perOp() });
  assert.equal(exact.end, 40);
  assert.ok(exact.steps > 1);
});

test('rejects bad ways', () => {
  assert.throws(() => searchSplit({ base: [], searched: searchedOf(0, 5), budgetMs: 1, ways: 0, thldMs: 0, model: perOp() }), RangeError);
});
