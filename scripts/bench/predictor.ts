/**
 * Latency of the MLP predictor's forward pass (`predictMs`, plain TypeScript, no tfjs), as the original's
 * `--perf` (Fig. 23: input batch = number of search ways). F = 15 (7 models, 2 slots), 32-32-32-1 ReLU,
 * seeded random weights and inputs. Every call is timed on its own after a warm-up; prints JSON on stdout.
 * Usage: npx tsx scripts/bench/predictor.ts [--iterations N] [--warmup N]
 */
import { Rng } from '../../src/common/rng.js';
import { ZOO } from '../../src/zoo/catalog.js';
import { percentileSorted } from '../../src/common/stats.js';
import { type FeatureSpec, encodeGroup, featureCount, makeFeatureSpec } from '../../src/predictor/features.js';
import { MlpPredictor } from '../../src/predictor/mlp.js';
import type { DenseLayerJson } from '../../src/predictor/bundle-format.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const iterations = arg('iterations', 100_000);
const warmup = arg('warmup', 20_000);
const rng = new Rng(42);
const spec: FeatureSpec = makeFeatureSpec(ZOO, 2);
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
const predictor = new MlpPredictor(spec, standardization, { unit: 'ms', mean: 20, std: 10 }, layers);

const rowCounts = [1, 2, 4, 8, 16];
const maxRows = 16;
const features = new Float32Array(maxRows * width);
for (let r = 0; r < maxRows; r++) {
  const a = ZOO[rng.int(0, ZOO.length - 1)]!;
  const start = rng.int(0, a.operatorCount - 1);
  encodeGroup(spec, [{ modelId: a.id, start, end: rng.int(start, a.operatorCount), batch: rng.pick([4, 8, 16, 32]), seq: a.hasSeq ? 32 : 0 }], features, r * width);
}
const out = new Float64Array(maxRows);
predictor.reserve(maxRows);

const results: Array<{ rows: number; p50Us: number; p99Us: number; meanUs: number; iterations: number }> = [];
let sink = 0;
for (const rows of rowCounts) {
  for (let i = 0; i < warmup; i++) sink += predictor.predictMs(features, rows, out)[0] as number;
  const samples = new Float64Array(iterations);
  for (let i = 0; i < iterations; i++) {
    const t0 = process.hrtime.bigint();
    predictor.predictMs(features, rows, out);
    const t1 = process.hrtime.bigint();
    samples[i] = Number(t1 - t0) / 1000;
    sink += out[0] as number;
  }
  samples.sort();
  let sum = 0;
  for (const s of samples) sum += s;
  results.push({ rows, p50Us: percentileSorted(samples, 50), p99Us: percentileSorted(samples, 99), meanUs: sum / iterations, iterations });
}
process.stdout.write(
  `${JSON.stringify({ benchmark: 'predictor.mlp.predictMs', features: width, hidden: [32, 32, 32], node: process.versions.node, checksum: Number.isFinite(sink), results }, null, 2)}\n`,
);
