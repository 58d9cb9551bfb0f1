import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/common/rng.js';
import { generateTrace, zooOperatorCounts, zooServices } from '../../src/controller/load.js';
import { decideAbacus, type DecisionContext } from '../../src/controller/policies.js';
import { MemoryRunLog } from '../../src/controller/runlog.js';
import { AnalyticLatencyModel, latencyFromModel, simulateServing } from '../../src/controller/simulate.js';
import type { GroupMember, LatencyModel } from '../../src/controller/types.js';
import type { DenseLayerJson } from '../../src/predictor/bundle-format.js';
import { featureCount, makeFeatureSpec } from '../../src/predictor/features.js';
import { MlpPredictor } from '../../src/predictor/mlp.js';
import { predictorLatencyModel } from '../../src/serve/adapters.js';
import { ZOO } from '../../src/zoo/catalog.js';
import { pool, query, state } from './helpers.js';

/** A seeded random MLP over the zoo with `slots` slots; its outputs are around 30 ± 10 ms. */
function randomMlp(slots: number, seed: number): MlpPredictor {
  const spec = makeFeatureSpec(ZOO, slots);
  const width = featureCount(spec);
  const rng = new Rng(seed);
  const sizes = [width, 32, 32, 32, 1];
  const layers: DenseLayerJson[] = sizes.slice(1).map((outputs, i) => ({
    inputs: sizes[i]!,
    outputs,
    kernel: Array.from({ length: sizes[i]! * outputs }, () => rng.normal() / Math.sqrt(sizes[i]!)),
    bias: Array.from({ length: outputs }, () => 0.1 * rng.normal()),
  }));
  const standardization = { mean: Array.from({ length: width }, () => 10 * rng.next()), std: Array.from({ length: width }, () => 1 + 10 * rng.next()) };
  return new MlpPredictor(spec, standardization, { unit: 'ms', mean: 30, std: 10 }, layers);
}

function randomGroup(rng: Rng, slots: number): GroupMember[] {
  const ids = [0, 1, 2, 3, 4, 5, 6].sort(() => rng.next() - 0.5).slice(0, rng.int(1, slots));
  return ids.map((modelId) => {
    const ops = ZOO[modelId]!.operatorCount;
    const start = rng.int(0, ops - 1);
    return { modelId, start, end: rng.int(start, ops), batch: rng.pick([4, 8, 16, 32]), seq: modelId === 6 ? rng.pick([8, 64]) : 0 };
  });
}

test('the serving adapter prices groups as predictGroupsMs does, into `out` when given, for any number of groups', () => {
  const predictor = randomMlp(4, 3);
  const model = predictorLatencyModel(predictor);
  const rng = new Rng(8);
  for (const n of [1, 2, 5, 16, 17, 40, 3]) {
    const groups = Array.from({ length: n }, () => randomGroup(rng, 4));
    const want = predictor.predictGroupsMs(groups);
    const out = new Float64Array(n + 1).fill(-1);
    const got = model.predictMs(groups, out);
    assert.equal(got, out, 'returns out');
    assert.deepEqual([...got.subarray(0, n)], [...want], `${n} groups, with out`);
    assert.equal(out[n], -1, 'nothing written past the groups');
    const fresh = model.predictMs(groups);
    assert.notEqual(fresh, out);
    assert.deepEqual([...fresh], [...want], `${n} groups, without out`);
  }
  assert.throws(() => model.predictMs([randomGroup(rng, 4), randomGroup(rng, 4)], new Float64Array(1)), RangeError);
});

test('serving with the adapter gives the same run as with predictGroupsMs per call (abacus, abandon, ways 1..16)', async () => {
  const predictor = randomMlp(3, 11);
  const plain: LatencyModel = { predictMs: (groups) => predictor.predictGroupsMs(groups) };
  const services = zooServices(['resnet101', 'vgg19', 'bert']);
  const analytic = new AnalyticLatencyModel();
  for (const ways of [1, 3, 8, 16]) {
    const run = async (model: LatencyModel) => {
      const trace = generateTrace({ services, loadQps: 200, queries: 300, seed: ways, qos: 80 });
      const log = new MemoryRunLog();
      const { summary } = await simulateServing({ policy: 'abacus', trace, latencyModel: model, ways, thldMs: 2, abandon: true, log, operatorCounts: zooOperatorCounts(), latency: latencyFromModel(analytic, { noise: 0.05, seed: 1 }) });
      const { decisionP50Us: _p50, decisionP99Us: _p99, reactionP50Us: _r50, reactionP99Us: _r99, ...timeless } = summary;
      return { queries: log.queries, groups: log.groups.map(({ decisionUs: _us, ...g }) => g), timeless };
    };
    const viaAdapter = await run(predictorLatencyModel(predictor));
    assert.ok(viaAdapter.timeless.searchStepsMean > 0, 'some splits were searched');
    assert.deepEqual(viaAdapter, await run(plain), `ways ${ways}`);
  }
});

test("a started query's remainder is priced once per progress: repeated decisions reuse it, a launch re-prices it", () => {
  // a: waiting, not started; b: started (progress 10 of 40). With abandon, both are priced solo, in calls
  // of one-member groups only (the prefix call has a two-member group).
  const soloCalls: string[][] = [];
  const model: LatencyModel = {
    predictMs(groups) {
      if (groups.every((g) => g.length === 1)) soloCalls.push(groups.map((g) => `${g[0]!.modelId}@${g[0]!.start}`));
      return Float64Array.from(groups, (g) => Math.max(...g.map((m) => m.end - m.start)));
    },
  };
  const a = state(query('a', 'a', 0, 0, 200), 20);
  const b = state(query('b', 'b', 1, 0, 300), 40, 10);
  const pools = [pool('a', 0, [a]), pool('b', 1, [b], b)];
  const ctx: DecisionContext = { nowMs: 0, inflightRemainingMs: 0, pools, model, abandon: true, ways: 2, thldMs: 0, drop: () => assert.fail('nothing is dropped') };
  const first = decideAbacus(ctx);
  assert.deepEqual(soloCalls, [['0@0', '1@10']], 'both priced in one call');
  assert.deepEqual(decideAbacus(ctx), first, 'the same plan again');
  assert.deepEqual(soloCalls, [['0@0', '1@10']], 'nothing priced solo again at the same progress');
  b.progress = 25;
  decideAbacus(ctx);
  assert.deepEqual(soloCalls, [['0@0', '1@10'], ['1@25']], 'b priced again after its progress moved, a still cached');
  assert.equal(b.remainderSoloMs, 15);
});
