import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { GraphBuilder, attr, serializeModel, onnxProto } from '../../src/onnx/index.js';

test('float attributes are written as FLOAT even when integral, and ORT accepts them', async () => {
  const b = new GraphBuilder('gemm');
  const x = b.input('x', ['batch', 3]);
  const w = b.weight('w', [3, 2], Float32Array.from([1, 0, 0, 1, 1, 1]));
  const y = b.op('Gemm', [x, w], { alpha: attr.float(2), beta: attr.float(1) });
  b.output(y, ['batch', 2]);
  const model = b.toModel();
  const gemm = model.graph!.node[0]!;
  assert.equal(gemm.attribute.find((a) => a.name === 'alpha')!.type, onnxProto.AttributeProto_AttributeType.FLOAT);
  assert.equal(b.paramCount, 6);
  const s = await ort.InferenceSession.create(serializeModel(model));
  const out = (await s.run({ x: new ort.Tensor('float32', Float32Array.from([1, 2, 3]), [1, 3]) }))[y]!;
  assert.deepEqual(Array.from(out.data as Float32Array), [2 * (1 + 3), 2 * (2 + 3)]);
});
