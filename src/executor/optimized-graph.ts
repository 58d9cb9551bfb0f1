/**
 * Operators on onnxruntime's optimised graph. At the `all` level the CPU provider rewrites a model into
 * blocked (NCHWc) layouts and fuses across nodes (Conv + BatchNorm + Add + Relu); cutting the *original*
 * graph into segments loses both at every boundary. Instead a service can cut the optimised whole-model
 * graph (saved by onnxruntime, see optimized-cache.ts) at the manifest's operator boundaries.
 *
 * `mapOptimizedGraph` assigns every optimised node to an operator: by an output that keeps an original
 * tensor name, by its own name when it is an original node's name, or by the original tensor or node name
 * its name is derived from (`Relu_6.out_nchwc`, `fused Gemm_33`, `MatMul_14/MatMulScaleFusion/`); nodes
 * without such a name (inserted reorders) go with their producer, else their consumer. Nodes computed from
 * side inputs and weights only (BERT's mask arithmetic, which onnxruntime shares between layers) belong
 * to no operator: they are copied into every range that reads them. A layout conversion (ReorderOutput)
 * of a block's output that only the next operator reads moves into that operator when the blocked tensor
 * crosses the boundary anyway. The mapping is usable only if every
 * boundary is clean: exactly one tensor produced before the boundary is read after it (or is a graph
 * output), and no node reads a tensor of a later operator. Otherwise it says why, and the caller keeps
 * the original graph.
 */
import type { GraphProto, ModelProto, NodeProto } from '../onnx/generated/onnx_pb.js';
import { extractSubgraph, nodeReads, declaredTypes, valueInfo, type ElementType } from '../onnx/index.js';
import type { ValueInfoProto } from '../onnx/generated/onnx_pb.js';
import { InputError } from '../common/errors.js';
import { activationInput, type Manifest } from '../zoo/manifest.js';

const NCHWC_DOMAIN = 'com.microsoft.nchwc';

/** Operator of every optimised node; SHARED: computed from side inputs and weights, copied where read. */
export const SHARED = -1;

export interface OptimizedLayout {
  /** By optimised node index: the operator it belongs to, or SHARED. */
  nodeOperator: number[];
  /** The tensor crossing boundary k (k = 0..L): the activation input at 0, the graph output at L. */
  boundaries: string[];
  /** Boundary tensors without a declared type get `activationType` (blocked layouts keep the element type). */
  activationType: ElementType;
  /** Side inputs of the model (graph inputs other than the activation). */
  sideInputs: string[];
  /** How many nodes were placed by which rule (reported with the service). */
  placement: { byOutput: number; byName: number; byNeighbour: number; shared: number; movedReorders: number };
}

export type GraphMapping = { ok: true; layout: OptimizedLayout } | { ok: false; reason: string };

/** Candidate original names an optimised node's name may be derived from. */
function nameCandidates(name: string): string[] {
  const out = new Set<string>([name]);
  const stripped = name.replace(/^fused /, '').replace(/_nchwc$/, '');
  out.add(stripped);
  const slash = stripped.indexOf('/');
  if (slash > 0) out.add(stripped.slice(0, slash));
  out.add(stripped.replace(/_token_\d+$/, ''));
  return [...out].filter((s) => s.length > 0);
}

function describeNode(node: NodeProto, index: number): string {
  return `node ${index} '${node.name || '(unnamed)'}' (${node.domain ? `${node.domain}.` : ''}${node.opType})`;
}

/**
 * Map the optimised graph's nodes to the manifest's operators and check that it can be cut at every
 * operator boundary. `original` is the model the manifest describes.
 */
export function mapOptimizedGraph(original: ModelProto, manifest: Manifest, optimized: ModelProto): GraphMapping {
  const og = original.graph;
  const g = optimized.graph;
  if (!og || !g) return { ok: false, reason: 'a model has no graph' };
  const L = manifest.operators.length;
  const activation = activationInput(manifest);
  const sideInputs = manifest.inputs.filter((i) => i.role === 'side').map((i) => i.name);
  const graphInputs = new Set(g.input.map((i) => i.name));
  for (const i of manifest.inputs) {
    if (!graphInputs.has(i.name)) return { ok: false, reason: `the optimised graph has no input '${i.name}'` };
  }
  if (g.output.length !== 1) return { ok: false, reason: `the optimised graph has ${g.output.length} outputs (one is needed)` };
  const graphOutput = g.output[0]!.name;

  // The original graph: operator of every node, producer of every tensor, nodes by name.
  const originalOperator = new Map<number, number>();
  for (const op of manifest.operators) for (let i = op.nodes[0]; i < op.nodes[1]; i++) originalOperator.set(i, op.index);
  const originalProducer = new Map<string, number>();
  const originalByName = new Map<string, number>();
  og.node.forEach((n, i) => {
    for (const o of n.output) if (o) originalProducer.set(o, i);
    if (n.name) originalByName.set(n.name, i);
  });
  const operatorOfTensor = (t: string): number | undefined => {
    const p = originalProducer.get(t);
    return p === undefined ? undefined : originalOperator.get(p);
  };

  const inits = new Set(g.initializer.map((t) => t.name));
  const producer = new Map<string, number>();
  g.node.forEach((n, i) => n.output.forEach((o) => o && producer.set(o, i)));
  const consumers = new Map<string, number[]>();
  g.node.forEach((n, i) => {
    for (const r of nodeReads(n)) {
      const list = consumers.get(r) ?? [];
      list.push(i);
      consumers.set(r, list);
    }
  });
  for (const [i, n] of g.node.entries()) {
    for (const r of nodeReads(n)) {
      if (!producer.has(r) && !inits.has(r) && !graphInputs.has(r)) return { ok: false, reason: `${describeNode(n, i)} reads '${r}', which nothing produces` };
    }
  }

  // Side computations: nodes that read only side inputs, weights and other side computations.
  const sideTensors = new Set<string>([...sideInputs, ...inits]);
  const nodeOperator: Array<number | undefined> = g.node.map(() => undefined);
  let shared = 0;
  g.node.forEach((n, i) => {
    // graph order is topological, so one pass sees every producer first
    if (nodeReads(n).every((r) => sideTensors.has(r))) {
      nodeOperator[i] = SHARED;
      shared++;
      for (const o of n.output) if (o) sideTensors.add(o);
    }
  });

  // Direct placement: an output that keeps an original name, then the node's (derived) name.
  let byOutput = 0;
  let byName = 0;
  g.node.forEach((n, i) => {
    if (nodeOperator[i] !== undefined) return;
    for (const o of n.output) {
      const op = o ? operatorOfTensor(o) : undefined;
      if (op !== undefined) {
        nodeOperator[i] = op;
        byOutput++;
        return;
      }
    }
    for (const c of nameCandidates(n.name)) {
      const node = originalByName.get(c);
      const op = node !== undefined ? originalOperator.get(node) : operatorOfTensor(c);
      if (op !== undefined) {
        nodeOperator[i] = op;
        byName++;
        return;
      }
    }
  });

  // The rest go with their producers (the latest operator among them), else with their consumers.
  let byNeighbour = 0;
  for (let changed = true; changed; ) {
    changed = false;
    g.node.forEach((n, i) => {
      if (nodeOperator[i] !== undefined) return;
      const fromProducers = nodeReads(n)
        .map((r) => (r === activation.name ? 0 : producer.has(r) ? nodeOperator[producer.get(r)!] : undefined))
        .filter((op): op is number => op !== undefined && op !== SHARED);
      const fromConsumers = n.output
        .flatMap((o) => consumers.get(o) ?? [])
        .map((c) => nodeOperator[c])
        .filter((op): op is number => op !== undefined && op !== SHARED);
      const op = fromProducers.length > 0 ? Math.max(...fromProducers) : fromConsumers.length > 0 ? Math.min(...fromConsumers) : undefined;
      if (op !== undefined) {
        nodeOperator[i] = op;
        byNeighbour++;
        changed = true;
      }
    });
  }
  const unplaced = nodeOperator.findIndex((op) => op === undefined);
  if (unplaced >= 0) return { ok: false, reason: `${describeNode(g.node[unplaced]!, unplaced)} cannot be placed in any operator` };
  const placed = nodeOperator as number[];

  // A layout conversion whose readers are all in later operators, of a tensor that crosses into them
  // anyway (a block's output read both blocked and plain by the next block), moves to its first reader:
  // then only the blocked tensor crosses.
  let moved = 0;
  g.node.forEach((n, i) => {
    if (n.domain !== NCHWC_DOMAIN || (n.opType !== 'ReorderOutput' && n.opType !== 'ReorderInput')) return;
    const op = placed[i]!;
    const x = n.input[0];
    if (op === SHARED || !x || n.output.some((o) => o === graphOutput)) return;
    const readers = n.output.flatMap((o) => consumers.get(o) ?? []).map((c) => placed[c]!);
    if (readers.length === 0 || readers.some((r) => r <= op)) return;
    const xCrosses = (consumers.get(x) ?? []).some((c) => c !== i && placed[c]! > op);
    if (!xCrosses) return;
    placed[i] = Math.min(...readers);
    moved++;
  });

  // Every operator keeps at least one node; no node reads a tensor of a later operator.
  const counts = new Array<number>(L).fill(0);
  for (const op of placed) if (op !== SHARED) counts[op]!++;
  const empty = counts.findIndex((c) => c === 0);
  if (empty >= 0) return { ok: false, reason: `operator ${empty} (${manifest.operators[empty]!.name}) has no node left in the optimised graph` };
  const operatorOf = (t: string): number | null => {
    if (t === activation.name) return -1; // "produced" before operator 0
    const p = producer.get(t);
    return p === undefined ? null : placed[p]!;
  };
  for (const [i, n] of g.node.entries()) {
    const op = placed[i]!;
    if (op === SHARED) continue;
    for (const r of nodeReads(n)) {
      const from = operatorOf(r);
      if (from !== null && from !== SHARED && from > op) {
        return { ok: false, reason: `${describeNode(n, i)} of operator ${op} reads '${r}' of the later operator ${from}` };
      }
    }
  }
  if (operatorOf(graphOutput) !== L - 1) return { ok: false, reason: `the graph output '${graphOutput}' is not produced by the last operator` };

  // The tensors crossing each inner boundary: produced before it (non-shared), read at or after it.
  const lastReader = new Map<string, number>();
  for (const [i, n] of g.node.entries()) {
    const op = placed[i]!;
    if (op === SHARED) continue;
    for (const r of nodeReads(n)) {
      const from = operatorOf(r);
      if (from === null || from === SHARED) continue;
      lastReader.set(r, Math.max(lastReader.get(r) ?? -1, op));
    }
  }
  const crossing: string[][] = Array.from({ length: L + 1 }, () => []);
  for (const [t, last] of lastReader) {
    const from = operatorOf(t)!;
    for (let k = from + 1; k <= last; k++) crossing[k]!.push(t);
  }
  crossing[0] = [activation.name];
  if (!crossing[L]!.includes(graphOutput)) crossing[L]!.push(graphOutput);
  for (let k = 1; k <= L; k++) {
    const c = crossing[k]!;
    if (c.length !== 1) {
      const where = k === L ? 'after the last operator' : `between operators ${k - 1} and ${k} (${manifest.operators[k - 1]!.name} | ${manifest.operators[k]!.name})`;
      return { ok: false, reason: `${c.length === 0 ? 'no tensor crosses' : `${c.length} tensors cross (${c.slice(0, 4).join(', ')})`} ${where}` };
    }
  }
  const boundaries = crossing.map((c) => c[0]!);
  return { ok: true, layout: { nodeOperator: placed, boundaries, activationType: activation.dtype, sideInputs, placement: { byOutput, byName, byNeighbour, shared, movedReorders: moved } } };
}

export interface OptimizedRange {
  model: ModelProto;
  /** Graph inputs in order: the boundary activation first, then side inputs. */
  inputs: string[];
  output: string;
}

/** Operators [start, end) of the optimised graph as a standalone model (weights stay external). */
export function optimizedRangeModel(optimized: ModelProto, layout: OptimizedLayout, start: number, end: number, name: string, sourceLabel: string): OptimizedRange {
  const g = optimized.graph as GraphProto;
  const L = layout.boundaries.length - 1;
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > L || start >= end) {
    throw new InputError(`${sourceLabel}: bad operator range [${start}, ${end}) (the model has ${L} operators)`);
  }
  const rangeNodes: number[] = [];
  layout.nodeOperator.forEach((op, i) => {
    if (op >= start && op < end) rangeNodes.push(i);
  });
  const producer = new Map<string, number>();
  g.node.forEach((n, i) => n.output.forEach((o) => o && producer.set(o, i)));
  const needed = new Set<number>();
  const stack = rangeNodes.flatMap((i) => nodeReads(g.node[i]!));
  while (stack.length > 0) {
    const t = stack.pop() as string;
    const p = producer.get(t);
    if (p === undefined || layout.nodeOperator[p] !== SHARED || needed.has(p)) continue;
    needed.add(p);
    stack.push(...nodeReads(g.node[p]!));
  }
  const nodes = [...needed, ...rangeNodes].sort((a, b) => a - b);
  const reads = new Set(nodes.flatMap((i) => nodeReads(g.node[i]!)));
  const input = layout.boundaries[start]!;
  const output = layout.boundaries[end]!;
  const inputs = [input, ...layout.sideInputs.filter((s) => reads.has(s) && s !== input)];
  const declared = declaredTypes(g);
  const types = new Map<string, ValueInfoProto>();
  for (const t of [input, output]) if (!declared.has(t)) types.set(t, valueInfo(t, layout.activationType, null));
  const model = extractSubgraph(optimized, { nodes, inputs, outputs: [output], types, name }, sourceLabel);
  return { model, inputs, output };
}
