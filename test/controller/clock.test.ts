import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MonotonicClock, VirtualClock } from '../../src/controller/clock.js';

test('virtual clock: timers fire in time order, ties in registration order, without real waiting', async () => {
  const clock = new VirtualClock();
  const order: string[] = [];
  const t0 = performance.now();
  await Promise.all([
    clock.sleepUntil(1e6).then(() => order.push(`c@${clock.nowMs()}`)),
    clock.sleepUntil(50).then(() => order.push(`a@${clock.nowMs()}`)),
    clock.sleepUntil(50).then(() => order.push(`b@${clock.nowMs()}`)),
    clock.sleepUntil(-5).then(() => order.push(`now@${clock.nowMs()}`)),
  ]);
  assert.deepEqual(order, ['now@0', 'a@50', 'b@50', 'c@1000000']);
  assert.ok(performance.now() - t0 < 1000);
});

test('virtual clock: a cancelled timer resolves at once and does not move time', async () => {
  const clock = new VirtualClock(100);
  const stop = new AbortController();
  const long = clock.sleepUntil(500, stop.signal);
  await clock.sleepUntil(120);
  stop.abort();
  await long;
  assert.equal(clock.nowMs(), 120);
  assert.equal(clock.pendingTimers(), 0);
  await clock.sleepUntil(130);
  assert.equal(clock.nowMs(), 130);
});

test('monotonic clock: sleeps until the time, or until aborted', async () => {
  const clock = new MonotonicClock();
  const t0 = clock.nowMs();
  await clock.sleepUntil(t0 + 15);
  assert.ok(clock.nowMs() - t0 >= 14, `slept ${clock.nowMs() - t0} ms`);
  const stop = new AbortController();
  const t1 = clock.nowMs();
  setTimeout(() => stop.abort(), 5);
  await clock.sleepUntil(t1 + 10_000, stop.signal);
  assert.ok(clock.nowMs() - t1 < 5_000);
});
