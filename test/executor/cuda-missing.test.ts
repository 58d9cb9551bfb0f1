import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkExecutionProvider, parseExecutionProvider, Executor } from '../../src/executor/index.js';
import { UnavailableError } from '../../src/common/errors.js';

test('asking for the CUDA EP without its libraries fails at start with install instructions', async () => {
  const emptyBinDir = mkdtempSync(join(tmpdir(), 'ort-bin-'));
  assert.throws(
    () => checkExecutionProvider('cuda', emptyBinDir),
    (err: unknown) => err instanceof UnavailableError && /ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node/.test(err.message) && /libonnxruntime_providers_cuda\.so/.test(err.message),
  );
  // On this machine the CUDA EP is not installed (the default install skips it): the executor refuses
  // the service before starting a host, instead of silently running on the CPU.
  const ex = new Executor();
  await assert.rejects(ex.addService({ modelDir: '/nonexistent', ep: 'cuda' }), (err: unknown) => err instanceof UnavailableError);
  assert.deepEqual(ex.services, []);
});

test('execution provider names are checked', () => {
  assert.equal(parseExecutionProvider('WebGPU'), 'webgpu');
  assert.throws(() => parseExecutionProvider('tpu'), /unknown execution provider 'tpu'/);
});
