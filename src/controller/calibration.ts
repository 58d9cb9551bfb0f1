/**
 * Run-time calibration of a latency model: a predictor is trained on a profile taken at another time, and a
 * machine that runs slower or faster than then (other load, another host, another onnxruntime build) makes every
 * prediction off by about the same factor. Measured on 2 cores (docs/results.md, issue 17): groups ran a median
 * 43 % longer than the committed CPU predictor said, so the controller packed groups that missed. The serving
 * loop therefore scales every prediction by a smoothed ratio of measured to predicted group latency over the
 * groups this run has finished. The smoothed ratio is the mean over the first 1 / `ALPHA` groups, then moves by
 * `ALPHA` of each group's error (a bias-corrected moving average; a group whose ratio is out of [MIN, MAX] counts
 * as that bound); the factor applied follows it only once they differ by
 * more than `STEP`, so predictions stay exactly the same between such steps and a plan made ahead of time stays
 * valid (the serving loop re-plans when the factor steps).
 */
import type { GroupMember, LatencyModel } from './types.js';

export class CalibratedLatencyModel implements LatencyModel {
  static readonly ALPHA = 0.1;
  static readonly MIN = 0.5;
  static readonly MAX = 5;
  static readonly STEP = 0.02;
  private ratio = 1;
  private applied = 1;
  private samples = 0;

  constructor(readonly inner: LatencyModel) {}

  /** The factor every prediction is scaled by now. */
  get factor(): number {
    return this.applied;
  }

  /** Groups observed so far. */
  get observed(): number {
    return this.samples;
  }

  predictMs(groups: readonly (readonly GroupMember[])[], out?: Float64Array): Float64Array {
    const raw = this.inner.predictMs(groups, out);
    if (this.applied === 1) return raw;
    // scale the caller's buffer in place; never the inner model's own (it may keep it)
    const result = out !== undefined && raw === out ? raw : Float64Array.from(raw);
    for (let i = 0; i < result.length; i++) result[i] = (result[i] as number) * this.applied;
    return result;
  }

  /** A finished group: what it took, and what the inner (uncalibrated) model predicted for it. True when the factor stepped. */
  observe(measuredMs: number, rawPredictedMs: number): boolean {
    if (!(rawPredictedMs > 0) || !(measuredMs >= 0) || !Number.isFinite(measuredMs)) return false;
    const sample = Math.min(CalibratedLatencyModel.MAX, Math.max(CalibratedLatencyModel.MIN, measuredMs / rawPredictedMs));
    this.samples++;
    // the mean of the groups so far until there are 1 / ALPHA of them, then the moving average: the first
    // groups set the factor at once instead of pulling it from 1 by a tenth of their error each
    this.ratio += Math.max(CalibratedLatencyModel.ALPHA, 1 / this.samples) * (sample - this.ratio);
    if (Math.abs(this.ratio / this.applied - 1) <= CalibratedLatencyModel.STEP) return false;
    this.applied = this.ratio;
    return true;
  }
}
