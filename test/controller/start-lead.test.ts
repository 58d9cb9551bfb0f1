import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateTrace, zooOperatorCounts, zooServices } from '../../src/controller/load.js';
import { MemoryRunLog } from '../../src/controller/runlog.js';
import { AnalyticLatencyModel, simulateServing } from '../../src/controller/simulate.js';
import type { TraceQuery } from '../../src/controller/types.js';
import { query } from './helpers.js';

test('finishes count from the start signal the runner used: launch + start lead + member time', async () => {
  const trace: TraceQuery[] = [query('q0', 'a', 0, 0, 1000), query('q1', 'a', 0, 0, 1000)];
  const log = new MemoryRunLog();
  await simulateServing({ policy: 'fcfs', trace, operatorCounts: { a: 5 }, latency: () => 10, startLeadMs: 2, log });
  assert.deepEqual(log.groups.map((g) => [g.launchMs, g.startLeadMs, g.finishMs]), [[0, 2, 12], [12, 2, 24]]);
  assert.deepEqual(log.queries.map((q) => q.latencyMs).sort(), [12, 24]);
  // a runner that reports no lead: as before
  const plain = new MemoryRunLog();
  await simulateServing({ policy: 'fcfs', trace, operatorCounts: { a: 5 }, latency: () => 10, log: plain });
  assert.deepEqual(plain.groups.map((g) => [g.launchMs, g.startLeadMs, g.finishMs]), [[0, 0, 10], [10, 0, 20]]);
});

test('abacus budgets the start lead: each group is predicted to start a lead after launch and still meet its deadline', async () => {
  const services = zooServices(['resnet101', 'resnet152', 'vgg19', 'bert']);
  const trace = generateTrace({ services, loadQps: 140, queries: 300, seed: 8, qos: { resnet101: 70, resnet152: 90, vgg19: 60, bert: 50 } });
  const model = new AnalyticLatencyModel();
  const leadMs = 4;
  const log = new MemoryRunLog();
  await simulateServing({
    policy: 'abacus', trace, latencyModel: model, abandon: true, log, operatorCounts: zooOperatorCounts(), startLeadMs: leadMs,
    latency: (members) => model.predictMs([members.map((m) => ({ modelId: m.modelId, start: m.start, end: m.end, batch: m.batch, seq: m.seq }))])[0]!,
  });
  const deadline = new Map(trace.map((q) => [q.id, q.arrivalMs + q.qosMs]));
  // the first group is decided before any lead is known; every later one budgets it
  for (const g of log.groups.slice(1)) {
    const urgent = Math.min(...g.members.map((m) => deadline.get(m.id) as number));
    assert.equal(g.startLeadMs, leadMs);
    assert.ok(g.launchMs + leadMs + g.predictedMs! <= urgent + 2e-3, `group ${g.index} launched at ${g.launchMs}, +${leadMs} lead, predicted ${g.predictedMs}, deadline ${urgent}`);
  }
  // with exact predictions and the lead budgeted, no completed query is late
  const late = log.queries.filter((q) => q.status === 'late');
  assert.equal(late.length, 0, `late: ${late.map((q) => q.id).join(', ')}`);
});
