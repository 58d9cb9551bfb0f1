import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/common/rng.js';
import { largestFittingPrefix, searchSplit, type SplitSearchInput, type SplitSearchResult } from '../../src/controller/search.js';
import type { GroupMember, LatencyModel } from '../../src/controller/types.js';

/**
 * The split search as it was before its groups moved to reused scratch arrays (a fresh array and member
 * per candidate): the reference the allocation-free search must match choice for choice.
 */
function referenceSearchSplit(input: SplitSearchInput): SplitSearchResult {
  const { base, searched, budgetMs, thldMs, model } = input;
  let lo = searched.start + 1;
  let hi = searched.end;
  let bestEnd: number | null = null;
  let bestMs = Number.NaN;
  let steps = 0;
  const candidates: number[][] = [];
  while (lo <= hi) {
    const untested = hi - lo + 1;
    const w = Math.min(input.ways, untested);
    const ends: number[] = [];
    const part = (untested + 1) / (w + 1);
    for (let i = 1; i <= w; i++) ends.push(lo - 1 + Math.floor(i * part));
    const predicted = model.predictMs(ends.map((end) => [...base, { ...searched, end }]));
    steps++;
    candidates.push(ends);
    let feasible = -1;
    for (let i = w - 1; i >= 0; i--) {
      if ((predicted[i] as number) <= budgetMs) {
        feasible = i;
        break;
      }
    }
    if (feasible >= 0) {
      const end = ends[feasible] as number;
      if (bestEnd === null || end > bestEnd) {
        bestEnd = end;
        bestMs = predicted[feasible] as number;
      }
      lo = end + 1;
      if (feasible + 1 < w) hi = (ends[feasible + 1] as number) - 1;
    } else {
      hi = (ends[0] as number) - 1;
    }
    if (bestEnd !== null && budgetMs - bestMs < thldMs) break;
  }
  return { end: bestEnd, predictedMs: bestMs, slackMs: bestEnd === null ? Number.NaN : budgetMs - bestMs, steps, candidates };
}

const key = (m: GroupMember): string => `${m.modelId}:${m.start}-${m.end}@${m.batch}/${m.seq}`;

/**
 * A latency function written for the test: each model id has per-operator costs; a group costs its longest
 * member plus `overlap` of the others, plus a per-group bump that depends on the whole group (so a wrong
 * member anywhere, or members in the wrong group, changes the price), optionally non-monotone in the end.
 * It records every group it is asked to price, as text, at the moment of the call, and honours `out`.
 */
class RecordingModel implements LatencyModel {
  readonly calls: string[][] = [];
  constructor(
    private readonly perOpMs: ReadonlyArray<readonly number[]>,
    private readonly overlap: number,
    private readonly wiggleMs: number,
  ) {}

  priceOf(group: readonly GroupMember[]): number {
    let longest = 0;
    let sum = 0;
    let hash = 0;
    for (const m of group) {
      const costs = this.perOpMs[m.modelId] as readonly number[];
      let ms = 0;
      for (let i = m.start; i < m.end; i++) ms += costs[i] as number;
      ms *= m.batch / 8;
      longest = Math.max(longest, ms);
      sum += ms;
      hash = (hash * 31 + m.modelId * 7 + m.start * 3 + m.end * 5 + m.batch + m.seq) % 1009;
    }
    return longest + this.overlap * (sum - longest) + this.wiggleMs * Math.sin(hash);
  }

  predictMs(groups: readonly (readonly GroupMember[])[], out?: Float64Array): Float64Array {
    this.calls.push(groups.map((g) => g.map(key).join(' ')));
    const result = out ?? new Float64Array(groups.length);
    for (let r = 0; r < groups.length; r++) result[r] = this.priceOf(groups[r] as readonly GroupMember[]);
    return result;
  }
}

function randomCase(rng: Rng) {
  const models = 4;
  const ops = Array.from({ length: models }, () => rng.int(2, 60));
  const perOpMs = ops.map((n) => Array.from({ length: n }, () => 0.05 + rng.next() * 2));
  const member = (modelId: number, start: number, end: number): GroupMember => ({ modelId, start, end, batch: rng.pick([4, 8, 16, 32]), seq: modelId === 3 ? rng.pick([8, 64]) : 0 });
  const searchedId = rng.int(0, models - 1);
  const base: GroupMember[] = [];
  for (let id = 0; id < models; id++) {
    if (id === searchedId || rng.next() < 0.5) continue;
    const start = rng.int(0, (ops[id] as number) - 1);
    base.push(member(id, start, rng.int(start, ops[id] as number)));
  }
  const n = ops[searchedId] as number;
  const start = rng.int(0, n - 1);
  const searched = member(searchedId, start, rng.int(start, n));
  const wiggleMs = rng.next() < 0.5 ? 0 : rng.next() * 4;
  return { perOpMs, base, searched, overlap: rng.next(), wiggleMs, budgetMs: rng.next() * 60, ways: rng.int(1, 16), thldMs: rng.pick([0, 0.5, 2, 5]) };
}

test('the scratch-array split search makes the same choices and prices the same groups as the reference (property, seeded)', () => {
  const rng = new Rng(2024);
  let found = 0;
  let multiStep = 0;
  for (let trial = 0; trial < 3000; trial++) {
    const c = randomCase(rng);
    const fast = new RecordingModel(c.perOpMs, c.overlap, c.wiggleMs);
    const slow = new RecordingModel(c.perOpMs, c.overlap, c.wiggleMs);
    const input = { base: c.base, searched: c.searched, budgetMs: c.budgetMs, ways: c.ways, thldMs: c.thldMs };
    const baseBefore = c.base.map(key);
    const searchedBefore = key(c.searched);
    const got = searchSplit({ ...input, model: fast });
    const want = referenceSearchSplit({ ...input, model: slow });
    const what = `trial ${trial}: ways ${c.ways}, thld ${c.thldMs}, budget ${c.budgetMs.toFixed(2)}, ${c.base.length} base members`;
    assert.deepEqual(got, want, what);
    assert.deepEqual(fast.calls, slow.calls, `${what}: the groups priced, call by call`);
    assert.deepEqual(c.base.map(key), baseBefore, 'the base members are not modified');
    assert.equal(key(c.searched), searchedBefore, 'the searched member is not modified');
    if (got.end !== null) found++;
    if (got.steps > 1) multiStep++;
  }
  assert.ok(found > 500 && multiStep > 500, `too few feasible (${found}) or multi-step (${multiStep}) cases`);
});

test('largestFittingPrefix prices the same prefixes as before, into `out` when the model takes it', () => {
  const rng = new Rng(77);
  for (let trial = 0; trial < 500; trial++) {
    const c = randomCase(rng);
    const queries = [...c.base, c.searched];
    const model = new RecordingModel(c.perOpMs, c.overlap, c.wiggleMs);
    const out = new Float64Array(queries.length + 2);
    const r = largestFittingPrefix(queries, c.budgetMs, model, out);
    assert.equal(r.predictedMs, out, 'the prices are written into out');
    assert.deepEqual(model.calls, [queries.map((_, j) => queries.slice(0, j + 1).map(key).join(' '))]);
    let count = 0;
    for (let j = queries.length; j >= 1; j--) {
      if (model.priceOf(queries.slice(0, j)) <= c.budgetMs) {
        count = j;
        break;
      }
    }
    assert.equal(r.count, count, `trial ${trial}`);
    const fresh = largestFittingPrefix(queries, c.budgetMs, new RecordingModel(c.perOpMs, c.overlap, c.wiggleMs));
    assert.deepEqual([...fresh.predictedMs], [...out.subarray(0, queries.length)], 'without out: a new array of the same prices');
  }
});

test('a search started inside a latency model (nested) gets its own scratch and leaves the outer search intact', () => {
  const rng = new Rng(5);
  for (let trial = 0; trial < 200; trial++) {
    const outer = randomCase(rng);
    const inner = randomCase(rng);
    const innerModel = new RecordingModel(inner.perOpMs, inner.overlap, inner.wiggleMs);
    const outerModel = new RecordingModel(outer.perOpMs, outer.overlap, outer.wiggleMs);
    const innerResults: SplitSearchResult[] = [];
    const nesting: LatencyModel = {
      predictMs(groups, out) {
        innerResults.push(searchSplit({ base: inner.base, searched: inner.searched, budgetMs: inner.budgetMs, ways: inner.ways, thldMs: inner.thldMs, model: innerModel }));
        return outerModel.predictMs(groups, out);
      },
    };
    const input = { base: outer.base, searched: outer.searched, budgetMs: outer.budgetMs, ways: outer.ways, thldMs: outer.thldMs };
    const got = searchSplit({ ...input, model: nesting });
    assert.deepEqual(got, referenceSearchSplit({ ...input, model: new RecordingModel(outer.perOpMs, outer.overlap, outer.wiggleMs) }), `trial ${trial}: outer`);
    const innerWant = referenceSearchSplit({ base: inner.base, searched: inner.searched, budgetMs: inner.budgetMs, ways: inner.ways, thldMs: inner.thldMs, model: new RecordingModel(inner.perOpMs, inner.overlap, inner.wiggleMs) });
    for (const r of innerResults) assert.deepEqual(r, innerWant, `trial ${trial}: inner`);
  }
});
