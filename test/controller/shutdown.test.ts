import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../../src/controller/clock.js';
import { generateTrace, zooOperatorCounts, zooServices } from '../../src/controller/load.js';
import { MemoryRunLog } from '../../src/controller/runlog.js';
import { runServing } from '../../src/controller/serving.js';
import { AnalyticLatencyModel, SimulatedRunner, latencyFromModel } from '../../src/controller/simulate.js';
import { POLICY_NAMES } from '../../src/controller/types.js';

test('shutdown stops issuing queries and drains the issued ones', async () => {
  const services = zooServices(['resnet152', 'vgg19']);
  const trace = generateTrace({ services, loadQps: 200, queries: 400, seed: 2, qos: 80 });
  const model = new AnalyticLatencyModel();
  for (const policy of POLICY_NAMES) {
    const clock = new VirtualClock();
    const runner = new SimulatedRunner({ clock, operatorCounts: zooOperatorCounts(), latency: latencyFromModel(model) });
    const stop = new AbortController();
    void clock.sleepUntil(500).then(() => stop.abort());
    const log = new MemoryRunLog();
    const summary = await runServing({ policy, runner, latencyModel: model, trace, clock, log, signal: stop.signal });
    const issued = trace.filter((q) => q.arrivalMs <= 500).length;
    assert.equal(summary.issued, issued, policy);
    assert.equal(log.queries.length, issued);
    assert.equal(summary.completed + summary.dropped + summary.failed, issued);
    assert.ok(summary.completed > 0);
    assert.ok(log.queries.every((r) => r.arrivalMs <= 500));
    assert.ok(clock.nowMs() > 500, 'kept serving after the stop to drain the queue');
    assert.equal(runner.busyServices().length, 0);
  }
});
