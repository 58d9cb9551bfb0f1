export { ExecutorRunner, predictorLatencyModel, findPredictor } from './adapters.js';
export { serveRun, servePeak, startServices, type ServeRunOptions, type ServeRunResult } from './run.js';
export { OnlineServer, SERVER_NAME, SERVER_VERSION, type OnlineServerOptions, type ServerStatus } from './server.js';
export { InferenceCore, MODEL_VERSION, type ServedModel, type ModelMetadata, type InferRequestIn, type InferResult, type InferTimings } from './service.js';
export { ServerMetrics, type RequestOutcome } from './metrics.js';
export { startHttpFront, parseHostPort, parseInferBody, encodeInferResult, routeOf, BINARY_HEADER, type HostPort, type HttpFront } from './http.js';
export { startGrpcFront, loadInferenceService, protoPath, type GrpcFront } from './grpc.js';
export { ProtocolError, decodeInputs, floatToHalf, type ProtocolErrorKind, type RawInput } from './tensors.js';
