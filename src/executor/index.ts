export * from './types.js';
export { Executor, defaultPlan, type ExecutorOptions, type ServiceOptions } from './executor.js';
export { HostError } from './host.js';
export { checkExecutionProvider, parseExecutionProvider, hostKindFor, CUDA_INSTALL_HINT, CUDA_PROVIDER_OPTION_KEYS, DEFAULT_CUDA_PROVIDER_OPTIONS, parseCudaProviderOptions, setCudaProviderOptions, cudaProviderReport, cudaOptionsShimActive, cudaDeviceActivations, keepsActivationsOnDevice, deviceOutputNeedsReadback, CUDA_READBACK_SYNC_ENV, sessionPerShapeFor, CUDA_SESSION_PER_SHAPE_ENV } from './providers.js';
export { SegmentEngine, balancedOperatorCuts, tierBlocks } from './engine.js';
export type { HostStats } from './protocol.js';
export { benchExecutor, type ExecutorBenchOptions, type ExecutorBenchResult, type ModelBenchResult, type PairBenchResult } from './bench.js';
