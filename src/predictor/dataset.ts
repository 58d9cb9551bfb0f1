/**
 * Reading profile data sets (`abacus.profile` v1 and v2, docs/ARCHITECTURE.md): `profile.json` plus one CSV per
 * model combination. Every problem in the data is an InputError that names the file and, for CSV content,
 * the line. Several data folders can be combined into one training set.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { InputError, errorMessage } from '../common/errors.js';
import { percentileSorted } from '../common/stats.js';
import { isZooName, zooEntry } from '../zoo/catalog.js';
import { DEFAULT_FEATURE_ENCODING, type FeatureEncoding, type FeatureSpec, type GroupMember, type ModelWork, encodeGroup, featureCount, makeFeatureSpec, describeFeatureSpec } from './features.js';

export const PROFILE_FORMAT = 'abacus.profile';
export const PROFILE_VERSION = 2;
/** Versions read: v2 adds the optional column `median_ci_us` (the median's 95 % CI half-width). */
export const PROFILE_VERSIONS: readonly number[] = [1, 2];

/** Statistic columns that follow the member blocks, in file order (each required). */
export const STAT_COLUMNS = ['median_us', 'mean_us', 'std_us', 'min_us', 'max_us', 'p5_us', 'p95_us', 'skew_us', 'reps'] as const;
/** Statistic columns that may follow (v2). */
export const OPTIONAL_STAT_COLUMNS = ['median_ci_us'] as const;
const MEMBER_FIELDS = ['model', 'start', 'end', 'batch', 'seq'] as const;
const LATENCY_COLUMNS = STAT_COLUMNS.filter((c) => c !== 'reps');

/** A model a profile data set covers. */
export interface ProfileModel {
  id: number;
  name: string;
  operatorCount?: number;
  /** sha256 of the model.onnx that was profiled (profiles record it). */
  sha256?: string;
  /** Per-operator FLOPs (profiles written since feature encoding 2 record them). */
  work?: ModelWork;
}

/** One profiled group. */
export interface ProfileSample {
  /** The members present in the group (batch > 0), in slot order. */
  members: GroupMember[];
  /** The label: median latency in ms. */
  labelMs: number;
  /** Timed repetitions behind the median. */
  reps: number;
  /** The repetitions' spread: std / mean, percent. */
  spreadPct: number;
  /** Half-width of the median's 95 % CI relative to it, percent (null: a v1 row, which does not record it). */
  medianCiPct: number | null;
  /** The combination, i.e. the CSV file's base name (`resnet50_bert`). */
  combination: string;
  file: string;
  line: number;
  index: number;
}

/** One data folder, read and checked. */
export interface ProfileData {
  dir: string;
  /** profile.json as read (format and version checked). */
  meta: Record<string, unknown>;
  models: ProfileModel[];
  /** Member slots of the widest CSV. */
  slots: number;
  files: Array<{ file: string; combination: string; rows: number; sha256: string }>;
  samples: ProfileSample[];
}

/** Where a data set came from, recorded in a bundle's training provenance. */
export interface DataSource {
  dir: string;
  format: string;
  version: number;
  files: Array<{ file: string; rows: number; sha256: string }>;
}

/** Encoded training data: row-major features, labels in ms, the combination of every row. */
export interface Dataset {
  spec: FeatureSpec;
  rows: number;
  width: number;
  features: Float32Array;
  labelsMs: Float64Array;
  /** Index into `combinations` per row. */
  combinationOf: Int32Array;
  combinations: string[];
  /** Members present per row (1: a solo group; 2 or more: co-located). */
  presentOf: Uint8Array;
  /**
   * The group configuration of each row (its present members, as the features see them), numbered from 0
   * over the data set: rows with the same number are measurements of the same group, and every split
   * keeps them on one side.
   */
  configurationOf: Int32Array;
  /** What reading did with rows of the same configuration. */
  duplicates: DuplicateReport;
  /** How noisy the labels are, over the rows read. */
  labelNoise: LabelNoise;
  sources: DataSource[];
}

/** The measurement noise behind the labels: medians and 95th percentiles over the rows read. */
export interface LabelNoise {
  rows: number;
  /** Timed repetitions per row. */
  reps: { min: number; median: number; max: number };
  /** Each row's std / mean of its repetitions, percent. */
  spreadPct: { median: number; p95: number };
  /** Each row's median 95 % CI half-width / median, percent, over the rows that record it (v2). */
  medianCiPct: { rows: number; median: number; p95: number } | null;
}

function labelNoise(samples: readonly ProfileSample[]): LabelNoise {
  const sorted = (v: number[]): Float64Array => Float64Array.from(v).sort();
  const reps = sorted(samples.map((s) => s.reps));
  const spread = sorted(samples.map((s) => s.spreadPct));
  const ci = sorted(samples.flatMap((s) => (s.medianCiPct === null ? [] : [s.medianCiPct])));
  return {
    rows: samples.length,
    reps: { min: reps[0] ?? 0, median: percentileSorted(reps, 50), max: reps[reps.length - 1] ?? 0 },
    spreadPct: { median: percentileSorted(spread, 50), p95: percentileSorted(spread, 95) },
    medianCiPct: ci.length ? { rows: ci.length, median: percentileSorted(ci, 50), p95: percentileSorted(ci, 95) } : null,
  };
}

export interface DuplicateReport {
  /** Rows in the CSVs. */
  rowsRead: number;
  /** Distinct configurations among them. */
  configurations: number;
  /** Rows whose configuration an earlier row already had. */
  duplicateRows: number;
  /** true: each configuration is one row (label: the median of its rows' medians, reps summed). */
  merged: boolean;
}

function fail(where: string, message: string): never {
  throw new InputError(`${where}: ${message}`);
}

/** Read and check `profile.json` of a data folder. */
export function readProfileMeta(dir: string): { meta: Record<string, unknown>; models: ProfileModel[] } {
  const path = join(dir, 'profile.json');
  if (!existsSync(path)) fail(dir, 'not a profile data set (no profile.json)');
  let meta: unknown;
  try {
    meta = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    fail(path, `not valid JSON (${errorMessage(err)})`);
  }
  if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) fail(path, 'expected a JSON object');
  const m = meta as Record<string, unknown>;
  if (m.format !== PROFILE_FORMAT) fail(path, `format is ${JSON.stringify(m.format)}, expected "${PROFILE_FORMAT}"`);
  if (typeof m.version !== 'number' || !PROFILE_VERSIONS.includes(m.version)) {
    fail(path, `${PROFILE_FORMAT} version ${JSON.stringify(m.version)} is not supported (this abacus reads version ${PROFILE_VERSIONS.join(' and ')})`);
  }
  if (!Array.isArray(m.models) || m.models.length === 0) fail(path, 'needs a non-empty "models" list');
  const models: ProfileModel[] = m.models.map((entry: unknown, i: number) => {
    const e = (entry ?? {}) as Record<string, unknown>;
    if (typeof e.id !== 'number' || !Number.isInteger(e.id) || e.id < 0 || typeof e.name !== 'string' || e.name.length === 0) {
      fail(path, `models[${i}] needs an integer "id" >= 0 and a "name"`);
    }
    // operator count from profile.json, else from the zoo catalogue for a zoo model under its own id
    const zoo = typeof e.name === 'string' && isZooName(e.name) ? zooEntry(e.name) : undefined;
    const ops = e.operatorCount ?? e.operators ?? (zoo && zoo.id === e.id ? zoo.operatorCount : undefined);
    let work: ModelWork | undefined;
    if (e.operatorGflops !== undefined) {
      const g = e.operatorGflops;
      if (!Array.isArray(g) || !g.every((v) => typeof v === 'number' && Number.isFinite(v) && v >= 0) || (typeof ops === 'number' && g.length !== ops)) {
        fail(path, `models[${i}].operatorGflops must be ${typeof ops === 'number' ? ops : 'one'} finite number(s) >= 0${typeof ops === 'number' ? '' : ' per operator'}`);
      }
      const seq = e.referenceSeq ?? 0;
      if (typeof seq !== 'number' || !Number.isInteger(seq) || seq < 0) fail(path, `models[${i}].referenceSeq must be an integer >= 0`);
      work = { operatorGflops: g as number[], referenceSeq: seq };
    }
    return {
      id: e.id,
      name: e.name,
      ...(typeof ops === 'number' ? { operatorCount: ops } : {}),
      ...(typeof e.sha256 === 'string' ? { sha256: e.sha256 } : {}),
      ...(work ? { work } : {}),
    };
  });
  const ids = new Set<number>();
  const names = new Set<string>();
  for (const model of models) {
    if (ids.has(model.id) || names.has(model.name)) fail(path, `model ${model.id} (${model.name}) listed twice`);
    ids.add(model.id);
    names.add(model.name);
  }
  return { meta: m, models };
}

interface Layout {
  width: number;
  index: number;
  members: Array<{ model: number; start: number; end: number; batch: number; seq: number }>;
  stats: Record<(typeof STAT_COLUMNS)[number], number>;
  optional: Partial<Record<(typeof OPTIONAL_STAT_COLUMNS)[number], number>>;
}

/** Map header names to column positions; exactly `index`, n member blocks and the statistics. */
function readHeader(header: string[], file: string): Layout {
  const where = `${file}:1`;
  const pos = new Map<string, number>();
  header.forEach((name, i) => {
    const key = name.trim();
    if (pos.has(key)) fail(where, `column "${key}" appears twice`);
    pos.set(key, i);
  });
  const known = new Set<string>(['index', ...STAT_COLUMNS, ...OPTIONAL_STAT_COLUMNS]);
  let slots = 0;
  for (const key of pos.keys()) {
    const m = /^(model|start|end|batch|seq)_(\d+)$/.exec(key);
    if (m) {
      slots = Math.max(slots, Number(m[2]) + 1);
      known.add(key);
    } else if (!known.has(key)) {
      fail(where, `unknown column "${key}" (expected index, model_i/start_i/end_i/batch_i/seq_i, ${[...STAT_COLUMNS, ...OPTIONAL_STAT_COLUMNS].join(', ')})`);
    }
  }
  const need = (key: string): number => {
    const p = pos.get(key);
    if (p === undefined) fail(where, `missing column "${key}"`);
    return p;
  };
  if (slots === 0) fail(where, 'no member columns (model_0, start_0, end_0, batch_0, seq_0)');
  const members: Layout['members'] = [];
  for (let s = 0; s < slots; s++) {
    const [model, start, end, batch, seq] = MEMBER_FIELDS.map((f) => need(`${f}_${s}`)) as [number, number, number, number, number];
    members.push({ model, start, end, batch, seq });
  }
  const stats = Object.fromEntries(STAT_COLUMNS.map((c) => [c, need(c)])) as Layout['stats'];
  const optional = Object.fromEntries(OPTIONAL_STAT_COLUMNS.filter((c) => pos.has(c)).map((c) => [c, pos.get(c)!])) as Layout['optional'];
  return { width: header.length, index: need('index'), members, stats, optional };
}

function resolveModel(cell: string, models: ProfileModel[], where: string, column: string): ProfileModel {
  const text = cell.trim();
  const found = /^\d+$/.test(text) ? models.find((m) => m.id === Number(text)) : models.find((m) => m.name === text);
  if (!found) fail(where, `${column} = "${cell}" is not a model of this data set (${models.map((m) => `${m.id}:${m.name}`).join(', ')})`);
  return found;
}

function intCell(cell: string, where: string, column: string, min = 0): number {
  const text = cell.trim();
  const v = text === '' ? Number.NaN : Number(text);
  if (!Number.isInteger(v) || v < min) fail(where, `${column} = "${cell}" must be an integer >= ${min}`);
  return v;
}

function latencyCell(cell: string, where: string, column: string, positive: boolean): number {
  const text = cell.trim();
  const v = text === '' ? Number.NaN : Number(text);
  if (!Number.isFinite(v)) fail(where, `${column} = "${cell}" is not a finite number`);
  if (v < 0 || (positive && v === 0)) fail(where, `${column} = ${cell} must be ${positive ? '> 0' : '>= 0'}`);
  return v;
}

/** Parse one combination CSV. `text` is its content, `file` its path (for messages). */
export function parseProfileCsv(text: string, file: string, models: ProfileModel[]): { samples: ProfileSample[]; slots: number } {
  if (text.trim().length === 0) fail(file, 'empty file (no header)');
  let records: Array<{ record: string[]; info: { lines: number } }>;
  try {
    records = parse(text, { info: true, skip_empty_lines: true, relax_column_count: false }) as unknown as typeof records;
  } catch (err) {
    const lines = (err as { lines?: unknown }).lines;
    const msg = errorMessage(err).replace(/ on line \d+$/, '').replace(/ at line \d+/, '');
    fail(typeof lines === 'number' ? `${file}:${lines}` : file, `malformed CSV (${msg}); the file may be truncated`);
  }
  const head = records[0];
  if (!head) fail(file, 'empty file (no header)');
  const layout = readHeader(head.record, file);
  if (records.length === 1) fail(file, 'no data rows (only a header); the file may be truncated');
  const combination = basename(file).replace(/\.csv$/i, '');
  const samples: ProfileSample[] = [];
  const seenIndex = new Map<number, number>();
  for (let r = 1; r < records.length; r++) {
    const { record, info } = records[r] as { record: string[]; info: { lines: number } };
    const line = info.lines;
    const where = `${file}:${line}`;
    const cell = (i: number): string => record[i] as string;
    const index = intCell(cell(layout.index), where, 'index');
    const prev = seenIndex.get(index);
    if (prev !== undefined) fail(where, `index ${index} repeats line ${prev}`);
    seenIndex.set(index, line);
    const members: GroupMember[] = [];
    layout.members.forEach((cols, s) => {
      const model = resolveModel(cell(cols.model), models, where, `model_${s}`);
      const start = intCell(cell(cols.start), where, `start_${s}`);
      const end = intCell(cell(cols.end), where, `end_${s}`);
      const batch = intCell(cell(cols.batch), where, `batch_${s}`);
      const seq = intCell(cell(cols.seq), where, `seq_${s}`);
      if (start > end) fail(where, `start_${s} = ${start} is after end_${s} = ${end}`);
      if (model.operatorCount !== undefined && end > model.operatorCount) {
        fail(where, `end_${s} = ${end} exceeds the ${model.operatorCount} operators of ${model.name}`);
      }
      if (batch === 0) {
        if (start !== 0 || end !== 0 || seq !== 0) fail(where, `absent member ${s} (batch_${s} = 0) must have start = end = seq = 0`);
        return;
      }
      members.push({ modelId: model.id, start, end, batch, seq });
    });
    if (members.length === 0) fail(where, 'no member is present (every batch is 0)');
    for (const c of LATENCY_COLUMNS) latencyCell(cell(layout.stats[c]), where, c, c === 'median_us');
    intCell(cell(layout.stats.reps), where, 'reps', 1);
    const ciCol = layout.optional.median_ci_us;
    const ciUs = ciCol === undefined ? null : latencyCell(cell(ciCol), where, 'median_ci_us', false);
    const medianUs = Number(cell(layout.stats.median_us));
    const meanUs = Number(cell(layout.stats.mean_us));
    samples.push({
      members,
      labelMs: medianUs / 1000,
      reps: Number(cell(layout.stats.reps)),
      spreadPct: meanUs > 0 ? (100 * Number(cell(layout.stats.std_us))) / meanUs : 0,
      medianCiPct: ciUs === null ? null : (100 * ciUs) / medianUs,
      combination,
      file,
      line,
      index,
    });
  }
  return { samples, slots: layout.members.length };
}

/** Read one data folder: profile.json and every `*.csv` in it (sorted by name). */
export function readProfileData(dir: string): ProfileData {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) fail(dir, 'data folder not found');
  const { meta, models } = readProfileMeta(dir);
  const csvs = readdirSync(dir)
    .filter((f) => f.toLowerCase().endsWith('.csv'))
    .sort();
  if (csvs.length === 0) fail(dir, 'no combination CSV files');
  const files: ProfileData['files'] = [];
  const samples: ProfileSample[] = [];
  let slots = 0;
  for (const name of csvs) {
    const file = join(dir, name);
    const bytes = readFileSync(file);
    const parsed = parseProfileCsv(bytes.toString('utf8'), file, models);
    slots = Math.max(slots, parsed.slots);
    files.push({ file: name, combination: name.replace(/\.csv$/i, ''), rows: parsed.samples.length, sha256: createHash('sha256').update(bytes).digest('hex') });
    for (const s of parsed.samples) samples.push(s);
  }
  return { dir, meta, models, slots, files, samples };
}

/** Finds the work table of a profiled model the data set does not carry (e.g. from its manifest). */
export type WorkResolver = (model: ProfileModel, dataDir: string) => ModelWork;

export interface LoadDatasetOptions {
  /** Use this spec (e.g. a bundle's) instead of one derived from the data. */
  spec?: FeatureSpec;
  /** At least this many slots (default: the widest CSV). */
  slots?: number;
  /** Feature encoding of a derived spec (default 3; 1 is the original's, without work). */
  encoding?: FeatureEncoding;
  /** Encodings 2 and 3: where the work tables of models that profile.json does not describe come from. */
  resolveWork?: WorkResolver;
  /** Merge rows of one configuration into one over all folders (default false: every CSV row is a row). */
  mergeDuplicates?: boolean;
}

/** The spec that covers several data folders: the union of their models, the widest slot count. */
export function specForProfiles(profiles: ProfileData[], slots?: number, encoding: FeatureEncoding = DEFAULT_FEATURE_ENCODING, resolveWork?: WorkResolver): FeatureSpec {
  const byId = new Map<number, ProfileModel & { dir: string }>();
  for (const p of profiles) {
    for (const m of p.models) {
      const prev = byId.get(m.id);
      if (prev && prev.name !== m.name) {
        throw new InputError(`model id ${m.id} is "${prev.name}" in ${prev.dir} but "${m.name}" in ${p.dir}: data sets disagree`);
      }
      if (prev && prev.sha256 && m.sha256 && prev.sha256 !== m.sha256) {
        throw new InputError(`model ${m.id} (${m.name}) was profiled as different ONNX files in ${prev.dir} and ${p.dir} (sha256 ${prev.sha256.slice(0, 12)} vs ${m.sha256.slice(0, 12)}): data sets disagree`);
      }
      byId.set(m.id, { ...(prev ?? {}), ...m, dir: p.dir, ...(m.work ?? prev?.work ? { work: m.work ?? prev?.work } : {}) });
    }
  }
  const widest = Math.max(...profiles.map((p) => p.slots));
  if (slots !== undefined && slots < widest) throw new InputError(`--slots ${slots} is fewer than the ${widest} members of the data`);
  const models = [...byId.values()];
  if (encoding !== 1) {
    for (const m of models) {
      if (m.work) continue;
      if (!resolveWork) {
        throw new InputError(`${join(m.dir, 'profile.json')}: model ${m.id} (${m.name}) has no per-operator FLOPs (a profile from before feature encoding 2); give the models folder to read them from, or train with feature encoding 1`);
      }
      m.work = resolveWork(m, m.dir);
    }
    for (const m of models) {
      const ops = m.work?.operatorGflops.length;
      if (m.operatorCount !== undefined && ops !== m.operatorCount) {
        throw new InputError(`model ${m.id} (${m.name}): its FLOPs table has ${ops} operators, the profile ${m.operatorCount}`);
      }
    }
  }
  return makeFeatureSpec(models, slots ?? widest, encoding);
}

/** The identity of a group configuration: its present members in canonical order (what the features see). */
export function configurationKey(members: readonly GroupMember[]): string {
  return [...members]
    .sort((a, b) => a.modelId - b.modelId || a.start - b.start || a.end - b.end || a.batch - b.batch || a.seq - b.seq)
    .map((m) => `${m.modelId}:${m.start}:${m.end}:${m.batch}:${m.seq}`)
    .join('|');
}

function medianOf(values: readonly number[]): number {
  const v = [...values].sort((a, b) => a - b);
  const mid = v.length >> 1;
  return v.length % 2 ? (v[mid] as number) : ((v[mid - 1] as number) + (v[mid] as number)) / 2;
}

/** Encode samples (from any folders) with a spec, one row per CSV row (see `mergeDuplicateRows`). */
export function buildDataset(profiles: ProfileData[], spec: FeatureSpec): Dataset {
  const width = featureCount(spec);
  const all = profiles.flatMap((p) => p.samples);
  const keyOf = new Map<string, number>();
  const rowsOut = all.map((s) => {
    const key = configurationKey(s.members);
    let c = keyOf.get(key);
    if (c === undefined) keyOf.set(key, (c = keyOf.size));
    return { sample: s, labelMs: s.labelMs, config: c };
  });
  const rows = rowsOut.length;
  const features = new Float32Array(rows * width);
  const labelsMs = new Float64Array(rows);
  const combinationOf = new Int32Array(rows);
  const presentOf = new Uint8Array(rows);
  const configurationOf = new Int32Array(rows);
  const combinations: string[] = [];
  const comboIndex = new Map<string, number>();
  rowsOut.forEach(({ sample: s, labelMs, config }, r) => {
    try {
      encodeGroup(spec, s.members, features, r * width);
    } catch (err) {
      throw new InputError(`${s.file}:${s.line}: ${errorMessage(err)} (${describeFeatureSpec(spec)})`);
    }
    labelsMs[r] = labelMs;
    let c = comboIndex.get(s.combination);
    if (c === undefined) {
      c = combinations.length;
      combinations.push(s.combination);
      comboIndex.set(s.combination, c);
    }
    combinationOf[r] = c;
    presentOf[r] = s.members.length;
    configurationOf[r] = config;
  });
  const sources: DataSource[] = profiles.map((p) => ({
    dir: p.dir,
    format: PROFILE_FORMAT,
    version: typeof p.meta.version === 'number' ? p.meta.version : PROFILE_VERSION,
    files: p.files.map((f) => ({ file: f.file, rows: f.rows, sha256: f.sha256 })),
  }));
  const duplicates: DuplicateReport = { rowsRead: all.length, configurations: keyOf.size, duplicateRows: all.length - keyOf.size, merged: false };
  return { spec, rows, width, features, labelsMs, combinationOf, combinations, presentOf, configurationOf, duplicates, labelNoise: labelNoise(all), sources };
}

/** Read one or more data folders into one encoded data set. */
export function loadDataset(dirs: readonly string[], options: LoadDatasetOptions = {}): Dataset {
  if (dirs.length === 0) throw new InputError('no data folder given');
  const profiles = dirs.map((d) => readProfileData(d));
  const spec = options.spec ?? specForProfiles(profiles, options.slots, options.encoding ?? DEFAULT_FEATURE_ENCODING, options.resolveWork);
  const ds = buildDataset(profiles, spec);
  return options.mergeDuplicates ? mergeDuplicateRows(ds) : ds;
}

/** Rows per configuration, in order of first appearance. */
function rowsByConfiguration(ds: Dataset): number[][] {
  const groups = new Map<number, number[]>();
  for (let r = 0; r < ds.rows; r++) {
    const c = ds.configurationOf[r] as number;
    const g = groups.get(c);
    if (g) g.push(r);
    else groups.set(c, [r]);
  }
  return [...groups.values()];
}

/** The duplicate report of a data set as it is (every row kept). */
export function duplicateReport(ds: Dataset): DuplicateReport {
  const configurations = rowsByConfiguration(ds).length;
  return { rowsRead: ds.rows, configurations, duplicateRows: ds.rows - configurations, merged: false };
}

/**
 * Rows of one configuration (a solo group drawn again in another batch tuple or pair file by sampling
 * rule 1, or the same group in two data folders) become one row, the first's, labelled with the median
 * of their medians. Merge after choosing the rows a model sees: a per-combination model merges within its
 * combination only.
 */
export function mergeDuplicateRows(ds: Dataset): Dataset {
  const groups = rowsByConfiguration(ds);
  const out = subsetDataset(ds, groups.map((g) => g[0]!));
  groups.forEach((g, i) => {
    if (g.length > 1) out.labelsMs[i] = medianOf(g.map((r) => ds.labelsMs[r] as number));
  });
  return { ...out, duplicates: { rowsRead: ds.rows, configurations: groups.length, duplicateRows: ds.rows - groups.length, merged: true } };
}

/** The rows `indices` of a data set (a new, compact data set sharing the spec and combination names). */
export function subsetDataset(ds: Dataset, indices: ArrayLike<number>): Dataset {
  const n = indices.length;
  const features = new Float32Array(n * ds.width);
  const labelsMs = new Float64Array(n);
  const combinationOf = new Int32Array(n);
  const presentOf = new Uint8Array(n);
  const configurationOf = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const r = indices[i] as number;
    if (!(r >= 0 && r < ds.rows)) throw new RangeError(`subsetDataset: row ${r} out of range 0..${ds.rows - 1}`);
    features.set(ds.features.subarray(r * ds.width, (r + 1) * ds.width), i * ds.width);
    labelsMs[i] = ds.labelsMs[r] as number;
    combinationOf[i] = ds.combinationOf[r] as number;
    presentOf[i] = ds.presentOf[r] as number;
    configurationOf[i] = ds.configurationOf[r] as number;
  }
  return { ...ds, rows: n, features, labelsMs, combinationOf, presentOf, configurationOf };
}

/** Row indices per combination. */
export function rowsByCombination(ds: Dataset): Int32Array[] {
  const counts = new Int32Array(ds.combinations.length);
  for (let r = 0; r < ds.rows; r++) counts[ds.combinationOf[r] as number]++;
  const out = Array.from(counts, (c) => new Int32Array(c));
  const fill = new Int32Array(ds.combinations.length);
  for (let r = 0; r < ds.rows; r++) {
    const c = ds.combinationOf[r] as number;
    (out[c] as Int32Array)[fill[c]++] = r;
  }
  return out;
}
