/**
 * Latency of the MLP predictor's forward pass, `MlpPredictor.predictMs` in-process with a caller-given
 * `out` (the serving path; the WebAssembly SIMD kernel where the runtime has it), as the original's `--perf`
 * (Fig. 23: input batch = number of search ways), for 1, 2, 4, 8 and 16 rows. F = 7 + 4·slots features
 * (7 zoo models; 4 slots by default, feature encoding 3: F = 31), 32-32-32-1 ReLU, seeded random weights and feature-like inputs.
 * The plain-TypeScript reference kernel is timed the same way for comparison. Every call is timed on its
 * own after a warm-up; garbage collections during as many untimed calls are counted (0: the path
 * allocates nothing that needs collecting). Target (issue #5): p99 <= 20 µs for 16 rows.
 * Prints JSON on stdout.
 * Usage: npx tsx scripts/bench/predictor.ts [--iterations N] [--warmup N] [--slots N] [--seed S]
 */
import { performance } from 'node:perf_hooks';
import { collectProvenance } from '../../src/common/provenance.js';
import { Rng } from '../../src/common/rng.js';
import { ZOO } from '../../src/zoo/catalog.js';
import type { DenseLayerJson } from '../../src/predictor/bundle-format.js';
import { type FeatureSpec, encodeGroup, featureCount, makeFeatureSpec } from '../../src/predictor/features.js';
import { MlpPredictor } from '../../src/predictor/mlp.js';
import { TypeScriptMlpKernel, packMlpLayers } from '../../src/predictor/mlp-kernel.js';
import { countGc, loadAverage1m, numberArg, printResult, target, timingStats, type TimingStats } from './common.js';

const TARGET_ROWS = 16;
const TARGET_P99_US = 20;

const iterations = numberArg('iterations', 200_000);
const warmup = numberArg('warmup', 20_000);
const slots = numberArg('slots', 4);
const seed = numberArg('seed', 42);
const loadBefore = loadAverage1m();
const rng = new Rng(seed);
// the default feature encoding (3), as `abacus train` writes (uniform per-operator GFLOPs: the values do not change the cost)
const spec: FeatureSpec = makeFeatureSpec(
  ZOO.map((z) => ({ ...z, work: { operatorGflops: Array.from({ length: z.operatorCount }, () => 1), referenceSeq: z.hasSeq ? 64 : 0 } })),
  slots,
);
const width = featureCount(spec);
const sizes = [width, 32, 32, 32, 1];
const layers: DenseLayerJson[] = [];
for (let i = 1; i < sizes.length; i++) {
  const inputs = sizes[i - 1] as number;
  const outputs = sizes[i] as number;
  const bound = 1 / Math.sqrt(inputs);
  layers.push({
    inputs,
    outputs,
    kernel: Array.from({ length: inputs * outputs }, () => (2 * rng.next() - 1) * bound),
    bias: Array.from({ length: outputs }, () => (2 * rng.next() - 1) * bound),
  });
}
const standardization = { mean: Array.from({ length: width }, () => rng.next() * 10), std: Array.from({ length: width }, () => 1 + rng.next() * 10) };
const label = { unit: 'ms' as const, mean: 3, std: 1, transform: 'log' as const };
// log-latency labels, the default of `abacus train`: predictMs pays the exp
const predictor = new MlpPredictor(spec, standardization, label, layers);
const reference = new TypeScriptMlpKernel(packMlpLayers(layers, standardization, label), width);

const rowCounts = [1, 2, 4, 8, 16];
const maxRows = 16;
const features = new Float32Array(maxRows * width);
for (let r = 0; r < maxRows; r++) {
  const group = [];
  for (let m = 0; m < slots; m++) {
    const a = ZOO[rng.int(0, ZOO.length - 1)]!;
    const start = rng.int(0, a.operatorCount - 1);
    group.push({ modelId: a.id, start, end: rng.int(start + 1, a.operatorCount), batch: rng.pick([4, 8, 16, 32]), seq: a.hasSeq ? 32 : 0 });
  }
  encodeGroup(spec, group, features, r * width);
}
const out = new Float64Array(maxRows);
predictor.reserve(maxRows);

type Forward = (rows: number) => void;
const paths: Array<{ name: string; forward: Forward }> = [
  { name: `MlpPredictor.predictMs (${predictor.kernel})`, forward: (rows) => void predictor.predictMs(features, rows, out) },
  { name: `reference kernel (${reference.name})`, forward: (rows) => reference.run(features, rows, out) },
];

/**
 * Warm up, count the collections during `iterations` untimed calls (the clock itself allocates, so the
 * allocation check runs without it), then time `iterations` calls one by one.
 */
async function timePath(forward: Forward, rows: number): Promise<TimingStats & { rows: number; gcInUntimedCalls: number }> {
  for (let i = 0; i < warmup; i++) forward(rows);
  const { gcCount } = await countGc(() => {
    for (let i = 0; i < iterations; i++) forward(rows);
  });
  const samples = new Float64Array(iterations);
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    forward(rows);
    samples[i] = (performance.now() - t0) * 1000;
  }
  return { rows, ...timingStats(samples), gcInUntimedCalls: gcCount };
}

async function main(): Promise<void> {
  const results = [];
  for (const path of paths) {
    const byRows = [];
    for (const rows of rowCounts) byRows.push(await timePath(path.forward, rows));
    results.push({ path: path.name, byRows });
  }
  const serving = results[0]!.byRows.find((r) => r.rows === TARGET_ROWS)!;
  printResult({
    benchmark: 'predictor.mlp.predictMs',
    description: `MLP forward pass, in-process, caller-given out; F-32-32-32-1 ReLU with F = ${width}`,
    targets: [target(`p99 of predictMs for ${TARGET_ROWS} rows`, TARGET_P99_US, serving.p99Us)],
    kernel: predictor.kernel,
    features: width,
    hidden: [32, 32, 32],
    iterations,
    warmup,
    results,
    loadAverage1m: { before: loadBefore, after: loadAverage1m() },
    provenance: collectProvenance({ command: `npx tsx scripts/bench/predictor.ts ${process.argv.slice(2).join(' ')}`.trim(), seed }),
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
