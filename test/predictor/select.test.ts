import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { InputError } from '../../src/common/errors.js';
import { trainPredictor } from '../../src/predictor/index.js';
import { removeDir, tempDir, writePairDataset } from './fixtures.js';

const root = tempDir();
after(() => removeDir(root));
const data = join(root, 'a');
writePairDataset(data, { modelIds: [0, 1, 6], rowsPerPair: 50, seed: 4, absentProb: 0.2 });

test('settings are chosen by CV on the training rows; the held-out figure is the chosen setting\'s, once', async () => {
  const chosenRun = await trainPredictor({ dataDirs: [data], modeling: 'lr', folds: 4, seed: 2, select: { encodings: [1, 3], labelTransforms: ['log', 'none'] } });
  const sel = chosenRun.evaluation.selection!;
  assert.equal(sel.length, 1);
  const [s] = sel;
  assert.equal(s!.candidates.length, 4);
  const best = s!.candidates.reduce((a, b) => (b.cvMapePct! < a.cvMapePct! ? b : a));
  assert.deepEqual(s!.chosen, { encoding: best.encoding, labelTransform: best.labelTransform, epochs: null });
  // the reported CV is the chosen candidate's, pooled over the training rows only
  assert.ok(Math.abs(chosenRun.evaluation.crossValidation!.mapePct - best.cvMapePct!) < 1e-12);
  // and the bundle is what a plain run with the chosen setting gives: same split, same model, same held-out figure
  const plain = await trainPredictor({ dataDirs: [data], modeling: 'lr', folds: 4, seed: 2, encoding: best.encoding, labelTransform: best.labelTransform });
  assert.equal(chosenRun.evaluation.test!.mapePct, plain.evaluation.test!.mapePct);
  assert.equal(plain.evaluation.selection, null);
  const b = chosenRun.bundles[0]!.predictor;
  assert.equal(b.spec.encoding, best.encoding);
  assert.equal(b.training!.hyperParameters.labelTransform, best.labelTransform);
  assert.deepEqual(b.evaluation!.selection, s);
  // solo and co-located rows are reported apart, for the test and for CV
  const k = chosenRun.evaluation.testByKind!;
  assert.equal(k.solo!.n + k.colocated!.n, chosenRun.evaluation.test!.n);
  assert.ok(chosenRun.evaluation.crossValidationByKind!.solo!.n > 0);
  assert.equal(chosenRun.evaluation.split.by, 'configuration');
});

test('a candidate whose MLP diverges drops out; if none trains, the error says so', async () => {
  await assert.rejects(
    trainPredictor({ dataDirs: [data], modeling: 'mlp', folds: 2, lr: 1e12, select: { epochs: [2, 3] } }),
    (e: unknown) => e instanceof InputError && /no candidate setting trained: MLP training diverged.*; MLP training diverged/.test(e.message),
  );
  // one setting alone: the divergence is the error, as without selection
  await assert.rejects(trainPredictor({ dataDirs: [data], modeling: 'mlp', folds: 2, lr: 1e12, epochs: 2 }), /MLP training diverged/);
});

test('choosing among settings needs cross-validation', async () => {
  await assert.rejects(trainPredictor({ dataDirs: [data], modeling: 'lr', folds: 0, select: { encodings: [1, 3] } }), (e: unknown) => e instanceof InputError && /needs cross-validation/.test(e.message));
  await assert.rejects(trainPredictor({ dataDirs: [data], modeling: 'mlp', select: { epochs: [0] } }), InputError);
});

test('abacus train --select-*: bad lists exit 2; a selection is reported in the JSON', async () => {
  const { runCli } = await import('../helpers/cli.js');
  for (const [flag, value, pattern] of [['--select-encodings', '4', /not a feature encoding/], ['--select-labels', 'sqrt', /'sqrt' is not a label/], ['--select-epochs', '0', /--select-epochs/]] as const) {
    const r = runCli(['train', '--data', data, '--modeling', 'lr', flag, value, '--out', join(root, 'bad')]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, pattern);
  }
  const ok = runCli(['train', '--data', data, '--modeling', 'lr', '--folds', '3', '--select-encodings', '1,3', '--select-labels', 'log,ms', '--out', join(root, 'sel'), '--json']);
  assert.equal(ok.code, 0, ok.stderr);
  const out = JSON.parse(ok.stdout) as { selection: Array<{ candidates: unknown[]; chosen: { encoding: number } }>; testByKind: { solo: { n: number } | null; colocated: { n: number } | null } };
  assert.equal(out.selection[0]!.candidates.length, 4);
  assert.ok(out.testByKind.colocated!.n > 0);
});

test('duplicates merge within what a model sees: across files for one model of all, within its file for one per combination', async () => {
  const { readFileSync, writeFileSync, readdirSync } = await import('node:fs');
  const dir = join(root, 'shared-solo');
  writePairDataset(dir, { modelIds: [0, 1, 6], rowsPerPair: 30, seed: 5, absentProb: 0 });
  // the same solo resnet50 group in both of resnet50's pair files (as rule-1 profiles hold them)
  for (const f of readdirSync(dir).filter((n) => n.startsWith('resnet50_'))) {
    const path = join(dir, f);
    const text = readFileSync(path, 'utf8');
    writeFileSync(path, `${text}30,0,2,9,8,0,${f.includes('bert') ? '6' : '1'},0,0,0,0,5000,5000,10,4900,5100,4950,5050,1,10\n`);
  }
  const all = await trainPredictor({ dataDirs: [dir], modeling: 'lr', folds: 2, seed: 1 });
  const one = await trainPredictor({ dataDirs: [dir], modeling: 'lr', folds: 2, seed: 1, mode: 'onebyone' });
  assert.equal(all.evaluation.rows, 92);
  assert.equal(all.evaluation.split.duplicates.duplicateRows, 1, 'one model of all: the two rows are one group');
  assert.equal(one.evaluation.split.duplicates.duplicateRows, 0, 'one per combination: each file keeps its row');
  const perFile = Object.fromEntries(Object.entries(one.evaluation.perCombination).map(([c, v]) => [c, v.rows]));
  assert.deepEqual(perFile, { resnet101_bert: 30, resnet50_bert: 31, resnet50_resnet101: 31 });
});
