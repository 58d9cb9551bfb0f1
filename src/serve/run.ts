/**
 * `abacus serve` without a network: a seeded trace served by each policy in turn on the same services,
 * every query logged, and one summary per policy. With `simulate`, a virtual clock and the predictor's
 * own latencies (plus seeded noise) stand in for the executor: fast, deterministic, no models run.
 */
import { join } from 'node:path';
import { writeJsonAtomic, ensureDir } from '../common/fsutil.js';
import { collectProvenance, type Provenance } from '../common/provenance.js';
import { InputError } from '../common/errors.js';
import { Executor, balancedOperatorCuts, type ExecutionProviderName } from '../executor/index.js';
import {
  runServing, simulateServing, latencyFromModel, openRunLog, findPeakLoad, generateTrace,
  type LatencyModel, type PolicyName, type RunSummary, type RunLogSink, type TraceQuery, type LoadSpec, type PeakResult, type BarrierMode, type CalibrationScope,
} from '../controller/index.js';
import type { Manifest } from '../zoo/manifest.js';
import { ExecutorRunner } from './adapters.js';

export interface ServeRunOptions {
  models: Array<{ manifest: Manifest; dir: string }>;
  policies: PolicyName[];
  trace: TraceQuery[];
  latencyModel: LatencyModel | null;
  ways: number;
  thldMs: number;
  abandon: boolean;
  /** Run-time calibration of the predictor (default false; see src/controller/calibration.ts). */
  calibrate?: boolean;
  /** With `calibrate`: one ratio per model (default) or one for all. */
  calibrationScope?: CalibrationScope;
  /** abacus's barrier mode (default 'group'). */
  barrier?: BarrierMode;
  ep: ExecutionProviderName;
  intraOpThreads: number;
  seed: number;
  /** Folder for the per-query logs and summaries (one file per policy). */
  out: string | null;
  simulate: boolean;
  /** Simulation: relative noise of the simulated latencies. */
  noise?: number;
  onPolicy?: (policy: PolicyName, summary: RunSummary) => void;
  /** Called as each query of the trace is accounted for (completed, late, dropped or failed): `done` of this policy's run. */
  onQuery?: (policy: PolicyName, done: number) => void;
  /** Serve on these already-started services (kept running afterwards) instead of starting new ones. */
  executor?: Executor;
}

export interface ServeRunResult {
  summaries: RunSummary[];
  provenance: Provenance;
}

/** Start one executor service per model and warm every session of the plan at every shape the trace uses. */
export async function startServices(models: ServeRunOptions['models'], ep: ExecutionProviderName, threads: number, seed: number, trace: readonly TraceQuery[]): Promise<Executor> {
  const ex = new Executor();
  try {
    for (const m of models) {
      await ex.addService({ name: m.manifest.name, modelDir: m.dir, ep, intraOpThreads: threads, seed }, models.length);
      const used = new Set(trace.filter((q) => q.model === m.manifest.name).map((q) => `${q.batch}x${q.seq}`));
      let first = true;
      const L = m.manifest.operators.length;
      // every session of the plan runs once at every shape served: the first run at a new shape is slow
      const warmCuts = [[0, L], balancedOperatorCuts(m.manifest.operators.map((o) => o.flops), 4), Array.from({ length: L + 1 }, (_, i) => i)];
      let w = 0;
      for (const key of used) {
        const [batch, seq] = key.split('x').map(Number) as [number, number];
        await ex.prepare(m.manifest.name, batch, seq, [], first);
        first = false;
        for (const cuts of warmCuts) {
          const queryId = `warmup-${w++}`;
          for (let i = 0; i + 1 < cuts.length; i++) await ex.runGroup([{ service: m.manifest.name, queryId, start: cuts[i]!, end: cuts[i + 1]!, batch, seq }]);
        }
      }
    }
    return ex;
  } catch (err) {
    await ex.shutdown();
    throw err;
  }
}

/** A run log that counts the queries it is given (for progress) and passes everything on to `inner`. */
function countingLog(inner: RunLogSink | undefined, onQuery: (done: number) => void): RunLogSink & { close(): void } {
  let done = 0;
  const sink: RunLogSink & { close(): void } = {
    query(row) {
      inner?.query(row);
      onQuery(++done);
    },
    flush(force) {
      inner?.flush?.(force);
    },
    close() {
      (inner as { close?: () => void } | undefined)?.close?.();
    },
  };
  // per-group rows only where the inner log keeps them (the serving loop builds them only for a sink that has group)
  if (inner?.group) sink.group = (row) => inner.group?.(row);
  return sink;
}

export async function serveRun(opts: ServeRunOptions): Promise<ServeRunResult> {
  const provenance = collectProvenance({ executionProvider: opts.simulate ? 'simulated' : opts.ep, seed: opts.seed });
  const summaries: RunSummary[] = [];
  if (opts.out) ensureDir(opts.out);
  for (const p of opts.policies) {
    if ((p === 'sjf' || p === 'abacus') && !opts.latencyModel) throw new InputError(`policy ${p} needs a predictor (--predictor, or a bundle under data/predictor/)`);
  }
  const owned = !opts.simulate && !opts.executor;
  const ex = opts.simulate ? null : opts.executor ?? (await startServices(opts.models, opts.ep, opts.intraOpThreads, opts.seed, opts.trace));
  try {
    for (const policy of opts.policies) {
      const fileLog = opts.out ? openRunLog({ path: join(opts.out, `${policy}.queries.csv`), format: 'csv', groupsPath: join(opts.out, `${policy}.groups.ndjson`) }) : undefined;
      const log = opts.onQuery ? countingLog(fileLog, (done) => opts.onQuery?.(policy, done)) : fileLog;
      let summary: RunSummary;
      try {
        if (ex) {
          const runner = new ExecutorRunner(ex);
          summary = await runServing({ policy, runner, trace: opts.trace, ways: opts.ways, thldMs: opts.thldMs, abandon: opts.abandon, calibrate: opts.calibrate === true, ...(opts.calibrationScope ? { calibrationScope: opts.calibrationScope } : {}), ...(policy === 'abacus' && opts.barrier ? { barrier: opts.barrier } : {}), ...(opts.latencyModel ? { latencyModel: opts.latencyModel } : {}), ...(log ? { log } : {}) });
          await runner.releaseAll();
        } else {
          const truth = opts.latencyModel;
          if (!truth) throw new InputError('--simulate needs a predictor to stand in for the executor');
          const operatorCounts = Object.fromEntries(opts.models.map((m) => [m.manifest.name, m.manifest.operators.length]));
          ({ summary } = await simulateServing({
            policy,
            trace: opts.trace,
            operatorCounts,
            latency: latencyFromModel(truth, { noise: opts.noise ?? 0.05, seed: opts.seed }),
            latencyModel: truth,
            ways: opts.ways,
            thldMs: opts.thldMs,
            abandon: opts.abandon,
            calibrate: opts.calibrate === true,
            ...(opts.calibrationScope ? { calibrationScope: opts.calibrationScope } : {}),
            ...(policy === 'abacus' && opts.barrier ? { barrier: opts.barrier } : {}),
            ...(log ? { log } : {}),
          }));
        }
      } finally {
        log?.close();
      }
      if (summary.issued !== summary.completed + summary.dropped + summary.failed) {
        throw new Error(`accounting broke for ${policy}: issued ${summary.issued} != completed ${summary.completed} + dropped ${summary.dropped} + failed ${summary.failed}`);
      }
      summaries.push(summary);
      if (opts.out) writeJsonAtomic(join(opts.out, `${policy}.summary.json`), { ...summary, provenance });
      opts.onPolicy?.(policy, summary);
    }
  } finally {
    if (owned) await ex?.shutdown();
  }
  if (opts.out) writeJsonAtomic(join(opts.out, 'summary.json'), { summaries, provenance, trace: { queries: opts.trace.length } });
  return { summaries, provenance };
}

/** The highest Poisson load each policy sustains under the MLPerf server rule (bisection over runs). */
export async function servePeak(opts: Omit<ServeRunOptions, 'trace'> & { load: Omit<LoadSpec, 'loadQps'>; lowQps: number; highQps: number; resolutionQps?: number; onPoint?: (policy: PolicyName, loadQps: number, summary: RunSummary) => void }): Promise<Record<string, PeakResult>> {
  const out: Record<string, PeakResult> = {};
  // one set of services for every probe: starting them (and building their sessions) once, not per run
  const probeTrace = generateTrace({ ...opts.load, loadQps: opts.highQps });
  const executor = opts.simulate ? undefined : opts.executor ?? (await startServices(opts.models, opts.ep, opts.intraOpThreads, opts.seed, probeTrace));
  try {
  for (const policy of opts.policies) {
    out[policy] = await findPeakLoad({
      lowQps: opts.lowQps,
      highQps: opts.highQps,
      ...(opts.resolutionQps !== undefined ? { resolutionQps: opts.resolutionQps } : {}),
      evaluate: async (loadQps) => {
        const trace = generateTrace({ ...opts.load, loadQps });
        const r = await serveRun({ ...opts, policies: [policy], trace, out: null, ...(executor ? { executor } : {}) });
        const s = r.summaries[0]!;
        opts.onPoint?.(policy, loadQps, s);
        return s;
      },
    });
  }
  } finally {
    if (executor && !opts.executor) await executor.shutdown();
  }
  return out;
}
