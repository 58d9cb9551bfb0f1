/**
 * Where initializer bytes go while a model is built. `ExternalWeightsFile` streams each tensor to one
 * `.data` file at a 4096-byte aligned offset (ONNX external data, mmap-friendly) so that building a large
 * model never holds more than one tensor in memory; `EmbeddedWeights` keeps the bytes in the protobuf
 * (small test models).
 */
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { basename } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { StringStringEntryProtoSchema, TensorProtoSchema, TensorProto_DataLocation, type TensorProto } from './generated/onnx_pb.js';

export const EXTERNAL_ALIGN_BYTES = 4096;

export interface WeightSink {
  /** Store `bytes` (little-endian, row-major) for a tensor and return its TensorProto. */
  add(name: string, dataType: number, dims: readonly number[], bytes: Uint8Array): TensorProto;
  close(): void;
}

export class EmbeddedWeights implements WeightSink {
  add(name: string, dataType: number, dims: readonly number[], bytes: Uint8Array): TensorProto {
    return create(TensorProtoSchema, { name, dataType, dims: dims.map((d) => BigInt(d)), rawData: bytes.slice() });
  }
  close(): void {}
}

export class ExternalWeightsFile implements WeightSink {
  private fd: number;
  private offset = 0;
  readonly location: string;
  totalBytes = 0;

  /** `path` is the data file; tensors refer to it by its base name (it must sit next to the .onnx file). */
  constructor(readonly path: string) {
    this.fd = openSync(path, 'w');
    this.location = basename(path);
  }

  add(name: string, dataType: number, dims: readonly number[], bytes: Uint8Array): TensorProto {
    const start = Math.ceil(this.offset / EXTERNAL_ALIGN_BYTES) * EXTERNAL_ALIGN_BYTES;
    let written = 0;
    while (written < bytes.length) written += writeSync(this.fd, bytes, written, bytes.length - written, start + written);
    this.offset = start + bytes.length;
    this.totalBytes += bytes.length;
    const entry = (key: string, value: string) => create(StringStringEntryProtoSchema, { key, value });
    return create(TensorProtoSchema, {
      name,
      dataType,
      dims: dims.map((d) => BigInt(d)),
      dataLocation: TensorProto_DataLocation.EXTERNAL,
      externalData: [entry('location', this.location), entry('offset', String(start)), entry('length', String(bytes.length))],
    });
  }

  close(): void {
    if (this.fd >= 0) {
      fsyncSync(this.fd);
      closeSync(this.fd);
      this.fd = -1;
    }
  }
}
