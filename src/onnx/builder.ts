/**
 * A small typed builder for ONNX graphs (opset 17 by default). Attributes carry their type explicitly
 * (`attr.float(1)` is a FLOAT even though JavaScript cannot tell 1.0 from 1: ORT rejects a Gemm alpha
 * written as INT). Dims are numbers or symbolic names ("batch"). Initializers go to a `WeightSink`, so
 * large models stream their weights to disk. Operators (the paper's unit) are recorded as node ranges.
 */
import { create } from '@bufbuild/protobuf';
import {
  AttributeProtoSchema, AttributeProto_AttributeType as AttrType, GraphProtoSchema, ModelProtoSchema, NodeProtoSchema,
  OperatorSetIdProtoSchema, TensorShapeProto_DimensionSchema, TensorShapeProtoSchema, TypeProto_TensorSchema,
  TypeProtoSchema, ValueInfoProtoSchema,
  type AttributeProto, type ModelProto, type NodeProto, type TensorProto, type ValueInfoProto,
} from './generated/onnx_pb.js';
import { onnxType, elementBytes, float32ToFloat16Bits, type ElementType } from './dtype.js';
import { EmbeddedWeights, type WeightSink } from './weights.js';

export type Dim = number | string;

export type AttrValue =
  | { kind: 'float'; value: number }
  | { kind: 'int'; value: number }
  | { kind: 'floats'; value: readonly number[] }
  | { kind: 'ints'; value: readonly number[] }
  | { kind: 'string'; value: string }
  | { kind: 'tensor'; value: TensorProto };

export const attr = {
  float: (value: number): AttrValue => ({ kind: 'float', value }),
  int: (value: number): AttrValue => ({ kind: 'int', value }),
  floats: (value: readonly number[]): AttrValue => ({ kind: 'floats', value }),
  ints: (value: readonly number[]): AttrValue => ({ kind: 'ints', value }),
  string: (value: string): AttrValue => ({ kind: 'string', value }),
  tensor: (value: TensorProto): AttrValue => ({ kind: 'tensor', value }),
};

function toAttribute(name: string, a: AttrValue): AttributeProto {
  switch (a.kind) {
    case 'float': return create(AttributeProtoSchema, { name, type: AttrType.FLOAT, f: a.value });
    case 'int': return create(AttributeProtoSchema, { name, type: AttrType.INT, i: BigInt(a.value) });
    case 'floats': return create(AttributeProtoSchema, { name, type: AttrType.FLOATS, floats: [...a.value] });
    case 'ints': return create(AttributeProtoSchema, { name, type: AttrType.INTS, ints: a.value.map((v) => BigInt(v)) });
    case 'string': return create(AttributeProtoSchema, { name, type: AttrType.STRING, s: new TextEncoder().encode(a.value) });
    case 'tensor': return create(AttributeProtoSchema, { name, type: AttrType.TENSOR, t: a.value });
  }
}

export function valueInfo(name: string, dtype: ElementType, dims: readonly Dim[] | null): ValueInfoProto {
  const shape = dims === null ? undefined : create(TensorShapeProtoSchema, {
    dim: dims.map((d) => create(TensorShapeProto_DimensionSchema, {
      value: typeof d === 'number' ? { case: 'dimValue', value: BigInt(d) } : { case: 'dimParam', value: d },
    })),
  });
  return create(ValueInfoProtoSchema, {
    name,
    type: create(TypeProtoSchema, { value: { case: 'tensorType', value: create(TypeProto_TensorSchema, { elemType: onnxType(dtype), shape }) } }),
  });
}

export interface OperatorRecord {
  name: string;
  kind: string;
  input: string;
  output: string;
  /** [first, last) node indices. */
  nodes: [number, number];
  /** Parameter elements read by the operator's nodes. */
  params: number;
}

export interface BuilderOptions {
  opset?: number;
  /** Element type of weights and activations: float32 (default) or float16. */
  dtype?: ElementType;
  weights?: WeightSink;
  producer?: string;
}

export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly inputs: ValueInfoProto[] = [];
  readonly outputs: ValueInfoProto[] = [];
  readonly valueInfos: ValueInfoProto[] = [];
  readonly initializers: TensorProto[] = [];
  readonly operators: OperatorRecord[] = [];
  readonly opset: number;
  readonly dtype: ElementType;
  readonly weights: WeightSink;
  private readonly paramElements = new Map<string, number>();
  private readonly used = new Set<string>();
  private counter = 0;
  private open: { name: string; kind: string; input: string; start: number } | null = null;

  constructor(readonly name: string, options: BuilderOptions = {}) {
    this.opset = options.opset ?? 17;
    this.dtype = options.dtype ?? 'float32';
    this.weights = options.weights ?? new EmbeddedWeights();
    this.producer = options.producer ?? 'abacus';
  }
  private readonly producer: string;

  /** A fresh tensor or node name starting with `prefix`. */
  fresh(prefix: string): string {
    let name = prefix;
    while (this.used.has(name)) name = `${prefix}_${++this.counter}`;
    this.used.add(name);
    return name;
  }

  input(name: string, dims: readonly Dim[], dtype: ElementType = this.dtype): string {
    this.used.add(name);
    this.inputs.push(valueInfo(name, dtype, dims));
    return name;
  }

  output(name: string, dims: readonly Dim[], dtype: ElementType = this.dtype): void {
    this.outputs.push(valueInfo(name, dtype, dims));
  }

  /** Record the type and shape of an intermediate tensor (operator boundaries get one). */
  annotate(name: string, dims: readonly Dim[], dtype: ElementType = this.dtype): void {
    this.valueInfos.push(valueInfo(name, dtype, dims));
  }

  /**
   * A weight tensor from float32 values, stored in the builder's dtype. `param: false` marks buffers
   * (BatchNorm running statistics) that reference parameter counts leave out.
   */
  weight(prefix: string, dims: readonly number[], values: Float32Array, param = true): string {
    const count = dims.reduce((a, b) => a * b, 1);
    if (values.length !== count) throw new Error(`weight ${prefix}: ${values.length} values for dims [${dims.join(',')}]`);
    const name = this.fresh(prefix);
    const bytes = this.dtype === 'float16'
      ? new Uint8Array(float32ToFloat16Bits(values).buffer)
      : new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    this.initializers.push(this.weights.add(name, onnxType(this.dtype), dims, bytes));
    if (param) this.paramElements.set(name, count);
    return name;
  }

  /** An int64 constant initializer (shapes, axes); not a parameter. */
  int64s(prefix: string, values: readonly number[]): string {
    const name = this.fresh(prefix);
    const data = new BigInt64Array(values.map((v) => BigInt(v)));
    this.initializers.push(new EmbeddedWeights().add(name, onnxType('int64'), [values.length], new Uint8Array(data.buffer)));
    return name;
  }

  /** A scalar constant in the model's dtype; not a parameter. */
  scalar(prefix: string, value: number): string {
    const name = this.fresh(prefix);
    const bytes = this.dtype === 'float16'
      ? new Uint8Array(float32ToFloat16Bits(Float32Array.of(value)).buffer)
      : new Uint8Array(Float32Array.of(value).buffer);
    this.initializers.push(new EmbeddedWeights().add(name, onnxType(this.dtype), [], bytes));
    return name;
  }

  /** Add a node; returns its output names (`outputs` names them or says how many). */
  node(opType: string, inputs: readonly string[], attrs: Record<string, AttrValue> = {}, outputs: number | readonly string[] = 1): string[] {
    const nodeName = this.fresh(`${opType}_${this.nodes.length}`);
    const outs = typeof outputs === 'number'
      ? Array.from({ length: outputs }, (_, i) => this.fresh(`${nodeName}.out${outputs > 1 ? i : ''}`))
      : outputs.map((o) => { this.used.add(o); return o; });
    this.nodes.push(create(NodeProtoSchema, {
      name: nodeName, opType, input: [...inputs], output: outs,
      attribute: Object.entries(attrs).map(([k, v]) => toAttribute(k, v)),
    }));
    return outs;
  }

  /** Single-output node. */
  op(opType: string, inputs: readonly string[], attrs: Record<string, AttrValue> = {}): string {
    return this.node(opType, inputs, attrs, 1)[0] as string;
  }

  /**
   * Build one operator (the paper's unit): every node added by `body` belongs to it. `body` gets the
   * operator's input tensor and returns its output tensor, whose shape is recorded as value info.
   */
  operator(name: string, kind: string, input: string, outputDims: readonly Dim[], body: (x: string) => string): string {
    if (this.open) throw new Error(`operator ${name} opened inside operator ${this.open.name}`);
    this.open = { name, kind, input, start: this.nodes.length };
    const output = body(input);
    const start = this.open.start;
    this.open = null;
    const end = this.nodes.length;
    if (end === start) throw new Error(`operator ${name} added no node`);
    const read = new Set(this.nodes.slice(start, end).flatMap((n) => n.input));
    let params = 0;
    for (const t of read) params += this.paramElements.get(t) ?? 0;
    this.operators.push({ name, kind, input, output, nodes: [start, end], params });
    this.annotate(output, outputDims);
    return output;
  }

  /** Total parameter elements (weights marked as parameters). */
  get paramCount(): number {
    let total = 0;
    for (const v of this.paramElements.values()) total += v;
    return total;
  }

  get weightBytesPerElement(): number {
    return elementBytes(this.dtype);
  }

  toModel(): ModelProto {
    return create(ModelProtoSchema, {
      irVersion: 8n,
      producerName: this.producer,
      producerVersion: '0.1.0',
      opsetImport: [create(OperatorSetIdProtoSchema, { domain: '', version: BigInt(this.opset) })],
      graph: create(GraphProtoSchema, {
        name: this.name,
        node: this.nodes,
        input: this.inputs,
        output: this.outputs,
        initializer: this.initializers,
        valueInfo: this.valueInfos,
      }),
    });
  }
}
