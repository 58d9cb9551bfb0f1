/**
 * Execution providers through onnxruntime-node. `cpu` and `webgpu` ship inside the npm package; the
 * CUDA EP needs ORT's CUDA 12 provider libraries, which the install skips (package.json's allowScripts denies
 * onnxruntime-node's postinstall, which would fetch them from NuGet): asking for
 * it without them fails at start with instructions, never a silent fallback to the CPU.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import * as ort from 'onnxruntime-node';
import { UnavailableError, InputError } from '../common/errors.js';
import { EXECUTION_PROVIDERS, type ExecutionProviderName, type ServiceConfig } from './types.js';

const require = createRequire(import.meta.url);

export function parseExecutionProvider(value: string): ExecutionProviderName {
  const ep = value.trim().toLowerCase();
  if (!(EXECUTION_PROVIDERS as readonly string[]).includes(ep)) {
    throw new InputError(`unknown execution provider '${value}': expected one of ${EXECUTION_PROVIDERS.join(', ')}`);
  }
  return ep as ExecutionProviderName;
}

/** Folder of onnxruntime-node's native binaries for this platform. */
export function ortBinaryDir(): string {
  const pkg = dirname(require.resolve('onnxruntime-node/package.json'));
  return join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
}

export const CUDA_INSTALL_HINT =
  "the CUDA execution provider is not installed: this project's install skips onnxruntime-node's postinstall (package.json's allowScripts). " +
  'On a Linux x64 machine with CUDA 12 and cuDNN 9 and internet access, set "onnxruntime-node": true under allowScripts in package.json and run ' +
  '`ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node`, ' +
  'which downloads libonnxruntime_providers_cuda.so next to the ORT binary';

/** Throws UnavailableError (with how to install it) when `ep` cannot run here. */
export function checkExecutionProvider(ep: ExecutionProviderName, binaryDir = ortBinaryDir()): void {
  const backends = ort.listSupportedBackends().map((b) => b.name);
  if (ep === 'cpu') return;
  if (ep === 'webgpu') {
    if (!backends.includes('webgpu')) throw new UnavailableError(`the webgpu execution provider is not in this onnxruntime-node build (${process.platform}/${process.arch})`);
    return;
  }
  if (ep === 'cuda') {
    if (process.platform !== 'linux' || process.arch !== 'x64') {
      throw new UnavailableError(`the CUDA execution provider of onnxruntime-node exists for Linux x64 only (this is ${process.platform}/${process.arch})`);
    }
    const lib = join(binaryDir, 'libonnxruntime_providers_cuda.so');
    const shared = join(binaryDir, 'libonnxruntime_providers_shared.so');
    if (!existsSync(lib) || !existsSync(shared)) throw new UnavailableError(`${CUDA_INSTALL_HINT} (missing ${lib})`);
  }
}

/** Session options for one segment session of a service. */
export function sessionOptions(config: ServiceConfig, outputOnDevice: boolean): ort.InferenceSession.SessionOptions {
  const base: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: config.graphOptimizationLevel,
    executionMode: 'sequential',
    intraOpNumThreads: config.intraOpThreads,
    interOpNumThreads: 1,
    logSeverityLevel: 3,
    // Idle sessions must not spin: every service shares the same few cores.
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  };
  switch (config.ep) {
    case 'cpu':
      return { ...base, executionProviders: ['cpu'] };
    case 'webgpu':
      return {
        ...base,
        executionProviders: [{ name: 'webgpu' }],
        ...(outputOnDevice ? { preferredOutputLocation: 'gpu-buffer' as const } : {}),
      };
    case 'cuda':
      return {
        ...base,
        executionProviders: [{ name: 'cuda', deviceId: config.deviceId }],
        ...(outputOnDevice ? { preferredOutputLocation: 'gpu-buffer' as const } : {}),
      };
  }
}

/** Which host kind a provider needs: webgpu sessions abort the process inside a worker thread. */
export function hostKindFor(ep: ExecutionProviderName): 'thread' | 'process' {
  return ep === 'webgpu' ? 'process' : 'thread';
}
