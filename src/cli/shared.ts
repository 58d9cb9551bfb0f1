/**
 * Conventions every command follows: `--models-dir` (default models/), `--scale`, `--json` (one JSON
 * object on stdout and nothing else there), errors as one line on stderr with exit code 2 for bad input,
 * and zoo models built on demand when missing.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError } from '@commander-js/extra-typings';
import { InputError, errorMessage, exitCodeOf } from '../common/errors.js';
import { parseQosSpec, type QosSpec } from '../controller/index.js';
import { isZooName, zooEntry, ZOO } from '../zoo/catalog.js';
import { ensureZooModel } from '../zoo/build.js';
import { readManifest, type Manifest } from '../zoo/manifest.js';
import type { ZooScale } from '../zoo/definition.js';
import { parseExecutionProvider, parseCudaProviderOptions, setCudaProviderOptions, DEFAULT_CUDA_PROVIDER_OPTIONS, type ExecutionProviderName } from '../executor/index.js';

export interface ResolvedModel {
  manifest: Manifest;
  dir: string;
}

/** Run a command's action: errors become one line on stderr and an exit code (2 for bad input). */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void> | void): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      process.stderr.write(`abacus: ${errorMessage(err)}\n`);
      if (process.env.ABACUS_DEBUG && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
      process.exitCode = exitCodeOf(err);
    }
  };
}

/** Help text of `--cuda-option`, shared by every command that takes `--ep`. */
export const CUDA_OPTION_HELP = 'CUDA provider option key=value (repeatable; needs --ep cuda and the options shim, scripts/gpu/README.md)';

/**
 * `--ep` and `--cuda-option` of a command: the provider, and for cuda the provider options every CUDA
 * session of this process is created with (the measured defaults, overridden by the flags).
 */
export function executionProviderFromFlags(epFlag: string, cudaOptionFlags: readonly string[] | undefined): ExecutionProviderName {
  const ep = parseExecutionProvider(epFlag);
  const asked = parseCudaProviderOptions(cudaOptionFlags ?? []);
  if (ep !== 'cuda') {
    if (Object.keys(asked).length > 0) throw new InputError(`--cuda-option needs --ep cuda (got --ep ${ep})`);
    return ep;
  }
  setCudaProviderOptions({ ...DEFAULT_CUDA_PROVIDER_OPTIONS, ...asked }, Object.keys(asked).length > 0);
  return ep;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

export function parseIntOption(name: string, min = 0): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min} (got '${value}')`);
    return n;
  };
}

export function parseNumberOption(name: string, min = 0): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min) throw new InvalidArgumentError(`${name} must be a number ≥ ${min} (got '${value}')`);
    return n;
  };
}

export function parseIntList(name: string, min = 1): (value: string) => number[] {
  return (value: string) => {
    const parts = value.split(/[\s,]+/).filter((p) => p.length > 0);
    if (parts.length === 0) throw new InvalidArgumentError(`${name} is an empty list`);
    return parts.map((p) => parseIntOption(name, min)(p));
  };
}

/** `--qos`: one target in ms ('50') or one per model ('resnet50=50,bert=30'); errors name the flag and the problem. */
export function parseQosOption(name: string): (value: string) => QosSpec {
  return (value: string) => {
    const asNumber = Number(value.trim());
    if (value.trim() !== '' && Number.isFinite(asNumber) && asNumber <= 0) throw new InvalidArgumentError(`${name} must be a positive number of ms (got '${value}')`);
    try {
      return parseQosSpec(value);
    } catch (err) {
      throw new InvalidArgumentError(`${name}: ${errorMessage(err)}, or one number of ms for every model`);
    }
  };
}

/** A 'lo,hi' bracket of two numbers with min <= lo < hi. */
export function parseRangeOption(name: string, min = 0): (value: string) => [number, number] {
  return (value: string) => {
    const parts = value.split(',').map((p) => p.trim());
    const nums = parts.map(Number);
    if (parts.length !== 2 || parts.some((p) => p === '') || nums.some((n) => !Number.isFinite(n))) throw new InvalidArgumentError(`${name} takes two numbers 'lo,hi' (got '${value}')`);
    const [lo, hi] = nums as [number, number];
    if (lo < min || hi <= lo) throw new InvalidArgumentError(`${name} needs ${min} <= lo < hi (got '${value}')`);
    return [lo, hi];
  };
}

/** A `--trace` that gave no query is an error (a run of nothing would look like a clean one). */
export function requireQueries<T>(tracePath: string, trace: readonly T[]): void {
  if (trace.length > 0) return;
  const first = (readFileSync(tracePath, 'utf8').split(/\r?\n/)[0] ?? '').slice(0, 80);
  throw new InputError(`${tracePath}: the trace holds no queries (expected a header arrival_ms,model,batch,seq,qos_ms and one row per query; its first line is '${first}')`);
}

export function parseScale(value: string): ZooScale {
  if (value !== 'full' && value !== 'tiny') throw new InvalidArgumentError(`--scale must be 'full' or 'tiny' (got '${value}')`);
  return value;
}

/** Split "0 1", "0,1" or repeated values into model references. */
export function modelRefs(values: readonly string[]): string[] {
  const refs = values.flatMap((v) => v.split(/[\s,]+/)).filter((v) => v.length > 0);
  if (refs.length === 0) throw new InputError('empty model list');
  return refs;
}

/**
 * Resolve model references (zoo ids or names, or the names of models a user split into the models
 * folder): a zoo model missing from `modelsDir` is built there on demand at `scale`.
 */
export async function resolveModels(values: readonly string[], modelsDir: string, scale: ZooScale): Promise<ResolvedModel[]> {
  const out: ResolvedModel[] = [];
  for (const ref of modelRefs(values)) {
    const userDir = join(modelsDir, ref);
    if (!isZooName(ref) && !/^\d+$/.test(ref) && existsSync(join(userDir, 'manifest.json'))) {
      out.push({ manifest: readManifest(userDir), dir: userDir });
      continue;
    }
    if (/^\d+$/.test(ref) && Number(ref) >= ZOO.length) {
      const found = userModelById(modelsDir, Number(ref));
      if (found) {
        out.push(found);
        continue;
      }
    }
    const entry = zooEntry(ref);
    const manifest = await ensureZooModel(entry.name, modelsDir, scale);
    out.push({ manifest, dir: join(modelsDir, entry.name) });
  }
  const names = out.map((m) => m.manifest.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new InputError(`model '${dup}' is listed twice`);
  return out;
}

function userModelById(modelsDir: string, id: number): ResolvedModel | null {
  if (!existsSync(modelsDir)) return null;
  for (const name of readdirSync(modelsDir)) {
    const dir = join(modelsDir, name);
    if (!existsSync(join(dir, 'manifest.json'))) continue;
    const manifest = readManifest(dir);
    if (manifest.id === id) return { manifest, dir };
  }
  return null;
}
