/**
 * The segment engine: what runs inside a service's host. It owns the service's ONNX sessions, the
 * prepared inputs per batch size (and sequence length), and the activation of every partially-run query,
 * which stays here (on the device for GPU providers) between the query's segments.
 */
import { existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import '../common/ort-env.js';
import * as ort from 'onnxruntime-node';
import { readOnnxModel, writeOnnxModel, syncModel, serializeModel, float16BitsToFloat32, type LoadedModel, type ElementType } from '../onnx/index.js';
import type { ModelProto } from '../onnx/generated/onnx_pb.js';
import { operatorRangeModel } from '../zoo/segments.js';
import { activationInput, concreteDims, hasSeqInput, readManifest, type Manifest } from '../zoo/manifest.js';
import { manifestFeeds } from '../zoo/verify.js';
import { InputError, errorMessage } from '../common/errors.js';
import { tempPathFor } from '../common/fsutil.js';
import { checkExecutionProvider, deviceOutputNeedsReadback, sessionPerShapeFor, keepsActivationsOnDevice, sessionOptions } from './providers.js';
import { ensureOptimizedModel, optimizedSegmentPath, type OptimizedModel } from './optimized-cache.js';
import { mapOptimizedGraph, optimizedRangeModel, type OptimizedLayout } from './optimized-graph.js';
import type { InputTensor, SegmentGraphInfo, ServiceConfig } from './types.js';

/**
 * Level of the sessions cut from the optimised graph: the graph is already optimised, and a session must
 * not transform it again (measured: no faster at `all`, see docs/ARCHITECTURE.md).
 */
export const OPTIMIZED_SEGMENT_LEVEL: ServiceConfig['graphOptimizationLevel'] = 'disabled';

/**
 * onnxruntime-node (1.30, and 1.29 as pinned now) fills a preallocated CPU output and also returns it again in a freshly allocated
 * buffer. Left to the garbage collector, those activation-sized buffers (one per boundary per run) drove
 * V8 into a full collection about every query of a per-operator chain: 11 chains of resnet50 at batch 4
 * ran 70 collections, 49 of them full or incremental marking, and the chain took 1.47x one session;
 * released at once, 12 collections and 1.28x. Moving the buffer into a closed message port detaches it
 * and frees its memory now.
 */
const discard = (() => {
  const channel = new MessageChannel();
  channel.port2.close();
  channel.port1.unref();
  return channel.port1;
})();

function releaseCopy(copy: ort.Tensor, target: ort.Tensor): void {
  if (copy.location !== 'cpu') return;
  const buffer = (copy.data as CpuArray).buffer;
  if (buffer === (target.data as CpuArray).buffer || !(buffer instanceof ArrayBuffer)) return;
  try {
    discard.postMessage(null, [buffer]);
  } catch {
    // not transferable (a future binding may hand out external memory): the collector frees it
  }
}

/** The graph a service cuts its segments from. */
type SegmentSource =
  | { kind: 'original'; info: SegmentGraphInfo }
  | { kind: 'optimized'; info: SegmentGraphInfo; model: ModelProto; path: string; layout: OptimizedLayout; segmentPath: (start: number, end: number) => string };

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
  /** The query's own inputs (null: the prepared inputs of its batch and seq). */
  feeds: Record<string, ort.Tensor> | null;
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
  /** `tiered` plan: [start, end) of every coarse block, largest tiers first. */
  private readonly tierBlocks: Array<[number, number]>;
  private readonly onDevice: boolean;
  /** Whether a segment ending on the device reads one element back to know the device is done (webgpu). */
  private readonly readbackSync: boolean;
  /** One session per (range, batch, seq): see `sessionPerShapeFor`. */
  private readonly perShape: boolean;
  private readonly dtype: ElementType;
  private useCounter = 0;
  private source: SegmentSource;
  /** Dims of the activation after operator `end`, by `${end}:${batch}:${seq}` (optimised graph: learnt from the first run). */
  private readonly boundaryDims = new Map<string, number[]>();
  sessionsCreated = 0;

  private constructor(readonly config: ServiceConfig) {
    checkExecutionProvider(config.ep);
    this.manifest = readManifest(config.modelDir);
    this.operatorCount = this.manifest.operators.length;
    this.loaded = readOnnxModel(join(config.modelDir, this.manifest.model.file));
    this.onDevice = keepsActivationsOnDevice(config.ep);
    this.readbackSync = deviceOutputNeedsReadback(config.ep);
    this.perShape = config.sessionPerShape ?? sessionPerShapeFor(config.ep, this.loaded.model.graph?.node?.some((n) => n.opType === 'Conv' || n.opType === 'ConvTranspose') ?? false);
    this.dtype = activationInput(this.manifest).dtype;
    this.tierBlocks = config.plan === 'tiered' ? tierBlocks(this.manifest, config.tiers) : [];
    this.source = { kind: 'original', info: { source: 'original', reason: 'not chosen yet', sessionLevel: config.graphOptimizationLevel } };
  }

  /** A service's engine, with the graph its segments are cut from chosen (and cached) up front. */
  static async open(config: ServiceConfig): Promise<SegmentEngine> {
    const engine = new SegmentEngine(config);
    engine.source = await engine.chooseSource();
    return engine;
  }

  /** Where the segment sessions come from (and why). */
  get graphInfo(): SegmentGraphInfo {
    return this.source.info;
  }

  /**
   * The optimised whole-model graph where it applies and cuts cleanly at every operator boundary; the
   * model's own graph otherwise, with the reason.
   */
  private async chooseSource(): Promise<SegmentSource> {
    const { config, manifest } = this;
    const original = (reason: string): SegmentSource => ({ kind: 'original', info: { source: 'original', reason, sessionLevel: config.graphOptimizationLevel } });
    if (config.segmentGraph === 'original') return original('asked for (segment graph: original)');
    if (config.ep !== 'cpu') return original(`the ${config.ep} provider cuts the model's own graph (the optimised graph is for the cpu provider)`);
    if (config.graphOptimizationLevel !== 'all') return original(`graph optimisation level '${config.graphOptimizationLevel}' (the optimised graph is cut at level 'all' only)`);
    if (manifest.dtype !== 'fp32') return original(`${manifest.dtype} model: onnxruntime's CPU provider runs it through inserted float32 casts, and only fp32 models are cut from the optimised graph`);
    let cached: OptimizedModel;
    try {
      cached = await ensureOptimizedModel(config.modelDir, manifest);
    } catch (err) {
      return original(`onnxruntime could not save the optimised graph: ${errorMessage(err)}`);
    }
    let model: ModelProto;
    try {
      model = readOnnxModel(cached.path).model;
    } catch (err) {
      return original(`the optimised graph cannot be read: ${errorMessage(err)}`);
    }
    const mapping = mapOptimizedGraph(this.loaded.model, manifest, model);
    if (!mapping.ok) return original(`the optimised graph cannot be cut at the operator boundaries: ${mapping.reason}`);
    const record = cached.record;
    return {
      kind: 'optimized',
      model,
      path: cached.path,
      layout: mapping.layout,
      segmentPath: (start, end) => optimizedSegmentPath(config.modelDir, record, start, end),
      info: { source: 'optimized', reason: null, sessionLevel: OPTIMIZED_SEGMENT_LEVEL, file: record.file, cache: cached.cache, rebuildReason: cached.rebuildReason, placement: mapping.layout.placement },
    };
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
      const needsSeq = hasSeqInput(this.manifest);
      if (needsSeq && !(Number.isInteger(seq) && seq > 0)) throw new InputError(`${this.config.name}: needs a sequence length (got ${seq})`);
      feeds = manifestFeeds(this.manifest, this.dimsFor(batch, needsSeq ? seq : 0), this.config.seed);
      this.inputs.set(key, feeds);
    }
    return feeds;
  }

  /**
   * A query's own inputs as feeds: exactly the manifest's inputs, each with the dims the manifest gives
   * at (batch, seq) and the input's element type; anything else is an InputError.
   */
  queryFeeds(inputs: Readonly<Record<string, InputTensor>>, batch: number, seq: number): Record<string, ort.Tensor> {
    const name = this.config.name;
    const needsSeq = hasSeqInput(this.manifest);
    if (!Number.isInteger(batch) || batch < 1) throw new InputError(`${name}: bad batch size ${batch}`);
    if (needsSeq && !(Number.isInteger(seq) && seq > 0)) throw new InputError(`${name}: needs a sequence length (got ${seq})`);
    const dims = this.dimsFor(batch, needsSeq ? seq : 0);
    const expected = new Set(this.manifest.inputs.map((i) => i.name));
    const extra = Object.keys(inputs).filter((k) => !expected.has(k));
    if (extra.length > 0) throw new InputError(`${name}: unknown input(s) ${extra.join(', ')} (the model takes ${[...expected].join(', ')})`);
    const feeds: Record<string, ort.Tensor> = {};
    for (const input of this.manifest.inputs) {
      const t = inputs[input.name];
      if (!t) throw new InputError(`${name}: input '${input.name}' is missing`);
      const want = concreteDims(input.shape, dims, name);
      if (t.dims.length !== want.length || t.dims.some((d, i) => d !== want[i])) {
        throw new InputError(`${name}: input '${input.name}' has dims [${t.dims.join(', ')}], expected [${want.join(', ')}]`);
      }
      const count = want.reduce((a, b) => a * b, 1);
      if (t.data.length !== count) throw new InputError(`${name}: input '${input.name}' holds ${t.data.length} values, its dims need ${count}`);
      if (input.dtype === 'float32' && t.data instanceof Float32Array) feeds[input.name] = new ort.Tensor('float32', t.data, want);
      else if (input.dtype === 'float16' && t.data instanceof Uint16Array) feeds[input.name] = new ort.Tensor('float16', t.data, want);
      else throw new InputError(`${name}: input '${input.name}' is ${input.dtype}, got ${t.data instanceof Float32Array ? 'float32' : 'float16'} data`);
    }
    return feeds;
  }

  /** The pieces (session ranges) that run operators [start, end). */
  plan(start: number, end: number): Array<[number, number]> {
    if (start >= end) return [];
    if (this.config.plan === 'exact') return [[start, end]];
    const pieces: Array<[number, number]> = [];
    let s = start;
    while (s < end) {
      // tiered: the largest fixed block that starts here and fits; otherwise (and for `partition`) one operator
      const block = this.tierBlocks.find(([a, b]) => a === s && b <= end);
      const e = block ? block[1] : s + 1;
      pieces.push([s, e]);
      s = e;
    }
    return pieces;
  }

  /** Every session the plan can use (tiered, partition); empty for `exact`. */
  fixedRanges(): Array<[number, number]> {
    if (this.config.plan === 'exact') return [];
    const perOperator = Array.from({ length: this.operatorCount }, (_, i): [number, number] => [i, i + 1]);
    return [...this.tierBlocks.filter(([a, b]) => b - a > 1), ...perOperator];
  }

  private segmentFile(start: number, end: number): string {
    return join(this.config.modelDir, `.seg-${this.manifest.model.sha256.slice(0, 12)}-${start}-${end}.onnx`);
  }

  /**
   * Wait until the device has finished the work queued so far: a run whose output stays on the GPU
   * returns once its kernels are submitted, so a segment ending on the device reads one element of its
   * activation back through a tiny session on the same device queue.
   */
  private async syncDevice(activation: ort.Tensor): Promise<void> {
    if (!this.syncSession) {
      const options = sessionOptions(this.config, false);
      this.syncSession = await ort.InferenceSession.create(serializeModel(syncModel(this.dtype)), options);
    }
    await this.syncSession.run({ x: activation });
  }
  private syncSession: ort.InferenceSession | null = null;

  /**
   * The session for operators [start, end), built (and its graph file written) on first use; with
   * `sessionPerShape`, one per (batch, seq) as well (the graph file is shared).
   */
  async session(start: number, end: number, batch = 0, seq = 0): Promise<{ cached: CachedSession; built: boolean }> {
    const key = this.perShape ? `${start}-${end}@${batch}x${seq}` : `${start}-${end}`;
    const hit = this.sessions.get(key);
    if (hit) {
      hit.lastUsed = ++this.useCounter;
      return { cached: hit, built: false };
    }
    const source = this.source;
    const range =
      source.kind === 'optimized'
        ? optimizedRangeModel(source.model, source.layout, start, end, `${this.manifest.name}_opt_${start}_${end}`, source.path)
        : operatorRangeModel(this.loaded, this.manifest, start, end);
    const file = source.kind === 'optimized' ? source.segmentPath(start, end) : this.segmentFile(start, end);
    if (!existsSync(file)) {
      const tmp = tempPathFor(file);
      writeOnnxModel(tmp, range.model);
      renameSync(tmp, file);
    }
    const outputOnDevice = this.onDevice && end < this.operatorCount;
    const options = sessionOptions(this.config, outputOnDevice);
    if (source.kind === 'optimized') options.graphOptimizationLevel = OPTIMIZED_SEGMENT_LEVEL;
    const session = await ort.InferenceSession.create(file, options);
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
  async warm(start: number, end: number, batch = 0, seq = 0): Promise<number> {
    let built = 0;
    for (const [s, e] of this.plan(start, end)) if ((await this.session(s, e, batch, seq)).built) built++;
    return built;
  }

  /** Build every session of a fixed plan (tiered, partition) up front. */
  async warmAll(batch = 0, seq = 0): Promise<number> {
    let built = 0;
    for (const [s, e] of this.fixedRanges()) if ((await this.session(s, e, batch, seq)).built) built++;
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

  /**
   * Run operators [start, end) of a query. The query's state moves to `end`. `inputs` (first segment
   * only) are the query's own inputs, used instead of the prepared ones for all its segments.
   */
  async run(queryId: string, start: number, end: number, batch: number, seq: number, returnOutput = false, advance = true, inputs?: Readonly<Record<string, InputTensor>>): Promise<SegmentOutcome> {
    const L = this.operatorCount;
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > L || start > end) {
      throw new InputError(`${this.config.name}: bad segment [${start}, ${end}) for query ${queryId} (${L} operators)`);
    }
    let state = this.queries.get(queryId);
    if (inputs && (!advance || start !== 0 || state)) {
      throw new InputError(`${this.config.name}: query ${queryId}: inputs go with the first segment of a new query only`);
    }
    if (!advance) return this.replay(state, queryId, start, end, batch, seq);
    if (!state) {
      if (start !== 0) throw new InputError(`${this.config.name}: query ${queryId} is unknown here, so its first segment must start at 0 (got ${start})`);
      const feeds = inputs ? this.queryFeeds(inputs, batch, seq) : null;
      state = { position: 0, batch, seq, activation: null, pooled: false, feeds };
      this.queries.set(queryId, state);
    } else if (state.position !== start) {
      throw new InputError(`${this.config.name}: query ${queryId} has run ${state.position} operators; a segment starting at ${start} does not continue it`);
    } else if (state.batch !== batch || state.seq !== seq) {
      throw new InputError(`${this.config.name}: query ${queryId} changed batch/seq between segments`);
    }
    const feeds = state.feeds ?? this.feedsFor(batch, seq);
    let sessionsBuilt = 0;
    if (start < end) {
      const activationName = activationInput(this.manifest).name;
      for (const [s, e] of this.plan(start, end)) {
        const r = await this.runPiece(state, s, e, batch, seq, feeds, activationName, e === end);
        if (r.built) sessionsBuilt++;
        this.recycle(state);
        state.activation = r.next;
        state.pooled = r.pooled;
      }
    }
    state.position = end;
    const finished = end === L;
    const outcome: SegmentOutcome = { sessionsBuilt, finished };
    if (finished) {
      if (returnOutput && state.activation) {
        const t = state.activation;
        // float16 outputs arrive as their IEEE half bit patterns (Uint16Array): decode them to values
        const data = t.type === 'float32' ? Float32Array.from(t.data as Float32Array) : t.type === 'float16' ? float16BitsToFloat32(t.data as Uint16Array) : Float32Array.from(t.data as ArrayLike<number>, Number);
        outcome.output = { dims: [...t.dims], data };
      }
      this.release(queryId);
    }
    return outcome;
  }

  /** Run [start, end) from the query's kept activation without moving the query (timing repetitions). */
  private async replay(state: QueryState | undefined, queryId: string, start: number, end: number, batch: number, seq: number): Promise<SegmentOutcome> {
    if (start > 0 && (!state || state.position !== start)) {
      throw new InputError(`${this.config.name}: query ${queryId} is not at operator ${start}, so [${start}, ${end}) cannot be repeated from it`);
    }
    const scratch: QueryState = { position: start, batch, seq, activation: start > 0 ? state!.activation : null, pooled: false, feeds: null };
    let sessionsBuilt = 0;
    const feeds = state?.feeds ?? this.feedsFor(batch, seq);
    const activationName = activationInput(this.manifest).name;
    for (const [s, e] of this.plan(start, end)) {
      const r = await this.runPiece(scratch, s, e, batch, seq, feeds, activationName, e === end);
      if (r.built) sessionsBuilt++;
      // the kept activation is not ours to recycle; intermediate ones are
      if (scratch.activation !== state?.activation) this.recycle(scratch);
      scratch.activation = r.next;
      scratch.pooled = r.pooled;
    }
    if (scratch.activation !== state?.activation) this.recycle(scratch);
    return { sessionsBuilt, finished: false };
  }

  private async runPiece(state: QueryState, s: number, e: number, batch: number, seq: number, feeds: Record<string, ort.Tensor>, activationName: string, lastPiece: boolean): Promise<{ next: ort.Tensor; pooled: boolean; built: boolean }> {
    const L = this.operatorCount;
    const { cached, built } = await this.session(s, e, batch, seq);
    const current = state.activation ?? feeds[activationName]!;
    const runFeeds: Record<string, ort.Tensor> = { [cached.inputs[0]!]: current };
    for (const side of cached.inputs.slice(1)) runFeeds[side] = feeds[side]!;
    const dims = !this.onDevice && e < L ? this.boundaryDimsFor(e, batch, seq) : null;
    if (dims) {
      // Write the boundary activation into a reused buffer instead of a fresh allocation.
      const count = dims.reduce((a, b) => a * b, 1);
      const buffer = this.acquire(count * (this.dtype === 'float16' ? 2 : 4));
      const target = new ort.Tensor(this.dtype === 'float16' ? 'float16' : 'float32', buffer, dims);
      const copy = (await cached.session.run(runFeeds, { [cached.output]: target }))[cached.output];
      if (copy) releaseCopy(copy, target);
      return { next: target, pooled: true, built };
    }
    const next = (await cached.session.run(runFeeds, [cached.output]))[cached.output]!;
    if (!this.onDevice && e < L) this.learnBoundaryDims(e, batch, seq, next);
    // a segment on a GPU ends when the device is done with it (cuda's run already waits for its stream)
    if (lastPiece && this.readbackSync && next.location === 'gpu-buffer') await this.syncDevice(next);
    return { next, pooled: false, built };
  }

  /**
   * Dims of the activation after operator `end` at (batch, seq): the manifest's output shape on the
   * original graph when the input dims value all its symbols; otherwise (the optimised graph, whose
   * blocked layouts pad the channels, or a derived symbol) what the first run at this (end, batch, seq)
   * produced, null before it.
   */
  private boundaryDimsFor(end: number, batch: number, seq: number): number[] | null {
    const shape = this.manifest.operators[end - 1]!.outputShape;
    const dims = this.dimsFor(batch, seq);
    // a derived dim the manifest names but does not value (a split model's `split_dim0`): learned from the first run
    if (this.source.kind === 'original' && shape.every((d) => typeof d === 'number' || dims[d] !== undefined)) return concreteDims(shape, dims, this.config.name);
    return this.boundaryDims.get(`${end}:${batch}:${seq}`) ?? null;
  }

  private learnBoundaryDims(end: number, batch: number, seq: number, activation: ort.Tensor): void {
    if (activation.type !== this.dtype) {
      throw new Error(`${this.config.name}: the activation after operator ${end - 1} is ${activation.type}, expected ${this.dtype}`);
    }
    this.boundaryDims.set(`${end}:${batch}:${seq}`, [...activation.dims]);
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
    if (this.syncSession) await this.syncSession.release();
    this.syncSession = null;
  }
}

/** The coarse blocks of the `tiered` plan: for each tier count k, k FLOPs-balanced blocks. */
export function tierBlocks(manifest: Manifest, tiers: readonly number[]): Array<[number, number]> {
  const L = manifest.operators.length;
  const blocks: Array<[number, number]> = [];
  for (const k of [...tiers].sort((a, b) => a - b)) {
    const cuts = balancedOperatorCuts(manifest.operators.map((o) => o.flops), Math.min(k, L));
    for (let i = 0; i + 1 < cuts.length; i++) {
      const block: [number, number] = [cuts[i]!, cuts[i + 1]!];
      if (block[1] - block[0] > 1 && !blocks.some(([a, b]) => a === block[0] && b === block[1])) blocks.push(block);
    }
  }
  // largest first, so a greedy decomposition takes the coarsest block that fits
  return blocks.sort((x, y) => y[1] - y[0] - (x[1] - x[0]));
}

/** Cut points [0, ..., L] splitting operators into `k` contiguous parts of about equal FLOPs. */
export function balancedOperatorCuts(flops: readonly number[], k: number): number[] {
  const L = flops.length;
  const parts = Math.max(1, Math.min(k, L));
  const total = flops.reduce((a, b) => a + b, 0);
  const cuts = [0];
  let acc = 0;
  for (let i = 0; i < L - 1 && cuts.length < parts; i++) {
    acc += flops[i]!;
    const want = cuts.length;
    const remainingOps = L - (i + 1);
    if ((acc >= (total * want) / parts && remainingOps >= parts - want) || remainingOps === parts - want) cuts.push(i + 1);
  }
  return [...cuts, L];
}
