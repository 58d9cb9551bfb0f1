/**
 * `abacus split` on the patterns other exporters write, built here with the project's ONNX builder (PyTorch,
 * tf2onnx and Paddle2ONNX are not installed): an NHWC-free detector head whose input has dynamic batch,
 * height and width named as tf2onnx names them (`unk__612`, ...), sizes that must be multiples of 32 (a
 * patchify Reshape computed from Shape), a head whose weights are `Constant` nodes (Paddle2ONNX, PyTorch's
 * dynamo exporter), and a dynamic output shape. The split model must keep its dims symbolic, count every
 * weight, get an id of its own, and serve.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { GraphBuilder, attr } from '../../src/onnx/index.js';
import { EmbeddedWeights } from '../../src/onnx/weights.js';
import { onnxType } from '../../src/onnx/dtype.js';
import { defaultSplitId, splitModel } from '../../src/zoo/split.js';
import { OnlineServer } from '../../src/serve/index.js';
import { cleanup, floats, maxAbsDiff, runChain, runWhole, tempDir, values, writeBuilt } from '../fixtures/split/helpers.js';

/** A Constant node holding float weights (how Paddle2ONNX and some PyTorch exports store them). */
function constantWeight(b: GraphBuilder, name: string, dims: number[], seed: number): string {
  const count = dims.reduce((a, c) => a * c, 1);
  const v = values(count, seed);
  return b.node('Constant', [], { value: attr.tensor(new EmbeddedWeights().add(name, onnxType('float32'), dims, new Uint8Array(v.buffer))) })[0]!;
}

/**
 * image [unk__612, 3, unk__613, unk__614] ─Conv 3x3─Relu─ a ─Conv 3x3 s2─Relu─ b ─Reshape to
 * [n, 8, h/16, 16, w/16, 16] (shape from Shape(b): h and w must be multiples of 16, the image's of 32)
 * ─ReduceMean(3, 5)─ c ─Conv 1x1 (Constant weight and bias)─ heatmap [n, 4, h/32, w/32]
 */
function detector(): GraphBuilder {
  const b = new GraphBuilder('tf2onnx_detector', { producer: 'tf2onnx' });
  const x = b.input('image', ['unk__612', 3, 'unk__613', 'unk__614']);
  const a = b.op('Relu', [b.op('Conv', [x, b.weight('conv1', [8, 3, 3, 3], values(216, 1))], { pads: attr.ints([1, 1, 1, 1]) })]);
  const c2 = b.op('Relu', [b.op('Conv', [a, b.weight('conv2', [8, 8, 3, 3], values(576, 2))], { pads: attr.ints([1, 1, 1, 1]), strides: attr.ints([2, 2]) })]);
  const nc = b.op('Shape', [c2], { start: attr.int(0), end: attr.int(2) });
  const h = b.op('Shape', [c2], { start: attr.int(2), end: attr.int(3) });
  const w = b.op('Shape', [c2], { start: attr.int(3), end: attr.int(4) });
  const sixteen = b.int64s('sixteen', [16]);
  const shape = b.op('Concat', [nc, b.op('Div', [h, sixteen]), sixteen, b.op('Div', [w, sixteen]), sixteen], { axis: attr.int(0) });
  const patches = b.op('Reshape', [c2, shape]);
  const pooled = b.op('ReduceMean', [patches], { axes: attr.ints([3, 5]), keepdims: attr.int(0) });
  const headW = constantWeight(b, 'head_w', [4, 8, 1, 1], 3);
  const headB = constantWeight(b, 'head_b', [4], 4);
  b.node('Conv', [pooled, headW, headB], {}, ['heatmap']);
  b.output('heatmap', ['unk__612', 4, 'unk__615', 'unk__616']);
  return b;
}

test('a tf2onnx-style detector with dynamic height and width: symbolic boundaries, nothing pinned, Constant weights counted, the batch named batch', async () => {
  const dir = tempDir();
  try {
    const path = writeBuilt(dir, detector());
    const result = await splitModel(path, { outDir: join(dir, 'models', 'det'), dims: { unk__613: 96, unk__614: 96 }, verify: true });
    assert.deepEqual(result.pinned, {}, 'sizes that must be multiples of 32 are probed at 2x and 3x, not 2x+1');
    assert.deepEqual(result.reference, { batch: 1, unk__613: 96, unk__614: 96 });
    assert.deepEqual(result.manifest.inputs[0]!.shape, ['batch', 3, 'unk__613', 'unk__614'], "tf2onnx's batch symbol is renamed batch");
    const out = result.manifest.outputs[0]!.shape;
    assert.equal(out[0], 'batch');
    assert.equal(out[1], 4);
    assert.ok(typeof out[2] === 'string' && typeof out[3] === 'string' && out[2] !== out[3], `h/32 and w/32 stay symbolic and distinct: ${JSON.stringify(out)}`);
    assert.deepEqual(result.manifest.operators[0]!.outputShape, ['batch', 8, 'unk__613', 'unk__614']);
    assert.equal(result.params, 216 + 576 + 32 + 4, 'the Constant nodes hold 36 parameters');
    assert.equal(result.manifest.operators.reduce((s, o) => s + o.params, 0), result.params, 'every weight in exactly one operator');
    assert.ok(result.maxAbsDiff! <= 1e-5);
    // it really runs at other multiples of 32, non-square too, and the chain agrees with the whole model
    for (const [hh, ww] of [[320, 320], [128, 160]] as const) {
      const feeds = { image: floats([2, 3, hh, ww], hh + ww) };
      const whole = await runWhole(result.dir, result.manifest, feeds);
      assert.deepEqual([...whole.dims], [2, 4, hh / 32, ww / 32]);
      const chain = await runChain(result.dir, feeds);
      assert.ok(maxAbsDiff(chain.data as Float32Array, whole.data as Float32Array) <= 1e-5);
    }
  } finally {
    cleanup(dir);
  }
});

test('split models get ids of their own: the next free id in the models folder, kept when a folder is split again', async () => {
  const dir = tempDir();
  try {
    const path = writeBuilt(dir, detector());
    const models = join(dir, 'models');
    assert.equal(defaultSplitId(join(models, 'a')), 7, 'an empty folder starts at 7');
    const dims = { unk__613: 64, unk__614: 64 };
    const a = await splitModel(path, { outDir: join(models, 'a'), dims });
    const b = await splitModel(path, { outDir: join(models, 'b'), dims });
    assert.deepEqual([a.id, b.id], [7, 8]);
    const again = await splitModel(path, { outDir: join(models, 'a'), dims });
    assert.equal(again.id, 7, 'replacing a model keeps its id');
    const c = await splitModel(path, { outDir: join(models, 'c'), dims, id: 42 });
    assert.equal(c.id, 42);
    assert.equal(defaultSplitId(join(models, 'd')), 43);
  } finally {
    cleanup(dir);
  }
});

test('the split detector serves: its bound height and width are the reference, derived output dims come from the run', async () => {
  const dir = tempDir();
  let server: OnlineServer | null = null;
  try {
    const path = writeBuilt(dir, detector());
    const result = await splitModel(path, { outDir: join(dir, 'models', 'det'), dims: { unk__613: 96, unk__614: 96 } });
    server = await OnlineServer.start({
      models: [{ manifest: result.manifest, dir: result.dir }], policy: 'fcfs', latencyModel: null, qos: 5000, ways: 2, thldMs: 1, abandon: false,
      ep: 'cpu', intraOpThreads: 1, seed: 0, batchSizes: [1, 2], seqLens: [8], listen: { host: '127.0.0.1', port: 0 }, onEvent: () => undefined,
    });
    const url = `http://127.0.0.1:${server.httpAddress.port}/v2/models/tf2onnx_detector`;
    const meta = (await (await fetch(url)).json()) as { inputs: { shape: number[] }[]; outputs: { shape: number[] }[] };
    assert.deepEqual(meta.inputs[0]!.shape, [-1, 3, 96, 96], 'the bound dims are numbers in the metadata');
    assert.deepEqual(meta.outputs[0]!.shape, [-1, 4, -1, -1]);
    const image = floats([2, 3, 96, 96], 5);
    const want = await runWhole(result.dir, result.manifest, { image });
    const r = await fetch(`${url}/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: [{ name: 'image', datatype: 'FP32', shape: [2, 3, 96, 96], data: Array.from(image.data as Float32Array) }] }) });
    const body = (await r.json()) as { outputs?: { shape: number[]; data: number[] }[]; error?: string };
    assert.equal(r.status, 200, body.error);
    assert.deepEqual(body.outputs![0]!.shape, [2, 4, 3, 3]);
    assert.ok(maxAbsDiff(Float32Array.from(body.outputs![0]!.data), want.data as Float32Array) <= 1e-5, 'served output = the whole model');
    const other = await fetch(`${url}/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 3, 128, 128], data: new Array(3 * 128 * 128).fill(0) }] }) });
    assert.equal(other.status, 400);
    assert.match(((await other.json()) as { error: string }).error, /dim 2 \('unk__613'\) must be 96, got 128: .*--dim unk__613=N/);
  } finally {
    await server?.drain();
    cleanup(dir);
  }
});
