/** What a zoo model definition provides to `buildZooModel`. */
import type { GraphBuilder } from '../onnx/index.js';
import type { Rng } from '../common/rng.js';
import type { ZooEntry } from './catalog.js';
import type { ManifestTensor } from './manifest.js';

export type ZooScale = 'full' | 'tiny';

export interface ZooBuildContext {
  scale: ZooScale;
  /** Seeded generator for the weights. */
  rng: Rng;
}

export interface ZooGraph {
  inputs: ManifestTensor[];
  outputs: ManifestTensor[];
  /** Values of the symbolic dims at which FLOPs are counted. */
  reference: Record<string, number>;
}

export interface ZooModelDefinition {
  entry: ZooEntry;
  /**
   * Add the model to `b`: inputs, every operator through `b.operator(...)` (in order, each reading the
   * previous one's output), weights through `b.weight(...)` (streamed to disk), and the output.
   */
  build(b: GraphBuilder, ctx: ZooBuildContext): ZooGraph;
}
