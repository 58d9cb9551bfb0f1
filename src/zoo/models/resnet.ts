/**
 * ResNet-50/101/152 as in torchvision (v1.5: the stride of a downsampling bottleneck sits in its 3×3
 * convolution), cut as the paper cuts it: the stem (7×7/2 conv, BN, ReLU, 3×3/2 max pool) is one
 * operator, every bottleneck block is one operator, and the head (global average pool, flatten, FC) is
 * the last. 1 + (3+4+6+3) + 1 = 18, 1 + 33 + 1 = 35, 1 + 50 + 1 = 52 operators.
 *
 * Weights: He-scaled convolutions; batch norms with running mean 0 and variance 1, scale ≈ 1 except the
 * last one of each residual branch (≈ 0.2), so that the residual sums grow slowly over 50 blocks and the
 * activations stay well inside the float16 range.
 */
import type { GraphBuilder } from '../../onnx/index.js';
import type { Rng } from '../../common/rng.js';
import { zooEntry, type ZooModelName } from '../catalog.js';
import type { ZooBuildContext, ZooGraph, ZooModelDefinition } from '../definition.js';
import {
  BATCH, MODEL_OUTPUT, batchNorm, convOutput, conv2d, declareImageModel, featureDims, linear, maxPool, relu,
  scaleChannels, IMAGE_INPUT, type ConvSpec, type Spatial,
} from './layers.js';

const BN_EPSILON = 1e-5;
const BOTTLENECK_EXPANSION = 4;
/** Scale of the last batch norm of each residual branch. */
const RESIDUAL_BRANCH_GAMMA = 0.2;
const CLASSES = 1000;

interface ResNetScale {
  /** Channel widths are torchvision's divided by this. */
  widthDivisor: number;
  imageSize: number;
}

const SCALES: Record<ZooBuildContext['scale'], ResNetScale> = {
  full: { widthDivisor: 1, imageSize: 224 },
  tiny: { widthDivisor: 8, imageSize: 32 },
};

/** Blocks per stage (layer1…layer4). */
type ResNetName = Extract<ZooModelName, 'resnet50' | 'resnet101' | 'resnet152'>;

const STAGE_BLOCKS: Record<ResNetName, readonly [number, number, number, number]> = {
  resnet50: [3, 4, 6, 3],
  resnet101: [3, 4, 23, 3],
  resnet152: [3, 8, 36, 3],
};

const STAGE_PLANES = [64, 128, 256, 512] as const;

/** Convolution followed by batch norm (no conv bias, as in torchvision's ResNet). */
function convBn(b: GraphBuilder, rng: Rng, x: string, spec: Omit<ConvSpec, 'bias'>, bnName: string, gamma: number): string {
  const y = conv2d(b, rng, x, { ...spec, bias: false });
  return batchNorm(b, rng, y, { name: bnName, channels: spec.outChannels, epsilon: BN_EPSILON, gamma });
}

interface BottleneckSpec {
  name: string;
  inChannels: number;
  planes: number;
  stride: number;
}

function bottleneck(b: GraphBuilder, rng: Rng, x: string, spec: BottleneckSpec, output: string): string {
  const { name, inChannels, planes, stride } = spec;
  const outChannels = planes * BOTTLENECK_EXPANSION;
  let y = relu(b, convBn(b, rng, x, { name: `${name}.conv1`, inChannels, outChannels: planes, kernel: [1, 1] }, `${name}.bn1`, 1));
  y = relu(b, convBn(b, rng, y, { name: `${name}.conv2`, inChannels: planes, outChannels: planes, kernel: [3, 3], stride, padding: [1, 1] }, `${name}.bn2`, 1));
  y = convBn(b, rng, y, { name: `${name}.conv3`, inChannels: planes, outChannels, kernel: [1, 1] }, `${name}.bn3`, RESIDUAL_BRANCH_GAMMA);
  const identity = stride !== 1 || inChannels !== outChannels
    ? convBn(b, rng, x, { name: `${name}.downsample.0`, inChannels, outChannels, kernel: [1, 1], stride }, `${name}.downsample.1`, 1)
    : x;
  return relu(b, b.op('Add', [y, identity]), output);
}

function buildResNet(name: ResNetName, b: GraphBuilder, ctx: ZooBuildContext): ZooGraph {
  const scale = SCALES[ctx.scale];
  const rng = ctx.rng;
  const graph = declareImageModel(b, scale.imageSize, CLASSES);
  const width = (channels: number): number => scaleChannels(channels, scale.widthDivisor);

  const stemConv = { kernel: [7, 7], stride: 2, padding: [3, 3] } as const;
  let spatial: Spatial = convOutput({ height: scale.imageSize, width: scale.imageSize }, stemConv);
  spatial = convOutput(spatial, { kernel: [3, 3], stride: 2, padding: [1, 1] });
  let channels = width(64);
  let x = b.operator('stem', 'resnet_stem', IMAGE_INPUT, featureDims(channels, spatial), (input) => {
    const y = relu(b, convBn(b, rng, input, { name: 'conv1', inChannels: 3, outChannels: channels, ...stemConv }, 'bn1', 1));
    return maxPool(b, y, 3, 2, 1, 'stem.out');
  });

  STAGE_BLOCKS[name].forEach((blocks, stage) => {
    const planes = width(STAGE_PLANES[stage] as number);
    for (let block = 0; block < blocks; block++) {
      const stride = stage > 0 && block === 0 ? 2 : 1;
      const blockName = `layer${stage + 1}.${block}`;
      const spec: BottleneckSpec = { name: blockName, inChannels: channels, planes, stride };
      spatial = convOutput(spatial, { kernel: [3, 3], stride, padding: [1, 1] });
      channels = planes * BOTTLENECK_EXPANSION;
      x = b.operator(blockName, 'resnet_bottleneck', x, featureDims(channels, spatial), (input) => bottleneck(b, rng, input, spec, `${blockName}.out`));
    }
  });

  const features = channels;
  b.operator('head', 'resnet_head', x, [BATCH, CLASSES], (input) => {
    const pooled = b.op('Flatten', [b.op('GlobalAveragePool', [input])]);
    return linear(b, rng, pooled, { name: 'fc', inFeatures: features, outFeatures: CLASSES }, MODEL_OUTPUT);
  });
  return graph;
}

function resnetDefinition(name: ResNetName): ZooModelDefinition {
  return { entry: zooEntry(name), build: (b, ctx) => buildResNet(name, b, ctx) };
}

export const resnet50 = resnetDefinition('resnet50');
export const resnet101 = resnetDefinition('resnet101');
export const resnet152 = resnetDefinition('resnet152');
