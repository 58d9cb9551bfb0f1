/**
 * Execution providers through onnxruntime-node. `cpu` and `webgpu` ship inside the npm package; the
 * CUDA EP needs the provider libraries of the same ORT release (1.29.0), which the install skips (package.json's
 * allowScripts denies onnxruntime-node's postinstall, which would fetch them from NuGet): asking for it without
 * them fails at start with instructions, never a silent fallback to the CPU.
 *
 * CUDA provider options: onnxruntime-node 1.29's binding passes only `deviceId` to the CUDA provider, so
 * options such as `cudnn_conv_algo_search` or `do_copy_in_default_stream` reach it only through the
 * preloaded shim of scripts/gpu/cuda-options (LD_PRELOAD), which applies ABACUS_CUDA_PROVIDER_OPTIONS at
 * every CUDA session's creation. Asking for options without the shim is an error, not a silent no-op.
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
  'With internet access on a Linux x64 machine with CUDA 12.x and cuDNN 9, onnxruntime-node 1.29.0 installs it itself: set "onnxruntime-node": true under ' +
  'allowScripts in package.json and run `npm install onnxruntime-node@1.29.0 --onnxruntime-node-install=cuda12` (or `ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node`), which ' +
  "downloads ORT 1.29.0's CUDA 12 provider (libonnxruntime_providers_cuda.so, libonnxruntime_providers_shared.so) from NuGet " +
  'next to the ORT binary. That release ships no CUDA 13 build through NuGet: on a CUDA 13 machine (such as the H200 here) ' +
  "take ORT 1.29.0's CUDA 13 provider libraries (scripts/gpu/cuda-pack.sh does, see scripts/gpu/README.md) and put them in that folder";

/** CUDA provider options the shim passes on (onnxruntime's own names); anything else is refused up front. */
export const CUDA_PROVIDER_OPTION_KEYS = [
  'cudnn_conv_algo_search',
  'cudnn_conv_use_max_workspace',
  'cudnn_conv1d_pad_to_nc1d',
  'do_copy_in_default_stream',
  'enable_cuda_graph',
  'arena_extend_strategy',
  'gpu_mem_limit',
  'use_tf32',
  'prefer_nhwc',
  'enable_skip_layer_norm_strict_mode',
  'tunable_op_enable',
  'tunable_op_tuning_enable',
] as const;

const CUDA_OPTIONS_ENV = 'ABACUS_CUDA_PROVIDER_OPTIONS';

/**
 * CUDA provider options abacus asks for unless told otherwise (`--cuda-option` overrides each): chosen by
 * measurement on the H200 (data/h200-cuda/bench/options, docs/results.md); empty means onnxruntime's defaults.
 */
export const DEFAULT_CUDA_PROVIDER_OPTIONS: Readonly<Record<string, string>> = {};

/** `key=value` pairs (from a flag) as CUDA provider options, keys checked against the known list. */
export function parseCudaProviderOptions(pairs: readonly string[]): Record<string, string> {
  const options: Record<string, string> = {};
  for (const pair of pairs.flatMap((p) => p.split(/[;,]/)).filter((p) => p.trim().length > 0)) {
    const eq = pair.indexOf('=');
    const key = eq > 0 ? pair.slice(0, eq).trim() : '';
    const value = eq > 0 ? pair.slice(eq + 1).trim() : '';
    if (!key || !value) throw new InputError(`bad CUDA provider option '${pair}': expected key=value`);
    if (!(CUDA_PROVIDER_OPTION_KEYS as readonly string[]).includes(key)) {
      throw new InputError(`unknown CUDA provider option '${key}': expected one of ${CUDA_PROVIDER_OPTION_KEYS.join(', ')}`);
    }
    if (key === 'enable_cuda_graph' && value !== '0') {
      throw new InputError(
        "CUDA provider option enable_cuda_graph=1 is refused: onnxruntime 1.29's CUDA provider crashed the process (segmentation fault) with it on the H200 " +
          '(data/h200-cuda/bench/options); CUDA graphs replay fixed device addresses, and onnxruntime-node hands every segment its inputs and outputs in host memory',
      );
    }
    options[key] = value;
  }
  return options;
}

/** Whether the options shim is preloaded and onnxruntime-node's binding took its table. */
export function cudaOptionsShimActive(): boolean {
  const state = process.env.ABACUS_CUDA_OPTIONS_SHIM;
  return state === 'active' || state === 'active-device-activations';
}

/**
 * Whether the shim keeps CUDA outputs in device memory (ABACUS_CUDA_DEVICE_ACTIVATIONS=1 when node started):
 * it gives the binding's 'gpu-buffer' output location CUDA device memory (see scripts/gpu/cuda-options/shim.c).
 */
export function cudaDeviceActivations(): boolean {
  return process.env.ABACUS_CUDA_OPTIONS_SHIM === 'active-device-activations';
}

/**
 * Ask for CUDA provider options for every CUDA session this process creates from now on (worker
 * threads included: they share the process environment the shim reads). Empty options clear them.
 */
export function setCudaProviderOptions(options: Readonly<Record<string, string>>, explicit = true): void {
  const entries = Object.entries(options);
  if (entries.length === 0) {
    delete process.env[CUDA_OPTIONS_ENV];
    return;
  }
  if (!cudaOptionsShimActive() && !explicit) {
    // the measured defaults are a tuning, not a requirement: say once that onnxruntime's own defaults apply
    process.stderr.write(`abacus: warning: the CUDA options shim is not preloaded, so the default CUDA provider options (${entries.map(([k, v]) => `${k}=${v}`).join(', ')}) are not applied; onnxruntime's own defaults are used\n`);
    delete process.env[CUDA_OPTIONS_ENV];
    return;
  }
  if (!cudaOptionsShimActive()) {
    throw new UnavailableError(
      `CUDA provider options (${entries.map(([k, v]) => `${k}=${v}`).join(', ')}) need the options shim: onnxruntime-node 1.29 passes only deviceId to the CUDA provider. ` +
        'Build it with scripts/gpu/build-cuda-options.sh and start node with LD_PRELOAD=<path>/libabacus_cuda_options.so (scripts/gpu/cuda-pack.sh and cuda-boot.sh do both)',
    );
  }
  process.env[CUDA_OPTIONS_ENV] = entries.map(([k, v]) => `${k}=${v}`).join(';');
}

/** What the CUDA sessions of this process are created with: the options asked for and, once a session exists, the provider's effective options. */
export function cudaProviderReport(): { shim: boolean; deviceActivations: boolean; requested: Record<string, string>; effective: Record<string, string> | null } {
  const parse = (text: string | undefined): Record<string, string> =>
    Object.fromEntries(
      (text ?? '')
        .split(/[;,]/)
        .map((p) => p.split('='))
        .filter((kv): kv is [string, string] => kv.length === 2 && kv[0]!.length > 0)
        .map(([k, v]) => [k.trim(), v.trim()]),
    );
  const effective = process.env.ABACUS_CUDA_EFFECTIVE_OPTIONS;
  return { shim: cudaOptionsShimActive(), deviceActivations: cudaDeviceActivations(), requested: parse(process.env[CUDA_OPTIONS_ENV]), effective: effective ? parse(effective) : null };
}

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
      // callers ask for outputOnDevice only where keepsActivationsOnDevice says so ('gpu-buffer' is CUDA device
      // memory only through the shim)
      return {
        ...base,
        executionProviders: [{ name: 'cuda', deviceId: config.deviceId }],
        ...(outputOnDevice ? { preferredOutputLocation: 'gpu-buffer' as const } : {}),
      };
  }
}

/**
 * Whether a provider keeps a query's activation on the device between its segments. webgpu does
 * ('gpu-buffer' outputs). cuda does only through the shim's device activations: onnxruntime-node 1.29 alone
 * cannot ('gpu-buffer' fails at run, 'cpu-pinned' returns a plain cpu tensor), and then its activations cross
 * host memory, into reused preallocated buffers.
 */
export function keepsActivationsOnDevice(ep: ExecutionProviderName): boolean {
  return ep === 'webgpu' || (ep === 'cuda' && cudaDeviceActivations());
}

/** Environment variable that brings back the one-element read-back after each cuda segment (for comparison). */
export const CUDA_READBACK_SYNC_ENV = 'ABACUS_CUDA_READBACK_SYNC';

/**
 * Whether a segment whose output stays on the device must read one element back before it counts as
 * finished. webgpu must: its run returns once the kernels are submitted. cuda need not: onnxruntime
 * synchronizes the session's CUDA stream before `run` returns (its run option
 * `disable_synchronize_execution_providers` is off by default), so the read-back only adds a second session
 * run per segment. `ABACUS_CUDA_READBACK_SYNC=1` brings it back, to measure the difference.
 */
export function deviceOutputNeedsReadback(ep: ExecutionProviderName): boolean {
  if (ep === 'webgpu') return true;
  if (ep === 'cuda') return process.env[CUDA_READBACK_SYNC_ENV] === '1';
  return false;
}

/** Environment variable that turns cuda's one-session-per-shape off ('0') or on for every model ('1'). */
export const CUDA_SESSION_PER_SHAPE_ENV = 'ABACUS_CUDA_SESSION_PER_SHAPE';

/**
 * Whether a service keeps one session per (range, batch, seq). On cuda it does by default for a model with
 * convolutions: serving on the H200 (2026-12-03, data/h200-cuda/experiments) measured a whole query taking
 * 250 ms (resnet101), 407 ms (resnet152) and 105 ms (vgg19) when the batch size differed from the session's
 * previous run, against 6.1, 8.8 and 2.5 ms when it did not: about 2.5 ms per convolution, as if each re-set up
 * its cuDNN state for the new shape. BERT (no convolutions) did not slow (3.9 against 3.8 ms), so it keeps one
 * session per range: its 16 (batch, seq) shapes would multiply its sessions for nothing. Profiles and
 * benchmarks repeat one shape, so they never saw it. A session per shape never changes shape.
 * `ABACUS_CUDA_SESSION_PER_SHAPE=0` turns it off, `=1` turns it on for every model. cpu and webgpu: one session
 * per range.
 */
export function sessionPerShapeFor(ep: ExecutionProviderName, hasConvolutions = true): boolean {
  if (ep !== 'cuda') return false;
  const env = process.env[CUDA_SESSION_PER_SHAPE_ENV];
  if (env === '0') return false;
  if (env === '1') return true;
  return hasConvolutions;
}

/** Which host kind a provider needs: webgpu sessions abort the process inside a worker thread. */
export function hostKindFor(ep: ExecutionProviderName): 'thread' | 'process' {
  return ep === 'webgpu' ? 'process' : 'thread';
}
