import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadDataset, rowsByCombination } from '../../src/predictor/dataset.js';
import { complement, crossValidate, errorMetrics, holdoutSplit, kFoldSplits, splitMetrics } from '../../src/predictor/evaluate.js';
import { fitLinearRegression } from '../../src/predictor/linear.js';
import { removeDir, tempDir, writePairDataset } from './fixtures.js';

const root = tempDir();
after(() => removeDir(root));
writePairDataset(join(root, 'd'), { modelIds: [0, 1, 6], rowsPerPair: 47 });
const ds = loadDataset([join(root, 'd')]);

test('k folds partition the rows, differ in size by at most one, and are stratified by combination', () => {
  for (const k of [2, 5, 7]) {
    const folds = kFoldSplits(ds, k, 3);
    assert.equal(folds.length, k);
    const seen = new Uint8Array(ds.rows);
    for (const f of folds) for (const r of f) seen[r]!++;
    assert.ok(seen.every((c) => c === 1), 'every row in exactly one fold');
    const sizes = folds.map((f) => f.length);
    assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `sizes ${sizes.join(',')}`);
    // each combination (47 rows) is spread over the folds: at most ceil(47 / k) of it per fold
    for (const f of folds) {
      const per = new Map<number, number>();
      for (const r of f) per.set(ds.combinationOf[r]!, (per.get(ds.combinationOf[r]!) ?? 0) + 1);
      for (const c of per.values()) assert.ok(c <= Math.ceil(47 / k));
    }
    assert.equal(complement(ds.rows, folds[0]!).length, ds.rows - folds[0]!.length);
  }
  assert.throws(() => kFoldSplits(ds, 1, 0), /at least 2 folds/);
});

test('folds and the held-out split are seeded: same seed same split, another seed another split', () => {
  const a = kFoldSplits(ds, 5, 42).map((f) => Array.from(f));
  assert.deepEqual(kFoldSplits(ds, 5, 42).map((f) => Array.from(f)), a);
  assert.notDeepEqual(kFoldSplits(ds, 5, 43).map((f) => Array.from(f)), a);
  const h = holdoutSplit(ds, 0.2, 9);
  assert.deepEqual(Array.from(holdoutSplit(ds, 0.2, 9).test), Array.from(h.test));
  assert.notDeepEqual(Array.from(holdoutSplit(ds, 0.2, 10).test), Array.from(h.test));
  assert.equal(h.train.length + h.test.length, ds.rows);
  assert.equal(new Set([...h.train, ...h.test]).size, ds.rows);
  // 20 % of each stratum (combination x solo / co-located), rounded
  for (const rows of rowsByCombination(ds)) {
    for (const solo of [true, false]) {
      const mine = rows.filter((r) => (ds.presentOf[r]! === 1) === solo);
      assert.equal(mine.filter((r) => h.test.includes(r)).length, mine.length > 1 ? Math.round(mine.length * 0.2) : 0);
    }
  }
});

test('metrics: MAPE in percent, MAE in ms, percentiles of the absolute percentage error', () => {
  const m = errorMetrics([11, 18, 3, 4], [10, 20, 3, 5]);
  assert.equal(m.n, 4);
  assert.ok(Math.abs(m.mapePct - (10 + 10 + 0 + 20) / 4) < 1e-12);
  assert.ok(Math.abs(m.maeMs - (1 + 2 + 0 + 1) / 4) < 1e-12);
  assert.ok(Math.abs(m.apeP50Pct - 10) < 1e-12);
  assert.ok(Math.abs(m.apeP99Pct - (10 + 0.97 * 10)) < 1e-9);
});

test('cross-validation predicts every row once, out of fold, and reports per combination', async () => {
  let fits = 0;
  const { report, outOfFoldMs } = await crossValidate(ds, async (train, ctx) => {
    fits++;
    assert.equal(ctx.folds, 4);
    assert.ok(train.rows < ds.rows && train.rows >= Math.floor((ds.rows * 3) / 4));
    return fitLinearRegression(train.spec, train, train.width);
  }, 4, 1);
  assert.equal(fits, 4);
  assert.equal(report.perFold.length, 4);
  assert.equal(report.perFold.reduce((n, f) => n + f.n, 0), ds.rows);
  assert.ok(outOfFoldMs.every((v) => Number.isFinite(v) && v !== 0));
  assert.deepEqual(Object.keys(report.pooled.perCombination).sort(), [...ds.combinations].sort());
  assert.ok(report.meanMapePct > 0 && Number.isFinite(report.stdMapePct));
});

test('splits keep every configuration on one side, and MAPE is reported for solo and co-located rows apart', async () => {
  // a data set in which every row is there twice (as rule-1 profiles repeated solo groups), read unmerged
  const dir = join(root, 'dup');
  writePairDataset(dir, { modelIds: [0, 6], rowsPerPair: 40, absentProb: 0.3 });
  const csv = join(dir, `${readdirSync(dir).find((f) => f.endsWith('.csv'))!}`);
  const lines = readFileSync(csv, 'utf8').trim().split('\n');
  const again = lines.slice(1).map((l, i) => [String(40 + i), ...l.split(',').slice(1)].join(','));
  writeFileSync(csv, `${[...lines, ...again].join('\n')}\n`);
  const raw = loadDataset([dir]);
  assert.equal(raw.rows, 80);
  const configs = raw.duplicates.configurations;
  assert.ok(configs <= 40 && raw.duplicates.duplicateRows === 80 - configs);
  assert.ok(raw.presentOf.some((p) => p === 1) && raw.presentOf.some((p) => p === 2));
  const side = (rows: Int32Array) => new Set(Array.from(rows, (r) => raw.configurationOf[r]!));
  for (const seed of [1, 2, 3]) {
    const h = holdoutSplit(raw, 0.25, seed);
    const train = side(h.train);
    for (const c of side(h.test)) assert.ok(!train.has(c), 'a held-out configuration is never in training');
    const folds = kFoldSplits(raw, 4, seed);
    folds.forEach((f, i) => {
      const others = new Set(folds.filter((_, j) => j !== i).flatMap((g) => Array.from(g, (r) => raw.configurationOf[r]!)));
      for (const c of side(f)) assert.ok(!others.has(c), 'a configuration is in one fold only');
    });
  }
  // merged: one row per configuration, labelled with the median of its rows
  const merged = loadDataset([dir], { mergeDuplicates: true });
  assert.equal(merged.rows, configs);
  assert.deepEqual(merged.duplicates, { rowsRead: 80, configurations: configs, duplicateRows: 80 - configs, merged: true });
  // solo and co-located metrics: exact on a known prediction
  const pred = Float64Array.from(raw.labelsMs, (v, r) => v * (raw.presentOf[r] === 1 ? 1.1 : 1.02));
  const m = splitMetrics(raw, pred);
  assert.ok(Math.abs(m.solo!.mapePct - 10) < 1e-9 && Math.abs(m.colocated!.mapePct - 2) < 1e-9);
  assert.equal(m.solo!.n + m.colocated!.n, 80);
});
