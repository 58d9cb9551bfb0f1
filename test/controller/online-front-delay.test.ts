import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AnalyticLatencyModel, DelayTail, OnlineQueue, SimulatedRunner, VirtualClock, latencyFromModel, runServing, zooOperatorCounts, zooServices,
  type PolicyName,
} from '../../src/controller/index.js';

const services = zooServices(['resnet152', 'vgg19']);
const model = new AnalyticLatencyModel();

test('a delay tail is 0 before samples, follows them with its spread, and relaxes to 0 without them', () => {
  const tail = new DelayTail();
  assert.equal(tail.valueMs(0), 0);
  for (let i = 0; i < 200; i++) tail.observe(i, 10);
  const steady = tail.valueMs(200);
  assert.ok(steady > 9.9 && steady < 10.5, `constant samples: ${steady}`);
  const noisy = new DelayTail();
  for (let i = 0; i < 400; i++) noisy.observe(i, i % 2 ? 0 : 20);
  assert.ok(noisy.valueMs(400) > 25, `the spread counts: mean 10, tail ${noisy.valueMs(400)}`);
  const relaxed = tail.valueMs(200 + DelayTail.RELAX_HALF_LIFE_MS);
  assert.ok(Math.abs(relaxed - steady / 2) < 0.1, `half a half-life later: ${relaxed} against ${steady / 2}`);
  tail.observe(300, Number.NaN);
  tail.observe(300, -1);
  assert.ok(Math.abs(tail.valueMs(200) - steady) < 1e-9, 'NaN and negative samples are ignored');
});

/** A queue served by a simulated run, with one resnet152 and one vgg19 query completed (their solo prices known). */
async function servedQueue(policy: PolicyName) {
  const clock = new VirtualClock();
  const queue = new OnlineQueue(services, { loopLagSampleMs: 0 });
  const runner = new SimulatedRunner({ clock, operatorCounts: zooOperatorCounts(), latency: latencyFromModel(model) });
  const run = runServing({ policy, trace: [], online: queue, latencyModel: model, clock, runner });
  const first = await queue.submit({ model: 'resnet152', batch: 8, seq: 0, qosMs: 10_000 });
  const second = await queue.submit({ model: 'vgg19', batch: 8, seq: 0, qosMs: 10_000 });
  assert.equal(first.status, 'ok');
  assert.equal(second.status, 'ok');
  const soloMs = first.status === 'ok' ? (first.row.latencyMs as number) : Number.NaN;
  return { clock, queue, run, soloMs, row: first.status === 'ok' ? first.row : null };
}

for (const policy of ['abacus', 'fcfs'] as const) {
  test(`${policy}: admission before the body prices the requests still being read (per model: ${policy === 'abacus' ? 'its own' : 'every model'})`, async () => {
    const { queue, run, soloMs } = await servedQueue(policy);
    const qosMs = 3.5 * soloMs;
    assert.equal(queue.precheck('resnet152', qosMs), null, 'nothing ahead: admitted');
    const own = queue.precheck('resnet152', qosMs, new Map([['resnet152', 5]]));
    assert.equal(own?.reason, 'predicted-miss', 'five resnet152 requests being read ahead of it: refused');
    const other = queue.precheck('resnet152', qosMs, new Map([['vgg19', 20]]));
    if (policy === 'abacus') assert.equal(other, null, 'twenty vgg19 requests being read do not delay it when services overlap');
    else assert.equal(other?.reason, 'predicted-miss', 'one query at a time: every model being read is ahead');
    queue.close();
    await run;
  });
}

test("the reply's measured delay is added to admission's prediction", async () => {
  const { clock, queue, run, soloMs, row } = await servedQueue('abacus');
  assert.ok(row);
  const qosMs = 2 * soloMs;
  assert.equal(queue.precheck('resnet152', qosMs), null, 'no reply delay yet: admitted');
  // replies that left 3 solo latencies after their queries finished
  for (let i = 0; i < 100; i++) queue.replied({ ...row, finishMs: clock.nowMs() - 3 * soloMs });
  assert.ok(queue.frontDelaysMs().replyMs > 2.5 * soloMs, `reply delay ${queue.frontDelaysMs().replyMs}`);
  assert.equal(queue.precheck('resnet152', qosMs)?.reason, 'predicted-miss', 'refused before the body');
  const submitted = await queue.submit({ model: 'resnet152', batch: 8, seq: 0, qosMs });
  assert.equal(submitted.status === 'rejected' && submitted.reason, 'predicted-miss', 'and at submission');
  queue.close();
  await run;
});

test('the event loop lag is sampled while a run is attached, and the sampler stops with it', async () => {
  const { MonotonicClock } = await import('../../src/controller/clock.js');
  const clock = new MonotonicClock();
  const queue = new OnlineQueue(services, { loopLagSampleMs: 2 });
  const runner = new SimulatedRunner({ clock, operatorCounts: zooOperatorCounts(), latency: () => 1 });
  const run = runServing({ policy: 'abacus', trace: [], online: queue, latencyModel: model, clock, runner });
  await new Promise((r) => setTimeout(r, 10));
  // block the loop for 30 ms: the next sample is about that late
  const until = performance.now() + 30;
  while (performance.now() < until) { /* block */ }
  await new Promise((r) => setTimeout(r, 10));
  const lag = queue.frontDelaysMs().loopLagMs;
  assert.ok(lag > 1, `a 30 ms block shows in the loop lag tail: ${lag} ms`);
  queue.close();
  await run;
  assert.throws(() => new OnlineQueue(services, { loopLagSampleMs: -1 }), /loop lag sample period/);
});
