/** Off a terminal, long work prints a progress line every few seconds to stderr: done/total, rate, ETA. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatEta, progressLine } from '../../src/common/progress.js';
import { runCli } from '../helpers/cli.js';

test('a progress line says done/total, percentage, rate and ETA as people read them', () => {
  assert.equal(progressLine('profile', 120, 480, 0, 40, 'resnet50_vgg16'), 'profile 120/480 (25.0 %), 3.00/s, eta 2 min 0 s, resnet50_vgg16');
  assert.equal(progressLine('train', 0, 10, 0, 0, ''), 'train 0/10 (0.0 %), 0.00/s');
  assert.equal(formatEta(7300), '2 h 1 min');
});

const LINE = /^(serve|serve --find-peak|profile) \d+\/\d+ \(\d+\.\d %\), \d+\.\d\d\/s(, eta [^,]+)?(, .*)?$/;

test('serve (offline and --find-peak) and profile print progress lines on a non-terminal stderr', () => {
  const dir = mkdtempSync(join(tmpdir(), 'abacus-progress-'));
  const env = { ABACUS_PROGRESS_INTERVAL_MS: '0' };
  const models = join(dir, 'models');
  const serve = ['serve', '--comb', 'resnet50', 'vgg16', '--scale', 'tiny', '--models-dir', models, '--simulate', '--predictor', 'data/predictor/cpu-tiny-2in4-mlp-all', '--qos', '200', '--load', '20', '--policy', 'fcfs,edf', '--queries', '30'];
  const offline = runCli(serve, { env });
  assert.equal(offline.code, 0, offline.stderr);
  const lines = offline.stderr.split('\n').filter((l) => l.startsWith('serve '));
  assert.ok(lines.length >= 30, `a line per query at interval 0, got ${lines.length}`);
  for (const l of lines) assert.match(l, LINE);
  assert.ok(lines.some((l) => l.startsWith('serve 60/60 (100.0 %)')), 'the last line counts every query of both policies');
  const peak = runCli([...serve.map((a) => (a === '200' ? '3' : a)), '--find-peak', '--peak-range', '5,20000'], { env });
  assert.equal(peak.code, 0, peak.stderr);
  assert.ok(peak.stderr.split('\n').some((l) => LINE.test(l) && l.includes('fcfs probe 2')), peak.stderr.slice(0, 500));
  const profile = runCli(['profile', '--model-num', '2', '--comb', 'resnet50', 'vgg16', '--scale', 'tiny', '--models-dir', models, '--samples', '1', '--reps', '1', '--warmup', '0', '--batch-sizes', '1,2', '--out', join(dir, 'profile')], { env });
  assert.equal(profile.code, 0, profile.stderr);
  const pl = profile.stderr.split('\n').filter((l) => l.startsWith('profile '));
  assert.ok(pl.length >= 2 && pl.every((l) => LINE.test(l)), profile.stderr);
  assert.ok(pl.some((l) => l.startsWith('profile 4/4 (100.0 %)')), profile.stderr);
});
