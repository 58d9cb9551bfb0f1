/**
 * The commands a new user types first, with few flags: profile says its plan and refuses an absurd one
 * without --yes (building nothing), train takes the newest profile, serve says how to make its predictor.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, runCli } from '../helpers/cli.js';

test('bare profile states its plan and refuses a days-long one without --yes, before building anything', () => {
  const dir = mkdtempSync(join(tmpdir(), 'abacus-bare-'));
  const models = join(dir, 'models');
  const r = runCli(['profile', '--model-num', '2', '--models-dir', models], { cwd: dir });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /21 combination\(s\) of 2 out of resnet50, resnet101, resnet152, inception_v3, vgg16, vgg19, bert \(full\)/);
  assert.match(r.stderr, /67,200 groups .* 6,720,000 timed runs/);
  assert.match(r.stderr, /estimated [\d.]+ days/);
  assert.match(r.stderr, /builds resnet50, .*bert first \(full, about [\d.]+ GB\)/);
  assert.match(r.stderr, /abacus: this plan would take about .* pass --yes .* --scale tiny/);
  assert.ok(!existsSync(models) || readdirSync(models).length === 0, 'nothing built');
  assert.ok(!existsSync(join(dir, 'runs')), 'nothing written');
});

test('bare train takes the newest profile under runs/profile/ and says which', () => {
  const dir = mkdtempSync(join(tmpdir(), 'abacus-bare-'));
  mkdirSync(join(dir, 'runs', 'profile'), { recursive: true });
  cpSync(join(ROOT, 'data', 'profile', 'cpu-tiny-2in4'), join(dir, 'runs', 'profile', 'cpu-tiny-2in4'), { recursive: true });
  const r = runCli(['train', '--modeling', 'lr', '--encoding', '1', '--folds', '0', '--json'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /no --data given: training on the newest profile, runs\/profile\/cpu-tiny-2in4/);
  assert.ok(existsSync(join(dir, 'runs', 'predictor', 'cpu-tiny-2in4-lr-all', 'bundle.json')));
  const none = runCli(['train'], { cwd: mkdtempSync(join(tmpdir(), 'abacus-bare-')) });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /no profile under runs\/profile or data\/profile: make one with 'abacus profile /);
});

test('serve without a fitting predictor prints the commands that make it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'abacus-bare-'));
  const r = runCli(['serve', '--comb', '0', '1', '--qos', '50', '--scale', 'tiny', '--models-dir', join(dir, 'models')], { cwd: dir });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /Make the predictor this run needs with: abacus profile --model-num 2 --comb resnet50 resnet101 --scale tiny --ep cpu --models-dir \S+ --batch-sizes 4,8,16,32 --samples 10 --reps 10 && abacus train --data runs\/profile\/cpu-tiny-2in2 --modeling mlp/);
});
