/**
 * `abacus serve`: the query controller over the executor (or a simulation), every policy on one trace;
 * with `--listen`, an online server speaking the Open Inference Protocol (HTTP/REST, optionally gRPC)
 * under one policy until SIGTERM/SIGINT, which stops admission and drains.
 */
import { Command, InvalidArgumentError, Option } from '@commander-js/extra-typings';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { InputError, errorMessage } from '../common/errors.js';
import type { Predictor } from '../predictor/index.js';
import { ensureDir, writeJsonAtomic } from '../common/fsutil.js';
import { startProgress } from '../common/progress.js';
import { collectProvenance } from '../common/provenance.js';
import { DEFAULT_BATCH_SIZES, DEFAULT_SEQ_LENS } from '../zoo/catalog.js';
import { parseExecutionProvider } from '../executor/index.js';
import { generateTrace, readTraceCsv, openRunLog, POLICY_NAMES, BARRIER_MODES, type BarrierMode, type CalibrationScope, type LatencyModel, type PolicyName, type QosSpec, type RunSummary, type ServiceSpec } from '../controller/index.js';
import { findPredictor, predictorLatencyModel, serveRun, servePeak, OnlineServer, parseHostPort, AUTH_TOKEN_ENV, checkAuthToken, isLoopbackHost } from '../serve/index.js';
import type { ResolvedModel } from './shared.js';
import { checkPredictorFit, predictorFindings } from './predictor-fit.js';
import { hasSeqInput, type Manifest } from '../zoo/manifest.js';
import { action, CUDA_OPTION_HELP, executionProviderFromFlags, parseIntList, parseIntOption, parseNumberOption, parseQosOption, parseRangeOption, parseScale, printJson, requireQueries, resolveModels } from './shared.js';

function parsePolicies(value: string): PolicyName[] {
  const list = value.split(/[\s,]+/).filter(Boolean);
  const expanded = list.includes('all') ? [...POLICY_NAMES] : list;
  for (const p of expanded) if (!(POLICY_NAMES as readonly string[]).includes(p)) throw new InvalidArgumentError(`--policy: unknown policy '${p}': expected ${POLICY_NAMES.join(', ')} or all`);
  return expanded as PolicyName[];
}

/** What the summary table shows: a run's summary, or a load client's (no decision times; policy as text). */
export type SummaryRow = Pick<RunSummary, 'issued' | 'completed' | 'late' | 'dropped' | 'failed' | 'violationRatio' | 'p50Ms' | 'p99Ms' | 'p99OverQos' | 'goodputQps'> & {
  policy: string;
  decisionP99Us?: number | null;
};

/** The summary table of `abacus serve` (and `abacus load`, whose summaries carry the server's policy as text). */
export function summaryTable(summaries: readonly SummaryRow[]): string {
  const f = (v: number | null, d = 1) => (v === null ? '-' : v.toFixed(d));
  const lines = ['policy       issued  done  late  drop  fail  viol%   p50ms   p99ms  p99/QoS  goodput/s  decide p99 µs'];
  for (const s of summaries) {
    lines.push(
      `${s.policy.padEnd(13)}${String(s.issued).padStart(6)}${String(s.completed).padStart(6)}${String(s.late).padStart(6)}${String(s.dropped).padStart(6)}${String(s.failed).padStart(6)}${(s.violationRatio * 100).toFixed(1).padStart(7)}${f(s.p50Ms).padStart(8)}${f(s.p99Ms).padStart(8)}${f(s.p99OverQos, 2).padStart(9)}${s.goodputQps.toFixed(1).padStart(11)}${f(s.decisionP99Us ?? null, 0).padStart(15)}`,
    );
  }
  return lines.join('\n');
}

/**
 * The first bundle under `roots` (in order) that fits the services; when none does, the error says the
 * commands that make the one this run needs.
 */
async function findPredictorIn(roots: readonly string[], services: readonly ServiceSpec[], explicit: string | undefined, run: { scale: string; ep: string; modelsDir: string; batchSizes: readonly number[]; seqLens: readonly number[] }, manifests: readonly Manifest[], reject?: (predictor: Predictor, dir: string) => string | null): Promise<{ predictor: Predictor; dir: string }> {
  const ids = services.map((s) => s.modelId);
  const names = services.map((s) => s.name);
  // an explicit bundle is not matched on FLOPs here: serve's range check that follows refuses another build of a
  // model with the full reason, and --allow-extrapolation is the user's way past it
  if (explicit) return findPredictor(roots[0] ?? '.', ids, names, explicit);
  const reasons: string[] = [];
  for (const root of roots) {
    try {
      return await findPredictor(root, ids, names, undefined, manifests, reject);
    } catch (err) {
      reasons.push(errorMessage(err).replace(/; train one with .*$/, ''));
    }
  }
  throw new InputError(`${reasons.join('; ')}. Make the predictor this run needs with: ${makePredictorCommand(services, run)} (or pass --predictor <bundle dir>)`);
}

/** The profile and train commands that make a predictor for this run (its models, scale, EP, batch sizes). */
function makePredictorCommand(services: readonly ServiceSpec[], run: { scale: string; ep: string; modelsDir: string; batchSizes: readonly number[]; seqLens: readonly number[] }): string {
  const n = services.length;
  const profileDir = join('runs', 'profile', `${run.ep}-${run.scale}-${n}in${n}`);
  const seq = services.some((s) => s.hasSeq) ? ` --seq-lens ${run.seqLens.join(',')}` : '';
  return (
    `abacus profile --model-num ${n} --comb ${services.map((s) => s.name).join(' ')} --scale ${run.scale} --ep ${run.ep} --models-dir ${run.modelsDir} --batch-sizes ${run.batchSizes.join(',')}${seq} --samples 10 --reps 10` +
    ` && abacus train --data ${profileDir} --modeling mlp`
  );
}

export function serveCommand(): Command {
  return new Command('serve')
    .description('serve several models on one accelerator under a policy (abacus, fcfs, sjf, edf, concurrent), with a seeded load')
    .requiredOption('--comb <models...>', 'the co-located models (zoo ids or names)')
    .option('--policy <list>', "policies to run on the same trace, or 'all'", parsePolicies, ['abacus'] as PolicyName[])
    .option('--qos <spec>', "QoS target in ms for every query ('50') or per model ('resnet50=50,bert=30')", parseQosOption('--qos'), 50 as QosSpec)
    .option('--load <qps>', 'Poisson arrival rate over all models, queries/s', parseNumberOption('--load', 0), 50)
    .option('--queries <n>', 'queries to issue', parseIntOption('--queries', 1), 1000)
    .addOption(new Option('--arrivals <kind>', 'arrival process').choices(['poisson', 'constant'] as const).default('poisson' as const))
    .option('--trace <csv>', 'replay a trace instead (arrival_ms,model,batch,seq,qos_ms)')
    .option('--batch-sizes <list>', 'batch sizes drawn per query', parseIntList('--batch-sizes'), [...DEFAULT_BATCH_SIZES])
    .option('--seq-lens <list>', 'BERT sequence lengths drawn per query', parseIntList('--seq-lens'), [...DEFAULT_SEQ_LENS])
    .option('--allow-extrapolation', 'use a predictor far outside the batch sizes, sequence lengths or model sizes it was trained on (refused by default)')
    .option('--ways <n>', 'split points priced per predictor call in the abacus search', parseIntOption('--ways', 1), 2)
    .option('--thld <ms>', 'slack below which the search accepts a split', parseNumberOption('--thld', 0), 5)
    .option('--abandon', 'drop queries predicted to miss their QoS (same rule in every policy)')
    .addOption(new Option('--barrier <mode>', "abacus: 'group' joins a group's members at one barrier (the paper); 'member' frees each member's service when it finishes and starts the next segment beside the running ones when the predictor says every deadline holds").choices(BARRIER_MODES as readonly BarrierMode[]).default('member' as BarrierMode))
    .option('--calibrate', "scale the predictor by this run's measured/predicted group latency (for a machine slower or faster than the one profiled)")
    .addOption(new Option('--calibration-scope <scope>', "with --calibrate: one ratio per model ('model') or one for every model ('global')").choices(['model', 'global']).default('model'))
    .option('--predictor <dir>', 'predictor bundle (default: the first under --predictors-root that fits the combination)')
    .option('--predictors-root <dirs...>', 'where to look for a bundle, in order', [join('runs', 'predictor'), join('data', 'predictor')])
    .option('--ep <ep>', 'execution provider: cpu, webgpu or cuda', 'cpu')
    .option('--cuda-option <key=value...>', CUDA_OPTION_HELP)
    .option('--threads <n>', 'intra-op threads per service (CPU); default cores / models', parseIntOption('--threads', 1))
    .option('--simulate', 'no executor: a virtual clock and the predictor stand in (fast, deterministic)')
    .option('--find-peak', 'find the highest Poisson load with p99 <= QoS and violations <= 1% per policy (bisection)')
    .option('--peak-range <lo,hi>', 'load bracket for --find-peak, queries/s', parseRangeOption('--peak-range'), [5, 200] as [number, number])
    .option('--peak-resolution <qps>', 'stop the --find-peak bisection when the bracket is narrower than this (default 1% of lo)', parseNumberOption('--peak-resolution', 0))
    .option('--seed <n>', 'seed of the trace', parseIntOption('--seed'), 0)
    .option('--models-dir <dir>', 'models folder', 'models')
    .addOption(new Option('--scale <scale>', 'scale of zoo models built on demand').default('full').argParser(parseScale))
    .option('--out <dir>', 'folder for per-query logs and summaries')
    .option('--json', 'print one JSON object on stdout')
    .option('--listen <host:port>', 'online: serve the Open Inference Protocol over HTTP here (port 0: any free port) until SIGTERM')
    .option('--grpc <host:port>', 'online: also serve it over gRPC here')
    .option('--max-queue <n>', 'online: outstanding requests before more are rejected (429)', parseIntOption('--max-queue', 1), 256)
    .option('--no-admission', 'online: do not reject requests predicted to miss their QoS (only a full queue rejects)')
    .option('--max-body-mb <n>', 'online: largest request body, MiB', parseNumberOption('--max-body-mb', 0.001), 64)
    .option('--max-inflight-mb <n>', 'online: request bodies held at once over both protocols, MiB; beyond, 503 (default 4 x --max-body-mb)', parseNumberOption('--max-inflight-mb', 0.001))
    .option('--auth-token <token>', `online: callers must send authorization: Bearer <token> on both protocols (health probes excepted); default $${AUTH_TOKEN_ENV}, which ps does not show`)
    .option('--max-connections <n>', 'online: open HTTP connections; beyond, 503 and closed', parseIntOption('--max-connections', 1), 1024)
    .option('--drain-timeout <s>', 'online: give up draining after this long on SIGTERM (exit 1)', parseNumberOption('--drain-timeout', 1), 120)
    .action(
      action(async (opts) => {
        if (opts.listen === undefined && opts.grpc !== undefined) throw new InputError('--grpc needs --listen');
        if (opts.listen !== undefined) {
          if (opts.policy.length !== 1) throw new InputError(`--listen serves one policy, got ${opts.policy.join(', ')}`);
          if (opts.findPeak || opts.trace || opts.simulate) throw new InputError('--listen cannot be combined with --find-peak, --trace or --simulate');
        }
        const ep = executionProviderFromFlags(opts.ep, opts.cudaOption);
        const models = await resolveModels(opts.comb, opts.modelsDir, opts.scale);
        const services: ServiceSpec[] = models.map((m) => ({ name: m.manifest.name, modelId: m.manifest.id, hasSeq: hasSeqInput(m.manifest) }));
        const qos = opts.qos;
        const needsPredictor = opts.policy.some((p) => p === 'sjf' || p === 'abacus') || opts.simulate === true || opts.abandon === true;
        let latencyModel: LatencyModel | null = null;
        let predictorDir: string | null = null;
        let found: { predictor: Predictor; dir: string } | null = null;
        const runShape = { scale: opts.scale, ep: opts.ep, modelsDir: opts.modelsDir, batchSizes: opts.batchSizes, seqLens: opts.seqLens };
        // an offline trace is read first: its shapes are what the predictor must cover
        const traceFromFile = opts.trace && opts.listen === undefined && !opts.findPeak ? readTraceCsv(opts.trace, services) : null;
        if (opts.trace && traceFromFile) requireQueries(opts.trace, traceFromFile);
        const of = (model: string, key: 'batch' | 'seq', flag: readonly number[]): number[] => (traceFromFile ? [...new Set(traceFromFile.filter((q) => q.model === model).map((q) => q[key]))] : [...flag]);
        const shapes = { batchSizes: (m: string) => of(m, 'batch', opts.batchSizes), seqLens: (m: string) => of(m, 'seq', opts.seqLens) };
        // a bundle found by looking (not named with --predictor) must also cover the run, or the next is tried
        const reject = (predictor: Predictor, dir: string): string | null => {
          if (opts.allowExtrapolation) return null;
          const far = predictorFindings(predictor, models, shapes).filter((f) => f.severity === 'refuse');
          return far.length > 0 ? `predictor bundle ${dir} was trained outside this run (${far.map((f) => f.message).join('; ')})` : null;
        };
        if (needsPredictor) {
          try {
            found = await findPredictorIn(opts.predictorsRoot, services, opts.predictor, runShape, models.map((m) => m.manifest), reject);
            latencyModel = predictorLatencyModel(found.predictor);
            predictorDir = found.dir;
          } catch (err) {
            if (opts.policy.some((p) => p === 'sjf' || p === 'abacus') || opts.simulate) throw err;
          }
        }
        // the predictor's training ranges against what this run serves (the trace's shapes, or the flags')
        if (found) checkPredictorFit(found.dir, found.predictor, models, shapes, opts.allowExtrapolation === true, `make a predictor for this run with: ${makePredictorCommand(services, runShape)}`);
        const threads = opts.threads ?? Math.max(1, Math.floor(availableParallelism() / models.length));
        if (opts.listen !== undefined) {
          await serveOnline({
            models, policy: opts.policy[0] as PolicyName, latencyModel, predictorDir, qos, ways: opts.ways, thldMs: opts.thld, abandon: opts.abandon === true, barrier: opts.barrier as BarrierMode,
            ep, threads, seed: opts.seed, batchSizes: opts.batchSizes, seqLens: opts.seqLens, listen: opts.listen, grpc: opts.grpc, maxQueue: opts.maxQueue,
            admission: opts.admission, maxBodyBytes: Math.round(opts.maxBodyMb * 1024 * 1024),
            maxInflightBodyBytes: Math.round((opts.maxInflightMb ?? 4 * opts.maxBodyMb) * 1024 * 1024), maxConnections: opts.maxConnections,
            authToken: opts.authToken ?? process.env[AUTH_TOKEN_ENV], drainTimeoutS: opts.drainTimeout, out: opts.out, json: opts.json === true,
          });
          return;
        }
        const base = { models, policies: opts.policy, latencyModel, ways: opts.ways, thldMs: opts.thld, abandon: opts.abandon === true, calibrate: opts.calibrate === true, calibrationScope: opts.calibrationScope as CalibrationScope, barrier: opts.barrier as BarrierMode, ep, intraOpThreads: threads, seed: opts.seed, simulate: opts.simulate === true };
        const loadSpec = { services, queries: opts.queries, arrivals: opts.arrivals, seed: opts.seed, qos, batchSizes: opts.batchSizes, seqLens: opts.seqLens };
        if (opts.findPeak) {
          const [lo, hi] = opts.peakRange;
          if (!base.simulate) process.stderr.write(`abacus serve: starting ${models.length} services and warming their sessions\n`);
          // progress per probe run (the bisection's number of probes is not known ahead)
          const bar = startProgress('serve --find-peak', opts.queries);
          let probe = 0;
          let probePolicy = '';
          let before = 0;
          let probes = 0;
          let peaks: Awaited<ReturnType<typeof servePeak>>;
          try {
            peaks = await servePeak({
              ...base, out: null, load: loadSpec, lowQps: lo, highQps: hi, ...(opts.peakResolution !== undefined ? { resolutionQps: opts.peakResolution } : {}),
              onQuery: (p, done) => {
                if (done === 1) {
                  probe = p === probePolicy ? probe + 1 : 1;
                  probePolicy = p;
                  // done and total count every probe so far: the rate is right, the ETA is the current probe's
                  if (probes > 0) before += opts.queries;
                  probes += 1;
                  bar.setTotal(probes * opts.queries);
                }
                bar.update(before + done, { info: `${p} probe ${probe}` });
              },
              onPoint: (p, l, s) => process.stderr.write(`peak search ${p}: ${l.toFixed(1)} q/s → p99/QoS ${s.p99OverQos?.toFixed(2) ?? '-'}, violations ${(s.violationRatio * 100).toFixed(1)}%\n`),
            });
          } finally {
            bar.stop();
          }
          const rows = Object.entries(peaks).map(([policy, r]) => ({
            policy,
            peakQps: r.peakQps,
            failQps: r.failQps,
            runs: r.points.length,
            points: r.points.map((pt) => ({
              loadQps: pt.loadQps,
              pass: pt.pass,
              issued: pt.summary.issued,
              completed: pt.summary.completed,
              late: pt.summary.late,
              dropped: pt.summary.dropped,
              failed: pt.summary.failed,
              violationRatio: pt.summary.violationRatio,
              p99OverQos: pt.summary.p99OverQos,
              p99Ms: pt.summary.p99Ms,
              goodputQps: pt.summary.goodputQps,
              decisionP99Us: pt.summary.decisionP99Us,
            })),
          }));
          const record = {
            peaks: rows,
            predictor: predictorDir,
            settings: { rule: 'p99 <= QoS and violations <= 1%', lowQps: lo, highQps: hi, resolutionQps: opts.peakResolution ?? null, ...loadSpec, services: services.map((x) => x.name), ways: opts.ways, thldMs: opts.thld, abandon: opts.abandon === true, threads },
            provenance: collectProvenance({ executionProvider: ep, seed: opts.seed }),
          };
          if (opts.out) writeJsonAtomic(join(opts.out, 'peak.json'), record);
          if (opts.json) printJson(record);
          else for (const r of rows) console.log(`${r.policy.padEnd(12)} peak ${r.peakQps?.toFixed(1) ?? 'none'} q/s (fails at ${r.failQps?.toFixed(1) ?? '-'}; ${r.runs} runs)`);
          return;
        }
        const trace = traceFromFile ?? generateTrace({ ...loadSpec, loadQps: opts.load });
        if (!base.simulate) process.stderr.write(`abacus serve: starting ${models.length} services and warming their sessions\n`);
        const bar = startProgress('serve', trace.length * opts.policy.length);
        let result: Awaited<ReturnType<typeof serveRun>>;
        try {
          result = await serveRun({
            ...base,
            trace,
            out: opts.out ?? null,
            onQuery: (p, done) => bar.update(opts.policy.indexOf(p) * trace.length + done, { info: p }),
            onPolicy: (p, s) => process.stderr.write(`${p}: ${s.completed}/${s.issued} completed, violations ${(s.violationRatio * 100).toFixed(1)}%\n`),
          });
        } finally {
          bar.stop();
        }
        if (opts.json) {
          // one shape whatever the number of policies
          printJson({ summaries: result.summaries, predictor: predictorDir });
        } else {
          console.log(summaryTable(result.summaries));
          if (predictorDir) console.log(`predictor: ${predictorDir}`);
        }
      }),
    );
}

interface OnlineCliOptions {
  models: ResolvedModel[];
  policy: PolicyName;
  latencyModel: LatencyModel | null;
  predictorDir: string | null;
  qos: QosSpec;
  ways: number;
  thldMs: number;
  abandon: boolean;
  barrier: BarrierMode;
  ep: ReturnType<typeof parseExecutionProvider>;
  threads: number;
  seed: number;
  batchSizes: number[];
  seqLens: number[];
  listen: string;
  grpc: string | undefined;
  maxQueue: number;
  admission: boolean;
  maxBodyBytes: number;
  maxInflightBodyBytes: number;
  maxConnections: number;
  authToken: string | undefined;
  drainTimeoutS: number;
  out: string | undefined;
  json: boolean;
}

/** `abacus serve --listen`: run the online server until SIGTERM/SIGINT, then drain and print the run's summary. */
async function serveOnline(o: OnlineCliOptions): Promise<void> {
  if ((o.policy === 'sjf' || o.policy === 'abacus') && !o.latencyModel) throw new InputError(`policy ${o.policy} needs a predictor (--predictor, or a bundle under data/predictor/)`);
  const listen = parseHostPort(o.listen, '--listen');
  const grpc = o.grpc !== undefined ? parseHostPort(o.grpc, '--grpc') : undefined;
  if (o.authToken !== undefined) {
    const bad = checkAuthToken(o.authToken);
    if (bad) throw new InputError(`--auth-token / $${AUTH_TOKEN_ENV}: ${bad}`);
  } else {
    for (const at of [listen, ...(grpc ? [grpc] : [])]) {
      if (!isLoopbackHost(at.host)) process.stderr.write(`abacus: warning: listening on ${at.host} without --auth-token: anyone who can reach it may call it (bind to 127.0.0.1, or set $${AUTH_TOKEN_ENV})\n`);
    }
  }
  const provenance = collectProvenance({ executionProvider: o.ep, seed: o.seed });
  if (o.out) ensureDir(o.out);
  const log = o.out ? openRunLog({ path: join(o.out, `${o.policy}.queries.csv`), format: 'csv', groupsPath: join(o.out, `${o.policy}.groups.ndjson`) }) : undefined;
  const server = await OnlineServer.start({
    models: o.models, policy: o.policy, latencyModel: o.latencyModel, qos: o.qos, ways: o.ways, thldMs: o.thldMs, abandon: o.abandon, barrier: o.barrier,
    ep: o.ep, intraOpThreads: o.threads, seed: o.seed, batchSizes: o.batchSizes, seqLens: o.seqLens, maxQueue: o.maxQueue,
    predictAdmission: o.admission, maxBodyBytes: o.maxBodyBytes, maxInflightBodyBytes: o.maxInflightBodyBytes, maxConnections: o.maxConnections,
    ...(o.authToken !== undefined ? { authToken: o.authToken } : {}), listen, ...(grpc ? { grpc } : {}), ...(log ? { log } : {}),
  });
  const http = server.httpAddress;
  const names = o.models.map((m) => m.manifest.name).join(', ');
  process.stderr.write(`abacus: serving ${names} under ${o.policy} on http://${http.host}:${http.port}${server.grpcAddress ? ` and grpc ${server.grpcAddress.host}:${server.grpcAddress.port}` : ''}${o.predictorDir ? ` (predictor ${o.predictorDir})` : ''}\n`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  process.stderr.write(`abacus: ${signal}: not accepting new requests; draining\n`);
  const forced = setTimeout(() => {
    process.stderr.write(`abacus: draining took longer than ${o.drainTimeoutS} s; exiting\n`);
    process.exit(1);
  }, o.drainTimeoutS * 1000);
  forced.unref();
  const again = (): void => {
    process.stderr.write('abacus: second signal: exiting without draining\n');
    process.exit(1);
  };
  process.once('SIGTERM', again);
  process.once('SIGINT', again);
  let summary: RunSummary;
  try {
    summary = await server.drain();
  } finally {
    log?.close();
    clearTimeout(forced);
  }
  const status = server.status();
  const extra = { rejected: status.queue?.rejected ?? null, restarts: status.restarts, predictor: o.predictorDir };
  if (o.out) writeJsonAtomic(join(o.out, 'summary.json'), { ...summary, ...extra, provenance });
  if (o.json) printJson({ ...summary, ...extra });
  else {
    console.log(summaryTable([summary]));
    const r = extra.rejected;
    if (r) console.log(`rejected at admission: ${r['predicted-miss']} predicted to miss, ${r['queue-full']} queue full, ${r.closed} while not accepting`);
  }
}
