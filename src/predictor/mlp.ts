/**
 * MLP inference without tfjs (training is in mlp-train.ts, on tfjs). The weights are packed once, with the
 * input standardisation folded into the first layer and the label scaling into the last, so a forward pass
 * is only dense layers and ReLUs over preallocated buffers. It runs on a WebAssembly f32x4 SIMD kernel
 * (mlp-wasm.ts) where the runtime has SIMD, else on the plain-TypeScript Float64 reference kernel
 * (mlp-kernel.ts); `kernel` says which.
 */
import { InputError } from '../common/errors.js';
import type { BundleFile, DenseLayerJson, LabelScaling, MlpModelJson, ModelJson, Standardization } from './bundle-format.js';
import type { FeatureSpec } from './features.js';
import { type MlpKernel, TypeScriptMlpKernel, packMlpLayers } from './mlp-kernel.js';
import { WasmSimdMlpKernel, wasmSimdAvailable } from './mlp-wasm.js';
import { BasePredictor } from './predictor.js';

export class MlpPredictor extends BasePredictor {
  readonly modeling = 'mlp' as const;
  private readonly forward: MlpKernel;

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
    const packed = packMlpLayers(layers, standardization, label);
    this.forward = wasmSimdAvailable() ? new WasmSimdMlpKernel(packed, this.width) : new TypeScriptMlpKernel(packed, this.width);
  }

  /** The forward pass's implementation: `wasm-simd-f32`, or `typescript-f64` without WebAssembly SIMD. */
  get kernel(): string {
    return this.forward.name;
  }

  /** Preallocate buffers for batches of up to `rows` rows (grows on demand otherwise; 16 from the start). */
  reserve(rows: number): void {
    this.forward.reserve(rows);
  }

  protected run(features: Float32Array, rows: number, out: Float64Array): void {
    this.forward.run(features, rows, out);
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
