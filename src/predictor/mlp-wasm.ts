/**
 * The MLP forward pass as a WebAssembly f32x4 SIMD kernel. The module is generated here, in-process, by
 * `mlpWasmModule()` (src/common/wasm-emit.ts writes the bytes), so its source is this file; it is compiled
 * once per process and instantiated once per predictor, each with its own memory.
 *
 * Memory of one instance (byte offsets, every block 16-byte aligned):
 *
 *   [0, 32·L)     layer table: per layer 8 i32 fields (x, xStrideBytes, inputs, w, b, outputsPadded, y, relu)
 *   per layer     w: inputs × outputsPadded f32, input-major (the 4 weights of outputs j..j+3 of input k are
 *                 adjacent); b: outputsPadded f32. Padded outputs have zero weights and bias.
 *   buffer A      capacity × maxStride f32: the input rows (stride = input width), then every other layer's output
 *   buffer B      capacity × maxStride f32
 *
 * `dense` computes, for each row, 16 outputs at a time (4 v128 accumulators) and then 4 at a time, over two
 * rows at once (each weight load serves both) and then a last single row: acc = b; acc += splat(x[k]) · w[k]
 * for k ascending; ReLU as pmax(0, acc) (= acc > 0 ? acc : 0, as the reference). A row's operations do not
 * depend on the rows next to it, so a row's result never depends on its batch.
 */
import { FunctionBody, I32, V128, emitModule } from '../common/wasm-emit.js';
import type { MlpKernel, PackedLayer } from './mlp-kernel.js';

const TABLE_FIELDS = 8;
const TABLE_ENTRY_BYTES = TABLE_FIELDS * 4;
const PAGE_BYTES = 65536;
/** Rows per block of the row loop, largest first (the last must be 1). */
const ROW_BLOCKS = [2, 1] as const;
/** v128 accumulators (4 outputs each) per row in a column block, largest first (the last must be 1). */
const COLUMN_BLOCKS = [4, 1] as const;

function align16(bytes: number): number {
  return (bytes + 15) & ~15;
}

/**
 * dense(x, xStride, nIn, w, b, nOutP, y, relu, rows): y[r, :] = act(b + Σ_k x[r, k] · w[k, :]) for r < rows.
 * Pointers and xStride in bytes; nOutP (a multiple of 4) is also y's row length in floats.
 */
function denseFunction(): FunctionBody {
  const f = new FunctionBody([I32, I32, I32, I32, I32, I32, I32, I32, I32]);
  const [x, xStride, nIn, w, b, nOutP, y, relu, rows] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const rowBytes = f.local(I32);
  const r = f.local(I32);
  const j = f.local(I32);
  const k = f.local(I32);
  const wk = f.local(I32);
  const maxRows = ROW_BLOCKS[0];
  const maxCols = COLUMN_BLOCKS[0];
  const xr = Array.from({ length: maxRows }, () => f.local(I32)); // x[row, k] walking over k
  const yr = Array.from({ length: maxRows }, () => f.local(I32)); // y[row, 0]
  const xs = Array.from({ length: maxRows }, () => f.local(V128)); // splat(x[row, k])
  const wv = f.local(V128);
  const acc = Array.from({ length: maxRows }, () => Array.from({ length: maxCols }, () => f.local(V128)));

  /** One column block: `cols` accumulators for each of `nr` rows, over every input. */
  const columnBlock = (nr: number, cols: number) => (body: FunctionBody) => {
    for (let i = 0; i < nr; i++) {
      for (let c = 0; c < cols; c++) body.get(b).get(j).i32Add().v128Load(16 * c).set(acc[i]![c]!);
      body.get(x).get(r).get(xStride).i32Mul().i32Add();
      if (i > 0) body.get(xStride).i32Const(i).i32Mul().i32Add();
      body.set(xr[i]!);
    }
    body.get(w).get(j).i32Add().set(wk).get(nIn).set(k);
    body.loop();
    for (let i = 0; i < nr; i++) body.get(xr[i]!).v128Load32Splat().set(xs[i]!);
    for (let c = 0; c < cols; c++) {
      body.get(wk).v128Load(16 * c).set(wv);
      for (let i = 0; i < nr; i++) body.get(acc[i]![c]!).get(xs[i]!).get(wv).f32x4Mul().f32x4Add().set(acc[i]![c]!);
    }
    body.get(wk).get(rowBytes).i32Add().set(wk);
    for (let i = 0; i < nr; i++) body.get(xr[i]!).i32Const(4).i32Add().set(xr[i]!);
    body.get(k).i32Const(1).i32Sub().tee(k).brIf(0).end();
    body.get(relu).if();
    for (let i = 0; i < nr; i++) for (let c = 0; c < cols; c++) body.v128Zero().get(acc[i]![c]!).f32x4Pmax().set(acc[i]![c]!);
    body.end();
    for (let i = 0; i < nr; i++) for (let c = 0; c < cols; c++) body.get(yr[i]!).get(j).i32Add().get(acc[i]![c]!).v128Store(16 * c);
    body.get(j).i32Const(16 * cols).i32Add().set(j);
  };

  /** Every output of `nr` rows starting at row r: column blocks of each width while they fit. */
  const rowBlock = (nr: number) => (body: FunctionBody) => {
    for (let i = 0; i < nr; i++) {
      body.get(y).get(r).get(rowBytes).i32Mul().i32Add();
      if (i > 0) body.get(rowBytes).i32Const(i).i32Mul().i32Add();
      body.set(yr[i]!);
    }
    body.i32Const(0).set(j);
    for (const cols of COLUMN_BLOCKS) {
      // while (j + 16·cols <= rowBytes) columnBlock
      body.block().loop();
      body.get(j).i32Const(16 * cols).i32Add().get(rowBytes).i32GtS().brIf(1);
      body.with(columnBlock(nr, cols));
      body.br(0).end().end();
    }
    body.get(r).i32Const(nr).i32Add().set(r);
  };

  f.get(nOutP).i32Const(2).i32Shl().set(rowBytes);
  f.i32Const(0).set(r);
  for (const nr of ROW_BLOCKS) {
    // while (rows - r >= nr) rowBlock
    f.block().loop();
    f.get(rows).get(r).i32Sub().i32Const(nr).i32LtS().brIf(1);
    f.with(rowBlock(nr));
    f.br(0).end().end();
  }
  return f;
}

/** forward(table, layers, rows): dense over each layer of the table in order. */
function forwardFunction(denseIndex: number): FunctionBody {
  const f = new FunctionBody([I32, I32, I32]);
  const [table, layers, rows] = [0, 1, 2];
  const p = f.local(I32);
  const end = f.local(I32);
  f.get(table).set(p);
  f.get(table).get(layers).i32Const(TABLE_ENTRY_BYTES).i32Mul().i32Add().set(end);
  f.block().loop();
  f.get(p).get(end).i32GeS().brIf(1);
  for (let field = 0; field < TABLE_FIELDS; field++) f.get(p).i32Load(4 * field);
  f.get(rows).call(denseIndex);
  f.get(p).i32Const(TABLE_ENTRY_BYTES).i32Add().set(p);
  f.br(0).end().end();
  return f;
}

/** The kernel module's bytes (imports `env.memory`; exports `forward` and `dense`). */
export function mlpWasmModule(): Uint8Array {
  return emitModule(
    [
      { exportName: 'dense', body: denseFunction() },
      { exportName: 'forward', body: forwardFunction(0) },
    ],
    1,
  );
}

let compiled: WebAssembly.Module | null | undefined;

/** The compiled kernel module, or null where this runtime has no WebAssembly SIMD. */
export function mlpWasmCompiled(): WebAssembly.Module | null {
  if (compiled !== undefined) return compiled;
  const bytes = mlpWasmModule();
  compiled = typeof WebAssembly === 'object' && WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  return compiled;
}

export function wasmSimdAvailable(): boolean {
  return mlpWasmCompiled() !== null;
}

type ForwardFn = (table: number, layers: number, rows: number) => void;

/** The SIMD kernel (float32 arithmetic, like the network's training). Throws where SIMD is unavailable. */
export class WasmSimdMlpKernel implements MlpKernel {
  readonly name = 'wasm-simd-f32';
  private readonly memory: WebAssembly.Memory;
  private readonly forward: ForwardFn;
  private heap: Float32Array;
  private readonly layerCount: number;
  private readonly paddedOutputs: number[];
  /** Bytes: where buffer A starts, and the widest row of any buffer. */
  private readonly buffersAt: number;
  private readonly rowStrideBytes: number;
  private capacity = 0;
  /** Float index of the last layer's output for row 0, and its row stride in floats. */
  private outIndex = 0;
  private readonly outStride: number;

  constructor(packed: readonly PackedLayer[], private readonly width: number) {
    const module = mlpWasmCompiled();
    if (module === null) throw new Error('WebAssembly SIMD is not available in this runtime');
    this.layerCount = packed.length;
    this.paddedOutputs = packed.map((l) => (l.outputs + 3) & ~3);
    let at = align16(TABLE_ENTRY_BYTES * packed.length);
    const weightsAt: number[] = [];
    const biasAt: number[] = [];
    packed.forEach((l, i) => {
      weightsAt.push(at);
      at = align16(at + 4 * l.inputs * (this.paddedOutputs[i] as number));
      biasAt.push(at);
      at = align16(at + 4 * (this.paddedOutputs[i] as number));
    });
    this.buffersAt = at;
    this.rowStrideBytes = align16(4 * Math.max(width, ...this.paddedOutputs));
    this.outStride = this.paddedOutputs[this.paddedOutputs.length - 1] as number;
    this.memory = new WebAssembly.Memory({ initial: 1 });
    const instance = new WebAssembly.Instance(module, { env: { memory: this.memory } });
    this.forward = instance.exports.forward as ForwardFn;
    this.heap = new Float32Array(this.memory.buffer);
    const table = new Int32Array(this.memory.buffer);
    packed.forEach((l, i) => {
      const nOutP = this.paddedOutputs[i] as number;
      const w0 = (weightsAt[i] as number) / 4;
      for (let k = 0; k < l.inputs; k++) for (let j = 0; j < l.outputs; j++) this.heap[w0 + k * nOutP + j] = l.w[j * l.inputs + k] as number;
      const b0 = (biasAt[i] as number) / 4;
      for (let j = 0; j < l.outputs; j++) this.heap[b0 + j] = l.b[j] as number;
      const e = i * TABLE_FIELDS;
      table[e + 2] = l.inputs;
      table[e + 3] = weightsAt[i] as number;
      table[e + 4] = biasAt[i] as number;
      table[e + 5] = nOutP;
      table[e + 7] = i < packed.length - 1 ? 1 : 0;
    });
    this.reserve(16);
  }

  reserve(rows: number): void {
    if (rows <= this.capacity) return;
    const capacity = rows;
    const bufferBytes = align16(capacity * this.rowStrideBytes);
    const needed = this.buffersAt + 2 * bufferBytes;
    const pages = Math.ceil(needed / PAGE_BYTES);
    const have = this.memory.buffer.byteLength / PAGE_BYTES;
    if (pages > have) this.memory.grow(pages - have);
    this.heap = new Float32Array(this.memory.buffer);
    const table = new Int32Array(this.memory.buffer);
    const a = this.buffersAt;
    const b = a + bufferBytes;
    let x = a;
    let xStride = 4 * this.width;
    for (let i = 0; i < this.layerCount; i++) {
      const y = x === a ? b : a;
      const e = i * TABLE_FIELDS;
      table[e] = x;
      table[e + 1] = xStride;
      table[e + 6] = y;
      x = y;
      xStride = 4 * (this.paddedOutputs[i] as number);
    }
    this.outIndex = x / 4;
    this.capacity = capacity;
  }

  run(features: Float32Array, rows: number, out: Float64Array): void {
    if (rows > this.capacity) this.reserve(Math.max(rows, 2 * this.capacity));
    const heap = this.heap;
    const input = this.buffersAt / 4;
    const n = rows * this.width;
    for (let t = 0; t < n; t++) heap[input + t] = features[t] as number;
    this.forward(0, this.layerCount, rows);
    const o = this.outIndex;
    const s = this.outStride;
    for (let r = 0; r < rows; r++) out[r] = heap[o + r * s] as number;
  }
}
