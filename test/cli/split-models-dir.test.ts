/** `abacus split` without --out writes the model folder into --models-dir, where serve, profile and bench look. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';

test('split --models-dir puts the model at <models-dir>/<name>', () => {
  const models = join(mkdtempSync(join(tmpdir(), 'abacus-split-')), 'models');
  const r = runCli(['split', 'test/fixtures/pytorch/tiny_resnet.onnx', '--models-dir', models, '--id', '9', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { name: string; dir: string };
  assert.equal(out.name, 'tiny_resnet');
  assert.ok(existsSync(join(models, 'tiny_resnet', 'manifest.json')));
  const list = runCli(['zoo', 'list', '--models-dir', models, '--json']);
  assert.ok((JSON.parse(list.stdout) as { models: { name: string }[] }).models.some((m) => m.name === 'tiny_resnet'));
});
