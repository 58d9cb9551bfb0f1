/**
 * One `Predictor` interface over several backends (the shape of onnxruntime-common's InferenceSession over
 * its backends): a batched, allocation-free `predictMs` on encoded feature rows, a convenience for member
 * lists, `save` to a bundle folder and `dispose`. Backends: mlp.ts, linear.ts (lr and linear SVR),
 * rbf.ts (libsvm ε-SVR). `loadPredictor` (bundle.ts) opens a bundle as the right backend.
 */
import { InputError } from '../common/errors.js';
import {
  type BundleFile,
  type BundleJson,
  type LabelScaling,
  type LabelTransform,
  type ModelJson,
  type Modeling,
  type Standardization,
  type TrainingRecord,
  BUNDLE_FORMAT,
  BUNDLE_VERSION,
  writeBundle,
} from './bundle-format.js';
import type { EvaluationReport } from './evaluate.js';
import type { TrainedRanges } from './ranges.js';
import { type FeatureSpec, type GroupMember, encodeGroup, featureCount, featureNames } from './features.js';

export interface Predictor {
  readonly modeling: Modeling;
  readonly spec: FeatureSpec;
  /** Features per row (`featureCount(spec)`). */
  readonly width: number;
  /** Bundle name ("all" or a combination). */
  name: string;
  training: TrainingRecord | null;
  evaluation: EvaluationReport | null;
  /** What the training rows covered (bundle version 3); null for older bundles. */
  ranges: TrainedRanges | null;
  /** 'log': the backend predicts log-latency and predictMs returns its exp. */
  labelTransform: LabelTransform;
  /**
   * Predict the latency in ms of `rows` encoded groups (row-major, `rows × width` values of `features`).
   * Writes into `out` (length >= rows) and returns it; with `out` given, nothing is allocated.
   */
  predictMs(features: Float32Array, rows: number, out?: Float64Array): Float64Array;
  /** Encode and predict groups of members (allocates; for convenience, not the hot path). */
  predictGroupsMs(groups: ReadonlyArray<ArrayLike<GroupMember>>): Float64Array;
  /** Write the bundle folder (`abacus.predictor` v3). */
  save(dir: string): void;
  /** The bundle.json content (without writing). */
  toBundleJson(): BundleJson;
  /** Free native memory held by the backend (libsvm); the predictor is unusable afterwards. */
  dispose(): void;
}

/** Population mean and std per column over the given rows; std 1 for a (near-)constant column. */
export function computeStandardization(features: Float32Array, rows: number, width: number): Standardization {
  const mean = new Array<number>(width).fill(0);
  const std = new Array<number>(width).fill(0);
  if (rows === 0) throw new InputError('cannot standardise an empty training set');
  for (let r = 0; r < rows; r++) for (let k = 0; k < width; k++) mean[k] = (mean[k] as number) + (features[r * width + k] as number);
  for (let k = 0; k < width; k++) mean[k] = (mean[k] as number) / rows;
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < width; k++) {
      const d = (features[r * width + k] as number) - (mean[k] as number);
      std[k] = (std[k] as number) + d * d;
    }
  }
  for (let k = 0; k < width; k++) {
    const s = Math.sqrt((std[k] as number) / rows);
    std[k] = s > 1e-9 * Math.max(1, Math.abs(mean[k] as number)) ? s : 1;
  }
  return { mean, std };
}

/** Standardised copy of the rows (Float64, row-major). */
export function standardizeRows(features: Float32Array, rows: number, width: number, st: Standardization): Float64Array {
  const out = new Float64Array(rows * width);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < width; k++) out[r * width + k] = ((features[r * width + k] as number) - (st.mean[k] as number)) / (st.std[k] as number);
  }
  return out;
}

export function labelScaling(labelsMs: Float64Array, rows: number): LabelScaling {
  let m = 0;
  for (let i = 0; i < rows; i++) m += labelsMs[i] as number;
  m /= rows;
  let v = 0;
  for (let i = 0; i < rows; i++) v += ((labelsMs[i] as number) - m) ** 2;
  const s = Math.sqrt(v / rows);
  return { unit: 'ms', mean: m, std: s > 1e-9 * Math.max(1, Math.abs(m)) ? s : 1 };
}

export const IDENTITY_LABEL: LabelScaling = { unit: 'ms', mean: 0, std: 1 };

/** Shared plumbing of the backends: checks, the convenience API and saving. */
export abstract class BasePredictor implements Predictor {
  abstract readonly modeling: Modeling;
  readonly width: number;
  name: string;
  training: TrainingRecord | null = null;
  evaluation: EvaluationReport | null = null;
  ranges: TrainedRanges | null = null;
  /** What the backend's output is: the latency in ms ('none') or its logarithm ('log'). */
  labelTransform: LabelTransform;

  constructor(
    readonly spec: FeatureSpec,
    readonly standardization: Standardization,
    readonly label: LabelScaling,
    name = 'all',
  ) {
    this.width = featureCount(spec);
    this.name = name;
    this.labelTransform = label.transform ?? 'none';
    if (standardization.mean.length !== this.width || standardization.std.length !== this.width) {
      throw new InputError(`standardisation has ${standardization.mean.length} features, the spec ${this.width}`);
    }
  }

  /** Backend forward pass; inputs checked. */
  protected abstract run(features: Float32Array, rows: number, out: Float64Array): void;
  protected abstract modelJson(): { model: ModelJson; files: BundleFile[] };

  predictMs(features: Float32Array, rows: number, out?: Float64Array): Float64Array {
    if (!Number.isInteger(rows) || rows < 0 || rows * this.width > features.length) {
      throw new RangeError(`predictMs: ${rows} rows of ${this.width} features do not fit ${features.length} values`);
    }
    const result = out ?? new Float64Array(rows);
    if (result.length < rows) throw new RangeError(`predictMs: out has ${result.length} slots for ${rows} rows`);
    if (rows > 0) {
      this.run(features, rows, result);
      if (this.labelTransform === 'log') for (let r = 0; r < rows; r++) result[r] = Math.exp(result[r] as number);
    }
    return result;
  }

  predictGroupsMs(groups: ReadonlyArray<ArrayLike<GroupMember>>): Float64Array {
    const features = new Float32Array(groups.length * this.width);
    for (let r = 0; r < groups.length; r++) encodeGroup(this.spec, groups[r] as ArrayLike<GroupMember>, features, r * this.width);
    return this.predictMs(features, groups.length);
  }

  toBundleJson(): BundleJson {
    return this.bundle().json;
  }

  private bundle(): { json: BundleJson; files: BundleFile[] } {
    const { model, files } = this.modelJson();
    const json: BundleJson = {
      format: BUNDLE_FORMAT,
      // version 3 carries the trained ranges; a predictor without them (fitted outside trainPredictor) is written as version 2
      version: this.ranges ? BUNDLE_VERSION : 2,
      name: this.name,
      modeling: this.modeling,
      featureSpec: {
        modelIds: [...this.spec.modelIds],
        modelNames: [...this.spec.modelNames],
        slots: this.spec.slots,
        ...(this.spec.encoding !== undefined && this.spec.encoding !== 1 && this.spec.work
          ? { encoding: this.spec.encoding, work: this.spec.work.map((w) => ({ operatorGflops: [...w.operatorGflops], referenceSeq: w.referenceSeq })) }
          : {}),
      },
      featureNames: featureNames(this.spec),
      standardization: { mean: [...this.standardization.mean], std: [...this.standardization.std] },
      label: { unit: this.label.unit, mean: this.label.mean, std: this.label.std, transform: this.labelTransform },
      model,
      training: this.training,
      evaluation: this.evaluation,
      ...(this.ranges ? { ranges: this.ranges } : {}),
    };
    return { json, files };
  }

  save(dir: string): void {
    const { json, files } = this.bundle();
    writeBundle(dir, json, files);
  }

  dispose(): void {}
}
