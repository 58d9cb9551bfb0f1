import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from '../../src/common/errors.js';
import { Rng } from '../../src/common/rng.js';
import { ZOO } from '../../src/zoo/catalog.js';
import {
  type GroupMember,
  decodeGroup,
  encodeGroup,
  encodeGroups,
  featureCount,
  featureNames,
  makeFeatureSpec,
} from '../../src/predictor/features.js';

const spec = makeFeatureSpec(ZOO, 3);

function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((x, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [x, ...rest]));
}

test('layout: K counts by model id, then blocks in ascending model-id order, zero blocks for absent slots', () => {
  assert.equal(featureCount(spec), 7 + 4 * 3);
  assert.equal(featureNames(spec)[0], 'count_resnet50');
  assert.equal(featureNames(spec)[7], 'start_0');
  const out = new Float32Array(featureCount(spec));
  // the original's example: resnet101 ops 5→35 at bs 8 and bert 0→12 at bs 16, seq 32 (given bert first)
  encodeGroup(spec, [
    { modelId: 6, start: 0, end: 12, batch: 16, seq: 32 },
    { modelId: 1, start: 5, end: 35, batch: 8, seq: 0 },
  ], out);
  assert.deepEqual(Array.from(out), [0, 1, 0, 0, 0, 0, 1, 5, 35, 8, 0, 0, 12, 16, 32, 0, 0, 0, 0]);
});

test('permuting members never changes the features (all orders, duplicates of one model included)', () => {
  const rng = new Rng(7);
  const width = featureCount(spec);
  for (let trial = 0; trial < 50; trial++) {
    const members: GroupMember[] = [];
    const n = rng.int(1, 3);
    for (let i = 0; i < n; i++) {
      // few distinct models so that same-model groups occur
      const m = ZOO[rng.pick([0, 2, 6])]!;
      const start = rng.int(0, m.operatorCount);
      members.push({ modelId: m.id, start, end: rng.int(start, m.operatorCount), batch: rng.pick([4, 8]), seq: m.hasSeq ? 16 : 0 });
    }
    const ref = new Float32Array(width);
    encodeGroup(spec, members, ref);
    for (const perm of permutations(members)) {
      const out = new Float32Array(width).fill(99);
      encodeGroup(spec, perm, out);
      assert.deepEqual(Array.from(out), Array.from(ref), `trial ${trial}`);
    }
    // the counts equal the number of members of each model
    const counts = Array.from(ref.subarray(0, 7));
    for (const z of ZOO) assert.equal(counts[z.id], members.filter((m) => m.modelId === z.id).length);
  }
});

test('encodes at an offset without touching neighbouring rows; decode gives the canonical members back', () => {
  const width = featureCount(spec);
  const out = new Float32Array(3 * width).fill(-1);
  const members: GroupMember[] = [
    { modelId: 5, start: 3, end: 9, batch: 32, seq: 0 },
    { modelId: 0, start: 0, end: 18, batch: 4, seq: 0 },
  ];
  encodeGroup(spec, members, out, width);
  assert.ok(out.subarray(0, width).every((v) => v === -1));
  assert.ok(out.subarray(2 * width).every((v) => v === -1));
  assert.deepEqual(decodeGroup(spec, out, width), [members[1], members[0]]);
  const many = encodeGroups(spec, [members, [members[0]!], []]);
  assert.equal(many.length, 3 * width);
  assert.ok(many.subarray(2 * width).every((v) => v === 0), 'an empty group is all zeros');
});

test('unknown models, too many members and malformed members are clear InputErrors', () => {
  const small = makeFeatureSpec([{ id: 0, name: 'resnet50' }, { id: 6, name: 'bert' }], 2);
  const out = new Float32Array(featureCount(small));
  assert.throws(() => encodeGroup(small, [{ modelId: 3, start: 0, end: 1, batch: 4, seq: 0 }], out), (e: unknown) => e instanceof InputError && /model id 3 is unknown.*0:resnet50, 6:bert/.test(e.message));
  const m: GroupMember = { modelId: 0, start: 0, end: 1, batch: 4, seq: 0 };
  assert.throws(() => encodeGroup(small, [m, m, m], out), (e: unknown) => e instanceof InputError && /3 members does not fit a predictor with 2 slots/.test(e.message));
  assert.throws(() => encodeGroup(small, [{ ...m, start: 5, end: 2 }], out), InputError);
  assert.throws(() => encodeGroup(small, [{ ...m, batch: 0 }], out), InputError);
  assert.throws(() => encodeGroup(small, [m], new Float32Array(3)), RangeError);
  assert.throws(() => makeFeatureSpec([{ id: 1, name: 'a' }, { id: 1, name: 'b' }], 2), /listed twice/);
  assert.throws(() => makeFeatureSpec([{ id: 1, name: 'a' }], 0), /slots/);
});

test('encoding 2: blocks [start, end, batch, seq, gflops]; gflops from the prefix sums, scaled by batch and seq; permutations agree', () => {
  const work = (ops: number, seqRef: number): { operatorGflops: number[]; referenceSeq: number } => ({
    operatorGflops: Array.from({ length: ops }, (_, i) => 0.5 + i),
    referenceSeq: seqRef,
  });
  const spec2 = makeFeatureSpec(
    [
      { id: 6, name: 'bert', work: work(12, 64) },
      { id: 1, name: 'resnet101', work: work(35, 0) },
    ],
    2,
    2,
  );
  assert.equal(spec2.encoding, 2);
  assert.equal(featureCount(spec2), 2 + 5 * 2);
  assert.deepEqual(featureNames(spec2).slice(2, 7), ['start_0', 'end_0', 'batch_0', 'seq_0', 'gflops_0']);
  const a: GroupMember = { modelId: 6, start: 2, end: 4, batch: 16, seq: 32 };
  const b: GroupMember = { modelId: 1, start: 5, end: 7, batch: 8, seq: 0 };
  const out = new Float32Array(featureCount(spec2));
  encodeGroup(spec2, [a, b], out);
  // resnet101 first (id 1): ops 5, 6 cost 5.5 + 6.5 = 12 per sample, × 8; bert ops 2, 3: 2.5 + 3.5 = 6, × 16 × 32/64
  assert.deepEqual(Array.from(out), [1, 1, 5, 7, 8, 0, 96, 2, 4, 16, 32, 48]);
  const swapped = new Float32Array(featureCount(spec2));
  encodeGroup(spec2, [b, a], swapped);
  assert.deepEqual(Array.from(swapped), Array.from(out));
  assert.deepEqual(decodeGroup(spec2, out), [b, a]);
  // an empty segment has no work; a segment past the table is an InputError
  encodeGroup(spec2, [{ ...b, end: b.start }], out);
  assert.equal(out[6], 0);
  assert.throws(() => encodeGroup(spec2, [{ ...b, end: 36 }], out), (e: unknown) => e instanceof InputError && /exceeds the 35 operators/.test(e.message));
  // encoding 2 needs every table
  assert.throws(() => makeFeatureSpec([{ id: 6, name: 'bert', work: work(12, 64) }, { id: 1, name: 'resnet101' }], 2, 2), /missing for 1:resnet101/);
});

test('encoding 3 (the default with work tables): [start, end, batch, seq, gflops, ln(1 + MFLOPs)]; encoding 2 stays readable', () => {
  const models = [{ id: 1, name: 'resnet101', work: { operatorGflops: Array.from({ length: 35 }, (_, i) => 0.5 + i), referenceSeq: 0 } }];
  const spec3 = makeFeatureSpec(models, 1);
  assert.equal(spec3.encoding, 3);
  assert.equal(featureCount(spec3), 1 + 6);
  assert.deepEqual(featureNames(spec3).slice(1), ['start_0', 'end_0', 'batch_0', 'seq_0', 'gflops_0', 'ln_mflops_0']);
  const out = new Float32Array(featureCount(spec3));
  encodeGroup(spec3, [{ modelId: 1, start: 5, end: 7, batch: 8, seq: 0 }], out);
  assert.deepEqual(Array.from(out.subarray(0, 6)), [1, 5, 7, 8, 0, 96]);
  assert.ok(Math.abs(out[6]! - Math.log1p(96_000)) < 1e-5);
  const spec2 = makeFeatureSpec(models, 1, 2);
  assert.equal(featureCount(spec2), 1 + 5);
  assert.throws(() => makeFeatureSpec(models, 1, 4 as 3), /unknown encoding 4/);
});
