import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync, readdirSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../src/common/errors.js';
import { Rng } from '../../src/common/rng.js';
import { ZOO } from '../../src/zoo/catalog.js';
import { type GroupMember, encodeGroups, featureCount, makeFeatureSpec } from '../../src/predictor/features.js';
import { BUNDLE_FILE, loadPredictor } from '../../src/predictor/bundle.js';
import { fitLinearRegression, fitLinearSvr } from '../../src/predictor/linear.js';
import { trainMlp } from '../../src/predictor/mlp-train.js';
import { fitRbfSvr } from '../../src/predictor/rbf.js';
import type { Predictor } from '../../src/predictor/predictor.js';
import { removeDir, tempDir, withWork } from './fixtures.js';

const root = tempDir();
after(() => removeDir(root));

const spec = makeFeatureSpec(withWork([ZOO[0]!, ZOO[2]!, ZOO[6]!]), 2);
const specV1 = makeFeatureSpec([ZOO[0]!, ZOO[2]!, ZOO[6]!], 2);
const width = featureCount(spec);
const rng = new Rng(4);
const groups: GroupMember[][] = Array.from({ length: 120 }, () => {
  const s = rng.int(0, 40);
  const a: GroupMember = { modelId: 2, start: s, end: rng.int(s, 52), batch: rng.pick([4, 8, 16]), seq: 0 };
  const b: GroupMember = { modelId: 6, start: 0, end: rng.int(0, 12), batch: 8, seq: rng.pick([16, 64]) };
  return rng.next() < 0.3 ? [a] : [a, b];
});
const features = encodeGroups(spec, groups);
const data = { features, labelsMs: Float64Array.from(groups, (g) => 1 + g.reduce((t, m) => t + ((m.end - m.start) * m.batch) / 10, 0)), rows: groups.length };

async function roundTrip(name: string, p: Predictor): Promise<Predictor> {
  const dir = join(root, name);
  p.name = name;
  p.save(dir);
  const q = await loadPredictor(dir, { modelIds: [0, 6], slots: 2, modeling: p.modeling });
  assert.equal(q.modeling, p.modeling);
  assert.equal(q.name, name);
  assert.deepEqual(q.spec, spec);
  assert.deepEqual(Array.from(q.predictMs(features, data.rows)), Array.from(p.predictMs(features, data.rows)), `${name}: identical predictions`);
  assert.deepEqual(q.toBundleJson(), p.toBundleJson(), `${name}: the reloaded bundle serialises the same`);
  return q;
}

test('bundle round trips give identical predictions: mlp, lr, linear svm, rbf svm', async () => {
  const mlp = await trainMlp(spec, data, width, { epochs: 3, batchSize: 32, seed: 1 });
  await roundTrip('mlp', mlp.predictor);
  await roundTrip('lr', fitLinearRegression(spec, data, width));
  await roundTrip('svm', fitLinearSvr(spec, data, width, {}).predictor);
  const logged = await trainMlp(spec, { ...data, labelsMs: data.labelsMs.map(Math.log) }, width, { epochs: 3, batchSize: 32, seed: 1 });
  logged.predictor.labelTransform = 'log';
  const back1 = await roundTrip('mlp-log', logged.predictor);
  assert.equal(back1.labelTransform, 'log');
  const rbf = await fitRbfSvr(spec, data, width, { C: 5 });
  const back = await roundTrip('rbf', rbf.predictor);
  assert.deepEqual(readdirSync(join(root, 'rbf')).sort(), [BUNDLE_FILE, 'libsvm.model']);
  rbf.predictor.dispose();
  back.dispose();
  const json = JSON.parse(readFileSync(join(root, 'mlp', BUNDLE_FILE), 'utf8')) as Record<string, unknown>;
  assert.equal(json.format, 'abacus.predictor');
  assert.equal(json.version, 2);
  assert.equal((json.featureSpec as { encoding: number }).encoding, 3);
  assert.deepEqual((json.featureSpec as { modelIds: number[] }).modelIds, [0, 2, 6]);
  assert.equal((json.featureSpec as { work: unknown[] }).work.length, 3);
  assert.equal((json.featureNames as string[]).length, width);
  assert.equal(width, 3 + 6 * 2);
});

test('a version 1 bundle (feature encoding 1, labels in ms) still loads and predicts as it was saved', async () => {
  const dir = join(root, 'v1');
  const p = fitLinearRegression(specV1, { ...data, features: encodeGroups(specV1, groups) }, 3 + 4 * 2);
  p.save(dir);
  edit(dir, (b) => {
    b.version = 1;
    delete (b.label as { transform?: string }).transform;
  });
  const q = await loadPredictor(dir, { modelIds: [0, 6], slots: 2 });
  assert.equal(q.width, 11);
  assert.equal(q.labelTransform, 'none');
  const v1 = encodeGroups(specV1, groups);
  assert.deepEqual(Array.from(q.predictMs(v1, groups.length)), Array.from(p.predictMs(v1, groups.length)));
});

test('a bundle for other models, another slot count or another modeling is refused with a clear InputError', async () => {
  const dir = join(root, 'lr');
  const refused = async (exp: Parameters<typeof loadPredictor>[1], pattern: RegExp): Promise<void> => {
    await assert.rejects(loadPredictor(dir, exp), (e: unknown) => e instanceof InputError && pattern.test(e.message) && e.message.includes(dir));
  };
  await refused({ modelIds: [0, 4] }, /trained for models \[0:resnet50, 2:resnet152, 6:bert\] with 2 slots, feature encoding 3; it does not know model 4/);
  await refused({ slots: 3 }, /with 2 slots, feature encoding 3; expected 3 slots/);
  await refused({ modelIds: [6], modelNames: ['bert-large'] }, /model 6 is "bert" there, not "bert-large"/);
  await refused({ modeling: 'mlp' }, /is a lr predictor; expected mlp/);
  assert.equal((await loadPredictor(dir, { modelIds: [2], modelNames: ['resnet152'], slots: 2 })).modeling, 'lr');
});

test('corrupt bundles and other versions are InputErrors naming the file', async () => {
  const variants: Array<[string, (dir: string) => void, RegExp]> = [
    ['bad-json', (d) => writeFileSync(join(d, BUNDLE_FILE), '{"format": "abacus.predictor", "vers'), /corrupt bundle/],
    ['version', (d) => edit(d, (b) => (b.version = 4)), /version 4 is not supported/],
    ['v1-encoding-2', (d) => edit(d, (b) => (b.version = 1)), /a version 1 bundle has feature encoding 1/],
    ['encoding', (d) => edit(d, (b) => ((b.featureSpec as { encoding: number }).encoding = 7)), /feature encoding 7 is not supported/],
    ['work-missing', (d) => edit(d, (b) => (b.featureSpec as { work: unknown[] }).work.pop()), /needs a work table for each of the 3 models/],
    ['work-nan', (d) => edit(d, (b) => ((b.featureSpec as { work: Array<{ operatorGflops: Array<number | null> }> }).work[1]!.operatorGflops[4] = null)), /operatorGflops must be/],
    ['label-transform', (d) => edit(d, (b) => ((b.label as { transform: string }).transform = 'sqrt')), /unknown label transform "sqrt"/],
    ['format', (d) => edit(d, (b) => (b.format = 'abacus.profile')), /format is "abacus.profile"/],
    ['short-weights', (d) => edit(d, (b) => (b.model as { weights: number[] }).weights.pop()), /needs 15 finite weights/],
    ['null-weight', (d) => edit(d, (b) => ((b.model as { weights: Array<number | null> }).weights[3] = null)), /finite weights/],
    ['std-zero', (d) => edit(d, (b) => ((b.standardization as { std: number[] }).std[0] = 0)), /positive stds/],
    ['spec', (d) => edit(d, (b) => ((b.featureSpec as { slots: number }).slots = 3)), /standardization needs 21/],
    ['no-bundle', (d) => rmSync(join(d, BUNDLE_FILE)), /not a predictor bundle/],
  ];
  for (const [name, damage, pattern] of variants) {
    const dir = join(root, `corrupt-${name}`);
    fitLinearRegression(spec, data, width).save(dir);
    damage(dir);
    await assert.rejects(loadPredictor(dir), (e: unknown) => e instanceof InputError && pattern.test(e.message) && e.message.includes(dir), name);
  }
  // the libsvm model file is checked against its sha256
  const rbfDir = join(root, 'rbf');
  appendFileSync(join(rbfDir, 'libsvm.model'), '\n');
  await assert.rejects(loadPredictor(rbfDir), /libsvm.model: corrupt bundle: sha256 does not match/);
  rmSync(join(rbfDir, 'libsvm.model'));
  await assert.rejects(loadPredictor(rbfDir), /corrupt bundle: libsvm.model is missing/);
  await assert.rejects(loadPredictor(join(root, 'nowhere')), /bundle folder not found/);
});

function edit(dir: string, change: (b: Record<string, unknown>) => void): void {
  const path = join(dir, BUNDLE_FILE);
  const b = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  change(b);
  writeFileSync(path, JSON.stringify(b));
}
