import { test } from 'node:test';
import assert from 'node:assert/strict';
import { activationsSetting } from '../../src/profiler/index.js';

test('a cuda profile records where its activations lived, so that it resumes only in the same mode; other providers record nothing', () => {
  assert.deepEqual(activationsSetting('cuda'), { activations: 'host' });
  assert.deepEqual(activationsSetting('cpu'), {});
  assert.deepEqual(activationsSetting('webgpu'), {});
  const saved = process.env.ABACUS_CUDA_OPTIONS_SHIM;
  process.env.ABACUS_CUDA_OPTIONS_SHIM = 'active-device-activations';
  try {
    assert.deepEqual(activationsSetting('cuda'), { activations: 'device' });
  } finally {
    if (saved === undefined) delete process.env.ABACUS_CUDA_OPTIONS_SHIM;
    else process.env.ABACUS_CUDA_OPTIONS_SHIM = saved;
  }
});
