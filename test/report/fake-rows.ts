// Small, deterministic fake rows for every figure builder (shared by the report tests).
import type {
  ClusterStepRow,
  DecisionTimeRow,
  LatencySamples,
  OfferedLoadRow,
  OverloadCompletionRow,
  PeakThroughputRow,
  PredictionErrorRow,
  TailLatencyRow,
  ViolationRow,
  WaysOutcomeRow,
} from '../../src/report/index.js';

export const PAIRS = ['resnet50_resnet101', 'resnet50_inception_v3', 'vgg16_vgg19', 'resnet152_bert'];
const POLICIES = ['fcfs', 'sjf', 'edf', 'abacus'] as const;

/** A tiny linear congruential generator, so the fake data never change. */
export function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

export function predictionRows(): PredictionErrorRow[] {
  const rnd = lcg(1);
  const rows: PredictionErrorRow[] = [];
  for (const c of PAIRS) for (const p of ['lr', 'svm', 'mlp'] as const) rows.push({ combination: c, predictor: p, mapePct: p === 'mlp' ? 3 + 5 * rnd() : 12 + 30 * rnd() });
  for (const p of ['lr', 'svm', 'mlp'] as const) rows.push({ combination: 'all', predictor: p, mapePct: p === 'mlp' ? 5.9 : 30, scope: 'all' });
  rows.push({ combination: 'cross-validation', predictor: 'mlp', mapePct: 5.7, scope: 'cross-validation' });
  return rows;
}

export function tailRows(): TailLatencyRow[] {
  const rnd = lcg(2);
  return PAIRS.flatMap((c) => POLICIES.map((p) => ({ combination: c, policy: p, p99OverQos: p === 'abacus' ? 0.6 + 0.4 * rnd() : 0.9 + 0.5 * rnd() })));
}

export function violationRows(): ViolationRow[] {
  const rnd = lcg(3);
  return PAIRS.flatMap((c) => POLICIES.map((p) => ({ combination: c, policy: p, violationPct: p === 'abacus' ? 2 * rnd() : 40 * rnd() })));
}

export function peakRows(): PeakThroughputRow[] {
  const rnd = lcg(4);
  return PAIRS.flatMap((c) => POLICIES.map((p) => ({ combination: c, policy: p, peakQps: 40 + 100 * rnd() })));
}

export function completionRows(): OverloadCompletionRow[] {
  const rnd = lcg(5);
  return PAIRS.flatMap((c) => POLICIES.map((p) => ({ combination: c, policy: p, completed: Math.round(500 + 450 * rnd()), sent: 1000 })));
}

export function decisionRows(): DecisionTimeRow[] {
  return [1, 2, 4, 8, 16].flatMap((w) => ['2 models', '4 models'].map((s) => ({ ways: w, decisionUs: 60 + 2 * w + (s === '4 models' ? 20 : 0), series: s })));
}

export function waysRows(): WaysOutcomeRow[] {
  return [1, 2, 3, 4, 6, 8].map((w) => ({ ways: w, violationPct: 5 / w, goodputQps: 80 + 3 * w }));
}

export function cdfSamples(): LatencySamples[] {
  const rnd = lcg(6);
  const draw = (mean: number, spread: number) => Array.from({ length: 400 }, () => mean + spread * (rnd() + rnd() + rnd() - 1.5));
  return [
    { background: null, latenciesMs: draw(38, 2) },
    { background: 'resnet50', latenciesMs: draw(42, 10) },
    { background: 'vgg16', latenciesMs: draw(62, 20) },
    { background: 'bert', latenciesMs: draw(45, 12) },
  ];
}

export function clusterRows(): { rows: ClusterStepRow[]; offered: OfferedLoadRow[] } {
  const rnd = lcg(7);
  const rows: ClusterStepRow[] = [];
  const offered: OfferedLoadRow[] = [];
  for (let t = 0; t < 30; t++) {
    const load = 600 + 100 * Math.sin(t / 5);
    offered.push({ timeS: 60 * t, offeredQps: load });
    for (const b of ['random', 'least-loaded', 'headroom'] as const) {
      const share = b === 'headroom' ? 0.97 : b === 'least-loaded' ? 0.9 : 0.8;
      rows.push({ timeS: 60 * t, balancer: b, throughputQps: load * share, p99Ms: 85 + 10 * rnd(), meanMs: 30 + 8 * rnd() });
    }
  }
  return { rows, offered };
}
