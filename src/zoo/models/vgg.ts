/**
 * VGG-16 and VGG-19 as in torchvision (configurations "D" and "E", no batch norm, conv bias on), cut as
 * the paper cuts them: each 3×3 convolution with its ReLU is one operator, each 2×2/2 max pool is one
 * operator, and the head (adaptive average pool to 7×7, flatten, Linear 25088→4096, ReLU, Linear
 * 4096→4096, ReLU, Linear 4096→1000; dropout is inactive at inference) is the last: 19 and 22 operators.
 * With a 224×224 input the feature map is already 7×7, so the adaptive pool is an identity-size window.
 *
 * Weights: He-scaled convolutions and Xavier-like linear layers, which keep the activations of the
 * 16/19 layers without normalisation in a narrow range (finite in float16).
 */
import type { Rng } from '../../common/rng.js';
import type { GraphBuilder } from '../../onnx/index.js';
import { zooEntry, type ZooModelName } from '../catalog.js';
import type { ZooBuildContext, ZooGraph, ZooModelDefinition } from '../definition.js';
import {
  BATCH, IMAGE_INPUT, MODEL_OUTPUT, adaptiveAveragePool, conv2d, declareImageModel, featureDims, linear, maxPool, relu,
  scaleChannels, type Spatial,
} from './layers.js';

type VggName = Extract<ZooModelName, 'vgg16' | 'vgg19'>;

/** Output channels of each convolution; 'M' is a 2×2/2 max pool. */
type VggLayer = number | 'M';

const CONFIGS: Record<VggName, readonly VggLayer[]> = {
  vgg16: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'],
  vgg19: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512, 512, 512, 512, 'M', 512, 512, 512, 512, 'M'],
};

const CLASSES = 1000;

interface VggScale {
  widthDivisor: number;
  imageSize: number;
  /** Side of the adaptive average pool's output (torchvision: 7). */
  pooledSize: number;
  hiddenFeatures: number;
}

const SCALES: Record<ZooBuildContext['scale'], VggScale> = {
  full: { widthDivisor: 1, imageSize: 224, pooledSize: 7, hiddenFeatures: 4096 },
  // 32 / 2⁵ = 1: the adaptive pool keeps the 1×1 map, as the full model's keeps its 7×7 one.
  tiny: { widthDivisor: 8, imageSize: 32, pooledSize: 1, hiddenFeatures: 512 },
};

function head(b: GraphBuilder, rng: Rng, input: string, channels: number, spatial: Spatial, scale: VggScale): string {
  const pooled = adaptiveAveragePool(b, input, spatial, scale.pooledSize);
  const flat = b.op('Flatten', [pooled]);
  const features = channels * scale.pooledSize * scale.pooledSize;
  let y = relu(b, linear(b, rng, flat, { name: 'classifier.0', inFeatures: features, outFeatures: scale.hiddenFeatures }));
  y = relu(b, linear(b, rng, y, { name: 'classifier.3', inFeatures: scale.hiddenFeatures, outFeatures: scale.hiddenFeatures }));
  return linear(b, rng, y, { name: 'classifier.6', inFeatures: scale.hiddenFeatures, outFeatures: CLASSES }, MODEL_OUTPUT);
}

function buildVgg(name: VggName, b: GraphBuilder, ctx: ZooBuildContext): ZooGraph {
  const scale = SCALES[ctx.scale];
  const rng = ctx.rng;
  const graph = declareImageModel(b, scale.imageSize, CLASSES);
  let x = IMAGE_INPUT;
  let channels = 3;
  let spatial: Spatial = { height: scale.imageSize, width: scale.imageSize };
  // Operator names follow the usual convB_L / poolB naming; weight names follow torchvision's
  // `features.<module index>` (a conv and its ReLU take two indices, a pool one).
  let stage = 1;
  let convInStage = 1;
  let moduleIndex = 0;
  for (const layer of CONFIGS[name]) {
    if (layer === 'M') {
      const opName = `pool${stage}`;
      spatial = { height: Math.floor(spatial.height / 2), width: Math.floor(spatial.width / 2) };
      x = b.operator(opName, 'vgg_pool', x, featureDims(channels, spatial), (input) => maxPool(b, input, 2, 2, 0, `${opName}.out`));
      stage += 1;
      convInStage = 1;
      moduleIndex += 1;
    } else {
      const opName = `conv${stage}_${convInStage}`;
      const inChannels = channels;
      const outChannels = scaleChannels(layer, scale.widthDivisor);
      const weightName = `features.${moduleIndex}`;
      x = b.operator(opName, 'vgg_conv', x, featureDims(outChannels, spatial), (input) => {
        const y = conv2d(b, rng, input, { name: weightName, inChannels, outChannels, kernel: [3, 3], padding: [1, 1], bias: true });
        return relu(b, y, `${opName}.out`);
      });
      channels = outChannels;
      convInStage += 1;
      moduleIndex += 2;
    }
  }
  const finalChannels = channels;
  const finalSpatial = spatial;
  b.operator('head', 'vgg_head', x, [BATCH, CLASSES], (input) => head(b, rng, input, finalChannels, finalSpatial, scale));
  return graph;
}

function vggDefinition(name: VggName): ZooModelDefinition {
  return { entry: zooEntry(name), build: (b, ctx) => buildVgg(name, b, ctx) };
}

export const vgg16 = vggDefinition('vgg16');
export const vgg19 = vggDefinition('vgg19');
