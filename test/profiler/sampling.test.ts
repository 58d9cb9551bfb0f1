import { test } from 'node:test';
import assert from 'node:assert/strict';
import { drawGroups, combinations, batchTuples, type ProfileModel } from '../../src/profiler/index.js';

const models: ProfileModel[] = [
  { id: 0, name: 'resnet50', operators: 18, hasSeq: false },
  { id: 6, name: 'bert', operators: 12, hasSeq: true },
  { id: 4, name: 'vgg16', operators: 19, hasSeq: false },
];
const opts = { batchSizes: [4, 8], seqLens: [8, 16, 32, 64], samples: 20, absentRatio: 0.25, seed: 3 };

test('the same seed gives the same groups; another seed gives others', () => {
  const comb = combinations(models, 2)[0]!;
  const a = [...drawGroups(comb, opts)];
  const b = [...drawGroups(comb, opts)];
  const c = [...drawGroups(comb, { ...opts, seed: 4 })];
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.equal(a.length, 4 * 20);
  assert.deepEqual(a.map((g) => g.index), a.map((_, i) => i));
});

test('each batch tuple gets exactly `samples` distinct groups, drawn by the rule, with a share of absent models', () => {
  for (const comb of combinations(models, 2)) {
    const groups = [...drawGroups(comb, opts)];
    const tuples = batchTuples(2, opts.batchSizes);
    for (let t = 0; t < tuples.length; t++) {
      const mine = groups.slice(t * 20, (t + 1) * 20);
      const keys = new Set(mine.map((g) => JSON.stringify(g.slots)));
      assert.equal(keys.size, 20, 'distinct within a tuple');
      const absent = mine.filter((g) => g.slots.some((s) => s.batch === 0));
      assert.equal(absent.length, 5, '25% of the groups leave a model out');
      for (const g of mine) {
        const present = g.slots.filter((s) => s.batch > 0);
        assert.ok(present.length >= 1);
        assert.ok(present.some((s) => s.end === models.find((m) => m.name === s.model)!.operators), 'some member completes');
        if (present.length === g.slots.length) assert.ok(present.some((s) => s.start === 0), 'some member starts fresh');
        for (const s of g.slots) {
          assert.ok(s.start <= s.end);
          if (s.batch === 0) assert.deepEqual([s.start, s.end, s.seq], [0, 0, 0]);
          else {
            assert.equal(s.batch, tuples[t]![g.slots.indexOf(s)]);
            assert.equal(s.seq > 0, s.model === 'bert');
          }
        }
      }
    }
  }
});

test('a combination too small for the samples asked is refused', () => {
  const tiny: ProfileModel[] = [{ id: 0, name: 'a', operators: 1, hasSeq: false }, { id: 1, name: 'b', operators: 1, hasSeq: false }];
  assert.throws(() => [...drawGroups(tiny, { ...opts, samples: 50, absentRatio: 0 })], /fewer than 50 distinct groups/);
});
