/**
 * Clocks for the serving loop. `MonotonicClock` is real time (`performance.now()`, timers); `VirtualClock`
 * is a discrete-event clock: time jumps straight to the earliest pending timer once every piece of work
 * that is ready has run, so a whole serving run is simulated in a fraction of its length and always
 * produces the same events in the same order.
 */
import { performance } from 'node:perf_hooks';
import type { Clock } from './types.js';

/** Real monotonic time. */
export class MonotonicClock implements Clock {
  nowMs(): number {
    return performance.now();
  }

  sleepUntil(untilMs: number, signal?: AbortSignal): Promise<void> {
    const delayMs = untilMs - performance.now();
    if (delayMs <= 0 || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      // setTimeout has 1-ms granularity and may wake a fraction early; the serving loop re-reads the clock
      // after every wake and sleeps again when it is still early.
      const timer = setTimeout(done, Math.ceil(delayMs));
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}

interface VirtualTimer {
  atMs: number;
  order: number;
  resolve: () => void;
  cancelled: boolean;
}

/**
 * Simulated time. `sleepUntil` registers a timer; the clock advances to the earliest timer only from a
 * `setImmediate` callback, that is, after every promise continuation that was ready has run. Timers with
 * equal times fire in the order they were registered. This requires that everything asynchronous in the
 * simulated system waits on this clock (no real I/O in between); the serving loop and `SimulatedRunner`
 * do only that.
 */
export class VirtualClock implements Clock {
  private now: number;
  private readonly heap: VirtualTimer[] = [];
  private order = 0;
  private pumpScheduled = false;
  /** Number of timers fired so far (for tests and diagnostics). */
  fired = 0;

  constructor(startMs = 0) {
    this.now = startMs;
  }

  nowMs(): number {
    return this.now;
  }

  sleepUntil(untilMs: number, signal?: AbortSignal): Promise<void> {
    if (untilMs <= this.now || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const timer: VirtualTimer = { atMs: untilMs, order: this.order++, resolve, cancelled: false };
      if (signal) {
        signal.addEventListener(
          'abort',
          () => {
            if (timer.cancelled) return;
            timer.cancelled = true;
            resolve();
          },
          { once: true },
        );
      }
      this.push(timer);
      this.schedulePump();
    });
  }

  /** Timers not yet fired or cancelled. */
  pendingTimers(): number {
    return this.heap.filter((t) => !t.cancelled).length;
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => this.pump());
  }

  private pump(): void {
    this.pumpScheduled = false;
    let timer = this.pop();
    while (timer !== undefined && timer.cancelled) timer = this.pop();
    if (timer === undefined) return;
    if (timer.atMs > this.now) this.now = timer.atMs;
    timer.cancelled = true;
    this.fired++;
    timer.resolve();
    if (this.heap.length > 0) this.schedulePump();
  }

  private less(a: VirtualTimer, b: VirtualTimer): boolean {
    return a.atMs < b.atMs || (a.atMs === b.atMs && a.order < b.order);
  }

  private push(timer: VirtualTimer): void {
    const h = this.heap;
    h.push(timer);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(h[i] as VirtualTimer, h[parent] as VirtualTimer)) break;
      [h[i], h[parent]] = [h[parent] as VirtualTimer, h[i] as VirtualTimer];
      i = parent;
    }
  }

  private pop(): VirtualTimer | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0];
    const last = h.pop() as VirtualTimer;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l] as VirtualTimer, h[m] as VirtualTimer)) m = l;
        if (r < h.length && this.less(h[r] as VirtualTimer, h[m] as VirtualTimer)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m] as VirtualTimer, h[i] as VirtualTimer];
        i = m;
      }
    }
    return top;
  }
}
