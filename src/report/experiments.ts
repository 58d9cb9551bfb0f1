/**
 * Experiment results folders (`experiments/<section>/results/<run-id>/`): their file formats, the QoS
 * rule every serving experiment derives its targets and loads from, and readers that turn what a run
 * wrote into typed rows. Figures and report sections are drawn from these rows in
 * `experiment-report.ts`; the run scripts (`experiments/_lib/exp.ts`), `abacus report` and
 * `abacus quickstart` all go through this module, so a number means the same thing everywhere.
 *
 * A results folder holds:
 * - `run.json` (format `abacus.experiment` v1): section, run id, mode, execution provider, settings, the
 *   command and its provenance;
 * - `qos.json` (format `abacus.qos` v1, serving sections): the rule, the measured solo latencies, and the
 *   QoS target and loads of every combination;
 * - `raw/`: what the CLI wrote (bench JSON, profile data, predictor bundles, serve logs, peak searches);
 * - `logs/`: stdout and stderr of every step and `steps.tsv` (step, seconds, exit code);
 * - `summary.csv`, `summary.json` and `figures/`, written when the run is finished.
 *
 * Accounting is the controller's (`src/controller/POLICIES.md`): every issued query ends ok, late,
 * dropped or failed, and a violation is late + dropped + failed over issued, for every policy alike.
 * p99 / QoS divides each query's latency by the QoS it was served with, which is checked against
 * `qos.json` when the logs are read.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { InputError } from '../common/errors.js';
import { percentileSorted, sortedCopy } from '../common/stats.js';
import { collectProvenance, type Provenance } from '../common/provenance.js';
import type { PolicyName as ControllerPolicy, RunSummary } from '../controller/index.js';
import type { ExecutorBenchResult } from '../executor/index.js';
import { ZOO } from '../zoo/catalog.js';

export const RUN_FORMAT = 'abacus.experiment';
export const QOS_FORMAT = 'abacus.qos';
export const SUMMARY_FORMAT = 'abacus.experiment-summary';
export const MOTIVATION_FORMAT = 'abacus.motivation';

export const SECTIONS = ['5.5_prediction', '7.2_qos', '7.3_throughput', '7.4_beyond_pair', '7.5_mig', '7.7_multiway', 'motivation', 'quickstart'] as const;
export type SectionId = (typeof SECTIONS)[number];

export const SECTION_TITLES: Readonly<Record<SectionId, string>> = {
  '5.5_prediction': '§5.5 Latency prediction error',
  '7.2_qos': '§7.2 QoS: tail latency and violations per pair',
  '7.3_throughput': '§7.3 Throughput per pair',
  '7.4_beyond_pair': '§7.4 Beyond pairs: triplets and the quadruplet',
  '7.5_mig': '§7.5 Abacus on MIG instances',
  '7.7_multiway': '§7.7 Multi-way search',
  motivation: '§2 Motivation: unpredictable latency under co-location',
  quickstart: 'Quickstart: one pair, every policy',
};

/** Policies in the order tables and legends list them. */
export const POLICY_ORDER: readonly ControllerPolicy[] = ['fcfs', 'sjf', 'edf', 'abacus', 'concurrent'];
const BASELINES: readonly ControllerPolicy[] = ['fcfs', 'sjf', 'edf'];

// ---------------------------------------------------------------------------------------------------
// run.json

export type SettingValue = string | number | boolean;

export interface RunInfo {
  format: typeof RUN_FORMAT;
  version: 1;
  section: SectionId;
  runId: string;
  mode: 'quick' | 'full';
  ep: string;
  /** What the script ran with (combinations, queries, seeds, batch sizes, profiling sizes ...). */
  settings: Record<string, SettingValue>;
  /** The run script's command line. */
  command: string;
  startedAt: string;
  provenance: Provenance;
}

export function isSection(value: string): value is SectionId {
  return (SECTIONS as readonly string[]).includes(value);
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch (err) {
    throw new InputError(`${path}: ${(err as Error).message}`, { cause: err });
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function readRunInfo(dir: string): RunInfo {
  const path = join(dir, 'run.json');
  if (!existsSync(path)) throw new InputError(`${dir} is not an experiment results folder (no run.json)`);
  const v = readJson(path);
  if (!isObject(v) || v.format !== RUN_FORMAT || v.version !== 1) throw new InputError(`${path}: not an ${RUN_FORMAT} v1 file`);
  if (typeof v.section !== 'string' || !isSection(v.section)) throw new InputError(`${path}: unknown section '${String(v.section)}' (expected ${SECTIONS.join(', ')})`);
  if (v.mode !== 'quick' && v.mode !== 'full') throw new InputError(`${path}: mode must be quick or full`);
  if (typeof v.runId !== 'string' || typeof v.ep !== 'string' || !isObject(v.settings) || !isObject(v.provenance)) throw new InputError(`${path}: missing runId, ep, settings or provenance`);
  return v as unknown as RunInfo;
}

/** A run.json for a run starting now (its id is the results folder's name). */
export function newRunInfo(options: { dir: string; section: SectionId; mode: 'quick' | 'full'; ep: string; command: string; seed: number; settings: Record<string, SettingValue> }): RunInfo {
  return {
    format: RUN_FORMAT,
    version: 1,
    section: options.section,
    runId: basename(options.dir),
    mode: options.mode,
    ep: options.ep,
    settings: options.settings,
    command: options.command,
    startedAt: new Date().toISOString(),
    provenance: collectProvenance({ command: options.command, executionProvider: options.ep, seed: options.seed }),
  };
}

/**
 * Results folders under the given paths: a path holding `run.json` is one; otherwise its sub-folders are
 * searched (a section's `results/` folder, `experiments/`), up to four levels deep, in name order.
 */
export function findRunDirs(paths: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number): void => {
    if (existsSync(join(dir, 'run.json'))) {
      out.push(dir);
      return;
    }
    if (depth === 0) return;
    for (const name of readdirSync(dir).sort()) {
      if (name.startsWith('.') || name === 'node_modules' || name === 'raw' || name === 'models') continue;
      const sub = join(dir, name);
      if (statSync(sub).isDirectory()) walk(sub, depth - 1);
    }
  };
  for (const p of paths) {
    if (!existsSync(p) || !statSync(p).isDirectory()) throw new InputError(`${p} is not a folder`);
    walk(p, 4);
  }
  return [...new Set(out)];
}

// ---------------------------------------------------------------------------------------------------
// The QoS rule

/**
 * How QoS targets and loads follow from measured solo latencies:
 * - `solo(m, b)`: median latency of one whole query of model m at batch b run alone through the executor
 *   (`abacus bench executor`, its one-segment variant), BERT at the longest sequence length served;
 * - QoS(C) = `factor` × max over C's models of solo(m, largest batch);
 * - serial capacity(C) = 1000 / mean over C's models and the batch sizes of solo(m, b) queries/s, BERT
 *   averaged over the sequence lengths: what one-query-at-a-time serving sustains with batches (and
 *   lengths) drawn uniformly;
 * - QoS-study load = `rhoQos` × capacity; overload-study load = `rhoOverload` × capacity;
 * - small-DNN variant (batch `smallBatch` only): the same factor and `rhoQos` over solo(m, smallBatch).
 * With `sharedQos`, every combination gets the QoS of all models together (MIG layouts: one target).
 * Defaults are the medians the paper's settings imply on its A100 (`paperQosFactor`,
 * `paperSerialUtilisation`): factor 5 (range 1.1-7.6 over its 21 pairs), 50 queries/s ≈ 0.7 of serial
 * capacity and 100 queries/s ≈ 1.4.
 */
export interface QosRule {
  factor: number;
  rhoQos: number;
  rhoOverload: number;
  batchSizes: number[];
  smallBatch: number | null;
  sharedQos: boolean;
}

export const DEFAULT_QOS_RULE: QosRule = { factor: 5, rhoQos: 0.7, rhoOverload: 1.4, batchSizes: [4, 8, 16, 32], smallBatch: null, sharedQos: false };

export function describeQosRule(rule: QosRule): string {
  const bmax = Math.max(...rule.batchSizes);
  const over = rule.sharedQos ? 'all served models' : "the combination's models";
  return (
    `QoS = ${rule.factor} × the largest solo latency at batch ${bmax} over ${over}; ` +
    `load = ${rule.rhoQos} × serial capacity (QoS study) and ${rule.rhoOverload} × (overload study), ` +
    `serial capacity = 1 / mean solo latency over the models and batch sizes ${rule.batchSizes.join(', ')}` +
    (rule.smallBatch !== null ? `; small-DNN variant: batch ${rule.smallBatch} only, same factor and load ratio over the batch-${rule.smallBatch} solo latencies` : '')
  );
}

/** Solo latency (ms) by model and batch size. */
export type SoloTable = Record<string, Record<string, number>>;

export interface SmallTargets {
  batch: number;
  qosMs: number;
  maxSoloMs: number;
  meanSoloMs: number;
  loadQps: number;
}

export interface CombinationTargets {
  /** Model names joined by `_` in zoo-id order (the profile's file naming). */
  combination: string;
  models: string[];
  qosMs: number;
  maxSoloMs: number;
  meanSoloMs: number;
  capacityQps: number;
  loadQosQps: number;
  loadOverloadQps: number;
  small: SmallTargets | null;
}

export interface QosFile {
  format: typeof QOS_FORMAT;
  version: 1;
  rule: QosRule & { text: string };
  /** Longest sequence length measured for models that have one (the `solo` values are at it). */
  soloSeq: number;
  /** Every sequence length measured. */
  soloSeqs: number[];
  solo: SoloTable;
  /** Solo latencies averaged over the sequence lengths (what serial capacity is computed from). */
  soloMean: SoloTable;
  combinations: Record<string, CombinationTargets>;
  /** The bench files the solo latencies came from. */
  sources: string[];
  provenance: Provenance;
}

/** Zoo models first in id order, then any other model in the order given. */
export function canonicalModels(models: readonly string[]): string[] {
  const id = (m: string): number => ZOO.find((z) => z.name === m)?.id ?? Number.POSITIVE_INFINITY;
  return models.map((m, i) => ({ m, i })).sort((a, b) => id(a.m) - id(b.m) || a.i - b.i).map((x) => x.m);
}

export function combinationName(models: readonly string[]): string {
  return canonicalModels(models).join('_');
}

/**
 * Solo latencies from `bench executor` results: the one-segment run of each model at each batch. A model
 * with a sequence length measured at several lengths gets its longest one in `solo` (what QoS is set
 * from) and the mean over the lengths in `mean` (what the served load, with lengths drawn uniformly,
 * costs on average); other models have the same value in both.
 */
export function soloFromBench(results: readonly ExecutorBenchResult[]): { solo: SoloTable; mean: SoloTable; seq: number; seqs: number[] } {
  const bySeq: Record<string, Record<string, Map<number, number>>> = {};
  const seqs = new Set<number>();
  for (const r of results) {
    for (const m of r.results) {
      const one = m.segmented.find((s) => s.segments === 1);
      if (!one || !Number.isFinite(one.ms) || one.ms <= 0) throw new InputError(`bench result for ${m.model} at batch ${m.batch} has no one-segment latency`);
      ((bySeq[m.model] ??= {})[String(m.batch)] ??= new Map()).set(m.seq, one.ms);
      if (m.seq > 0) seqs.add(m.seq);
    }
  }
  const solo: SoloTable = {};
  const mean: SoloTable = {};
  for (const [model, byBatch] of Object.entries(bySeq)) {
    for (const [batch, values] of Object.entries(byBatch)) {
      const longest = Math.max(...values.keys());
      (solo[model] ??= {})[batch] = values.get(longest) as number;
      (mean[model] ??= {})[batch] = [...values.values()].reduce((a, b) => a + b, 0) / values.size;
    }
  }
  const sorted = [...seqs].sort((a, b) => a - b);
  return { solo, mean, seq: sorted.length ? (sorted[sorted.length - 1] as number) : 0, seqs: sorted };
}

const round1 = (v: number): number => Math.round(v * 10) / 10;

function soloOf(solo: SoloTable, model: string, batch: number): number {
  const v = solo[model]?.[String(batch)];
  if (v === undefined) throw new InputError(`no solo latency of ${model} at batch ${batch} (measure it with 'abacus bench executor --batch ${batch}')`);
  return v;
}

/**
 * Targets and loads of each combination under the rule (values rounded to 0.1 ms and 0.1 queries/s). QoS
 * comes from `solo`; serial capacity from `mean` (solo latencies averaged over sequence lengths; `solo`
 * itself when not given).
 */
export function deriveTargets(solo: SoloTable, combinations: readonly (readonly string[])[], rule: QosRule, mean: SoloTable = solo): CombinationTargets[] {
  if (!(rule.factor > 0) || !(rule.rhoQos > 0) || !(rule.rhoOverload > 0)) throw new InputError('QoS factor and load ratios must be positive');
  if (rule.batchSizes.length === 0) throw new InputError('the QoS rule needs batch sizes');
  const bmax = Math.max(...rule.batchSizes);
  const everyModel = [...new Set(combinations.flat())];
  const sharedMax = Math.max(...everyModel.map((m) => soloOf(solo, m, bmax)));
  const sharedSmall = rule.smallBatch === null ? 0 : Math.max(...everyModel.map((m) => soloOf(solo, m, rule.smallBatch as number)));
  return combinations.map((models) => {
    const canon = canonicalModels(models);
    const maxSoloMs = rule.sharedQos ? sharedMax : Math.max(...canon.map((m) => soloOf(solo, m, bmax)));
    const all = canon.flatMap((m) => rule.batchSizes.map((b) => soloOf(mean, m, b)));
    const meanSoloMs = all.reduce((a, b) => a + b, 0) / all.length;
    const capacityQps = 1000 / meanSoloMs;
    let small: SmallTargets | null = null;
    if (rule.smallBatch !== null) {
      const b = rule.smallBatch;
      const sMax = rule.sharedQos ? sharedSmall : Math.max(...canon.map((m) => soloOf(solo, m, b)));
      const sMean = canon.map((m) => soloOf(mean, m, b)).reduce((a, c) => a + c, 0) / canon.length;
      small = { batch: b, qosMs: Math.max(0.1, round1(rule.factor * sMax)), maxSoloMs: sMax, meanSoloMs: sMean, loadQps: Math.max(0.1, round1((rule.rhoQos * 1000) / sMean)) };
    }
    return {
      combination: canon.join('_'),
      models: canon,
      qosMs: Math.max(0.1, round1(rule.factor * maxSoloMs)),
      maxSoloMs,
      meanSoloMs,
      capacityQps,
      loadQosQps: Math.max(0.1, round1(rule.rhoQos * capacityQps)),
      loadOverloadQps: Math.max(0.1, round1(rule.rhoOverload * capacityQps)),
      small,
    };
  });
}

export function readQosFile(dir: string): QosFile | null {
  const path = join(dir, 'qos.json');
  if (!existsSync(path)) return null;
  const v = readJson(path);
  if (!isObject(v) || v.format !== QOS_FORMAT || v.version !== 1 || !isObject(v.combinations) || !isObject(v.rule)) throw new InputError(`${path}: not an ${QOS_FORMAT} v1 file`);
  return v as unknown as QosFile;
}

/** A serving study's QoS target and load for a combination: `qos`, `overload`, `small`, or `ways-<n>`. */
export function studyTargets(t: CombinationTargets, study: string): { qosMs: number; loadQps: number; batchSizes: number[] | null } {
  if (study === 'qos' || /^ways-\d+$/.test(study)) return { qosMs: t.qosMs, loadQps: t.loadQosQps, batchSizes: null };
  if (study === 'overload') return { qosMs: t.qosMs, loadQps: t.loadOverloadQps, batchSizes: null };
  if (study === 'small') {
    if (!t.small) throw new InputError(`combination ${t.combination} has no small-DNN targets (qos.json made without a small batch)`);
    return { qosMs: t.small.qosMs, loadQps: t.small.loadQps, batchSizes: [t.small.batch] };
  }
  throw new InputError(`unknown serving study '${study}' (expected qos, overload, small or ways-<n>)`);
}

// ---------------------------------------------------------------------------------------------------
// Serving results

/** One policy's run on one combination in one study. */
export interface ServingRow {
  study: string;
  combination: string;
  policy: ControllerPolicy;
  qosMs: number;
  loadQps: number | null;
  issued: number;
  completed: number;
  ok: number;
  late: number;
  dropped: number;
  failed: number;
  violationPct: number;
  p50Ms: number | null;
  p99Ms: number | null;
  p99OverQos: number | null;
  goodputQps: number;
  throughputQps: number;
  durationMs: number;
  decisionP50Us: number | null;
  decisionP99Us: number | null;
  ways: number;
  searchStepsMean: number;
  /** Decisions (launched groups) that ran a split search, and their median decision time (µs). */
  searchDecisions: number | null;
  decisionSearchP50Us: number | null;
  /** Event reaching the controller (a group's completion, a wake-up) to the launch handed to the runner (µs); null for runs that predate it. */
  reactionP50Us: number | null;
  reactionP99Us: number | null;
}

interface QueryRecord {
  model: string;
  qosMs: number;
  latencyMs: number | null;
  status: string;
  arrivalMs: number;
  finishMs: number | null;
}

function readQueriesCsv(path: string): QueryRecord[] {
  const rows = parse(readFileSync(path, 'utf8'), { columns: true, skip_empty_lines: true }) as Record<string, string>[];
  return rows.map((r, i) => {
    const qos = Number(r.qos_ms);
    if (!Number.isFinite(qos) || qos <= 0) throw new InputError(`${path}: row ${i + 2} has no valid qos_ms`);
    const latency = r.latency_ms === '' || r.latency_ms === undefined ? null : Number(r.latency_ms);
    const finish = r.finish_ms === '' || r.finish_ms === undefined ? null : Number(r.finish_ms);
    return { model: r.model ?? '', qosMs: qos, latencyMs: latency, status: r.status ?? '', arrivalMs: Number(r.arrival_ms), finishMs: finish };
  });
}

function checkAccounting(s: RunSummary, where: string): void {
  const counts = [s.issued, s.completed, s.late, s.dropped, s.failed];
  if (counts.some((c) => !Number.isInteger(c) || c < 0)) throw new InputError(`${where}: counts are not non-negative integers`);
  if (s.issued !== s.completed + s.dropped + s.failed) throw new InputError(`${where}: issued ${s.issued} ≠ completed ${s.completed} + dropped ${s.dropped} + failed ${s.failed}`);
  const viol = s.issued === 0 ? 0 : (s.late + s.dropped + s.failed) / s.issued;
  if (Math.abs(viol - s.violationRatio) > 1e-9) throw new InputError(`${where}: violation ratio ${s.violationRatio} ≠ (late + dropped + failed) / issued = ${viol}`);
}

function rowFromSummary(study: string, combination: string, s: RunSummary, qosMs: number, loadQps: number | null): ServingRow {
  return {
    study,
    combination,
    policy: s.policy,
    qosMs,
    loadQps,
    issued: s.issued,
    completed: s.completed,
    ok: s.completed - s.late,
    late: s.late,
    dropped: s.dropped,
    failed: s.failed,
    violationPct: s.violationRatio * 100,
    p50Ms: s.p50Ms,
    p99Ms: s.p99Ms,
    p99OverQos: s.p99OverQos,
    goodputQps: s.goodputQps,
    throughputQps: s.throughputQps,
    durationMs: s.durationMs,
    decisionP50Us: s.decisionP50Us,
    decisionP99Us: s.decisionP99Us,
    ways: s.ways,
    searchStepsMean: s.searchStepsMean,
    searchDecisions: null,
    decisionSearchP50Us: null,
    reactionP50Us: s.reactionP50Us ?? null,
    reactionP99Us: s.reactionP99Us ?? null,
  };
}

/** Decision times of the groups that ran a split search, from `<policy>.groups.ndjson`. */
function searchDecisionTimes(path: string): number[] {
  const out: number[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim().length === 0) continue;
    const g = JSON.parse(line) as { searchSteps?: number; decisionUs?: number };
    if ((g.searchSteps ?? 0) > 0 && typeof g.decisionUs === 'number' && Number.isFinite(g.decisionUs)) out.push(g.decisionUs);
  }
  return out;
}

function subdirs(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((n) => !n.startsWith('.') && statSync(join(dir, n)).isDirectory()).sort();
}

/**
 * Every `abacus serve --out` folder under `raw/serve/<study>/<combination>/`: one row per policy, with
 * counts checked (issued = completed + dropped + failed) and every query's QoS checked against
 * `qos.json` (the value served is the value normalised by).
 */
export function readServingRows(dir: string, qos: QosFile | null): ServingRow[] {
  const root = join(dir, 'raw', 'serve');
  const rows: ServingRow[] = [];
  for (const study of subdirs(root)) {
    for (const combination of subdirs(join(root, study))) {
      const folder = join(root, study, combination);
      const summaryPath = join(folder, 'summary.json');
      if (!existsSync(summaryPath)) continue;
      const file = readJson(summaryPath);
      if (!isObject(file) || !Array.isArray(file.summaries)) throw new InputError(`${summaryPath}: not a serve summary`);
      const targets = qos?.combinations[combination];
      const expected = targets ? studyTargets(targets, study) : null;
      for (const s of file.summaries as RunSummary[]) {
        const where = `${folder} (${s.policy})`;
        checkAccounting(s, where);
        const queriesPath = join(folder, `${s.policy}.queries.csv`);
        const queries = existsSync(queriesPath) ? readQueriesCsv(queriesPath) : [];
        if (queries.length > 0 && queries.length !== s.issued) throw new InputError(`${where}: ${queries.length} logged queries for ${s.issued} issued`);
        const served = [...new Set(queries.map((q) => q.qosMs))];
        if (expected && served.some((v) => Math.abs(v - expected.qosMs) > 1e-9)) {
          throw new InputError(`${where}: queries were served with QoS ${served.join(', ')} ms but qos.json gives ${expected.qosMs} ms`);
        }
        const qosMs = expected?.qosMs ?? (served.length === 1 ? served[0]! : Number.NaN);
        const row = rowFromSummary(study, combination, s, qosMs, expected?.loadQps ?? null);
        const groupsPath = join(folder, `${s.policy}.groups.ndjson`);
        if (existsSync(groupsPath)) {
          const searched = searchDecisionTimes(groupsPath);
          row.searchDecisions = searched.length;
          row.decisionSearchP50Us = searched.length ? percentileSorted(sortedCopy(searched), 50) : null;
        }
        rows.push(row);
      }
    }
  }
  return sortServing(rows);
}

/**
 * Order of combinations in tables and figures: by their models' zoo ids (the paper's pair order:
 * Res50+Res101, Res50+Res152, ...), then by name for anything else.
 */
export function compareCombinations(a: string, b: string): number {
  const ids = (c: string): number[] => {
    const names = ZOO.map((z) => z.name).sort((x, y) => y.length - x.length);
    const out: number[] = [];
    let rest = c;
    while (rest.length > 0) {
      const n = names.find((m) => rest === m || rest.startsWith(`${m}_`));
      if (n === undefined) return [];
      out.push(ZOO.find((z) => z.name === n)!.id);
      rest = rest.slice(n.length + 1);
    }
    return out;
  };
  const x = ids(a);
  const y = ids(b);
  if (x.length && y.length) {
    if (x.length !== y.length) return x.length - y.length;
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number);
    return 0;
  }
  if (x.length !== y.length) return x.length ? -1 : 1;
  return a.localeCompare(b, 'en', { numeric: true });
}

function sortServing(rows: ServingRow[]): ServingRow[] {
  const pol = (p: ControllerPolicy): number => POLICY_ORDER.indexOf(p);
  return rows.sort((a, b) => a.study.localeCompare(b.study, 'en', { numeric: true }) || compareCombinations(a.combination, b.combination) || pol(a.policy) - pol(b.policy));
}

/**
 * Several serve folders that together are one configuration (MIG: one serve process per instance):
 * counts add up, latency percentiles are taken over every completed query of every folder, and the load
 * is the sum of the loads the folders' traces offered (measured from their arrival times).
 */
export function mergeServeFolders(study: string, name: string, folders: readonly string[], qosMs: number | null): ServingRow[] {
  const byPolicy = new Map<ControllerPolicy, { summaries: RunSummary[]; queries: QueryRecord[]; offeredQps: number }>();
  for (const folder of folders) {
    const path = join(folder, 'summary.json');
    const file = readJson(path);
    if (!isObject(file) || !Array.isArray(file.summaries)) throw new InputError(`${path}: not a serve summary`);
    for (const s of file.summaries as RunSummary[]) {
      checkAccounting(s, `${folder} (${s.policy})`);
      const entry = byPolicy.get(s.policy) ?? { summaries: [], queries: [], offeredQps: 0 };
      entry.summaries.push(s);
      const qp = join(folder, `${s.policy}.queries.csv`);
      if (!existsSync(qp)) throw new InputError(`${qp} is missing (needed to merge instances)`);
      const queries = readQueriesCsv(qp);
      entry.queries.push(...queries);
      // the load this instance was offered, from its trace: arrivals over the span they cover
      const span = Math.max(...queries.map((q) => q.arrivalMs)) - Math.min(...queries.map((q) => q.arrivalMs));
      if (queries.length > 1 && span > 0) entry.offeredQps += ((queries.length - 1) * 1000) / span;
      byPolicy.set(s.policy, entry);
    }
  }
  const rows: ServingRow[] = [];
  for (const [policy, { summaries, queries, offeredQps }] of byPolicy) {
    const sum = (f: (s: RunSummary) => number): number => summaries.reduce((a, s) => a + f(s), 0);
    const served = [...new Set(queries.map((q) => q.qosMs))];
    if (qosMs !== null && served.some((v) => Math.abs(v - qosMs) > 1e-9)) throw new InputError(`${name} (${policy}): served QoS ${served.join(', ')} ms ≠ ${qosMs} ms of qos.json`);
    const done = queries.filter((q) => q.latencyMs !== null);
    const lat = sortedCopy(done.map((q) => q.latencyMs as number));
    const norm = sortedCopy(done.map((q) => (q.latencyMs as number) / q.qosMs));
    const issued = sum((s) => s.issued);
    const late = sum((s) => s.late);
    const dropped = sum((s) => s.dropped);
    const failed = sum((s) => s.failed);
    const completed = sum((s) => s.completed);
    const durationMs = Math.max(...summaries.map((s) => s.durationMs));
    rows.push({
      study,
      combination: name,
      policy,
      qosMs: qosMs ?? (served.length === 1 ? served[0]! : Number.NaN),
      loadQps: offeredQps > 0 ? Math.round(offeredQps * 10) / 10 : null,
      issued,
      completed,
      ok: completed - late,
      late,
      dropped,
      failed,
      violationPct: issued === 0 ? 0 : ((late + dropped + failed) / issued) * 100,
      p50Ms: lat.length ? percentileSorted(lat, 50) : null,
      p99Ms: lat.length ? percentileSorted(lat, 99) : null,
      p99OverQos: norm.length ? percentileSorted(norm, 99) : null,
      goodputQps: durationMs > 0 ? ((completed - late) * 1000) / durationMs : 0,
      throughputQps: durationMs > 0 ? (completed * 1000) / durationMs : 0,
      durationMs,
      decisionP50Us: null,
      decisionP99Us: Math.max(...summaries.map((s) => s.decisionP99Us ?? 0)),
      ways: summaries[0]!.ways,
      searchStepsMean: sum((s) => s.searchStepsMean * s.groups) / Math.max(1, sum((s) => s.groups)),
      searchDecisions: null,
      decisionSearchP50Us: null,
      reactionP50Us: null,
      reactionP99Us: summaries.some((s) => s.reactionP99Us !== undefined && s.reactionP99Us !== null) ? Math.max(...summaries.map((s) => s.reactionP99Us ?? 0)) : null,
    });
  }
  return sortServing(rows);
}

/** MIG runs: `raw/serve/<study>/<configuration>/<instance>/` merged per configuration. */
export function readMigRows(dir: string, qos: QosFile | null): ServingRow[] {
  const root = join(dir, 'raw', 'serve');
  const rows: ServingRow[] = [];
  for (const study of subdirs(root)) {
    for (const config of subdirs(join(root, study))) {
      const instances = subdirs(join(root, study, config)).map((i) => join(root, study, config, i)).filter((f) => existsSync(join(f, 'summary.json')));
      if (instances.length === 0) continue;
      const shared = qos ? [...new Set(Object.values(qos.combinations).map((c) => c.qosMs))] : [];
      rows.push(...mergeServeFolders(study, config, instances, shared.length === 1 ? shared[0]! : null));
    }
  }
  return sortServing(rows);
}

// ---------------------------------------------------------------------------------------------------
// Peak searches (`abacus serve --find-peak --json`)

export interface PeakRow {
  combination: string;
  policy: ControllerPolicy;
  /** Highest load that passed; null when even the bottom of the bracket failed. */
  peakQps: number | null;
  /** Lowest load that failed; null when the top of the bracket passed. */
  failQps: number | null;
  runs: number;
  lowQps: number | null;
  highQps: number | null;
}

/** `raw/peak/<combination>.json`: the CLI's JSON, plus the bracket the script searched in `raw/peak/<combination>.range`. */
export function readPeakRows(dir: string): PeakRow[] {
  const root = join(dir, 'raw', 'peak');
  if (!existsSync(root)) return [];
  const rows: PeakRow[] = [];
  for (const name of readdirSync(root).filter((n) => n.endsWith('.json')).sort()) {
    const combination = basename(name, '.json');
    const v = readJson(join(root, name));
    if (!isObject(v) || !Array.isArray(v.peaks)) throw new InputError(`${join(root, name)}: not a peak search result`);
    let low: number | null = null;
    let high: number | null = null;
    const rangePath = join(root, `${combination}.range`);
    if (existsSync(rangePath)) {
      const [a, b] = readFileSync(rangePath, 'utf8').trim().split(',').map(Number);
      if (Number.isFinite(a) && Number.isFinite(b)) [low, high] = [a as number, b as number];
    }
    for (const p of v.peaks as Array<{ policy: ControllerPolicy; peakQps: number | null; failQps: number | null; runs: number }>) {
      rows.push({ combination, policy: p.policy, peakQps: p.peakQps, failQps: p.failQps, runs: p.runs, lowQps: low, highQps: high });
    }
  }
  return rows.sort((a, b) => compareCombinations(a.combination, b.combination) || POLICY_ORDER.indexOf(a.policy) - POLICY_ORDER.indexOf(b.policy));
}

// ---------------------------------------------------------------------------------------------------
// Predictor training (`abacus train --json`, saved as raw/train/<modeling>-<mode>.json)

export interface TrainMetrics {
  n: number;
  mapePct: number;
  maeMs: number;
}

export interface PredictionRow {
  predictor: 'mlp' | 'lr' | 'svm';
  /** A combination, or 'all' (one model for every combination). */
  combination: string;
  scope: 'combination' | 'all' | 'cross-validation';
  mapePct: number;
  maeMs: number;
  n: number;
}

interface TrainJson {
  modeling: 'mlp' | 'lr' | 'svm';
  mode: 'all' | 'onebyone';
  folds: number;
  test: TrainMetrics | null;
  crossValidation: TrainMetrics | null;
  perCombination: Array<{ combination: string; rows: number; test: TrainMetrics | null; crossValidation: TrainMetrics | null }>;
}

export function readPredictionRows(dir: string): { rows: PredictionRow[]; folds: number } {
  const root = join(dir, 'raw', 'train');
  if (!existsSync(root)) return { rows: [], folds: 0 };
  const rows: PredictionRow[] = [];
  let folds = 0;
  for (const name of readdirSync(root).filter((n) => n.endsWith('.json')).sort()) {
    const v = readJson(join(root, name)) as TrainJson;
    if (!isObject(v) || !['mlp', 'lr', 'svm'].includes(String(v.modeling)) || !Array.isArray(v.perCombination)) throw new InputError(`${join(root, name)}: not an 'abacus train --json' result`);
    if (v.mode === 'onebyone') {
      for (const c of v.perCombination) {
        if (c.test) rows.push({ predictor: v.modeling, combination: c.combination, scope: 'combination', mapePct: c.test.mapePct, maeMs: c.test.maeMs, n: c.test.n });
      }
    } else {
      if (v.test) rows.push({ predictor: v.modeling, combination: 'all', scope: 'all', mapePct: v.test.mapePct, maeMs: v.test.maeMs, n: v.test.n });
      if (v.crossValidation) {
        rows.push({ predictor: v.modeling, combination: 'all', scope: 'cross-validation', mapePct: v.crossValidation.mapePct, maeMs: v.crossValidation.maeMs, n: v.crossValidation.n });
        folds = v.folds;
      }
    }
  }
  const order = { lr: 0, svm: 1, mlp: 2 } as const;
  const scope = { combination: 0, all: 1, 'cross-validation': 2 } as const;
  rows.sort((a, b) => scope[a.scope] - scope[b.scope] || compareCombinations(a.combination, b.combination) || order[a.predictor] - order[b.predictor]);
  return { rows, folds };
}

// ---------------------------------------------------------------------------------------------------
// Motivation (`experiments/motivation/cdf.ts`, raw/latencies.json)

export interface MotivationSeries {
  /** The model running beside the foreground one, or null for the foreground alone. */
  background: string | null;
  latenciesMs: number[];
  /** Background queries completed while the foreground series ran. */
  backgroundQueries: number;
}

export interface MotivationFile {
  format: typeof MOTIVATION_FORMAT;
  version: 1;
  foreground: string;
  batch: number;
  seq: number;
  backgroundBatches: number[];
  backgroundSeqs: number[];
  seed: number;
  series: MotivationSeries[];
  provenance: Provenance;
}

export function readMotivation(dir: string): MotivationFile | null {
  const path = join(dir, 'raw', 'latencies.json');
  if (!existsSync(path)) return null;
  const v = readJson(path);
  if (!isObject(v) || v.format !== MOTIVATION_FORMAT || !Array.isArray(v.series)) throw new InputError(`${path}: not an ${MOTIVATION_FORMAT} file`);
  const file = v as unknown as MotivationFile;
  for (const s of file.series) {
    if (!Array.isArray(s.latenciesMs) || s.latenciesMs.length === 0 || s.latenciesMs.some((x) => !Number.isFinite(x) || x <= 0)) {
      throw new InputError(`${path}: series ${s.background ?? 'alone'} has no valid latencies`);
    }
  }
  return file;
}

// ---------------------------------------------------------------------------------------------------
// Steps and averages

export interface StepTiming {
  step: string;
  seconds: number;
  exitCode: number;
}

/** `logs/steps.tsv`: one line per step the script ran (name, seconds, exit code). */
export function readSteps(dir: string): StepTiming[] {
  const path = join(dir, 'logs', 'steps.tsv');
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim().length > 0)
    .map((l) => {
      const [step, seconds, code] = l.split('\t');
      return { step: step ?? '', seconds: Number(seconds), exitCode: Number(code) };
    });
}

/** Mean of the defined values (null when there is none). */
export function meanOf(values: readonly (number | null)[]): number | null {
  const v = values.filter((x): x is number => x !== null && Number.isFinite(x));
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
}

export interface PolicyAverages {
  policy: ControllerPolicy;
  configurations: number;
  p99OverQos: number | null;
  /** Completed queries per 1,000 issued (the paper's runs issued 1,000). */
  completionsPer1000: number | null;
  violationPct: number | null;
  goodputQps: number | null;
}

/** Per-policy means over the combinations of one study. */
export function policyAverages(rows: readonly ServingRow[]): PolicyAverages[] {
  return POLICY_ORDER.flatMap((policy) => {
    const mine = rows.filter((r) => r.policy === policy);
    if (mine.length === 0) return [];
    return [{
      policy,
      configurations: mine.length,
      p99OverQos: meanOf(mine.map((r) => r.p99OverQos)),
      completionsPer1000: meanOf(mine.map((r) => (r.issued > 0 ? (1000 * r.completed) / r.issued : null))),
      violationPct: meanOf(mine.map((r) => r.violationPct)),
      goodputQps: meanOf(mine.map((r) => r.goodputQps)),
    }];
  });
}

/**
 * Abacus against the baselines over the combinations where both ran: completions ÷ the baseline's − 1
 * (the paper's throughput gain), averaged per baseline, in percent.
 */
export function completionGainPct(rows: readonly ServingRow[]): Partial<Record<ControllerPolicy, number>> {
  const out: Partial<Record<ControllerPolicy, number>> = {};
  for (const base of BASELINES) {
    const gains: number[] = [];
    for (const a of rows.filter((r) => r.policy === 'abacus')) {
      const b = rows.find((r) => r.policy === base && r.combination === a.combination && r.study === a.study);
      if (b && b.completed > 0) gains.push((a.completed / b.completed - 1) * 100);
    }
    const m = meanOf(gains);
    if (m !== null) out[base] = m;
  }
  return out;
}

/** Abacus's mean violation ratio relative to the baselines' mean (percent change; negative is fewer). */
export function violationChangePct(rows: readonly ServingRow[]): number | null {
  const abacus = meanOf(rows.filter((r) => r.policy === 'abacus').map((r) => r.violationPct));
  const base = meanOf(rows.filter((r) => BASELINES.includes(r.policy)).map((r) => r.violationPct));
  if (abacus === null || base === null || base === 0) return null;
  return (abacus / base - 1) * 100;
}
