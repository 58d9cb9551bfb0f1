/** `abacus serve`: the query controller over the executor (or a simulation), every policy on one trace. */
import { Command, Option } from '@commander-js/extra-typings';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../common/errors.js';
import { DEFAULT_BATCH_SIZES, DEFAULT_SEQ_LENS } from '../zoo/catalog.js';
import { parseExecutionProvider } from '../executor/index.js';
import { generateTrace, readTraceCsv, parseQosSpec, POLICY_NAMES, type PolicyName, type RunSummary, type ServiceSpec } from '../controller/index.js';
import { findPredictor, predictorLatencyModel, serveRun, servePeak } from '../serve/index.js';
import { action, parseIntList, parseIntOption, parseNumberOption, parseScale, printJson, resolveModels } from './shared.js';

function parsePolicies(value: string): PolicyName[] {
  const list = value.split(/[\s,]+/).filter(Boolean);
  const expanded = list.includes('all') ? [...POLICY_NAMES] : list;
  for (const p of expanded) if (!(POLICY_NAMES as readonly string[]).includes(p)) throw new InputError(`unknown policy '${p}': expected ${POLICY_NAMES.join(', ')} or all`);
  return expanded as PolicyName[];
}

export function summaryTable(summaries: readonly RunSummary[]): string {
  const f = (v: number | null, d = 1) => (v === null ? '-' : v.toFixed(d));
  const lines = ['policy       issued  done  late  drop  fail  viol%   p50ms   p99ms  p99/QoS  goodput/s  decide p99 µs'];
  for (const s of summaries) {
    lines.push(
      `${s.policy.padEnd(13)}${String(s.issued).padStart(6)}${String(s.completed).padStart(6)}${String(s.late).padStart(6)}${String(s.dropped).padStart(6)}${String(s.failed).padStart(6)}${(s.violationRatio * 100).toFixed(1).padStart(7)}${f(s.p50Ms).padStart(8)}${f(s.p99Ms).padStart(8)}${f(s.p99OverQos, 2).padStart(9)}${s.goodputQps.toFixed(1).padStart(11)}${f(s.decisionP99Us, 0).padStart(15)}`,
    );
  }
  return lines.join('\n');
}

export function serveCommand(): Command {
  return new Command('serve')
    .description('serve several models on one accelerator under a policy (abacus, fcfs, sjf, edf, concurrent), with a seeded load')
    .requiredOption('--comb <models...>', 'the co-located models (zoo ids or names)')
    .option('--policy <list>', "policies to run on the same trace, or 'all'", parsePolicies, ['abacus'] as PolicyName[])
    .option('--qos <spec>', "QoS target in ms for every query ('50') or per model ('resnet50=50,bert=30')", '50')
    .option('--load <qps>', 'Poisson arrival rate over all models, queries/s', parseNumberOption('--load', 0), 50)
    .option('--queries <n>', 'queries to issue', parseIntOption('--queries', 1), 1000)
    .addOption(new Option('--arrivals <kind>', 'arrival process').choices(['poisson', 'constant'] as const).default('poisson' as const))
    .option('--trace <csv>', 'replay a trace instead (arrival_ms,model,batch,seq,qos_ms)')
    .option('--batch-sizes <list>', 'batch sizes drawn per query', parseIntList('--batch-sizes'), [...DEFAULT_BATCH_SIZES])
    .option('--seq-lens <list>', 'BERT sequence lengths drawn per query', parseIntList('--seq-lens'), [...DEFAULT_SEQ_LENS])
    .option('--ways <n>', 'split points priced per predictor call in the abacus search', parseIntOption('--ways', 1), 2)
    .option('--thld <ms>', 'slack below which the search accepts a split', parseNumberOption('--thld', 0), 5)
    .option('--abandon', 'drop queries predicted to miss their QoS (same rule in every policy)')
    .option('--predictor <dir>', 'predictor bundle (default: the one under data/predictor/ that fits the combination)')
    .option('--predictors-root <dir>', 'where to look for a bundle', join('data', 'predictor'))
    .option('--ep <ep>', 'execution provider: cpu, webgpu or cuda', 'cpu')
    .option('--threads <n>', 'intra-op threads per service (CPU); default cores / models', parseIntOption('--threads', 1))
    .option('--simulate', 'no executor: a virtual clock and the predictor stand in (fast, deterministic)')
    .option('--find-peak', 'find the highest Poisson load with p99 <= QoS and violations <= 1% per policy (bisection)')
    .option('--peak-range <lo,hi>', 'load bracket for --find-peak, queries/s', '5,200')
    .option('--peak-resolution <qps>', 'stop the --find-peak bisection when the bracket is narrower than this (default 1% of lo)', parseNumberOption('--peak-resolution', 0))
    .option('--seed <n>', 'seed of the trace', parseIntOption('--seed'), 0)
    .option('--models-dir <dir>', 'models folder', 'models')
    .addOption(new Option('--scale <scale>', 'scale of zoo models built on demand').default('full').argParser(parseScale))
    .option('--out <dir>', 'folder for per-query logs and summaries')
    .option('--json', 'print one JSON object on stdout')
    .action(
      action(async (opts) => {
        const ep = parseExecutionProvider(opts.ep);
        const models = await resolveModels(opts.comb, opts.modelsDir, opts.scale);
        const services: ServiceSpec[] = models.map((m) => ({ name: m.manifest.name, modelId: m.manifest.id, hasSeq: m.manifest.inputs.some((i) => i.shape.includes('seq')) }));
        const qos = parseQosSpec(opts.qos);
        const needsPredictor = opts.policy.some((p) => p === 'sjf' || p === 'abacus') || opts.simulate === true || opts.abandon === true;
        let latencyModel = null;
        let predictorDir: string | null = null;
        if (needsPredictor) {
          try {
            const found = await findPredictor(opts.predictorsRoot, services.map((s) => s.modelId), services.map((s) => s.name), opts.predictor);
            latencyModel = predictorLatencyModel(found.predictor);
            predictorDir = found.dir;
          } catch (err) {
            if (opts.policy.some((p) => p === 'sjf' || p === 'abacus') || opts.simulate) throw err;
          }
        }
        const threads = opts.threads ?? Math.max(1, Math.floor(availableParallelism() / models.length));
        const base = { models, policies: opts.policy, latencyModel, ways: opts.ways, thldMs: opts.thld, abandon: opts.abandon === true, ep, intraOpThreads: threads, seed: opts.seed, simulate: opts.simulate === true };
        const loadSpec = { services, queries: opts.queries, arrivals: opts.arrivals, seed: opts.seed, qos, batchSizes: opts.batchSizes, seqLens: opts.seqLens };
        if (opts.findPeak) {
          const [lo, hi] = opts.peakRange.split(',').map(Number) as [number, number];
          const peaks = await servePeak({ ...base, out: null, load: loadSpec, lowQps: lo, highQps: hi, ...(opts.peakResolution !== undefined ? { resolutionQps: opts.peakResolution } : {}), onPoint: (p, l, s) => process.stderr.write(`peak search ${p}: ${l.toFixed(1)} q/s → p99/QoS ${s.p99OverQos?.toFixed(2) ?? '-'}, violations ${(s.violationRatio * 100).toFixed(1)}%\n`) });
          const rows = Object.entries(peaks).map(([policy, r]) => ({ policy, peakQps: r.peakQps, failQps: r.failQps, runs: r.points.length }));
          if (opts.json) printJson({ peaks: rows, predictor: predictorDir });
          else for (const r of rows) console.log(`${r.policy.padEnd(12)} peak ${r.peakQps?.toFixed(1) ?? 'none'} q/s (fails at ${r.failQps?.toFixed(1) ?? '-'}; ${r.runs} runs)`);
          return;
        }
        const trace = opts.trace ? readTraceCsv(opts.trace, services) : generateTrace({ ...loadSpec, loadQps: opts.load });
        const result = await serveRun({
          ...base,
          trace,
          out: opts.out ?? null,
          onPolicy: (p, s) => process.stderr.write(`${p}: ${s.completed}/${s.issued} completed, violations ${(s.violationRatio * 100).toFixed(1)}%\n`),
        });
        if (opts.json) {
          const one = result.summaries.length === 1 ? result.summaries[0] : undefined;
          printJson(one ? { ...one, predictor: predictorDir } : { summaries: result.summaries, predictor: predictorDir });
        } else {
          console.log(summaryTable(result.summaries));
          if (predictorDir) console.log(`predictor: ${predictorDir}`);
        }
      }),
    );
}
