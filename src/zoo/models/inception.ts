/**
 * Inception v3 as in torchvision (`transform_input=False`, no auxiliary classifier: the original builds
 * it but never runs it, and the reference parameter count leaves it out). Every BasicConv2d is a
 * convolution without bias, batch norm (eps 0.001) and ReLU. The paper's cut, 14 operators:
 *   0 stem part 1: Conv2d_1a 3×3/2, Conv2d_2a 3×3, Conv2d_2b 3×3 pad 1, max pool 3/2 (64×73×73)
 *   1 stem part 2: Conv2d_3b 1×1, Conv2d_4a 3×3, max pool 3/2 (192×35×35)
 *   2–4 Mixed_5b/5c/5d (InceptionA), 5 Mixed_6a (InceptionB), 6–9 Mixed_6b…6e (InceptionC),
 *   10 Mixed_7a (InceptionD), 11–12 Mixed_7b/7c (InceptionE), 13 head (average pool, flatten, FC).
 *
 * 299×299 is the full input; the tiny scale uses 75×75, the smallest input whose feature map survives
 * every stride-2 valid convolution (75 → 37 → 35 → 17 → 15 → 7 → 3 → 1).
 */
import type { Rng } from '../../common/rng.js';
import { attr, type GraphBuilder } from '../../onnx/index.js';
import { zooEntry } from '../catalog.js';
import type { ZooBuildContext, ZooGraph, ZooModelDefinition } from '../definition.js';
import {
  BATCH, IMAGE_INPUT, MODEL_OUTPUT, averagePool, batchNorm, conv2d, convOutput, declareImageModel, featureDims, linear,
  maxPool, relu, scaleChannels, type Spatial,
} from './layers.js';

const BN_EPSILON = 0.001;
const CLASSES = 1000;

interface InceptionScale {
  widthDivisor: number;
  imageSize: number;
}

const SCALES: Record<ZooBuildContext['scale'], InceptionScale> = {
  full: { widthDivisor: 1, imageSize: 299 },
  tiny: { widthDivisor: 8, imageSize: 75 },
};

/** Builds the blocks of one model: the builder, the weight generator and the channel divisor. */
class InceptionBuilder {
  constructor(private readonly b: GraphBuilder, private readonly rng: Rng, private readonly widthDivisor: number) {}

  /** torchvision's channel count at this scale. */
  width(channels: number): number {
    return scaleChannels(channels, this.widthDivisor);
  }

  /** BasicConv2d: conv (no bias), BN (eps 0.001), ReLU. `outChannels` is torchvision's (unscaled). */
  basicConv(name: string, x: string, inChannels: number, outChannels: number, kernel: readonly [number, number], stride = 1, padding: readonly [number, number] = [0, 0]): string {
    const channels = this.width(outChannels);
    const y = conv2d(this.b, this.rng, x, { name: `${name}.conv`, inChannels, outChannels: channels, kernel, stride, padding, bias: false });
    return relu(this.b, batchNorm(this.b, this.rng, y, { name: `${name}.bn`, channels, epsilon: BN_EPSILON, gamma: 1 }));
  }

  concat(parts: readonly string[], output: string): string {
    return this.b.node('Concat', parts, { axis: attr.int(1) }, [output])[0] as string;
  }

  /** InceptionA: 1×1, 5×5, double 3×3 and pooled branches; 224 + poolFeatures channels out. */
  inceptionA(name: string, x: string, inChannels: number, poolFeatures: number, output: string): string {
    const branch1x1 = this.basicConv(`${name}.branch1x1`, x, inChannels, 64, [1, 1]);
    let branch5x5 = this.basicConv(`${name}.branch5x5_1`, x, inChannels, 48, [1, 1]);
    branch5x5 = this.basicConv(`${name}.branch5x5_2`, branch5x5, this.width(48), 64, [5, 5], 1, [2, 2]);
    let branch3x3dbl = this.basicConv(`${name}.branch3x3dbl_1`, x, inChannels, 64, [1, 1]);
    branch3x3dbl = this.basicConv(`${name}.branch3x3dbl_2`, branch3x3dbl, this.width(64), 96, [3, 3], 1, [1, 1]);
    branch3x3dbl = this.basicConv(`${name}.branch3x3dbl_3`, branch3x3dbl, this.width(96), 96, [3, 3], 1, [1, 1]);
    const pooled = averagePool(this.b, x, 3, 1, 1);
    const branchPool = this.basicConv(`${name}.branch_pool`, pooled, inChannels, poolFeatures, [1, 1]);
    return this.concat([branch1x1, branch5x5, branch3x3dbl, branchPool], output);
  }

  /** InceptionB (grid reduction 35→17): 384 + 96 + inChannels channels out. */
  inceptionB(name: string, x: string, inChannels: number, output: string): string {
    const branch3x3 = this.basicConv(`${name}.branch3x3`, x, inChannels, 384, [3, 3], 2);
    let branch3x3dbl = this.basicConv(`${name}.branch3x3dbl_1`, x, inChannels, 64, [1, 1]);
    branch3x3dbl = this.basicConv(`${name}.branch3x3dbl_2`, branch3x3dbl, this.width(64), 96, [3, 3], 1, [1, 1]);
    branch3x3dbl = this.basicConv(`${name}.branch3x3dbl_3`, branch3x3dbl, this.width(96), 96, [3, 3], 2);
    const branchPool = maxPool(this.b, x, 3, 2);
    return this.concat([branch3x3, branch3x3dbl, branchPool], output);
  }

  /** InceptionC: factorised 7×7 branches with `channels7x7` inner channels; 768 channels out. */
  inceptionC(name: string, x: string, inChannels: number, channels7x7: number, output: string): string {
    const c7 = this.width(channels7x7);
    const branch1x1 = this.basicConv(`${name}.branch1x1`, x, inChannels, 192, [1, 1]);
    let branch7x7 = this.basicConv(`${name}.branch7x7_1`, x, inChannels, channels7x7, [1, 1]);
    branch7x7 = this.basicConv(`${name}.branch7x7_2`, branch7x7, c7, channels7x7, [1, 7], 1, [0, 3]);
    branch7x7 = this.basicConv(`${name}.branch7x7_3`, branch7x7, c7, 192, [7, 1], 1, [3, 0]);
    let branch7x7dbl = this.basicConv(`${name}.branch7x7dbl_1`, x, inChannels, channels7x7, [1, 1]);
    branch7x7dbl = this.basicConv(`${name}.branch7x7dbl_2`, branch7x7dbl, c7, channels7x7, [7, 1], 1, [3, 0]);
    branch7x7dbl = this.basicConv(`${name}.branch7x7dbl_3`, branch7x7dbl, c7, channels7x7, [1, 7], 1, [0, 3]);
    branch7x7dbl = this.basicConv(`${name}.branch7x7dbl_4`, branch7x7dbl, c7, channels7x7, [7, 1], 1, [3, 0]);
    branch7x7dbl = this.basicConv(`${name}.branch7x7dbl_5`, branch7x7dbl, c7, 192, [1, 7], 1, [0, 3]);
    const pooled = averagePool(this.b, x, 3, 1, 1);
    const branchPool = this.basicConv(`${name}.branch_pool`, pooled, inChannels, 192, [1, 1]);
    return this.concat([branch1x1, branch7x7, branch7x7dbl, branchPool], output);
  }

  /** InceptionD (grid reduction 17→8): 320 + 192 + inChannels channels out. */
  inceptionD(name: string, x: string, inChannels: number, output: string): string {
    let branch3x3 = this.basicConv(`${name}.branch3x3_1`, x, inChannels, 192, [1, 1]);
    branch3x3 = this.basicConv(`${name}.branch3x3_2`, branch3x3, this.width(192), 320, [3, 3], 2);
    let branch7x7x3 = this.basicConv(`${name}.branch7x7x3_1`, x, inChannels, 192, [1, 1]);
    branch7x7x3 = this.basicConv(`${name}.branch7x7x3_2`, branch7x7x3, this.width(192), 192, [1, 7], 1, [0, 3]);
    branch7x7x3 = this.basicConv(`${name}.branch7x7x3_3`, branch7x7x3, this.width(192), 192, [7, 1], 1, [3, 0]);
    branch7x7x3 = this.basicConv(`${name}.branch7x7x3_4`, branch7x7x3, this.width(192), 192, [3, 3], 2);
    const branchPool = maxPool(this.b, x, 3, 2);
    return this.concat([branch3x3, branch7x7x3, branchPool], output);
  }

  /** InceptionE: expanded 1×3 / 3×1 branches; 2048 channels out. */
  inceptionE(name: string, x: string, inChannels: number, output: string): string {
    const branch1x1 = this.basicConv(`${name}.branch1x1`, x, inChannels, 320, [1, 1]);
    const branch3x3In = this.basicConv(`${name}.branch3x3_1`, x, inChannels, 384, [1, 1]);
    const branch3x3 = this.b.op('Concat', [
      this.basicConv(`${name}.branch3x3_2a`, branch3x3In, this.width(384), 384, [1, 3], 1, [0, 1]),
      this.basicConv(`${name}.branch3x3_2b`, branch3x3In, this.width(384), 384, [3, 1], 1, [1, 0]),
    ], { axis: attr.int(1) });
    let branch3x3dblIn = this.basicConv(`${name}.branch3x3dbl_1`, x, inChannels, 448, [1, 1]);
    branch3x3dblIn = this.basicConv(`${name}.branch3x3dbl_2`, branch3x3dblIn, this.width(448), 384, [3, 3], 1, [1, 1]);
    const branch3x3dbl = this.b.op('Concat', [
      this.basicConv(`${name}.branch3x3dbl_3a`, branch3x3dblIn, this.width(384), 384, [1, 3], 1, [0, 1]),
      this.basicConv(`${name}.branch3x3dbl_3b`, branch3x3dblIn, this.width(384), 384, [3, 1], 1, [1, 0]),
    ], { axis: attr.int(1) });
    const pooled = averagePool(this.b, x, 3, 1, 1);
    const branchPool = this.basicConv(`${name}.branch_pool`, pooled, inChannels, 192, [1, 1]);
    return this.concat([branch1x1, branch3x3, branch3x3dbl, branchPool], output);
  }
}

/** Spatial size after a 3×3 stride-2 window without padding (the grid reductions and stem pools). */
function reduce(spatial: Spatial): Spatial {
  return convOutput(spatial, { kernel: [3, 3], stride: 2 });
}

function buildInceptionV3(b: GraphBuilder, ctx: ZooBuildContext): ZooGraph {
  const scale = SCALES[ctx.scale];
  const graph = declareImageModel(b, scale.imageSize, CLASSES);
  const blocks = new InceptionBuilder(b, ctx.rng, scale.widthDivisor);
  const w = (channels: number): number => blocks.width(channels);

  // Stem part 1: 299 → 149 (1a, stride 2) → 147 (2a) → 147 (2b, pad 1) → 73 (max pool).
  let spatial: Spatial = reduce({ height: scale.imageSize, width: scale.imageSize });
  spatial = convOutput(spatial, { kernel: [3, 3] });
  spatial = reduce(spatial);
  let x = b.operator('stem1', 'inception_stem', IMAGE_INPUT, featureDims(w(64), spatial), (input) => {
    let y = blocks.basicConv('Conv2d_1a_3x3', input, 3, 32, [3, 3], 2);
    y = blocks.basicConv('Conv2d_2a_3x3', y, w(32), 32, [3, 3]);
    y = blocks.basicConv('Conv2d_2b_3x3', y, w(32), 64, [3, 3], 1, [1, 1]);
    return maxPool(b, y, 3, 2, 0, 'stem1.out');
  });

  // Stem part 2: 73 → 73 (3b, 1×1) → 71 (4a) → 35 (max pool).
  spatial = reduce(convOutput(spatial, { kernel: [3, 3] }));
  x = b.operator('stem2', 'inception_stem', x, featureDims(w(192), spatial), (input) => {
    let y = blocks.basicConv('Conv2d_3b_1x1', input, w(64), 80, [1, 1]);
    y = blocks.basicConv('Conv2d_4a_3x3', y, w(80), 192, [3, 3]);
    return maxPool(b, y, 3, 2, 0, 'stem2.out');
  });

  let channels = w(192);
  const mixed = (name: string, kind: string, outChannels: number, body: (input: string, inChannels: number, output: string) => string): void => {
    const inChannels = channels;
    x = b.operator(name, kind, x, featureDims(outChannels, spatial), (input) => body(input, inChannels, `${name}.out`));
    channels = outChannels;
  };
  const poolFeaturesA: ReadonlyArray<[string, number]> = [['Mixed_5b', 32], ['Mixed_5c', 64], ['Mixed_5d', 64]];
  for (const [name, poolFeatures] of poolFeaturesA) {
    mixed(name, 'inception_a', w(224) + w(poolFeatures), (input, inChannels, output) => blocks.inceptionA(name, input, inChannels, poolFeatures, output));
  }
  spatial = reduce(spatial);
  mixed('Mixed_6a', 'inception_b', w(384) + w(96) + channels, (input, inChannels, output) => blocks.inceptionB('Mixed_6a', input, inChannels, output));
  const channels7x7: ReadonlyArray<[string, number]> = [['Mixed_6b', 128], ['Mixed_6c', 160], ['Mixed_6d', 160], ['Mixed_6e', 192]];
  for (const [name, c7] of channels7x7) {
    mixed(name, 'inception_c', w(768), (input, inChannels, output) => blocks.inceptionC(name, input, inChannels, c7, output));
  }
  spatial = reduce(spatial);
  mixed('Mixed_7a', 'inception_d', w(320) + w(192) + channels, (input, inChannels, output) => blocks.inceptionD('Mixed_7a', input, inChannels, output));
  for (const name of ['Mixed_7b', 'Mixed_7c']) {
    mixed(name, 'inception_e', w(2048), (input, inChannels, output) => blocks.inceptionE(name, input, inChannels, output));
  }

  const features = channels;
  b.operator('head', 'inception_head', x, [BATCH, CLASSES], (input) => {
    const pooled = b.op('Flatten', [b.op('GlobalAveragePool', [input])]);
    return linear(b, ctx.rng, pooled, { name: 'fc', inFeatures: features, outFeatures: CLASSES }, MODEL_OUTPUT);
  });
  return graph;
}

export const inceptionV3: ZooModelDefinition = { entry: zooEntry('inception_v3'), build: buildInceptionV3 };
