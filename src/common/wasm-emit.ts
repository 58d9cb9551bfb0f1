/**
 * A minimal WebAssembly binary emitter: just enough of the format (types, one imported memory, functions,
 * exports) and of the instruction set (integer arithmetic, control flow, loads and stores, a few f32x4
 * SIMD instructions) to write small numeric kernels as TypeScript that reads like the text format. The
 * bytes are generated in-process, so the kernels' source is this code, not a committed binary.
 *
 * Reference: the WebAssembly core specification 2.0, section 5 (binary format), and the fixed-width SIMD
 * proposal's opcode table (all SIMD opcodes are 0xfd followed by an unsigned LEB128 sub-opcode).
 */

export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;
export type ValType = typeof I32 | typeof F32 | typeof V128;

/** Unsigned LEB128. */
export function uleb(value: number): number[] {
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`uleb: ${value} is not a non-negative integer`);
  const out: number[] = [];
  let v = value;
  do {
    let byte = v & 0x7f;
    v = Math.floor(v / 128);
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

/** Signed LEB128 (32-bit values). */
export function sleb(value: number): number[] {
  if (!Number.isInteger(value) || value < -(2 ** 31) || value >= 2 ** 31) throw new RangeError(`sleb: ${value} is not a 32-bit integer`);
  const out: number[] = [];
  let v = value | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

function utf8Name(name: string): number[] {
  const bytes = [...Buffer.from(name, 'utf8')];
  return [...uleb(bytes.length), ...bytes];
}

function vector(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

/** Alignment (log2 bytes) and offset of a load or store. */
function memarg(alignLog2: number, offset: number): number[] {
  return [...uleb(alignLog2), ...uleb(offset)];
}

/** Block type of `block`, `loop` and `if` without results. */
const VOID_BLOCK = 0x40;

/**
 * One function body under construction. Method names follow the text format (`i32.add` → `i32Add`);
 * every method appends its instruction and returns `this`, so a body is written as a chain.
 * Locals are numbered after the parameters, in the order `local` declares them.
 */
export class FunctionBody {
  private readonly code: number[] = [];
  private readonly locals: ValType[] = [];

  constructor(readonly params: readonly ValType[]) {}

  /** Declare a local; returns its index. */
  local(type: ValType): number {
    this.locals.push(type);
    return this.params.length + this.locals.length - 1;
  }

  /** Append instructions written by a helper (keeps the chain readable). */
  with(emit: (body: this) => void): this {
    emit(this);
    return this;
  }

  private op(...bytes: number[]): this {
    for (const b of bytes) this.code.push(b);
    return this;
  }

  private simd(sub: number, ...imm: number[]): this {
    return this.op(0xfd, ...uleb(sub), ...imm);
  }

  // control
  block(): this { return this.op(0x02, VOID_BLOCK); }
  loop(): this { return this.op(0x03, VOID_BLOCK); }
  if(): this { return this.op(0x04, VOID_BLOCK); }
  end(): this { return this.op(0x0b); }
  /** Branch to the enclosing block `depth` levels out (0: innermost). */
  br(depth: number): this { return this.op(0x0c, ...uleb(depth)); }
  brIf(depth: number): this { return this.op(0x0d, ...uleb(depth)); }
  call(func: number): this { return this.op(0x10, ...uleb(func)); }

  // variables
  get(local: number): this { return this.op(0x20, ...uleb(local)); }
  set(local: number): this { return this.op(0x21, ...uleb(local)); }
  tee(local: number): this { return this.op(0x22, ...uleb(local)); }

  // memory (offsets in bytes)
  i32Load(offset = 0): this { return this.op(0x28, ...memarg(2, offset)); }
  i32Store(offset = 0): this { return this.op(0x36, ...memarg(2, offset)); }

  // i32 arithmetic
  i32Const(value: number): this { return this.op(0x41, ...sleb(value)); }
  i32Eqz(): this { return this.op(0x45); }
  i32LtS(): this { return this.op(0x48); }
  i32GtS(): this { return this.op(0x4a); }
  i32LeS(): this { return this.op(0x4c); }
  i32GeS(): this { return this.op(0x4e); }
  i32Add(): this { return this.op(0x6a); }
  i32Sub(): this { return this.op(0x6b); }
  i32Mul(): this { return this.op(0x6c); }
  i32Shl(): this { return this.op(0x74); }

  // SIMD (v128 loads and stores are 16-byte aligned here)
  v128Load(offset = 0): this { return this.simd(0x00, ...memarg(4, offset)); }
  v128Load32Splat(offset = 0): this { return this.simd(0x09, ...memarg(2, offset)); }
  v128Store(offset = 0): this { return this.simd(0x0b, ...memarg(4, offset)); }
  v128Zero(): this { return this.simd(0x0c, ...new Array<number>(16).fill(0)); }
  f32x4Add(): this { return this.simd(0xe4); }
  f32x4Mul(): this { return this.simd(0xe6); }
  /** Pseudo-maximum of the two operands a (pushed first) and b: `a < b ? b : a`, lane-wise (maxps; no NaN propagation). */
  f32x4Pmax(): this { return this.simd(0xeb); }

  /** The encoded body (locals and code). */
  encode(): number[] {
    const groups: number[][] = [];
    for (const t of this.locals) groups.push([...uleb(1), t]);
    const body = [...vector(groups), ...this.code, 0x0b];
    return [...uleb(body.length), ...body];
  }
}

export interface WasmFunction {
  /** Exported under this name, or internal when null. */
  exportName: string | null;
  body: FunctionBody;
}

/**
 * A module that imports its memory as `env.memory` (at least `minPages` 64 KiB pages) and defines the
 * given functions (no results), indexed in order.
 */
export function emitModule(functions: readonly WasmFunction[], minPages: number): Uint8Array {
  const types = functions.map((f) => [0x60, ...vector(f.body.params.map((p) => [p])), ...uleb(0)]);
  const typeSection = section(1, vector(types));
  const importSection = section(2, vector([[...utf8Name('env'), ...utf8Name('memory'), 0x02, 0x00, ...uleb(minPages)]]));
  const functionSection = section(3, vector(functions.map((_, i) => uleb(i))));
  const exports = functions.flatMap((f, i) => (f.exportName === null ? [] : [[...utf8Name(f.exportName), 0x00, ...uleb(i)]]));
  const exportSection = section(7, vector(exports));
  const codeSection = section(10, vector(functions.map((f) => f.body.encode())));
  return Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...typeSection, ...importSection, ...functionSection, ...exportSection, ...codeSection]);
}
