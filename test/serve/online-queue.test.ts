import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AnalyticLatencyModel, MemoryRunLog, OnlineQueue, POLICY_NAMES, SimulatedRunner, VirtualClock, generateTrace, latencyFromModel, runServing, zooOperatorCounts, zooServices,
  type OnlineOutcome, type QueryLogRow, type TraceQuery,
} from '../../src/controller/index.js';

const services = zooServices(['resnet152', 'vgg19']);
const model = new AnalyticLatencyModel();

/** Submit the trace's queries online at their arrival times (virtual clock); close the queue after the last. */
function submitAll(clock: VirtualClock, queue: OnlineQueue, trace: readonly TraceQuery[]): Promise<OnlineOutcome[]> {
  return (async () => {
    const outcomes: Promise<OnlineOutcome>[] = [];
    for (const q of trace) {
      await clock.sleepUntil(q.arrivalMs);
      outcomes.push(queue.submit({ model: q.model, batch: q.batch, seq: q.seq, qosMs: q.qosMs }));
    }
    queue.close();
    return Promise.all(outcomes);
  })();
}

const strip = (rows: readonly QueryLogRow[]): Omit<QueryLogRow, 'id'>[] => rows.map(({ id: _id, ...rest }) => rest);

test('online submissions at the trace times are served exactly as the trace is, for every policy', async () => {
  const trace = generateTrace({ services, loadQps: 120, queries: 150, seed: 4, qos: 80 });
  for (const policy of POLICY_NAMES) {
    const offlineClock = new VirtualClock();
    const offlineLog = new MemoryRunLog();
    const offline = await runServing({
      policy, trace, latencyModel: model, abandon: true, clock: offlineClock, log: offlineLog,
      runner: new SimulatedRunner({ clock: offlineClock, operatorCounts: zooOperatorCounts(), latency: latencyFromModel(model, { noise: 0.1, seed: 3 }) }),
    });
    const clock = new VirtualClock();
    const queue = new OnlineQueue(services, { predictAdmission: false, maxQueue: 10_000 });
    const log = new MemoryRunLog();
    const run = runServing({
      policy, trace: [], online: queue, latencyModel: model, abandon: true, clock, log,
      runner: new SimulatedRunner({ clock, operatorCounts: zooOperatorCounts(), latency: latencyFromModel(model, { noise: 0.1, seed: 3 }) }),
    });
    const outcomes = await submitAll(clock, queue, trace);
    const online = await run;
    assert.deepEqual(strip(log.queries), strip(offlineLog.queries), policy);
    assert.equal(online.issued, trace.length);
    assert.equal(online.completed + online.dropped + online.failed, online.issued);
    assert.equal(online.late, offline.late);
    // every submitter got its query's row
    const byStatus = new Map<string, number>();
    for (const o of outcomes) byStatus.set(o.status, (byStatus.get(o.status) ?? 0) + 1);
    assert.equal((byStatus.get('ok') ?? 0) + (byStatus.get('late') ?? 0), online.completed, policy);
    assert.equal(byStatus.get('dropped') ?? 0, online.dropped, policy);
  }
});

test('admission: a full queue and a predicted miss are rejected at once and never issued', async () => {
  const clock = new VirtualClock();
  const queue = new OnlineQueue(services, { maxQueue: 3 });
  const runner = new SimulatedRunner({ clock, operatorCounts: zooOperatorCounts(), latency: latencyFromModel(model) });
  const run = runServing({ policy: 'fcfs', trace: [], online: queue, latencyModel: model, clock, runner });
  // below the latency of one solo query: predicted to miss even with nothing queued
  const hopeless = await queue.submit({ model: 'vgg19', batch: 32, seq: 0, qosMs: 1 });
  const burst = Array.from({ length: 6 }, () => queue.submit({ model: 'resnet152', batch: 8, seq: 0, qosMs: 1000 }));
  assert.equal(hopeless.status, 'rejected');
  assert.equal(hopeless.status === 'rejected' && hopeless.reason, 'predicted-miss');
  const results = await Promise.all(burst);
  assert.deepEqual(results.map((r) => r.status), ['ok', 'ok', 'ok', 'rejected', 'rejected', 'rejected']);
  assert.ok(results.slice(3).every((r) => r.status === 'rejected' && r.reason === 'queue-full'));
  queue.close();
  const closed = await queue.submit({ model: 'resnet152', batch: 8, seq: 0, qosMs: 1000 });
  assert.equal(closed.status === 'rejected' && closed.reason, 'closed');
  const summary = await run;
  assert.equal(summary.issued, 3);
  assert.equal(summary.completed, 3);
  const status = queue.status();
  assert.deepEqual(status?.rejected, { closed: 1, 'queue-full': 3, 'predicted-miss': 1 });
  assert.equal(status?.submitted, 3);
  assert.equal(status?.issued, 3);
});

test('the predicted finish counts the work queued ahead: a burst is cut where the backlog passes the QoS', async () => {
  const clock = new VirtualClock();
  const queue = new OnlineQueue(services, { maxQueue: 1000 });
  const runner = new SimulatedRunner({ clock, operatorCounts: zooOperatorCounts(), latency: latencyFromModel(model) });
  const run = runServing({ policy: 'fcfs', trace: [], online: queue, latencyModel: model, clock, runner });
  const soloMs = model.predictMs([[{ modelId: 2, start: 0, end: 52, batch: 8, seq: 0 }]])[0] as number;
  const qosMs = soloMs * 4.5;
  const results = await Promise.all(Array.from({ length: 10 }, () => queue.submit({ model: 'resnet152', batch: 8, seq: 0, qosMs })));
  queue.close();
  await run;
  // the k-th submission waits for k-1 queries before its own: 4 fit in 4.5 solo times, the 5th is predicted at 5
  assert.deepEqual(results.map((r) => r.status), ['ok', 'ok', 'ok', 'ok', 'rejected', 'rejected', 'rejected', 'rejected', 'rejected', 'rejected']);
  assert.ok(results.every((r) => r.status !== 'late'), 'no admitted query finishes late when the model is exact');
});

test('a submitter that goes away has its query dropped; one that stays gets its outcome', async () => {
  const clock = new VirtualClock();
  const queue = new OnlineQueue(services, { predictAdmission: false });
  const runner = new SimulatedRunner({ clock, operatorCounts: zooOperatorCounts(), latency: latencyFromModel(model) });
  const log = new MemoryRunLog();
  const run = runServing({ policy: 'abacus', trace: [], online: queue, latencyModel: model, clock, runner, log });
  const gone = new AbortController();
  const first = queue.submit({ model: 'resnet152', batch: 8, seq: 0, qosMs: 500 });
  const second = queue.submit({ model: 'resnet152', batch: 8, seq: 0, qosMs: 500, signal: gone.signal });
  const third = queue.submit({ model: 'vgg19', batch: 8, seq: 0, qosMs: 500 });
  await clock.sleepUntil(1);
  gone.abort();
  const [a, b, c] = await Promise.all([first, second, third]);
  queue.close();
  const summary = await run;
  assert.equal(a.status, 'ok');
  assert.equal(b.status, 'dropped');
  assert.equal(b.status === 'dropped' && b.cancelled, true);
  assert.equal(c.status, 'ok');
  assert.equal(summary.issued, 3);
  assert.equal(summary.dropped, 1);
  assert.equal(log.queries.length, 3);
});

test('a failed group answers its submitters with the error', async () => {
  const clock = new VirtualClock();
  const queue = new OnlineQueue(services);
  const runner = new SimulatedRunner({ clock, operatorCounts: zooOperatorCounts(), latency: latencyFromModel(model), fail: (_m, index) => index === 0 });
  const run = runServing({ policy: 'fcfs', trace: [], online: queue, latencyModel: model, clock, runner });
  const a = await queue.submit({ model: 'vgg19', batch: 4, seq: 0, qosMs: 500 });
  const b = await queue.submit({ model: 'vgg19', batch: 4, seq: 0, qosMs: 500 });
  queue.close();
  const summary = await run;
  assert.equal(a.status, 'failed');
  assert.match(a.status === 'failed' ? a.error : '', /simulated failure of group 0/);
  assert.equal(b.status, 'ok');
  assert.equal(summary.failed, 1);
  assert.equal(summary.completed, 1);
});

test('bad submissions are input errors; a trace may not use online ids', async () => {
  const queue = new OnlineQueue(services);
  assert.throws(() => queue.submit({ model: 'nope', batch: 1, seq: 0, qosMs: 10 }), /unknown model 'nope'/);
  assert.throws(() => queue.submit({ model: 'vgg19', batch: 0, seq: 0, qosMs: 10 }), /batch/);
  assert.throws(() => queue.submit({ model: 'vgg19', batch: 1, seq: 0, qosMs: -1 }), /QoS/);
  const clock = new VirtualClock();
  const runner = new SimulatedRunner({ clock, operatorCounts: zooOperatorCounts(), latency: latencyFromModel(model) });
  await assert.rejects(
    runServing({ policy: 'fcfs', trace: [{ id: 'online-1', arrivalMs: 0, model: 'vgg19', modelId: 5, batch: 1, seq: 0, qosMs: 10 }], online: queue, clock, runner }),
    /reserved for online queries/,
  );
});
