import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, appendFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, startCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tiny-model.js';

function profileArgs(dir: string, extra: string[] = []): string[] {
  return ['profile', '--model-num', '2', '--comb', 'resnet50', 'vgg16', '--scale', 'tiny', '--models-dir', join(dir, 'models'), '--samples', '4', '--reps', '3', '--batch-sizes', '1,2', '--out', join(dir, 'prof'), '--json', ...extra];
}

function rows(dir: string): string[] {
  return readFileSync(join(dir, 'prof', 'resnet50_vgg16.csv'), 'utf8').trim().split('\n').slice(1);
}

test('a profile killed with -9 resumes with no duplicate, missing or torn row', async () => {
  const dir = tempDir();
  // reference: the whole profile in one go
  const ref = tempDir();
  const full = runCli(profileArgs(ref));
  assert.equal(full.code, 0, full.stderr);
  const expected = rows(ref).map((r) => r.split(',').slice(0, 11).join(','));
  assert.equal(expected.length, 16);

  const child = startCli(profileArgs(dir, ['--reps', '40']));
  const csv = join(dir, 'prof', 'resnet50_vgg16.csv');
  await new Promise<void>((resolve, reject) => {
    const t = setInterval(() => {
      if (existsSync(csv) && rows(dir).length >= 3) {
        clearInterval(t);
        child.kill('SIGKILL');
        resolve();
      }
    }, 20);
    child.on('exit', () => {
      clearInterval(t);
      if (rows(dir).length >= 16) reject(new Error('the run finished before it could be killed'));
      resolve();
    });
  });
  await new Promise((r) => setTimeout(r, 200));
  const before = rows(dir).length;
  assert.ok(before >= 3 && before < 16, `killed after ${before} rows`);
  // a write torn by the kill looks like this: simulate one on top
  appendFileSync(csv, '7,resnet50,0,3');
  const resumed = runCli(profileArgs(dir, ['--reps', '40']));
  assert.equal(resumed.code, 0, resumed.stderr);
  const summary = JSON.parse(resumed.stdout) as { resumedFrom: number; repairedLines: number; groupsDone: number; complete: boolean };
  assert.equal(summary.repairedLines, 1);
  assert.equal(summary.groupsDone, 16);
  assert.equal(summary.complete, true);
  const got = rows(dir);
  assert.equal(got.length, 16);
  assert.deepEqual(got.map((r) => r.split(',')[0]), got.map((_, i) => String(i)), 'indices 0..15 once each, in order');
  assert.deepEqual(got.map((r) => r.split(',').slice(0, 11).join(',')), expected, 'the same groups as an uninterrupted run');
  // a second resume has nothing left to do
  const again = runCli(profileArgs(dir, ['--reps', '40']));
  assert.equal(again.code, 0);
  assert.equal((JSON.parse(again.stdout) as { groupsThisRun: number }).groupsThisRun, 0);
});

test('a corrupt last line is cut off and measured again; resuming with other arguments is refused', () => {
  const dir = tempDir();
  const first = runCli(profileArgs(dir, ['--max-groups', '5']));
  assert.equal(first.code, 0, first.stderr);
  const csv = join(dir, 'prof', 'resnet50_vgg16.csv');
  const lines = readFileSync(csv, 'utf8').split('\n');
  assert.equal(lines.length, 7, 'header, 5 rows and the final newline');
  lines[5] = lines[5]!.replace(/,[^,]*$/, ',NaN');
  writeFileSync(csv, lines.join('\n'));
  const second = runCli(profileArgs(dir));
  assert.equal(second.code, 0, second.stderr);
  const summary = JSON.parse(second.stdout) as { resumedFrom: number; repairedLines: number };
  assert.equal(summary.resumedFrom, 4);
  assert.equal(summary.repairedLines, 1);
  assert.equal(rows(dir).length, 16);
  const other = runCli(profileArgs(dir, ['--seed', '9']));
  assert.equal(other.code, 2);
  assert.match(other.stderr, /another seed/);
});
