import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeGroup, segmentGflops } from '../../src/predictor/features.js';
import { InputError } from '../../src/common/errors.js';
import { ZOO } from '../../src/zoo/catalog.js';
import { loadDataset, readProfileData, rowsByCombination, subsetDataset } from '../../src/predictor/dataset.js';
import { HEADER_2, removeDir, syntheticWork, tempDir, writePairDataset } from './fixtures.js';

const root = tempDir();
after(() => removeDir(root));

test('reads profile.json and every combination CSV: labels in ms, absent members left out', () => {
  const dir = join(root, 'a');
  const files = writePairDataset(dir, { modelIds: [0, 1, 6], rowsPerPair: 30, absentProb: 0.3 });
  assert.deepEqual(files, ['resnet50_resnet101.csv', 'resnet50_bert.csv', 'resnet101_bert.csv']);
  const data = readProfileData(dir);
  assert.equal(data.samples.length, 90);
  assert.equal(data.slots, 2);
  assert.deepEqual(data.models.map((m) => m.id), [0, 1, 6]);
  const ds = loadDataset([dir]);
  assert.equal(ds.rows, 90);
  assert.equal(ds.width, 3 + 6 * 2);
  assert.deepEqual(ds.spec.modelIds, [0, 1, 6]);
  // compare with the CSV text of a row: label = median_us / 1000, members from the non-zero batches
  const text = readFileSync(join(dir, 'resnet101_bert.csv'), 'utf8').trim().split('\n');
  const r = ds.combinations.indexOf('resnet101_bert');
  const rows = rowsByCombination(ds)[r]!;
  assert.equal(rows.length, 30);
  let sawAbsent = false;
  for (let i = 0; i < rows.length; i++) {
    const cells = text[i + 1]!.split(',').map(Number);
    const row = rows[i]!;
    assert.ok(Math.abs(ds.labelsMs[row]! - cells[11]! / 1000) < 1e-12);
    const members = decodeGroup(ds.spec, ds.features, row * ds.width);
    const expected = [0, 5]
      .filter((o) => cells[o + 4]! > 0)
      .map((o) => ({ modelId: cells[o + 1]!, start: cells[o + 2]!, end: cells[o + 3]!, batch: cells[o + 4]!, seq: cells[o + 5]! }));
    if (expected.length < 2) sawAbsent = true;
    assert.deepEqual(members, expected);
  }
  assert.ok(sawAbsent, 'the fixture has rows with an absent member');
});

test('several data folders combine into one spec; conflicting ids are rejected', () => {
  const a = join(root, 'pairs-a');
  const b = join(root, 'pairs-b');
  writePairDataset(a, { modelIds: [0, 6], rowsPerPair: 10, seed: 2 });
  writePairDataset(b, { modelIds: [2, 4], rowsPerPair: 12, seed: 3 });
  const ds = loadDataset([a, b]);
  assert.equal(ds.rows, 22);
  assert.deepEqual(ds.spec.modelIds, [0, 2, 4, 6]);
  assert.deepEqual(ds.combinations, ['resnet50_bert', 'resnet152_vgg16']);
  assert.equal(ds.sources.length, 2);
  assert.match(ds.sources[0]!.files[0]!.sha256, /^[0-9a-f]{64}$/);
  const wide = loadDataset([a], { slots: 3 });
  assert.equal(wide.spec.slots, 3);
  assert.throws(() => loadDataset([a], { slots: 1 }), /fewer than the 2 members/);
  const sub = subsetDataset(ds, [21, 0]);
  assert.equal(sub.rows, 2);
  assert.equal(sub.labelsMs[0], ds.labelsMs[21]);
  assert.deepEqual(Array.from(sub.features.subarray(0, ds.width)), Array.from(ds.features.subarray(21 * ds.width, 22 * ds.width)));
  // same id, another name
  const c = join(root, 'conflict');
  writePairDataset(c, { modelIds: [0, 6], rowsPerPair: 5 });
  const meta = JSON.parse(readFileSync(join(c, 'profile.json'), 'utf8')) as { models: Array<{ name: string }> };
  meta.models[0]!.name = 'other';
  writeFileSync(join(c, 'profile.json'), JSON.stringify(meta));
  assert.throws(() => loadDataset([a, c]), /model id 0 is "resnet50" .* but "other"/);
});

test('model columns may hold names; CRLF line ends and blank lines are accepted', () => {
  const dir = join(root, 'names');
  writePairDataset(dir, { modelIds: [0, 6], rowsPerPair: 3 });
  const rows = [HEADER_2, '0,resnet50,0,18,4,0,bert,0,12,8,16,1000,1,1,1,1,1,1,0,10', '', '1,resnet50,2,3,8,0,bert,0,0,0,0,2500.5,1,1,1,1,1,1,0,10'];
  writeFileSync(join(dir, 'resnet50_bert.csv'), `${rows.join('\r\n')}\r\n`);
  const ds = loadDataset([dir]);
  assert.equal(ds.rows, 2);
  assert.deepEqual(Array.from(ds.labelsMs), [1, 2.5005]);
  assert.deepEqual(decodeGroup(ds.spec, ds.features, ds.width), [{ modelId: 0, start: 2, end: 3, batch: 8, seq: 0 }]);
});

test("encoding 3 (the default): each block ends in the segment's GFLOPs and ln(1 + MFLOPs), from profile.json or, for an older profile, a resolver", () => {
  const dir = join(root, 'work');
  writePairDataset(dir, { modelIds: [0, 6], rowsPerPair: 20, seed: 5 });
  const ds = loadDataset([dir]);
  assert.equal(ds.spec.encoding, 3);
  for (let row = 0; row < ds.rows; row++) {
    const members = decodeGroup(ds.spec, ds.features, row * ds.width);
    members.forEach((m, slot) => {
      const perOp = syntheticWork(ZOO[m.modelId]!).operatorGflops[0]!;
      const seqScale = m.modelId === 6 ? m.seq / 16 : 1;
      const want = (m.end - m.start) * perOp * m.batch * seqScale;
      const got = ds.features[row * ds.width + 2 + 6 * slot + 4]!;
      const gotLog = ds.features[row * ds.width + 2 + 6 * slot + 5]!;
      assert.ok(Math.abs(gotLog - Math.log1p(1000 * got)) <= 1e-5 * Math.max(1, gotLog), `row ${row} slot ${slot}: ln(1 + MFLOPs)`);
      assert.ok(Math.abs(got - want) <= 1e-5 * Math.max(1, want), `row ${row} slot ${slot}: ${got} vs ${want}`);
      assert.ok(Math.abs(got - segmentGflops(ds.spec, m.modelId, m.start, m.end, m.batch, m.seq)) <= 1e-5 * Math.max(1, want));
    });
  }
  // a profile without FLOPs: an InputError naming its profile.json, unless a resolver supplies them or encoding 1 is asked for
  const old = join(root, 'old');
  writePairDataset(old, { modelIds: [0, 6], rowsPerPair: 20, seed: 5, withoutWork: true });
  assert.throws(() => loadDataset([old]), (e: unknown) => e instanceof InputError && e.message.startsWith(join(old, 'profile.json')) && /no per-operator FLOPs/.test(e.message));
  const resolved = loadDataset([old], { resolveWork: (m) => syntheticWork(ZOO[m.id]!) });
  assert.deepEqual(Array.from(resolved.features), Array.from(ds.features));
  const v1 = loadDataset([old], { encoding: 1 });
  assert.equal(v1.width, 2 + 4 * 2);
  // a table whose length disagrees with the operator count is refused
  assert.throws(() => loadDataset([old], { resolveWork: () => ({ operatorGflops: [1, 2, 3], referenceSeq: 0 }) }), /FLOPs table has 3 operators, the profile 18/);
});
