import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/common/rng.js';
import { searchSplit } from '../../src/controller/search.js';
import type { GroupMember } from '../../src/controller/types.js';
import { FnModel } from './helpers.js';

const base: GroupMember[] = [{ modelId: 0, start: 0, end: 18, batch: 8, seq: 0 }];

function randomCase(rng: Rng, monotone: boolean) {
  const ops = rng.int(2, 60);
  const start = rng.int(0, ops - 1);
  const costs = Array.from({ length: ops }, () => rng.next() * 3);
  const noise = Array.from({ length: ops + 1 }, () => (monotone ? 0 : (rng.next() - 0.5) * 6));
  const model = new FnModel((group) => {
    const s = group[group.length - 1] as GroupMember;
    let ms = 10;
    for (let i = s.start; i < s.end; i++) ms += costs[i] as number;
    return ms + (noise[s.end] as number);
  });
  const searched: GroupMember = { modelId: 1, start, end: ops, batch: 4, seq: 0 };
  const budgetMs = 5 + rng.next() * 80;
  return { model, searched, budgetMs, ops, start };
}

test('searchSplit never returns a split predicted over budget (monotone and non-monotone predictors, ways 1..16)', () => {
  const rng = new Rng(42);
  let found = 0;
  for (let trial = 0; trial < 400; trial++) {
    const monotone = trial % 2 === 0;
    const { model, searched, budgetMs, start, ops } = randomCase(rng, monotone);
    const ways = 1 + (trial % 16);
    const thldMs = rng.pick([0, 1, 5]);
    const r = searchSplit({ base, searched, budgetMs, ways, thldMs, model });
    assert.equal(r.steps, model.calls, 'one predictor call per step');
    if (r.end === null) {
      assert.ok(Number.isNaN(r.predictedMs));
      continue;
    }
    found++;
    assert.ok(r.end > start && r.end <= ops, `end ${r.end} outside (${start}, ${ops}]`);
    const repriced = model.predictMs([[...base, { ...searched, end: r.end }]])[0] as number;
    assert.ok(repriced <= budgetMs, `chosen end ${r.end} predicted ${repriced} > budget ${budgetMs}`);
    assert.equal(repriced, r.predictedMs);
    assert.ok(r.slackMs >= 0);
  }
  assert.ok(found > 100, `too few feasible cases exercised (${found})`);
});

test('searchSplit with a monotone predictor and thld 0 finds the furthest feasible end', () => {
  const rng = new Rng(7);
  for (let trial = 0; trial < 300; trial++) {
    const { model, searched, budgetMs, start, ops } = randomCase(rng, true);
    const ways = 1 + (trial % 16);
    const r = searchSplit({ base, searched, budgetMs, ways, thldMs: 0, model });
    let best: number | null = null;
    for (let e = start + 1; e <= ops; e++) {
      const ms = model.predictMs([[...base, { ...searched, end: e }]])[0] as number;
      if (ms <= budgetMs) best = e;
    }
    assert.equal(r.end, best, `trial ${trial}: ways ${ways}, range (${start}, ${ops}], budget ${budgetMs}`);
  }
});

test('searchSplit returns null when no non-empty segment fits', () => {
  const model = new FnModel(() => 100);
  const r = searchSplit({ base, searched: { modelId: 1, start: 3, end: 20, batch: 4, seq: 0 }, budgetMs: 50, ways: 4, thldMs: 5, model });
  assert.equal(r.end, null);
  assert.ok(r.steps >= 1);
  for (const step of r.candidates) for (const c of step) assert.ok(c > 3, 'never an empty segment');
});
