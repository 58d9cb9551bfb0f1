/**
 * Building blocks shared by the zoo's model definitions: seeded weight generation and the layers the
 * torchvision / BERT reference models are made of (convolution, batch norm, linear, pooling), each as
 * opset-17 nodes on a `GraphBuilder`.
 *
 * Weights are drawn from a uniform distribution with the variance the reference initialisation asks for
 * (He for convolutions, Xavier-like for linear layers, N(0, 0.02²) for BERT). Uniform values from a
 * counter-based stream keep generating the 140 M weights of VGG fast, and every tensor is handed to
 * `b.weight()` (which streams it to the sink) as soon as it exists, so a build never holds more than one
 * weight tensor.
 */
import { attr, type AttrValue, type Dim, type GraphBuilder } from '../../onnx/index.js';
import type { Rng } from '../../common/rng.js';
import type { ZooGraph } from '../definition.js';

const UINT32_RANGE = 4294967296;

/**
 * `count` values uniform on [-a, a) with standard deviation `std` (a = std·√3). Two draws from `rng` (a
 * start and an odd step) key a Weyl sequence passed through the murmur3 finaliser, which fills the
 * tensor: the same values for the same seed, about twice as fast as one `rng` call per value on VGG's
 * 100 M-element layer, and a different sequence for every tensor.
 */
export function uniformValues(rng: Rng, count: number, std: number): Float32Array {
  const half = std * Math.sqrt(3);
  const step = (2 * half) / UINT32_RANGE;
  const values = new Float32Array(count);
  let counter = rng.nextUint32();
  const weylStep = rng.nextUint32() | 1;
  for (let i = 0; i < count; i++) {
    counter = (counter + weylStep) | 0;
    let z = Math.imul(counter ^ (counter >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    values[i] = ((z ^ (z >>> 16)) >>> 0) * step - half;
  }
  return values;
}

/** `count` values uniform around `center` with standard deviation `std`. */
export function jitteredValues(rng: Rng, count: number, center: number, std: number): Float32Array {
  const values = uniformValues(rng, count, std);
  for (let i = 0; i < count; i++) values[i] = (values[i] as number) + center;
  return values;
}

export function filledValues(count: number, value: number): Float32Array {
  return new Float32Array(count).fill(value);
}

/** Output size of a convolution or pooling window along one axis. */
export function windowOutputSize(size: number, kernel: number, stride: number, padBegin: number, padEnd: number): number {
  const out = Math.floor((size + padBegin + padEnd - kernel) / stride) + 1;
  if (out < 1) throw new Error(`a ${kernel}-wide window with stride ${stride} does not fit an input of ${size}`);
  return out;
}

/** Spatial height and width of a feature map. */
export interface Spatial {
  height: number;
  width: number;
}

export interface ConvSpec {
  /** Weight name prefix, e.g. `layer1.0.conv1`. */
  name: string;
  inChannels: number;
  outChannels: number;
  /** [height, width] of the kernel. */
  kernel: readonly [number, number];
  stride?: number;
  /** [top/bottom, left/right] zero padding. */
  padding?: readonly [number, number];
  bias: boolean;
}

/** A convolution with He-scaled weights (std √(2/fan_in)); returns its output tensor. */
export function conv2d(b: GraphBuilder, rng: Rng, x: string, spec: ConvSpec): string {
  const [kh, kw] = spec.kernel;
  const stride = spec.stride ?? 1;
  const [ph, pw] = spec.padding ?? [0, 0];
  const fanIn = spec.inChannels * kh * kw;
  const dims = [spec.outChannels, spec.inChannels, kh, kw];
  const weight = b.weight(`${spec.name}.weight`, dims, uniformValues(rng, spec.outChannels * fanIn, Math.sqrt(2 / fanIn)));
  const inputs = [x, weight];
  if (spec.bias) inputs.push(b.weight(`${spec.name}.bias`, [spec.outChannels], uniformValues(rng, spec.outChannels, 0.01)));
  return b.op('Conv', inputs, {
    kernel_shape: attr.ints([kh, kw]),
    strides: attr.ints([stride, stride]),
    pads: attr.ints([ph, pw, ph, pw]),
  });
}

/** Spatial size after `conv2d` with `spec`. */
export function convOutput(input: Spatial, spec: Pick<ConvSpec, 'kernel' | 'stride' | 'padding'>): Spatial {
  const stride = spec.stride ?? 1;
  const [ph, pw] = spec.padding ?? [0, 0];
  return {
    height: windowOutputSize(input.height, spec.kernel[0], stride, ph, ph),
    width: windowOutputSize(input.width, spec.kernel[1], stride, pw, pw),
  };
}

export interface BatchNormSpec {
  name: string;
  channels: number;
  epsilon: number;
  /** Centre of the scale (gamma) values; each channel gets a ±10 % jitter around it. */
  gamma: number;
}

/**
 * Inference-mode batch normalisation. Scale and bias are parameters; the running mean (0) and variance
 * (1) are buffers, so they are stored but not counted.
 */
export function batchNorm(b: GraphBuilder, rng: Rng, x: string, spec: BatchNormSpec): string {
  const c = spec.channels;
  const scale = b.weight(`${spec.name}.weight`, [c], jitteredValues(rng, c, spec.gamma, spec.gamma * 0.1 / Math.sqrt(3)));
  const bias = b.weight(`${spec.name}.bias`, [c], uniformValues(rng, c, 0.01));
  const mean = b.weight(`${spec.name}.running_mean`, [c], filledValues(c, 0), false);
  const variance = b.weight(`${spec.name}.running_var`, [c], filledValues(c, 1), false);
  return b.op('BatchNormalization', [x, scale, bias, mean, variance], { epsilon: attr.float(spec.epsilon) });
}

/**
 * One node writing its single output to `output` when given (an operator boundary such as `layer1.0.out`
 * or the graph output), otherwise to a fresh name.
 */
export function nodeTo(b: GraphBuilder, opType: string, inputs: readonly string[], attrs: Record<string, AttrValue>, output?: string): string {
  return output === undefined ? b.op(opType, inputs, attrs) : (b.node(opType, inputs, attrs, [output])[0] as string);
}

export function relu(b: GraphBuilder, x: string, output?: string): string {
  return nodeTo(b, 'Relu', [x], {}, output);
}

/** Max pooling with a square window; `ceil_mode` off as in torchvision. */
export function maxPool(b: GraphBuilder, x: string, kernel: number, stride: number, padding = 0, output?: string): string {
  return nodeTo(b, 'MaxPool', [x], {
    kernel_shape: attr.ints([kernel, kernel]),
    strides: attr.ints([stride, stride]),
    pads: attr.ints([padding, padding, padding, padding]),
  }, output);
}

/** Average pooling with a square window; padded cells count in the mean (torch's default). */
export function averagePool(b: GraphBuilder, x: string, kernel: number, stride: number, padding = 0): string {
  return b.op('AveragePool', [x], {
    kernel_shape: attr.ints([kernel, kernel]),
    strides: attr.ints([stride, stride]),
    pads: attr.ints([padding, padding, padding, padding]),
    count_include_pad: attr.int(1),
  });
}

/**
 * torch's AdaptiveAvgPool2d to `target`×`target` for an input whose size is a multiple of the target:
 * an AveragePool whose window and stride are the ratio (a 1×1 window when the sizes are equal).
 */
export function adaptiveAveragePool(b: GraphBuilder, x: string, input: Spatial, target: number): string {
  if (input.height % target !== 0 || input.width % target !== 0) {
    throw new Error(`adaptive pooling from ${input.height}×${input.width} to ${target}×${target} needs a whole ratio`);
  }
  const kh = input.height / target;
  const kw = input.width / target;
  return b.op('AveragePool', [x], { kernel_shape: attr.ints([kh, kw]), strides: attr.ints([kh, kw]) });
}

export interface LinearSpec {
  name: string;
  inFeatures: number;
  outFeatures: number;
  /** Standard deviation of the weights (default Xavier: √(2/(in+out))). */
  std?: number;
}

/** A fully connected layer on a [batch, in] tensor: Gemm with a PyTorch-layout [out, in] weight. */
export function linear(b: GraphBuilder, rng: Rng, x: string, spec: LinearSpec, output?: string): string {
  const std = spec.std ?? Math.sqrt(2 / (spec.inFeatures + spec.outFeatures));
  const weight = b.weight(`${spec.name}.weight`, [spec.outFeatures, spec.inFeatures], uniformValues(rng, spec.outFeatures * spec.inFeatures, std));
  const bias = b.weight(`${spec.name}.bias`, [spec.outFeatures], uniformValues(rng, spec.outFeatures, 0.01));
  return nodeTo(b, 'Gemm', [x, weight, bias], { transB: attr.int(1) }, output);
}

/** `channels / divisor` for narrow (tiny-scale) models; the division must be whole. */
export function scaleChannels(channels: number, divisor: number): number {
  const scaled = channels / divisor;
  if (!Number.isInteger(scaled) || scaled < 1) throw new Error(`${channels} channels do not divide by ${divisor}`);
  return scaled;
}

/** Symbolic batch dimension of every zoo model. */
export const BATCH = 'batch';

/** Tensor names every image model uses. */
export const IMAGE_INPUT = 'input';
export const MODEL_OUTPUT = 'output';

/** Declare the image input (`input`, batch×3×size×size) and the logits output (`output`, batch×classes). */
export function declareImageModel(b: GraphBuilder, imageSize: number, classes: number): ZooGraph {
  const inputShape: Dim[] = [BATCH, 3, imageSize, imageSize];
  const outputShape: Dim[] = [BATCH, classes];
  b.input(IMAGE_INPUT, inputShape);
  b.output(MODEL_OUTPUT, outputShape);
  return {
    inputs: [{ name: IMAGE_INPUT, dtype: b.dtype, shape: inputShape, role: 'activation' }],
    outputs: [{ name: MODEL_OUTPUT, dtype: b.dtype, shape: outputShape }],
    reference: { [BATCH]: 1 },
  };
}

/** Feature-map dims [batch, channels, height, width] of an operator boundary. */
export function featureDims(channels: number, spatial: Spatial): Dim[] {
  return [BATCH, channels, spatial.height, spatial.width];
}
