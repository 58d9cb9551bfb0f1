/**
 * The original Abacus's reported numbers (SC'21 paper and the result files of its repository, tag v0.1),
 * as typed constants for a report to print beside ours. Sources: docs of the original, §8 of
 * `abacus-original.md`. Averages over rows were computed from the repository's `result.csv` files;
 * cluster values were read off the published figure and are approximate.
 *
 * Combinations are named like our profile files: model names joined with `_` in ascending zoo id order.
 */
import type { PolicyName, PredictorName } from './theme.js';

/** A number of ours beside the paper's, one row of a comparison table. */
export interface PaperComparison {
  metric: string;
  ours: number | string | null;
  paper: number | string | null;
  unit?: string;
  note?: string;
}

/** The 21 pairs of the paper's 2in7 experiments, in its order (ascending ids, first id slowest). */
export const PAPER_PAIRS: readonly string[] = [
  'resnet50_resnet101', 'resnet50_resnet152', 'resnet50_inception_v3', 'resnet50_vgg16', 'resnet50_vgg19', 'resnet50_bert',
  'resnet101_resnet152', 'resnet101_inception_v3', 'resnet101_vgg16', 'resnet101_vgg19', 'resnet101_bert',
  'resnet152_inception_v3', 'resnet152_vgg16', 'resnet152_vgg19', 'resnet152_bert',
  'inception_v3_vgg16', 'inception_v3_vgg19', 'inception_v3_bert',
  'vgg16_vgg19', 'vgg16_bert',
  'vgg19_bert',
];

/** QoS targets (ms) the 2in7 QoS study served each pair with (§7); the throughput study used 40 for vgg16_vgg19. */
export const PAPER_PAIR_QOS_MS: Readonly<Record<string, number>> = Object.fromEntries(
  PAPER_PAIRS.map((p, i) => [p, [100, 150, 100, 50, 50, 75, 160, 150, 90, 80, 130, 150, 150, 150, 150, 80, 80, 80, 30, 60, 60][i]]),
);

/** MLP MAPE (%) per pair, A100, `data/modeling/2in7results.csv`. */
export const PAPER_MLP_MAPE_PCT: Readonly<Record<string, number>> = {
  resnet50_resnet101: 5.94,
  resnet50_resnet152: 6.16,
  resnet50_inception_v3: 4.3,
  resnet50_vgg16: 5.26,
  resnet50_vgg19: 7.53,
  resnet50_bert: 4.19,
  resnet101_resnet152: 3.39,
  resnet101_inception_v3: 3.51,
  resnet101_vgg16: 5.73,
  resnet101_vgg19: 4.98,
  resnet101_bert: 2.26,
  resnet152_inception_v3: 3.52,
  resnet152_vgg16: 10.25,
  resnet152_vgg19: 5.99,
  resnet152_bert: 5.7,
  inception_v3_vgg16: 8.27,
  inception_v3_vgg19: 5.19,
  inception_v3_bert: 2.51,
  vgg16_vgg19: 11.97,
  vgg16_bert: 4.76,
  vgg19_bert: 4.76,
};

export interface PaperPredictorSummary {
  /** Mean MAPE over the 21 per-pair models (%). */
  meanMapePct: number;
  meanMaeMs: number;
  minMapePct: number;
  minPair: string | null;
  maxMapePct: number;
  maxPair: string;
  /** One model trained on all 21 pairs together. */
  allMapePct: number;
  allMaeMs: number;
  /** The original's "cross-validation": one re-split of the pooled data. */
  crossValidationMapePct: number | null;
  crossValidationMaeMs: number | null;
}

/** Per-predictor accuracy on the A100 pairs (§8.1). */
export const PAPER_PREDICTORS: Readonly<Record<PredictorName, PaperPredictorSummary>> = {
  mlp: {
    meanMapePct: 5.53, meanMaeMs: 0.68, minMapePct: 2.26, minPair: 'resnet101_bert', maxMapePct: 11.97, maxPair: 'vgg16_vgg19',
    allMapePct: 5.95, allMaeMs: 0.677, crossValidationMapePct: 5.72, crossValidationMaeMs: 0.664,
  },
  lr: {
    meanMapePct: 23.5, meanMaeMs: 2.6, minMapePct: 11.6, minPair: null, maxMapePct: 47.0, maxPair: 'vgg16_vgg19',
    allMapePct: 30.6, allMaeMs: 3.39, crossValidationMapePct: null, crossValidationMaeMs: null,
  },
  svm: {
    meanMapePct: 21.2, meanMaeMs: 2.44, minMapePct: 12.0, minPair: 'inception_v3_bert', maxMapePct: 37.2, maxPair: 'vgg16_vgg19',
    allMapePct: 29.2, allMaeMs: 3.38, crossValidationMapePct: null, crossValidationMaeMs: null,
  },
};

/** MLP trained on all combinations of a setting: MAPE (%) and MAE (ms) of each run the repository kept. */
export const PAPER_MLP_POOLED: Readonly<Record<string, readonly { mapePct: number; maeMs: number }[]>> = {
  'A100 2in7': [{ mapePct: 5.95, maeMs: 0.677 }, { mapePct: 5.72, maeMs: 0.664 }],
  'A100 3in4': [{ mapePct: 4.9, maeMs: 0.853 }, { mapePct: 4.98, maeMs: 0.873 }],
  'A100 4in4': [{ mapePct: 6.49, maeMs: 1.371 }, { mapePct: 7.62, maeMs: 1.635 }],
  'MIG 2in4': [{ mapePct: 5.87, maeMs: 1.203 }],
  'MIG 4in4': [{ mapePct: 6.81, maeMs: 1.655 }],
};

/** The four policies the paper's single-GPU experiments compare. */
export type PaperPolicy = Extract<PolicyName, 'fcfs' | 'sjf' | 'edf' | 'abacus'>;
export const PAPER_POLICIES: readonly PaperPolicy[] = ['fcfs', 'sjf', 'edf', 'abacus'];

/** One policy's result: p99 / QoS, completed queries out of 1,000 sent, and QoS violations (%). */
export interface PaperServingResult {
  tail: number;
  completions: number;
  violationPct: number;
}

export type PaperServingExperimentId =
  | 'a100-2in7-qos'
  | 'a100-2in7-throughput'
  | 'a100-3in4-qos'
  | 'a100-3in4-throughput'
  | 'mig-2in4-qos'
  | 'mig-2in4-throughput'
  | 'a100-4in4-qos'
  | 'a100-4in4-throughput'
  | 'mig-4in4-qos'
  | 'mig-4in4-throughput';

export interface PaperServingExperiment {
  description: string;
  /** Offered load (queries/s) and queries per run. */
  loadQps: number;
  queries: number;
  /** How many configurations the values average over (1: a single configuration). */
  configurations: number;
  figure: string;
  results: Readonly<Record<PaperPolicy, PaperServingResult>>;
}

const r = (tail: number, completions: number, violationPct: number): PaperServingResult => ({ tail, completions, violationPct });

/** Serving results of tag v0.1 (§8.3): averages over the configurations of each experiment. */
export const PAPER_SERVING: Readonly<Record<PaperServingExperimentId, PaperServingExperiment>> = {
  'a100-2in7-qos': {
    description: 'A100, 21 pairs, QoS study', loadQps: 50, queries: 1000, configurations: 21, figure: 'Fig. 14, 15',
    results: { fcfs: r(1.057, 975.7, 5.6), sjf: r(1.224, 940.6, 13.9), edf: r(1.064, 959.2, 8.2), abacus: r(0.807, 991.6, 1.1) },
  },
  'a100-2in7-throughput': {
    description: 'A100, 21 pairs, throughput study', loadQps: 100, queries: 1000, configurations: 21, figure: 'Fig. 17',
    results: { fcfs: r(1.242, 690.1, 46.5), sjf: r(1.357, 631.3, 55.3), edf: r(1.231, 695.4, 45.5), abacus: r(1.128, 842.7, 21.8) },
  },
  'a100-3in4-qos': {
    description: 'A100, 4 triplets, QoS study', loadQps: 50, queries: 1000, configurations: 4, figure: 'Fig. 18',
    results: { fcfs: r(1.208, 913.5, 16.1), sjf: r(1.469, 868.0, 25.7), edf: r(1.207, 933.0, 13.6), abacus: r(0.95, 991.8, 1.6) },
  },
  'a100-3in4-throughput': {
    description: 'A100, 4 triplets, throughput study', loadQps: 100, queries: 1000, configurations: 4, figure: 'Fig. 19',
    results: { fcfs: r(1.335, 536.0, 59.7), sjf: r(1.51, 467.5, 67.7), edf: r(1.358, 516.8, 62.0), abacus: r(1.214, 799.0, 36.1) },
  },
  'mig-2in4-qos': {
    description: 'MIG, 3 splits of 2 pairs, QoS study', loadQps: 50, queries: 1000, configurations: 3, figure: 'Fig. 20',
    results: { fcfs: r(1.278, 976.3, 7.7), sjf: r(1.346, 969.3, 9.7), edf: r(1.279, 973.3, 8.9), abacus: r(1.002, 942.7, 6.9) },
  },
  'mig-2in4-throughput': {
    description: 'MIG, 3 splits of 2 pairs, throughput study', loadQps: 100, queries: 1000, configurations: 3, figure: 'Fig. 21',
    results: { fcfs: r(1.478, 692.7, 52.4), sjf: r(1.532, 677.7, 53.3), edf: r(1.474, 693.3, 52.3), abacus: r(1.3, 784.7, 29.3) },
  },
  'a100-4in4-qos': {
    description: 'A100, 4 models together, QoS study', loadQps: 50, queries: 1000, configurations: 1, figure: 'Fig. 18',
    results: { fcfs: r(1.169, 948, 10.8), sjf: r(1.494, 900, 24.4), edf: r(1.244, 915, 17.7), abacus: r(0.981, 999, 1.1) },
  },
  'a100-4in4-throughput': {
    description: 'A100, 4 models together, throughput study', loadQps: 100, queries: 1000, configurations: 1, figure: 'Fig. 19',
    results: { fcfs: r(1.297, 646, 49.8), sjf: r(1.504, 581, 62.3), edf: r(1.429, 547, 63.2), abacus: r(1.43, 894, 26.1) },
  },
  'mig-4in4-qos': {
    description: 'MIG, 4 models on one instance, QoS study', loadQps: 50, queries: 1000, configurations: 1, figure: 'Fig. 20',
    results: { fcfs: r(1.097, 947, 8.9), sjf: r(1.308, 909, 18.0), edf: r(1.173, 913, 14.5), abacus: r(0.974, 1000, 0.8) },
  },
  'mig-4in4-throughput': {
    description: 'MIG, 4 models on one instance, throughput study', loadQps: 100, queries: 1000, configurations: 1, figure: 'Fig. 21',
    results: { fcfs: r(1.275, 544, 58.7), sjf: r(1.477, 488, 66.5), edf: r(1.285, 518, 61.8), abacus: r(1.297, 817, 36.4) },
  },
};

/** MIG 1in4 (one model per instance, FCFS and EDF only). */
export const PAPER_MIG_1IN4 = {
  qos: { fcfs: { tail: 1.745, completions: 924, violationPct: 25.1 }, edf: { tail: 1.757 } },
  throughput: { fcfs: { completions: 747 }, edf: { completions: 737 } },
} as const;

/** Abacus completions ÷ the baseline's − 1, averaged over configurations (%), in the throughput studies. */
export const PAPER_COMPLETION_GAIN_PCT: Readonly<Record<'a100-2in7' | 'a100-3in4' | 'mig-2in4', Readonly<Record<'fcfs' | 'sjf' | 'edf', number>>>> = {
  'a100-2in7': { fcfs: 25.7, sjf: 38.1, edf: 25.7 },
  'a100-3in4': { fcfs: 51, sjf: 72, edf: 57 },
  'mig-2in4': { fcfs: 13, sjf: 16, edf: 13 },
};

/** The abstract's averages: QoS violations −51.3 %, throughput +29.8 % (Abacus vs the baselines). */
export const PAPER_HEADLINE = { violationChangePct: -51.3, throughputChangePct: 29.8 } as const;

/** Ranges read off Fig. 14 and Fig. 15 (A100 2in7 QoS study). */
export const PAPER_2IN7_FIGURE_RANGES = {
  abacusTail: [0.51, 1.02],
  baselineTailMax: 1.33,
  abacusViolationMaxPct: 2,
  sjfViolationMaxPct: 41,
} as const;

/** Predictor CPU cost (Fig. 23): ms per MLP call, 1 core, at 1 and 2-16 candidates (search ways). */
export const PAPER_DECISION_MS = { oneWay: 0.067, twoToSixteenWays: [0.087, 0.092], fig23Range: [0.066, 0.09] } as const;

/** Fig. 22, 16 V100 nodes, read off the figure (approximate ranges over the 120 one-minute steps). */
export const PAPER_CLUSTER = {
  abacus: { throughputQps: [8300, 10400], p99Ms: [89, 98], meanMs: [35, 42] },
  clock: { throughputQps: [7200, 7800], p99Ms: [100, 100], meanMs: [25, 27] },
  qosMs: 100,
} as const;

/** Motivation (§2.5): ResNet152 at batch 16 beside each background model; min / p50 / p99 / max in ms. */
export const PAPER_MOTIVATION_RESNET152_MS: Readonly<Record<string, { min: number; p50: number; p99: number; max: number }>> = {
  resnet50: { min: 37.8, p50: 38.8, p99: 57.2, max: 65.3 },
  resnet101: { min: 38.1, p50: 39.1, p99: 51.1, max: 57.1 },
  resnet152: { min: 37.8, p50: 39.1, p99: 58.2, max: 72.9 },
  inception_v3: { min: 38.2, p50: 39.3, p99: 54.7, max: 63.6 },
  vgg16: { min: 39.7, p50: 65.9, p99: 92.7, max: 99.6 },
  vgg19: { min: 39.4, p50: 62.9, p99: 92.4, max: 106.4 },
  bert: { min: 38.9, p50: 43.7, p99: 61.6, max: 75.2 },
};

// ---------------------------------------------------------------------------------------------------
// Comparison rows

export interface OurPredictorNumbers {
  meanMapePct?: number;
  allMapePct?: number;
  crossValidationMapePct?: number;
}

/** Our predictor accuracy beside the paper's, one row per number given. */
export function predictorComparison(ours: Partial<Record<PredictorName, OurPredictorNumbers>>): PaperComparison[] {
  const rows: PaperComparison[] = [];
  for (const p of ['mlp', 'lr', 'svm'] as const) {
    const o = ours[p];
    if (!o) continue;
    const paper = PAPER_PREDICTORS[p];
    const name = p.toUpperCase();
    if (o.meanMapePct !== undefined) rows.push({ metric: `${name} MAPE, mean over pairs`, ours: o.meanMapePct, paper: paper.meanMapePct, unit: '%' });
    if (o.allMapePct !== undefined) rows.push({ metric: `${name} MAPE, one model for all pairs`, ours: o.allMapePct, paper: paper.allMapePct, unit: '%' });
    if (o.crossValidationMapePct !== undefined) {
      rows.push({
        metric: `${name} MAPE, cross-validation`,
        ours: o.crossValidationMapePct,
        paper: paper.crossValidationMapePct,
        unit: '%',
        note: 'paper: one re-split of the data, not k-fold',
      });
    }
  }
  return rows;
}

/** Our per-policy serving averages beside one of the paper's experiments. */
export function servingComparison(
  experiment: PaperServingExperimentId,
  ours: Partial<Record<PaperPolicy, Partial<PaperServingResult>>>,
): PaperComparison[] {
  const exp = PAPER_SERVING[experiment];
  const rows: PaperComparison[] = [];
  for (const policy of PAPER_POLICIES) {
    const o = ours[policy];
    if (!o) continue;
    const p = exp.results[policy];
    const label = policy === 'abacus' ? 'Abacus' : policy.toUpperCase();
    if (o.tail !== undefined) rows.push({ metric: `${label} p99 / QoS`, ours: o.tail, paper: p.tail, unit: '×' });
    if (o.completions !== undefined) {
      rows.push({ metric: `${label} completed queries`, ours: o.completions, paper: p.completions, unit: `of ${exp.queries}` });
    }
    if (o.violationPct !== undefined) rows.push({ metric: `${label} QoS violations`, ours: o.violationPct, paper: p.violationPct, unit: '%' });
  }
  return rows;
}

/** Our headline changes (Abacus vs the baselines) beside the abstract's. */
export function headlineComparison(ours: { violationChangePct?: number; throughputChangePct?: number }): PaperComparison[] {
  const rows: PaperComparison[] = [];
  if (ours.violationChangePct !== undefined) {
    rows.push({ metric: 'QoS violations, Abacus vs baselines', ours: ours.violationChangePct, paper: PAPER_HEADLINE.violationChangePct, unit: '%' });
  }
  if (ours.throughputChangePct !== undefined) {
    rows.push({ metric: 'throughput, Abacus vs baselines', ours: ours.throughputChangePct, paper: PAPER_HEADLINE.throughputChangePct, unit: '%' });
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------------
// QoS targets beside the measured latencies they imply (for stating how our targets relate to theirs)

/**
 * Approximate A100 solo latencies (ms) from the v0.1 profiles (§1.5): median of the rows where one model
 * runs in full beside an empty segment, by batch size 4, 8, 16, 32 (BERT over all sequence lengths).
 */
export const PAPER_A100_SOLO_MS: Readonly<Record<string, Readonly<Record<4 | 8 | 16 | 32, number>>>> = {
  resnet50: { 4: 8.68, 8: 8.71, 16: 8.68, 32: 12.51 },
  resnet101: { 4: 16.54, 8: 16.22, 16: 16.3, 32: 19.81 },
  resnet152: { 4: 24.37, 8: 23.71, 16: 23.87, 32: 26.44 },
  inception_v3: { 4: 15.21, 8: 15.01, 16: 15.2, 32: 17.63 },
  vgg16: { 4: 3.05, 8: 5.48, 16: 10.99, 32: 23.35 },
  vgg19: { 4: 3.5, 8: 6.33, 16: 13.11, 32: 27.38 },
  bert: { 4: 11.0, 8: 11.0, 16: 11.0, 32: 10.9 },
};

/** QoS targets (ms) of the 3in4 and 4in4 runs (§7) and of every MIG run. */
export const PAPER_BEYOND_PAIR_QOS_MS: Readonly<Record<string, number>> = {
  resnet101_resnet152_vgg19: 100,
  resnet101_resnet152_bert: 150,
  resnet101_vgg19_bert: 80,
  resnet152_vgg19_bert: 80,
  resnet101_resnet152_vgg19_bert: 100,
};
export const PAPER_MIG_QOS_MS = 130;

/** Fig. 16 (small DNNs: batch 4, tighter QoS, Abacus only): p99 / QoS of every pair lies in this range. */
export const PAPER_SMALL_DNN_TAIL_RANGE: readonly [number, number] = [0.88, 0.99];

/** The zoo models named in a combination ("resnet50_inception_v3" → resnet50, inception_v3), in order. */
function paperModelsOf(combination: string): string[] {
  const names = Object.keys(PAPER_A100_SOLO_MS).sort((a, b) => b.length - a.length);
  const out: string[] = [];
  let rest = combination;
  while (rest.length > 0) {
    const name = names.find((n) => rest === n || rest.startsWith(`${n}_`));
    if (name === undefined) return [];
    out.push(name);
    rest = rest.slice(name.length + 1);
  }
  return out;
}

/**
 * The paper's QoS target of a combination divided by its models' largest A100 solo latency at batch 32
 * (the factor our rule fixes for every combination); null when the paper did not serve it.
 */
export function paperQosFactor(combination: string): number | null {
  const qos = PAPER_PAIR_QOS_MS[combination] ?? PAPER_BEYOND_PAIR_QOS_MS[combination];
  const models = paperModelsOf(combination);
  if (qos === undefined || models.length === 0) return null;
  return qos / Math.max(...models.map((m) => PAPER_A100_SOLO_MS[m][32]));
}

/**
 * Utilisation of one-query-at-a-time serving that a load implies on the A100: load × the mean solo latency
 * over the combination's models and the four batch sizes (uniform draws). The paper's 50 queries/s give
 * 0.51-1.05 over the 21 pairs (median 0.70), its 100 queries/s twice that.
 */
export function paperSerialUtilisation(combination: string, loadQps: number): number | null {
  const models = paperModelsOf(combination);
  if (models.length === 0) return null;
  const mean = models.map((m) => Object.values(PAPER_A100_SOLO_MS[m]).reduce((a, b) => a + b, 0) / 4).reduce((a, b) => a + b, 0) / models.length;
  return (loadQps * mean) / 1000;
}
