/**
 * Graph queries and range extraction. `extractSubgraph` turns a contiguous run of nodes into a standalone
 * ONNX model: its boundary tensors become graph inputs and outputs, and it keeps only the initializers its
 * nodes (and their subgraphs) read. External weights keep pointing at the same data file, so an extracted
 * segment of a large model is a few kilobytes.
 */
import { create } from '@bufbuild/protobuf';
import {
  GraphProtoSchema, ModelProtoSchema, ValueInfoProtoSchema, NodeProtoSchema, TensorProtoSchema, OperatorSetIdProtoSchema, AttributeProto_AttributeType as AttrType,
  type GraphProto, type ModelProto, type NodeProto, type ValueInfoProto, type TensorProto,
} from './generated/onnx_pb.js';
import { InputError } from '../common/errors.js';
import { elementTypeOf, onnxType, type ElementType } from './dtype.js';
import { valueInfo, type Dim } from './builder.js';

/** Tensor names a node reads, including names its subgraphs (If/Loop/Scan bodies) take from outside. */
export function nodeReads(node: NodeProto): string[] {
  const reads = node.input.filter((n) => n !== '');
  for (const a of node.attribute) {
    if (a.type === AttrType.GRAPH && a.g) reads.push(...outerReads(a.g));
    if (a.type === AttrType.GRAPHS) for (const g of a.graphs) reads.push(...outerReads(g));
  }
  return reads;
}

function outerReads(g: GraphProto): string[] {
  const local = new Set<string>([...g.input.map((i) => i.name), ...g.initializer.map((t) => t.name)]);
  const reads: string[] = [];
  for (const n of g.node) {
    for (const r of nodeReads(n)) if (!local.has(r)) reads.push(r);
    for (const o of n.output) local.add(o);
  }
  return reads;
}

export interface TensorType { dtype: ElementType; dims: Dim[] | null }

/** Types and shapes the graph declares (inputs, outputs, value_info), by tensor name. */
export function declaredTypes(graph: GraphProto): Map<string, ValueInfoProto> {
  const map = new Map<string, ValueInfoProto>();
  for (const v of [...graph.valueInfo, ...graph.input, ...graph.output]) if (v.type?.value.case === 'tensorType') map.set(v.name, v);
  return map;
}

export function tensorTypeOf(v: ValueInfoProto): TensorType | null {
  if (v.type?.value.case !== 'tensorType') return null;
  const t = v.type.value.value;
  const dtype = elementTypeOf(t.elemType);
  if (!dtype) return null;
  const dims = t.shape ? t.shape.dim.map((d): Dim => (d.value.case === 'dimValue' ? Number(d.value.value) : d.value.case === 'dimParam' ? d.value.value : '?')) : null;
  return { dtype, dims };
}

export function initializerMap(graph: GraphProto): Map<string, TensorProto> {
  return new Map(graph.initializer.map((t) => [t.name, t]));
}

export interface SubgraphSpec {
  /** Node indices of the source graph, in execution order. */
  nodes: readonly number[];
  /** Tensors that become graph inputs (their types must be known: declared or given in `types`). */
  inputs: readonly string[];
  outputs: readonly string[];
  /** Types for boundary tensors the source graph does not declare. */
  types?: ReadonlyMap<string, ValueInfoProto>;
  name?: string;
}

export function extractSubgraph(model: ModelProto, spec: SubgraphSpec, sourceLabel = 'model'): ModelProto {
  const graph = model.graph;
  if (!graph) throw new InputError(`${sourceLabel}: no graph`);
  const declared = declaredTypes(graph);
  const inits = initializerMap(graph);
  const typeOf = (name: string): ValueInfoProto => {
    const v = spec.types?.get(name) ?? declared.get(name);
    if (!v) throw new InputError(`${sourceLabel}: no type is known for boundary tensor '${name}'`);
    return v;
  };
  const nodes = spec.nodes.map((i) => {
    const n = graph.node[i];
    if (!n) throw new Error(`${sourceLabel}: node index ${i} out of range`);
    return n;
  });
  const produced = new Set<string>();
  const inputSet = new Set(spec.inputs);
  const neededInits = new Set<string>();
  for (const n of nodes) {
    for (const r of nodeReads(n)) {
      if (produced.has(r) || inputSet.has(r)) continue;
      if (inits.has(r)) neededInits.add(r);
      else throw new InputError(`${sourceLabel}: nodes ${spec.nodes[0]}..${spec.nodes[spec.nodes.length - 1]} read '${r}', which is neither produced inside, an input of the range, nor a weight`);
    }
    for (const o of n.output) if (o) produced.add(o);
  }
  for (const o of spec.outputs) {
    if (!produced.has(o) && !inputSet.has(o)) throw new InputError(`${sourceLabel}: output '${o}' is not produced by the range`);
  }
  const inside = new Set([...produced]);
  const valueInfo = graph.valueInfo.filter((v) => inside.has(v.name) && !spec.outputs.includes(v.name));
  const sub = create(GraphProtoSchema, {
    name: spec.name ?? `${graph.name}_sub`,
    node: nodes,
    input: spec.inputs.map((n) => withName(typeOf(n), n)),
    output: spec.outputs.map((n) => withName(typeOf(n), n)),
    initializer: graph.initializer.filter((t) => neededInits.has(t.name)),
    valueInfo,
  });
  return create(ModelProtoSchema, {
    irVersion: model.irVersion,
    opsetImport: model.opsetImport,
    producerName: model.producerName || 'abacus',
    producerVersion: model.producerVersion,
    domain: model.domain,
    graph: sub,
    functions: model.functions,
  });
}

function withName(v: ValueInfoProto, name: string): ValueInfoProto {
  return create(ValueInfoProtoSchema, { name, type: v.type });
}

/**
 * A tiny model that returns the first element of its input `x` (any shape) as `y` [1]. Run on a GPU with
 * the output on the CPU, it waits for every kernel queued before it on the device: a cheap way to end a
 * segment only when the device has finished (a run whose outputs stay on the device returns once its
 * work is submitted).
 */
export function syncModel(dtype: ElementType): ModelProto {
  const int64 = (tname: string, v: number) => create(TensorProtoSchema, { name: tname, dataType: onnxType('int64'), dims: [1n], rawData: new Uint8Array(BigInt64Array.of(BigInt(v)).buffer) });
  return create(ModelProtoSchema, {
    irVersion: 8n,
    producerName: 'abacus',
    opsetImport: [create(OperatorSetIdProtoSchema, { domain: '', version: 17n })],
    graph: create(GraphProtoSchema, {
      name: 'abacus_sync',
      input: [valueInfo('x', dtype, null)],
      output: [valueInfo('y', dtype, [1])],
      initializer: [int64('shape', -1), int64('starts', 0), int64('ends', 1)],
      node: [
        create(NodeProtoSchema, { name: 'flatten', opType: 'Reshape', input: ['x', 'shape'], output: ['flat'] }),
        create(NodeProtoSchema, { name: 'first', opType: 'Slice', input: ['flat', 'starts', 'ends'], output: ['y'] }),
      ],
    }),
  });
}
