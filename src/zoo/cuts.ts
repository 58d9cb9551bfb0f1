/**
 * Cut points of a user's ONNX graph (`abacus split`), found from the graph's structure alone.
 *
 * The activation input is the first graph input that is not an initializer (or the one named); the
 * other graph inputs are side inputs. A node is *floating* when everything it reads is an initializer,
 * a side input or the output of another floating node (Constant nodes, Identity copies of weights, mask
 * arithmetic): floating nodes are recomputed by every segment that needs them, so they go first in the
 * rewritten node order, outside every operator's node range. The remaining *activation* nodes keep the
 * file's order when it is a valid topological order (cut positions depend on it) and are otherwise
 * sorted topologically, stably. A cut between two activation positions is valid when exactly one
 * tensor produced before it is read after it (or is the graph output); graph inputs and initializers do
 * not count, but the activation input itself does (a Shape of it read late crosses every cut between).
 * Nodes that do not contribute to the graph output are dropped.
 */
import type { GraphProto } from '../onnx/generated/onnx_pb.js';
import { nodeReads } from '../onnx/index.js';
import { InputError } from '../common/errors.js';

export interface Cut {
  /** Number of activation nodes before the cut (1 ≤ position < activation node count). */
  position: number;
  /** The one tensor that crosses the cut. */
  tensor: string;
}

export interface GraphCuts {
  activationInput: string;
  sideInputs: string[];
  output: string;
  /** Source node indices in the rewritten order: `floating` floating nodes, then the activation nodes. */
  order: number[];
  floating: number;
  /** True when the file's node order was not a valid topological order and was sorted. */
  reordered: boolean;
  /** Source node indices dropped because nothing they produce reaches the graph output. */
  pruned: number[];
  /** Valid cuts in order of position. */
  cuts: Cut[];
}

export interface CutOptions {
  activationInput?: string;
  /** Names the model in error messages (its file). */
  label: string;
}

export function findCuts(graph: GraphProto, options: CutOptions): GraphCuts {
  const label = options.label;
  const initializers = new Set(graph.initializer.map((t) => t.name));
  const inputs = graph.input.map((i) => i.name).filter((n) => n !== '' && !initializers.has(n));
  if (inputs.length === 0) throw new InputError(`${label}: the graph has no input (every graph input is a weight)`);
  let activationInput = inputs[0] as string;
  if (options.activationInput !== undefined) {
    if (!inputs.includes(options.activationInput)) {
      throw new InputError(`${label}: no graph input named '${options.activationInput}' (inputs: ${inputs.join(', ')})`);
    }
    activationInput = options.activationInput;
  }
  const sideInputs = inputs.filter((n) => n !== activationInput);
  const outputs = graph.output.map((o) => o.name);
  if (outputs.length !== 1) {
    throw new InputError(`${label}: the graph has ${outputs.length} outputs (${outputs.join(', ')}); abacus split handles models with one output`);
  }
  const output = outputs[0] as string;

  const nodes = graph.node;
  const reads = nodes.map((n) => nodeReads(n));
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => {
    for (const o of n.output) {
      if (o === '') continue;
      if (producer.has(o) || initializers.has(o) || inputs.includes(o)) {
        throw new InputError(`${label}: tensor '${o}' is written twice (node ${i} '${n.name || n.opType}'); not a valid ONNX graph`);
      }
      producer.set(o, i);
    }
  });
  const external = (t: string): boolean => initializers.has(t) || inputs.includes(t);
  reads.forEach((rs, i) => {
    for (const r of rs) {
      if (!producer.has(r) && !external(r)) {
        throw new InputError(`${label}: node ${i} '${nodes[i]!.name || nodes[i]!.opType}' reads '${r}', which no node produces and which is neither an input nor a weight`);
      }
    }
  });

  // Topological order: the file's order when valid, else a stable sort (Kahn, smallest index first).
  let topo: number[] = nodes.map((_, i) => i);
  let reordered = false;
  {
    const seen = new Set<string>();
    let valid = true;
    for (let i = 0; i < nodes.length && valid; i++) {
      for (const r of reads[i]!) if (!external(r) && !seen.has(r)) valid = false;
      for (const o of nodes[i]!.output) if (o !== '') seen.add(o);
    }
    if (!valid) {
      topo = stableTopologicalOrder(reads, producer, label);
      reordered = true;
    }
  }

  // Drop nodes that do not contribute to the output.
  const needed = new Set<string>([output]);
  const live = new Set<number>();
  for (let k = topo.length - 1; k >= 0; k--) {
    const i = topo[k]!;
    if (!nodes[i]!.output.some((o) => o !== '' && needed.has(o))) continue;
    live.add(i);
    for (const r of reads[i]!) needed.add(r);
  }
  const pruned = topo.filter((i) => !live.has(i)).sort((a, b) => a - b);
  const liveOrder = topo.filter((i) => live.has(i));

  // Floating nodes: everything they read is a weight, a side input or another floating node's output.
  const stationary = new Set<string>([...initializers, ...sideInputs]);
  const floatingNodes: number[] = [];
  const activationNodes: number[] = [];
  for (const i of liveOrder) {
    if (reads[i]!.every((r) => stationary.has(r))) {
      floatingNodes.push(i);
      for (const o of nodes[i]!.output) if (o !== '') stationary.add(o);
    } else {
      activationNodes.push(i);
    }
  }
  if (output === activationInput || stationary.has(output) || !producer.has(output)) {
    throw new InputError(`${label}: the output '${output}' does not depend on the activation input '${activationInput}'`);
  }

  // Liveness of activation tensors over positions 0..M-1 of the activation nodes.
  const m = activationNodes.length;
  const position = new Map<number, number>();
  activationNodes.forEach((i, p) => position.set(i, p));
  const produced = new Map<string, number>([[activationInput, -1]]);
  const lastUse = new Map<string, number>();
  activationNodes.forEach((i, p) => {
    for (const r of reads[i]!) if (!stationary.has(r)) lastUse.set(r, p);
    for (const o of nodes[i]!.output) if (o !== '') produced.set(o, p);
  });
  lastUse.set(output, m);
  // A tensor produced at p and last read at q crosses the cuts at positions p+1..q.
  const starts = new Map<number, string[]>();
  const ends = new Map<number, string[]>();
  for (const [t, p] of produced) {
    const q = lastUse.get(t);
    if (q === undefined || q < p + 1) continue;
    push(starts, p + 1, t);
    push(ends, q + 1, t);
  }
  const crossing = new Set<string>();
  const cuts: Cut[] = [];
  for (let c = 0; c < m; c++) {
    for (const t of ends.get(c) ?? []) crossing.delete(t);
    for (const t of starts.get(c) ?? []) crossing.add(t);
    if (c === 0 || crossing.size !== 1) continue;
    const tensor = crossing.values().next().value as string;
    if (tensor !== activationInput) cuts.push({ position: c, tensor });
  }
  return {
    activationInput,
    sideInputs,
    output,
    order: [...floatingNodes, ...activationNodes],
    floating: floatingNodes.length,
    reordered,
    pruned,
    cuts,
  };
}

function push(map: Map<number, string[]>, key: number, value: string): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Kahn's algorithm taking the smallest ready node index first, so a nearly sorted file keeps its order. */
function stableTopologicalOrder(reads: readonly string[][], producer: ReadonlyMap<string, number>, label: string): number[] {
  const n = reads.length;
  const pending = new Array<number>(n).fill(0);
  const consumers: number[][] = Array.from({ length: n }, () => []);
  reads.forEach((rs, i) => {
    for (const p of new Set(rs.map((r) => producer.get(r)).filter((p): p is number => p !== undefined))) {
      pending[i]!++;
      consumers[p]!.push(i);
    }
  });
  const heap = new MinHeap();
  pending.forEach((k, i) => { if (k === 0) heap.push(i); });
  const order: number[] = [];
  while (heap.size > 0) {
    const i = heap.pop();
    order.push(i);
    for (const c of consumers[i]!) if (--pending[c]! === 0) heap.push(c);
  }
  if (order.length !== n) throw new InputError(`${label}: the graph has a cycle (${n - order.length} nodes never become ready)`);
  return order;
}

class MinHeap {
  private readonly items: number[] = [];
  get size(): number {
    return this.items.length;
  }
  push(x: number): void {
    const a = this.items;
    a.push(x);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (a[parent]! <= x) break;
      a[i] = a[parent]!;
      i = parent;
    }
    a[i] = x;
  }
  pop(): number {
    const a = this.items;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const r = l + 1;
        const child = r < a.length && a[r]! < a[l]! ? r : l;
        if (a[child]! >= last) break;
        a[i] = a[child]!;
        i = child;
      }
      a[i] = last;
    }
    return top;
  }
}

/**
 * Split `weights` (the FLOPs of consecutive pieces) into `n` non-empty contiguous groups so that the
 * largest group sum is as small as possible; among those partitions, the one with the smallest sum of
 * squared group sums (the most even). Returns the index of the first piece of each group.
 */
export function balancedPartition(weights: readonly number[], n: number): number[] {
  const p = weights.length;
  if (!Number.isInteger(n) || n < 1 || n > p) throw new RangeError(`balancedPartition: cannot make ${n} groups of ${p} pieces`);
  const prefix = [0];
  for (const w of weights) {
    if (!(w >= 0) || !Number.isFinite(w)) throw new RangeError(`balancedPartition: bad weight ${w}`);
    prefix.push(prefix[prefix.length - 1]! + w);
  }
  const total = prefix[p]!;
  const sum = (a: number, b: number): number => prefix[b]! - prefix[a]!;
  if (n === p) return weights.map((_, i) => i);
  // best[g][i]: the smallest possible maximum group sum when the first i pieces form g groups. Group g
  // can end at i only if the n - g later groups still get a piece each, which keeps the loops short
  // when n is close to p (the usual case).
  const inf = Number.POSITIVE_INFINITY;
  let best = new Array<number>(p + 1).fill(inf);
  best[0] = 0;
  for (let g = 1; g <= n; g++) {
    const cur = new Array<number>(p + 1).fill(inf);
    for (let i = g; i <= p - (n - g); i++) {
      let v = inf;
      for (let k = g - 1; k < i; k++) {
        const m = Math.max(best[k]!, sum(k, i));
        if (m < v) v = m;
      }
      cur[i] = v;
    }
    best = cur;
  }
  const bound = best[p]!;
  // Among partitions into exactly n groups with every group ≤ bound, minimise Σ (sum/total)².
  const scale = total > 0 ? total : 1;
  let prev = new Array<number>(p + 1).fill(inf);
  prev[0] = 0;
  const choice: Int32Array[] = [];
  for (let g = 1; g <= n; g++) {
    const cur = new Array<number>(p + 1).fill(inf);
    const from = new Int32Array(p + 1).fill(-1);
    for (let i = g; i <= p - (n - g); i++) {
      for (let k = i - 1; k >= g - 1; k--) {
        const s = sum(k, i);
        if (s > bound) break;
        const base = prev[k]!;
        if (base === inf) continue;
        const v = base + (s / scale) ** 2;
        if (v < cur[i]!) {
          cur[i] = v;
          from[i] = k;
        }
      }
    }
    choice.push(from);
    prev = cur;
  }
  const starts: number[] = [];
  let i = p;
  for (let g = n; g >= 1; g--) {
    const k = choice[g - 1]![i]!;
    if (k < 0) throw new Error('balancedPartition: no partition within the bound (internal error)');
    starts.push(k);
    i = k;
  }
  return starts.reverse();
}
