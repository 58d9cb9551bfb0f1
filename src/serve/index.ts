export { ExecutorRunner, predictorLatencyModel, findPredictor } from './adapters.js';
export { serveRun, servePeak, startServices, type ServeRunOptions, type ServeRunResult } from './run.js';
