/**
 * The one feature encoding of a group, shared by training (profile rows) and serving (the controller's
 * candidate groups). For a predictor over `K` known models and groups of up to `n` members a row is
 *
 *   [count(model_0) … count(model_K-1), start_0, end_0, batch_0, seq_0, …, start_n-1, end_n-1, batch_n-1, seq_n-1]
 *
 * Counts are indexed by the spec's model order (ascending model id). Present members fill the blocks in
 * ascending model-id order (ties, i.e. the same model twice, by start, end, batch, seq), so permuting a
 * group's members never changes its features; blocks of absent members are zero. This fixes the
 * original's slot-order mismatch between training (model-id order) and serving (urgency order).
 */
import { InputError } from '../common/errors.js';

/** What a predictor's features describe: the known models (ascending id) and the number of member slots. */
export interface FeatureSpec {
  /** Known model ids, ascending, unique. */
  modelIds: number[];
  /** Names of the known models, parallel to `modelIds`. */
  modelNames: string[];
  /** Maximum members of a group (`n`). */
  slots: number;
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

/** Values per member block. */
export const BLOCK_WIDTH = 4;

/** Build a spec from known models (any order; sorted by id here) and a slot count; validates both. */
export function makeFeatureSpec(models: ReadonlyArray<{ id: number; name: string }>, slots: number): FeatureSpec {
  if (!Number.isInteger(slots) || slots < 1) throw new InputError(`feature spec: slots must be a positive integer, got ${slots}`);
  if (models.length === 0) throw new InputError('feature spec: no models');
  const sorted = [...models].sort((a, b) => a.id - b.id);
  for (let i = 0; i < sorted.length; i++) {
    const m = sorted[i] as { id: number; name: string };
    if (!Number.isInteger(m.id) || m.id < 0) throw new InputError(`feature spec: model id must be a non-negative integer, got ${m.id}`);
    if (typeof m.name !== 'string' || m.name.length === 0) throw new InputError(`feature spec: model ${m.id} has no name`);
    if (i > 0 && (sorted[i - 1] as { id: number }).id === m.id) throw new InputError(`feature spec: model id ${m.id} listed twice`);
  }
  return { modelIds: sorted.map((m) => m.id), modelNames: sorted.map((m) => m.name), slots };
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
  const models = (ids as number[]).map((id, i) => ({ id, name: names[i] as string }));
  const made = makeFeatureSpec(models, s.slots as number);
  if (made.modelIds.some((id, i) => id !== ids[i])) throw new InputError(`${where}: feature spec modelIds must be ascending`);
  return made;
}

/** Number of features of a row: K counts + 4 per slot. */
export function featureCount(spec: FeatureSpec): number {
  return spec.modelIds.length + BLOCK_WIDTH * spec.slots;
}

/** Human-readable feature names, in row order. */
export function featureNames(spec: FeatureSpec): string[] {
  const names = spec.modelNames.map((n) => `count_${n}`);
  for (let s = 0; s < spec.slots; s++) names.push(`start_${s}`, `end_${s}`, `batch_${s}`, `seq_${s}`);
  return names;
}

export function sameFeatureSpec(a: FeatureSpec, b: FeatureSpec): boolean {
  return (
    a.slots === b.slots &&
    a.modelIds.length === b.modelIds.length &&
    a.modelIds.every((id, i) => id === b.modelIds[i] && a.modelNames[i] === b.modelNames[i])
  );
}

export function describeFeatureSpec(spec: FeatureSpec): string {
  const models = spec.modelIds.map((id, i) => `${id}:${spec.modelNames[i]}`).join(', ');
  return `models [${models}] with ${spec.slots} slot${spec.slots === 1 ? '' : 's'}`;
}

/** Per-spec lookup tables, built once so that encoding allocates nothing. */
interface Compiled {
  /** model id → position in spec.modelIds, or -1. */
  position: Int32Array;
  /** member indices being sorted (length = slots). */
  order: Int32Array;
  width: number;
  k: number;
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
  c = { position, order: new Int32Array(spec.slots), width: featureCount(spec), k: spec.modelIds.length };
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
    out[offset + (c.position[m.modelId] as number)] += 1;
    const b = offset + c.k + BLOCK_WIDTH * i;
    out[b] = m.start;
    out[b + 1] = m.end;
    out[b + 2] = m.batch;
    out[b + 3] = m.seq;
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
  const counts = spec.modelIds.map((_, i) => row[offset + i] as number);
  const members: GroupMember[] = [];
  let slot = 0;
  for (let i = 0; i < k; i++) {
    for (let c = 0; c < (counts[i] as number); c++) {
      const b = offset + k + BLOCK_WIDTH * slot++;
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
