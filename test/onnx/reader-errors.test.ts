import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readOnnxModel } from '../../src/onnx/index.js';
import { InputError } from '../../src/common/errors.js';
import { tempDir } from '../helpers/tiny-model.js';

test('files that are not ONNX models are refused with a message naming the file', () => {
  const dir = tempDir();
  const fixture = readFileSync(new URL('../fixtures/pytorch/tiny_resnet.onnx', import.meta.url));
  const cases: Array<[string, Uint8Array | null, RegExp]> = [
    ['missing.onnx', null, /no such file/],
    ['empty.onnx', new Uint8Array(0), /empty file/],
    ['text.onnx', new TextEncoder().encode('hello, this is not a model\n'), /not an ONNX model/],
    ['truncated.onnx', fixture.subarray(0, Math.floor(fixture.length / 2)), /not an ONNX model|truncated/],
  ];
  for (const [name, bytes, pattern] of cases) {
    const path = join(dir, name);
    if (bytes) writeFileSync(path, bytes);
    assert.throws(() => readOnnxModel(path), (err: unknown) => err instanceof InputError && err.message.startsWith(path) && pattern.test(err.message), name);
  }
  const ok = readOnnxModel(new URL('../fixtures/pytorch/tiny_resnet.onnx', import.meta.url).pathname);
  assert.ok(ok.model.graph!.node.length > 10);
});
