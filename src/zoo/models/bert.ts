/**
 * The BERT-base encoder (HuggingFace `BertModel` with the default `BertConfig`): 12 layers, hidden 768,
 * 12 heads of 64, feed-forward 3072 with exact (erf) GELU, LayerNorm eps 1e-12. As in the original, only
 * the encoder layers run (no embeddings, no pooler), and each layer is one operator.
 *
 * Inputs: `hidden` (batch×seq×768, the activation) and `mask` (batch×1×1×seq, a side input every layer
 * reads: 1 = attend, 0 = masked). Each layer turns the mask into the additive form (1 − mask)·−10000 by
 * itself, so an operator reads only the previous boundary tensor and the mask.
 *
 * Weights follow BERT's initialisation: linear weights with std 0.02 and zero biases, LayerNorm scale 1
 * and bias 0. Reshapes use 0 ("copy this dim") and -1 entries so that batch and seq stay symbolic
 * without Shape nodes.
 */
import { attr, type Dim, type GraphBuilder } from '../../onnx/index.js';
import type { Rng } from '../../common/rng.js';
import { zooEntry } from '../catalog.js';
import type { ZooBuildContext, ZooGraph, ZooModelDefinition } from '../definition.js';
import type { ManifestTensor } from '../manifest.js';
import { BATCH, MODEL_OUTPUT, filledValues, nodeTo, uniformValues } from './layers.js';

const SEQ = 'seq';
export const BERT_HIDDEN_INPUT = 'hidden';
export const BERT_MASK_INPUT = 'mask';

const LAYERS = 12;
const LAYER_NORM_EPSILON = 1e-12;
const INITIALIZER_STD = 0.02;
/** Added to the attention scores of masked positions (HuggingFace 4.4's value, finite in float16). */
const MASKED_SCORE = -10000;
const REFERENCE_SEQ = 64;

interface BertScale {
  hidden: number;
  heads: number;
  intermediate: number;
}

const SCALES: Record<ZooBuildContext['scale'], BertScale> = {
  full: { hidden: 768, heads: 12, intermediate: 3072 },
  tiny: { hidden: 64, heads: 4, intermediate: 128 },
};

/** MatMul with an [in, out] weight (N(0, 0.02²)-like) plus a zero bias. */
function dense(b: GraphBuilder, rng: Rng, x: string, name: string, inFeatures: number, outFeatures: number): string {
  const weight = b.weight(`${name}.weight`, [inFeatures, outFeatures], uniformValues(rng, inFeatures * outFeatures, INITIALIZER_STD));
  const bias = b.weight(`${name}.bias`, [outFeatures], filledValues(outFeatures, 0));
  return b.op('Add', [b.op('MatMul', [x, weight]), bias]);
}

function layerNorm(b: GraphBuilder, x: string, name: string, features: number, output?: string): string {
  const scale = b.weight(`${name}.weight`, [features], filledValues(features, 1));
  const bias = b.weight(`${name}.bias`, [features], filledValues(features, 0));
  return nodeTo(b, 'LayerNormalization', [x, scale, bias], { axis: attr.int(-1), epsilon: attr.float(LAYER_NORM_EPSILON) }, output);
}

/** One `BertLayer`: self-attention, output projection + residual + LayerNorm, feed-forward + residual + LayerNorm. */
function encoderLayer(b: GraphBuilder, rng: Rng, x: string, mask: string, index: number, scale: BertScale, output: string): string {
  const { hidden, heads, intermediate } = scale;
  const headDim = hidden / heads;
  const prefix = `encoder.layer.${index}`;

  // Additive mask: 0 where attended, -10000 where masked; broadcasts over heads and query positions.
  const one = b.scalar(`${prefix}.one`, 1);
  const maskedScore = b.scalar(`${prefix}.masked_score`, MASKED_SCORE);
  const additiveMask = b.op('Mul', [b.op('Sub', [one, mask]), maskedScore]);

  const splitHeads = b.int64s(`${prefix}.split_heads_shape`, [0, 0, heads, headDim]);
  const mergeHeads = b.int64s(`${prefix}.merge_heads_shape`, [0, 0, hidden]);
  const projectHeads = (name: string, perm: readonly number[]): string => {
    const projected = dense(b, rng, x, `${prefix}.attention.self.${name}`, hidden, hidden);
    return b.op('Transpose', [b.op('Reshape', [projected, splitHeads])], { perm: attr.ints(perm) });
  };
  const query = projectHeads('query', [0, 2, 1, 3]); // batch, heads, seq, headDim
  const keyT = projectHeads('key', [0, 2, 3, 1]); // batch, heads, headDim, seq
  const value = projectHeads('value', [0, 2, 1, 3]);

  const scoreScale = b.scalar(`${prefix}.score_scale`, Math.sqrt(headDim));
  const scores = b.op('Add', [b.op('Div', [b.op('MatMul', [query, keyT]), scoreScale]), additiveMask]);
  const probabilities = b.op('Softmax', [scores], { axis: attr.int(-1) });
  const context = b.op('MatMul', [probabilities, value]);
  const merged = b.op('Reshape', [b.op('Transpose', [context], { perm: attr.ints([0, 2, 1, 3]) }), mergeHeads]);
  const attended = dense(b, rng, merged, `${prefix}.attention.output.dense`, hidden, hidden);
  const attentionOut = layerNorm(b, b.op('Add', [attended, x]), `${prefix}.attention.output.LayerNorm`, hidden);

  // Exact GELU: 0.5·x·(1 + erf(x/√2)).
  const inner = dense(b, rng, attentionOut, `${prefix}.intermediate.dense`, hidden, intermediate);
  const erf = b.op('Erf', [b.op('Div', [inner, b.scalar(`${prefix}.sqrt2`, Math.SQRT2)])]);
  const gelu = b.op('Mul', [b.op('Mul', [inner, b.scalar(`${prefix}.half`, 0.5)]), b.op('Add', [erf, one])]);
  const ffnOut = dense(b, rng, gelu, `${prefix}.output.dense`, intermediate, hidden);
  return layerNorm(b, b.op('Add', [ffnOut, attentionOut]), `${prefix}.output.LayerNorm`, hidden, output);
}

function buildBert(b: GraphBuilder, ctx: ZooBuildContext): ZooGraph {
  const scale = SCALES[ctx.scale];
  if (scale.hidden % scale.heads !== 0) throw new Error(`hidden ${scale.hidden} does not split into ${scale.heads} heads`);
  const hiddenShape: Dim[] = [BATCH, SEQ, scale.hidden];
  const maskShape: Dim[] = [BATCH, 1, 1, SEQ];
  let x = b.input(BERT_HIDDEN_INPUT, hiddenShape);
  const mask = b.input(BERT_MASK_INPUT, maskShape);
  b.output(MODEL_OUTPUT, hiddenShape);
  for (let i = 0; i < LAYERS; i++) {
    const output = i === LAYERS - 1 ? MODEL_OUTPUT : `encoder.layer.${i}.out`;
    x = b.operator(`layer${i}`, 'bert_layer', x, hiddenShape, (input) => encoderLayer(b, ctx.rng, input, mask, i, scale, output));
  }
  const inputs: ManifestTensor[] = [
    { name: BERT_HIDDEN_INPUT, dtype: b.dtype, shape: hiddenShape, role: 'activation' },
    { name: BERT_MASK_INPUT, dtype: b.dtype, shape: maskShape, role: 'side' },
  ];
  return {
    inputs,
    outputs: [{ name: MODEL_OUTPUT, dtype: b.dtype, shape: hiddenShape }],
    reference: { [BATCH]: 1, [SEQ]: REFERENCE_SEQ },
  };
}

export const bert: ZooModelDefinition = { entry: zooEntry('bert'), build: buildBert };
