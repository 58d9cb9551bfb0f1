/**
 * The one feature encoding of a group, shared by training (profile rows) and serving (the controller's
 * candidate groups). For a predictor over `K` known models and groups of up to `n` members a row is
 *
 *   [count(model_0) … count(model_K-1), block_0, …, block_n-1]
 *
 * Encoding 1 (the original's) has blocks `[start, end, batch, seq]`. Encoding 2 adds the segment's work,
 * `[start, end, batch, seq, gflops]`, where gflops is the sum of the operators' FLOPs over [start, end) at
 * the member's batch and sequence length, read from a per-model table (the manifest's per-operator FLOPs)
 * that the spec carries. Encoding 3 (the default) adds the same work on a log scale,
 * `[start, end, batch, seq, gflops, ln(1 + MFLOPs)]`: segments span five decades of work, and on the
 * standardised linear scale the small ones, whose relative errors weigh as much in MAPE and in a QoS
 * budget, all look alike. With the work columns a predictor need not learn each model's cost profile
 * over its operator indices from a few hundred groups; the raw indices stay in the row, so it can still
 * learn what FLOPs miss (memory-bound operators, fixed costs).
 *
 * Counts are indexed by the spec's model order (ascending model id). Present members fill the blocks in
 * ascending model-id order (ties, i.e. the same model twice, by start, end, batch, seq), so permuting a
 * group's members never changes its features; blocks of absent members are zero. This fixes the
 * original's slot-order mismatch between training (model-id order) and serving (urgency order).
 */
import { InputError } from '../common/errors.js';

/** A model's work table: what the work columns of encodings 2 and 3 are computed from. */
export interface ModelWork {
  /** GFLOPs of each operator for one sample (batch 1) at `referenceSeq`. */
  operatorGflops: number[];
  /**
   * The sequence length the FLOPs were counted at, 0 for a model without one. A member at sequence
   * length `seq` is scaled by seq / referenceSeq: linear in seq, exact for every dense layer and within
   * 1.4 % for BERT-base's attention between seq 8 and 64 (its seq² part); the seq column carries the rest.
   */
  referenceSeq: number;
}

/** Feature encodings this version writes and reads. */
export type FeatureEncoding = 1 | 2 | 3;
export const FEATURE_ENCODINGS: readonly FeatureEncoding[] = [1, 2, 3];
/** What `abacus train` uses unless told otherwise. */
export const DEFAULT_FEATURE_ENCODING: FeatureEncoding = 3;

/** What a predictor's features describe: the known models (ascending id) and the number of member slots. */
export interface FeatureSpec {
  /** Known model ids, ascending, unique. */
  modelIds: number[];
  /** Names of the known models, parallel to `modelIds`. */
  modelNames: string[];
  /** Maximum members of a group (`n`). */
  slots: number;
  /** 1: blocks [start, end, batch, seq]; 2: + gflops; 3: + gflops, ln(1 + MFLOPs). Absent in v1 bundles (= 1). */
  encoding?: FeatureEncoding;
  /** Encodings 2 and 3: the work table of every known model, parallel to `modelIds`. */
  work?: ModelWork[];
}

/** One member of a group: a segment [start, end) of a model's operators at a batch size and sequence length. */
export interface GroupMember {
  modelId: number;
  /** First operator of the segment (inclusive). */
  start: number;
  /** End operator of the segment (exclusive); `start === end` is an empty segment that only joins the barrier. */
  end: number;
  /** Batch size, > 0 for a present member. */
  batch: number;
  /** Sequence length; 0 for models without one. */
  seq: number;
}

/** Values per member block of encoding 1 (the original's). */
export const BLOCK_WIDTH = 4;

/** Values per member block of a spec. */
export function blockWidth(spec: FeatureSpec): number {
  const e = featureEncoding(spec);
  return e === 3 ? 6 : e === 2 ? 5 : 4;
}

export function featureEncoding(spec: FeatureSpec): FeatureEncoding {
  return spec.encoding ?? 1;
}

function checkWork(work: unknown, where: string): ModelWork {
  const w = (work ?? {}) as Record<string, unknown>;
  const ops = w.operatorGflops;
  if (!Array.isArray(ops) || ops.length === 0 || !ops.every((v) => typeof v === 'number' && Number.isFinite(v) && v >= 0)) {
    throw new InputError(`${where}: operatorGflops must be a non-empty list of finite numbers >= 0`);
  }
  const seq = w.referenceSeq;
  if (typeof seq !== 'number' || !Number.isInteger(seq) || seq < 0) throw new InputError(`${where}: referenceSeq must be an integer >= 0`);
  return { operatorGflops: [...(ops as number[])], referenceSeq: seq };
}

/**
 * Build a spec from known models (any order; sorted by id here) and a slot count; validates both. With
 * `encoding` 2 or 3 (3 is the default when every model brings its `work` table) the spec carries the tables.
 */
export function makeFeatureSpec(
  models: ReadonlyArray<{ id: number; name: string; work?: ModelWork }>,
  slots: number,
  encoding?: FeatureEncoding,
): FeatureSpec {
  if (!Number.isInteger(slots) || slots < 1) throw new InputError(`feature spec: slots must be a positive integer, got ${slots}`);
  if (models.length === 0) throw new InputError('feature spec: no models');
  const sorted = [...models].sort((a, b) => a.id - b.id);
  for (let i = 0; i < sorted.length; i++) {
    const m = sorted[i] as { id: number; name: string };
    if (!Number.isInteger(m.id) || m.id < 0) throw new InputError(`feature spec: model id must be a non-negative integer, got ${m.id}`);
    if (typeof m.name !== 'string' || m.name.length === 0) throw new InputError(`feature spec: model ${m.id} has no name`);
    if (i > 0 && (sorted[i - 1] as { id: number }).id === m.id) throw new InputError(`feature spec: model id ${m.id} listed twice`);
  }
  const enc = encoding ?? (sorted.every((m) => m.work) ? DEFAULT_FEATURE_ENCODING : 1);
  if (!(FEATURE_ENCODINGS as readonly number[]).includes(enc)) throw new InputError(`feature spec: unknown encoding ${String(enc)} (expected ${FEATURE_ENCODINGS.join(' or ')})`);
  const spec: FeatureSpec = { modelIds: sorted.map((m) => m.id), modelNames: sorted.map((m) => m.name), slots };
  if (enc !== 1) {
    const lacking = sorted.filter((m) => !m.work).map((m) => `${m.id}:${m.name}`);
    if (lacking.length > 0) throw new InputError(`feature encoding ${enc} needs the per-operator FLOPs of every model; missing for ${lacking.join(', ')}`);
    spec.encoding = enc;
    spec.work = sorted.map((m) => checkWork(m.work, `feature spec: model ${m.id} (${m.name})`));
  }
  return spec;
}

/** Check a spec read from a file (ids ascending and unique, names parallel, slots positive). */
export function validateFeatureSpec(spec: unknown, where: string): FeatureSpec {
  if (spec === null || typeof spec !== 'object') throw new InputError(`${where}: feature spec missing`);
  const s = spec as Record<string, unknown>;
  const ids = s.modelIds;
  const names = s.modelNames;
  if (!Array.isArray(ids) || !Array.isArray(names) || ids.length !== names.length) {
    throw new InputError(`${where}: feature spec needs modelIds and modelNames of equal length`);
  }
  if (!ids.every((v) => typeof v === 'number') || !names.every((v) => typeof v === 'string')) {
    throw new InputError(`${where}: feature spec modelIds must be numbers and modelNames strings`);
  }
  const encoding = s.encoding === undefined ? 1 : s.encoding;
  if (encoding !== 1 && encoding !== 2 && encoding !== 3) throw new InputError(`${where}: feature encoding ${JSON.stringify(s.encoding)} is not supported (expected 1, 2 or 3)`);
  let work: unknown[] | null = null;
  if (encoding !== 1) {
    if (!Array.isArray(s.work) || s.work.length !== ids.length) throw new InputError(`${where}: feature encoding ${encoding} needs a work table for each of the ${ids.length} models`);
    work = s.work;
  }
  const models = (ids as number[]).map((id, i) => ({
    id,
    name: names[i] as string,
    ...(work ? { work: checkWork(work[i], `${where}: work of model ${id}`) } : {}),
  }));
  const made = makeFeatureSpec(models, s.slots as number, encoding);
  if (made.modelIds.some((id, i) => id !== ids[i])) throw new InputError(`${where}: feature spec modelIds must be ascending`);
  return made;
}

/** Number of features of a row: K counts + 4, 5 or 6 per slot (encoding 1, 2, 3). */
export function featureCount(spec: FeatureSpec): number {
  return spec.modelIds.length + blockWidth(spec) * spec.slots;
}

/** Human-readable feature names, in row order. */
export function featureNames(spec: FeatureSpec): string[] {
  const names = spec.modelNames.map((n) => `count_${n}`);
  const enc = featureEncoding(spec);
  for (let s = 0; s < spec.slots; s++) {
    names.push(`start_${s}`, `end_${s}`, `batch_${s}`, `seq_${s}`);
    if (enc >= 2) names.push(`gflops_${s}`);
    if (enc === 3) names.push(`ln_mflops_${s}`);
  }
  return names;
}

export function sameFeatureSpec(a: FeatureSpec, b: FeatureSpec): boolean {
  return (
    a.slots === b.slots &&
    featureEncoding(a) === featureEncoding(b) &&
    a.modelIds.length === b.modelIds.length &&
    a.modelIds.every((id, i) => id === b.modelIds[i] && a.modelNames[i] === b.modelNames[i]) &&
    JSON.stringify(a.work ?? null) === JSON.stringify(b.work ?? null)
  );
}

export function describeFeatureSpec(spec: FeatureSpec): string {
  const models = spec.modelIds.map((id, i) => `${id}:${spec.modelNames[i]}`).join(', ');
  return `models [${models}] with ${spec.slots} slot${spec.slots === 1 ? '' : 's'}, feature encoding ${featureEncoding(spec)}`;
}

/** GFLOPs of operators [start, end) of model `modelId` for one group member (its batch and sequence length). */
export function segmentGflops(spec: FeatureSpec, modelId: number, start: number, end: number, batch: number, seq: number): number {
  const c = compile(spec);
  const pos = modelId >= 0 && modelId < c.position.length ? (c.position[modelId] as number) : -1;
  if (pos < 0) throw new InputError(`model id ${modelId} is unknown to this predictor (${describeFeatureSpec(spec)})`);
  if (!c.prefixGflops) throw new InputError(`feature encoding ${featureEncoding(spec)} has no work table (${describeFeatureSpec(spec)})`);
  return work(c, pos, start, end, batch, seq);
}

/** Per-spec lookup tables, built once so that encoding allocates nothing. */
interface Compiled {
  /** model id → position in spec.modelIds, or -1. */
  position: Int32Array;
  /** member indices being sorted (length = slots). */
  order: Int32Array;
  width: number;
  k: number;
  block: number;
  /** Encodings 2 and 3: per model position, prefix sums of operator GFLOPs (length operators + 1). */
  prefixGflops: Float64Array[] | null;
  /** Encodings 2 and 3: per model position, its reference sequence length (0: none). */
  referenceSeq: Int32Array | null;
}

function work(c: Compiled, pos: number, start: number, end: number, batch: number, seq: number): number {
  const prefix = (c.prefixGflops as Float64Array[])[pos] as Float64Array;
  const ops = prefix.length - 1;
  if (end > ops) throw new InputError(`segment [${start}, ${end}) exceeds the ${ops} operators this predictor knows for the model`);
  const ref = (c.referenceSeq as Int32Array)[pos] as number;
  const seqScale = ref > 0 && seq > 0 ? seq / ref : 1;
  return ((prefix[end] as number) - (prefix[start] as number)) * batch * seqScale;
}

const compiledSpecs = new WeakMap<FeatureSpec, Compiled>();

function compile(spec: FeatureSpec): Compiled {
  let c = compiledSpecs.get(spec);
  if (c) return c;
  const maxId = spec.modelIds.length ? Math.max(...spec.modelIds) : 0;
  const position = new Int32Array(maxId + 1).fill(-1);
  spec.modelIds.forEach((id, i) => {
    position[id] = i;
  });
  let prefixGflops: Float64Array[] | null = null;
  let referenceSeq: Int32Array | null = null;
  if (featureEncoding(spec) !== 1 && spec.work) {
    prefixGflops = spec.work.map((w) => {
      const p = new Float64Array(w.operatorGflops.length + 1);
      w.operatorGflops.forEach((g, i) => {
        p[i + 1] = (p[i] as number) + g;
      });
      return p;
    });
    referenceSeq = Int32Array.from(spec.work.map((w) => w.referenceSeq));
  }
  c = { position, order: new Int32Array(spec.slots), width: featureCount(spec), k: spec.modelIds.length, block: blockWidth(spec), prefixGflops, referenceSeq };
  compiledSpecs.set(spec, c);
  return c;
}

/** Canonical member order: model id, then start, end, batch, seq. Negative when a sorts first. */
function compareMembers(a: GroupMember, b: GroupMember): number {
  return a.modelId - b.modelId || a.start - b.start || a.end - b.end || a.batch - b.batch || a.seq - b.seq;
}

/**
 * Write the features of one group into `out[offset .. offset + featureCount(spec))`. Allocates nothing.
 * Throws an InputError for a model the spec does not know, more members than slots, or a malformed member.
 */
export function encodeGroup(spec: FeatureSpec, members: ArrayLike<GroupMember>, out: Float32Array, offset = 0): void {
  const c = compile(spec);
  const n = members.length;
  if (n > spec.slots) {
    throw new InputError(`group of ${n} members does not fit a predictor with ${spec.slots} slot${spec.slots === 1 ? '' : 's'}`);
  }
  if (offset < 0 || offset + c.width > out.length) {
    throw new RangeError(`encodeGroup: row at offset ${offset} (width ${c.width}) does not fit an array of ${out.length}`);
  }
  const order = c.order;
  for (let i = 0; i < n; i++) {
    const m = members[i] as GroupMember;
    const id = m.modelId;
    if (!Number.isInteger(id) || id < 0 || id >= c.position.length || (c.position[id] as number) < 0) {
      throw new InputError(`model id ${id} is unknown to this predictor (${describeFeatureSpec(spec)})`);
    }
    if (!(m.batch > 0) || !(m.start >= 0) || !(m.end >= m.start) || !(m.seq >= 0)) {
      throw new InputError(
        `bad group member for model ${id}: start ${m.start}, end ${m.end}, batch ${m.batch}, seq ${m.seq} (need 0 <= start <= end, batch > 0, seq >= 0)`,
      );
    }
    // insertion sort of member indices into canonical order
    let j = i - 1;
    while (j >= 0 && compareMembers(members[order[j] as number] as GroupMember, m) > 0) {
      order[j + 1] = order[j] as number;
      j--;
    }
    order[j + 1] = i;
  }
  out.fill(0, offset, offset + c.width);
  for (let i = 0; i < n; i++) {
    const m = members[order[i] as number] as GroupMember;
    const pos = c.position[m.modelId] as number;
    out[offset + pos] += 1;
    const b = offset + c.k + c.block * i;
    out[b] = m.start;
    out[b + 1] = m.end;
    out[b + 2] = m.batch;
    out[b + 3] = m.seq;
    if (c.prefixGflops) {
      const gflops = work(c, pos, m.start, m.end, m.batch, m.seq);
      out[b + 4] = gflops;
      if (c.block === 6) out[b + 5] = Math.log1p(1000 * gflops);
    }
  }
}

/** Encode many groups into a new row-major array (rows × featureCount). Convenience; allocates. */
export function encodeGroups(spec: FeatureSpec, groups: ReadonlyArray<ArrayLike<GroupMember>>): Float32Array {
  const width = featureCount(spec);
  const out = new Float32Array(groups.length * width);
  for (let r = 0; r < groups.length; r++) encodeGroup(spec, groups[r] as ArrayLike<GroupMember>, out, r * width);
  return out;
}

/** Decode one row back into members (canonical order). For diagnostics and tests. */
export function decodeGroup(spec: FeatureSpec, row: ArrayLike<number>, offset = 0): GroupMember[] {
  const k = spec.modelIds.length;
  const block = blockWidth(spec);
  const counts = spec.modelIds.map((_, i) => row[offset + i] as number);
  const members: GroupMember[] = [];
  let slot = 0;
  for (let i = 0; i < k; i++) {
    for (let c = 0; c < (counts[i] as number); c++) {
      const b = offset + k + block * slot++;
      members.push({
        modelId: spec.modelIds[i] as number,
        start: row[b] as number,
        end: row[b + 1] as number,
        batch: row[b + 2] as number,
        seq: row[b + 3] as number,
      });
    }
  }
  return members;
}
