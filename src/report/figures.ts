/**
 * Spec builders for the paper's figures: typed rows in, a Vega-Lite spec out (pure functions, no I/O).
 * Every axis title carries its unit; colours come from the theme so a policy looks the same everywhere.
 */
import { InputError } from '../common/errors.js';
import { percentile } from '../common/stats.js';
import {
  BALANCER_LABELS,
  MODEL_SHORT_NAMES,
  OFFERED_LOAD_COLOR,
  POLICY_COLORS,
  POLICY_LABELS,
  PREDICTOR_LABELS,
  THEME_CONFIG,
  balancerColorScale,
  policyColorScale,
  predictorColorScale,
  seriesColorScale,
} from './theme.js';
import type { BalancerName, FixedColorScale, PolicyName, PredictorName } from './theme.js';
import type { VegaLiteSpec } from './render.js';
import { fontMetrics } from './fonts.js';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** Title and subtitle shown above a figure; every builder has a default title. */
export interface FigureText {
  title?: string;
  subtitle?: string;
}

// ---------------------------------------------------------------------------------------------------
// Row types

/** Prediction error of one predictor on one combination, on all combinations together, or in k-fold CV. */
export interface PredictionErrorRow {
  /** Combination ("resnet50_bert"), or a label for the pooled rows ("all", "3in4"). */
  combination: string;
  predictor: PredictorName;
  /** Mean absolute percentage error on held-out groups, in percent. */
  mapePct: number;
  /** 'combination' (default): a per-combination bar; 'all' and 'cross-validation' bars come last. */
  scope?: 'combination' | 'all' | 'cross-validation';
}

/** 99th-percentile latency of one policy on one combination, divided by the QoS target. */
export interface TailLatencyRow {
  combination: string;
  policy: PolicyName;
  p99OverQos: number;
}

/** Share of a run's queries that missed their QoS target (dropped or late). */
export interface ViolationRow {
  combination: string;
  policy: PolicyName;
  violationPct: number;
}

/** Highest sustained throughput found by a load sweep. */
export interface PeakThroughputRow {
  combination: string;
  policy: PolicyName;
  peakQps: number;
  /** Short text written above the bar, e.g. "< 147" when even the lowest load probed failed. */
  note?: string;
}

/** Queries completed in a run at a load above capacity. */
export interface OverloadCompletionRow {
  combination: string;
  policy: PolicyName;
  completed: number;
  /** Queries sent in the run (drawn as a reference line when all rows agree). */
  sent?: number;
}

/** Cost of one scheduling decision as a function of the number of search ways. */
export interface DecisionTimeRow {
  ways: number;
  decisionUs: number;
  /** A line per series (e.g. "2 models", "4 models"); one line when absent. */
  series?: string;
}

/** Outcome of serving runs made with a given number of search ways. */
export interface WaysOutcomeRow {
  ways: number;
  violationPct: number;
  goodputQps: number;
  series?: string;
}

/** Latency samples of the foreground model, alone (`background: null`) or beside one other model. */
export interface LatencySamples {
  background: string | null;
  latenciesMs: readonly number[];
}

/** One time step of a cluster run under one balancer. */
export interface ClusterStepRow {
  /** Start of the step, seconds since the run started. */
  timeS: number;
  balancer: BalancerName;
  throughputQps: number;
  p99Ms: number;
  meanMs: number;
}

export interface OfferedLoadRow {
  timeS: number;
  offeredQps: number;
}

// ---------------------------------------------------------------------------------------------------
// Helpers

/**
 * The paper's short label of a combination: "resnet50_inception_v3" or "resnet50+inception_v3" →
 * "Res50+Incep". Text that is not a list of zoo model names is returned unchanged.
 */
export function combinationLabel(combination: string): string {
  const names = Object.keys(MODEL_SHORT_NAMES).sort((a, b) => b.length - a.length);
  const parts: string[] = [];
  let rest = combination.trim();
  while (rest.length > 0) {
    const name = names.find((n) => rest.startsWith(n) && (rest.length === n.length || rest[n.length] === '_' || rest[n.length] === '+'));
    if (name === undefined) return combination;
    parts.push(MODEL_SHORT_NAMES[name] ?? name);
    rest = rest.slice(name.length);
    if (rest.length > 0) {
      rest = rest.slice(1);
      if (rest.length === 0) return combination;
    }
  }
  return parts.length > 0 ? parts.join('+') : combination;
}

function requireRows(rows: readonly unknown[], figure: string): void {
  if (rows.length === 0) throw new InputError(`${figure}: no data rows`);
}

function requireFinite(value: number, what: string): void {
  if (!Number.isFinite(value)) throw new InputError(`${what} must be a finite number, got ${value}`);
}

function uniqueInOrder(values: Iterable<string>): string[] {
  return [...new Set(values)];
}

/**
 * Width of the plot area of every single-panel figure (CSS px). The canvas is this plus the y axis
 * (60-90 px), and titles, subtitles and legends are laid out to fit it, so the plot fills the canvas
 * instead of sitting in its left third below a longer subtitle.
 */
export const PLOT_WIDTH = 600;
/** Subtitles wrap at this width (px): the plot and its y axis. */
const TEXT_WIDTH = PLOT_WIDTH + 70;

/**
 * Text cut into lines no wider than `maxPx` at `fontSize` px (DejaVu Sans, the figures' font): at '; '
 * between clauses where it can, else between words.
 */
export function wrapText(text: string, maxPx: number, fontSize = 12): string[] {
  const face = fontMetrics().regular;
  const fits = (t: string): boolean => face.width(t, fontSize) <= maxPx;
  if (fits(text)) return [text];
  const lines: string[] = [];
  let line = '';
  for (const clause of text.split(/(?<=;) /)) {
    const candidate = line ? `${line} ${clause}` : clause;
    if (fits(candidate)) {
      line = candidate;
      continue;
    }
    if (line) lines.push(line);
    line = '';
    // a clause too long for one line: between words
    for (const word of clause.split(' ')) {
      const next = line ? `${line} ${word}` : word;
      if (fits(next) || !line) line = next;
      else {
        lines.push(line);
        line = word;
      }
    }
  }
  if (line) lines.push(line);
  return lines;
}

function titleOf(text: FigureText, fallback: string): { text: string; subtitle?: string | string[] } {
  if (!text.subtitle) return { text: text.title ?? fallback };
  const lines = wrapText(text.subtitle, TEXT_WIDTH);
  return { text: text.title ?? fallback, subtitle: lines.length === 1 ? text.subtitle : lines };
}

function colorEncoding(scale: FixedColorScale, field: string, title: string): Record<string, unknown> {
  return { field, type: 'nominal', title, scale: { domain: scale.domain, range: scale.range }, sort: scale.domain };
}

/** Width of one category's group (px) when `groups` share the plot's width. */
function groupWidth(groups: number): number {
  return PLOT_WIDTH / Math.max(1, groups);
}

/** Axis numbers as people write them: 0.5, 20, 1,500 (never 2e+2); decimals only where the ticks need them. */
const NUMBER_FORMAT = ',~f';

function spec(body: Record<string, unknown>): VegaLiteSpec {
  return { $schema: SCHEMA, config: THEME_CONFIG, ...body } as unknown as VegaLiteSpec;
}

/**
 * x encoding for combination labels, kept in data order. Labels are slanted when the longest would not
 * fit under its group (`groupWidth` px; DejaVu Sans at 12 px averages under 7.5 px a character).
 */
function combinationAxis(order: string[], groupWidth: number): Record<string, unknown> {
  const longest = Math.max(...order.map((l) => l.length));
  const slant = longest * 7.5 > groupWidth - 6;
  return {
    field: 'combination',
    type: 'nominal',
    title: 'model combination',
    sort: order,
    axis: slant ? { labelAngle: -40, labelAlign: 'right', labelBaseline: 'top' } : { labelAngle: 0 },
  };
}

/**
 * A dashed horizontal line at `y` labelled in the right margin. It has its own one-row data set so it is
 * drawn once, not once per row of the figure's data.
 */
function referenceLine(y: number, label: string): Record<string, unknown>[] {
  return [
    { data: { values: [{}] }, mark: { type: 'rule', strokeDash: [6, 4], strokeWidth: 1.5, color: '#333333' }, encoding: { y: { datum: y } } },
    {
      data: { values: [{}] },
      mark: { type: 'text', align: 'left', baseline: 'middle', dx: 4, fontSize: 11, color: '#333333' },
      encoding: { x: { value: { expr: 'width' } }, y: { datum: y }, text: { value: label } },
    },
  ];
}

interface PolicyDatum {
  combination: string;
  policy: string;
  value: number;
}

function policyData<R extends { combination: string; policy: PolicyName }>(
  rows: readonly R[],
  value: (r: R) => number,
  what: string,
): { values: PolicyDatum[]; order: string[]; color: FixedColorScale } {
  const values = rows.map((r) => {
    const v = value(r);
    requireFinite(v, `${what} of ${r.policy} on ${r.combination}`);
    return { combination: combinationLabel(r.combination), policy: POLICY_LABELS[r.policy], value: v };
  });
  return {
    values,
    order: uniqueInOrder(values.map((v) => v.combination)),
    color: policyColorScale(rows.map((r) => r.policy)),
  };
}

function groupedPolicyBars(
  data: { values: PolicyDatum[]; order: string[]; color: FixedColorScale },
  yTitle: string,
  yFormat: string,
): Record<string, unknown> {
  return {
    mark: { type: 'bar' },
    encoding: {
      x: combinationAxis(data.order, groupWidth(data.order.length)),
      xOffset: { field: 'policy', type: 'nominal', sort: data.color.domain },
      y: { field: 'value', type: 'quantitative', title: yTitle, axis: { format: yFormat } },
      color: colorEncoding(data.color, 'policy', 'policy'),
      tooltip: [
        { field: 'combination', type: 'nominal' },
        { field: 'policy', type: 'nominal' },
        { field: 'value', type: 'quantitative', title: yTitle, format: '.2f' },
      ],
    },
    width: PLOT_WIDTH,
    height: 280,
  };
}

// ---------------------------------------------------------------------------------------------------
// Figures

/**
 * Prediction error (MAPE) per combination for each predictor, then the pooled and cross-validated bars.
 * The MLP's bars carry their value: beside linear models an order of magnitude worse they are too short
 * to read off the axis.
 */
export function predictionErrorSpec(rows: readonly PredictionErrorRow[], text: FigureText = {}): VegaLiteSpec {
  requireRows(rows, 'prediction error figure');
  const rank = { combination: 0, all: 1, 'cross-validation': 2 } as const;
  const values = rows.map((r) => {
    requireFinite(r.mapePct, `MAPE of ${r.predictor} on ${r.combination}`);
    const scope = r.scope ?? 'combination';
    const label = scope === 'combination' ? combinationLabel(r.combination) : r.combination.trim() || scope;
    return { combination: label, predictor: PREDICTOR_LABELS[r.predictor], mape: r.mapePct, scope, rank: rank[scope] };
  });
  const order = uniqueInOrder([...values].sort((a, b) => a.rank - b.rank).map((v) => v.combination));
  const color = predictorColorScale(rows.map((r) => r.predictor));
  const x = combinationAxis(order, groupWidth(order.length));
  const xOffset = { field: 'predictor', type: 'nominal', sort: color.domain };
  const y = { field: 'mape', type: 'quantitative', title: 'prediction error, MAPE (%)', axis: { format: NUMBER_FORMAT } };
  return spec({
    title: titleOf(text, 'Latency prediction error per model combination'),
    data: { values },
    width: PLOT_WIDTH,
    height: 260,
    layer: [
      {
        mark: { type: 'bar' },
        encoding: {
          x,
          xOffset,
          y,
          color: colorEncoding(color, 'predictor', 'predictor'),
          tooltip: [
            { field: 'combination', type: 'nominal' },
            { field: 'predictor', type: 'nominal' },
            { field: 'mape', type: 'quantitative', title: 'MAPE (%)', format: '.2f' },
          ],
        },
      },
      {
        transform: [{ filter: { field: 'predictor', equal: PREDICTOR_LABELS.mlp } }],
        mark: { type: 'text', angle: 270, align: 'left', baseline: 'middle', dx: 3, fontSize: 10, color: '#222222' },
        encoding: { x, xOffset, y, text: { field: 'mape', type: 'quantitative', format: '.1f' } },
      },
    ],
  });
}

/** 99th-percentile latency normalised by the QoS target, per combination and policy, with a rule at 1. */
export function tailLatencySpec(rows: readonly TailLatencyRow[], text: FigureText = {}): VegaLiteSpec {
  requireRows(rows, 'tail latency figure');
  const data = policyData(rows, (r) => r.p99OverQos, 'p99/QoS');
  const bars = groupedPolicyBars(data, '99th-percentile latency / QoS target (×)', NUMBER_FORMAT);
  const { width, height, ...barLayer } = bars;
  return spec({
    title: titleOf(text, '99th-percentile latency relative to the QoS target'),
    width,
    height,
    data: { values: data.values },
    layer: [barLayer, ...referenceLine(1, 'QoS target')],
  });
}

/**
 * QoS-violation ratio per combination: a dot per policy, side by side within each combination's group
 * (the combinations are unrelated: no line joins them), on a thin stem from 0 so a 0 % dot is read as one.
 */
export function violationRatioSpec(rows: readonly ViolationRow[], text: FigureText = {}): VegaLiteSpec {
  requireRows(rows, 'violation ratio figure');
  const data = policyData(rows, (r) => r.violationPct, 'violation ratio');
  const x = combinationAxis(data.order, groupWidth(data.order.length));
  const xOffset = { field: 'policy', type: 'nominal', sort: data.color.domain };
  const y = { field: 'value', type: 'quantitative', title: 'QoS violations (% of queries)', axis: { format: NUMBER_FORMAT } };
  const color = { ...colorEncoding(data.color, 'policy', 'policy'), legend: { symbolOpacity: 1 } };
  return spec({
    title: titleOf(text, 'QoS-violation ratio per model combination'),
    data: { values: data.values },
    width: PLOT_WIDTH,
    height: 260,
    layer: [
      { mark: { type: 'rule', strokeWidth: 1.5, opacity: 0.6 }, encoding: { x, xOffset, y, y2: { datum: 0 }, color } },
      {
        mark: { type: 'point', filled: true, size: 70, opacity: 1 },
        encoding: {
          x,
          xOffset,
          y,
          color,
          tooltip: [
            { field: 'combination', type: 'nominal' },
            { field: 'policy', type: 'nominal' },
            { field: 'value', type: 'quantitative', title: 'violations (%)', format: '.1f' },
          ],
        },
      },
    ],
  });
}

/** Peak sustained throughput (from a load sweep) per combination and policy. */
export function peakThroughputSpec(rows: readonly PeakThroughputRow[], text: FigureText = {}): VegaLiteSpec {
  requireRows(rows, 'peak throughput figure');
  const data = policyData(rows, (r) => r.peakQps, 'peak throughput');
  const bars = groupedPolicyBars(data, 'peak throughput (queries/s)', NUMBER_FORMAT);
  if (!rows.some((r) => r.note)) {
    return spec({ title: titleOf(text, 'Peak throughput that meets the QoS target'), data: { values: data.values }, ...bars });
  }
  // notes ride on the bars: same x, offset and height, written upwards from the bar's top
  const values = data.values.map((v, i) => ({ ...v, note: rows[i]?.note ?? '' }));
  const { width, height, ...barLayer } = bars;
  const encoding = barLayer.encoding as Record<string, unknown>;
  return spec({
    title: titleOf(text, 'Peak throughput that meets the QoS target'),
    width,
    height,
    data: { values },
    layer: [
      barLayer,
      {
        transform: [{ filter: "datum.note !== ''" }],
        mark: { type: 'text', angle: 270, align: 'left', baseline: 'middle', dx: 4, fontSize: 11, color: '#333333' },
        encoding: { x: encoding.x, xOffset: encoding.xOffset, y: { field: 'value', type: 'quantitative' }, text: { field: 'note' } },
      },
    ],
  });
}

/** Queries completed per combination and policy in a run above capacity (the paper's "throughput"). */
export function overloadCompletionsSpec(rows: readonly OverloadCompletionRow[], text: FigureText = {}): VegaLiteSpec {
  requireRows(rows, 'overload completions figure');
  const data = policyData(rows, (r) => r.completed, 'completions');
  const sentValues = uniqueInOrder(rows.map((r) => (r.sent === undefined ? '' : String(r.sent))));
  const sent = sentValues.length === 1 && sentValues[0] !== '' ? Number(sentValues[0]) : undefined;
  const yTitle = sent === undefined ? 'completed queries (count)' : `completed queries (of ${sent.toLocaleString('en-US')} sent)`;
  const bars = groupedPolicyBars(data, yTitle, NUMBER_FORMAT);
  const { width, height, ...barLayer } = bars;
  const layers: Record<string, unknown>[] = [barLayer];
  if (sent !== undefined) layers.push(...referenceLine(sent, 'queries sent'));
  return spec({
    title: titleOf(text, 'Completed queries under overload'),
    width,
    height,
    data: { values: data.values },
    layer: layers,
  });
}

function waysAxis(): Record<string, unknown> {
  return { field: 'ways', type: 'quantitative', title: 'search ways (candidates per decision)', axis: { format: 'd', tickMinStep: 1 }, scale: { zero: false, nice: false } };
}

/** A line with points: coloured by series, or in Abacus's colour when there is one line. */
function singleOrSeriesLine(hasSeries: boolean): Record<string, unknown> {
  return hasSeries
    ? { type: 'line', point: true }
    : { type: 'line', color: POLICY_COLORS.abacus, point: { color: POLICY_COLORS.abacus } };
}

/** Decision time of the scheduler versus the number of search ways. */
export function decisionTimeSpec(rows: readonly DecisionTimeRow[], text: FigureText = {}): VegaLiteSpec {
  requireRows(rows, 'decision time figure');
  const values = rows.map((r) => {
    requireFinite(r.ways, 'ways');
    requireFinite(r.decisionUs, `decision time at ${r.ways} ways`);
    return { ways: r.ways, decisionUs: r.decisionUs, series: r.series ?? '' };
  });
  const series = uniqueInOrder(values.map((v) => v.series)).filter((s) => s !== '');
  const encoding: Record<string, unknown> = {
    x: waysAxis(),
    y: { field: 'decisionUs', type: 'quantitative', title: 'decision time (µs)' },
    tooltip: [
      { field: 'ways', type: 'quantitative', title: 'ways' },
      { field: 'decisionUs', type: 'quantitative', title: 'decision time (µs)', format: '.1f' },
    ],
  };
  if (series.length > 0) encoding.color = colorEncoding(seriesColorScale(series, {}), 'series', 'setting');
  return spec({
    title: titleOf(text, 'Scheduling decision time versus search ways'),
    data: { values },
    mark: singleOrSeriesLine(series.length > 0),
    encoding,
    width: PLOT_WIDTH,
    height: 240,
  });
}

/** QoS violations and goodput of serving runs versus the number of search ways (two stacked panels). */
export function waysOutcomeSpec(rows: readonly WaysOutcomeRow[], text: FigureText = {}): VegaLiteSpec {
  requireRows(rows, 'ways outcome figure');
  const values = rows.map((r) => {
    requireFinite(r.ways, 'ways');
    requireFinite(r.violationPct, `violation ratio at ${r.ways} ways`);
    requireFinite(r.goodputQps, `goodput at ${r.ways} ways`);
    return { ways: r.ways, violationPct: r.violationPct, goodputQps: r.goodputQps, series: r.series ?? '' };
  });
  const series = uniqueInOrder(values.map((v) => v.series)).filter((s) => s !== '');
  const color = series.length > 0 ? { color: colorEncoding(seriesColorScale(series, {}), 'series', 'setting') } : {};
  const mark = singleOrSeriesLine(series.length > 0);
  const panel = (field: string, title: string, format: string): Record<string, unknown> => ({
    mark,
    encoding: {
      x: waysAxis(),
      y: { field, type: 'quantitative', title, axis: { format } },
      ...color,
      tooltip: [
        { field: 'ways', type: 'quantitative', title: 'ways' },
        { field, type: 'quantitative', title, format: '.2f' },
      ],
    },
    width: PLOT_WIDTH,
    height: 170,
  });
  return spec({
    title: titleOf(text, 'QoS violations and goodput versus search ways'),
    data: { values },
    vconcat: [panel('violationPct', 'QoS violations (% of queries)', NUMBER_FORMAT), panel('goodputQps', 'goodput (queries/s meeting QoS)', NUMBER_FORMAT)],
    spacing: 14,
  });
}

/** Empirical CDF points of a sample: at most `maxPoints` evenly spaced in probability, plus min and max. */
export function ecdfPoints(samples: readonly number[], maxPoints = 200): { x: number; p: number }[] {
  const sorted = samples.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return [];
  const points: { x: number; p: number }[] = [{ x: sorted[0], p: 0 }];
  const step = Math.max(1, Math.ceil(n / maxPoints));
  for (let i = 0; i < n; i += step) points.push({ x: sorted[i], p: (i + 1) / n });
  if (points[points.length - 1].p !== 1) points.push({ x: sorted[n - 1], p: 1 });
  return points;
}

/** 99th percentile with linear interpolation (numpy's default, as every other p99 of the project). */
function percentile99(samples: readonly number[]): number {
  return percentile(samples, 99);
}

/**
 * The motivation figure: latency CDF of one model running alone and beside each other model. The
 * legend gives each series' 99th percentile.
 */
export function latencyCdfSpec(foreground: string, series: readonly LatencySamples[], text: FigureText & { logX?: boolean } = {}): VegaLiteSpec {
  requireRows(series, 'latency CDF figure');
  const values: { series: string; latencyMs: number; p: number }[] = [];
  const names: string[] = [];
  const colors: string[] = [];
  const fixed = seriesColorScale(series.map((s) => s.background ?? 'alone'));
  series.forEach((s, i) => {
    const finite = s.latenciesMs.filter((v) => Number.isFinite(v));
    if (finite.length === 0) throw new InputError(`latency CDF: no samples for background ${s.background ?? 'alone'}`);
    const base = s.background === null ? 'alone' : `with ${combinationLabel(s.background)}`;
    const name = `${base} (p99 ${percentile99(finite).toFixed(1)} ms)`;
    names.push(name);
    colors.push(fixed.range[fixed.domain.indexOf(s.background ?? 'alone')] ?? fixed.range[i % fixed.range.length]);
    for (const pt of ecdfPoints(finite)) values.push({ series: name, latencyMs: pt.x, p: pt.p });
  });
  const fg = combinationLabel(foreground);
  return spec({
    title: titleOf(text, `Latency of ${fg} alone and beside another model`),
    data: { values },
    layer: [
      {
        mark: { type: 'line', interpolate: 'step-after', strokeWidth: 2 },
        encoding: {
          x: text.logX
            ? { field: 'latencyMs', type: 'quantitative', title: `${fg} query latency (ms, log scale)`, scale: { type: 'log', nice: false }, axis: { format: NUMBER_FORMAT } }
            : { field: 'latencyMs', type: 'quantitative', title: `${fg} query latency (ms)`, scale: { zero: false } },
          y: { field: 'p', type: 'quantitative', title: 'fraction of queries (CDF)', scale: { domain: [0, 1] }, axis: { format: '.1f' } },
          color: { field: 'series', type: 'nominal', title: null, scale: { domain: names, range: colors }, sort: names, legend: { orient: 'right', direction: 'vertical', offset: 40 } },
          order: { field: 'p', type: 'quantitative' },
        },
      },
      ...referenceLine(0.99, 'p99'),
    ],
    width: 460,
    height: 280,
  });
}

/**
 * The cluster figure: throughput, 99th-percentile and mean latency per time step for each balancer, as
 * three stacked panels with one time axis. `offered` adds the offered load to the throughput panel;
 * `qosMs` adds the QoS target to the latency panels.
 */
export function clusterTimeSeriesSpec(
  rows: readonly ClusterStepRow[],
  options: FigureText & { offered?: readonly OfferedLoadRow[]; qosMs?: number } = {},
): VegaLiteSpec {
  requireRows(rows, 'cluster time series figure');
  const span = Math.max(...rows.map((r) => r.timeS), ...(options.offered ?? []).map((o) => o.timeS));
  const minutes = span > 600;
  const unit = minutes ? 60 : 1;
  const offeredLabel = 'offered load';
  const values: { t: number; series: string; metric: string; value: number }[] = [];
  for (const r of rows) {
    for (const [metric, value] of [['throughput', r.throughputQps], ['p99', r.p99Ms], ['mean', r.meanMs]] as const) {
      requireFinite(value, `${metric} of ${r.balancer} at ${r.timeS} s`);
      values.push({ t: r.timeS / unit, series: BALANCER_LABELS[r.balancer], metric, value });
    }
  }
  for (const o of options.offered ?? []) {
    requireFinite(o.offeredQps, `offered load at ${o.timeS} s`);
    values.push({ t: o.timeS / unit, series: offeredLabel, metric: 'throughput', value: o.offeredQps });
  }
  const balancers = balancerColorScale(rows.map((r) => r.balancer));
  const color = options.offered && options.offered.length > 0
    ? { domain: [offeredLabel, ...balancers.domain], range: [OFFERED_LOAD_COLOR, ...balancers.range] }
    : balancers;
  const x = { field: 't', type: 'quantitative', title: minutes ? 'time since start (min)' : 'time since start (s)', scale: { nice: false } };
  const colorEnc = colorEncoding(color, 'series', 'balancer');
  const panel = (metric: string, yTitle: string, showX: boolean, qos: boolean): Record<string, unknown> => {
    const lines = {
      transform: [{ filter: { field: 'metric', equal: metric } }],
      mark: { type: 'line', strokeWidth: 1.8 },
      encoding: {
        x: showX ? x : { ...x, axis: { title: null, labels: false } },
        y: { field: 'value', type: 'quantitative', title: yTitle, axis: { format: NUMBER_FORMAT } },
        color: colorEnc,
        strokeDash: {
          field: 'series',
          type: 'nominal',
          scale: { domain: color.domain, range: color.domain.map((d) => (d === offeredLabel ? [5, 3] : [1, 0])) },
          sort: color.domain,
          title: 'balancer',
        },
      },
    };
    const layers: Record<string, unknown>[] = [lines];
    if (qos && options.qosMs !== undefined) layers.push(...referenceLine(options.qosMs, 'QoS target'));
    return { layer: layers, width: PLOT_WIDTH, height: 150 };
  };
  return spec({
    title: titleOf(options, 'Cluster: throughput and latency over time per balancer'),
    data: { values },
    vconcat: [
      panel('throughput', 'throughput (queries/s)', false, false),
      panel('p99', 'p99 latency (ms)', false, true),
      panel('mean', 'mean latency (ms)', true, false),
    ],
    spacing: 10,
    resolve: { scale: { x: 'shared' } },
  });
}

/** One policy's outcome on one combination (a single configuration, e.g. the quickstart's pair). */
export interface PolicyOutcomeRow {
  policy: PolicyName;
  p99OverQos: number | null;
  violationPct: number;
  goodputQps: number;
}

/**
 * Every policy on one configuration, side by side: p99 / QoS (with the target at 1), QoS violations and
 * goodput, one bar per policy in each panel. A policy with no completed query has no tail bar.
 */
export function policyOutcomeSpec(rows: readonly PolicyOutcomeRow[], text: FigureText = {}): VegaLiteSpec {
  requireRows(rows, 'policy outcome figure');
  const values = rows.map((r) => {
    if (r.p99OverQos !== null) requireFinite(r.p99OverQos, `p99/QoS of ${r.policy}`);
    requireFinite(r.violationPct, `violations of ${r.policy}`);
    requireFinite(r.goodputQps, `goodput of ${r.policy}`);
    return { policy: POLICY_LABELS[r.policy], tail: r.p99OverQos, violationPct: r.violationPct, goodputQps: r.goodputQps };
  });
  const color = policyColorScale(rows.map((r) => r.policy));
  const x = { field: 'policy', type: 'nominal', title: null, sort: color.domain, axis: { labelAngle: -40, labelAlign: 'right' } };
  const bar = (field: string, title: string, format: string, extra: Record<string, unknown>[] = []): Record<string, unknown> => ({
    width: { step: 34 },
    height: 220,
    layer: [
      {
        ...(field === 'tail' ? { transform: [{ filter: 'datum.tail !== null' }] } : {}),
        mark: { type: 'bar' },
        encoding: {
          x,
          y: { field, type: 'quantitative', title, axis: { format } },
          color: { ...colorEncoding(color, 'policy', 'policy'), legend: null },
          tooltip: [
            { field: 'policy', type: 'nominal' },
            { field, type: 'quantitative', title, format: '.2f' },
          ],
        },
      },
      ...extra,
    ],
  });
  const target = [
    { mark: { type: 'rule', strokeDash: [6, 4], strokeWidth: 1.5, color: '#333333' }, encoding: { y: { datum: 1 } } },
  ];
  return spec({
    title: titleOf(text, 'Every policy on the same trace'),
    data: { values },
    hconcat: [
      bar('tail', 'p99 latency / QoS target (×)', NUMBER_FORMAT, target),
      bar('violationPct', 'QoS violations (% of queries)', NUMBER_FORMAT),
      bar('goodputQps', 'goodput (queries/s meeting QoS)', NUMBER_FORMAT),
    ],
    spacing: 28,
  });
}
