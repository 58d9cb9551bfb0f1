/**
 * Floating-point operations of one node from its input and output shapes: 2·MACs for convolutions and
 * matrix products, one per output element for everything else. Good enough to balance operators and to
 * report model cost; not a cycle-accurate model.
 */
import type { NodeProto } from './generated/onnx_pb.js';

function prod(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

function intAttr(node: NodeProto, name: string, fallback: number): number {
  const a = node.attribute.find((x) => x.name === name);
  return a ? Number(a.i) : fallback;
}

/** `shapeOf` gives a tensor's concrete dims, or undefined when unknown. */
export function nodeFlops(node: NodeProto, shapeOf: (name: string) => readonly number[] | undefined): number {
  const out = node.output[0] ? shapeOf(node.output[0]) : undefined;
  if (!out) return 0;
  const outCount = prod(out);
  switch (node.opType) {
    case 'Conv':
    case 'ConvTranspose': {
      const w = node.input[1] ? shapeOf(node.input[1]) : undefined;
      if (!w) return outCount;
      // weight [Cout, Cin/group, k...]: each output element needs Cin/group·prod(k) MACs
      return 2 * outCount * prod(w.slice(1));
    }
    case 'Gemm': {
      const a = node.input[0] ? shapeOf(node.input[0]) : undefined;
      if (!a) return outCount;
      const k = intAttr(node, 'transA', 0) ? a[0] ?? 1 : a[a.length - 1] ?? 1;
      return 2 * outCount * k;
    }
    case 'MatMul': {
      const a = node.input[0] ? shapeOf(node.input[0]) : undefined;
      if (!a) return outCount;
      return 2 * outCount * (a[a.length - 1] ?? 1);
    }
    case 'Shape': case 'Constant': case 'Reshape': case 'Flatten': case 'Squeeze': case 'Unsqueeze':
    case 'Identity': case 'Gather': case 'Concat': case 'Transpose': case 'Slice': case 'Cast':
      return 0;
    default:
      return outCount;
  }
}
