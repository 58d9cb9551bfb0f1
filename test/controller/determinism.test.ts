import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateTrace, zooOperatorCounts, zooServices } from '../../src/controller/load.js';
import { MemoryRunLog } from '../../src/controller/runlog.js';
import { AnalyticLatencyModel, latencyFromModel, simulateServing } from '../../src/controller/simulate.js';
import { POLICY_NAMES } from '../../src/controller/types.js';

test('a simulated run is deterministic: the same trace and policy give identical logs', async () => {
  const services = zooServices(['resnet101', 'vgg16', 'bert']);
  const model = new AnalyticLatencyModel();
  for (const policy of POLICY_NAMES) {
    const once = async () => {
      const trace = generateTrace({ services, loadQps: 150, queries: 150, seed: 13, qos: 70 });
      const log = new MemoryRunLog();
      const { summary } = await simulateServing({ policy, trace, latencyModel: model, abandon: true, log, operatorCounts: zooOperatorCounts(), latency: latencyFromModel(model, { noise: 0.1, seed: 5 }) });
      const { decisionP50Us: _p50, decisionP99Us: _p99, reactionP50Us: _r50, reactionP99Us: _r99, ...timeless } = summary;
      return { queries: log.queries, groups: log.groups.map(({ decisionUs: _us, ...g }) => g), timeless };
    };
    assert.deepEqual(await once(), await once(), policy);
  }
});
