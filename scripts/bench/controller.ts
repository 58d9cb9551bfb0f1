/**
 * Decision time of the abacus controller on the path `abacus serve` runs: a real `MlpPredictor` behind
 * `predictorLatencyModel` (the adapter serving uses), for ways 1, 2, 4, 8, 16. Target (issue #6): p99 <= 100 µs
 * per decision for ways 2 to 16. Two scenarios:
 *
 * - `zoo4`: resnet101, resnet152, vgg19 and bert (F = 7 + 4·4 = 23). The MLP is distilled in-process, with
 *   the project's trainer (seeded), from the closed-form `AnalyticLatencyModel` on random groups, so its
 *   predictions (and with them the prefixes and search depths) are realistic; the simulated runner's
 *   latencies are the analytic model's with 5 % noise. `--predictor DIR` loads a bundle for these four
 *   models with 4 slots instead.
 * - `tiny-pair`: inception_v3 and bert with the repository's bundle data/predictor/cpu-tiny-2in4-mlp-all
 *   (trained on the tiny models' CPU profile: 2 slots, F = 12); the simulated runner takes its latencies
 *   from the same bundle with 5 % noise.
 *
 * Each point serves a seeded Poisson trace on the simulated runner (virtual clock) and reports the
 * distribution of the controller's own decision times (real time, µs), and a micro-benchmark of
 * `searchSplit` alone (zoo4: resnet152's 52 operators next to a resnet101 base). Prints JSON on stdout.
 * Usage: npx tsx scripts/bench/controller.ts [--queries N] [--seed S] [--scenario zoo4|tiny-pair|all] [--predictor DIR]
 */
import { performance } from 'node:perf_hooks';
import { collectProvenance } from '../../src/common/provenance.js';
import { Rng } from '../../src/common/rng.js';
import {
  AnalyticLatencyModel,
  generateTrace,
  latencyFromModel,
  searchSplit,
  simulateServing,
  zooOperatorCounts,
  zooServices,
  type GroupMember,
  type LatencyModel,
  type QosSpec,
  type ServiceSpec,
  type SimulatedLatencyFn,
} from '../../src/controller/index.js';
import { encodeGroups, featureCount, makeFeatureSpec } from '../../src/predictor/features.js';
import { loadPredictor, type Predictor } from '../../src/predictor/index.js';
import { MlpPredictor } from '../../src/predictor/mlp.js';
import { trainMlp } from '../../src/predictor/mlp-train.js';
import { predictorLatencyModel } from '../../src/serve/adapters.js';
import { ZOO } from '../../src/zoo/catalog.js';
import { loadAverage1m, numberArg, printResult, stringArg, target, timingStats, type BenchTarget } from './common.js';

const TARGET_P99_US = 100;
const TARGET_WAYS = [2, 4, 8, 16];
const WAYS = [1, 2, 4, 8, 16];
const TINY_BUNDLE = 'data/predictor/cpu-tiny-2in4-mlp-all';

const queries = numberArg('queries', 3000);
const seed = numberArg('seed', 0);
const scenarioArg = stringArg('scenario') ?? 'all';
const predictorDir = stringArg('predictor');
if (!['zoo4', 'tiny-pair', 'all'].includes(scenarioArg)) throw new Error(`--scenario must be zoo4, tiny-pair or all, got ${scenarioArg}`);

interface Scenario {
  name: string;
  services: ServiceSpec[];
  qosMs: QosSpec;
  loadQps: number;
  predictor: Predictor;
  predictorSource: string;
  /** The simulated runner's latency (a fresh function per run: its noise generator is seeded). */
  runnerLatency: () => SimulatedLatencyFn;
  /** searchSplit alone: a base and the searched query's model, batch set and operator count. */
  searchMicro: { base: GroupMember[]; modelId: number; operators: number; budgetMs: [number, number] } | null;
}

const r2 = (v: number | null): number | null => (v === null ? null : Math.round(v * 100) / 100);

/** A LatencyModel that counts the rows it prices (calls go to the serving adapter unchanged). */
function counting(model: LatencyModel): LatencyModel & { rows: number; calls: number } {
  const counter = {
    rows: 0,
    calls: 0,
    predictMs(groups: readonly (readonly GroupMember[])[], out?: Float64Array): Float64Array {
      counter.rows += groups.length;
      counter.calls++;
      return model.predictMs(groups, out);
    },
  };
  return counter;
}

/** Random groups of the services (each present with probability 1/2, at least one), priced by `analytic`. */
async function distill(services: ServiceSpec[], analytic: AnalyticLatencyModel): Promise<{ predictor: MlpPredictor; source: string }> {
  // the default feature encoding (3) as serving's bundles use (uniform per-operator GFLOPs: the decision's cost does not depend on the values)
  const spec = makeFeatureSpec(ZOO.map((z) => ({ ...z, work: { operatorGflops: Array.from({ length: z.operatorCount }, () => 1), referenceSeq: z.hasSeq ? 64 : 0 } })), services.length);
  const rng = new Rng(seed + 1000);
  const groups: GroupMember[][] = [];
  const rows = 4000;
  const epochs = 150;
  while (groups.length < rows) {
    const g: GroupMember[] = [];
    for (const s of services) {
      if (rng.next() < 0.5) continue;
      const ops = ZOO[s.modelId]!.operatorCount;
      const start = rng.int(0, ops - 1);
      g.push({ modelId: s.modelId, start, end: rng.int(start + 1, ops), batch: rng.pick([4, 8, 16, 32]), seq: s.hasSeq ? rng.pick([8, 16, 32, 64]) : 0 });
    }
    if (g.length > 0) groups.push(g);
  }
  // log-latency labels, as `abacus train` fits by default: predictMs pays the exp as in serving
  const data = { features: encodeGroups(spec, groups), labelsMs: analytic.predictMs(groups).map(Math.log), rows };
  const { predictor, fit } = await trainMlp(spec, data, featureCount(spec), { epochs, seed });
  predictor.labelTransform = 'log';
  return { predictor, source: `distilled from AnalyticLatencyModel: ${rows} random groups, feature encoding ${spec.encoding}, log labels, ${epochs} epochs, seed ${seed}, train MSE ${fit.finalTrainMse.toFixed(4)} (ln ms)², ${fit.seconds.toFixed(1)} s` };
}

async function zoo4(): Promise<Scenario> {
  const services = zooServices(['resnet101', 'resnet152', 'vgg19', 'bert']);
  const analytic = new AnalyticLatencyModel();
  const expect = { modelIds: services.map((s) => s.modelId), modelNames: services.map((s) => s.name), slots: services.length };
  const loaded = predictorDir ? { predictor: await loadPredictor(predictorDir, expect), source: predictorDir } : await distill(services, analytic);
  return {
    name: 'zoo4',
    services,
    qosMs: { resnet101: 100, resnet152: 150, vgg19: 80, bert: 80 },
    loadQps: 160,
    predictor: loaded.predictor,
    predictorSource: loaded.source,
    runnerLatency: () => latencyFromModel(analytic, { noise: 0.05, seed }),
    searchMicro: { base: [{ modelId: 1, start: 0, end: 35, batch: 8, seq: 0 }], modelId: 2, operators: 52, budgetMs: [17, 47] },
  };
}

async function tinyPair(): Promise<Scenario> {
  const services = zooServices(['inception_v3', 'bert']);
  const expect = { modelIds: services.map((s) => s.modelId), modelNames: services.map((s) => s.name), slots: services.length };
  const predictor = await loadPredictor(TINY_BUNDLE, expect);
  const runnerModel = predictorLatencyModel(await loadPredictor(TINY_BUNDLE, expect));
  return {
    name: 'tiny-pair',
    services,
    qosMs: { inception_v3: 12, bert: 40 },
    loadQps: 160,
    predictor,
    predictorSource: TINY_BUNDLE,
    runnerLatency: () => latencyFromModel(runnerModel, { noise: 0.05, seed }),
    searchMicro: { base: [{ modelId: 3, start: 0, end: 14, batch: 8, seq: 0 }], modelId: 6, operators: 12, budgetMs: [4, 24] },
  };
}

async function serve(s: Scenario, ways: number, model: LatencyModel) {
  const trace = generateTrace({ services: s.services, loadQps: s.loadQps, queries, seed, qos: s.qosMs });
  return simulateServing({
    policy: 'abacus',
    trace,
    latencyModel: model,
    ways,
    thldMs: 5,
    abandon: true,
    operatorCounts: zooOperatorCounts(),
    latency: s.runnerLatency(),
  });
}

function searchOnly(s: Scenario, ways: number, model: LatencyModel) {
  const m = s.searchMicro;
  if (m === null) return null;
  const micro = new Rng(seed + ways);
  const samples = new Float64Array(4000);
  let steps = 0;
  const [lo, hi] = m.budgetMs;
  for (let i = 0; i < samples.length; i++) {
    const budgetMs = lo + micro.next() * (hi - lo);
    const searched = { modelId: m.modelId, start: 0, end: m.operators, batch: micro.pick([4, 8, 16, 32]), seq: m.modelId === 6 ? 32 : 0 };
    const t0 = performance.now();
    const r = searchSplit({ base: m.base, searched, budgetMs, ways, thldMs: 5, model });
    samples[i] = (performance.now() - t0) * 1000;
    steps += r.steps;
  }
  const t = timingStats(samples);
  return { operators: m.operators, p50Us: t.p50Us, p99Us: t.p99Us, stepsMean: Math.round((steps / samples.length) * 100) / 100 };
}

async function runScenario(s: Scenario) {
  const model = predictorLatencyModel(s.predictor);
  // Warm-up (JIT) on the whole path.
  await serve(s, 2, model);
  searchOnly(s, 2, model);
  const results = [];
  for (const ways of WAYS) {
    const counted = counting(model);
    const { summary } = await serve(s, ways, counted);
    results.push({
      ways,
      decisions: summary.decisions,
      decisionP50Us: r2(summary.decisionP50Us),
      decisionP99Us: r2(summary.decisionP99Us),
      predictorCallsPerDecision: r2(counted.calls / Math.max(summary.decisions, 1)),
      rowsPerDecision: r2(counted.rows / Math.max(summary.decisions, 1)),
      groups: summary.groups,
      searchStepsMean: Math.round(summary.searchStepsMean * 1000) / 1000,
      searchStepsMax: summary.searchStepsMax,
      violationRatio: Math.round(summary.violationRatio * 10000) / 10000,
      goodputQps: Math.round(summary.goodputQps * 10) / 10,
      searchOnly: searchOnly(s, ways, model),
    });
  }
  const kernel = s.predictor instanceof MlpPredictor ? s.predictor.kernel : s.predictor.modeling;
  return {
    name: s.name,
    scenario: { policy: 'abacus', services: s.services.map((x) => x.name), qosMs: s.qosMs, loadQps: s.loadQps, queries, seed, thldMs: 5, abandon: true, simulatedRunnerNoise: 0.05 },
    predictor: { source: s.predictorSource, modeling: s.predictor.modeling, kernel, features: s.predictor.width, adapter: 'predictorLatencyModel (src/serve/adapters.ts)' },
    results,
  };
}

async function main(): Promise<void> {
  const loadBefore = loadAverage1m();
  const scenarios: Scenario[] = [];
  if (scenarioArg === 'zoo4' || scenarioArg === 'all') scenarios.push(await zoo4());
  if (scenarioArg === 'tiny-pair' || scenarioArg === 'all') scenarios.push(await tinyPair());
  const out = [];
  for (const s of scenarios) out.push(await runScenario(s));
  const targets: BenchTarget[] = [];
  for (const s of out) {
    for (const r of s.results) {
      if (TARGET_WAYS.includes(r.ways)) targets.push(target(`${s.name}: decision p99, ways ${r.ways}`, TARGET_P99_US, r.decisionP99Us ?? Infinity));
    }
  }
  printResult({
    benchmark: 'controller.decision',
    description: 'abacus decision time (ranking, largest fitting prefix, k-ary split search) with an MLP predictor behind the serving adapter',
    targets,
    scenarios: out,
    loadAverage1m: { before: loadBefore, after: loadAverage1m() },
    provenance: collectProvenance({ command: `npx tsx scripts/bench/controller.ts ${process.argv.slice(2).join(' ')}`.trim(), seed }),
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
