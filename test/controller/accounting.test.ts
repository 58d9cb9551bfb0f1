import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateTrace, zooOperatorCounts, zooServices } from '../../src/controller/load.js';
import { MemoryRunLog } from '../../src/controller/runlog.js';
import { AnalyticLatencyModel, latencyFromModel, simulateServing } from '../../src/controller/simulate.js';
import { POLICY_NAMES } from '../../src/controller/types.js';

const services = zooServices(['resnet101', 'resnet152', 'vgg19', 'bert']);
// About three times what the services can sustain: queues build up and queries expire.
const trace = generateTrace({ services, loadQps: 300, queries: 300, seed: 11, qos: { resnet101: 60, resnet152: 80, vgg19: 50, bert: 40 } });
const model = new AnalyticLatencyModel();

for (const policy of POLICY_NAMES) {
  for (const abandon of [false, true]) {
    test(`${policy}${abandon ? ' with abandon' : ''}: every issued query is completed, dropped or failed, exactly once`, async () => {
      const log = new MemoryRunLog();
      const { summary, runner } = await simulateServing({
        policy,
        trace,
        latencyModel: model,
        abandon,
        log,
        operatorCounts: zooOperatorCounts(),
        latency: latencyFromModel(model, { noise: 0.1, seed: 2 }),
        fail: (_members, index) => index % 37 === 36,
      });
      assert.equal(summary.issued, trace.length);
      assert.equal(summary.completed + summary.dropped + summary.failed, summary.issued);
      assert.equal(log.queries.length, trace.length);
      assert.deepEqual(log.queries.map((r) => r.id).sort(), trace.map((q) => q.id).sort());
      const counts = { ok: 0, late: 0, dropped: 0, failed: 0 };
      for (const r of log.queries) counts[r.status]++;
      assert.equal(counts.late, summary.late);
      assert.equal(counts.ok + counts.late, summary.completed);
      assert.equal(counts.dropped, summary.dropped);
      assert.equal(counts.failed, summary.failed);
      assert.ok(summary.failed > 0, 'the failing groups marked queries failed');
      if (abandon) assert.ok(summary.dropped > 0, 'overload with abandon drops queries');
      else assert.equal(summary.dropped, 0, 'nothing is dropped without abandon');
      assert.equal(summary.violationRatio, (summary.late + summary.dropped + summary.failed) / summary.issued);
      for (const r of log.queries) {
        if (r.status === 'ok' || r.status === 'late') {
          assert.ok(r.latencyMs !== null && r.startMs !== null && r.finishMs !== null);
          assert.ok(Math.abs(r.latencyMs - (r.finishMs - r.arrivalMs)) <= 0.0015, `latency ${r.latencyMs} vs finish - arrival`);
          assert.equal(r.status === 'ok', r.latencyMs <= r.qosMs + 1e-9);
          assert.ok(r.groups >= 1);
        } else assert.equal(r.latencyMs, null);
      }
      // Group log agrees with the runner's history (the runner itself rejects overlapping segments of a service).
      assert.equal(log.groups.length, runner.history.length);
      assert.equal(summary.groups, runner.history.length);
      if (policy !== 'concurrent') {
        for (let i = 1; i < runner.history.length; i++) {
          assert.ok((runner.history[i]?.launchMs as number) >= (runner.history[i - 1]?.finishMs as number) - 1e-9, 'serialized groups never overlap');
        }
      }
      if (policy !== 'abacus') assert.ok(runner.history.every((g) => g.members.length === 1 && g.members[0]?.start === 0), 'baselines run whole queries alone');
    });
  }
}
