import { test } from 'node:test';
import assert from 'node:assert/strict';
import { drawGroups, drawProfile, combinations, batchTuples, configurationKey, countGroups, absentQuotas, type ProfileModel, type ProfileGroup } from '../../src/profiler/index.js';

const models: ProfileModel[] = [
  { id: 0, name: 'resnet50', operators: 18, hasSeq: false },
  { id: 6, name: 'bert', operators: 12, hasSeq: true },
  { id: 4, name: 'vgg16', operators: 19, hasSeq: false },
];
const opts = { batchSizes: [4, 8], seqLens: [8, 16, 32, 64], samples: 20, absentRatio: 0.25, seed: 3 };

const present = (g: ProfileGroup) => g.slots.filter((s) => s.batch > 0);

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

test('each batch tuple gets `samples` groups drawn by the rule, at the tuple\'s batch sizes', () => {
  for (const comb of combinations(models, 2)) {
    const groups = [...drawGroups(comb, opts)];
    const tuples = batchTuples(2, opts.batchSizes);
    assert.equal(groups.length, tuples.length * 20);
    for (let t = 0; t < tuples.length; t++) {
      for (const g of groups.slice(t * 20, (t + 1) * 20)) {
        const here = present(g);
        assert.ok(here.length >= 1);
        assert.ok(here.some((s) => s.end === models.find((m) => m.name === s.model)!.operators), 'some member completes');
        if (here.length === g.slots.length) assert.ok(here.some((s) => s.start === 0), 'some member starts fresh');
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

test('the absent share holds over the whole profile, also with one sample per tuple', () => {
  // one group per tuple: rule 1 (round(samples x ratio) per tuple) gave 0 groups with a model absent
  const quad: ProfileModel[] = [...models, { id: 2, name: 'resnet101', operators: 35, hasSeq: false }];
  const one = { ...opts, batchSizes: [4, 8, 16, 32], samples: 1 };
  const groups = [...drawGroups(combinations(quad, 4)[0]!, one)];
  const c = countGroups(groups);
  assert.equal(c.groups, 256);
  assert.equal(c.withAbsent, 64, '25 % of 256');
  assert.ok(c.solo > 0 && (c.byPresent['2'] ?? 0) > 0 && (c.byPresent['3'] ?? 0) > 0, `1-, 2- and 3-member groups all drawn: ${JSON.stringify(c.byPresent)}`);
  // spread over the tuples, not bunched at one batch size of the last slot
  const lastBatch = new Set(groups.filter((g) => present(g).length < 4).map((g) => g.slots[3]!.batch).filter((b) => b > 0));
  assert.equal(lastBatch.size, 4);

  // several files: the profile-wide total is round(N x ratio), each file within one of its share
  for (const [n, samples, ratio] of [[2, 3, 0.25], [3, 2, 0.25], [2, 1, 0.1], [2, 5, 0]] as const) {
    const combs = combinations(quad, n);
    const o = { ...opts, samples, absentRatio: ratio };
    const all = [...drawProfile(combs, o)];
    const perFile = combs.map((_, i) => countGroups(all.filter((x) => x.combination === i).map((x) => x.group)));
    const total = perFile.reduce((s, f) => s + f.groups, 0);
    assert.equal(perFile.reduce((s, f) => s + f.withAbsent, 0), Math.round(total * ratio), `n=${n} samples=${samples} ratio=${ratio}`);
    for (const f of perFile) assert.ok(Math.abs(f.withAbsent - f.groups * ratio) <= 1, `${f.withAbsent} of ${f.groups}`);
    assert.deepEqual(absentQuotas(combs, o), perFile.map((f) => f.withAbsent));
  }
});

test('no group configuration is drawn twice, across tuples and across combination files', () => {
  // few operators and many batch tuples: rule 1 drew the same solo groups in several tuples and pair files
  const small: ProfileModel[] = [
    { id: 0, name: 'a', operators: 4, hasSeq: false },
    { id: 1, name: 'b', operators: 5, hasSeq: false },
    { id: 2, name: 'c', operators: 6, hasSeq: true },
  ];
  const o = { batchSizes: [1, 2, 4], seqLens: [8, 16], samples: 4, absentRatio: 0.4, seed: 1 };
  const combs = combinations(small, 2);
  const all = [...drawProfile(combs, o)];
  assert.equal(all.length, 3 * 9 * 4);
  const keys = all.map((x) => configurationKey(x.group.slots));
  assert.equal(new Set(keys).size, keys.length, 'every configuration once');
  // the key is what a predictor sees: absent members and slot positions do not enter it
  const solo = all.find((x) => present(x.group).length === 1)!;
  assert.equal(configurationKey(solo.group.slots).split('|').length, 1);
  // file indices still count from 0 in each file, and a file's draw is the same in every run
  for (let i = 0; i < combs.length; i++) {
    const mine = all.filter((x) => x.combination === i).map((x) => x.group);
    assert.deepEqual(mine.map((g) => g.index), mine.map((_, k) => k));
  }
  assert.deepEqual([...drawProfile(combs, o)], all);
});

test('a combination too small for the samples asked is refused', () => {
  const tiny: ProfileModel[] = [{ id: 0, name: 'a', operators: 1, hasSeq: false }, { id: 1, name: 'b', operators: 1, hasSeq: false }];
  assert.throws(() => [...drawGroups(tiny, { ...opts, samples: 50, absentRatio: 0 })], /no new distinct group is left.*fewer --samples/);
  assert.throws(() => [...drawGroups(tiny, { ...opts, samples: 1, absentRatio: 1 })], /--absent-ratio must be in \[0, 1\)/);
});
