import { test } from 'node:test';
import assert from 'node:assert/strict';
import { float16BitsToFloat32, float32ToFloat16Bits } from '../../src/onnx/dtype.js';

test('float16 bits decode to their values: exact for every half, and the inverse of the encoder', () => {
  assert.deepEqual(Array.from(float16BitsToFloat32(Uint16Array.from([0x3c00, 0xc000, 0x0000, 0x8000, 0x7bff, 0x0001, 0x3555]))), [1, -2, 0, -0, 65504, 2 ** -24, Math.fround(0.333251953125)]);
  const special = float16BitsToFloat32(Uint16Array.from([0x7c00, 0xfc00, 0x7e00]));
  assert.equal(special[0], Infinity);
  assert.equal(special[1], -Infinity);
  assert.ok(Number.isNaN(special[2]!));
  // every finite half survives decode → encode
  const all = new Uint16Array(0x7c00);
  for (let b = 0; b < all.length; b++) all[b] = b;
  assert.deepEqual(Array.from(float32ToFloat16Bits(float16BitsToFloat32(all))), Array.from(all));
});
