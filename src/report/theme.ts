/**
 * One look for every figure: the shipped font, readable sizes, and a fixed colour per policy, balancer,
 * predictor and model, so that "Abacus" is the same colour in every figure of a report.
 */
import type { Config } from 'vega-lite';
import { FONT_STACK } from './fonts.js';

export type PolicyName = 'abacus' | 'fcfs' | 'sjf' | 'edf' | 'concurrent' | 'clock';
export type BalancerName = 'random' | 'least-loaded' | 'headroom';
export type PredictorName = 'mlp' | 'lr' | 'svm';

export const POLICY_NAMES: readonly PolicyName[] = ['abacus', 'fcfs', 'sjf', 'edf', 'concurrent', 'clock'];
export const BALANCER_NAMES: readonly BalancerName[] = ['random', 'least-loaded', 'headroom'];
export const PREDICTOR_NAMES: readonly PredictorName[] = ['mlp', 'lr', 'svm'];

/** Colour-blind-safe colours (Okabe-Ito), one per policy; Abacus is the warm one. */
export const POLICY_COLORS: Readonly<Record<PolicyName, string>> = {
  abacus: '#D55E00',
  fcfs: '#0072B2',
  sjf: '#009E73',
  edf: '#E69F00',
  concurrent: '#CC79A7',
  clock: '#56B4E9',
};

export const BALANCER_COLORS: Readonly<Record<BalancerName, string>> = {
  random: '#7F7F7F',
  'least-loaded': '#8C564B',
  headroom: '#6A3D9A',
};

export const PREDICTOR_COLORS: Readonly<Record<PredictorName, string>> = {
  mlp: '#D55E00',
  lr: '#0072B2',
  svm: '#009E73',
};

/** Colours of the paper's seven models (latency CDFs), and black for a model running alone. */
export const MODEL_COLORS: Readonly<Record<string, string>> = {
  alone: '#000000',
  resnet50: '#4E79A7',
  resnet101: '#F28E2B',
  resnet152: '#E15759',
  inception_v3: '#76B7B2',
  vgg16: '#59A14F',
  vgg19: '#B6992D',
  bert: '#B07AA1',
};

/** Colours for series that have no fixed colour (user models), used in order. */
export const FALLBACK_COLORS: readonly string[] = ['#4E79A7', '#F28E2B', '#E15759', '#76B7B2', '#59A14F', '#B6992D', '#B07AA1', '#FF9DA7', '#9C755F', '#BAB0AC'];

/** The colour of the offered load drawn beside measured throughput. */
export const OFFERED_LOAD_COLOR = '#000000';

export const POLICY_LABELS: Readonly<Record<PolicyName, string>> = {
  abacus: 'Abacus',
  fcfs: 'FCFS',
  sjf: 'SJF',
  edf: 'EDF',
  concurrent: 'Concurrent',
  clock: 'Clockwork-like',
};

export const BALANCER_LABELS: Readonly<Record<BalancerName, string>> = {
  random: 'random',
  'least-loaded': 'least-loaded',
  headroom: 'headroom-aware',
};

export const PREDICTOR_LABELS: Readonly<Record<PredictorName, string>> = {
  mlp: 'MLP',
  lr: 'LR',
  svm: 'SVM',
};

/** Short model names as the paper writes them ("Res50+BERT"). */
export const MODEL_SHORT_NAMES: Readonly<Record<string, string>> = {
  resnet50: 'Res50',
  resnet101: 'Res101',
  resnet152: 'Res152',
  inception_v3: 'Incep',
  vgg16: 'VGG16',
  vgg19: 'VGG19',
  bert: 'BERT',
};

/** A Vega-Lite colour scale whose domain (display labels) and range are fixed. */
export interface FixedColorScale {
  domain: string[];
  range: string[];
}

/**
 * A colour scale over the keys that occur in `present`, in the canonical order of `order`, labelled by
 * `labels` and coloured by `colors`. Keys absent from the data are left out so the legend lists only
 * what the figure shows; each key keeps its colour whatever else is present.
 */
export function fixedColorScale<K extends string>(
  order: readonly K[],
  present: Iterable<K>,
  colors: Readonly<Record<K, string>>,
  labels: Readonly<Record<K, string>>,
): FixedColorScale {
  const seen = new Set<K>(present);
  const keys = order.filter((k) => seen.has(k));
  return { domain: keys.map((k) => labels[k]), range: keys.map((k) => colors[k]) };
}

/** Colour scale over the policies present, e.g. `policyColorScale(rows.map((r) => r.policy))`. */
export function policyColorScale(present: Iterable<PolicyName>): FixedColorScale {
  return fixedColorScale(POLICY_NAMES, present, POLICY_COLORS, POLICY_LABELS);
}

export function balancerColorScale(present: Iterable<BalancerName>): FixedColorScale {
  return fixedColorScale(BALANCER_NAMES, present, BALANCER_COLORS, BALANCER_LABELS);
}

export function predictorColorScale(present: Iterable<PredictorName>): FixedColorScale {
  return fixedColorScale(PREDICTOR_NAMES, present, PREDICTOR_COLORS, PREDICTOR_LABELS);
}

/**
 * A colour per free-form series name (models, combinations): the name's fixed colour when it has one,
 * otherwise the next fallback colour. Labels are the names themselves, in the order given.
 */
export function seriesColorScale(names: readonly string[], fixed: Readonly<Record<string, string>> = MODEL_COLORS): FixedColorScale {
  const unique = [...new Set(names)];
  const used = new Set<string>();
  for (const n of unique) {
    const c = fixed[n];
    if (c !== undefined) used.add(c);
  }
  const free = FALLBACK_COLORS.filter((c) => !used.has(c));
  let next = 0;
  const range = unique.map((n) => fixed[n] ?? free[next++ % Math.max(free.length, 1)] ?? FALLBACK_COLORS[0]);
  return { domain: unique, range };
}

const TEXT = '#222222';
const MUTED = '#555555';

/** The Vega-Lite config of every figure. */
export const THEME_CONFIG: Config = {
  font: FONT_STACK,
  background: 'white',
  padding: 10,
  view: { stroke: null, continuousWidth: 560, continuousHeight: 260 },
  title: {
    fontSize: 16,
    fontWeight: 'bold',
    color: TEXT,
    anchor: 'start',
    offset: 12,
    subtitleFontSize: 12,
    subtitleColor: MUTED,
    subtitlePadding: 4,
  },
  axis: {
    labelFontSize: 12,
    titleFontSize: 13,
    titleFontWeight: 'normal',
    titleColor: TEXT,
    labelColor: TEXT,
    labelLimit: 260,
    titlePadding: 8,
    gridColor: '#E6E6E6',
    domainColor: '#888888',
    tickColor: '#888888',
  },
  axisBand: { labelPadding: 4 },
  legend: {
    labelFontSize: 12,
    titleFontSize: 12,
    titleFontWeight: 'bold',
    labelColor: TEXT,
    titleColor: TEXT,
    labelLimit: 280,
    orient: 'top',
    direction: 'horizontal',
    titleOrient: 'left',
    titlePadding: 10,
    symbolSize: 100,
    columnPadding: 14,
  },
  header: { labelFontSize: 13, titleFontSize: 13 },
  line: { strokeWidth: 2 },
  point: { filled: true, size: 50 },
  rule: { color: '#333333' },
  text: { fontSize: 12, color: TEXT },
};
