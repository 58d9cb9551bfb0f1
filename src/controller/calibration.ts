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
 *
 * The ratio is kept per model (`scope: 'model'`, the default): measured on the H100 with the H200's predictor
 * (docs/results.md), resnet152 ran a median 7-15 % longer than predicted while vgg19 beside it ran 9-11 % shorter,
 * so one factor for both moved neither to the truth. A group is scaled by the largest factor among its members'
 * models (a conservative bound for a group barrier; with per-member barriers every group has one member), and a
 * finished group's ratio counts for each of its members' models. `scope: 'global'` keeps one factor for all.
 */
import type { GroupMember, LatencyModel } from './types.js';

/** One smoothed ratio and the factor applied for it. */
interface Ratio {
  ratio: number;
  applied: number;
  samples: number;
}

export type CalibrationScope = 'model' | 'global';

/** The key of the one ratio of `scope: 'global'`. */
const GLOBAL = -1;

export class CalibratedLatencyModel implements LatencyModel {
  static readonly ALPHA = 0.1;
  static readonly MIN = 0.5;
  static readonly MAX = 5;
  static readonly STEP = 0.02;
  private readonly ratios = new Map<number, Ratio>();
  private samples = 0;
  /** Whether any factor applied differs from 1 (else predictions pass through unscaled). */
  private scaled = false;
  readonly scope: CalibrationScope;

  constructor(readonly inner: LatencyModel, options: { scope?: CalibrationScope } = {}) {
    this.scope = options.scope ?? 'model';
  }

  /** The factor a model's predictions are scaled by now: its own, else the global one (groups observed without models), else 1. */
  factorFor(modelId: number): number {
    return ((this.scope === 'model' ? this.ratios.get(modelId) : undefined) ?? this.ratios.get(GLOBAL))?.applied ?? 1;
  }

  /** The factor a group's prediction is scaled by now: the largest of its members' models. */
  groupFactor(group: readonly Pick<GroupMember, 'modelId'>[]): number {
    if (!this.scaled) return 1;
    if (this.scope === 'global') return this.ratios.get(GLOBAL)?.applied ?? 1;
    let f = 0;
    for (const m of group) f = Math.max(f, this.factorFor(m.modelId));
    return group.length === 0 ? 1 : f;
  }

  /** The largest factor applied now over every model (1 before any group); decisions use `factorFor` / `groupFactor`. */
  get factor(): number {
    let f = 1;
    let any = false;
    for (const r of this.ratios.values()) {
      f = any ? Math.max(f, r.applied) : r.applied;
      any = true;
    }
    return f;
  }

  /** Groups observed so far. */
  get observed(): number {
    return this.samples;
  }

  predictMs(groups: readonly (readonly GroupMember[])[], out?: Float64Array): Float64Array {
    const raw = this.inner.predictMs(groups, out);
    if (!this.scaled) return raw;
    // scale the caller's buffer in place; never the inner model's own (it may keep it)
    const result = out !== undefined && raw === out ? raw : Float64Array.from(raw);
    for (let i = 0; i < groups.length && i < result.length; i++) result[i] = (result[i] as number) * this.groupFactor(groups[i] as readonly GroupMember[]);
    return result;
  }

  /**
   * A finished group: what it took, what the inner (uncalibrated) model predicted for it, and its members'
   * models (the ratio counts for each; without them, or with `scope: 'global'`, for the one global ratio).
   * True when a factor applied stepped.
   */
  observe(measuredMs: number, rawPredictedMs: number, modelIds: readonly number[] = []): boolean {
    if (!(rawPredictedMs > 0) || !(measuredMs >= 0) || !Number.isFinite(measuredMs)) return false;
    const sample = Math.min(CalibratedLatencyModel.MAX, Math.max(CalibratedLatencyModel.MIN, measuredMs / rawPredictedMs));
    this.samples++;
    const keys = this.scope === 'global' || modelIds.length === 0 ? [GLOBAL] : [...new Set(modelIds)];
    let stepped = false;
    for (const key of keys) {
      let r = this.ratios.get(key);
      if (!r) {
        r = { ratio: 1, applied: 1, samples: 0 };
        this.ratios.set(key, r);
      }
      r.samples++;
      // the mean of the groups so far until there are 1 / ALPHA of them, then the moving average: the first
      // groups set the factor at once instead of pulling it from 1 by a tenth of their error each
      r.ratio += Math.max(CalibratedLatencyModel.ALPHA, 1 / r.samples) * (sample - r.ratio);
      if (Math.abs(r.ratio / r.applied - 1) <= CalibratedLatencyModel.STEP) continue;
      r.applied = r.ratio;
      stepped = true;
    }
    if (stepped) this.scaled = [...this.ratios.values()].some((r) => r.applied !== 1);
    return stepped;
  }
}
