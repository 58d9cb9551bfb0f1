/**
 * Reading and writing ONNX files. `readOnnxModel` accepts any ONNX file, with its weights embedded or in
 * external data files next to it, and turns every way a file can be wrong into an InputError that names
 * the file and the problem. `writeOnnxModel` writes atomically.
 */
import { existsSync, readFileSync, realpathSync, statSync, openSync, readSync, closeSync } from 'node:fs';
import { dirname, isAbsolute, join, normalize, relative, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema, TensorProto_DataLocation, type ModelProto, type TensorProto } from './generated/onnx_pb.js';
import { InputError } from '../common/errors.js';
import { writeFileAtomic } from '../common/fsutil.js';
import { onnxElementBytes } from './dtype.js';

export interface LoadedModel {
  path: string;
  model: ModelProto;
  /** Folder against which external data locations resolve. */
  baseDir: string;
  /** Distinct external data files the model refers to (absolute paths). */
  externalFiles: string[];
}

export function readOnnxModel(path: string): LoadedModel {
  if (!existsSync(path)) throw new InputError(`${path}: no such file`);
  const stat = statSync(path);
  if (stat.isDirectory()) throw new InputError(`${path}: is a folder, not an ONNX file`);
  if (stat.size === 0) throw new InputError(`${path}: empty file, not an ONNX model`);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new InputError(`${path}: cannot read (${(err as Error).message})`);
  }
  return parseOnnxModel(bytes, path);
}

export function parseOnnxModel(bytes: Uint8Array, path: string): LoadedModel {
  let model: ModelProto;
  try {
    model = fromBinary(ModelProtoSchema, bytes);
  } catch (err) {
    throw new InputError(`${path}: not an ONNX model or truncated (protobuf parse failed: ${(err as Error).message})`);
  }
  const graph = model.graph;
  if (model.irVersion <= 0n || !graph || model.opsetImport.length === 0) {
    throw new InputError(`${path}: not an ONNX model (${model.irVersion <= 0n ? 'no IR version' : !graph ? 'no graph' : 'no opset import'})`);
  }
  if (graph.node.length === 0) throw new InputError(`${path}: the ONNX graph has no nodes`);
  for (const [i, n] of graph.node.entries()) {
    if (!n.opType) throw new InputError(`${path}: node ${i} has no operator type (corrupt file?)`);
  }
  if (graph.output.length === 0) throw new InputError(`${path}: the ONNX graph has no outputs`);
  const baseDir = dirname(resolve(path));
  const externalFiles = new Set<string>();
  for (const t of graph.initializer) {
    if (t.dataLocation !== TensorProto_DataLocation.EXTERNAL) continue;
    const ref = externalRef(t, path);
    const file = resolveExternal(baseDir, ref.location, path, t.name);
    if (!existsSync(file)) throw new InputError(`${path}: weight '${t.name}' refers to external data file '${ref.location}', which does not exist next to the model`);
    const size = statSync(file).size;
    const length = ref.length ?? expectedBytes(t);
    if (length !== null && ref.offset + length > size) {
      throw new InputError(`${path}: weight '${t.name}' needs bytes ${ref.offset}..${ref.offset + length} of '${ref.location}', which has only ${size} (truncated external data)`);
    }
    externalFiles.add(file);
  }
  return { path, model, baseDir, externalFiles: [...externalFiles] };
}

export interface ExternalRef { location: string; offset: number; length: number | null }

export function externalRef(t: TensorProto, path: string): ExternalRef {
  const get = (k: string) => t.externalData.find((e) => e.key === k)?.value;
  const location = get('location');
  if (!location) throw new InputError(`${path}: weight '${t.name}' is external but names no location`);
  const offset = Number(get('offset') ?? '0');
  const lengthText = get('length');
  const length = lengthText === undefined ? null : Number(lengthText);
  if (!Number.isSafeInteger(offset) || offset < 0 || (length !== null && (!Number.isSafeInteger(length) || length < 0))) {
    throw new InputError(`${path}: weight '${t.name}' has a bad external data offset or length`);
  }
  return { location, offset, length };
}

/**
 * The file of an external data location: inside the model's folder, also after following symbolic links
 * (a link out of the folder, e.g. to another user's file or to /dev/zero, is refused), and a regular file.
 */
function resolveExternal(baseDir: string, location: string, path: string, tensor: string): string {
  const norm = normalize(location);
  const outside = (): never => {
    throw new InputError(`${path}: weight '${tensor}' has external data outside the model's folder ('${location}')`);
  };
  if (isAbsolute(norm) || norm.startsWith('..')) outside();
  const file = join(baseDir, norm);
  if (!existsSync(file)) return file; // the caller reports a missing file
  const realBase = realpathSync(baseDir);
  const real = realpathSync(file);
  const rel = relative(realBase, real);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) outside();
  if (!statSync(real).isFile()) throw new InputError(`${path}: weight '${tensor}' has external data '${location}', which is not a regular file`);
  return file;
}

/** Byte size of a tensor from its dims and type, or null when unknown. */
export function expectedBytes(t: TensorProto): number | null {
  const per = onnxElementBytes(t.dataType);
  if (per === null) return null;
  return t.dims.reduce((a, d) => a * Number(d), 1) * per;
}

export function tensorElementCount(t: TensorProto): number {
  return t.dims.reduce((a, d) => a * Number(d), 1);
}

/** The raw little-endian bytes of an initializer, wherever they are stored. */
export function tensorBytes(t: TensorProto, loaded: Pick<LoadedModel, 'baseDir' | 'path'>): Uint8Array {
  if (t.dataLocation === TensorProto_DataLocation.EXTERNAL) {
    const ref = externalRef(t, loaded.path);
    const file = resolveExternal(loaded.baseDir, ref.location, loaded.path, t.name);
    const length = ref.length ?? expectedBytes(t) ?? 0;
    const out = new Uint8Array(length);
    const fd = openSync(file, 'r');
    try {
      let got = 0;
      while (got < length) {
        const n = readSync(fd, out, got, length - got, ref.offset + got);
        if (n === 0) throw new InputError(`${loaded.path}: external data for '${t.name}' is truncated`);
        got += n;
      }
    } finally {
      closeSync(fd);
    }
    return out;
  }
  if (t.rawData.length > 0) return t.rawData;
  const count = tensorElementCount(t);
  if (t.floatData.length > 0) return new Uint8Array(Float32Array.from(t.floatData).buffer);
  if (t.int64Data.length > 0) return new Uint8Array(BigInt64Array.from(t.int64Data).buffer);
  if (t.doubleData.length > 0) return new Uint8Array(Float64Array.from(t.doubleData).buffer);
  if (t.int32Data.length > 0) {
    const per = onnxElementBytes(t.dataType) ?? 4;
    if (per === 4) return new Uint8Array(Int32Array.from(t.int32Data).buffer);
    if (per === 2) return new Uint8Array(Uint16Array.from(t.int32Data).buffer);
    return Uint8Array.from(t.int32Data);
  }
  if (t.uint64Data.length > 0) return new Uint8Array(BigUint64Array.from(t.uint64Data).buffer);
  if (count === 0) return new Uint8Array(0);
  throw new InputError(`${loaded.path}: weight '${t.name}' has no data`);
}

export function serializeModel(model: ModelProto): Uint8Array {
  return toBinary(ModelProtoSchema, model);
}

/** Write a model atomically (temp file + rename). */
export function writeOnnxModel(path: string, model: ModelProto): Uint8Array {
  const bytes = serializeModel(model);
  writeFileAtomic(path, bytes);
  return bytes;
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** sha256 of a file, streamed in 8 MiB chunks (weights files are large). */
export function sha256File(path: string): string {
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(8 << 20);
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}
