import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCudaProviderOptions, setCudaProviderOptions, cudaProviderReport, keepsActivationsOnDevice, cudaOptionsShimActive, deviceOutputNeedsReadback, CUDA_READBACK_SYNC_ENV } from '../../src/executor/index.js';
import { UnavailableError, InputError } from '../../src/common/errors.js';
import { cudaFacts } from '../../src/common/provenance.js';
import { runCli } from '../helpers/cli.js';

test('CUDA provider options are parsed as key=value with onnxruntime names; unknown keys and bad pairs are refused', () => {
  assert.deepEqual(parseCudaProviderOptions(['cudnn_conv_algo_search=HEURISTIC', 'do_copy_in_default_stream=0;prefer_nhwc=1']), {
    cudnn_conv_algo_search: 'HEURISTIC',
    do_copy_in_default_stream: '0',
    prefer_nhwc: '1',
  });
  assert.throws(() => parseCudaProviderOptions(['cudnn_algo=1']), (e: unknown) => e instanceof InputError && /unknown CUDA provider option 'cudnn_algo'/.test(e.message));
  assert.throws(() => parseCudaProviderOptions(['enable_cuda_graph']), /expected key=value/);
  // measured on the H200: the provider segfaults with CUDA graphs on host-memory inputs
  assert.throws(() => parseCudaProviderOptions(['enable_cuda_graph=1']), /enable_cuda_graph=1 is refused.*segmentation fault/);
  assert.deepEqual(parseCudaProviderOptions(['enable_cuda_graph=0']), { enable_cuda_graph: '0' });
  assert.throws(() => parseCudaProviderOptions(['=1']), /expected key=value/);
});

test('asking for CUDA provider options without the preloaded shim is an error, never a silent no-op; defaults only warn', () => {
  assert.equal(cudaOptionsShimActive(), false, 'this test runs without LD_PRELOAD of the shim');
  assert.throws(() => setCudaProviderOptions({ do_copy_in_default_stream: '0' }), (e: unknown) => e instanceof UnavailableError && /LD_PRELOAD/.test(e.message) && /deviceId/.test(e.message));
  assert.equal(process.env.ABACUS_CUDA_PROVIDER_OPTIONS, undefined);
  setCudaProviderOptions({ do_copy_in_default_stream: '0' }, false);
  assert.equal(process.env.ABACUS_CUDA_PROVIDER_OPTIONS, undefined, 'unapplied defaults are not recorded as asked for');
  assert.deepEqual(cudaProviderReport(), { shim: false, deviceActivations: false, requested: {}, effective: null });
});

test('cuda activations cross host memory between segments unless the shim keeps them on the device; webgpu keeps them there', () => {
  assert.equal(keepsActivationsOnDevice('cuda'), false);
  assert.equal(keepsActivationsOnDevice('webgpu'), true);
  assert.equal(keepsActivationsOnDevice('cpu'), false);
  // the shim announces device activations through the process environment it shares with the app
  const saved = process.env.ABACUS_CUDA_OPTIONS_SHIM;
  process.env.ABACUS_CUDA_OPTIONS_SHIM = 'active-device-activations';
  try {
    assert.equal(keepsActivationsOnDevice('cuda'), true);
    assert.equal(keepsActivationsOnDevice('cpu'), false);
    assert.equal(cudaProviderReport().deviceActivations, true);
  } finally {
    if (saved === undefined) delete process.env.ABACUS_CUDA_OPTIONS_SHIM;
    else process.env.ABACUS_CUDA_OPTIONS_SHIM = saved;
  }
});

test('provenance of a cuda run names the CUDA libraries found on LD_LIBRARY_PATH', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cuda-libs-'));
  for (const f of ['libcudart.so.13', 'libcudart.so.13.0.96', 'libcublas.so.13.1.0.3', 'libcudnn.so.9', 'libcudnn.so.9.14.0', 'unrelated.so']) writeFileSync(join(dir, f), '');
  const saved = process.env.LD_LIBRARY_PATH;
  process.env.LD_LIBRARY_PATH = `/nonexistent:${dir}`;
  try {
    const facts = cudaFacts();
    assert.deepEqual(facts.libraries, { cudart: '13.0.96', cublas: '13.1.0.3', cudnn: '9.14.0' });
  } finally {
    if (saved === undefined) delete process.env.LD_LIBRARY_PATH;
    else process.env.LD_LIBRARY_PATH = saved;
  }
});

test('--cuda-option is refused with a clear error unless --ep cuda', () => {
  const r = runCli(['bench', 'executor', '--models', 'resnet50', '--ep', 'cpu', '--cuda-option', 'do_copy_in_default_stream=0']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--cuda-option needs --ep cuda/);
  const bad = runCli(['profile', '--model-num', '2', '--ep', 'cuda', '--cuda-option', 'nope=1']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown CUDA provider option 'nope'/);
});

// after the libraries test: cudaFacts caches the libraries it finds on first use
test('a device output is read back before its segment counts as finished on webgpu, not on cuda (onnxruntime syncs its stream) unless asked', () => {
  assert.equal(deviceOutputNeedsReadback('webgpu'), true);
  assert.equal(deviceOutputNeedsReadback('cpu'), false);
  const saved = process.env[CUDA_READBACK_SYNC_ENV];
  delete process.env[CUDA_READBACK_SYNC_ENV];
  try {
    assert.equal(deviceOutputNeedsReadback('cuda'), false);
    assert.equal(cudaFacts().readbackSync, false);
    process.env[CUDA_READBACK_SYNC_ENV] = '1';
    assert.equal(deviceOutputNeedsReadback('cuda'), true);
    assert.equal(cudaFacts().readbackSync, true, 'provenance says which synchronisation a cuda result was measured with');
  } finally {
    if (saved === undefined) delete process.env[CUDA_READBACK_SYNC_ENV];
    else process.env[CUDA_READBACK_SYNC_ENV] = saved;
  }
});
