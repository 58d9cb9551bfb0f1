/**
 * `abacus bench executor`: what cutting a query into segments costs, and what co-location does.
 * For each model: the plain one-session latency (a session in this process with the same options), and
 * the whole model run through the executor as 1, 4 and all-operator segments, measured interleaved,
 * median of repeated runs; the per-operator latency table; and, for each pair of the listed models,
 * solo against co-located latency. Segment latency is the sum of the segments' group latencies (start
 * signal to barrier); `wallMs` adds the coordinator's time between segments.
 */
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { median, percentile } from '../common/stats.js';
import { hasSeqInput, readManifest, type Manifest } from '../zoo/manifest.js';
import { manifestFeeds } from '../zoo/verify.js';
import { Executor, defaultPlan } from './executor.js';
import { cudaProviderReport, sessionOptions } from './providers.js';
import { balancedOperatorCuts } from './engine.js';
import type { ExecutionProviderName, SegmentGraphChoice, SegmentGraphInfo, SegmentPlan, ServiceConfig } from './types.js';

export interface ExecutorBenchOptions {
  modelDirs: string[];
  ep: ExecutionProviderName;
  /** Batch sizes, measured one after another in the same hosts (sessions are built once). */
  batches: number[];
  seq: number;
  reps: number;
  warmup: number;
  intraOpThreads: number;
  plan?: SegmentPlan;
  /** Which graph the services cut their segments from (default `auto`). */
  segmentGraph?: SegmentGraphChoice;
  /** Segment counts to measure besides 1 and all-operator (default [4]). */
  segmentCounts?: number[];
  pairs?: boolean;
  onProgress?: (done: number, total: number, what: string) => void;
}

export interface SegmentedResult {
  segments: number;
  cuts: number[];
  ms: number;
  wallMs: number;
  ratio: number;
  /** (ms - wholeMs) / (segments - 1): what one extra segment boundary costs, in µs. */
  perBoundaryUs: number | null;
}

export interface ModelBenchResult {
  model: string;
  batch: number;
  seq: number;
  operators: number;
  /** Where the service's segments were cut from (the one-session baseline is always the model's own graph at level `all`). */
  graph: SegmentGraphInfo;
  wholeMs: number;
  segmented: SegmentedResult[];
  operatorMs: Array<{ index: number; name: string; ms: number }>;
}

export interface PairBenchResult {
  models: [string, string];
  batch: number;
  soloMs: [number, number];
  colocatedMs: [number, number];
  groupMs: number;
  /** Co-located group latency over the sum of solo latencies (< 1: overlap pays). */
  groupOverSumOfSolo: number;
  /** Spread of the two members' actual start times after one start signal, in µs. */
  startSkewUs: { p50: number; p99: number; max: number };
}

export interface ExecutorBenchResult {
  ep: ExecutionProviderName;
  plan: SegmentPlan;
  batches: number[];
  seq: number;
  reps: number;
  intraOpThreads: number;
  results: ModelBenchResult[];
  pairs: PairBenchResult[];
  /** Host process per service (match with nvidia-smi's per-process GPU memory). */
  hostPids: Record<string, number>;
  /** Start skew of every co-located group measured (all pairs together), in µs. */
  startSkewUs: { p50: number; p99: number; max: number; groups: number } | null;
  /** cuda: the provider options asked for and the provider's effective options (null on other providers). */
  cudaProvider: ReturnType<typeof cudaProviderReport> | null;
}

export async function benchExecutor(opts: ExecutorBenchOptions): Promise<ExecutorBenchResult> {
  const manifests = opts.modelDirs.map((d) => readManifest(d));
  const plan: SegmentPlan = opts.plan ?? defaultPlan(opts.ep);
  const ex = new Executor();
  const results: ModelBenchResult[] = [];
  const pairs: PairBenchResult[] = [];
  let hostPids: Record<string, number> = {};
  const allSkewUs: number[] = [];
  const progressTotal = opts.batches.length * (manifests.length + (opts.pairs === false ? 0 : (manifests.length * (manifests.length - 1)) / 2));
  let progressDone = 0;
  try {
    for (const [i, m] of manifests.entries()) {
      await ex.addService({ name: m.name, modelDir: opts.modelDirs[i]!, ep: opts.ep, intraOpThreads: opts.intraOpThreads, plan, segmentGraph: opts.segmentGraph ?? 'auto' }, 1);
    }
    hostPids = ex.hostPids();
    let q = 0;
    for (const batch of opts.batches) {
      for (const [i, m] of manifests.entries()) {
        const L = m.operators.length;
        const seq = hasSeqInput(m) ? opts.seq : 0;
        const variants: number[][] = [[0, L], ...(opts.segmentCounts ?? [4]).filter((k) => k > 1 && k < L).map((k) => balancedOperatorCuts(m.operators.map((o) => o.flops), k)), Array.from({ length: L + 1 }, (_, j) => j)];
        // the plain session: the same options as a service's one-segment session, in this process
        const config: ServiceConfig = { name: m.name, modelDir: opts.modelDirs[i]!, ep: opts.ep, intraOpThreads: opts.intraOpThreads, plan, tiers: [1, 4], maxCachedSessions: 64, graphOptimizationLevel: 'all', deviceId: 0, seed: 0 };
        const plain = await ort.InferenceSession.create(join(opts.modelDirs[i]!, m.model.file), sessionOptions(config, false));
        const feeds = manifestFeeds(m, { ...m.reference, batch: batch, ...(seq ? { seq } : {}) }, 0);
        const ranges = variants.flatMap((cuts) => cuts.slice(0, -1).map((s, k): [number, number] => [s, cuts[k + 1]!]));
        await ex.prepare(m.name, batch, seq, ranges, true);
        const wholeTimes: number[] = [];
        const segTimes = variants.map(() => [] as number[]);
        const wallTimes = variants.map(() => [] as number[]);
        const opTimes = Array.from({ length: L }, () => [] as number[]);
        for (let rep = -opts.warmup; rep < opts.reps; rep++) {
          // rotate the order each repetition so that no variant always runs first
          const order = [-1, ...variants.map((_, k) => k)];
          const rot = ((rep % order.length) + order.length) % order.length;
          for (const v of [...order.slice(rot), ...order.slice(0, rot)]) {
            if (v === -1) {
              const t0 = performance.now();
              await plain.run(feeds);
              if (rep >= 0) wholeTimes.push(performance.now() - t0);
              continue;
            }
            const cuts = variants[v]!;
            const queryId = `bench-${q++}`;
            let sum = 0;
            const w0 = performance.now();
            for (let k = 0; k + 1 < cuts.length; k++) {
              const r = await ex.runGroup([{ service: m.name, queryId, start: cuts[k]!, end: cuts[k + 1]!, batch: batch, seq }]);
              sum += r.groupMs;
              if (rep >= 0 && v === variants.length - 1) opTimes[k]!.push(r.members[0]!.ms);
            }
            if (rep >= 0) {
              segTimes[v]!.push(sum);
              wallTimes[v]!.push(performance.now() - w0);
            }
          }
        }
        await plain.release();
        const wholeMs = median(wholeTimes);
        results.push({
          model: m.name,
          batch: batch,
          seq,
          operators: L,
          graph: ex.graphInfo(m.name),
          wholeMs,
          segmented: variants.map((cuts, v) => {
            const ms = median(segTimes[v]!);
            const segments = cuts.length - 1;
            return { segments, cuts, ms, wallMs: median(wallTimes[v]!), ratio: ms / wholeMs, perBoundaryUs: segments > 1 ? ((ms - wholeMs) / (segments - 1)) * 1000 : null };
          }),
          operatorMs: m.operators.map((o, k) => ({ index: k, name: o.name, ms: median(opTimes[k]!) })),
        });
        opts.onProgress?.(++progressDone, progressTotal, `${m.name} batch ${batch}`);
      }
      if (opts.pairs !== false) {
        for (let a = 0; a < manifests.length; a++) {
          for (let b = a + 1; b < manifests.length; b++) {
            const ma = manifests[a]!;
            const mb = manifests[b]!;
            const seqOf = (m: Manifest) => (hasSeqInput(m) ? opts.seq : 0);
            const run = (m: Manifest) => ({ service: m.name, queryId: `pair-${q++}`, start: 0, end: m.operators.length, batch: batch, seq: seqOf(m) });
            const soloA: number[] = [];
            const soloB: number[] = [];
            const coA: number[] = [];
            const coB: number[] = [];
            const group: number[] = [];
            const skew: number[] = [];
            for (let rep = -opts.warmup; rep < opts.reps; rep++) {
              const ra = await ex.runGroup([run(ma)]);
              const rb = await ex.runGroup([run(mb)]);
              const rab = await ex.runGroup([run(ma), run(mb)]);
              if (rep < 0) continue;
              soloA.push(ra.groupMs);
              soloB.push(rb.groupMs);
              coA.push(rab.members[0]!.ms);
              coB.push(rab.members[1]!.ms);
              group.push(rab.groupMs);
              skew.push(rab.startSkewMs * 1000);
            }
            allSkewUs.push(...skew);
            const sA = median(soloA);
            const sB = median(soloB);
            const g = median(group);
            pairs.push({ models: [ma.name, mb.name], batch, soloMs: [sA, sB], colocatedMs: [median(coA), median(coB)], groupMs: g, groupOverSumOfSolo: g / (sA + sB), startSkewUs: skewSummary(skew) });
            opts.onProgress?.(++progressDone, progressTotal, `${ma.name}+${mb.name} batch ${batch}`);
          }
        }
      }
    }
  } finally {
    await ex.shutdown();
  }
  return {
    ep: opts.ep,
    plan,
    batches: opts.batches,
    seq: opts.seq,
    reps: opts.reps,
    intraOpThreads: opts.intraOpThreads,
    results,
    pairs,
    hostPids,
    startSkewUs: allSkewUs.length > 0 ? { ...skewSummary(allSkewUs), groups: allSkewUs.length } : null,
    cudaProvider: opts.ep === 'cuda' ? cudaProviderReport() : null,
  };
}

function skewSummary(us: readonly number[]): { p50: number; p99: number; max: number } {
  return { p50: percentile(us, 50), p99: percentile(us, 99), max: Math.max(...us) };
}
