import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { readOnnxModel, syncModel, createCpuSession, serializeModel } from '../../src/onnx/index.js';
import { operatorRangeModel } from '../../src/zoo/segments.js';
import { buildTinyModel, tempDir } from '../helpers/tiny-model.js';

test('an operator range keeps only the weights it reads, and the sync model returns its first element', async () => {
  const parent = tempDir();
  const tiny = await buildTinyModel(parent, 'tiny', 4, { side: true });
  const loaded = readOnnxModel(join(tiny.dir, 'model.onnx'));
  const range = operatorRangeModel(loaded, tiny.manifest, 1, 3);
  assert.deepEqual(range.inputs, [tiny.manifest.operators[0]!.output, 'gain']);
  assert.equal(range.output, tiny.manifest.operators[2]!.output);
  assert.equal(range.model.graph!.initializer.length, 4, 'two conv weights and two biases');
  assert.ok(range.model.graph!.initializer.every((t) => t.externalData.length > 0), 'weights still point into the shared data file');
  const session = await createCpuSession(range.model, loaded.baseDir);
  const syncSession = await ort.InferenceSession.create(serializeModel(syncModel('float32')));
  const x = new ort.Tensor('float32', Float32Array.from({ length: 8 * 16 * 16 }, (_, i) => Math.cos(i)), [1, 8, 16, 16]);
  const gain = new ort.Tensor('float32', new Float32Array(8).fill(1), [1, 8, 1, 1]);
  const out = await session.run({ [range.inputs[0]!]: x, gain });
  const first = (await syncSession.run({ x: out[range.output]! })).y!;
  assert.deepEqual(first.dims, [1]);
  assert.equal((first.data as Float32Array)[0], (out[range.output]!.data as Float32Array)[0]);
});
