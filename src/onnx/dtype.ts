/** ONNX element types, their byte sizes and their onnxruntime-node names. */
import { TensorProto_DataType as DataType } from './generated/onnx_pb.js';

export { DataType };

/** The element types abacus models use, by the names onnxruntime-node gives them. */
export type ElementType = 'float32' | 'float16' | 'int64' | 'int32' | 'bool' | 'uint8' | 'int8' | 'float64';

const TABLE: Record<ElementType, { onnx: DataType; bytes: number }> = {
  float32: { onnx: DataType.FLOAT, bytes: 4 },
  float16: { onnx: DataType.FLOAT16, bytes: 2 },
  float64: { onnx: DataType.DOUBLE, bytes: 8 },
  int64: { onnx: DataType.INT64, bytes: 8 },
  int32: { onnx: DataType.INT32, bytes: 4 },
  bool: { onnx: DataType.BOOL, bytes: 1 },
  uint8: { onnx: DataType.UINT8, bytes: 1 },
  int8: { onnx: DataType.INT8, bytes: 1 },
};

export function onnxType(t: ElementType): DataType {
  return TABLE[t].onnx;
}

export function elementBytes(t: ElementType): number {
  return TABLE[t].bytes;
}

export function elementTypeOf(onnx: number): ElementType | null {
  for (const [name, v] of Object.entries(TABLE)) if (v.onnx === onnx) return name as ElementType;
  return null;
}

/** Byte size of one element of an ONNX data type, or null when not fixed-size (string) or unknown. */
export function onnxElementBytes(onnx: number): number | null {
  switch (onnx) {
    case DataType.FLOAT: case DataType.INT32: case DataType.UINT32: return 4;
    case DataType.FLOAT16: case DataType.BFLOAT16: case DataType.INT16: case DataType.UINT16: return 2;
    case DataType.DOUBLE: case DataType.INT64: case DataType.UINT64: case DataType.COMPLEX64: return 8;
    case DataType.COMPLEX128: return 16;
    case DataType.INT8: case DataType.UINT8: case DataType.BOOL: return 1;
    default: return null;
  }
}

/** IEEE half bits → float32 values (exact: every half is a float32), for fp16 outputs. */
export function float16BitsToFloat32(bits: ArrayLike<number>): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    const b = bits[i] as number;
    const sign = b & 0x8000 ? -1 : 1;
    const e = (b >>> 10) & 0x1f;
    const m = b & 0x3ff;
    out[i] = e === 0 ? sign * 2 ** -14 * (m / 1024) : e === 31 ? (m ? Number.NaN : sign * Infinity) : sign * 2 ** (e - 15) * (1 + m / 1024);
  }
  return out;
}

/** float32 → IEEE half bits (round to nearest even), for fp16 weights. */
export function float32ToFloat16Bits(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  for (let i = 0; i < values.length; i++) {
    f[0] = values[i] as number;
    const x = u[0] as number;
    const sign = (x >>> 16) & 0x8000;
    const exp = (x >>> 23) & 0xff;
    let mant = x & 0x7fffff;
    if (exp === 0xff) {
      out[i] = sign | 0x7c00 | (mant ? 0x200 : 0);
      continue;
    }
    let e = exp - 127 + 15;
    if (e >= 0x1f) {
      out[i] = sign | 0x7c00;
      continue;
    }
    if (e <= 0) {
      if (e < -10) {
        out[i] = sign;
        continue;
      }
      mant |= 0x800000;
      const shift = 14 - e;
      let half = mant >>> shift;
      const rem = mant & ((1 << shift) - 1);
      const halfway = 1 << (shift - 1);
      if (rem > halfway || (rem === halfway && (half & 1))) half++;
      out[i] = sign | half;
      continue;
    }
    let half = (e << 10) | (mant >>> 13);
    const rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem === 0x1000 && (half & 1))) half++;
    out[i] = sign | half;
    e = 0;
  }
  return out;
}
