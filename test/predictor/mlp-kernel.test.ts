import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/common/rng.js';
import { ZOO } from '../../src/zoo/catalog.js';
import type { DenseLayerJson } from '../../src/predictor/bundle-format.js';
import { featureCount, makeFeatureSpec } from '../../src/predictor/features.js';
import { MlpPredictor } from '../../src/predictor/mlp.js';
import { type MlpKernel, TypeScriptMlpKernel, packMlpLayers } from '../../src/predictor/mlp-kernel.js';
import { WasmSimdMlpKernel, mlpWasmModule, wasmSimdAvailable } from '../../src/predictor/mlp-wasm.js';
import { sleb, uleb } from '../../src/common/wasm-emit.js';

function randomNetwork(rng: Rng, sizes: readonly number[]) {
  const layers: DenseLayerJson[] = sizes.slice(1).map((outputs, i) => ({
    inputs: sizes[i]!,
    outputs,
    kernel: Array.from({ length: sizes[i]! * outputs }, () => rng.normal() / Math.sqrt(sizes[i]!)),
    bias: Array.from({ length: outputs }, () => 0.3 * rng.normal()),
  }));
  const width = sizes[0]!;
  const standardization = { mean: Array.from({ length: width }, () => 10 * rng.next()), std: Array.from({ length: width }, () => 0.5 + 5 * rng.next()) };
  const packed = packMlpLayers(layers, standardization, { unit: 'ms', mean: 25, std: 12 });
  return { layers, standardization, packed, width };
}

/** Feature-like inputs: small non-negative integers (counts, operator indices, batch sizes), some zero. */
function inputs(rng: Rng, rows: number, width: number): Float32Array {
  return Float32Array.from({ length: rows * width }, () => (rng.next() < 0.2 ? 0 : Math.round(64 * rng.next())));
}

function assertClose(got: Float64Array, want: Float64Array, rows: number, what: string): void {
  for (let r = 0; r < rows; r++) {
    const tol = 1e-4 * Math.max(1, Math.abs(want[r]!));
    assert.ok(Math.abs(got[r]! - want[r]!) <= tol, `${what}, row ${r}: ${got[r]} vs reference ${want[r]}`);
  }
}

test('this runtime (Node >= 20) runs the WebAssembly SIMD kernel, and MlpPredictor uses it', () => {
  assert.ok(WebAssembly.validate(mlpWasmModule()), 'the generated module validates');
  assert.ok(wasmSimdAvailable());
  const spec = makeFeatureSpec(ZOO, 2);
  const { layers, standardization } = randomNetwork(new Rng(1), [featureCount(spec), 32, 32, 32, 1]);
  assert.equal(new MlpPredictor(spec, standardization, { unit: 'ms', mean: 0, std: 1 }, layers).kernel, 'wasm-simd-f32');
});

test('the SIMD kernel equals the TypeScript reference for 1..33 rows, for odd and even layer widths', () => {
  const rng = new Rng(5);
  const shapes = [
    [23, 32, 32, 32, 1],
    [12, 32, 32, 32, 1],
    [31, 33, 17, 1], // widths past a multiple of 16 and of 4
    [7, 5, 9, 3, 1],
    [1, 1],
    [5, 1, 1],
    [18, 64, 1],
    [3, 20, 1],
  ];
  for (const sizes of shapes) {
    const { packed, width } = randomNetwork(rng, sizes);
    const fast = new WasmSimdMlpKernel(packed, width);
    const reference = new TypeScriptMlpKernel(packed, width);
    for (let rows = 1; rows <= 33; rows++) {
      const x = inputs(rng, rows, width);
      const got = new Float64Array(rows + 1).fill(-1);
      const want = new Float64Array(rows);
      fast.run(x, rows, got);
      reference.run(x, rows, want);
      assertClose(got, want, rows, `${sizes.join('-')}, ${rows} rows`);
      assert.equal(got[rows], -1, 'nothing written past the rows');
    }
  }
});

test('a wrong weight anywhere would show: every weight and bias moves the SIMD output like the reference', () => {
  // Perturb each parameter of a small odd-width network in turn; both kernels must follow every change.
  const rng = new Rng(9);
  const sizes = [6, 17, 5, 1]; // 17 outputs: one block of 16 and one of 4
  const net = randomNetwork(rng, sizes);
  const x = inputs(rng, 5, net.width);
  const run = (k: MlpKernel): Float64Array => {
    const out = new Float64Array(5);
    k.run(x, 5, out);
    return out;
  };
  for (let l = 0; l < net.packed.length; l++) {
    const layer = net.packed[l]!;
    for (const arr of [layer.w, layer.b]) {
      for (let t = 0; t < arr.length; t++) {
        const saved = arr[t]!;
        arr[t] = saved + 0.5;
        assertClose(run(new WasmSimdMlpKernel(net.packed, net.width)), run(new TypeScriptMlpKernel(net.packed, net.width)), 5, `layer ${l}, parameter ${t}`);
        arr[t] = saved;
      }
    }
  }
});

test('ReLU is exact: negative, zero and positive pre-activations match the reference', () => {
  // One hidden unit per sign: w·x + b is -1, 0 and +1 for x = 1; the output adds them with weights 1, 2, 4.
  const layers: DenseLayerJson[] = [
    { inputs: 1, outputs: 3, kernel: [1, 1, 1], bias: [-2, -1, 0] },
    { inputs: 3, outputs: 1, kernel: [1, 2, 4], bias: [0.5] },
  ];
  const packed = packMlpLayers(layers, { mean: [0], std: [1] }, { unit: 'ms', mean: 0, std: 1 });
  const out = new Float64Array(1);
  new WasmSimdMlpKernel(packed, 1).run(Float32Array.of(1), 1, out);
  assert.equal(out[0], 0.5 + 4 * 1);
  new WasmSimdMlpKernel(packed, 1).run(Float32Array.of(3), 1, out);
  assert.equal(out[0], 0.5 + 1 * 1 + 2 * 2 + 4 * 3);
});

test('the SIMD kernel grows its memory past one page and keeps its results; a row never depends on its batch', () => {
  const rng = new Rng(11);
  const { packed, width } = randomNetwork(rng, [23, 32, 32, 32, 1]);
  const fast = new WasmSimdMlpKernel(packed, width);
  const reference = new TypeScriptMlpKernel(packed, width);
  const rows = 3000; // 2 × 3000 × 128 bytes of activations: several 64 KiB pages
  const x = inputs(rng, rows, width);
  const single = new Float64Array(rows);
  const one = new Float64Array(1);
  for (let r = 0; r < rows; r++) {
    fast.run(x.subarray(r * width, (r + 1) * width), 1, one);
    single[r] = one[0]!;
  }
  const got = new Float64Array(rows);
  const want = new Float64Array(rows);
  fast.run(x, rows, got);
  reference.run(x, rows, want);
  assertClose(got, want, rows, 'after growing');
  for (let r = 0; r < rows; r++) assert.equal(got[r], single[r], `row ${r} alone and in a batch of ${rows}`);
  fast.run(x, 7, got); // smaller again: the grown buffers still serve
  assertClose(got, want, 7, 'after growing, 7 rows');
});

test('the emitter encodes LEB128 immediates as the format requires', () => {
  assert.deepEqual(uleb(0), [0]);
  assert.deepEqual(uleb(127), [0x7f]);
  assert.deepEqual(uleb(128), [0x80, 0x01]);
  assert.deepEqual(uleb(0xe4), [0xe4, 0x01]); // f32x4.add's sub-opcode
  assert.deepEqual(uleb(624485), [0xe5, 0x8e, 0x26]);
  assert.deepEqual(sleb(0), [0]);
  assert.deepEqual(sleb(63), [0x3f]);
  assert.deepEqual(sleb(64), [0xc0, 0x00]);
  assert.deepEqual(sleb(-1), [0x7f]);
  assert.deepEqual(sleb(-64), [0x40]);
  assert.deepEqual(sleb(-65), [0xbf, 0x7f]);
  assert.deepEqual(sleb(-123456), [0xc0, 0xbb, 0x78]);
  assert.throws(() => uleb(-1), RangeError);
  assert.throws(() => sleb(2 ** 31), RangeError);
});
