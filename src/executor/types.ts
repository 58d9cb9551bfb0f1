/** Public types of the executor: services, segments, groups and their timings. */

export type ExecutionProviderName = 'cpu' | 'webgpu' | 'cuda';

export const EXECUTION_PROVIDERS: readonly ExecutionProviderName[] = ['cpu', 'webgpu', 'cuda'];

/**
 * How a segment [start, end) becomes ONNX sessions inside a host:
 * - `exact`: one session per requested range, built on first use and kept in an LRU cache (weights are
 *   duplicated across overlapping cached ranges: host memory, bounded by `maxCachedSessions`);
 * - `partition`: one session per operator block of a fixed partition (every operator's weights live in
 *   exactly one session: nothing is duplicated, on the GPU included); a range runs as the chain of its
 *   blocks, activations handed over in place (on the device for webgpu);
 * - `tiered`: fixed sessions for the whole model, for `tiers` FLOPs-balanced blocks (4 by default) and
 *   for every operator; a range runs as the fewest of them, chosen greedily from its start. The
 *   decomposition is fixed, so profiling and serving run a range the same way, with a bounded number of
 *   sessions (1 + 4 + L) built once.
 */
export type SegmentPlan = 'exact' | 'partition' | 'tiered';

export interface ServiceConfig {
  /** Service name (the model name). */
  name: string;
  /** Folder with manifest.json, model.onnx and model.onnx.data. */
  modelDir: string;
  ep: ExecutionProviderName;
  /** Intra-op threads of each session (CPU EP). */
  intraOpThreads: number;
  plan: SegmentPlan;
  /** `tiered` plan: block counts of the coarse tiers (per-operator sessions are always there). */
  tiers: number[];
  /** `exact` plan: sessions kept per service before the least recently used is released. */
  maxCachedSessions: number;
  /** Graph optimisation level for every session. */
  graphOptimizationLevel: 'disabled' | 'basic' | 'extended' | 'all';
  /** GPU to use (webgpu/cuda device id). */
  deviceId: number;
  /** Seed of the prepared random inputs. */
  seed: number;
  /**
   * Which graph segments are cut from: `auto` (default) cuts onnxruntime's optimised whole-model graph
   * where that applies (cpu provider, level `all`, fp32, every operator boundary clean) and the model's
   * own graph otherwise; `original` always cuts the model's own graph.
   */
  segmentGraph?: SegmentGraphChoice;
  /**
   * One session per (range, batch, seq) instead of one per range fed every shape. Default: on cuda (a cuda
   * session fed a new input shape re-sets every convolution up, a few ms each: see `sessionPerShapeFor`).
   */
  sessionPerShape?: boolean;
}

export type SegmentGraphChoice = 'auto' | 'original';

/** Where a service's segment sessions come from, reported by its host once it has started. */
export interface SegmentGraphInfo {
  /** `optimized`: onnxruntime's optimised whole-model graph; `original`: the model's own graph. */
  source: 'optimized' | 'original';
  /** Why the original graph is used (null on the optimised path). */
  reason: string | null;
  /** Graph optimisation level the segment sessions are created with. */
  sessionLevel: ServiceConfig['graphOptimizationLevel'];
  /** Optimised path: the cached graph (in the model folder) and whether this start found, built or rebuilt it. */
  file?: string;
  cache?: 'hit' | 'built' | 'rebuilt';
  /** Why an existing cache was rebuilt (stale or corrupt). */
  rebuildReason?: string | null;
  /** Optimised path: how many of its nodes were placed by which rule (see optimized-graph.ts). */
  placement?: { byOutput: number; byName: number; byNeighbour: number; shared: number; movedReorders: number };
}

/** A tensor a query brings as its own input: row-major data with concrete dims. */
export interface InputTensor {
  dims: number[];
  /** float32 inputs: Float32Array; float16 inputs: Uint16Array of IEEE half-precision bits. */
  data: Float32Array | Uint16Array;
}

/** One member of a group: operators [start, end) of query `queryId` on service `service`. */
export interface SegmentRun {
  service: string;
  queryId: string;
  start: number;
  end: number;
  batch: number;
  /** Sequence length (models with a `seq` dim); 0 otherwise. */
  seq: number;
  /** Return the final output (only when `end` is the model's operator count). */
  returnOutput?: boolean;
  /**
   * The query's own inputs, on its first segment only (`start` 0): every model input by name, with the
   * dims the manifest gives at this batch (and seq) and the input's dtype. Later segments continue from
   * the kept activation and read the same side inputs. Without them the query runs on the seeded inputs
   * prepared per (batch, seq).
   */
  inputs?: Readonly<Record<string, InputTensor>>;
  /**
   * false: run the segment but leave the query where it was (its activation at `start` is kept), so the
   * same segment can be timed again; the profiler's repetitions use this. Default true.
   */
  advance?: boolean;
}

export interface MemberTiming {
  service: string;
  queryId: string;
  start: number;
  end: number;
  /** The member's own run time, from its actual start to its finish. */
  ms: number;
  /** How late the member started after the group's start signal. */
  startDelayMs: number;
  /** Sessions that had to be built for this member (cold cache): its time includes building them. */
  sessionsBuilt: number;
  /** The query has run all its operators. */
  finished: boolean;
  output?: { dims: number[]; data: Float32Array };
}

export interface GroupResult {
  /** From the start signal to the barrier (the last member's finish). */
  groupMs: number;
  members: MemberTiming[];
  /** Spread of the members' actual start times. */
  startSkewMs: number;
  /** The start signal's lead: from sending the run to the common start time (groupMs counts from there). */
  startLeadMs: number;
}
