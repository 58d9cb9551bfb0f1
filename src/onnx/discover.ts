/**
 * Shape and type discovery by running the model once on the CPU execution provider with the tensors of
 * interest exposed as graph outputs. Works for any model onnxruntime can load (no shape inference of our
 * own to keep in step with the operator set).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import * as ort from 'onnxruntime-node';
import { ModelProtoSchema, GraphProtoSchema, ValueInfoProtoSchema, type ModelProto } from './generated/onnx_pb.js';
import { InputError } from '../common/errors.js';
import { serializeModel, writeOnnxModel, type LoadedModel } from './io.js';
import { float32ToFloat16Bits, type ElementType } from './dtype.js';

export interface ConcreteType { dtype: ElementType; dims: number[] }

export type Feeds = Record<string, ort.Tensor>;

/** Create a CPU session for `model`, whose external data (if any) lives in `baseDir`. */
export async function createCpuSession(model: ModelProto, baseDir: string, options: ort.InferenceSession.SessionOptions = {}): Promise<ort.InferenceSession> {
  const hasExternal = model.graph?.initializer.some((t) => t.externalData.length > 0) ?? false;
  const opts: ort.InferenceSession.SessionOptions = { executionProviders: ['cpu'], intraOpNumThreads: 1, extra: { session: { intra_op: { allow_spinning: '0' } } }, ...options };
  if (!hasExternal) return ort.InferenceSession.create(serializeModel(model), opts);
  const tmp = join(baseDir, `.probe-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.onnx`);
  writeOnnxModel(tmp, model);
  try {
    return await ort.InferenceSession.create(tmp, opts);
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** Run `loaded` on `feeds` and return the concrete type and shape of each tensor in `names`. */
export async function discoverTypes(loaded: LoadedModel, names: readonly string[], feeds: Feeds): Promise<Map<string, ConcreteType>> {
  const graph = loaded.model.graph;
  if (!graph) throw new InputError(`${loaded.path}: no graph`);
  const probe = create(ModelProtoSchema, {
    ...loaded.model,
    graph: create(GraphProtoSchema, { ...graph, output: names.map((name) => create(ValueInfoProtoSchema, { name })) }),
  });
  let session: ort.InferenceSession;
  try {
    session = await createCpuSession(probe, loaded.baseDir, { graphOptimizationLevel: 'basic' });
  } catch (err) {
    throw new InputError(`${loaded.path}: onnxruntime cannot load the model (${firstLine(err)})`);
  }
  try {
    const out = await session.run(feeds);
    const result = new Map<string, ConcreteType>();
    for (const name of names) {
      const t = out[name];
      if (!t) throw new Error(`${loaded.path}: tensor '${name}' missing from the probe run`);
      result.set(name, { dtype: t.type as ElementType, dims: [...t.dims] });
    }
    return result;
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`${loaded.path}: onnxruntime cannot run the model (${firstLine(err)})`);
  } finally {
    await session.release();
  }
}

export function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0]?.slice(0, 400) ?? text;
}

/** A tensor of `dtype` and `dims` filled with seeded uniform values in [-1, 1) (ints: zeros). */
export function randomTensor(dtype: ElementType, dims: readonly number[], next: () => number): ort.Tensor {
  const count = dims.reduce((a, b) => a * b, 1);
  switch (dtype) {
    case 'float32': {
      const data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = next() * 2 - 1;
      return new ort.Tensor('float32', data, dims);
    }
    case 'float16': {
      const f = new Float32Array(count);
      for (let i = 0; i < count; i++) f[i] = next() * 2 - 1;
      return new ort.Tensor("float16", float32ToFloat16Bits(f), dims);
    }
    case 'int64': return new ort.Tensor('int64', new BigInt64Array(count), dims);
    case 'int32': return new ort.Tensor('int32', new Int32Array(count), dims);
    case 'bool': return new ort.Tensor('bool', new Uint8Array(count), dims);
    default: throw new InputError(`inputs of type ${dtype} are not supported`);
  }
}
