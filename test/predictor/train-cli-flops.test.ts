import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { removeDir, tempDir } from './fixtures.js';

// A profile written before profile.json recorded per-operator FLOPs (the committed tiny pair profile):
// `abacus train` reads them from the profiled models' manifests, and only from the very models profiled.
const root = tempDir('abacus-train-cli-');
after(() => removeDir(root));
const data = join(root, 'profile');
cpSync(join('data', 'profile', 'cpu-tiny-2in4'), data, { recursive: true });
const only = (meta: string): void => {
  const m = JSON.parse(readFileSync(meta, 'utf8')) as { models: Array<{ operatorGflops?: unknown }> };
  assert.ok(m.models.every((x) => x.operatorGflops === undefined), 'the fixture predates per-operator FLOPs');
};
only(join(data, 'profile.json'));

test('train on an older profile: FLOPs from the manifests (zoo models built on demand at the profile\'s scale), or --encoding 1', () => {
  const models = join(root, 'models');
  const out = join(root, 'lr');
  const r = runCli(['train', '--data', data, '--modeling', 'lr', '--folds', '0', '--models-dir', models, '--out', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const bundle = JSON.parse(readFileSync(join(out, 'bundle.json'), 'utf8')) as { version: number; featureSpec: { encoding: number; work: Array<{ operatorGflops: number[] }> }; label: { transform: string } };
  assert.equal(bundle.version, 3);
  assert.equal(bundle.featureSpec.encoding, 3);
  assert.equal(bundle.featureSpec.work.length, 4);
  assert.ok(bundle.featureSpec.work.every((w) => w.operatorGflops.length > 0 && w.operatorGflops.every((g) => g > 0)));
  assert.equal(bundle.label.transform, 'log');
  // a model of another graph (here the full-size resnet50 under the same name) is not the profiled one:
  // refused, naming both hashes (the weights' seed does not matter: FLOPs depend on the graph only)
  const other = join(root, 'other-models');
  assert.equal(runCli(['zoo', 'build', 'resnet50', '--scale', 'full', '--out', other]).code, 0);
  const bad = runCli(['train', '--data', data, '--modeling', 'lr', '--folds', '0', '--models-dir', other, '--out', join(root, 'bad')]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /resnet50 \(model.onnx sha256 [0-9a-f]{12}\) is not the one profiled in .* \([0-9a-f]{12}\); point --models-dir at the profiled models/);
  // the original's encoding needs no manifest
  const v1 = runCli(['train', '--data', data, '--modeling', 'lr', '--folds', '0', '--encoding', '1', '--label', 'ms', '--models-dir', join(root, 'none'), '--out', join(root, 'v1'), '--json']);
  assert.equal(v1.code, 0, v1.stderr);
  const b1 = JSON.parse(readFileSync(join(root, 'v1', 'bundle.json'), 'utf8')) as { featureSpec: { encoding?: number }; label: { transform: string } };
  assert.equal(b1.featureSpec.encoding ?? 1, 1);
  assert.equal(b1.label.transform, 'none');
});
