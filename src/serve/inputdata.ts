/**
 * Real input data for `abacus load --input-data FILE`, in perf_analyzer's JSON layout:
 *
 *     {"data": [ {"input": [0.1, 0.2, ...]},                                   // flat values
 *                {"input": {"content": [[0.1, ...], ...], "shape": [1, 3, 32, 32]}},  // values + shape
 *                {"input": {"b64": "<little-endian bytes, base64>", "shape": [1, 3, 32, 32]}} ]}
 *
 * Each entry of `data` is one request's tensors, by input name (every input of the model); requests take
 * the entries in turn. `content` may be nested. One difference from perf_analyzer: a `shape` is the full
 * shape sent, batch dim included (perf_analyzer leaves the batch dim out and takes `-b`). Without a
 * `shape`, the model's shape is used, with its one variable dim (if any) solved from the number of
 * values. Values are sent as the input's datatype (FP32, or FP16 converted from the numbers).
 */
import { readFileSync } from 'node:fs';
import { InputError, errorMessage } from '../common/errors.js';
import type { RemoteModel } from './client.js';
import { floatToHalf } from './tensors.js';
import type { InferPayload } from './transport.js';

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function flatten(v: unknown, where: string, out: number[] = []): number[] {
  if (Array.isArray(v)) {
    for (const x of v) flatten(x, where, out);
    return out;
  }
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new InputError(`${where}: values must be finite numbers, got ${JSON.stringify(v)}`);
  out.push(v);
  return out;
}

function solveShape(model: number[], count: number, where: string): number[] {
  const free = model.filter((d) => d < 0).length;
  const known = model.filter((d) => d >= 0).reduce((a, b) => a * b, 1);
  if (free === 0) {
    if (known !== count) throw new InputError(`${where}: ${count} values for the model's shape [${model.join(', ')}] (${known} values); give a 'shape'`);
    return model;
  }
  if (free > 1) throw new InputError(`${where}: the model's shape [${model.join(', ')}] has ${free} variable dims: give a 'shape'`);
  if (known === 0 || count % known !== 0) throw new InputError(`${where}: ${count} values do not fill the model's shape [${model.join(', ')}]`);
  return model.map((d) => (d < 0 ? count / known : d));
}

function encode(values: number[], datatype: string, where: string): Buffer {
  if (datatype === 'FP32') return Buffer.from(Float32Array.from(values).buffer);
  if (datatype === 'FP16') return Buffer.from(Uint16Array.from(values, floatToHalf).buffer);
  throw new InputError(`${where}: the input is ${datatype}; the load client sends FP32 and FP16`);
}

function decode(bytes: Buffer, datatype: string, where: string): number[] {
  if (datatype === 'FP32') {
    if (bytes.length % 4 !== 0) throw new InputError(`${where}: ${bytes.length} bytes is not a whole number of FP32 values`);
    return Array.from(new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)));
  }
  throw new InputError(`${where}: b64 data is read for FP32 inputs only (the input is ${datatype})`);
}

/** The payloads of an input-data file for one model: one per entry of `data`, in order. */
export function parseInputData(value: unknown, model: RemoteModel, file = 'input data'): InferPayload[] {
  if (!isRecord(value) || !Array.isArray(value.data) || value.data.length === 0) throw new InputError(`${file}: expected {"data": [ {<input name>: <values>}, ... ]} with at least one entry`);
  return value.data.map((entry: unknown, k: number) => {
    const at = `${file}: data[${k}]`;
    if (!isRecord(entry)) throw new InputError(`${at} must be an object of tensors by input name`);
    for (const name of Object.keys(entry)) if (!model.inputs.some((i) => i.name === name)) throw new InputError(`${at}: model '${model.name}' has no input '${name}' (inputs: ${model.inputs.map((i) => i.name).join(', ')})`);
    let batch = 1;
    let seq = 0;
    const tensors = model.inputs.map((input) => {
      const where = `${at}.${input.name}`;
      const raw = entry[input.name];
      if (raw === undefined) throw new InputError(`${at}: no data for input '${input.name}'`);
      let values: number[];
      let bytes: Buffer | null = null;
      let shape: number[] | null = null;
      if (isRecord(raw)) {
        if (raw.shape !== undefined) {
          if (!Array.isArray(raw.shape) || !raw.shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) throw new InputError(`${where}: 'shape' must be a list of integers >= 0`);
          shape = raw.shape as number[];
        }
        if (typeof raw.b64 === 'string') {
          bytes = Buffer.from(raw.b64, 'base64');
          values = decode(bytes, input.datatype, where);
        } else if (raw.content !== undefined) {
          values = flatten(raw.content, where);
        } else throw new InputError(`${where}: give the values, {"content": [...]} or {"b64": "..."}`);
      } else {
        values = flatten(raw, where);
      }
      if (shape) {
        if (shape.length !== input.shape.length) throw new InputError(`${where}: shape [${shape.join(', ')}] has ${shape.length} dims, the model's input has ${input.shape.length}`);
        shape.forEach((d, i) => {
          const want = input.shape[i] as number;
          if (want >= 0 && d !== want) throw new InputError(`${where}: dim ${i} is ${d}, the model's input has ${want}`);
        });
        const count = shape.reduce((a, b) => a * b, 1);
        if (count !== values.length) throw new InputError(`${where}: shape [${shape.join(', ')}] needs ${count} values, got ${values.length}`);
      } else shape = solveShape(input.shape, values.length, where);
      input.dims.forEach((d, i) => {
        if (d === 'batch') batch = shape[i] as number;
        if (d === 'seq') seq = shape[i] as number;
      });
      return { name: input.name, datatype: input.datatype, shape, bytes: bytes ?? encode(values, input.datatype, where), values };
    });
    return { batch, seq, tensors };
  });
}

export function readInputData(path: string, model: RemoteModel): InferPayload[] {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new InputError(`--input-data ${path}: ${errorMessage(err)}`, { cause: err });
  }
  return parseInputData(value, model, path);
}
