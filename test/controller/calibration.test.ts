import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CalibratedLatencyModel } from '../../src/controller/calibration.js';
import { generateTrace, zooOperatorCounts, zooServices } from '../../src/controller/load.js';
import { AnalyticLatencyModel, latencyFromModel, latencyPerMemberFromModel, simulateServing } from '../../src/controller/simulate.js';
import { MemoryRunLog } from '../../src/controller/runlog.js';
import type { GroupMember, LatencyModel } from '../../src/controller/types.js';

const member: GroupMember = { modelId: 1, start: 0, end: 35, batch: 8, seq: 0 };

test('the calibrated model scales predictions by the smoothed measured/predicted ratio, and never the inner model\'s own buffer', () => {
  const kept = Float64Array.of(10);
  const inner: LatencyModel = { predictMs: (_g, out) => (out ? (out.set([10]), out) : kept) };
  const m = new CalibratedLatencyModel(inner);
  assert.equal(m.predictMs([[member]])[0], 10, 'factor 1 before any group');
  assert.equal(m.observe(10.1, 10), false, 'a 1 % error moves the ratio but not the factor applied');
  assert.equal(m.predictMs([[member]])[0], 10);
  for (let i = 0; i < 60; i++) m.observe(15, 10);
  assert.ok(Math.abs(m.factor - 1.5) < 0.04, `factor ${m.factor} converges to 1.5 (within one step)`);
  assert.ok(Math.abs((m.predictMs([[member]])[0] as number) - 15) < 0.6);
  assert.equal(kept[0], 10, 'the inner model\'s buffer is not scaled');
  const out = new Float64Array(1);
  assert.equal(m.predictMs([[member]], out), out, 'a caller buffer is filled and scaled in place');
  m.observe(1e6, 10); // an outlier counts as the bound, not as itself
  assert.ok(m.factor <= 1.5 + CalibratedLatencyModel.ALPHA * (CalibratedLatencyModel.MAX - 1.5) + 1e-9);
  m.observe(Number.NaN, 10);
  m.observe(5, 0);
  assert.equal(m.observed, 62, 'non-finite measurements and non-positive predictions are ignored');
});

test('on a machine 1.5x slower than the predictor was trained on, calibration cuts abacus\'s violations', async () => {
  const services = zooServices(['resnet101', 'vgg19']);
  const trace = generateTrace({ services, loadQps: 40, queries: 300, seed: 4, qos: { resnet101: 80, vgg19: 80 } });
  const model = new AnalyticLatencyModel();
  const slower: LatencyModel = { predictMs: (g) => model.predictMs(g).map((ms) => ms * 1.5) };
  const run = (calibrate: boolean) =>
    simulateServing({ policy: 'abacus', trace, latencyModel: model, abandon: true, calibrate, operatorCounts: zooOperatorCounts(), latency: latencyFromModel(slower, { noise: 0.05, seed: 2 }) });
  const [plain, calibrated] = [await run(false), await run(true)];
  const v = (s: typeof plain) => s.summary.violationRatio;
  assert.ok(v(calibrated) < v(plain), `violations: calibrated ${v(calibrated)}, plain ${v(plain)}`);
});

test('with calibration every abacus group is still predicted, at its launch, to meet its most urgent deadline (plans and cached prices are re-made when the factor steps)', async () => {
  const services = zooServices(['resnet101', 'resnet152', 'vgg19', 'bert']);
  const trace = generateTrace({ services, loadQps: 140, queries: 400, seed: 8, qos: { resnet101: 70, resnet152: 90, vgg19: 60, bert: 50 } });
  const model = new AnalyticLatencyModel();
  const slower: LatencyModel = { predictMs: (g) => model.predictMs(g).map((ms) => ms * 1.3) };
  const log = new MemoryRunLog();
  await simulateServing({ policy: 'abacus', trace, latencyModel: model, abandon: true, calibrate: true, log, operatorCounts: zooOperatorCounts(), latency: latencyFromModel(slower, { noise: 0.15, seed: 3 }) });
  const deadline = new Map(trace.map((q) => [q.id, q.arrivalMs + q.qosMs]));
  for (const g of log.groups) {
    const urgent = Math.min(...g.members.map((m) => deadline.get(m.id) as number));
    assert.ok(g.predictedMs !== null && g.launchMs + g.predictedMs <= urgent + 2e-3, `group ${g.index} launched at ${g.launchMs}, predicted ${g.predictedMs}, deadline ${urgent}`);
  }
  const last = log.groups[log.groups.length - 1];
  assert.ok(last?.calibrationFactor !== undefined && last.calibrationFactor > 1.15, `the factor followed the slower machine (${last?.calibrationFactor})`);
});

test('the first groups set the calibration factor at once (their mean), not a tenth of their error each', () => {
  const inner: LatencyModel = { predictMs: (groups) => Float64Array.from(groups.map(() => 10)) };
  const m = new CalibratedLatencyModel(inner);
  assert.equal(m.observe(17, 10), true);
  assert.ok(Math.abs(m.factor - 1.7) < 1e-9, `one group 1.7x slower: factor ${m.factor}`);
  m.observe(15, 10);
  assert.ok(Math.abs(m.factor - 1.6) < 1e-9, `the mean of two groups: factor ${m.factor}`);
});

test('per-model calibration: two models off by opposite factors each get their own; a group takes the largest', () => {
  const inner: LatencyModel = { predictMs: (groups) => Float64Array.from(groups.map(() => 10)) };
  const a: GroupMember = { modelId: 2, start: 0, end: 52, batch: 8, seq: 0 };
  const b: GroupMember = { modelId: 5, start: 0, end: 22, batch: 8, seq: 0 };
  const perModel = new CalibratedLatencyModel(inner);
  const global = new CalibratedLatencyModel(inner, { scope: 'global' });
  for (let i = 0; i < 80; i++) {
    for (const m of [perModel, global]) {
      m.observe(11.5, 10, [2]);
      m.observe(9, 10, [5]);
    }
  }
  assert.ok(Math.abs(perModel.factorFor(2) - 1.15) < 0.03 && Math.abs(perModel.factorFor(5) - 0.9) < 0.03, `per model: ${perModel.factorFor(2)}, ${perModel.factorFor(5)}`);
  assert.ok(Math.abs((perModel.predictMs([[a]])[0] as number) - 11.5) < 0.3);
  assert.ok(Math.abs((perModel.predictMs([[b]])[0] as number) - 9) < 0.3);
  assert.equal(perModel.predictMs([[a, b]])[0], 10 * perModel.factorFor(2), 'a group is scaled by its largest member factor');
  assert.equal(perModel.factorFor(1), 1, 'a model never observed is not scaled');
  assert.ok(Math.abs(global.factorFor(2) - global.factorFor(5)) < 1e-12 && global.factorFor(2) > 0.95 && global.factorFor(2) < 1.1, `global: one factor ${global.factorFor(2)}`);
  assert.equal(global.observed, 160);
});

test('in serving, per-model calibration predicts each model closer than one global factor when the models are off in opposite directions', async () => {
  const services = zooServices(['resnet152', 'vgg19']);
  const trace = generateTrace({ services, loadQps: 120, queries: 500, seed: 5, qos: { resnet152: 150, vgg19: 120 } });
  const model = new AnalyticLatencyModel();
  const off: Record<number, number> = { 2: 1.15, 5: 0.88 }; // resnet152 slower than predicted, vgg19 faster (as measured on the H100)
  const truth: LatencyModel = { predictMs: (groups) => model.predictMs(groups).map((ms, i) => ms * Math.max(...(groups[i] as readonly GroupMember[]).map((m) => off[m.modelId] ?? 1))) };
  const meanAbsError = async (scope: 'model' | 'global') => {
    const log = new MemoryRunLog();
    await simulateServing({ policy: 'abacus', barrier: 'member', trace, latencyModel: model, abandon: true, calibrate: true, calibrationScope: scope, log, operatorCounts: zooOperatorCounts(), latency: latencyPerMemberFromModel(truth, { noise: 0.03, seed: 4 }) });
    const errs: number[] = [];
    for (const g of log.groups.slice(60)) if (g.status === 'ok' && g.predictedFinalMs) errs.push(Math.abs(g.groupMs / g.predictedFinalMs - 1));
    return errs.reduce((s, e) => s + e, 0) / errs.length;
  };
  const [perModel, global] = [await meanAbsError('model'), await meanAbsError('global')];
  assert.ok(perModel < 0.7 * global, `mean |measured/predicted - 1|: per model ${perModel.toFixed(3)}, global ${global.toFixed(3)}`);
});
