/**
 * `svm --kernel rbf`: an ε-SVR with a Gaussian kernel, trained by libsvm (libsvm-js, wasm) on
 * standardised features and standardised labels (so ε and γ do not depend on the units). The model text
 * is a file of the bundle; predictions go straight to libsvm's C predictor through a preallocated heap
 * buffer, without the per-call arrays of libsvm-js's `predictOne`.
 */
import { InputError, errorMessage } from '../common/errors.js';
import { type BundleFile, type LabelScaling, type LibsvmModelJson, type ModelJson, type Standardization, sha256Hex } from './bundle-format.js';
import type { FeatureSpec } from './features.js';
import type { TrainingData } from './linear.js';
import { type Libsvm, loadLibsvm } from './libsvm.js';
import { BasePredictor, computeStandardization, labelScaling, standardizeRows } from './predictor.js';

export const LIBSVM_MODEL_FILE = 'libsvm.model';

export interface RbfSvrOptions {
  /** Cost C (default 1). */
  C?: number;
  /** Tube width in standardised label units (default 0.1, libsvm's default). */
  epsilon?: number;
  /** Kernel width γ (default 1 / features). */
  gamma?: number;
  /** libsvm's stopping tolerance (default 0.001). */
  tolerance?: number;
  /** Kernel cache, MB (default 100). */
  cacheSizeMb?: number;
}

export class RbfSvrPredictor extends BasePredictor {
  readonly modeling = 'svm' as const;
  private model: number;
  private readonly input: number;

  constructor(
    private readonly lib: Libsvm,
    spec: FeatureSpec,
    standardization: Standardization,
    label: LabelScaling,
    readonly modelText: string,
    name?: string,
  ) {
    super(spec, standardization, label, name);
    try {
      this.model = lib.deserializeModel(modelText);
    } catch (err) {
      throw new InputError(`libsvm model text could not be loaded (${errorMessage(err)})`);
    }
    this.input = lib.module._malloc(8 * this.width);
  }

  get supportVectors(): number {
    return this.lib.supportVectorCount(this.model);
  }

  protected run(features: Float32Array, rows: number, out: Float64Array): void {
    if (!this.model) throw new Error('RbfSvrPredictor: used after dispose()');
    const mod = this.lib.module;
    const width = this.width;
    const mean = this.standardization.mean;
    const std = this.standardization.std;
    for (let r = 0; r < rows; r++) {
      const heap = mod.HEAPF64; // re-read: the wasm memory may have grown
      const base = this.input >> 3;
      for (let k = 0; k < width; k++) heap[base + k] = ((features[r * width + k] as number) - (mean[k] as number)) / (std[k] as number);
      out[r] = this.label.mean + this.label.std * mod._libsvm_predict_one(this.model, this.input, width);
    }
  }

  protected modelJson(): { model: ModelJson; files: BundleFile[] } {
    const model: LibsvmModelJson = { kind: 'libsvm', kernel: 'rbf', file: LIBSVM_MODEL_FILE, sha256: sha256Hex(this.modelText), chars: this.modelText.length };
    return { model, files: [{ name: LIBSVM_MODEL_FILE, data: this.modelText }] };
  }

  override dispose(): void {
    if (this.model) {
      this.lib.freeModel(this.model);
      this.lib.module._free(this.input);
      this.model = 0;
    }
  }
}

/** Train an RBF ε-SVR. */
export async function fitRbfSvr(spec: FeatureSpec, data: TrainingData, width: number, options: RbfSvrOptions = {}): Promise<{ predictor: RbfSvrPredictor; fit: Record<string, number> }> {
  if (data.rows === 0) throw new InputError('cannot fit an SVR on no rows');
  const lib = await loadLibsvm();
  const st = computeStandardization(data.features, data.rows, width);
  const lab = labelScaling(data.labelsMs, data.rows);
  const xs = standardizeRows(data.features, data.rows, width, st);
  const samples: number[][] = [];
  const labels: number[] = [];
  for (let r = 0; r < data.rows; r++) {
    samples.push(Array.from(xs.subarray(r * width, (r + 1) * width)));
    labels.push(((data.labelsMs[r] as number) - lab.mean) / lab.std);
  }
  const C = options.C ?? 1;
  const epsilon = options.epsilon ?? 0.1;
  const gamma = options.gamma ?? 1 / width;
  const started = performance.now();
  const svm = new lib.SVM({
    type: lib.SVM.SVM_TYPES.EPSILON_SVR,
    kernel: lib.SVM.KERNEL_TYPES.RBF,
    cost: C,
    epsilon,
    gamma,
    tolerance: options.tolerance ?? 0.001,
    cacheSize: options.cacheSizeMb ?? 100,
    shrinking: true,
    quiet: true,
  });
  let text: string;
  try {
    svm.train(samples, labels);
    text = svm.serializeModel();
  } finally {
    svm.free();
  }
  // serve from the serialised text, so a saved and reloaded bundle predicts exactly the same
  const predictor = new RbfSvrPredictor(lib, spec, st, lab, text);
  return { predictor, fit: { C, epsilon, gamma, supportVectors: predictor.supportVectors, seconds: (performance.now() - started) / 1000 } };
}
