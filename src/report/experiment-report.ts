/**
 * From an experiment results folder to its summary (summary.csv, summary.json), its figures (SVG, PNG and
 * the Vega-Lite spec) and a report section with the paper's numbers beside ours. `finishRun` is what a
 * run script calls last; `writeExperimentsReport` is `abacus report`.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { InputError } from '../common/errors.js';
import { writeFileAtomic, writeJsonAtomic } from '../common/fsutil.js';
import { collectProvenance, type Provenance } from '../common/provenance.js';
import { percentile } from '../common/stats.js';
import {
  combinationLabel,
  decisionTimeSpec,
  latencyCdfSpec,
  overloadCompletionsSpec,
  peakThroughputSpec,
  policyOutcomeSpec,
  predictionErrorSpec,
  tailLatencySpec,
  violationRatioSpec,
  waysOutcomeSpec,
} from './figures.js';
import {
  PAPER_DECISION_MS,
  PAPER_MIG_1IN4,
  PAPER_MOTIVATION_RESNET152_MS,
  PAPER_SMALL_DNN_TAIL_RANGE,
  headlineComparison,
  paperQosFactor,
  predictorComparison,
  servingComparison,
  PAPER_COMPLETION_GAIN_PCT,
  type PaperComparison,
  type PaperServingExperimentId,
} from './paper.js';
import { renderVegaLite, type VegaLiteSpec } from './render.js';
import { writeReport, type ReportFigure, type ReportSection, type ReportTable, type TableCell, type WrittenReport } from './report.js';
import { POLICY_LABELS, PREDICTOR_LABELS } from './theme.js';
import {
  RUN_FORMAT,
  SECTION_TITLES,
  SUMMARY_FORMAT,
  completionGainPct,
  describeQosRule,
  findRunDirs,
  meanOf,
  policyAverages,
  readMigRows,
  readMotivation,
  readPeakRows,
  readPredictionRows,
  readQosFile,
  readRunInfo,
  readServingRows,
  readSteps,
  violationChangePct,
  type MotivationFile,
  type PeakRow,
  type PredictionRow,
  type QosFile,
  type RunInfo,
  type ServingRow,
  type StepTiming,
} from './experiments.js';

export interface ExperimentFigure {
  /** File stem under the figures folder. */
  name: string;
  title: string;
  caption: string;
  spec: VegaLiteSpec;
}

/** Everything a results folder says, ready to write or to put in a report. */
export interface ExperimentSummary {
  dir: string;
  run: RunInfo;
  qos: QosFile | null;
  serving: ServingRow[];
  peaks: PeakRow[];
  prediction: PredictionRow[];
  motivation: MotivationFile | null;
  steps: StepTiming[];
  /** Prose for the report: what was run and how to read it. */
  text: string;
  figures: ExperimentFigure[];
  tables: ReportTable[];
  paper: PaperComparison[];
}

// ---------------------------------------------------------------------------------------------------
// Labels

function modeLabel(run: RunInfo): string {
  return run.mode === 'quick' ? `quick run: tiny models on ${run.ep}` : `full models on ${run.ep}`;
}

function setting(run: RunInfo, key: string): string | null {
  const v = run.settings[key];
  return v === undefined ? null : String(v);
}

function ruleLabel(qos: QosFile | null): string {
  if (!qos) return '';
  const bmax = Math.max(...qos.rule.batchSizes);
  return `QoS = ${qos.rule.factor} × ${qos.rule.sharedQos ? 'largest' : 'larger'} solo latency at batch ${bmax}`;
}

function queriesLabel(rows: readonly ServingRow[]): string {
  const issued = [...new Set(rows.map((r) => r.issued))];
  return issued.length === 1 ? `${issued[0]} queries per run` : `${Math.min(...issued)}-${Math.max(...issued)} queries per run`;
}

function subtitle(...parts: Array<string | null | undefined | false>): string {
  return parts.filter((p): p is string => typeof p === 'string' && p.length > 0).join('; ');
}

const policyLabel = (p: ServingRow['policy']): string => POLICY_LABELS[p];

// ---------------------------------------------------------------------------------------------------
// Tables

const MOTIVATION_COLUMNS = ['background', 'queries', 'min_ms', 'p50_ms', 'p99_ms', 'max_ms', 'p99_over_p50', 'paper_p50_ms', 'paper_p99_ms'] as const;

const SERVING_COLUMNS = [
  'study', 'combination', 'policy', 'qos_ms', 'load_qps', 'issued', 'completed', 'ok', 'late', 'dropped', 'failed', 'violation_pct',
  'p50_ms', 'p99_ms', 'p99_over_qos', 'goodput_qps', 'throughput_qps', 'duration_ms', 'decision_p50_us', 'decision_p99_us', 'ways', 'search_steps_mean',
  'search_decisions', 'search_decision_p50_us', 'reaction_p50_us', 'reaction_p99_us',
] as const;

function servingCells(r: ServingRow): TableCell[] {
  return [
    r.study, r.combination, r.policy, r.qosMs, r.loadQps, r.issued, r.completed, r.ok, r.late, r.dropped, r.failed, r.violationPct,
    r.p50Ms, r.p99Ms, r.p99OverQos, r.goodputQps, r.throughputQps, r.durationMs, r.decisionP50Us, r.decisionP99Us, r.ways, r.searchStepsMean,
    r.searchDecisions, r.decisionSearchP50Us, r.reactionP50Us, r.reactionP99Us,
  ];
}

function servingTable(title: string, rows: readonly ServingRow[]): ReportTable {
  return {
    title,
    columns: ['combination', 'policy', 'QoS (ms)', 'load (q/s)', 'issued', 'completed', 'late', 'dropped', 'failed', 'violations (%)', 'p99 (ms)', 'p99 / QoS', 'goodput (q/s)'],
    rows: rows.map((r) => [combinationLabel(r.combination), policyLabel(r.policy), r.qosMs, r.loadQps, r.issued, r.completed, r.late, r.dropped, r.failed, r.violationPct, r.p99Ms, r.p99OverQos, r.goodputQps]),
    digits: 2,
  };
}

function averagesTable(title: string, rows: readonly ServingRow[]): ReportTable {
  return {
    title,
    columns: ['policy', 'configurations', 'mean p99 / QoS', 'completed per 1,000 issued', 'mean violations (%)', 'mean goodput (q/s)'],
    rows: policyAverages(rows).map((a) => [POLICY_LABELS[a.policy], a.configurations, a.p99OverQos, a.completionsPer1000, a.violationPct, a.goodputQps]),
    digits: 2,
  };
}

function qosTable(qos: QosFile): ReportTable {
  const bmax = Math.max(...qos.rule.batchSizes);
  const hasSmall = Object.values(qos.combinations).some((c) => c.small !== null);
  const columns = ['combination', `largest solo at batch ${bmax} (ms)`, 'QoS (ms)', 'serial capacity (q/s)', 'QoS-study load (q/s)', 'overload load (q/s)', "paper's QoS ÷ A100 solo"];
  if (hasSmall) columns.push('small-DNN QoS (ms)', 'small-DNN load (q/s)');
  return {
    title: 'QoS targets and loads from the measured solo latencies',
    columns,
    rows: Object.values(qos.combinations).map((c) => {
      const row: TableCell[] = [combinationLabel(c.combination), c.maxSoloMs, c.qosMs, c.capacityQps, c.loadQosQps, c.loadOverloadQps, paperQosFactor(c.combination)];
      if (hasSmall) row.push(c.small?.qosMs ?? null, c.small?.loadQps ?? null);
      return row;
    }),
    digits: 2,
  };
}

function soloTable(qos: QosFile): ReportTable {
  const batches = [...new Set(Object.values(qos.solo).flatMap((b) => Object.keys(b)))].map(Number).sort((a, b) => a - b);
  return {
    title: `Measured solo latency (ms), one whole query alone through the executor${qos.soloSeq ? `; models with a sequence length at ${qos.soloSeq} (capacity uses their mean over ${qos.soloSeqs?.join(', ') ?? qos.soloSeq})` : ''}`,
    columns: ['model', ...batches.map((b) => `batch ${b}`)],
    rows: Object.entries(qos.solo).map(([m, byBatch]) => [m, ...batches.map((b) => byBatch[String(b)] ?? null)]),
    digits: 3,
  };
}

function provenanceTable(s: ExperimentSummary): ReportTable {
  const p: Provenance = s.run.provenance;
  const total = s.steps.reduce((a, t) => a + (Number.isFinite(t.seconds) ? t.seconds : 0), 0);
  const rows: TableCell[][] = [
    ['results folder', s.dir],
    ['run id', s.run.runId],
    ['mode', `${s.run.mode} (${modeLabel(s.run)})`],
    ['command', s.run.command],
    ['started', s.run.startedAt],
    ['git commit', p.gitCommit === null ? 'unknown' : `${p.gitCommit}${p.gitDirty ? ' (uncommitted changes)' : ''}`],
    ['hardware', `${p.hardware.cpuModel} × ${p.hardware.cpuCount}${p.hardware.gpu ? `, ${p.hardware.gpu}` : ''}, ${p.hardware.hostname}`],
    ['versions', Object.entries(p.versions).map(([k, v]) => `${k} ${v}`).join(', ')],
    ['settings', Object.entries(s.run.settings).map(([k, v]) => `${k}=${String(v)}`).join(', ')],
  ];
  if (s.steps.length > 0) rows.push(['steps', `${s.steps.length} steps, ${total.toFixed(1)} s in all`]);
  return { title: 'Run provenance', columns: ['field', 'value'], rows };
}

// ---------------------------------------------------------------------------------------------------
// Figures per kind of data

function tailFigure(name: string, title: string, rows: readonly ServingRow[], sub: string): ExperimentFigure | null {
  const withTail = rows.filter((r) => r.p99OverQos !== null);
  if (withTail.length === 0) return null;
  const missing = rows.filter((r) => r.p99OverQos === null).map((r) => `${policyLabel(r.policy)} on ${combinationLabel(r.combination)}`);
  return {
    name,
    title,
    caption:
      'p99 of each completed query\'s latency divided by the QoS target it was served with; the dashed line is the target. Dropped queries have no latency and count only as violations.' +
      (missing.length ? ` No bar: no query completed (${missing.join(', ')}).` : ''),
    spec: tailLatencySpec(withTail.map((r) => ({ combination: r.combination, policy: r.policy, p99OverQos: r.p99OverQos as number })), { title, subtitle: sub }),
  };
}

function violationFigure(name: string, title: string, rows: readonly ServingRow[], sub: string): ExperimentFigure | null {
  if (rows.length === 0) return null;
  return {
    name,
    title,
    caption: 'Violations = (late + dropped + failed) / issued, counted the same way for every policy.',
    spec: violationRatioSpec(rows.map((r) => ({ combination: r.combination, policy: r.policy, violationPct: r.violationPct })), { title, subtitle: sub }),
  };
}

function overloadFigure(name: string, title: string, rows: readonly ServingRow[], sub: string): ExperimentFigure | null {
  if (rows.length === 0) return null;
  return {
    name,
    title,
    caption: 'The paper\'s "throughput": queries completed in a run offered more load than serial serving sustains, late completions included (dropped and failed ones are not). Goodput, which counts only completions within QoS, is in the tables.',
    spec: overloadCompletionsSpec(rows.map((r) => ({ combination: r.combination, policy: r.policy, completed: r.completed, sent: r.issued })), { title, subtitle: sub }),
  };
}

function peakFigure(name: string, title: string, rows: readonly PeakRow[], sub: string): ExperimentFigure | null {
  if (rows.length === 0) return null;
  const below = rows.filter((r) => r.peakQps === null).map((r) => `${POLICY_LABELS[r.policy]} on ${combinationLabel(r.combination)}`);
  const above = rows.filter((r) => r.peakQps !== null && r.failQps === null).map((r) => `${POLICY_LABELS[r.policy]} on ${combinationLabel(r.combination)}`);
  return {
    name,
    title,
    caption:
      'Highest Poisson load (bisection over runs of the same seeded trace) at which p99 ≤ QoS and at most 1 % of the queries violate (MLPerf server rule).' +
      (below.length ? ` Marked "< load" at 0: failed even at the lowest load probed (${below.join(', ')}).` : '') +
      (above.length ? ` Marked "≥": passed at the top of the search range, so the peak is at least that (${above.join(', ')}).` : ''),
    spec: peakThroughputSpec(
      rows.map((r) => ({
        combination: r.combination,
        policy: r.policy,
        peakQps: r.peakQps ?? 0,
        ...(r.peakQps === null ? { note: `< ${Math.round(r.failQps ?? r.lowQps ?? 0)}` } : r.failQps === null ? { note: '≥' } : {}),
      })),
      { title, subtitle: sub },
    ),
  };
}

// ---------------------------------------------------------------------------------------------------
// Paper numbers

function servingPaper(id: PaperServingExperimentId, rows: readonly ServingRow[]): PaperComparison[] {
  const ours: Parameters<typeof servingComparison>[1] = {};
  for (const a of policyAverages(rows)) {
    if (a.policy === 'concurrent') continue;
    ours[a.policy] = {
      ...(a.p99OverQos !== null ? { tail: a.p99OverQos } : {}),
      ...(a.completionsPer1000 !== null ? { completions: a.completionsPer1000 } : {}),
      ...(a.violationPct !== null ? { violationPct: a.violationPct } : {}),
    };
  }
  return servingComparison(id, ours).map((c) => ({ ...c, metric: `${c.metric} (${id})`, ...(c.metric.includes('completed') ? { note: 'ours scaled to 1,000 issued' } : {}) }));
}

function gainPaper(key: keyof typeof PAPER_COMPLETION_GAIN_PCT, rows: readonly ServingRow[]): PaperComparison[] {
  const gains = completionGainPct(rows);
  return (['fcfs', 'sjf', 'edf'] as const).flatMap((b) =>
    gains[b] === undefined ? [] : [{ metric: `Abacus completions vs ${POLICY_LABELS[b]} (${key}, overload)`, ours: gains[b] as number, paper: PAPER_COMPLETION_GAIN_PCT[key][b], unit: '%', note: 'completions ÷ baseline − 1, mean over combinations' }],
  );
}

// ---------------------------------------------------------------------------------------------------
// Sections

const isTriplet = (r: { combination: string }, qos: QosFile | null): boolean => (qos?.combinations[r.combination]?.models.length ?? r.combination.split('_').length) === 3;
const isQuad = (r: { combination: string }, qos: QosFile | null): boolean => (qos?.combinations[r.combination]?.models.length ?? 0) === 4;

function servingIntro(s: ExperimentSummary, what: string): string {
  const parts = [what];
  if (s.qos) parts.push(`QoS rule: ${describeQosRule(s.qos.rule)}. The target of each combination is in the table below, and every query of a run is served and normalised with that same value (checked against the per-query logs).`);
  parts.push('Every policy runs the same seeded trace with the same abandon rule; a violation is a late, dropped or failed query over the queries issued.');
  if (s.run.mode === 'quick') parts.push('This is a quick run (tiny models, short profiles, few queries, a shared CPU): it exercises the pipeline end to end, and its numbers are not comparable with the paper\'s A100 numbers.');
  return parts.join('\n\n');
}

function build72(s: ExperimentSummary): void {
  const main = s.serving.filter((r) => r.study === 'qos');
  const small = s.serving.filter((r) => r.study === 'small');
  const sub = subtitle(modeLabel(s.run), queriesLabel(main), s.qos ? `load ${s.qos.rule.rhoQos} × serial capacity` : null, ruleLabel(s.qos));
  s.text = servingIntro(s, 'Each pair is served by every policy at the QoS-study load (Fig. 14 and 15 of the paper), then by Abacus alone with batch 4 only and a target derived from the batch-4 solo latencies (the small-DNN variant, Fig. 16).');
  push(s.figures, tailFigure('qos_tail', '99th-percentile latency / QoS per pair', main, sub));
  push(s.figures, violationFigure('qos_violations', 'QoS violations per pair', main, sub));
  const smallSub = subtitle(modeLabel(s.run), queriesLabel(small), 'batch 4 only, Abacus only', s.qos ? `QoS = ${s.qos.rule.factor} × larger solo latency at batch 4` : null);
  push(s.figures, tailFigure('small_dnn_tail', 'Small DNNs: 99th-percentile latency / QoS', small, smallSub));
  s.tables.push(averagesTable('Means over the pairs, QoS study', main));
  if (small.length) s.tables.push(averagesTable('Means over the pairs, small-DNN variant', small));
  s.tables.push(servingTable('Every run', s.serving));
  s.paper.push(...servingPaper('a100-2in7-qos', main));
  const change = violationChangePct(main);
  if (change !== null) s.paper.push(...headlineComparison({ violationChangePct: change }).map((c) => ({ ...c, note: 'ours: Abacus mean violations vs the mean of FCFS, SJF and EDF' })));
  const smallTail = meanOf(small.filter((r) => r.policy === 'abacus').map((r) => r.p99OverQos));
  if (smallTail !== null) s.paper.push({ metric: 'small DNNs: Abacus p99 / QoS', ours: smallTail, paper: `${PAPER_SMALL_DNN_TAIL_RANGE[0]}-${PAPER_SMALL_DNN_TAIL_RANGE[1]}`, unit: '×', note: 'ours: mean over pairs; paper: range over pairs' });
}

function buildThroughput(s: ExperimentSummary, overload: readonly ServingRow[], peaks: readonly PeakRow[], label: string): void {
  const sub = subtitle(modeLabel(s.run), queriesLabel(overload), s.qos ? `load ${s.qos.rule.rhoOverload} × serial capacity` : null, ruleLabel(s.qos));
  const peakSub = subtitle(modeLabel(s.run), setting(s.run, 'peak_queries') ? `${setting(s.run, 'peak_queries')} queries per probe` : null, ruleLabel(s.qos));
  push(s.figures, peakFigure(`${label}peak_throughput`, 'Peak throughput under the QoS rule (load sweep)', peaks, peakSub));
  push(s.figures, overloadFigure(`${label}overload_completions`, 'Completed queries under overload (the paper\'s count)', overload, sub));
}

function peakTable(rows: readonly PeakRow[]): ReportTable {
  return {
    title: 'Peak throughput searches',
    columns: ['combination', 'policy', 'peak (q/s)', 'first failing load (q/s)', 'runs', 'search range (q/s)'],
    rows: rows.map((r) => [combinationLabel(r.combination), POLICY_LABELS[r.policy], r.peakQps === null ? `< ${r.lowQps ?? '?'}` : r.peakQps, r.failQps === null ? (r.peakQps === null ? null : `> ${r.highQps ?? '?'}`) : r.failQps, r.runs, r.lowQps !== null ? `${r.lowQps}-${r.highQps}` : null]),
    digits: 1,
  };
}

function build73(s: ExperimentSummary): void {
  const overload = s.serving.filter((r) => r.study === 'overload');
  s.text = servingIntro(
    s,
    'Two measures, kept apart. Peak throughput: the highest load each policy sustains under the QoS rule (p99 ≤ QoS, ≤ 1 % violations), found by bisection over runs of one seeded trace. Completions under overload: one run per policy at the overload load, counting completed queries whether or not they met QoS, as the paper\'s Fig. 17 did.',
  );
  buildThroughput(s, overload, s.peaks, '');
  if (s.peaks.length) s.tables.push(peakTable(s.peaks));
  s.tables.push(averagesTable('Means over the pairs, overload runs', overload));
  s.tables.push(servingTable('Every overload run', overload));
  s.paper.push(...servingPaper('a100-2in7-throughput', overload), ...gainPaper('a100-2in7', overload));
  const gains = Object.values(completionGainPct(overload));
  const m = meanOf(gains);
  if (m !== null) s.paper.push(...headlineComparison({ throughputChangePct: m }).map((c) => ({ ...c, note: 'ours: mean Abacus completion gain over FCFS, SJF and EDF under overload' })));
}

function build74(s: ExperimentSummary): void {
  const qosRows = s.serving.filter((r) => r.study === 'qos');
  const overload = s.serving.filter((r) => r.study === 'overload');
  s.text = servingIntro(s, 'The triplets and the quadruplet of ResNet-101, ResNet-152, VGG-19 and BERT (Fig. 18 and 19 of the paper): the QoS study, then peak throughput and completions under overload, as in §7.2 and §7.3.');
  const sub = subtitle(modeLabel(s.run), queriesLabel(qosRows), s.qos ? `load ${s.qos.rule.rhoQos} × serial capacity` : null, ruleLabel(s.qos));
  push(s.figures, tailFigure('qos_tail', '99th-percentile latency / QoS, triplets and quadruplet', qosRows, sub));
  push(s.figures, violationFigure('qos_violations', 'QoS violations, triplets and quadruplet', qosRows, sub));
  buildThroughput(s, overload, s.peaks, '');
  s.tables.push(averagesTable('Means over the triplets, QoS study', qosRows.filter((r) => isTriplet(r, s.qos))));
  s.tables.push(averagesTable('Means over the triplets, overload runs', overload.filter((r) => isTriplet(r, s.qos))));
  if (s.peaks.length) s.tables.push(peakTable(s.peaks));
  s.tables.push(servingTable('Every run', s.serving));
  s.paper.push(...servingPaper('a100-3in4-qos', qosRows.filter((r) => isTriplet(r, s.qos))));
  s.paper.push(...servingPaper('a100-4in4-qos', qosRows.filter((r) => isQuad(r, s.qos))));
  s.paper.push(...servingPaper('a100-3in4-throughput', overload.filter((r) => isTriplet(r, s.qos))), ...gainPaper('a100-3in4', overload.filter((r) => isTriplet(r, s.qos))));
  s.paper.push(...servingPaper('a100-4in4-throughput', overload.filter((r) => isQuad(r, s.qos))));
}

/** MIG configuration names ("2in4-a") → what runs where ("2in4: Res101+BERT | Res152+VGG19"), from run.json. */
function migLabels(run: RunInfo): Map<string, string> {
  const labels = new Map<string, string>();
  for (const config of String(run.settings.configurations ?? '').split(/\s+/).filter(Boolean)) {
    const [name, groups] = config.split(':');
    if (!name || !groups) continue;
    labels.set(name, `${name.split('-')[0]}: ${groups.split(';').map((g) => combinationLabel(g.split(',').join('_'))).join(' | ')}`);
  }
  return labels;
}

function build75(s: ExperimentSummary): void {
  const labels = migLabels(s.run);
  const relabel = (r: ServingRow): ServingRow => ({ ...r, combination: labels.get(r.combination) ?? r.combination });
  const qosRows = s.serving.filter((r) => r.study === 'qos').map(relabel);
  const overload = s.serving.filter((r) => r.study === 'overload').map(relabel);
  s.text = servingIntro(s, 'The four models served on MIG instances: one `abacus serve` per instance, all instances at once, each pinned with CUDA_VISIBLE_DEVICES=MIG-<uuid>; the counts and latency percentiles of a configuration are taken over all its instances.');
  const sub = subtitle(modeLabel(s.run), ruleLabel(s.qos));
  push(s.figures, tailFigure('mig_qos_tail', 'MIG: 99th-percentile latency / QoS per configuration', qosRows, sub));
  push(s.figures, violationFigure('mig_violations', 'MIG: QoS violations per configuration', qosRows, sub));
  push(s.figures, overloadFigure('mig_overload_completions', 'MIG: completed queries under overload', overload, sub));
  s.tables.push(servingTable('Every configuration', s.serving));
  const by = (rows: readonly ServingRow[], prefix: string) => rows.filter((r) => r.combination.startsWith(prefix));
  s.paper.push(...servingPaper('mig-2in4-qos', by(qosRows, '2in4')), ...servingPaper('mig-4in4-qos', by(qosRows, '4in4')));
  s.paper.push(...servingPaper('mig-2in4-throughput', by(overload, '2in4')), ...servingPaper('mig-4in4-throughput', by(overload, '4in4')));
  const one = by(qosRows, '1in4').find((r) => r.policy === 'fcfs');
  if (one) s.paper.push({ metric: 'MIG 1in4 FCFS p99 / QoS', ours: one.p99OverQos, paper: PAPER_MIG_1IN4.qos.fcfs.tail, unit: '×' }, { metric: 'MIG 1in4 FCFS violations', ours: one.violationPct, paper: PAPER_MIG_1IN4.qos.fcfs.violationPct, unit: '%' });
}

function build77(s: ExperimentSummary): void {
  const rows = s.serving.filter((r) => /^ways-\d+$/.test(r.study) && r.policy === 'abacus');
  const nModels = (c: string): number => s.qos?.combinations[c]?.models.length ?? c.split('_').length;
  const series = (c: string): string => `${combinationLabel(c)} (${nModels(c)} models)`;
  s.text = servingIntro(s, 'Abacus serves the same trace with 1 to 16 search ways (split points priced per batched predictor call). Decision time is the controller\'s own compute per scheduling decision (median, real time), with the predictor\'s batched calls included; violations and goodput are of the whole run.');
  const combos = [...new Set(rows.map((r) => r.combination))];
  const sub = subtitle(modeLabel(s.run), combos.length === 1 ? series(combos[0]!) : null, queriesLabel(rows), s.qos ? `QoS ${s.qos.rule.factor} × solo, load ${s.qos.rule.rhoQos} × serial capacity` : null);
  const decisionSeries = (c: string, searched: boolean): string =>
    combos.length === 1 ? (searched ? 'decisions with a split search' : 'all decisions') : `${combinationLabel(c)}: ${searched ? 'with a split search' : 'all'}`;
  const decisionRows = [
    ...rows.filter((r) => r.decisionP50Us !== null).map((r) => ({ ways: r.ways, decisionUs: r.decisionP50Us as number, series: decisionSeries(r.combination, false) })),
    ...rows.filter((r) => r.decisionSearchP50Us !== null).map((r) => ({ ways: r.ways, decisionUs: r.decisionSearchP50Us as number, series: decisionSeries(r.combination, true) })),
  ];
  if (decisionRows.length) {
    const noSearch = rows.filter((r) => r.searchDecisions === 0).map((r) => `${combinationLabel(r.combination)} at ${r.ways} way${r.ways === 1 ? '' : 's'}`);
    s.figures.push({
      name: 'decision_time',
      title: 'Decision time versus search ways',
      caption:
        'Median controller time per decision: over every launched group, and over the groups whose decision ran a k-ary split search (with its batched predictor calls).' +
        (noSearch.length ? ` No decision searched a split in: ${noSearch.join(', ')}.` : ''),
      spec: decisionTimeSpec(decisionRows, { title: 'Decision time versus search ways', subtitle: sub }),
    });
  }
  if (rows.length) {
    s.figures.push({
      name: 'ways_outcome',
      title: 'QoS violations and goodput versus search ways',
      caption: 'Violations = (late + dropped + failed) / issued; goodput = completions within QoS per second of the run.',
      spec: waysOutcomeSpec(rows.map((r) => ({ ways: r.ways, violationPct: r.violationPct, goodputQps: r.goodputQps, ...(combos.length > 1 ? { series: series(r.combination) } : {}) })), { title: 'QoS violations and goodput versus search ways', subtitle: sub }),
    });
  }
  s.tables.push({
    title: 'Runs by search ways',
    columns: ['combination', 'ways', 'decision p50 (ms)', 'decision p99 (ms)', 'decisions with a search', 'their p50 (ms)', 'search steps per group', 'violations (%)', 'p99 / QoS', 'goodput (q/s)'],
    rows: rows.map((r) => [combinationLabel(r.combination), r.ways, r.decisionP50Us === null ? null : r.decisionP50Us / 1000, r.decisionP99Us === null ? null : r.decisionP99Us / 1000, r.searchDecisions, r.decisionSearchP50Us === null ? null : r.decisionSearchP50Us / 1000, r.searchStepsMean, r.violationPct, r.p99OverQos, r.goodputQps]),
    digits: 3,
  });
  const one = meanOf(rows.filter((r) => r.ways === 1).map((r) => (r.decisionP50Us === null ? null : r.decisionP50Us / 1000)));
  const more = rows.filter((r) => r.ways >= 2 && r.decisionP50Us !== null).map((r) => (r.decisionP50Us as number) / 1000);
  if (one !== null) s.paper.push({ metric: 'decision time at 1 way', ours: one, paper: PAPER_DECISION_MS.oneWay, unit: 'ms', note: 'paper: one MLP call on one core; ours: a whole decision' });
  if (more.length) s.paper.push({ metric: 'decision time at 2-16 ways', ours: `${Math.min(...more).toFixed(3)}-${Math.max(...more).toFixed(3)}`, paper: `${PAPER_DECISION_MS.twoToSixteenWays[0]}-${PAPER_DECISION_MS.twoToSixteenWays[1]}`, unit: 'ms', note: 'paper: one MLP call of that many rows' });
}

function build55(s: ExperimentSummary, folds: number): void {
  const rows = s.prediction;
  const cvLabel = folds > 1 ? `all, ${folds}-fold CV` : 'all, cross-validation';
  const label = (r: PredictionRow): string => (r.scope === 'combination' ? r.combination : r.scope === 'all' ? 'all, held out' : cvLabel);
  s.text = [
    'LR, SVM and MLP predictors trained one per pair (`abacus train --mode onebyone`), each scored on a seeded held-out 20 % of its pair\'s profiled groups; then one model for every pair (`--mode all`), scored on its held-out rows and by k-fold cross-validation on the training rows (the paper\'s "cross-validation" was one re-split).',
    s.run.mode === 'quick' ? 'This is a quick run: a few profiled groups per pair of tiny CPU models, so errors are much larger than with full profiles; it exercises the pipeline, not the paper\'s accuracy.' : '',
  ].filter(Boolean).join('\n\n');
  if (rows.length) {
    const sub = subtitle(modeLabel(s.run), setting(s.run, 'samples') ? `${setting(s.run, 'samples')} groups per batch tuple, ${setting(s.run, 'reps')} timed runs each` : null, 'MAPE on held-out groups');
    s.figures.push({
      name: 'prediction_error',
      title: 'Latency prediction error per pair',
      caption: 'Mean absolute percentage error of the predicted group latency. The last two groups are one model trained on every pair: on its held-out rows, and out-of-fold in k-fold cross-validation.',
      spec: predictionErrorSpec(rows.map((r) => ({ combination: label(r), predictor: r.predictor, mapePct: r.mapePct, scope: r.scope })), { title: 'Latency prediction error per pair', subtitle: sub }),
    });
  }
  const ours: Parameters<typeof predictorComparison>[0] = {};
  const tableRows: TableCell[][] = [];
  for (const p of ['lr', 'svm', 'mlp'] as const) {
    const per = rows.filter((r) => r.predictor === p && r.scope === 'combination');
    const all = rows.find((r) => r.predictor === p && r.scope === 'all');
    const cv = rows.find((r) => r.predictor === p && r.scope === 'cross-validation');
    if (!per.length && !all && !cv) continue;
    const mean = meanOf(per.map((r) => r.mapePct));
    const worst = per.length ? per.reduce((a, b) => (b.mapePct > a.mapePct ? b : a)) : null;
    tableRows.push([PREDICTOR_LABELS[p], mean, per.length ? Math.min(...per.map((r) => r.mapePct)) : null, worst ? `${worst.mapePct.toFixed(2)} (${combinationLabel(worst.combination)})` : null, meanOf(per.map((r) => r.maeMs)), all?.mapePct ?? null, cv?.mapePct ?? null]);
    ours[p] = { ...(mean !== null ? { meanMapePct: mean } : {}), ...(all ? { allMapePct: all.mapePct } : {}), ...(cv ? { crossValidationMapePct: cv.mapePct } : {}) };
  }
  s.tables.push({ title: 'Prediction error by predictor (MAPE %, MAE ms)', columns: ['predictor', 'mean MAPE over pairs', 'best pair', 'worst pair', 'mean MAE (ms)', 'all pairs, held out', cvLabel], rows: tableRows, digits: 2 });
  s.tables.push({
    title: 'Every score',
    columns: ['predictor', 'combination', 'scope', 'MAPE (%)', 'MAE (ms)', 'groups scored'],
    rows: rows.map((r) => [PREDICTOR_LABELS[r.predictor], r.scope === 'combination' ? combinationLabel(r.combination) : 'all', r.scope, r.mapePct, r.maeMs, r.n]),
    digits: 2,
  });
  s.paper.push(...predictorComparison(ours));
}

function buildMotivation(s: ExperimentSummary): void {
  const m = s.motivation;
  if (!m) return;
  const fg = combinationLabel(m.foreground);
  s.text = [
    `${fg} at batch ${m.batch} runs query after query, first alone, then while another model runs continuously beside it on the same device (its queries at batch ${m.backgroundBatches.join(' or ')}, drawn with seed ${m.seed}), with nothing coordinating the two: the overlap a plain multi-model server produces. The spread of the CDF is what makes latency unpredictable without a controller.`,
    s.run.mode === 'quick' ? 'This is a quick run: tiny models sharing a few CPU cores, so the background\'s effect is contention for cores rather than for GPU streaming multiprocessors.' : '',
  ].filter(Boolean).join('\n\n');
  const sub = subtitle(modeLabel(s.run), `${fg} at batch ${m.batch}, background at batch ${m.backgroundBatches.join(' or ')}`, `${m.series[0]?.latenciesMs.length ?? 0} foreground queries per series`);
  const all = m.series.flatMap((x) => x.latenciesMs);
  const spread = Math.max(...all) / Math.min(...all);
  s.figures.push({
    name: 'latency_cdf',
    title: `Latency of ${fg} alone and beside another model`,
    caption: 'Empirical CDF of the foreground query latency (start signal to finish); the legend gives each series\' 99th percentile.',
    spec: latencyCdfSpec(m.foreground, m.series.map((x) => ({ background: x.background, latenciesMs: x.latenciesMs })), { title: `Latency of ${fg} alone and beside another model`, subtitle: sub, logX: spread > 8 }),
  });
  s.tables.push({
    title: `${fg} latency (ms)${m.foreground === 'resnet152' ? '; paper: A100, batch 16' : ''}`,
    columns: ['beside', 'queries', 'min', 'p50', 'p99', 'max', 'p99 / p50', 'paper p50', 'paper p99'],
    rows: motivationRows(m),
    digits: 2,
  });
}

/** Per series: background, queries, min, p50, p99, max, p99 / p50, and the paper's p50 and p99 (ResNet-152). */
function motivationRows(m: MotivationFile): TableCell[][] {
  const paper = m.foreground === 'resnet152' ? PAPER_MOTIVATION_RESNET152_MS : null;
  return m.series.map((x) => {
    const p50 = percentile(x.latenciesMs, 50);
    const p99 = percentile(x.latenciesMs, 99);
    const ref = x.background ? paper?.[x.background] : undefined;
    return [x.background ?? 'nothing (alone)', x.latenciesMs.length, Math.min(...x.latenciesMs), p50, p99, Math.max(...x.latenciesMs), p99 / p50, ref?.p50 ?? null, ref?.p99 ?? null];
  });
}

function buildQuickstart(s: ExperimentSummary): void {
  const main = s.serving.filter((r) => r.study === 'qos');
  s.text = servingIntro(s, 'A tiny-model pair profiled briefly on the CPU, an MLP predictor trained on it, and every policy serving one seeded trace at the QoS-study load.');
  const combos = [...new Set(main.map((r) => r.combination))];
  const sub = subtitle(modeLabel(s.run), combos.length === 1 ? combinationLabel(combos[0]!) : null, queriesLabel(main), ruleLabel(s.qos));
  if (combos.length === 1) {
    s.figures.push({
      name: 'policies',
      title: 'Every policy on the same trace',
      caption: 'p99 of latency / QoS over completed queries (dashed: the target), violations = (late + dropped + failed) / issued, and goodput = completions within QoS per second.',
      spec: policyOutcomeSpec(main.map((r) => ({ policy: r.policy, p99OverQos: r.p99OverQos, violationPct: r.violationPct, goodputQps: r.goodputQps })), { title: 'Every policy on the same trace', subtitle: sub }),
    });
  } else {
    push(s.figures, tailFigure('qos_tail', '99th-percentile latency / QoS per policy', main, sub));
    push(s.figures, violationFigure('qos_violations', 'QoS violations per policy', main, sub));
  }
  s.tables.push(servingTable('Every policy on the same trace', main));
}

function push<T>(list: T[], item: T | null): void {
  if (item !== null) list.push(item);
}

/** Read a results folder into its summary, figures (as specs), tables and comparisons with the paper. */
export function summarizeExperiment(dir: string): ExperimentSummary {
  const run = readRunInfo(dir);
  const qos = readQosFile(dir);
  const prediction = readPredictionRows(dir);
  const s: ExperimentSummary = {
    dir,
    run,
    qos,
    serving: run.section === '7.5_mig' ? readMigRows(dir, qos) : readServingRows(dir, qos),
    peaks: readPeakRows(dir),
    prediction: prediction.rows,
    motivation: readMotivation(dir),
    steps: readSteps(dir),
    text: '',
    figures: [],
    tables: [],
    paper: [],
  };
  switch (run.section) {
    case '5.5_prediction':
      build55(s, prediction.folds);
      break;
    case '7.2_qos':
      build72(s);
      break;
    case '7.3_throughput':
      build73(s);
      break;
    case '7.4_beyond_pair':
      build74(s);
      break;
    case '7.5_mig':
      build75(s);
      break;
    case '7.7_multiway':
      build77(s);
      break;
    case 'motivation':
      buildMotivation(s);
      break;
    case 'quickstart':
      buildQuickstart(s);
      break;
  }
  if (qos) s.tables.push(qosTable(qos), soloTable(qos));
  if (s.steps.length) s.tables.push({ title: 'Steps', columns: ['step', 'seconds', 'exit code'], rows: s.steps.map((t) => [t.step, t.seconds, t.exitCode]), digits: 1 });
  s.tables.push(provenanceTable(s));
  const empty = s.serving.length + s.peaks.length + s.prediction.length + (s.motivation ? 1 : 0) === 0;
  if (empty) s.text = `${s.text}\n\nThis results folder holds no results yet (the run did not finish its first measurement).`.trim();
  return s;
}

// ---------------------------------------------------------------------------------------------------
// Writing

/** Render the summary's figures into `figuresDir` as SVG, PNG and Vega-Lite JSON. */
export async function renderExperimentFigures(s: ExperimentSummary, figuresDir: string): Promise<ReportFigure[]> {
  const out: ReportFigure[] = [];
  for (const f of s.figures) {
    const svgPath = join(figuresDir, `${f.name}.svg`);
    const pngPath = join(figuresDir, `${f.name}.png`);
    await renderVegaLite(f.spec, { svgPath, pngPath, specPath: join(figuresDir, `${f.name}.vl.json`) });
    out.push({ title: f.title, svgPath, pngPath, caption: f.caption });
  }
  return out;
}

function csvOf(columns: readonly string[], rows: readonly (readonly TableCell[])[]): string {
  const cell = (c: TableCell): string | number => {
    if (c === null || c === undefined) return '';
    if (typeof c === 'boolean') return String(c);
    if (typeof c === 'number' && Number.isFinite(c) && !Number.isInteger(c)) return Number(c.toFixed(4));
    return c;
  };
  return stringify(rows.map((r) => r.map(cell)), { header: true, columns: [...columns] });
}

/** The summary as CSV (the section's main rows) and JSON (everything, with provenance). */
export function writeSummaryFiles(s: ExperimentSummary): { csvPath: string; jsonPath: string; extra: string[] } {
  const csvPath = join(s.dir, 'summary.csv');
  const jsonPath = join(s.dir, 'summary.json');
  const extra: string[] = [];
  if (s.serving.length) writeFileAtomic(csvPath, csvOf(SERVING_COLUMNS, s.serving.map(servingCells)));
  else if (s.prediction.length) writeFileAtomic(csvPath, csvOf(['predictor', 'combination', 'scope', 'mape_pct', 'mae_ms', 'n'], s.prediction.map((r) => [r.predictor, r.combination, r.scope, r.mapePct, r.maeMs, r.n])));
  else if (s.motivation) writeFileAtomic(csvPath, csvOf(MOTIVATION_COLUMNS, motivationRows(s.motivation)));
  else writeFileAtomic(csvPath, csvOf(['note'], [['no results']]));
  if (s.peaks.length) {
    const p = join(s.dir, 'peak.csv');
    writeFileAtomic(p, csvOf(['combination', 'policy', 'peak_qps', 'fail_qps', 'runs', 'low_qps', 'high_qps'], s.peaks.map((r) => [r.combination, r.policy, r.peakQps, r.failQps, r.runs, r.lowQps, r.highQps])));
    extra.push(p);
  }
  writeJsonAtomic(jsonPath, {
    format: SUMMARY_FORMAT,
    version: 1,
    section: s.run.section,
    runId: s.run.runId,
    mode: s.run.mode,
    ep: s.run.ep,
    settings: s.run.settings,
    qosRule: s.qos ? { ...s.qos.rule } : null,
    targets: s.qos ? s.qos.combinations : null,
    serving: s.serving,
    averages: [...new Set(s.serving.map((r) => r.study))].map((study) => ({ study, policies: policyAverages(s.serving.filter((r) => r.study === study)) })),
    peaks: s.peaks,
    prediction: s.prediction,
    motivation: s.motivation ? motivationRows(s.motivation).map((r) => Object.fromEntries(MOTIVATION_COLUMNS.map((c, i) => [c, r[i] ?? null]))) : null,
    paper: s.paper,
    steps: s.steps,
    runProvenance: s.run.provenance,
    provenance: collectProvenance({ command: `summary of ${s.dir}` }),
  });
  return { csvPath, jsonPath, extra };
}

/** The last step of a run script: summary.csv, summary.json and figures/ in the results folder. */
export async function finishRun(dir: string): Promise<{ summary: ExperimentSummary; figures: ReportFigure[]; files: string[] }> {
  const s = summarizeExperiment(dir);
  const { csvPath, jsonPath, extra } = writeSummaryFiles(s);
  const figures = await renderExperimentFigures(s, join(dir, 'figures'));
  return { summary: s, figures, files: [csvPath, jsonPath, ...extra, ...figures.flatMap((f) => [f.svgPath, f.pngPath])] };
}

/** A report section for one results folder; its figures are drawn into `figuresDir`. */
export async function experimentSection(dir: string, figuresDir: string): Promise<ReportSection> {
  const s = summarizeExperiment(dir);
  return sectionOf(s, await renderExperimentFigures(s, figuresDir));
}

/** The report section of a summary whose figures are already drawn. */
export function sectionOf(s: ExperimentSummary, figures: readonly ReportFigure[]): ReportSection {
  return {
    heading: `${SECTION_TITLES[s.run.section]} (run ${s.run.runId}, ${s.run.mode})`,
    text: s.text,
    figures,
    tables: s.tables,
    paperNumbers: s.paper,
  };
}

/**
 * A results folder another script wrote in its own format (a run.json without `format`, e.g.
 * experiments/7.6_cluster): its figures as drawn (every figures/*.svg with its PNG) and its run.json.
 */
function foreignSection(dir: string, run: Record<string, unknown>): ReportSection {
  const figuresDir = join(dir, 'figures');
  const figures: ReportFigure[] = existsSync(figuresDir)
    ? readdirSync(figuresDir)
        .filter((f) => f.endsWith('.svg') && existsSync(join(figuresDir, f.replace(/\.svg$/, '.png'))))
        .sort()
        .map((f) => ({ title: f.replace(/\.svg$/, ''), svgPath: join(figuresDir, f), pngPath: join(figuresDir, f.replace(/\.svg$/, '.png')) }))
    : [];
  const section = typeof run.section === 'string' ? run.section : basename(dirname(dirname(dir)));
  return {
    heading: `${section} (results folder ${basename(dir)})`,
    text: `Written by experiments/${section}/run.sh in its own format: its figures as that script drew them, and its run.json. See ${dir} for its summaries.`,
    figures,
    tables: [{ title: 'run.json', columns: ['field', 'value'], rows: Object.entries(run).map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : (v as TableCell)]) }],
  };
}

/**
 * `abacus report`: one HTML page and one Markdown file with every figure and table of the given results
 * folders (each searched for runs), their provenance, and the paper's numbers beside ours.
 */
export async function writeExperimentsReport(paths: readonly string[], outDir: string, options: { title?: string; command?: string; runDirs?: readonly string[] } = {}): Promise<WrittenReport & { runs: string[] }> {
  const runs = options.runDirs ? [...options.runDirs] : findRunDirs(paths);
  if (runs.length === 0) throw new InputError(`no experiment results folder (with run.json) under ${paths.join(', ')}`);
  const sections: ReportSection[] = [];
  const used = new Set<string>();
  for (const dir of runs) {
    const raw = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as Record<string, unknown>;
    if (raw.format !== RUN_FORMAT) {
      sections.push(foreignSection(dir, raw));
      continue;
    }
    const run = readRunInfo(dir);
    let key = `${run.section}-${run.runId}`;
    for (let i = 2; used.has(key); i++) key = `${run.section}-${run.runId}-${i}`;
    used.add(key);
    sections.push(await experimentSection(dir, join(outDir, 'figures', key)));
  }
  const written = writeReport(
    {
      title: options.title ?? 'abacus experiments',
      sections,
      provenance: collectProvenance({ command: options.command ?? ['abacus', ...process.argv.slice(2)].join(' ') }),
    },
    outDir,
  );
  return { ...written, runs };
}

