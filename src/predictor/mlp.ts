/**
 * MLP inference in plain TypeScript (training is in mlp-train.ts, on tfjs). The weights are copied once
 * into Float64 arrays, output-major, with the input standardisation folded into the first layer and the
 * label scaling into the last, so a forward pass is only dense layers and ReLUs over preallocated buffers.
 * Rows are processed four at a time so that every weight loaded serves four rows.
 */
import { InputError } from '../common/errors.js';
import type { BundleFile, DenseLayerJson, LabelScaling, MlpModelJson, ModelJson, Standardization } from './bundle-format.js';
import type { FeatureSpec } from './features.js';
import { BasePredictor } from './predictor.js';

interface PackedLayer {
  inputs: number;
  outputs: number;
  /** outputs × inputs, row-major (one row per output unit). */
  w: Float64Array;
  b: Float64Array;
}

/**
 * y[r, j] = act(b[j] + Σ_k w[j, k] · x[r, k]) for rows [0, n4), n4 a multiple of 4; x is rows × nIn, y rows × nOut.
 * Every row's sum runs in the same order as in `denseRows`, so a row's result never depends on its batch.
 * (Kept apart from the remainder loop: V8 compiles the fused version about 30 % slower.)
 */
function denseBlocks(x: Float64Array, n4: number, nIn: number, w: Float64Array, b: Float64Array, nOut: number, y: Float64Array, relu: boolean): void {
  for (let r = 0; r < n4; r += 4) {
    const x0 = r * nIn;
    const x1 = x0 + nIn;
    const x2 = x1 + nIn;
    const x3 = x2 + nIn;
    const y0 = r * nOut;
    for (let j = 0; j < nOut; j++) {
      const wj = j * nIn;
      const bj = b[j] as number;
      let a0 = bj;
      let a1 = bj;
      let a2 = bj;
      let a3 = bj;
      for (let k = 0; k < nIn; k++) {
        const wk = w[wj + k] as number;
        a0 += wk * (x[x0 + k] as number);
        a1 += wk * (x[x1 + k] as number);
        a2 += wk * (x[x2 + k] as number);
        a3 += wk * (x[x3 + k] as number);
      }
      if (relu) {
        a0 = a0 > 0 ? a0 : 0;
        a1 = a1 > 0 ? a1 : 0;
        a2 = a2 > 0 ? a2 : 0;
        a3 = a3 > 0 ? a3 : 0;
      }
      y[y0 + j] = a0;
      y[y0 + nOut + j] = a1;
      y[y0 + 2 * nOut + j] = a2;
      y[y0 + 3 * nOut + j] = a3;
    }
  }
}

/** The same for rows [from, rows), one at a time. */
function denseRows(x: Float64Array, from: number, rows: number, nIn: number, w: Float64Array, b: Float64Array, nOut: number, y: Float64Array, relu: boolean): void {
  for (let r = from; r < rows; r++) {
    const x0 = r * nIn;
    const y0 = r * nOut;
    for (let j = 0; j < nOut; j++) {
      const wj = j * nIn;
      let a = b[j] as number;
      for (let k = 0; k < nIn; k++) a += (w[wj + k] as number) * (x[x0 + k] as number);
      y[y0 + j] = relu && a < 0 ? 0 : a;
    }
  }
}

/**
 * All rows: blocks of four, and a last partial block of two or three rows padded to four (the padding rows
 * of the buffers hold stale values whose results are never read; a block costs less than two single rows).
 */
function dense(x: Float64Array, rows: number, nIn: number, w: Float64Array, b: Float64Array, nOut: number, y: Float64Array, relu: boolean): void {
  const rem = rows & 3;
  const blocked = rem >= 2 ? rows - rem + 4 : rows - rem;
  if (blocked > 0) denseBlocks(x, blocked, nIn, w, b, nOut, y, relu);
  if (blocked < rows) denseRows(x, blocked, rows, nIn, w, b, nOut, y, relu);
}

export class MlpPredictor extends BasePredictor {
  readonly modeling = 'mlp' as const;
  private readonly packed: PackedLayer[];
  private readonly maxUnits: number;
  private capacity = 0;
  private bufA = new Float64Array(0);
  private bufB = new Float64Array(0);

  /** `layers` in bundle layout (kernel inputs × outputs, tfjs order), trained on standardised inputs/labels. */
  constructor(
    spec: FeatureSpec,
    standardization: Standardization,
    label: LabelScaling,
    readonly layers: readonly DenseLayerJson[],
    name?: string,
  ) {
    super(spec, standardization, label, name);
    let inputs = this.width;
    for (const [i, l] of layers.entries()) {
      if (l.inputs !== inputs || l.kernel.length !== l.inputs * l.outputs || l.bias.length !== l.outputs) {
        throw new InputError(`mlp layer ${i}: ${l.inputs}→${l.outputs} with ${l.kernel.length} weights does not follow ${inputs} inputs`);
      }
      inputs = l.outputs;
    }
    if (layers.length === 0 || inputs !== 1) throw new InputError('mlp must end in one output');
    this.packed = layers.map((l, i) => {
      const w = new Float64Array(l.inputs * l.outputs);
      const b = Float64Array.from(l.bias);
      for (let k = 0; k < l.inputs; k++) for (let j = 0; j < l.outputs; j++) w[j * l.inputs + k] = l.kernel[k * l.outputs + j] as number;
      if (i === 0) {
        // fold x' = (x - mean) / std into the first layer
        for (let j = 0; j < l.outputs; j++) {
          let shift = 0;
          for (let k = 0; k < l.inputs; k++) {
            const scaled = (w[j * l.inputs + k] as number) / (standardization.std[k] as number);
            w[j * l.inputs + k] = scaled;
            shift += scaled * (standardization.mean[k] as number);
          }
          b[j] = (b[j] as number) - shift;
        }
      }
      if (i === layers.length - 1) {
        for (let t = 0; t < w.length; t++) w[t] = (w[t] as number) * label.std;
        for (let j = 0; j < b.length; j++) b[j] = (b[j] as number) * label.std + label.mean;
      }
      return { inputs: l.inputs, outputs: l.outputs, w, b };
    });
    this.maxUnits = Math.max(this.width, ...layers.map((l) => l.outputs));
    this.reserve(16);
  }

  /** Preallocate buffers for batches of up to `rows` rows (grows on demand otherwise). */
  reserve(rows: number): void {
    if (rows <= this.capacity) return;
    this.capacity = rows;
    const padded = (rows + 3) & ~3; // room for a padded last block
    this.bufA = new Float64Array(padded * this.maxUnits);
    this.bufB = new Float64Array(padded * this.maxUnits);
  }

  protected run(features: Float32Array, rows: number, out: Float64Array): void {
    if (rows > this.capacity) this.reserve(Math.max(rows, 2 * this.capacity));
    let x = this.bufA;
    let y = this.bufB;
    const n = rows * this.width;
    for (let t = 0; t < n; t++) x[t] = features[t] as number;
    const last = this.packed.length - 1;
    for (let i = 0; i < last; i++) {
      const l = this.packed[i] as PackedLayer;
      dense(x, rows, l.inputs, l.w, l.b, l.outputs, y, true);
      const t = x;
      x = y;
      y = t;
    }
    const l = this.packed[last] as PackedLayer;
    const w = l.w;
    const nIn = l.inputs;
    const b0 = l.b[0] as number;
    for (let r = 0; r < rows; r++) {
      let a = b0;
      const x0 = r * nIn;
      for (let k = 0; k < nIn; k++) a += (w[k] as number) * (x[x0 + k] as number);
      out[r] = a;
    }
  }

  protected modelJson(): { model: ModelJson; files: BundleFile[] } {
    const model: MlpModelJson = {
      kind: 'mlp',
      activation: 'relu',
      layers: this.layers.map((l) => ({ inputs: l.inputs, outputs: l.outputs, kernel: [...l.kernel], bias: [...l.bias] })),
    };
    return { model, files: [] };
  }

  /** Number of trainable parameters. */
  get parameterCount(): number {
    return this.layers.reduce((n, l) => n + l.kernel.length + l.bias.length, 0);
  }
}
