/**
 * The segment engine: what runs inside a service's host. It owns the service's ONNX sessions, the
 * prepared inputs per batch size (and sequence length), and the activation of every partially-run query,
 * which stays here (on the device for GPU providers) between the query's segments.
 */
import { existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { readOnnxModel, writeOnnxModel, type LoadedModel, type ElementType } from '../onnx/index.js';
import { operatorRangeModel } from '../zoo/segments.js';
import { activationInput, concreteDims, readManifest, type Manifest } from '../zoo/manifest.js';
import { manifestFeeds } from '../zoo/verify.js';
import { InputError } from '../common/errors.js';
import { tempPathFor } from '../common/fsutil.js';
import { checkExecutionProvider, sessionOptions } from './providers.js';
import type { ServiceConfig } from './types.js';

interface CachedSession {
  session: ort.InferenceSession;
  start: number;
  end: number;
  inputs: string[];
  output: string;
  lastUsed: number;
}

interface QueryState {
  position: number;
  batch: number;
  seq: number;
  /** The activation after `position` operators (null before the first segment). */
  activation: ort.Tensor | null;
  /** The activation's buffer came from the pool and goes back to it once consumed. */
  pooled: boolean;
}

export interface SegmentOutcome {
  sessionsBuilt: number;
  finished: boolean;
  output?: { dims: number[]; data: Float32Array };
}

type CpuArray = Float32Array | Uint16Array;

export class SegmentEngine {
  readonly manifest: Manifest;
  readonly operatorCount: number;
  private readonly loaded: LoadedModel;
  private readonly sessions = new Map<string, CachedSession>();
  private readonly inputs = new Map<string, Record<string, ort.Tensor>>();
  private readonly queries = new Map<string, QueryState>();
  private readonly pool = new Map<number, CpuArray[]>();
  private readonly blocks: number[];
  private readonly onDevice: boolean;
  private readonly dtype: ElementType;
  private useCounter = 0;
  sessionsCreated = 0;

  constructor(readonly config: ServiceConfig) {
    checkExecutionProvider(config.ep);
    this.manifest = readManifest(config.modelDir);
    this.operatorCount = this.manifest.operators.length;
    this.loaded = readOnnxModel(join(config.modelDir, this.manifest.model.file));
    this.onDevice = config.ep !== 'cpu';
    this.dtype = activationInput(this.manifest).dtype;
    // Partition plan: one block per operator (boundaries 0, 1, ..., L).
    this.blocks = Array.from({ length: this.operatorCount + 1 }, (_, i) => i);
  }

  get cachedSessions(): number {
    return this.sessions.size;
  }

  get liveQueries(): number {
    return this.queries.size;
  }

  private dimsFor(batch: number, seq: number): Record<string, number> {
    const dims: Record<string, number> = { ...this.manifest.reference, batch };
    if (seq > 0) dims.seq = seq;
    return dims;
  }

  /** Prepared model inputs for a batch size and sequence length (made once, seeded). */
  feedsFor(batch: number, seq: number): Record<string, ort.Tensor> {
    const key = `${batch}x${seq}`;
    let feeds = this.inputs.get(key);
    if (!feeds) {
      if (!Number.isInteger(batch) || batch < 1) throw new InputError(`${this.config.name}: bad batch size ${batch}`);
      const needsSeq = this.manifest.inputs.some((i) => i.shape.includes('seq'));
      if (needsSeq && !(Number.isInteger(seq) && seq > 0)) throw new InputError(`${this.config.name}: needs a sequence length (got ${seq})`);
      feeds = manifestFeeds(this.manifest, this.dimsFor(batch, needsSeq ? seq : 0), this.config.seed);
      this.inputs.set(key, feeds);
    }
    return feeds;
  }

  /** The pieces (session ranges) that run operators [start, end). */
  plan(start: number, end: number): Array<[number, number]> {
    if (this.config.plan === 'exact') return [[start, end]];
    const pieces: Array<[number, number]> = [];
    let s = start;
    for (const b of this.blocks) {
      if (b <= s) continue;
      if (b >= end) break;
      pieces.push([s, b]);
      s = b;
    }
    pieces.push([s, end]);
    return pieces;
  }

  private segmentFile(start: number, end: number): string {
    return join(this.config.modelDir, `.seg-${this.manifest.model.sha256.slice(0, 12)}-${start}-${end}.onnx`);
  }

  /** The session for operators [start, end), built (and its graph file written) on first use. */
  async session(start: number, end: number): Promise<{ cached: CachedSession; built: boolean }> {
    const key = `${start}-${end}`;
    const hit = this.sessions.get(key);
    if (hit) {
      hit.lastUsed = ++this.useCounter;
      return { cached: hit, built: false };
    }
    const range = operatorRangeModel(this.loaded, this.manifest, start, end);
    const file = this.segmentFile(start, end);
    if (!existsSync(file)) {
      const tmp = tempPathFor(file);
      writeOnnxModel(tmp, range.model);
      renameSync(tmp, file);
    }
    const outputOnDevice = this.onDevice && end < this.operatorCount;
    const session = await ort.InferenceSession.create(file, sessionOptions(this.config, outputOnDevice));
    this.sessionsCreated++;
    const cached: CachedSession = { session, start, end, inputs: range.inputs, output: range.output, lastUsed: ++this.useCounter };
    this.sessions.set(key, cached);
    if (this.config.plan === 'exact') await this.evict();
    return { cached, built: true };
  }

  private async evict(): Promise<void> {
    while (this.sessions.size > this.config.maxCachedSessions) {
      let oldest: [string, CachedSession] | null = null;
      for (const entry of this.sessions) if (!oldest || entry[1].lastUsed < oldest[1].lastUsed) oldest = entry;
      if (!oldest) return;
      this.sessions.delete(oldest[0]);
      await oldest[1].session.release();
    }
  }

  /** Build the sessions that running [start, end) needs (untimed warm-up). */
  async warm(start: number, end: number): Promise<number> {
    let built = 0;
    if (start === end) return 0;
    for (const [s, e] of this.plan(start, end)) if ((await this.session(s, e)).built) built++;
    return built;
  }

  private acquire(bytes: number): CpuArray {
    const free = this.pool.get(bytes);
    const reused = free?.pop();
    if (reused) return reused;
    return this.dtype === 'float16' ? new Uint16Array(bytes / 2) : new Float32Array(bytes / 4);
  }

  private recycle(state: QueryState): void {
    const t = state.activation;
    if (!t) return;
    if (t.location === 'gpu-buffer') t.dispose();
    else if (state.pooled) {
      const data = t.data as CpuArray;
      const list = this.pool.get(data.byteLength) ?? [];
      list.push(data);
      this.pool.set(data.byteLength, list);
    }
    state.activation = null;
    state.pooled = false;
  }

  /** Run operators [start, end) of a query. The query's state moves to `end`. */
  async run(queryId: string, start: number, end: number, batch: number, seq: number, returnOutput = false): Promise<SegmentOutcome> {
    const L = this.operatorCount;
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > L || start > end) {
      throw new InputError(`${this.config.name}: bad segment [${start}, ${end}) for query ${queryId} (${L} operators)`);
    }
    let state = this.queries.get(queryId);
    if (!state) {
      if (start !== 0) throw new InputError(`${this.config.name}: query ${queryId} is unknown here, so its first segment must start at 0 (got ${start})`);
      state = { position: 0, batch, seq, activation: null, pooled: false };
      this.queries.set(queryId, state);
    } else if (state.position !== start) {
      throw new InputError(`${this.config.name}: query ${queryId} has run ${state.position} operators; a segment starting at ${start} does not continue it`);
    } else if (state.batch !== batch || state.seq !== seq) {
      throw new InputError(`${this.config.name}: query ${queryId} changed batch/seq between segments`);
    }
    const feeds = this.feedsFor(batch, seq);
    let sessionsBuilt = 0;
    if (start < end) {
      const activationName = activationInput(this.manifest).name;
      for (const [s, e] of this.plan(start, end)) {
        const { cached, built } = await this.session(s, e);
        if (built) sessionsBuilt++;
        const current = state.activation ?? feeds[activationName]!;
        const runFeeds: Record<string, ort.Tensor> = { [cached.inputs[0]!]: current };
        for (const side of cached.inputs.slice(1)) runFeeds[side] = feeds[side]!;
        let next: ort.Tensor;
        let pooled = false;
        if (!this.onDevice && e < L) {
          // Write the boundary activation into a reused buffer instead of a fresh allocation.
          const dims = concreteDims(this.manifest.operators[e - 1]!.outputShape, this.dimsFor(batch, seq), this.config.name);
          const count = dims.reduce((a, b) => a * b, 1);
          const buffer = this.acquire(count * (this.dtype === 'float16' ? 2 : 4));
          const target = new ort.Tensor(this.dtype === 'float16' ? 'float16' : 'float32', buffer, dims);
          await cached.session.run(runFeeds, { [cached.output]: target });
          next = target;
          pooled = true;
        } else {
          next = (await cached.session.run(runFeeds, [cached.output]))[cached.output]!;
        }
        this.recycle(state);
        state.activation = next;
        state.pooled = pooled;
      }
    }
    state.position = end;
    const finished = end === L;
    const outcome: SegmentOutcome = { sessionsBuilt, finished };
    if (finished) {
      if (returnOutput && state.activation) {
        const t = state.activation;
        const data = t.type === 'float32' ? Float32Array.from(t.data as Float32Array) : Float32Array.from(t.data as ArrayLike<number>, Number);
        outcome.output = { dims: [...t.dims], data };
      }
      this.release(queryId);
    }
    return outcome;
  }

  /** Forget a query (its activation is freed). */
  release(queryId: string): void {
    const state = this.queries.get(queryId);
    if (!state) return;
    this.recycle(state);
    this.queries.delete(queryId);
  }

  async dispose(): Promise<void> {
    for (const id of [...this.queries.keys()]) this.release(id);
    for (const s of this.sessions.values()) await s.session.release();
    this.sessions.clear();
  }
}
