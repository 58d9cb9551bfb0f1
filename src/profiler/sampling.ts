/**
 * Which co-located operator groups a profile measures (sampling rule 2). For every combination of models
 * and every tuple of batch sizes (one per model, the first model's varying slowest), `samples` groups are
 * drawn with the original's rule (a random subset of members runs to completion, a random subset starts
 * a fresh query; start and end drawn accordingly).
 *
 * A stated share of the groups leaves one or more models out (solo and subset groups, which serving
 * prices). The share holds over the whole profile: the profile's `round(groups × absentRatio)` such
 * groups are spread over the files by error diffusion and placed at seeded random positions within each
 * file (not `round(samples × ratio)` per tuple, which is 0 for one sample per tuple). In those groups the
 * present members may all continue earlier queries, and the absent members' batch sizes mean nothing.
 *
 * Every group configuration -- the present members with their segment, batch and sequence length -- is
 * drawn once per profile: a solo or subset group that another tuple or another combination file already
 * holds is drawn again (rule 1 kept groups distinct only within a tuple, so a solo member's config came
 * back in every tuple and every pair file that shares it).
 *
 * Every draw comes from generators seeded by the run's seed and the combination, in the profile's
 * combination order, so a group's position in its file (its `index`) identifies it across runs and
 * resumes.
 */
import { InputError } from '../common/errors.js';
import { Rng } from '../common/rng.js';

/** The sampling rule this code implements; profile.json records it and a resume must match it. */
export const SAMPLING_RULE = 2;

export interface ProfileModel {
  id: number;
  name: string;
  operators: number;
  hasSeq: boolean;
}

/** One slot of a group, in the combination's ascending-id order. `batch = 0`: the model is absent. */
export interface GroupSlot {
  model: string;
  modelId: number;
  start: number;
  end: number;
  batch: number;
  seq: number;
}

export interface ProfileGroup {
  index: number;
  slots: GroupSlot[];
}

export interface SamplingOptions {
  batchSizes: readonly number[];
  seqLens: readonly number[];
  samples: number;
  /** Share of the profile's groups in which at least one model (not all) is absent. */
  absentRatio: number;
  seed: number;
}

/** All combinations of `n` models out of `models`, each in ascending id order. */
export function combinations(models: readonly ProfileModel[], n: number): ProfileModel[][] {
  const sorted = [...models].sort((a, b) => a.id - b.id);
  const out: ProfileModel[][] = [];
  const pick = (from: number, acc: ProfileModel[]): void => {
    if (acc.length === n) {
      out.push([...acc]);
      return;
    }
    for (let i = from; i < sorted.length; i++) pick(i + 1, [...acc, sorted[i]!]);
  };
  pick(0, []);
  return out;
}

export function combinationName(comb: readonly ProfileModel[]): string {
  return comb.map((m) => m.name).join('_');
}

/** A 32-bit seed for one combination, from the run's seed and the combination's names. */
export function combinationSeed(seed: number, comb: readonly ProfileModel[]): number {
  let h = (seed ^ 0x811c9dc5) >>> 0;
  for (const ch of combinationName(comb)) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return h;
}

/** Batch-size tuples of a combination, the first model's varying slowest. */
export function batchTuples(n: number, batchSizes: readonly number[]): number[][] {
  let tuples: number[][] = [[]];
  for (let i = 0; i < n; i++) tuples = tuples.flatMap((t) => batchSizes.map((b) => [...t, b]));
  return tuples;
}

export function groupsPerCombination(n: number, opts: Pick<SamplingOptions, 'batchSizes' | 'samples'>): number {
  return opts.batchSizes.length ** n * opts.samples;
}

/**
 * The identity of a group configuration: its present members in slot order (ascending model id), which is
 * what a predictor sees. Two groups with the same key are the same measurement.
 */
export function configurationKey(slots: readonly Pick<GroupSlot, 'modelId' | 'start' | 'end' | 'batch' | 'seq'>[]): string {
  return slots
    .filter((s) => s.batch > 0)
    .map((s) => `${s.modelId}:${s.start}:${s.end}:${s.batch}:${s.seq}`)
    .join('|');
}

/** Groups with a model absent per combination: the profile-wide share, spread by error diffusion. */
export function absentQuotas(combs: readonly (readonly ProfileModel[])[], opts: Pick<SamplingOptions, 'batchSizes' | 'samples' | 'absentRatio'>): number[] {
  let eligible = 0;
  return combs.map((comb) => {
    if (comb.length < 2) return 0;
    const groups = groupsPerCombination(comb.length, opts);
    const prev = Math.round(eligible * opts.absentRatio);
    eligible += groups;
    return Math.round(eligible * opts.absentRatio) - prev;
  });
}

function checkOptions(opts: SamplingOptions): void {
  if (!(Number.isInteger(opts.samples) && opts.samples >= 1)) throw new InputError('--samples must be at least 1');
  if (!(opts.absentRatio >= 0 && opts.absentRatio < 1)) throw new InputError('--absent-ratio must be in [0, 1)');
}

/**
 * The groups of a whole profile, file by file in the order given; `index` counts from 0 within each
 * combination. Configurations are distinct over the whole profile.
 */
export function* drawProfile(combs: readonly (readonly ProfileModel[])[], opts: SamplingOptions): Generator<{ combination: number; group: ProfileGroup }> {
  checkOptions(opts);
  const quotas = absentQuotas(combs, opts);
  const seen = new Set<string>();
  for (const [ci, comb] of combs.entries()) {
    const rng = new Rng(combinationSeed(opts.seed, comb));
    const n = comb.length;
    const total = groupsPerCombination(n, opts);
    const quota = quotas[ci]!;
    // which of the file's positions leave a model out: a seeded random choice, so that no batch size of
    // the tuple order is favoured
    const positions = Array.from({ length: total }, (_, i) => i);
    const absentAt = new Set(quota > 0 ? rng.sample(positions, quota) : []);
    let index = 0;
    for (const tuple of batchTuples(n, opts.batchSizes)) {
      for (let k = 0; k < opts.samples; k++) {
        const withAbsent = absentAt.has(index);
        let slots: GroupSlot[] | null = null;
        for (let attempt = 0; attempt < 10_000; attempt++) {
          const candidate = drawOne(comb, tuple, withAbsent, opts, rng);
          const key = configurationKey(candidate);
          if (!seen.has(key)) {
            seen.add(key);
            slots = candidate;
            break;
          }
        }
        if (!slots) {
          throw new InputError(
            `${combinationName(comb)} at batch sizes ${tuple.join('/')}: no new distinct group ${withAbsent ? 'with a model absent ' : ''}is left after ${index} of ${total}; ask for fewer --samples${withAbsent ? ' or a smaller --absent-ratio' : ''}`,
          );
        }
        yield { combination: ci, group: { index: index++, slots } };
      }
    }
  }
}

/** The groups of one combination profiled alone, in order; `index` counts from 0 over all tuples. */
export function* drawGroups(comb: readonly ProfileModel[], opts: SamplingOptions): Generator<ProfileGroup> {
  for (const { group } of drawProfile([comb], opts)) yield group;
}

/** What a list of groups holds, by how many members are present (profile.json states it). */
export interface GroupCounts {
  groups: number;
  /** One member present. */
  solo: number;
  /** Two or more members present. */
  colocated: number;
  /** At least one model of the combination absent (solo groups of multi-model files included). */
  withAbsent: number;
  /** Groups by number of present members ("1", "2", ...). */
  byPresent: Record<string, number>;
}

export function countGroups(groups: Iterable<ProfileGroup>): GroupCounts {
  const c: GroupCounts = { groups: 0, solo: 0, colocated: 0, withAbsent: 0, byPresent: {} };
  for (const g of groups) addGroup(c, g);
  return c;
}

export function addGroup(c: GroupCounts, g: ProfileGroup): void {
  const present = g.slots.filter((s) => s.batch > 0).length;
  c.groups++;
  if (present === 1) c.solo++;
  else c.colocated++;
  if (present < g.slots.length) c.withAbsent++;
  c.byPresent[String(present)] = (c.byPresent[String(present)] ?? 0) + 1;
}

function drawOne(comb: readonly ProfileModel[], tuple: readonly number[], withAbsent: boolean, opts: SamplingOptions, rng: Rng): GroupSlot[] {
  const n = comb.length;
  const slotIds = comb.map((_, i) => i);
  const absent = new Set<number>(withAbsent ? rng.sample(slotIds, rng.int(1, n - 1)) : []);
  const present = slotIds.filter((i) => !absent.has(i));
  // the original's rule over the present members: some run to completion, some start fresh. In groups
  // with a model absent no member need start fresh: serving runs a continuing query alone, too.
  const completes = new Set(rng.sample(present, rng.int(1, present.length)));
  const fresh = new Set(rng.sample(present, rng.int(absent.size > 0 ? 0 : 1, present.length)));
  return comb.map((m, i): GroupSlot => {
    if (absent.has(i)) return { model: m.name, modelId: m.id, start: 0, end: 0, batch: 0, seq: 0 };
    const L = m.operators;
    const start = fresh.has(i) ? 0 : rng.int(0, L - 1);
    const end = completes.has(i) ? L : rng.int(start, L);
    const seq = m.hasSeq ? rng.pick(opts.seqLens) : 0;
    return { model: m.name, modelId: m.id, start, end, batch: tuple[i]!, seq };
  });
}
