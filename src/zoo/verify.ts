/**
 * Chain verification: run the whole model, then the chain of its operators one range at a time, on the
 * CPU execution provider with the same seeded random input, and report the largest absolute difference
 * between the two outputs, and whether the output is finite and not all zero.
 */
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { createCpuSession, firstLine, randomTensor, readOnnxModel, type Feeds } from '../onnx/index.js';
import { InputError } from '../common/errors.js';
import { Rng } from '../common/rng.js';
import { concreteDims, type Manifest } from './manifest.js';
import { operatorRangeModel } from './segments.js';

export interface VerifyResult {
  operators: number;
  /** Largest |whole - chain| over the output elements. */
  maxAbsDiff: number;
  outputFinite: boolean;
  outputNonZero: boolean;
  outputShape: number[];
  dims: Record<string, number>;
}

/** IEEE half-precision bits of 1.0. */
const FLOAT16_ONE = 0x3c00;

/** Seeded random feeds for every input of a manifest at the given symbolic dim values. */
export function manifestFeeds(manifest: Manifest, dims: Record<string, number>, seed: number): Feeds {
  const rng = new Rng(seed);
  const feeds: Feeds = {};
  for (const input of manifest.inputs) {
    const shape = concreteDims(input.shape, dims, manifest.name);
    if (input.role === 'side' && input.dtype.startsWith('float')) {
      // Side inputs such as attention masks: ones (attend everywhere), the value real inputs carry.
      const count = shape.reduce((a, b) => a * b, 1);
      feeds[input.name] = input.dtype === 'float16'
        ? new ort.Tensor('float16', new Uint16Array(count).fill(FLOAT16_ONE), shape)
        : new ort.Tensor('float32', new Float32Array(count).fill(1), shape);
    } else {
      feeds[input.name] = randomTensor(input.dtype, shape, () => rng.next());
    }
  }
  return feeds;
}

function valuesOf(t: ort.Tensor): Float32Array {
  if (t.type === 'float32') return t.data as Float32Array;
  if (t.type === 'float16') {
    const bits = t.data as Uint16Array;
    const out = new Float32Array(bits.length);
    for (let i = 0; i < bits.length; i++) out[i] = halfToFloat(bits[i] as number);
    return out;
  }
  return Float32Array.from(t.data as ArrayLike<number>, Number);
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (m / 1024);
  if (e === 31) return m ? Number.NaN : s * Number.POSITIVE_INFINITY;
  return s * 2 ** (e - 15) * (1 + m / 1024);
}

export async function verifyChain(modelDir: string, manifest: Manifest, dims: Record<string, number> = manifest.reference, seed = 0): Promise<VerifyResult> {
  const loaded = readOnnxModel(join(modelDir, manifest.model.file));
  const feeds = manifestFeeds(manifest, dims, seed);
  const options: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: 'all', intraOpNumThreads: 2 };
  let whole: ort.InferenceSession;
  try {
    whole = await createCpuSession(loaded.model, loaded.baseDir, options);
  } catch (err) {
    throw new InputError(`${loaded.path}: onnxruntime cannot load the model (${firstLine(err)})`);
  }
  const outName = manifest.outputs[0]!.name;
  const wholeOut = (await whole.run(feeds))[outName]!;
  await whole.release();

  const activation = manifest.inputs.find((i) => i.role === 'activation')!.name;
  let current = feeds[activation]!;
  for (let i = 0; i < manifest.operators.length; i++) {
    const range = operatorRangeModel(loaded, manifest, i, i + 1);
    const session = await createCpuSession(range.model, loaded.baseDir, options);
    const rangeFeeds: Feeds = { [range.inputs[0]!]: current };
    for (const side of range.inputs.slice(1)) rangeFeeds[side] = feeds[side]!;
    current = (await session.run(rangeFeeds))[range.output]!;
    await session.release();
  }
  const a = valuesOf(wholeOut);
  const b = valuesOf(current);
  if (a.length !== b.length) throw new Error(`${manifest.name}: chain output has ${b.length} elements, whole model ${a.length}`);
  let maxAbsDiff = 0;
  let finite = true;
  let nonZero = false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    if (!Number.isFinite(x)) finite = false;
    if (x !== 0) nonZero = true;
    const d = Math.abs(x - (b[i] as number));
    if (!(d <= maxAbsDiff)) maxAbsDiff = Number.isNaN(d) ? Number.POSITIVE_INFINITY : d;
  }
  return { operators: manifest.operators.length, maxAbsDiff, outputFinite: finite, outputNonZero: nonZero, outputShape: [...wholeOut.dims], dims };
}
