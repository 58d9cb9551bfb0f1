/**
 * Tensors of the Open Inference Protocol (KServe v2): datatypes, row-major data given as JSON numbers
 * (flat or nested) or as raw little-endian bytes (the binary tensor data extension and gRPC's
 * `raw_input_contents`), checked against a model's manifest. Every element must be finite: NaN and
 * Infinity are refused (400), so that outputs stay valid numbers (JSON cannot carry them). Every problem is a `ProtocolError` that a
 * front end turns into a status code.
 */
import type { Manifest, ManifestTensor } from '../zoo/manifest.js';
import type { QueryTensor } from '../controller/index.js';

/** What went wrong with a request, as a front end reports it (HTTP status / gRPC code). */
export type ProtocolErrorKind = 'bad-request' | 'not-found' | 'too-large' | 'rejected' | 'unavailable' | 'failed' | 'method' | 'unauthenticated';

/** Kinds a server answers in bulk under overload; their errors carry no stack trace (capturing one costs about 2 µs). */
const STACKLESS_KINDS: ReadonlySet<ProtocolErrorKind> = new Set<ProtocolErrorKind>(['rejected', 'unavailable']);

export class ProtocolError extends Error {
  readonly kind: ProtocolErrorKind;
  constructor(kind: ProtocolErrorKind, message: string) {
    const limit = Error.stackTraceLimit;
    if (STACKLESS_KINDS.has(kind)) Error.stackTraceLimit = 0;
    try {
      super(message);
    } finally {
      Error.stackTraceLimit = limit;
    }
    this.kind = kind;
    this.name = 'ProtocolError';
  }
}

export const HTTP_STATUS: Readonly<Record<ProtocolErrorKind, number>> = {
  'bad-request': 400,
  unauthenticated: 401,
  'not-found': 404,
  method: 405,
  'too-large': 413,
  rejected: 429,
  failed: 500,
  unavailable: 503,
};

export type Datatype = 'FP32' | 'FP16';

/** Most inputs, and most outputs, one request may list (a model has a few; a long list is an attack). */
export const MAX_TENSORS_PER_REQUEST = 64;

/** The protocol datatype of a manifest tensor. */
export function datatypeOf(t: ManifestTensor): Datatype {
  if (t.dtype === 'float32') return 'FP32';
  if (t.dtype === 'float16') return 'FP16';
  throw new Error(`tensor '${t.name}' has dtype ${t.dtype}, which the server does not serve`);
}

/** Bytes per element of a datatype the server serves. */
export function elementBytes(datatype: Datatype): number {
  return datatype === 'FP32' ? 4 : 2;
}

/** Protocol shape of a manifest tensor: batch, seq and derived symbolic dims are -1; a symbol with a value in `reference` (bound at serve time) is that value. */
export function protocolShape(t: ManifestTensor, reference: Readonly<Record<string, number>> = {}): number[] {
  return t.shape.map((d) => (typeof d === 'number' ? d : d !== 'batch' && d !== 'seq' && reference[d] !== undefined ? reference[d] : -1));
}

/** A request's input tensor before its data is decoded. */
export interface RawInput {
  name: string;
  datatype: string;
  shape: number[];
  /** JSON numbers (flat or nested) … */
  json?: unknown;
  /** … or raw little-endian bytes. */
  bytes?: Uint8Array;
}

/** A request's inputs checked against the manifest: the query's tensors, batch and seq. */
export interface DecodedInputs {
  tensors: Record<string, QueryTensor>;
  batch: number;
  seq: number;
}

/** IEEE half-precision bits of a number (round to nearest even). */
export function floatToHalf(value: number): number {
  const f32 = new Float32Array([value]);
  const bits = new Uint32Array(f32.buffer)[0] as number;
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  let mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rest > mid || (rest === mid && (half & 1))) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (half & 1))) half++;
  return sign | half;
}

/** Index of the first NaN or infinite element (FP32 values, or FP16 bits), or -1. */
export function firstNonFinite(data: Float32Array | Uint16Array): number {
  if (data instanceof Float32Array) {
    for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i] as number)) return i;
    return -1;
  }
  for (let i = 0; i < data.length; i++) if (((data[i] as number) & 0x7c00) === 0x7c00) return i;
  return -1;
}

/** Flat numbers (already flattened) checked as `flattenNumbers` checks them: at most `expected`, all finite. */
function checkedFlat(values: Float64Array, expected: number, where: string): Float64Array {
  if (values.length > expected) throw new ProtocolError('bad-request', `${where}: 'data' holds more than the ${expected} values its shape needs`);
  const bad = values.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new ProtocolError('bad-request', `${where}: element ${bad} is not a finite number (NaN and Infinity are refused)`);
  return values;
}

/** Flatten JSON data (flat or nested to at most `maxDepth` levels) into at most `expected` numbers. */
function flattenNumbers(data: unknown, expected: number, maxDepth: number, where: string): number[] {
  if (!Array.isArray(data)) throw new ProtocolError('bad-request', `${where}: 'data' must be an array of numbers`);
  const out: number[] = [];
  // iterative walk: nesting is bounded by the tensor's rank, never by the call stack
  const stack: { items: unknown[]; index: number }[] = [{ items: data, index: 0 }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1] as { items: unknown[]; index: number };
    if (top.index >= top.items.length) {
      stack.pop();
      continue;
    }
    const item = top.items[top.index++];
    if (typeof item === 'number') {
      if (!Number.isFinite(item)) throw new ProtocolError('bad-request', `${where}: element ${out.length} is not a finite number (NaN and Infinity are refused)`);
      if (out.length >= expected) throw new ProtocolError('bad-request', `${where}: 'data' holds more than the ${expected} values its shape needs`);
      out.push(item);
    } else if (Array.isArray(item)) {
      if (stack.length >= maxDepth) throw new ProtocolError('bad-request', `${where}: 'data' is nested deeper than the tensor's rank`);
      stack.push({ items: item, index: 0 });
    } else {
      throw new ProtocolError('bad-request', `${where}: 'data' must hold only numbers (found ${item === null ? 'null' : typeof item})`);
    }
  }
  return out;
}

function isShape(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((d) => typeof d === 'number' && Number.isInteger(d));
}

/**
 * Check a request's inputs against the model: every manifest input exactly once, the datatype, the rank
 * and fixed dims, one consistent value per symbolic dim (`batch`, `seq`; any other symbol, as a split
 * model's image height, must be its reference value), and the data size; decode the data. `maxBatch`
 * (the server's) and the manifest's `limits` bound the batch dim and the sequence length.
 */
export function decodeInputs(manifest: Manifest, inputs: readonly RawInput[], maxBatch: number): DecodedInputs {
  const byName = new Map<string, RawInput>();
  for (const input of inputs) {
    if (typeof input.name !== 'string' || input.name === '') throw new ProtocolError('bad-request', 'every input needs a name');
    if (byName.has(input.name)) throw new ProtocolError('bad-request', `input '${input.name}' is given twice`);
    byName.set(input.name, input);
  }
  const known = new Set(manifest.inputs.map((i) => i.name));
  for (const name of byName.keys()) {
    if (!known.has(name)) throw new ProtocolError('bad-request', `model '${manifest.name}' has no input '${name}' (inputs: ${[...known].join(', ')})`);
  }
  const symbols = new Map<string, number>();
  const tensors: Record<string, QueryTensor> = {};
  for (const spec of manifest.inputs) {
    const input = byName.get(spec.name);
    const where = `input '${spec.name}'`;
    if (!input) throw new ProtocolError('bad-request', `${where} is missing (model '${manifest.name}' takes ${[...known].join(', ')})`);
    const datatype = datatypeOf(spec);
    if (input.datatype !== datatype) throw new ProtocolError('bad-request', `${where}: datatype must be ${datatype}, got ${String(input.datatype)}`);
    if (!isShape(input.shape)) throw new ProtocolError('bad-request', `${where}: 'shape' must be an array of integers`);
    if (input.shape.length !== spec.shape.length) {
      throw new ProtocolError('bad-request', `${where}: shape [${input.shape.join(', ')}] has rank ${input.shape.length}, expected [${protocolShape(spec).join(', ')}]`);
    }
    spec.shape.forEach((dim, i) => {
      const got = input.shape[i] as number;
      if (got < 1) throw new ProtocolError('bad-request', `${where}: dim ${i} is ${got}; every dim must be >= 1`);
      if (typeof dim === 'number') {
        if (got !== dim) throw new ProtocolError('bad-request', `${where}: dim ${i} must be ${dim}, got ${got} (shape [${protocolShape(spec).join(', ')}])`);
        return;
      }
      const seen = symbols.get(dim);
      if (seen !== undefined && seen !== got) throw new ProtocolError('bad-request', `${where}: dim ${i} ('${dim}') is ${got}, but another input gives ${seen}`);
      // only batch and seq vary per query; every other symbol is bound to the value the model was split and profiled at
      const bound = dim === 'batch' || dim === 'seq' ? undefined : manifest.reference[dim];
      if (bound !== undefined && got !== bound) throw new ProtocolError('bad-request', `${where}: dim ${i} ('${dim}') must be ${bound}, got ${got}: the server runs model '${manifest.name}' at ${dim}=${bound} (split it with --dim ${dim}=N for another size)`);
      symbols.set(dim, got);
    });
    const count = input.shape.reduce((a, b) => a * b, 1);
    const batchNow = symbols.get('batch');
    if (batchNow !== undefined && batchNow > maxBatch) throw new ProtocolError('bad-request', `batch ${batchNow} is above this server's limit of ${maxBatch}`);
    const limits = manifest.limits;
    if (batchNow !== undefined && batchNow > limits.maxBatch) throw new ProtocolError('bad-request', `batch ${batchNow} is above model '${manifest.name}''s maximum batch of ${limits.maxBatch} (its manifest's limits.maxBatch)`);
    const seqNow = symbols.get('seq');
    if (seqNow !== undefined && limits.maxSeq !== null && seqNow > limits.maxSeq) throw new ProtocolError('bad-request', `sequence length ${seqNow} is above model '${manifest.name}''s maximum of ${limits.maxSeq} (its manifest's limits.maxSeq)`);
    if (!Number.isSafeInteger(count) || count > 1 << 28) throw new ProtocolError('too-large', `${where}: shape [${input.shape.join(', ')}] is too large`);
    let data: Float32Array | Uint16Array;
    if (input.bytes !== undefined) {
      const want = count * elementBytes(datatype);
      if (input.bytes.byteLength !== want) throw new ProtocolError('bad-request', `${where}: ${input.bytes.byteLength} bytes of data, shape [${input.shape.join(', ')}] of ${datatype} needs ${want}`);
      const copy = new Uint8Array(want);
      copy.set(input.bytes);
      data = datatype === 'FP32' ? new Float32Array(copy.buffer) : new Uint16Array(copy.buffer);
      const bad = firstNonFinite(data);
      if (bad >= 0) throw new ProtocolError('bad-request', `${where}: element ${bad} is not a finite number (NaN and Infinity are refused)`);
    } else {
      if (input.json === undefined) throw new ProtocolError('bad-request', `${where}: no 'data' (and no binary data)`);
      // JSON parsed off the event loop comes already flattened (json-parse.ts)
      const values = input.json instanceof Float64Array ? checkedFlat(input.json, count, where) : flattenNumbers(input.json, count, input.shape.length, where);
      if (values.length !== count) throw new ProtocolError('bad-request', `${where}: 'data' holds ${values.length} values, shape [${input.shape.join(', ')}] needs ${count}`);
      data = datatype === 'FP32' ? Float32Array.from(values) : Uint16Array.from(values, floatToHalf);
    }
    tensors[spec.name] = { dims: [...input.shape], data };
  }
  const batch = symbols.get('batch');
  if (batch === undefined) throw new ProtocolError('bad-request', `model '${manifest.name}' has no batch dim in its inputs`);
  return { tensors, batch, seq: symbols.get('seq') ?? 0 };
}

/** Little-endian bytes of a tensor's data (a view, no copy on little-endian machines). */
export function tensorBytes(data: Float32Array | Uint16Array): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
