export * from './types.js';
export { Executor, defaultPlan, type ExecutorOptions, type ServiceOptions } from './executor.js';
export { HostError } from './host.js';
export { checkExecutionProvider, parseExecutionProvider, hostKindFor, CUDA_INSTALL_HINT } from './providers.js';
export { SegmentEngine } from './engine.js';
export type { HostStats } from './protocol.js';
export { benchExecutor, balancedCuts, type ExecutorBenchOptions, type ExecutorBenchResult, type ModelBenchResult, type PairBenchResult } from './bench.js';
