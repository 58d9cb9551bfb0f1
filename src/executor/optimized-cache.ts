/**
 * The cached optimised whole-model graph of a model folder: onnxruntime's CPU provider at the `all` level
 * (NCHWc layouts, fusions), saved once by onnxruntime itself and reused by every service of the model.
 * The graph depends on the model, the onnxruntime version and the processor (the NCHWc block size follows
 * the vector ISA), so the cache is keyed by all three:
 *
 *   <model-dir>/.opt-<key>.json                 the record (written last: the cache exists once it does)
 *   <model-dir>/.opt-<key>-<nonce>.onnx         the graph (weights external)
 *   <model-dir>/.opt-<key>-<nonce>.onnx.data    its weights, as onnxruntime laid them out
 *
 * The nonce keeps concurrent builders (two processes starting the same model) from mixing one's graph
 * with the other's weights: each renames its own pair into place and the record names one pair. A
 * record that does not match (another key, a changed file, a wrong size or sha256) is rebuilt.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, readdirSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { arch, cpus, platform } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import * as ort from 'onnxruntime-node';
import { sha256File } from '../onnx/index.js';
import { writeJsonAtomic } from '../common/fsutil.js';
import { errorMessage } from '../common/errors.js';
import type { Manifest } from '../zoo/manifest.js';

export const OPTIMIZED_FORMAT = 'abacus.optimized-graph';
export const OPTIMIZED_VERSION = 1;

/** What the optimised graph depends on. */
export interface OptimizedCacheKey {
  modelSha256: string;
  externalDataSha256: string | null;
  onnxruntime: string;
  /** Hash of the processor's ISA features (see `cpuKey`). */
  cpu: string;
  level: 'all';
}

export interface OptimizedRecord extends OptimizedCacheKey {
  format: typeof OPTIMIZED_FORMAT;
  version: typeof OPTIMIZED_VERSION;
  key: string;
  /** The graph file, in the model folder. */
  file: string;
  sha256: string;
  /** Its external weights file, in the model folder (null: every weight is inside the graph file). */
  data: string | null;
  dataBytes: number;
  dataSha256: string | null;
  createdAt: string;
}

export interface OptimizedModel {
  path: string;
  record: OptimizedRecord;
  /** `hit`: a valid cache was found; `built`: none existed; `rebuilt`: one existed and was unusable. */
  cache: 'hit' | 'built' | 'rebuilt';
  /** Why an existing cache was rebuilt. */
  rebuildReason: string | null;
}

/**
 * The processor's instruction-set features (x86 `flags`, Arm `Features` of /proc/cpuinfo), architecture and
 * platform, hashed: what decides the kernels and the NCHWc block size onnxruntime plans the graph for.
 * Where /proc/cpuinfo is absent, the CPU model name stands in for the features.
 */
export function cpuKey(cpuinfo: string | null = readCpuinfo()): string {
  const features = cpuinfo?.match(/^(?:flags|Features)\s*:\s*(.*)$/m)?.[1]?.trim().split(/\s+/).sort().join(' ');
  const what = features ? `features ${features}` : `model ${cpus()[0]?.model ?? 'unknown'}`;
  return createHash('sha256').update(`${platform()} ${arch()} ${what}`).digest('hex').slice(0, 16);
}

function readCpuinfo(): string | null {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return null;
  }
}

export function onnxruntimeVersion(): string {
  return ort.env.versions.node ?? ort.env.versions.common;
}

export function optimizedCacheKey(manifest: Manifest, cpu = cpuKey(), onnxruntime = onnxruntimeVersion()): { key: string; fields: OptimizedCacheKey } {
  const fields: OptimizedCacheKey = { modelSha256: manifest.model.sha256, externalDataSha256: manifest.model.externalDataSha256, onnxruntime, cpu, level: 'all' };
  const key = createHash('sha256').update(JSON.stringify(fields)).digest('hex').slice(0, 16);
  return { key, fields };
}

export function optimizedRecordPath(modelDir: string, key: string): string {
  return join(modelDir, `.opt-${key}.json`);
}

/** A cached graph that matches `manifest` here, or why there is none (missing, stale or corrupt). */
export function checkOptimizedCache(modelDir: string, manifest: Manifest): { ok: true; path: string; record: OptimizedRecord } | { ok: false; reason: string; exists: boolean } {
  const { key, fields } = optimizedCacheKey(manifest);
  const recordPath = optimizedRecordPath(modelDir, key);
  if (!existsSync(recordPath)) return { ok: false, reason: 'no cached optimised graph', exists: false };
  const bad = (why: string) => ({ ok: false as const, reason: `${recordPath}: ${why}`, exists: true });
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(recordPath, 'utf8'));
  } catch (err) {
    return bad(`not valid JSON (${errorMessage(err)})`);
  }
  if (typeof value !== 'object' || value === null) return bad('not a record');
  const r = value as Partial<OptimizedRecord>;
  if (r.format !== OPTIMIZED_FORMAT || r.version !== OPTIMIZED_VERSION) return bad(`format ${String(r.format)} v${String(r.version)}, expected ${OPTIMIZED_FORMAT} v${OPTIMIZED_VERSION}`);
  for (const k of Object.keys(fields) as Array<keyof OptimizedCacheKey>) {
    if (r[k] !== fields[k]) return bad(`stale (${k} is ${JSON.stringify(r[k])}, now ${JSON.stringify(fields[k])})`);
  }
  const ownName = (n: unknown): n is string => typeof n === 'string' && n.startsWith(`.opt-${key}-`) && !n.includes('/') && !n.includes('\\');
  if (r.key !== key || !ownName(r.file) || !(r.data === null || ownName(r.data))) return bad('names files that are not this cache\'s');
  if (typeof r.sha256 !== 'string' || typeof r.dataBytes !== 'number' || !(r.dataSha256 === null || typeof r.dataSha256 === 'string')) return bad('incomplete record');
  const path = join(modelDir, r.file);
  if (!existsSync(path)) return bad(`its graph ${r.file} is missing`);
  if (sha256File(path) !== r.sha256) return bad(`its graph ${r.file} has changed (sha256)`);
  if (r.data !== null) {
    const data = join(modelDir, r.data);
    if (!existsSync(data)) return bad(`its weights ${r.data} are missing`);
    const bytes = statSync(data).size;
    if (bytes !== r.dataBytes) return bad(`its weights ${r.data} hold ${bytes} bytes, not ${r.dataBytes}`);
    if (sha256File(data) !== r.dataSha256) return bad(`its weights ${r.data} have changed (sha256)`);
  }
  return { ok: true, path, record: r as OptimizedRecord };
}

function fsyncFile(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Have onnxruntime optimise the whole model and save the graph into the cache (replacing what was there). */
export async function buildOptimizedModel(modelDir: string, manifest: Manifest): Promise<{ path: string; record: OptimizedRecord }> {
  const { key, fields } = optimizedCacheKey(manifest);
  const nonce = randomBytes(4).toString('hex');
  const file = `.opt-${key}-${nonce}.onnx`;
  const dataName = `${file}.data`;
  const staging = join(modelDir, `.opt-${key}.staging-${process.pid}-${nonce}`);
  mkdirSync(staging);
  try {
    const session = await ort.InferenceSession.create(join(modelDir, manifest.model.file), {
      graphOptimizationLevel: 'all',
      executionProviders: ['cpu'],
      executionMode: 'sequential',
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      logSeverityLevel: 3,
      optimizedModelFilePath: join(staging, file),
      extra: {
        session: {
          intra_op: { allow_spinning: '0' },
          inter_op: { allow_spinning: '0' },
          optimized_model_external_initializers_file_name: dataName,
          optimized_model_external_initializers_min_size_in_bytes: '1024',
        },
      },
    });
    await session.release();
    const stagedGraph = join(staging, file);
    const stagedData = join(staging, dataName);
    if (!existsSync(stagedGraph)) throw new Error(`onnxruntime did not write the optimised graph ${stagedGraph}`);
    const hasData = existsSync(stagedData);
    fsyncFile(stagedGraph);
    if (hasData) fsyncFile(stagedData);
    const record: OptimizedRecord = {
      format: OPTIMIZED_FORMAT,
      version: OPTIMIZED_VERSION,
      key,
      ...fields,
      file,
      sha256: sha256File(stagedGraph),
      data: hasData ? dataName : null,
      dataBytes: hasData ? statSync(stagedData).size : 0,
      dataSha256: hasData ? sha256File(stagedData) : null,
      createdAt: new Date().toISOString(),
    };
    // A concurrent builder may have finished first: then its graph is the cache and ours is dropped.
    const now = checkOptimizedCache(modelDir, manifest);
    if (now.ok) return { path: now.path, record: now.record };
    const recordPath = optimizedRecordPath(modelDir, key);
    const stale = now.exists ? recordedGraphs(recordPath, key) : [];
    // weights first, then the graph, then the record that makes them the cache
    if (hasData) renameSync(stagedData, join(modelDir, dataName));
    renameSync(stagedGraph, join(modelDir, file));
    writeJsonAtomic(recordPath, record);
    for (const old of stale) if (old !== file) removeGraphFiles(modelDir, old);
    return { path: join(modelDir, file), record };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** The graph file an unusable record of this key names (its weights and segments share its prefix). */
function recordedGraphs(recordPath: string, key: string): string[] {
  try {
    const r = JSON.parse(readFileSync(recordPath, 'utf8')) as Partial<OptimizedRecord>;
    return typeof r.file === 'string' && /^\.opt-[0-9a-f]+-[0-9a-f]+\.onnx$/.test(r.file) && r.file.startsWith(`.opt-${key}-`) ? [r.file] : [];
  } catch {
    return [];
  }
}

/** Remove a replaced graph with its weights and the segment graphs cut from it. */
function removeGraphFiles(modelDir: string, graphFile: string): void {
  const prefix = `${graphFile.replace(/\.onnx$/, '')}.`;
  for (const name of readdirSync(modelDir)) if (name.startsWith(prefix)) rmSync(join(modelDir, name), { force: true });
}

/** Where the segment graph of operators [start, end) cut from a cached optimised graph lives. */
export function optimizedSegmentPath(modelDir: string, record: OptimizedRecord, start: number, end: number): string {
  return join(modelDir, `${record.file.replace(/\.onnx$/, '')}.seg-${start}-${end}.onnx`);
}

/** The cached optimised graph of a model folder, built (or rebuilt) when missing, stale or corrupt. */
export async function ensureOptimizedModel(modelDir: string, manifest: Manifest): Promise<OptimizedModel> {
  const found = checkOptimizedCache(modelDir, manifest);
  if (found.ok) return { path: found.path, record: found.record, cache: 'hit', rebuildReason: null };
  cleanStaleOptimizedStaging(modelDir);
  const built = await buildOptimizedModel(modelDir, manifest);
  return { ...built, cache: found.exists ? 'rebuilt' : 'built', rebuildReason: found.exists ? found.reason : null };
}

/** Remove staging folders of optimised graphs that a killed build left behind (older than a minute). */
function cleanStaleOptimizedStaging(modelDir: string): void {
  for (const name of readdirSync(modelDir)) {
    if (!name.startsWith('.opt-') || !name.includes('.staging-')) continue;
    const path = join(modelDir, name);
    try {
      if (Date.now() - statSync(path).mtimeMs > 60_000) rmSync(path, { recursive: true, force: true });
    } catch {
      // another process removed it first
    }
  }
}
