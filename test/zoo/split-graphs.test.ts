/**
 * `abacus split` on graphs built here: branches (a diamond), a side input read through floating nodes,
 * a file whose node order is not topological, a Shape of the activation read late, symbolic dims at the
 * boundaries, and `operators: N` with FLOPs balanced (checked against brute force).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import * as ort from 'onnxruntime-node';
import { GraphBuilder, attr, onnxProto, readOnnxModel, writeOnnxModel, valueInfo } from '../../src/onnx/index.js';
import { EmbeddedWeights } from '../../src/onnx/weights.js';
import { onnxType } from '../../src/onnx/dtype.js';
import { splitModel } from '../../src/zoo/split.js';
import { balancedPartition, findCuts } from '../../src/zoo/cuts.js';
import { cleanup, floats, maxAbsDiff, runChain, runWhole, tempDir, values, writeBuilt } from '../fixtures/split/helpers.js';

/**
 * x ─MatMul─ h ─Relu─ a ─┬─Sigmoid─ b ─┐
 *                        └─Tanh──── c ─┴─Add─ d ─Mul(· , mask·k)─ e ─MatMul─ y
 * mask·k is floating (a side input times a Constant node's value).
 */
function diamond(name = 'diamond'): GraphBuilder {
  const b = new GraphBuilder(name);
  const x = b.input('x', ['batch', 4]);
  const mask = b.input('mask', ['batch', 4]);
  const h = b.op('MatMul', [x, b.weight('w1', [4, 4], values(16, 1))]);
  const a = b.op('Relu', [h]);
  const sig = b.op('Sigmoid', [a]);
  const k = b.node('Constant', [], { value: attr.tensor(new EmbeddedWeights().add('k', onnxType('float32'), [], new Uint8Array(Float32Array.of(0.5).buffer))) })[0]!;
  const th = b.op('Tanh', [a]);
  const scaled = b.op('Mul', [mask, k]);
  const d = b.op('Add', [sig, th]);
  const e = b.op('Mul', [d, scaled]);
  b.node('MatMul', [e, b.weight('w2', [4, 3], values(12, 2))], {}, ['y']);
  b.output('y', ['batch', 3]);
  return b;
}

test('a diamond is not cut inside; floating nodes go first; the side input reaches the operator that needs it', async () => {
  const dir = tempDir();
  try {
    const path = writeBuilt(dir, diamond());
    const outDir = join(dir, 'out');
    const result = await splitModel(path, { outDir, verify: true });
    const h = 'MatMul_0.out';
    const a = 'Relu_1.out';
    assert.deepEqual(result.cutTensors, [h, a, 'Add_6.out', 'Mul_7.out']);
    assert.equal(result.operators, 5);
    assert.equal(result.floatingNodes, 2, 'the Constant and mask·k');
    assert.equal(result.maxAbsDiff, 0);
    const m = result.manifest;
    assert.deepEqual(m.inputs.map((i) => [i.name, i.role, i.shape]), [['x', 'activation', ['batch', 4]], ['mask', 'side', ['batch', 4]]]);
    assert.deepEqual(m.operators.map((op) => op.nodes), [[2, 3], [3, 4], [4, 7], [7, 8], [8, 9]]);
    assert.deepEqual(m.operators.map((op) => op.sideInputs), [[], [], [], ['mask'], []]);
    assert.deepEqual(m.operators.map((op) => op.params), [16, 0, 0, 0, 12]);
    assert.equal(m.params, 28);
    const graph = readOnnxModel(join(outDir, 'model.onnx')).model.graph!;
    assert.deepEqual(graph.node.slice(0, 2).map((n) => n.opType), ['Constant', 'Mul']);

    // Chain and whole model agree at another batch size with a real (not all-ones) mask.
    const feeds = { x: floats([3, 4], 7), mask: floats([3, 4], 8) };
    const whole = await runWhole(outDir, m, feeds);
    const chain = await runChain(outDir, feeds);
    assert.deepEqual([...chain.dims], [3, 3]);
    assert.equal(maxAbsDiff(chain.data as Float32Array, whole.data as Float32Array), 0);
  } finally {
    cleanup(dir);
  }
});

test('a file whose node order is not topological is sorted stably, with the same cuts', async () => {
  const dir = tempDir();
  try {
    const model = diamond('shuffled').toModel();
    const nodes = model.graph!.node;
    model.graph!.node = [...nodes].reverse();
    const path = join(dir, 'shuffled.onnx');
    writeOnnxModel(path, model);
    const result = await splitModel(path, { outDir: join(dir, 'out'), verify: true });
    assert.equal(result.reordered, true);
    assert.deepEqual(result.cutTensors, ['MatMul_0.out', 'Relu_1.out', 'Add_6.out', 'Mul_7.out']);
    assert.ok(result.maxAbsDiff === 0, 'chain = whole');
    // The stable sort puts the Tanh branch (later in the reversed file) before the Sigmoid branch.
    const found = findCuts(model.graph!, { label: 'shuffled' });
    const opTypes = found.order.map((i) => model.graph!.node[i]!.opType);
    assert.deepEqual(opTypes, ['Constant', 'Mul', 'MatMul', 'Relu', 'Tanh', 'Sigmoid', 'Add', 'Mul', 'MatMul']);
  } finally {
    cleanup(dir);
  }
});

/** x → Relu → MatMul → Relu → Reshape(·, shape): `shape` is Shape(x) (late) or a weight (floating). */
function shapeGraph(name: string, late: boolean): GraphBuilder {
  const b = new GraphBuilder(name);
  const x = b.input('x', ['batch', 4]);
  const shape = late ? b.op('Shape', [x]) : b.op('Identity', [b.int64s('shape', [-1, 4])]);
  const a = b.op('Relu', [x]);
  const m = b.op('MatMul', [a, b.weight('w', [4, 4], values(16, 3))]);
  const r = b.op('Relu', [m]);
  b.node('Reshape', [r, shape], {}, ['y']);
  b.output('y', ['batch', 4]);
  return b;
}

test('a Shape of the activation read late crosses the cuts; a Shape-like weight copy floats', async () => {
  const dir = tempDir();
  try {
    const late = await splitModel(writeBuilt(dir, shapeGraph('late', true)), { outDir: join(dir, 'late'), operators: 1, verify: true });
    assert.equal(late.cuts, 0, 'Shape(x) is live from the start to the Reshape');
    assert.equal(late.operators, 1);
    assert.equal(late.floatingNodes, 0);
    assert.deepEqual(late.manifest.operators[0]!.nodes, [0, 5]);
    const early = await splitModel(writeBuilt(dir, shapeGraph('early', false)), { outDir: join(dir, 'early'), verify: true });
    assert.equal(early.floatingNodes, 1);
    assert.deepEqual(early.cutTensors, ['Relu_1.out', 'MatMul_2.out', 'Relu_3.out']);
    assert.equal(early.maxAbsDiff, 0);
  } finally {
    cleanup(dir);
  }
});

test('boundary dims: input symbols by name, constants as numbers, derived sizes as fresh symbols', async () => {
  const dir = tempDir();
  try {
    const b = new GraphBuilder('symbols');
    const x = b.input('x', ['batch', 'seq', 8]);
    const h = b.op('MatMul', [x, b.weight('w', [8, 8], values(64, 4))]);
    const t = b.op('Transpose', [h], { perm: attr.ints([0, 2, 1]) });
    const f = b.op('Flatten', [t], { axis: attr.int(1) });
    b.node('Relu', [f], {}, ['y']);
    b.output('y', ['batch', 'flat']);
    const result = await splitModel(writeBuilt(dir, b), { outDir: join(dir, 'out'), verify: true });
    assert.deepEqual(result.reference, { batch: 1, seq: 8 });
    assert.deepEqual(result.manifest.operators.map((op) => op.outputShape), [['batch', 'seq', 8], ['batch', 8, 'seq'], ['batch', 'split_dim0'], ['batch', 'split_dim0']]);
    assert.deepEqual(result.manifest.outputs[0]!.shape, ['batch', 'split_dim0']);
    // MatMul FLOPs at the reference: 2 · (1·8·8) · 8.
    assert.equal(result.manifest.operators[0]!.flops, 2 * 64 * 8);
    const out = await runChain(join(dir, 'out'), { x: floats([2, 5, 8], 1) });
    assert.deepEqual([...out.dims], [2, 40]);

    // Reference values can be chosen; unnamed input dims get names (the activation's first is the batch).
    const u = new GraphBuilder('unnamed');
    u.inputs.push(create(onnxProto.ValueInfoProtoSchema, {
      name: 'x',
      type: valueInfo('x', 'float32', [1, 1, 1]).type,
    }));
    const dimsOf = u.inputs[0]!.type!.value.value as onnxProto.TypeProto_Tensor;
    dimsOf.shape!.dim[0] = create(onnxProto.TensorShapeProto_DimensionSchema, {});
    dimsOf.shape!.dim[1] = create(onnxProto.TensorShapeProto_DimensionSchema, {});
    const r = u.op('Relu', ['x']);
    u.node('Sigmoid', [r], {}, ['y']);
    u.output('y', ['n', 'm', 1]);
    const named = await splitModel(writeBuilt(dir, u), { outDir: join(dir, 'unnamed'), dims: { x_dim1: 3 } });
    assert.deepEqual(named.manifest.inputs[0]!.shape, ['batch', 'x_dim1', 1]);
    assert.deepEqual(named.reference, { batch: 1, x_dim1: 3 });
    assert.deepEqual(named.manifest.operators[0]!.outputShape, ['batch', 'x_dim1', 1]);
  } finally {
    cleanup(dir);
  }
});

test('a model with fixed input dims keeps numbers everywhere', async () => {
  const dir = tempDir();
  try {
    const b = new GraphBuilder('fixed');
    const x = b.input('x', [2, 4]);
    const a = b.op('Relu', [x]);
    b.node('MatMul', [a, b.weight('w', [4, 2], values(8, 5))], {}, ['y']);
    b.output('y', [2, 2]);
    const result = await splitModel(writeBuilt(dir, b), { outDir: join(dir, 'out'), verify: true });
    assert.deepEqual(result.reference, {});
    assert.deepEqual(result.manifest.operators.map((op) => op.outputShape), [[2, 4], [2, 2]]);
  } finally {
    cleanup(dir);
  }
});

test('the activation input can be named; every other input is a side input', async () => {
  const dir = tempDir();
  try {
    const b = new GraphBuilder('named');
    const mask = b.input('mask', ['batch', 4]);
    const x = b.input('x', ['batch', 4]);
    const m2 = b.op('Neg', [mask]);
    const a = b.op('Relu', [x]);
    const c = b.op('Add', [a, m2]);
    b.node('Sigmoid', [c], {}, ['y']);
    b.output('y', ['batch', 4]);
    const result = await splitModel(writeBuilt(dir, b), { outDir: join(dir, 'out'), activationInput: 'x', verify: true });
    assert.deepEqual(result.manifest.inputs.map((i) => [i.name, i.role]), [['x', 'activation'], ['mask', 'side']]);
    assert.equal(result.floatingNodes, 1);
    assert.deepEqual(result.cutTensors, ['Relu_1.out', 'Add_2.out']);
    assert.deepEqual(result.manifest.operators.map((op) => op.sideInputs), [[], ['mask'], []]);
  } finally {
    cleanup(dir);
  }
});

/** A chain of MatMul+Relu layers of varying widths: every point between nodes is a cut. */
function mlp(widths: number[]): GraphBuilder {
  const b = new GraphBuilder('mlp');
  let t = b.input('x', ['batch', widths[0]!]);
  for (let i = 1; i < widths.length; i++) {
    t = b.op('MatMul', [t, b.weight(`w${i}`, [widths[i - 1]!, widths[i]!], values(widths[i - 1]! * widths[i]!, i))]);
    if (i < widths.length - 1) t = b.op('Relu', [t]);
  }
  b.nodes[b.nodes.length - 1]!.output[0] = 'y';
  b.output('y', ['batch', widths[widths.length - 1]!]);
  return b;
}

/** The smallest possible largest group sum over all partitions of `w` into `n` contiguous groups. */
function bruteMinMax(w: readonly number[], n: number): number {
  let best = Number.POSITIVE_INFINITY;
  const walk = (start: number, groups: number, worst: number): void => {
    if (groups === 1) {
      best = Math.min(best, Math.max(worst, w.slice(start).reduce((a, b) => a + b, 0)));
      return;
    }
    let acc = 0;
    for (let end = start + 1; end <= w.length - (groups - 1); end++) {
      acc += w[end - 1]!;
      walk(end, groups - 1, Math.max(worst, acc));
    }
  };
  walk(0, n, 0);
  return best;
}

test('--operators N merges pieces into N operators with the largest operator FLOPs minimal', async () => {
  const dir = tempDir();
  try {
    const path = writeBuilt(dir, mlp([8, 32, 4, 64, 16, 16, 8]));
    const all = await splitModel(path, { outDir: join(dir, 'all') });
    assert.equal(all.operators, 11);
    const pieceFlops = all.manifest.operators.map((op) => op.flops);
    const total = pieceFlops.reduce((a, b) => a + b, 0);
    const cutNodes = new Set(all.manifest.operators.map((op) => op.nodes[0]));
    for (const n of [1, 2, 3, 4, 6, 11]) {
      const r = await splitModel(path, { outDir: join(dir, `n${n}`), operators: n, verify: n === 3 });
      assert.equal(r.operators, n);
      const flops = r.manifest.operators.map((op) => op.flops);
      assert.equal(flops.reduce((a, b) => a + b, 0), total, 'FLOPs are conserved');
      assert.equal(Math.max(...flops), bruteMinMax(pieceFlops, n), `N=${n}: ${flops.join(' ')}`);
      for (const op of r.manifest.operators) assert.ok(cutNodes.has(op.nodes[0]), 'operators start at valid cuts');
      if (n === 3) assert.ok(r.maxAbsDiff !== undefined && r.maxAbsDiff <= 1e-6, 'chain = whole');
    }
  } finally {
    cleanup(dir);
  }
});

test('balancedPartition: exactly n non-empty groups, minimal maximum (brute force), evenest among ties', () => {
  let seed = 12345;
  const rand = (k: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % k;
  };
  for (let trial = 0; trial < 200; trial++) {
    const p = 1 + rand(9);
    const w = Array.from({ length: p }, () => (rand(4) === 0 ? 0 : rand(100)));
    for (let n = 1; n <= p; n++) {
      const starts = balancedPartition(w, n);
      assert.equal(starts.length, n);
      assert.equal(starts[0], 0);
      for (let i = 1; i < n; i++) assert.ok(starts[i]! > starts[i - 1]!, 'groups are non-empty and ordered');
      const sums = starts.map((s, i) => w.slice(s, starts[i + 1] ?? p).reduce((a, b) => a + b, 0));
      assert.equal(Math.max(...sums), bruteMinMax(w, n), `w=${w.join(',')} n=${n}`);
    }
  }
  assert.deepEqual(balancedPartition([1, 1, 1, 1], 2), [0, 2]);
  assert.deepEqual(balancedPartition([4, 1, 1, 1, 1], 2), [0, 1]);
  assert.deepEqual(balancedPartition([3, 1, 1, 1, 3, 1], 3), [0, 1, 4], '3 | 1 1 1 | 3 1 (3, 3, 4) is evener than 3 1 | 1 1 | 3 1 (4, 2, 4)');
  assert.throws(() => balancedPartition([1, 2], 3), RangeError);
  assert.throws(() => balancedPartition([1, 2], 0), RangeError);
});

test('an earlier model folder at --out is replaced', async () => {
  const dir = tempDir();
  try {
    const outDir = join(dir, 'out');
    await splitModel(writeBuilt(dir, diamond()), { outDir });
    const again = await splitModel(writeBuilt(dir, shapeGraph('early', false)), { outDir, name: 'second' });
    assert.equal(again.manifest.name, 'second');
    assert.equal(readOnnxModel(join(outDir, 'model.onnx')).model.graph!.node.length, 5);
    const whole = await runWhole(outDir, again.manifest, { x: new ort.Tensor('float32', new Float32Array(8).fill(1), [2, 4]) });
    assert.deepEqual([...whole.dims], [2, 4]);
  } finally {
    cleanup(dir);
  }
});

test('a model with external data (a split model folder) splits again into the same operators', async () => {
  const dir = tempDir();
  try {
    const first = await splitModel(writeBuilt(dir, mlp([8, 32, 4, 64])), { outDir: join(dir, 'first') });
    const again = await splitModel(join(dir, 'first', 'model.onnx'), { outDir: join(dir, 'again'), name: 'again', verify: true });
    assert.deepEqual(again.cutTensors, first.cutTensors);
    assert.deepEqual(again.manifest.operators.map((op) => [op.nodes, op.outputShape, op.flops, op.params]),
      first.manifest.operators.map((op) => [op.nodes, op.outputShape, op.flops, op.params]));
    assert.equal(again.maxAbsDiff, 0);
  } finally {
    cleanup(dir);
  }
});
