import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../src/common/errors.js';
import { type TrainProgressEvent, loadPredictor, saveTrainResult, trainPredictor } from '../../src/predictor/index.js';
import { deriveSeed, progressBarReporter } from '../../src/predictor/train.js';
import type { Progress } from '../../src/common/progress.js';
import { loadDataset } from '../../src/predictor/dataset.js';
import { removeDir, tempDir, writePairDataset } from './fixtures.js';

const root = tempDir();
after(() => removeDir(root));
const dataA = join(root, 'a');
const dataB = join(root, 'b');
writePairDataset(dataA, { modelIds: [0, 1, 6], rowsPerPair: 60, seed: 1 });
writePairDataset(dataB, { modelIds: [3, 5], rowsPerPair: 40, seed: 2 });

test('all mode: one bundle over every combination of several folders, k-fold + held-out evaluation, provenance', async () => {
  const events: TrainProgressEvent[] = [];
  const result = await trainPredictor({ dataDirs: [dataA, dataB], modeling: 'lr', folds: 4, seed: 3, command: 'abacus train test', onProgress: (e) => void events.push(e) });
  assert.equal(result.bundles.length, 1);
  const [b] = result.bundles;
  assert.equal(b!.name, 'all');
  assert.deepEqual(b!.predictor.spec.modelIds, [0, 1, 3, 5, 6]);
  const ev = b!.predictor.evaluation!;
  assert.equal(ev.rows.total, 220);
  assert.equal(ev.rows.test, 3 * 12 + 8);
  assert.equal(ev.crossValidation!.perFold.length, 4);
  assert.deepEqual(Object.keys(ev.test!.perCombination).sort(), ['inception_v3_vgg19', 'resnet101_bert', 'resnet50_bert', 'resnet50_resnet101']);
  assert.ok(ev.test!.overall.mapePct > 0 && Number.isFinite(ev.test!.overall.mapePct));
  const tr = b!.predictor.training!;
  assert.equal(tr.provenance.command, 'abacus train test');
  assert.equal(tr.provenance.seed, 3);
  assert.equal(tr.dataSets.length, 2);
  assert.equal(tr.rows, 220 - 44);
  // the defaults: feature encoding 3 (GFLOPs and their log per member) and log-latency labels
  assert.equal(tr.hyperParameters.featureEncoding, 3);
  assert.equal(tr.hyperParameters.labelTransform, 'log');
  assert.equal(b!.predictor.labelTransform, 'log');
  assert.equal(b!.predictor.spec.encoding, 3);
  // progress: folds then the final fit, one unit each, counting up to the total
  assert.deepEqual(events.map((e) => `${e.phase}:${e.fold}:${e.done}/${e.total}`), ['fold:0:1/5', 'fold:1:2/5', 'fold:2:3/5', 'fold:3:4/5', 'final:null:5/5']);
  assert.equal(result.evaluation.test!.n, 44);
  assert.equal(result.evaluation.crossValidation!.n, 176);
  assert.equal(result.evaluation.perCombination.resnet50_bert!.rows, 60);
  // saving: the folder is the bundle; it loads and predicts as the trained one
  const out = join(root, 'out-all');
  assert.deepEqual(saveTrainResult(result, out), [out]);
  const loaded = await loadPredictor(out, { modelIds: [0, 6], slots: 2 });
  const ds = loadDataset([dataA, dataB]);
  assert.deepEqual(Array.from(loaded.predictMs(ds.features, ds.rows)), Array.from(b!.predictor.predictMs(ds.features, ds.rows)));
  assert.deepEqual(loaded.evaluation, JSON.parse(JSON.stringify(ev)));
  assert.ok(existsSync(join(out, 'evaluation.json')));
});

test('onebyone mode: one bundle per combination, each evaluated on its own rows', async () => {
  const result = await trainPredictor({ dataDirs: [dataA], modeling: 'svm', mode: 'onebyone', folds: 3, seed: 1 });
  assert.deepEqual(result.bundles.map((b) => b.name).sort(), ['resnet101_bert', 'resnet50_bert', 'resnet50_resnet101']);
  for (const b of result.bundles) {
    assert.equal(b.combination, b.name);
    assert.deepEqual(Object.keys(b.predictor.evaluation!.test!.perCombination), [b.name]);
    assert.equal(b.predictor.evaluation!.rows.total, 60);
    assert.equal(b.predictor.training!.combination, b.name);
  }
  assert.equal(result.evaluation.test!.n, 36);
  const out = join(root, 'out-one');
  const dirs = saveTrainResult(result, out);
  assert.equal(dirs.length, 3);
  const summary = JSON.parse(readFileSync(join(out, 'evaluation.json'), 'utf8')) as { mode: string };
  assert.equal(summary.mode, 'onebyone');
  assert.equal((await loadPredictor(join(out, 'resnet50_bert'))).name, 'resnet50_bert');
});

test('seeded: the same options give the same evaluation; another seed another split', async () => {
  const run = (seed: number) => trainPredictor({ dataDirs: [dataA], modeling: 'mlp', epochs: 2, batchSize: 32, folds: 2, seed });
  const a = await run(5);
  const b = await run(5);
  const c = await run(6);
  assert.deepEqual(a.evaluation, b.evaluation);
  assert.notDeepEqual(a.evaluation, c.evaluation);
  assert.equal(a.bundles[0]!.predictor.training!.hyperParameters.optimizer, 'sgd');
  assert.notEqual(deriveSeed(5, 'model', '', 0), deriveSeed(5, 'model', '', 1));
});

test('bad options and data are InputErrors', async () => {
  await assert.rejects(trainPredictor({ dataDirs: [dataA], modeling: 'tree' as 'lr' }), InputError);
  await assert.rejects(trainPredictor({ dataDirs: [dataA], modeling: 'lr', mode: 'each' as 'all' }), /unknown mode/);
  await assert.rejects(trainPredictor({ dataDirs: [dataA], modeling: 'svm', kernel: 'poly' as 'rbf' }), /unknown kernel/);
  await assert.rejects(trainPredictor({ dataDirs: [], modeling: 'lr' }), /no data folder/);
  await assert.rejects(trainPredictor({ dataDirs: [dataA], modeling: 'lr', folds: 500 }), /500-fold cross-validation needs at least 500/);
});

test('progressBarReporter drives a progress bar: total once, then position and a label per event', async () => {
  const calls: string[] = [];
  const bar: Progress = {
    update: (done, payload) => void calls.push(`update ${done} ${String(payload?.info)}`),
    increment: () => void calls.push('increment'),
    setTotal: (t) => void calls.push(`total ${t}`),
    stop: () => void calls.push('stop'),
  };
  await trainPredictor({ dataDirs: [dataB], modeling: 'mlp', epochs: 2, batchSize: 64, folds: 2, seed: 1, onProgress: progressBarReporter(bar) });
  assert.equal(calls[0], 'total 6');
  assert.equal(calls.length, 7);
  assert.match(calls[1]!, /^update 1 fold 1\/2 epoch 1\/2 mse \S+$/);
  assert.match(calls[6]!, /^update 6 final epoch 2\/2 mse /);
});
