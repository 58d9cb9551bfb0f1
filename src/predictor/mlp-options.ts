/** MLP training options that other modules need without loading tfjs. */

export type MlpOptimizer = 'sgd' | 'adam';

/**
 * Defaults: the original's A100 `all` setting (250 epochs, batch 128, SGD + cosine), except lr0. The
 * original's lr0 = 0.001 acted on raw features and raw ms labels; on standardised inputs and labels,
 * lr0 = 0.1 trains well on synthetic pair data (0.2 a little better, 0.4 collapses). Adam (lr ≈ 0.003)
 * reached about half the SGD error there.
 */
export const DEFAULT_MLP: { hidden: number[]; epochs: number; batchSize: number; lr: number; optimizer: MlpOptimizer; seed: number } = {
  hidden: [32, 32, 32],
  epochs: 250,
  batchSize: 128,
  lr: 0.1,
  optimizer: 'sgd',
  seed: 0,
};
