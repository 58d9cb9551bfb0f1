export * from './dtype.js';
export * from './builder.js';
export * from './weights.js';
export * from './io.js';
export * from './graph.js';
export * from './discover.js';
export * from './flops.js';
export * as onnxProto from './generated/onnx_pb.js';
