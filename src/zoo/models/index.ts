/** The zoo's model definitions, by name. */
import type { ZooModelName } from '../catalog.js';
import type { ZooModelDefinition } from '../definition.js';
import { resnet50, resnet101, resnet152 } from './resnet.js';
import { inceptionV3 } from './inception.js';
import { vgg16, vgg19 } from './vgg.js';
import { bert } from './bert.js';

const DEFINITIONS: Record<ZooModelName, ZooModelDefinition> = {
  resnet50,
  resnet101,
  resnet152,
  inception_v3: inceptionV3,
  vgg16,
  vgg19,
  bert,
};

export function zooDefinition(name: ZooModelName): ZooModelDefinition {
  return DEFINITIONS[name];
}
