import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Rng } from '../../src/common/rng.js';
import { encodeGroups, featureCount, makeFeatureSpec, type GroupMember } from '../../src/predictor/features.js';
import { fitLinearRegression } from '../../src/predictor/linear.js';
import { findPredictor } from '../../src/serve/index.js';
import { operatorWork } from '../../src/zoo/manifest.js';
import { tempDir } from '../helpers/tiny-model.js';
import { tinyZoo } from './helpers.js';

/** Save a small linear bundle for models (id, name, work or none) under dir. */
function saveBundle(dir: string, models: { id: number; name: string; work?: { operatorGflops: number[]; referenceSeq: number } }[]): void {
  const spec = makeFeatureSpec(models, 2);
  const rng = new Rng(3);
  const groups: GroupMember[][] = Array.from({ length: 40 }, () => models.map((m) => ({ modelId: m.id, start: 0, end: rng.int(1, 4), batch: rng.pick([1, 2, 4]), seq: m.name === 'bert' ? 8 : 0 })));
  const features = encodeGroups(spec, groups);
  const p = fitLinearRegression(spec, { features, labelsMs: Float64Array.from(groups, () => 1 + rng.next()), rows: groups.length }, featureCount(spec));
  p.name = 'all';
  p.save(dir);
}

test('with no --predictor, the bundle whose stored per-operator FLOPs match the served builds is chosen; none fitting is a clear error naming the commands', async () => {
  const zoo = await tinyZoo();
  const manifests = zoo.models.map((m) => m.manifest);
  const ids = manifests.map((m) => m.id);
  const names = manifests.map((m) => m.name);
  const tiny = manifests.map((m) => ({ id: m.id, name: m.name, work: operatorWork(m) }));
  // same ids and names, another build: 1000 times the work per operator (as a full-size build)
  const full = tiny.map((m) => ({ ...m, work: { ...m.work, operatorGflops: m.work.operatorGflops.map((g) => g * 1000) } }));
  const root = tempDir('abacus-predictor-match-');
  saveBundle(join(root, 'a-full-lr-all'), full);
  saveBundle(join(root, 'b-nowork-lr-all'), tiny.map(({ id, name }) => ({ id, name })));
  // without the manifests (the old rule): the first by name, the wrong build
  assert.equal((await findPredictor(root, ids, names)).dir, join(root, 'a-full-lr-all'));
  // with them, nothing fits yet: the error says why and how to make one
  await assert.rejects(findPredictor(root, ids, names, undefined, manifests), (err: Error) => {
    assert.match(err.message, /no predictor bundle under .* fits models resnet50, bert \(tiny builds\)/);
    assert.match(err.message, /trained on another build of model 0 \(resnet50\): operator 0 is/);
    assert.match(err.message, /abacus profile --model-num 2 --comb resnet50 bert --scale tiny --out data\/profile\/<name>, then abacus train --data data\/profile\/<name>/);
    return true;
  });
  saveBundle(join(root, 'c-tiny-lr-all'), tiny);
  assert.equal((await findPredictor(root, ids, names, undefined, manifests)).dir, join(root, 'c-tiny-lr-all'));
  // an explicit bundle of another build is refused; one that stores no FLOPs is taken on trust
  await assert.rejects(findPredictor(root, ids, names, join(root, 'a-full-lr-all'), manifests), /trained on another build of model 0/);
  assert.equal((await findPredictor(root, ids, names, join(root, 'b-nowork-lr-all'), manifests)).dir, join(root, 'b-nowork-lr-all'));
});

test('for the tiny models, the committed tiny-model bundle under data/predictor is chosen, not the full-size one that sorts first', async () => {
  const zoo = await tinyZoo();
  const manifests = zoo.models.map((m) => m.manifest);
  const root = join('data', 'predictor');
  const found = await findPredictor(root, manifests.map((m) => m.id), manifests.map((m) => m.name), undefined, manifests);
  assert.equal(found.dir, join(root, 'cpu-tiny-2in4-mlp-all'));
  await assert.rejects(findPredictor(root, manifests.map((m) => m.id), manifests.map((m) => m.name), join(root, 'cpu-full-2in4-mlp-all'), manifests), /trained on another build of model 0 \(resnet50\)/);
});
