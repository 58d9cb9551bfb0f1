/**
 * Range extraction: operators [start, end) of a manifest as a standalone ONNX graph that reads the
 * boundary tensor before `start` (plus the side inputs it needs) and writes the boundary after `end - 1`,
 * keeping only the initializers it uses. Constant nodes outside every operator (split models) are copied
 * into each range that needs them.
 */
import type { ModelProto } from '../onnx/generated/onnx_pb.js';
import { extractSubgraph, nodeReads, type LoadedModel } from '../onnx/index.js';
import { InputError } from '../common/errors.js';
import type { Manifest } from './manifest.js';

export interface RangeGraph {
  model: ModelProto;
  /** Graph inputs in order: the boundary activation first, then side inputs. */
  inputs: string[];
  output: string;
}

export function operatorRangeModel(loaded: LoadedModel, manifest: Manifest, start: number, end: number): RangeGraph {
  const ops = manifest.operators;
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > ops.length || start >= end) {
    throw new InputError(`${manifest.name}: bad operator range [${start}, ${end}) (the model has ${ops.length} operators)`);
  }
  const graph = loaded.model.graph;
  if (!graph) throw new InputError(`${loaded.path}: no graph`);
  const first = ops[start]!;
  const last = ops[end - 1]!;
  const rangeNodes: number[] = [];
  for (let i = first.nodes[0]; i < last.nodes[1]; i++) rangeNodes.push(i);

  // Constant nodes outside every operator that the range reads, directly or through each other.
  const covered = new Set<number>();
  for (const op of ops) for (let i = op.nodes[0]; i < op.nodes[1]; i++) covered.add(i);
  const producerOf = new Map<string, number>();
  graph.node.forEach((n, i) => n.output.forEach((o) => o && producerOf.set(o, i)));
  const needed = new Set<number>();
  const stack = rangeNodes.flatMap((i) => nodeReads(graph.node[i]!));
  while (stack.length > 0) {
    const t = stack.pop() as string;
    const p = producerOf.get(t);
    if (p === undefined || covered.has(p) || needed.has(p)) continue;
    needed.add(p);
    stack.push(...nodeReads(graph.node[p]!));
  }
  const nodes = [...[...needed].sort((a, b) => a - b), ...rangeNodes];

  const sideNames = manifest.inputs.filter((i) => i.role === 'side').map((i) => i.name);
  const reads = new Set(nodes.flatMap((i) => nodeReads(graph.node[i]!)));
  const inputs = [first.input, ...sideNames.filter((s) => reads.has(s) && s !== first.input)];
  const model = extractSubgraph(loaded.model, { nodes, inputs, outputs: [last.output], name: `${manifest.name}_ops_${start}_${end}` }, loaded.path);
  return { model, inputs, output: last.output };
}
