import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { removeDir, syntheticWork, tempDir, writePairDataset } from './fixtures.js';
import { ZOO } from '../../src/zoo/catalog.js';

const root = tempDir();
after(() => removeDir(root));

function withSha(dir: string, sha: (name: string) => string): void {
  const path = join(dir, 'profile.json');
  const meta = JSON.parse(readFileSync(path, 'utf8')) as { models: Array<{ name: string; sha256?: string }> };
  for (const m of meta.models) m.sha256 = sha(m.name);
  writeFileSync(path, JSON.stringify(meta));
}

test('abacus train --work-from takes the FLOPs of the same models from another profile; other model files are refused', () => {
  const old = join(root, 'old');
  const recorded = join(root, 'recorded');
  writePairDataset(old, { modelIds: [0, 6], rowsPerPair: 40, withoutWork: true });
  writePairDataset(recorded, { modelIds: [0, 6], rowsPerPair: 10, seed: 9 });
  withSha(old, (n) => `${n}-sha`);
  withSha(recorded, (n) => `${n}-sha`);
  const ok = runCli(['train', '--data', old, '--modeling', 'lr', '--work-from', recorded, '--models-dir', join(root, 'no-models'), '--out', join(root, 'p1'), '--json']);
  assert.equal(ok.code, 0, ok.stderr);
  const bundle = JSON.parse(readFileSync(join(root, 'p1', 'bundle.json'), 'utf8')) as { featureSpec: { encoding: number; work: Array<{ operatorGflops: number[] }> } };
  assert.equal(bundle.featureSpec.encoding, 3);
  assert.deepEqual(bundle.featureSpec.work.map((w) => w.operatorGflops), [syntheticWork(ZOO[0]!).operatorGflops, syntheticWork(ZOO[6]!).operatorGflops]);
  withSha(recorded, (n) => `${n}-other`);
  const other = runCli(['train', '--data', old, '--modeling', 'lr', '--work-from', recorded, '--models-dir', join(root, 'no-models'), '--out', join(root, 'p2')]);
  assert.equal(other.code, 2);
  assert.match(other.stderr, /--work-from .*its resnet50 \(sha256 resnet50-oth\) is not the one profiled/);
});
