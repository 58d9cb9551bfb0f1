/**
 * The cluster experiment's helper (`node --import tsx experiments/7.6_cluster/cluster.ts <command>`):
 *
 *   probe     a capacity probe's verdict (pass: violations within a bound, nothing failed)
 *   trace     the original's 120-step load shape (loads.json), resampled to --steps and scaled so that its
 *             peak is --load-factor × the capacity, as a trace CSV of Poisson arrivals per step
 *   finish    per-step numbers of every balancer from its requests.csv (one accounting rule for all),
 *             steps.csv, summary.json, summary.md and the figure (src/report clusterTimeSeriesSpec)
 *
 * The accounting rule (the same for every balancer; README.md): a request belongs to the step in which
 * the client scheduled it; every request sent is counted once as ok, late, rejected or failed; latency is
 * measured by the client from the scheduled send time to the end of the reply; p99 and mean are over the
 * answered (ok + late) requests with no latency cut-off; the only cut-off is the client timeout (an
 * unanswered request is failed).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { Command } from '@commander-js/extra-typings';
import { InputError, errorMessage, exitCodeOf } from '../../src/common/errors.js';
import { writeFileAtomic, writeJsonAtomic } from '../../src/common/fsutil.js';
import { collectProvenance } from '../../src/common/provenance.js';
import { Rng } from '../../src/common/rng.js';
import { mean } from '../../src/common/stats.js';
import { formatTraceCsv, zooServices, type TraceQuery } from '../../src/controller/index.js';
import { loadSteps, windowStats, type LoadOutcome, type LoadRecord, type LoadStep, type WindowStats } from '../../src/serve/load.js';
import { clusterTimeSeriesSpec, renderVegaLite, BALANCER_NAMES, type BalancerName, type ClusterStepRow, type OfferedLoadRow, type VegaLiteSpec } from '../../src/report/index.js';

// This file runs from experiments/7.6_cluster/ (tsx) or compiled from dist/experiments/ (npm run build);
// its data file stays in experiments/7.6_cluster/.
const HERE = new URL('.', import.meta.url);
const LOADS_FILE = [new URL('loads.json', HERE), new URL('../../experiments/7.6_cluster/loads.json', HERE)].find((u) => existsSync(u));

function run<A extends unknown[]>(fn: (...args: A) => Promise<void> | void): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      process.stderr.write(`cluster: ${errorMessage(err)}\n`);
      process.exitCode = exitCodeOf(err);
    }
  };
}

const num = (name: string) => (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new InputError(`${name} must be a number >= 0 (got '${v}')`);
  return n;
};
const list = (v: string): string[] => v.split(/[\s,]+/).filter(Boolean);

/** The original's loads (requests/s per one-minute step). */
export function originalLoads(): number[] {
  if (!LOADS_FILE) throw new Error(`loads.json not found beside ${HERE.pathname} nor in experiments/7.6_cluster/`);
  const doc = JSON.parse(readFileSync(LOADS_FILE, 'utf8')) as { requestsPerSecond: number[] };
  if (doc.requestsPerSecond.length !== 120) throw new Error('loads.json must hold 120 values');
  return doc.requestsPerSecond;
}

/** Resample to `steps` values by averaging equal blocks (the shape survives; 120 steps gives the values). */
export function resample(values: readonly number[], steps: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < steps; i++) {
    const a = Math.floor((i * values.length) / steps);
    const b = Math.max(a + 1, Math.floor(((i + 1) * values.length) / steps));
    out.push(mean(values.slice(a, b)));
  }
  return out;
}

/** Piecewise Poisson arrivals: step i at rate rates[i] for stepS seconds; models, batch and seq drawn uniformly. */
export function stepTrace(rates: readonly number[], stepS: number, opts: { models: string[]; qosMs: number; batchSizes: number[]; seqLens: number[]; seed: number }): TraceQuery[] {
  const services = zooServices(opts.models);
  const root = new Rng(opts.seed);
  const gaps = root.fork();
  const pick = root.fork();
  const out: TraceQuery[] = [];
  rates.forEach((rate, i) => {
    const start = i * stepS * 1000;
    const end = start + stepS * 1000;
    // the first request at 0, so that the client's clock and the steps start together
    let t = i === 0 ? 0 : start + gaps.exponential(1) * (1000 / rate);
    while (t < end) {
      const s = pick.pick(services);
      const batch = pick.pick(opts.batchSizes);
      const seq = pick.pick(opts.seqLens);
      out.push({ id: `c${out.length}`, arrivalMs: Math.round(t * 1000) / 1000, model: s.name, modelId: s.modelId, batch, seq: s.hasSeq ? seq : 0, qosMs: opts.qosMs });
      t += gaps.exponential(1) * (1000 / rate);
    }
  });
  return out;
}

function readRecords(path: string): LoadRecord[] {
  const rows = parse(readFileSync(path, 'utf8'), { columns: true, skip_empty_lines: true }) as Record<string, string>[];
  const n = (v: string | undefined): number | null => (v === undefined || v === '' ? null : Number(v));
  return rows.map((r) => ({
    id: r.id as string, model: r.model as string, batch: Number(r.batch), seq: Number(r.seq), qosMs: Number(r.qos_ms), sentMs: Number(r.sent_ms), finishMs: Number(r.finish_ms),
    latencyMs: n(r.latency_ms), outcome: r.outcome as LoadOutcome, httpStatus: Number(r.http_status), grpcCode: n(r.grpc_code), serverTotalMs: n(r.server_total_ms), serverQueueMs: n(r.server_queue_ms), error: r.error === '' ? null : (r.error ?? null),
  }));
}

const BALANCER_LABEL: Record<string, string> = { random: 'random', 'least-loaded': 'least-loaded', headroom: 'headroom-aware', clock: 'clock (Clockwork emulation)' };
const CLOCK_COLOR = '#009E73';

/**
 * The figure: clusterTimeSeriesSpec draws random, least-loaded and headroom; a balancer it does not know
 * (clock) is added to the same spec as one more series with its own colour in every panel.
 */
function figureSpec(rows: readonly { balancer: string; row: Omit<ClusterStepRow, 'balancer'> }[], offered: OfferedLoadRow[], qosMs: number, title: string): VegaLiteSpec {
  const known = rows.filter((r): r is { balancer: BalancerName; row: Omit<ClusterStepRow, 'balancer'> } => (BALANCER_NAMES as readonly string[]).includes(r.balancer));
  const extra = rows.filter((r) => !(BALANCER_NAMES as readonly string[]).includes(r.balancer));
  if (known.length === 0) throw new InputError('the figure needs at least one of random, least-loaded, headroom');
  const spec = clusterTimeSeriesSpec(known.map((r) => ({ ...r.row, balancer: r.balancer })), { offered, qosMs, title }) as unknown as Record<string, unknown>;
  if (extra.length === 0) return spec as unknown as VegaLiteSpec;
  const unit = Math.max(...rows.map((r) => r.row.timeS), ...offered.map((o) => o.timeS)) > 600 ? 60 : 1;
  const data = spec.data as { values: { t: number; series: string; metric: string; value: number }[] };
  const panels = spec.vconcat as { layer: { encoding?: Record<string, { scale?: { domain: unknown[]; range: unknown[] }; sort?: unknown[] }> }[] }[];
  if (!data?.values || !Array.isArray(panels)) throw new Error('clusterTimeSeriesSpec changed shape: cannot add the clock series');
  for (const balancer of [...new Set(extra.map((r) => r.balancer))]) {
    const label = BALANCER_LABEL[balancer] ?? balancer;
    for (const r of extra.filter((x) => x.balancer === balancer)) {
      for (const [metric, value] of [['throughput', r.row.throughputQps], ['p99', r.row.p99Ms], ['mean', r.row.meanMs]] as const) data.values.push({ t: r.row.timeS / unit, series: label, metric, value });
    }
    for (const panel of panels) {
      const enc = panel.layer[0]?.encoding;
      const color = enc?.color;
      const dash = enc?.strokeDash;
      if (!color?.scale || !dash?.scale) throw new Error('clusterTimeSeriesSpec changed shape: no colour or dash scale');
      // panels may share their scale objects: extend each array once
      const extend = (scale: { domain: unknown[]; range: unknown[] }, value: unknown): void => {
        if (!scale.domain.includes(label)) scale.domain.push(label);
        if (scale.range.length < scale.domain.length) scale.range.push(value);
      };
      extend(color.scale, CLOCK_COLOR);
      extend(dash.scale, [6, 2, 1, 2]);
      for (const sort of [color.sort, dash.sort]) if (sort && !sort.includes(label)) sort.push(label);
    }
  }
  return spec as unknown as VegaLiteSpec;
}

type BalancerTotals = { balancer: string } & WindowStats;

function totals(balancer: string, records: readonly LoadRecord[], seconds: number): BalancerTotals {
  return { balancer, ...windowStats(records, seconds) };
}

const program = new Command('cluster');

program
  .command('probe')
  .description("a capacity probe's verdict from its abacus load --json summary: 'pass' when at most --max-violations of the requests missed their QoS and none failed, else 'fail'")
  .requiredOption('--summary <file>')
  .option('--max-violations <x>', 'largest share of late, rejected or failed requests that passes', num('--max-violations'), 0.05)
  .action(run((opts) => {
    const s = JSON.parse(readFileSync(opts.summary, 'utf8')) as { violationRatio: number; failed: number; sent: number; goodputQps: number };
    const pass = s.sent > 0 && s.failed === 0 && s.violationRatio <= opts.maxViolations;
    process.stdout.write(`${pass ? 'pass' : 'fail'} goodput ${s.goodputQps.toFixed(1)}/s, violations ${(s.violationRatio * 100).toFixed(1)}%\n`);
  }));

program
  .command('trace')
  .description("the original's load shape, resampled and scaled to the capacity, as a trace CSV; offered.json per step")
  .requiredOption('--steps <n>', 'steps', num('--steps'))
  .requiredOption('--step-s <s>', 'seconds per step', num('--step-s'))
  .requiredOption('--capacity <qps>', 'measured capacity of the nodes, answered requests/s', num('--capacity'))
  .requiredOption('--load-factor <x>', "the trace's peak as a share of the capacity", num('--load-factor'))
  .requiredOption('--models <list>', 'served models', list)
  .requiredOption('--qos <ms>', 'QoS of every request', num('--qos'))
  .requiredOption('--batch-sizes <list>', 'batch sizes', list)
  .option('--seq-lens <list>', 'BERT sequence lengths', list, ['8', '16', '32', '64'])
  .option('--seed <n>', 'seed', num('--seed'), 0)
  .requiredOption('--out <dir>', 'folder for trace.csv and offered.json')
  .action(run((opts) => {
    if (!Number.isInteger(opts.steps) || opts.steps < 1 || opts.steps > 120) throw new InputError('--steps must be an integer in 1..120');
    const shape = resample(originalLoads(), opts.steps);
    const peak = Math.max(...shape);
    const scale = (opts.loadFactor * opts.capacity) / peak;
    const rates = shape.map((v) => v * scale);
    const trace = stepTrace(rates, opts.stepS, { models: opts.models, qosMs: opts.qos, batchSizes: opts.batchSizes.map(Number), seqLens: opts.seqLens.map(Number), seed: opts.seed });
    writeFileAtomic(join(opts.out, 'trace.csv'), formatTraceCsv(trace));
    const offered = rates.map((rate, i) => ({ step: i, timeS: i * opts.stepS, shapeQps: shape[i], rateQps: rate, sent: trace.filter((q) => Math.floor(q.arrivalMs / (opts.stepS * 1000)) === i).length }));
    writeJsonAtomic(join(opts.out, 'offered.json'), { capacityQps: opts.capacity, loadFactor: opts.loadFactor, scale, stepS: opts.stepS, steps: offered });
    process.stdout.write(`${trace.length} requests over ${opts.steps} steps of ${opts.stepS} s, ${Math.min(...rates).toFixed(1)}-${Math.max(...rates).toFixed(1)} requests/s\n`);
  }));

program
  .command('finish')
  .description('per-step numbers, summary and figure of a run folder')
  .requiredOption('--run <dir>', 'the results folder')
  .requiredOption('--balancers <list>', 'balancers run, in order', list)
  .requiredOption('--qos <ms>', 'QoS', num('--qos'))
  .action(run(async (opts) => {
    const offered = JSON.parse(readFileSync(join(opts.run, 'offered.json'), 'utf8')) as { stepS: number; capacityQps: number; loadFactor: number; scale: number; steps: { step: number; timeS: number; rateQps: number; sent: number }[] };
    const stepS = offered.stepS;
    const seconds = offered.steps.length * stepS;
    const csv = ['balancer,step,time_s,offered_qps,sent,ok,late,rejected,failed,throughput_qps,goodput_qps,p99_ms,mean_ms,violation_ratio'];
    const figureRows: { balancer: string; row: Omit<ClusterStepRow, 'balancer'> }[] = [];
    const summaries: BalancerTotals[] = [];
    for (const balancer of opts.balancers) {
      const records = readRecords(join(opts.run, 'raw', balancer, 'requests.csv'));
      const steps: LoadStep[] = loadSteps(records, stepS);
      for (const s of steps) {
        const off = offered.steps[s.step];
        csv.push([balancer, s.step, s.startS, off ? (off.sent / stepS).toFixed(3) : '', s.sent, s.ok, s.late, s.rejected, s.failed, s.throughputQps.toFixed(3), s.goodputQps.toFixed(3), s.p99Ms?.toFixed(3) ?? '', s.meanMs?.toFixed(3) ?? '', s.violationRatio.toFixed(5)].join(','));
        // a step with no answered request has no latency to draw: it is left out of the figure (not of the CSV)
        if (s.p99Ms !== null && s.meanMs !== null) figureRows.push({ balancer, row: { timeS: s.startS, throughputQps: s.throughputQps, p99Ms: s.p99Ms, meanMs: s.meanMs } });
      }
      summaries.push(totals(balancer, records, seconds));
    }
    writeFileAtomic(join(opts.run, 'steps.csv'), `${csv.join('\n')}\n`);
    const rule = 'One rule for every balancer: a request belongs to the step in which the client scheduled it; every request sent counts once as ok, late, rejected (429) or failed (other status, network error, or no reply within the client timeout: the only cut-off); latency is measured by the client from the scheduled send time to the end of the reply; p99 and mean are over answered (ok + late) requests with no latency filter; throughput = answered / step seconds; goodput = ok / step seconds; violations = (late + rejected + failed) / sent. The same trace is sent to every balancer over freshly started nodes.';
    writeJsonAtomic(join(opts.run, 'summary.json'), { capacityQps: offered.capacityQps, loadFactor: offered.loadFactor, stepS, steps: offered.steps.length, qosMs: opts.qos, accounting: rule, balancers: summaries, provenance: collectProvenance() });
    const f = (v: number | null, d = 1): string => (v === null ? '-' : v.toFixed(d));
    const md = [
      '| balancer | sent | ok | late | rejected | failed | throughput/s | goodput/s | p99 ms | mean ms | violations |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
      ...summaries.map((s) => `| ${s.balancer} | ${s.sent} | ${s.ok} | ${s.late} | ${s.rejected} | ${s.failed} | ${f(s.throughputQps)} | ${f(s.goodputQps)} | ${f(s.p99Ms)} | ${f(s.meanMs)} | ${(s.violationRatio * 100).toFixed(1)}% |`),
      '',
      rule,
      '',
    ];
    writeFileAtomic(join(opts.run, 'summary.md'), md.join('\n'));
    const offeredRows: OfferedLoadRow[] = offered.steps.map((s) => ({ timeS: s.timeS, offeredQps: s.sent / stepS }));
    const spec = figureSpec(figureRows, offeredRows, opts.qos, `Cluster of ${offered.steps.length} steps: throughput, p99 and mean latency per balancer`);
    await renderVegaLite(spec, { svgPath: join(opts.run, 'figures', 'cluster.svg'), pngPath: join(opts.run, 'figures', 'cluster.png'), specPath: join(opts.run, 'figures', 'cluster.vl.json') });
    process.stdout.write(`${md.slice(0, summaries.length + 2).join('\n')}\n`);
  }));

await program.parseAsync(process.argv);
