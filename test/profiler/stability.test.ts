import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tiny-model.js';
import { medianCiHalfWidthSorted } from '../../src/common/stats.js';
import { medianIsStable } from '../../src/profiler/profile.js';
import { loadDataset } from '../../src/predictor/index.js';

function args(dir: string, extra: string[] = []): string[] {
  return ['profile', '--model-num', '2', '--comb', 'resnet50', 'vgg16', '--scale', 'tiny', '--models-dir', join(dir, 'models'), '--samples', '1', '--reps', '2', '--warmup', '0', '--batch-sizes', '1,2', '--out', join(dir, 'prof'), '--json', ...extra];
}

function csvRows(dir: string): string[][] {
  return readFileSync(join(dir, 'prof', 'resnet50_vgg16.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
}

test('the median\'s confidence interval narrows with repetitions; stability is judged against it', () => {
  // 1..n: ranks n/2 -+ 1.96 sqrt(n)/2
  assert.equal(medianCiHalfWidthSorted([5]), 0);
  assert.equal(medianCiHalfWidthSorted([1, 2, 3, 4]), 1.5, 'few samples: the whole range');
  const wide = Array.from({ length: 100 }, (_, i) => 100 + i);
  assert.equal(medianCiHalfWidthSorted(wide), (160 - 139) / 2);
  assert.ok(medianIsStable(Array(8).fill(10), 0.1));
  assert.ok(!medianIsStable([10, 14, 9, 13], 5));
  assert.ok(medianIsStable(wide, 10) && !medianIsStable(wide, 5));
});

test('--stable-pct adapts the repetitions between --reps and --max-reps; the CSV records the median\'s CI', () => {
  const tight = tempDir();
  const r = runCli(args(tight, ['--stable-pct', '0.0001', '--max-reps', '5']));
  assert.equal(r.code, 0, r.stderr);
  const [header, ...rows] = csvRows(tight);
  assert.equal(header!.at(-1), 'median_ci_us');
  assert.equal(header!.at(-2), 'reps');
  assert.ok(rows.every((c) => Number(c.at(-2)) === 5), 'a bound no measurement meets: every group runs to the cap');
  assert.ok(rows.every((c) => Number(c.at(-1)) >= 0));
  const meta = JSON.parse(readFileSync(join(tight, 'prof', 'profile.json'), 'utf8')) as { version: number; settings: { stablePct?: number; maxReps?: number }; contents: { stability: unknown } };
  assert.equal(meta.version, 2);
  assert.deepEqual(meta.contents.stability, { stablePct: 0.0001, maxReps: 5 });
  assert.equal(meta.settings.maxReps, 5);
  const ds = loadDataset([join(tight, 'prof')]);
  assert.deepEqual(ds.labelNoise.reps, { min: 5, median: 5, max: 5 });
  assert.equal(ds.labelNoise.medianCiPct!.rows, 4);

  const loose = tempDir();
  const l = runCli(args(loose, ['--stable-pct', '1000']));
  assert.equal(l.code, 0, l.stderr);
  assert.ok(csvRows(loose).slice(1).every((c) => Number(c.at(-2)) === 2), 'a bound every median meets: the minimum only');

  for (const [extra, pattern] of [[['--max-reps', '9'], /give --stable-pct too/], [['--stable-pct', '2', '--max-reps', '1'], /--max-reps \(1\) must be an integer of at least --reps \(2\)/], [['--stable-pct', '0'], /--stable-pct must be a number > 0/]] as const) {
    const bad = runCli(args(tempDir(), [...extra]));
    assert.equal(bad.code, 2, `${extra.join(' ')}: ${bad.stderr}`);
    assert.match(bad.stderr, pattern);
  }
});

test('a v1 profile resumes in v1 rows and both versions read', () => {
  const dir = tempDir();
  const first = runCli(args(dir, ['--max-groups', '2']));
  assert.equal(first.code, 0, first.stderr);
  // make it what the previous release wrote: profile.json v1, CSV without median_ci_us
  const metaPath = join(dir, 'prof', 'profile.json');
  const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as { version: number };
  meta.version = 1;
  writeFileSync(metaPath, JSON.stringify(meta));
  const csv = join(dir, 'prof', 'resnet50_vgg16.csv');
  writeFileSync(csv, `${csvRows(dir).map((c) => c.slice(0, -1).join(',')).join('\n')}\n`);
  const resumed = runCli(args(dir));
  assert.equal(resumed.code, 0, resumed.stderr);
  const rows = csvRows(dir);
  assert.equal(rows.length, 5);
  assert.ok(rows.every((c) => c.length === rows[0]!.length) && rows[0]!.at(-1) === 'reps', 'v1 rows throughout');
  assert.equal((JSON.parse(readFileSync(metaPath, 'utf8')) as { version: number }).version, 1);
  const ds = loadDataset([join(dir, 'prof')]);
  assert.equal(ds.rows, 4);
  assert.equal(ds.labelNoise.medianCiPct, null);
  assert.ok(ds.labelNoise.spreadPct.median >= 0);
});
