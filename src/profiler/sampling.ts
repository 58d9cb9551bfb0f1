/**
 * Which co-located operator groups a profile measures. For every combination of models and every tuple
 * of batch sizes (one per model, the first model's varying slowest), exactly `samples` distinct groups
 * are drawn with the original's rule (a random subset of members runs to completion, a random subset
 * starts a fresh query; start and end drawn accordingly), duplicates redrawn. A stated share of the
 * groups leaves one or more models out (solo and subset groups, which serving needs); in those, the
 * present members may all continue earlier queries. Every draw comes
 * from a generator seeded by the run's seed and the combination, so a group's position in the sequence
 * (its `index`) identifies it across runs and resumes.
 */
import { InputError } from '../common/errors.js';
import { Rng } from '../common/rng.js';

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
  /** Share of each tuple's groups in which at least one model (not all) is absent. */
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

function groupKey(slots: readonly GroupSlot[]): string {
  return slots.map((s) => `${s.start}:${s.end}:${s.batch}:${s.seq}`).join('|');
}

/** The groups of one combination, in order; `index` counts from 0 over all tuples. */
export function* drawGroups(comb: readonly ProfileModel[], opts: SamplingOptions): Generator<ProfileGroup> {
  if (opts.samples < 1) throw new InputError('--samples must be at least 1');
  if (!(opts.absentRatio >= 0 && opts.absentRatio < 1)) throw new InputError('--absent-ratio must be in [0, 1)');
  const rng = new Rng(combinationSeed(opts.seed, comb));
  const n = comb.length;
  let index = 0;
  for (const tuple of batchTuples(n, opts.batchSizes)) {
    const seen = new Set<string>();
    const absentQuota = n > 1 ? Math.round(opts.samples * opts.absentRatio) : 0;
    for (let k = 0; k < opts.samples; k++) {
      const withAbsent = k < absentQuota;
      let slots: GroupSlot[] | null = null;
      for (let attempt = 0; attempt < 10_000; attempt++) {
        const candidate = drawOne(comb, tuple, withAbsent, opts, rng);
        const key = groupKey(candidate);
        if (!seen.has(key)) {
          seen.add(key);
          slots = candidate;
          break;
        }
      }
      if (!slots) {
        throw new InputError(`${combinationName(comb)} at batch sizes ${tuple.join('/')}: fewer than ${opts.samples} distinct groups exist${withAbsent ? ' with a model absent' : ''}; ask for fewer --samples`);
      }
      yield { index: index++, slots };
    }
  }
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
