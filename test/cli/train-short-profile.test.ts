/** train refuses a profile whose CSV holds fewer groups than its profile.json plans (cut at a line boundary), unless --allow-partial. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, runCli } from '../helpers/cli.js';

test('a profile CSV cut at a line boundary is refused, and trains with --allow-partial and a warning', () => {
  const dir = mkdtempSync(join(tmpdir(), 'abacus-short-'));
  const data = join(dir, 'profile');
  cpSync(join(ROOT, 'data', 'profile', 'cpu-tiny-2in4'), data, { recursive: true });
  const csv = join(data, 'resnet50_vgg16.csv');
  const lines = readFileSync(csv, 'utf8').split('\n');
  writeFileSync(csv, `${lines.slice(0, 31).join('\n')}\n`); // the header and 30 of the 160 rows: still valid CSV
  const args = ['train', '--data', data, '--modeling', 'lr', '--encoding', '1', '--folds', '0', '--out', join(dir, 'lr')];
  const refused = runCli(args);
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /resnet50_vgg16\.csv holds 30 of the 160 groups profile\.json plans: the profile is unfinished .*--allow-partial/);
  const partial = runCli([...args, '--allow-partial', '--json']);
  assert.equal(partial.code, 0, partial.stderr);
  assert.match(partial.stderr, /WARNING: training on an unfinished profile: .*30 of the 160/);
  const rows = (JSON.parse(partial.stdout) as { perCombination: { combination: string; rows: number }[] }).perCombination.find((c) => c.combination === 'resnet50_vgg16');
  // the 30 rows read hold 24 distinct group configurations (duplicates are merged before training)
  assert.equal(rows?.rows, 24);
});
