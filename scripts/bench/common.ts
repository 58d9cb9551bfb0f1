/**
 * What the microbenchmarks share: flags, timing helpers, GC counting, and the result shape that
 * scripts/run-bench.mjs reads (`targets`: each a threshold in µs, the measured value and pass/fail).
 */
import { loadavg } from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';
import { percentileSorted } from '../../src/common/stats.js';

export function numberArg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isFinite(value)) throw new Error(`--${name} needs a number, got ${String(process.argv[i + 1])}`);
  return value;
}

export function stringArg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const value = process.argv[i + 1];
  if (value === undefined || value.startsWith('--')) throw new Error(`--${name} needs a value`);
  return value;
}

/** A target a benchmark checks: `valueUs <= thresholdUs`. */
export interface BenchTarget {
  name: string;
  thresholdUs: number;
  valueUs: number;
  pass: boolean;
}

export function target(name: string, thresholdUs: number, valueUs: number): BenchTarget {
  return { name, thresholdUs, valueUs, pass: valueUs <= thresholdUs };
}

export interface TimingStats {
  p50Us: number;
  p99Us: number;
  maxUs: number;
  meanUs: number;
  samples: number;
}

/** Percentiles of samples in µs (sorts `samplesUs` in place). */
export function timingStats(samplesUs: Float64Array | number[]): TimingStats {
  const sorted = samplesUs instanceof Float64Array ? samplesUs.sort() : Float64Array.from(samplesUs).sort();
  let sum = 0;
  for (const s of sorted) sum += s;
  const round = (v: number): number => Math.round(v * 1000) / 1000;
  return {
    p50Us: round(percentileSorted(sorted, 50)),
    p99Us: round(percentileSorted(sorted, 99)),
    maxUs: round(sorted[sorted.length - 1] ?? Number.NaN),
    meanUs: round(sum / sorted.length),
    samples: sorted.length,
  };
}

export function loadAverage1m(): number {
  return Math.round((loadavg()[0] as number) * 100) / 100;
}

/**
 * Count garbage collections (and their total pause) while `body` runs. GC entries are delivered
 * asynchronously, so the count is read after a turn of the event loop.
 */
export async function countGc<T>(body: () => T): Promise<{ result: T; gcCount: number; gcPauseMs: number }> {
  let gcCount = 0;
  let gcPauseMs = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gcCount++;
      gcPauseMs += entry.duration;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  const result = body();
  await new Promise((resolve) => setTimeout(resolve, 20));
  observer.disconnect();
  return { result, gcCount, gcPauseMs: Math.round(gcPauseMs * 1000) / 1000 };
}

export function printResult(result: object): void {
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
