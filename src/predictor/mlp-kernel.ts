/**
 * The MLP forward pass behind `MlpPredictor.run`: the layers packed once (input standardisation folded into
 * the first layer, label scaling into the last), and two kernels over them with the same contract.
 *
 * - `TypeScriptMlpKernel`: the reference, plain TypeScript in Float64, four rows per weight load.
 * - `WasmSimdMlpKernel` (mlp-wasm.ts): WebAssembly f32x4 SIMD, the serving path wherever the runtime
 *   validates SIMD (Node 20 does); it agrees with the reference to float32 rounding.
 *
 * Both compute every row with the same operations whatever the batch, so a row's result never depends on
 * the batch it is in, and neither allocates on the hot path (buffers grow only past the reserve).
 */
import type { DenseLayerJson, LabelScaling, Standardization } from './bundle-format.js';

export interface PackedLayer {
  inputs: number;
  outputs: number;
  /** outputs × inputs, row-major (one row per output unit), Float64. */
  w: Float64Array;
  b: Float64Array;
}

export interface MlpKernel {
  /** What computes the forward pass, e.g. `wasm-simd-f32` (recorded in benchmarks). */
  readonly name: string;
  /** Preallocate buffers for batches of up to `rows` rows. */
  reserve(rows: number): void;
  /** out[r] = the network's output for row r of `features` (rows × input width, row-major), r < rows. */
  run(features: Float32Array, rows: number, out: Float64Array): void;
}

/**
 * Pack bundle-layout layers (kernel inputs × outputs, trained on standardised inputs and labels) into
 * output-major Float64 layers that take raw features and produce the label in its unit: x' = (x − mean) / std
 * is folded into the first layer's weights and bias, y = mean + std · y' into the last layer's.
 */
export function packMlpLayers(layers: readonly DenseLayerJson[], standardization: Standardization, label: LabelScaling): PackedLayer[] {
  return layers.map((l, i) => {
    const w = new Float64Array(l.inputs * l.outputs);
    const b = Float64Array.from(l.bias);
    for (let k = 0; k < l.inputs; k++) for (let j = 0; j < l.outputs; j++) w[j * l.inputs + k] = l.kernel[k * l.outputs + j] as number;
    if (i === 0) {
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

/** The reference kernel: plain TypeScript, Float64 throughout, ReLU on every layer but the last (one output). */
export class TypeScriptMlpKernel implements MlpKernel {
  readonly name = 'typescript-f64';
  private readonly maxUnits: number;
  private capacity = 0;
  private bufA = new Float64Array(0);
  private bufB = new Float64Array(0);

  constructor(private readonly packed: readonly PackedLayer[], private readonly width: number) {
    this.maxUnits = Math.max(width, ...packed.map((l) => l.outputs));
    this.reserve(16);
  }

  reserve(rows: number): void {
    if (rows <= this.capacity) return;
    this.capacity = rows;
    const padded = (rows + 3) & ~3; // room for a padded last block
    this.bufA = new Float64Array(padded * this.maxUnits);
    this.bufB = new Float64Array(padded * this.maxUnits);
  }

  run(features: Float32Array, rows: number, out: Float64Array): void {
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
}
