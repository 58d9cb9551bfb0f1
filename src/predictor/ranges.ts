/**
 * The ranges a predictor was trained on (batch sizes, sequence lengths, operators, FLOPs of a member and
 * of a group), recorded in its bundle (`ranges`, bundle version 3), and the check that a serving run stays
 * inside them. A predictor asked about a batch twice the largest it saw, or about a model of another size
 * than the one profiled (a tiny build served with a full-scale predictor), extrapolates: its latencies can
 * be off by orders of magnitude. Small gaps are warned about; large ones refused unless overridden.
 */
import { InputError } from '../common/errors.js';
import type { TrainingRecord } from './bundle-format.js';
import type { DataSource, Dataset } from './dataset.js';
import { readProfileData } from './dataset.js';
import { type FeatureSpec, type GroupMember, decodeGroup, featureCount, featureEncoding, segmentGflops } from './features.js';

export type Interval = [number, number];

export interface ModelRange {
  modelId: number;
  name: string;
  /** Rows in which the model is present. */
  rows: number;
  batch: Interval;
  seq: Interval;
  /** Largest segment end seen (operators the predictor knows this model by). */
  operatorsEnd: number;
  /** GFLOPs of one member's segment at its batch (encodings 2 and 3; null for encoding 1). */
  segmentGflops: Interval | null;
}

export interface TrainedRanges {
  rows: number;
  models: ModelRange[];
  /** Group size (present members). */
  members: Interval;
  /** Sum of the members' GFLOPs (encodings 2 and 3). */
  groupGflops: Interval | null;
}

const widen = (r: Interval | null, v: number): Interval => (r ? [Math.min(r[0], v), Math.max(r[1], v)] : [v, v]);

/** Ranges over groups of members (training rows). */
export function rangesOfGroups(spec: FeatureSpec, groups: Iterable<readonly GroupMember[]>): TrainedRanges {
  const withWork = featureEncoding(spec) !== 1 && spec.work !== undefined;
  const per = new Map<number, ModelRange>();
  let rows = 0;
  let members: Interval | null = null;
  let groupGflops: Interval | null = null;
  for (const g of groups) {
    rows += 1;
    members = widen(members, g.length);
    let sum = 0;
    for (const m of g) {
      const name = spec.modelNames[spec.modelIds.indexOf(m.modelId)] ?? String(m.modelId);
      const r = per.get(m.modelId) ?? { modelId: m.modelId, name, rows: 0, batch: [m.batch, m.batch] as Interval, seq: [m.seq, m.seq] as Interval, operatorsEnd: 0, segmentGflops: null };
      r.rows += 1;
      r.batch = widen(r.batch, m.batch);
      r.seq = widen(r.seq, m.seq);
      r.operatorsEnd = Math.max(r.operatorsEnd, m.end);
      if (withWork) {
        const gf = segmentGflops(spec, m.modelId, m.start, m.end, m.batch, m.seq);
        sum += gf;
        if (m.end > m.start) r.segmentGflops = widen(r.segmentGflops, gf);
      }
      per.set(m.modelId, r);
    }
    if (withWork) groupGflops = widen(groupGflops, sum);
  }
  return { rows, models: [...per.values()].sort((a, b) => a.modelId - b.modelId), members: members ?? [0, 0], groupGflops };
}

/** Ranges of an encoded data set (every row, decoded back into members). */
export function trainedRanges(ds: Dataset): TrainedRanges {
  const width = featureCount(ds.spec);
  function* groups(): Generator<GroupMember[]> {
    for (let r = 0; r < ds.rows; r++) yield decodeGroup(ds.spec, ds.features, r * width);
  }
  return rangesOfGroups(ds.spec, groups());
}

/**
 * For a bundle written before ranges were recorded: the ranges of the data sets its training record names,
 * when they are still where they were and unchanged (sha256 of every file); null otherwise.
 */
export function rangesFromDataSets(spec: FeatureSpec, training: TrainingRecord | null): TrainedRanges | null {
  if (!training || training.dataSets.length === 0) return null;
  const groups: GroupMember[][] = [];
  try {
    for (const src of training.dataSets as DataSource[]) {
      const data = readProfileData(src.dir);
      for (const f of src.files) {
        const now = data.files.find((x) => x.file === f.file);
        if (!now || now.sha256 !== f.sha256) return null;
      }
      for (const s of data.samples) if (training.combination === null || s.combination === training.combination) groups.push(s.members);
    }
  } catch {
    return null;
  }
  return groups.length > 0 ? rangesOfGroups(spec, groups) : null;
}

function isInterval(v: unknown): v is Interval {
  return Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number' && Number.isFinite(x)) && (v[0] as number) <= (v[1] as number);
}

/** Check a `ranges` object read from a bundle. */
export function validateRanges(v: unknown, where: string): TrainedRanges {
  const bad = (msg: string): never => {
    throw new InputError(`${where}: corrupt bundle: ranges ${msg}`);
  };
  if (v === null || typeof v !== 'object') bad('missing');
  const r = v as Record<string, unknown>;
  if (typeof r.rows !== 'number' || !isInterval(r.members) || !Array.isArray(r.models)) bad('need rows, members and models');
  if (r.groupGflops !== null && !isInterval(r.groupGflops)) bad('groupGflops must be [min, max] or null');
  for (const m of r.models as unknown[]) {
    const x = (m ?? {}) as Record<string, unknown>;
    if (typeof x.modelId !== 'number' || typeof x.name !== 'string' || !isInterval(x.batch) || !isInterval(x.seq) || typeof x.operatorsEnd !== 'number') bad('of a model need modelId, name, batch, seq and operatorsEnd');
    if (x.segmentGflops !== null && !isInterval(x.segmentGflops)) bad('segmentGflops must be [min, max] or null');
  }
  return v as TrainedRanges;
}

/** What a run will ask the predictor about, per model. */
export interface ServedModel {
  modelId: number;
  name: string;
  batchSizes: readonly number[];
  /** Sequence lengths served (empty or [0] for a model without one). */
  seqLens: readonly number[];
  /** The served model's operators: GFLOPs of each for one sample at `referenceSeq` (from its manifest). */
  operatorGflops: readonly number[];
  referenceSeq: number;
}

export interface RangeFinding {
  /** 'refuse': a large gap (the run stops unless overridden); 'warn': outside, but close. */
  severity: 'warn' | 'refuse';
  message: string;
}

/** A served value beyond the trained interval by more than this factor is a large gap. */
export const LARGE_GAP = 2;

function gapFinding(what: string, served: Interval, trained: Interval, unit = ''): RangeFinding | null {
  if (served[0] >= trained[0] && served[1] <= trained[1]) return null;
  const above = trained[1] > 0 ? served[1] / trained[1] : Infinity;
  const below = served[0] > 0 ? trained[0] / served[0] : 1;
  const factor = Math.max(above, below);
  const fmt = (i: Interval) => (i[0] === i[1] ? `${i[0]}${unit}` : `${i[0]}-${i[1]}${unit}`);
  return {
    severity: factor > LARGE_GAP ? 'refuse' : 'warn',
    message: `${what} ${fmt(served)} served, ${fmt(trained)} in training (${factor.toFixed(factor >= 10 ? 0 : 1)}× beyond)`,
  };
}

/**
 * Compare a run with the predictor's ranges: models of another size than the profiled ones (their FLOPs
 * differ from the bundle's work table), batch sizes and sequence lengths outside the trained ones.
 */
export function checkServingRanges(spec: FeatureSpec, ranges: TrainedRanges | null, served: readonly ServedModel[]): RangeFinding[] {
  const out: RangeFinding[] = [];
  for (const s of served) {
    const pos = spec.modelIds.indexOf(s.modelId);
    const work = pos >= 0 ? spec.work?.[pos] : undefined;
    if (work) {
      // per sample, and per token for a model with a sequence length (the two may be counted at other lengths)
      const trainedTotal = work.operatorGflops.reduce((a, b) => a + b, 0) / (work.referenceSeq > 0 && s.referenceSeq > 0 ? work.referenceSeq : 1);
      const servedTotal = s.operatorGflops.reduce((a, b) => a + b, 0) / (work.referenceSeq > 0 && s.referenceSeq > 0 ? s.referenceSeq : 1);
      const ratio = trainedTotal > 0 && servedTotal > 0 ? Math.max(trainedTotal / servedTotal, servedTotal / trainedTotal) : Infinity;
      if (work.operatorGflops.length !== s.operatorGflops.length) {
        out.push({ severity: 'refuse', message: `${s.name}: the served model has ${s.operatorGflops.length} operators, the profiled one ${work.operatorGflops.length} (another build of the model)` });
      } else if (ratio > 1.05) {
        out.push({
          severity: ratio > 1.5 ? 'refuse' : 'warn',
          message: `${s.name}: the served model does ${servedTotal.toPrecision(3)} GFLOPs per sample${s.referenceSeq > 0 ? ' and token' : ''}, the profiled one ${trainedTotal.toPrecision(3)} (${ratio.toFixed(ratio >= 10 ? 0 : 1)}×: another scale or build of the model)`,
        });
      }
    }
    const r = ranges?.models.find((m) => m.modelId === s.modelId);
    if (!r) continue;
    if (work === undefined && s.operatorGflops.length > r.operatorsEnd && r.operatorsEnd > 0) {
      out.push({ severity: 'refuse', message: `${s.name}: the served model has ${s.operatorGflops.length} operators, the predictor saw segments up to operator ${r.operatorsEnd}` });
    }
    const batch: Interval = [Math.min(...s.batchSizes), Math.max(...s.batchSizes)];
    const b = gapFinding(`${s.name}: batch`, batch, r.batch);
    if (b) out.push(b);
    const seqs = s.seqLens.filter((x) => x > 0);
    if (seqs.length > 0 && r.seq[1] > 0) {
      const q = gapFinding(`${s.name}: sequence length`, [Math.min(...seqs), Math.max(...seqs)], r.seq);
      if (q) out.push(q);
    }
  }
  return out;
}
