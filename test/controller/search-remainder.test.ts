import { test } from 'node:test';
import assert from 'node:assert/strict';
import { largestFittingPrefix, searchSplit } from '../../src/controller/search.js';
import type { GroupMember } from '../../src/controller/types.js';
import { FnModel, linearModel } from './helpers.js';

test('the full remainder is chosen when it fits', () => {
  for (let ways = 1; ways <= 16; ways++) {
    for (const thldMs of [0, 2, 5]) {
      const model = linearModel({ 0: 1, 1: 0.5 });
      const base: GroupMember[] = [{ modelId: 0, start: 0, end: 10, batch: 4, seq: 0 }];
      const r = searchSplit({ base, searched: { modelId: 1, start: 4, end: 35, batch: 4, seq: 0 }, budgetMs: 1000, ways, thldMs, model });
      assert.equal(r.end, 35, `ways ${ways}, thld ${thldMs}`);
      assert.ok(r.predictedMs <= 1000);
    }
  }
});

test('the full remainder is chosen when it fits exactly (slack 0)', () => {
  const model = new FnModel((g) => (g[0] as GroupMember).end - (g[0] as GroupMember).start);
  const r = searchSplit({ base: [], searched: { modelId: 1, start: 0, end: 20, batch: 4, seq: 0 }, budgetMs: 20, ways: 3, thldMs: 0, model });
  assert.equal(r.end, 20);
  assert.equal(r.slackMs, 0);
});

test('largestFittingPrefix: one batched call, largest fitting prefix, zero when none fits', () => {
  const model = linearModel({ 0: 1, 1: 1, 2: 1 }, 1); // serial: a prefix costs the sum of its members
  const members: GroupMember[] = [
    { modelId: 0, start: 0, end: 10, batch: 4, seq: 0 },
    { modelId: 1, start: 0, end: 10, batch: 4, seq: 0 },
    { modelId: 2, start: 0, end: 10, batch: 4, seq: 0 },
  ];
  let r = largestFittingPrefix(members, 25, model);
  assert.equal(r.count, 2);
  assert.deepEqual([...r.predictedMs], [10, 20, 30]);
  assert.equal(model.calls, 1);
  r = largestFittingPrefix(members, 30, model);
  assert.equal(r.count, 3);
  r = largestFittingPrefix(members, 9.99, model);
  assert.equal(r.count, 0);
  assert.equal(largestFittingPrefix([], 10, model).count, 0);
});
