import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tiny-model.js';
import type { GroupCounts } from '../../src/profiler/index.js';

interface Meta {
  settings: { samplingRule?: number };
  files: Array<{ csv: string; rows: number; planned: GroupCounts; measured: GroupCounts }>;
  contents: { samplingRule: number; absentShare: number; reps: number; planned: GroupCounts; measured: GroupCounts; complete: boolean };
}

function args(dir: string, extra: string[] = []): string[] {
  return ['profile', '--model-num', '2', '--models', 'resnet50', 'bert', 'vgg16', '--scale', 'tiny', '--models-dir', join(dir, 'models'), '--samples', '2', '--reps', '2', '--warmup', '0', '--batch-sizes', '1,2', '--absent-ratio', '0.3', '--out', join(dir, 'prof'), '--json', ...extra];
}

/** Counts of the rows a CSV holds, from its cells. */
function countCsv(path: string): { counts: GroupCounts; keys: string[] } {
  const lines = readFileSync(path, 'utf8').trim().split('\n').slice(1);
  const counts: GroupCounts = { groups: 0, solo: 0, colocated: 0, withAbsent: 0, byPresent: {} };
  const keys: string[] = [];
  for (const line of lines) {
    const c = line.split(',');
    const slots = [0, 1].map((i) => ({ cells: c.slice(1 + 5 * i, 6 + 5 * i).join(':'), batch: Number(c[4 + 5 * i]) }));
    // the configuration: the present members' cells (an absent member's batch is 0)
    keys.push(slots.filter((s) => s.batch > 0).map((s) => s.cells).join('|'));
    const present = slots.filter((s) => s.batch > 0).length;
    counts.groups++;
    if (present === 1) counts.solo++;
    else counts.colocated++;
    if (present < 2) counts.withAbsent++;
    counts.byPresent[String(present)] = (counts.byPresent[String(present)] ?? 0) + 1;
  }
  return { counts, keys };
}

test('profile.json states what the profile holds, and the CSVs hold it', () => {
  const dir = tempDir();
  const part = runCli(args(dir, ['--max-groups', '5']));
  assert.equal(part.code, 0, part.stderr);
  let meta = JSON.parse(readFileSync(join(dir, 'prof', 'profile.json'), 'utf8')) as Meta;
  assert.equal(meta.settings.samplingRule, 2);
  assert.equal(meta.contents.planned.groups, 3 * 4 * 2);
  assert.equal(meta.contents.planned.withAbsent, Math.round(24 * 0.3));
  assert.equal(meta.contents.measured.groups, 5);
  assert.equal(meta.contents.complete, false);

  const full = runCli(args(dir));
  assert.equal(full.code, 0, full.stderr);
  meta = JSON.parse(readFileSync(join(dir, 'prof', 'profile.json'), 'utf8')) as Meta;
  assert.equal(meta.contents.complete, true);
  assert.deepEqual(meta.contents.measured, meta.contents.planned);
  assert.equal(meta.contents.reps, 2);
  assert.ok(Math.abs(meta.contents.absentShare - 7 / 24) < 1e-9);
  const allKeys: string[] = [];
  for (const f of meta.files) {
    const { counts, keys } = countCsv(join(dir, 'prof', f.csv));
    assert.deepEqual(counts, f.measured, f.csv);
    assert.equal(f.rows, counts.groups);
    allKeys.push(...keys);
  }
  assert.equal(new Set(allKeys).size, allKeys.length, 'no configuration twice in the profile');
  assert.equal(meta.contents.planned.solo, meta.contents.planned.withAbsent, 'pairs: a group with a model absent is a solo group');
});

test('a profile drawn with the earlier sampling rule is not resumed', () => {
  const dir = tempDir();
  const first = runCli(args(dir, ['--max-groups', '1']));
  assert.equal(first.code, 0, first.stderr);
  const path = join(dir, 'prof', 'profile.json');
  const meta = JSON.parse(readFileSync(path, 'utf8')) as Meta;
  delete meta.settings.samplingRule;
  writeFileSync(path, JSON.stringify(meta));
  const again = runCli(args(dir));
  assert.equal(again.code, 2);
  assert.match(again.stderr, /sampling rule 1; this abacus draws with rule 2.*choose another --out/);
});
