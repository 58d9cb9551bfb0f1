/**
 * Provenance recorded in every result file: the command, the git commit, the execution provider, the
 * hardware and the library versions, so that a number can be traced to what produced it.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { cpus, totalmem, hostname, platform, arch, release } from 'node:os';
import { createRequire } from 'node:module';

export interface Provenance {
  command: string;
  createdAt: string;
  gitCommit: string | null;
  gitDirty: boolean | null;
  executionProvider?: string;
  hardware: { cpuModel: string; cpuCount: number; memoryBytes: number; hostname: string; platform: string; arch: string; kernel: string; gpu?: string };
  versions: Record<string, string>;
  seed?: number;
  /** cuda runs: the CUDA stack the provider ran on and the provider options it was created with. */
  cuda?: CudaFacts;
}

export interface CudaFacts {
  /** Highest CUDA version the driver supports (nvidia-smi's "CUDA Version"). */
  driverCudaVersion: string | null;
  /** Versions of the CUDA runtime, cuBLAS and cuDNN libraries found on LD_LIBRARY_PATH (from their file names). */
  libraries: Record<string, string>;
  /** Provider options asked for (ABACUS_CUDA_PROVIDER_OPTIONS) and effective (as the provider reported them through the options shim). */
  providerOptionsRequested: string | null;
  providerOptionsEffective: string | null;
  /** Activations between segments stayed in CUDA device memory (the options shim's device activations), not host memory. */
  deviceActivations: boolean;
  /** Each segment read one element of its device output back before it counted as finished (ABACUS_CUDA_READBACK_SYNC=1); otherwise onnxruntime's own stream synchronisation at the end of run. */
  readbackSync: boolean;
  /** Services kept one session per (range, batch, seq): 'conv-models' (the default: models with convolutions), 'all' (ABACUS_CUDA_SESSION_PER_SHAPE=1) or 'none' (=0). */
  sessionPerShape: 'conv-models' | 'all' | 'none';
}

const require = createRequire(import.meta.url);

function ownVersion(): string {
  // src/common/ or dist/common/ → the package root is two levels up
  try {
    const url = new URL('../../package.json', import.meta.url);
    return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function packageVersion(name: string): string {
  try {
    const path = require.resolve(`${name}/package.json`);
    return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

/** The git commit abacus runs from: ABACUS_GIT_COMMIT (set in container images), else `git rev-parse HEAD`; null when neither. */
export function gitCommit(): string | null {
  return process.env.ABACUS_GIT_COMMIT ?? git(['rev-parse', 'HEAD']);
}

let cachedGpu: string | null | undefined;

/** The GPU(s) as nvidia-smi names them, or null where there is none (or no nvidia-smi). Asked once. */
export function gpuName(): string | null {
  if (cachedGpu !== undefined) return cachedGpu;
  try {
    const names = execFileSync('nvidia-smi', ['--query-gpu=name,memory.total,driver_version', '--format=csv,noheader'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 })
      .trim()
      .split('\n')
      .filter((l) => l.length > 0);
    cachedGpu = names.length > 0 ? names.join('; ') : null;
  } catch {
    cachedGpu = null;
  }
  return cachedGpu;
}

let cachedCuda: Pick<CudaFacts, 'driverCudaVersion' | 'libraries'> | undefined;

/** The CUDA stack of this machine as far as it can be read without loading it. Asked once. */
export function cudaFacts(): CudaFacts {
  if (!cachedCuda) {
    let driverCudaVersion: string | null = null;
    try {
      const text = execFileSync('nvidia-smi', [], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 });
      driverCudaVersion = /CUDA Version:\s*([\d.]+)/.exec(text)?.[1] ?? null;
    } catch {
      driverCudaVersion = null;
    }
    const libraries: Record<string, string> = {};
    const wanted: Array<[string, RegExp]> = [
      ['cudart', /^libcudart\.so\.(\d+(?:\.\d+)+)$/],
      ['cublas', /^libcublas\.so\.(\d+(?:\.\d+)+)$/],
      ['cudnn', /^libcudnn\.so\.(\d+(?:\.\d+)*)$/],
    ];
    for (const dir of (process.env.LD_LIBRARY_PATH ?? '').split(':').filter((d) => d.length > 0)) {
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        continue;
      }
      for (const [lib, re] of wanted) {
        if (libraries[lib]) continue;
        const found = names.map((n) => re.exec(n)?.[1]).filter((v): v is string => v !== undefined).sort((a, b) => b.length - a.length)[0];
        if (found) libraries[lib] = found;
      }
    }
    cachedCuda = { driverCudaVersion, libraries };
  }
  // the options can change between runs of one process: read them each time
  return {
    ...cachedCuda,
    providerOptionsRequested: process.env.ABACUS_CUDA_PROVIDER_OPTIONS ?? null,
    providerOptionsEffective: process.env.ABACUS_CUDA_EFFECTIVE_OPTIONS ?? null,
    deviceActivations: process.env.ABACUS_CUDA_OPTIONS_SHIM === 'active-device-activations',
    readbackSync: process.env.ABACUS_CUDA_READBACK_SYNC === '1',
    sessionPerShape: process.env.ABACUS_CUDA_SESSION_PER_SHAPE === '0' ? 'none' : process.env.ABACUS_CUDA_SESSION_PER_SHAPE === '1' ? 'all' : 'conv-models',
  };
}

let cachedVersions: Record<string, string> | null = null;

export function libraryVersions(): Record<string, string> {
  if (cachedVersions) return cachedVersions;
  cachedVersions = {
    node: process.versions.node,
    abacus: ownVersion(),
    'onnxruntime-node': packageVersion('onnxruntime-node'),
  };
  return cachedVersions;
}

/**
 * Describe this run. `extra` adds or overrides fields (execution provider, seed, GPU name). For an
 * accelerator provider the GPU is read from nvidia-smi when not given.
 */
export function collectProvenance(extra: { executionProvider?: string; seed?: number; gpu?: string; command?: string } = {}): Provenance {
  const ep = extra.executionProvider;
  const gpu = extra.gpu ?? (ep !== undefined && ep !== 'cpu' && ep !== 'simulated' ? gpuName() : null);
  const commit = gitCommit();
  const status = process.env.ABACUS_GIT_COMMIT ? null : git(['status', '--porcelain', '--untracked-files=no']);
  const cpuList = cpus();
  const prov: Provenance = {
    command: extra.command ?? ['abacus', ...process.argv.slice(2)].join(' '),
    createdAt: new Date().toISOString(),
    gitCommit: commit,
    gitDirty: status === null ? null : status.length > 0,
    hardware: {
      cpuModel: cpuList[0]?.model ?? 'unknown',
      cpuCount: cpuList.length,
      memoryBytes: totalmem(),
      hostname: hostname(),
      platform: platform(),
      arch: arch(),
      kernel: release(),
      ...(gpu ? { gpu } : {}),
    },
    versions: libraryVersions(),
  };
  if (extra.executionProvider) prov.executionProvider = extra.executionProvider;
  if (extra.seed !== undefined) prov.seed = extra.seed;
  if (ep === 'cuda') prov.cuda = cudaFacts();
  return prov;
}
