import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { ensureZooModel } from '../../src/zoo/build.js';
import { DEFAULT_MAX_BATCH, DEFAULT_MAX_SEQ, MANIFEST_VERSION, readManifest, validateManifest } from '../../src/zoo/manifest.js';
import { tempDir } from '../helpers/tiny-model.js';

test('a built manifest states its limits (v2); a v1 manifest reads with default limits; a v2 manifest without them is refused', async () => {
  const modelsDir = tempDir('abacus-limits-');
  const bert = await ensureZooModel('bert', modelsDir, 'tiny');
  const resnet = await ensureZooModel('resnet50', modelsDir, 'tiny');
  assert.equal(bert.version, MANIFEST_VERSION);
  assert.deepEqual(bert.limits, { maxBatch: DEFAULT_MAX_BATCH, maxSeq: DEFAULT_MAX_SEQ });
  assert.deepEqual(resnet.limits, { maxBatch: DEFAULT_MAX_BATCH, maxSeq: null });
  const path = join(modelsDir, 'bert', 'manifest.json');
  const raw = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  // an old manifest: version 1, no limits
  const v1: Record<string, unknown> = { ...raw, version: 1 };
  delete v1.limits;
  writeFileSync(path, JSON.stringify(v1));
  const old = readManifest(join(modelsDir, 'bert'));
  assert.equal(old.version, 1);
  assert.deepEqual(old.limits, { maxBatch: DEFAULT_MAX_BATCH, maxSeq: DEFAULT_MAX_SEQ });
  assert.throws(() => validateManifest({ ...v1, version: 2 }, 'm.json'), /m\.json: limits\.maxBatch must be an integer >= 1/);
  assert.throws(() => validateManifest({ ...v1, version: 2, limits: { maxBatch: 4, maxSeq: null } }, 'm.json'), /limits\.maxSeq must be an integer >= 1 \(the model takes a sequence length\)/);
  assert.throws(() => validateManifest({ ...v1, version: 3 }, 'm.json'), /manifest version 3 is not supported \(this abacus reads versions 1, 2\)/);
  assert.equal(validateManifest({ ...v1, version: 2, limits: { maxBatch: 4, maxSeq: 128 } }, 'm.json').limits.maxSeq, 128);
});
