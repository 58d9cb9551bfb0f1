/**
 * A bundle records the ranges it was trained on (version 3), older bundles stay readable, and a run
 * outside them is warned about (small gap) or refused (large gap, or another build of the model).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkServingRanges, loadPredictor, rangesFromDataSets, saveTrainResult, trainPredictor, type ServedModel } from '../../src/predictor/index.js';
import { runCli } from '../helpers/cli.js';

const PROFILE = 'data/profile/cpu-tiny-2in4';

test('trained bundles record their ranges, keep them through a save and a load, and a v2 bundle still loads', async () => {
  const result = await trainPredictor({ dataDirs: [PROFILE], modeling: 'lr', encoding: 1, folds: 0, seed: 0 });
  const dir = mkdtempSync(join(tmpdir(), 'abacus-ranges-'));
  saveTrainResult(result, dir);
  const json = JSON.parse(readFileSync(join(dir, 'bundle.json'), 'utf8')) as { version: number; ranges: { rows: number; members: number[]; models: { name: string; batch: number[]; seq: number[]; operatorsEnd: number }[] } };
  assert.equal(json.version, 3);
  assert.equal(json.ranges.rows, 814, 'the distinct group configurations of the six 160-row CSVs (960 rows, duplicates merged)');
  assert.deepEqual(json.ranges.members, [1, 2]);
  const bert = json.ranges.models.find((m) => m.name === 'bert')!;
  assert.deepEqual(bert.batch, [4, 32]);
  assert.deepEqual(bert.seq, [8, 64]);
  assert.equal(json.ranges.models.find((m) => m.name === 'resnet50')!.operatorsEnd, 18);
  const back = await loadPredictor(dir);
  assert.deepEqual(back.ranges, json.ranges);
  // the same bundle as version 2 (no ranges) loads, and its ranges come back from the data sets it names
  const { ranges: _drop, ...v2 } = json;
  writeFileSync(join(dir, 'bundle.json'), JSON.stringify({ ...v2, version: 2 }));
  const old = await loadPredictor(dir);
  assert.equal(old.ranges, null);
  // the intervals come back the same; the row counts of recomputed ranges count every row read, where
  // training counts distinct configurations (duplicates merged)
  const withoutRows = (r: unknown): unknown => JSON.parse(JSON.stringify(r, (k, v: unknown) => (k === 'rows' ? undefined : v)));
  const recomputed = rangesFromDataSets(old.spec, old.training);
  assert.deepEqual(withoutRows(recomputed), withoutRows(json.ranges));
  assert.equal(recomputed?.rows, 960);
  // a v3 bundle whose ranges are damaged is refused as corrupt
  writeFileSync(join(dir, 'bundle.json'), JSON.stringify({ ...json, ranges: { rows: 1 } }));
  await assert.rejects(loadPredictor(dir), /corrupt bundle: ranges/);
});

test('checkServingRanges: inside is silent, a small gap warns, a large gap or another build of the model refuses', async () => {
  const result = await trainPredictor({ dataDirs: [PROFILE], modeling: 'lr', encoding: 1, folds: 0, seed: 0 });
  const p = result.bundles[0]!.predictor;
  const resnet = (batchSizes: number[]): ServedModel => ({ modelId: 0, name: 'resnet50', batchSizes, seqLens: [], operatorGflops: Array(18).fill(0.001), referenceSeq: 0 });
  assert.deepEqual(checkServingRanges(p.spec, p.ranges, [resnet([4, 8, 16, 32])]), []);
  const small = checkServingRanges(p.spec, p.ranges, [resnet([4, 48])]);
  assert.equal(small.length, 1);
  assert.equal(small[0]!.severity, 'warn');
  assert.match(small[0]!.message, /resnet50: batch 4-48 served, 4-32 in training \(1\.5× beyond\)/);
  assert.equal(checkServingRanges(p.spec, p.ranges, [resnet([1, 2])])[0]!.severity, 'refuse');
  const longer = checkServingRanges(p.spec, p.ranges, [{ modelId: 6, name: 'bert', batchSizes: [8], seqLens: [256], operatorGflops: Array(12).fill(0.01), referenceSeq: 64 }]);
  assert.match(longer[0]!.message, /bert: sequence length 256 served, 8-64 in training \(4\.0× beyond\)/);
  assert.match(checkServingRanges(p.spec, p.ranges, [{ ...resnet([8]), operatorGflops: Array(30).fill(0.001) }])[0]!.message, /30 operators, the predictor saw segments up to operator 18/);
});

test('serve refuses a predictor trained on other model builds and batch sizes, and runs with --allow-extrapolation, warning', () => {
  const models = join(mkdtempSync(join(tmpdir(), 'abacus-ranges-')), 'models');
  // the committed full-scale CPU bundle was trained on full models at batch 1, 2 and 4
  const args = ['serve', '--comb', 'resnet50', 'vgg16', '--scale', 'tiny', '--models-dir', models, '--simulate', '--queries', '10', '--predictor', 'data/predictor/cpu-full-2in4-mlp-all'];
  const refused = runCli(args);
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /far outside its training data: resnet50: the served model does [\d.]+ GFLOPs per sample, the profiled one 8\.20 .*batch 4-32 served, 1-4 in training \(8\.0× beyond\)/);
  assert.match(refused.stderr, /--allow-extrapolation/);
  const forced = runCli([...args, '--allow-extrapolation']);
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(forced.stderr, /WARNING: predictor data\/predictor\/cpu-full-2in4-mlp-all is used outside its training data: vgg16: batch 4-32 served/);
  // looking for a bundle (no --predictor) passes that one by and takes the tiny one, which covers the run
  const looked = runCli([...args.filter((a, i) => a !== '--predictor' && args[i - 1] !== '--predictor'), '--predictors-root', 'data/predictor']);
  assert.equal(looked.code, 0, looked.stderr);
  assert.match(looked.stdout, /predictor: data\/predictor\/cpu-tiny-2in4-/);
});
