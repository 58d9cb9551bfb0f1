// Why a decision takes longer in real serving than in the controller benchmark: the same small pieces of
// work timed (a) back to back in a hot loop, as the benchmark does, and (b) as serving runs them, once right
// after the event loop wakes from a short timer sleep (serving waits for a group event or an arrival
// between decisions). Pieces: `clock` (two performance.now() calls), `fcfs` (pick the oldest of a few
// queries: what fcfs's decision does), `predict` (one predictMs call of the committed cuda MLP bundle on a
// two-member group and the solo rows of its members, through the adapter serving uses).
// Usage (from the app root, dist built): node scripts/gpu/decision-floor.mjs [--bundle DIR] [--n 2000] [--sleep-ms 3]
// Prints one JSON object: p50/p90/p99 µs per piece and condition, and the wake/hot ratio of each.
import { performance } from 'node:perf_hooks';
import os from 'node:os';
import { loadPredictor } from '../../dist/predictor/index.js';
import { predictorLatencyModel } from '../../dist/serve/adapters.js';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
};
const bundle = arg('bundle', 'data/h200-cuda/predictor/v2-pairs-mlp-all');
const n = Number(arg('n', '2000'));
const sleepMs = Number(arg('sleep-ms', '3'));
if (!Number.isInteger(n) || n < 100) throw new Error(`--n must be an integer >= 100, got ${arg('n')}`);
if (!Number.isFinite(sleepMs) || sleepMs < 0) throw new Error(`--sleep-ms must be >= 0, got ${arg('sleep-ms')}`);

const predictor = await loadPredictor(bundle);
const model = predictorLatencyModel(predictor);
// resnet152 (id 2) from operator 10 to its end, beside vgg19 (id 5) whole, batch 8
const a = { modelId: 2, start: 10, end: 52, batch: 8, seq: 0 };
const b = { modelId: 5, start: 0, end: 22, batch: 8, seq: 0 };
const rows = [[a, b], [a], [b]];
const out = new Float64Array(rows.length);
const queue = Array.from({ length: 8 }, (_, i) => ({ arrivalMs: 100 - i * 3, deadlineMs: 200 - i * 3, id: i }));
let sink = 0;
const pieces = {
  clock: () => {
    sink += performance.now() - performance.now();
  },
  fcfs: () => {
    let best = queue[0];
    for (const q of queue) if (q.arrivalMs < best.arrivalMs || (q.arrivalMs === best.arrivalMs && q.id < best.id)) best = q;
    sink += best.id;
  },
  predict: () => {
    sink += model.predictMs(rows, out)[0];
  },
};
const time = (fn) => {
  const t0 = performance.now();
  fn();
  return (performance.now() - t0) * 1000;
};
const stats = (xs) => {
  const s = [...xs].sort((x, y) => x - y);
  const q = (p) => Math.round(s[Math.min(s.length - 1, Math.floor(p * s.length))] * 100) / 100;
  return { n: s.length, p50Us: q(0.5), p90Us: q(0.9), p99Us: q(0.99) };
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const result = {};
for (const [name, fn] of Object.entries(pieces)) {
  for (let i = 0; i < 5000; i++) fn(); // warm-up: optimised code in both conditions
  const hot = [];
  for (let i = 0; i < n; i++) hot.push(time(fn));
  const wake = [];
  for (let i = 0; i < n; i++) {
    await sleep(sleepMs);
    wake.push(time(fn));
  }
  const h = stats(hot);
  const w = stats(wake);
  result[name] = { hot: h, afterWake: w, wakeOverHotP50: Math.round((w.p50Us / Math.max(h.p50Us, 0.01)) * 10) / 10, wakeOverHotP99: Math.round((w.p99Us / Math.max(h.p99Us, 0.01)) * 10) / 10 };
}
console.log(JSON.stringify({
  format: 'abacus.decision-floor',
  version: 1,
  bundle,
  n,
  sleepMs,
  host: { cpuModel: os.cpus()[0]?.model ?? 'unknown', cpus: os.cpus().length, kernel: os.release(), node: process.version },
  pieces: result,
  sink: Number.isFinite(sink) ? 'finite' : 'non-finite',
}, null, 1));
