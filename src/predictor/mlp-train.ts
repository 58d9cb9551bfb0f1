/**
 * MLP training on tfjs (tfjs-core + tfjs-layers, wasm backend with a pure-JS cpu fallback). As the
 * original: F-32-32-32-1 with ReLU, MSE loss, plain SGD with a per-iteration cosine schedule
 * lr = ½·lr0·(1 + cos(π·t/T)) from lr0 to 0; Adam is an option (same schedule). Unlike the original,
 * inputs and labels are standardised (the bundle stores both scalings), weights are initialised from the
 * seed (PyTorch's default U(±1/√fan_in)) and batches are drawn in a seeded order, so a run repeats exactly.
 * Inference never calls tfjs: the trained weights become an MlpPredictor (mlp.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { InputError } from '../common/errors.js';
import { Rng } from '../common/rng.js';
import type { DenseLayerJson } from './bundle-format.js';
import type { FeatureSpec } from './features.js';
import type { TrainingData } from './linear.js';
import { MlpPredictor } from './mlp.js';
import { DEFAULT_MLP, TrainingDivergedError, type MlpOptimizer } from './mlp-options.js';
import { computeStandardization, labelScaling } from './predictor.js';

export { DEFAULT_MLP, type MlpOptimizer } from './mlp-options.js';

export interface MlpTrainOptions {
  /** Hidden layer widths (default [32, 32, 32]). */
  hidden?: number[];
  epochs?: number;
  batchSize?: number;
  /** Initial learning rate lr0 of the cosine schedule. */
  lr?: number;
  optimizer?: MlpOptimizer;
  seed?: number;
  /** Called after every epoch with the mean training MSE in label units (ms², or (ln ms)² for log labels); awaited, so a progress bar can redraw. */
  onEpoch?: (e: { epoch: number; epochs: number; trainMse: number }) => void | Promise<void>;
}

export interface MlpFit {
  backend: string;
  tfjsVersion: string;
  epochs: number;
  iterations: number;
  finalTrainMse: number;
  seconds: number;
}

let backendReady: Promise<string> | null = null;

/** Select the tfjs backend once: wasm if it initialises, else cpu. Returns its name. */
export function initTfBackend(): Promise<string> {
  backendReady ??= (async () => {
    // the wasm glue installs process-wide uncaughtException/unhandledRejection listeners that rethrow
    // (printing its minified source on any later crash): remove the ones it adds
    const before = { exc: process.listeners('uncaughtException'), rej: process.listeners('unhandledRejection') };
    const removeAdded = (): void => {
      for (const l of process.listeners('uncaughtException')) if (!before.exc.includes(l)) process.removeListener('uncaughtException', l);
      for (const l of process.listeners('unhandledRejection')) if (!before.rej.includes(l)) process.removeListener('unhandledRejection', l);
    };
    try {
      const ok = await tf.setBackend('wasm');
      await tf.ready();
      removeAdded();
      if (ok) return tf.getBackend();
    } catch {
      // the wasm binary could not be instantiated here: fall back to the pure-JS backend
      removeAdded();
    }
    await tf.setBackend('cpu');
    await tf.ready();
    return tf.getBackend();
  })();
  return backendReady;
}

function pytorchInit(rng: Rng, inputs: number, outputs: number): { kernel: Float32Array; bias: Float32Array } {
  const bound = 1 / Math.sqrt(inputs);
  const kernel = new Float32Array(inputs * outputs);
  for (let t = 0; t < kernel.length; t++) kernel[t] = (2 * rng.next() - 1) * bound;
  const bias = new Float32Array(outputs);
  for (let t = 0; t < outputs; t++) bias[t] = (2 * rng.next() - 1) * bound;
  return { kernel, bias };
}

export async function trainMlp(spec: FeatureSpec, data: TrainingData, width: number, options: MlpTrainOptions = {}): Promise<{ predictor: MlpPredictor; fit: MlpFit }> {
  const o = { ...DEFAULT_MLP, ...options };
  const n = data.rows;
  if (n === 0) throw new InputError('cannot train an MLP on no rows');
  if (!Number.isInteger(o.epochs) || o.epochs < 1) throw new InputError(`epochs must be a positive integer, got ${o.epochs}`);
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1) throw new InputError(`batch size must be a positive integer, got ${o.batchSize}`);
  if (!(o.lr > 0) || !Number.isFinite(o.lr)) throw new InputError(`learning rate must be > 0, got ${o.lr}`);
  if (o.hidden.length === 0 || !o.hidden.every((h) => Number.isInteger(h) && h > 0)) throw new InputError(`bad hidden layer sizes ${o.hidden.join(',')}`);
  if (o.optimizer !== 'sgd' && o.optimizer !== 'adam') throw new InputError(`unknown optimizer ${String(o.optimizer)} (sgd or adam)`);
  const started = performance.now();
  const backend = await initTfBackend();
  const st = computeStandardization(data.features, n, width);
  const lab = labelScaling(data.labelsMs, n);
  const xs = new Float32Array(n * width);
  const ys = new Float32Array(n);
  for (let r = 0; r < n; r++) {
    for (let k = 0; k < width; k++) xs[r * width + k] = ((data.features[r * width + k] as number) - (st.mean[k] as number)) / (st.std[k] as number);
    ys[r] = ((data.labelsMs[r] as number) - lab.mean) / lab.std;
  }

  const rng = new Rng(o.seed);
  const sizes = [width, ...o.hidden, 1];
  const model = tfl.sequential();
  for (let i = 1; i < sizes.length; i++) {
    model.add(
      tfl.layers.dense({
        units: sizes[i] as number,
        activation: i < sizes.length - 1 ? 'relu' : 'linear',
        ...(i === 1 ? { inputShape: [width] } : {}),
        kernelInitializer: 'zeros',
        biasInitializer: 'zeros',
      }),
    );
  }
  const init: tf.Tensor[] = [];
  for (let i = 1; i < sizes.length; i++) {
    const { kernel, bias } = pytorchInit(rng, sizes[i - 1] as number, sizes[i] as number);
    init.push(tf.tensor2d(kernel, [sizes[i - 1] as number, sizes[i] as number]), tf.tensor1d(bias));
  }
  model.setWeights(init);
  tf.dispose(init);

  const X = tf.tensor2d(xs, [n, width]);
  const Y = tf.tensor2d(ys, [n, 1]);
  const optimizer = o.optimizer === 'sgd' ? tf.train.sgd(o.lr) : tf.train.adam(o.lr);
  const setLr = (lr: number): void => {
    if (o.optimizer === 'sgd') (optimizer as tf.SGDOptimizer).setLearningRate(lr);
    else (optimizer as unknown as { learningRate: number }).learningRate = lr; // Adam reads it at every step
  };
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const itersPerEpoch = Math.ceil(n / o.batchSize);
  const total = o.epochs * itersPerEpoch;
  const perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  let t = 0;
  let lastMse = Number.NaN;
  try {
    for (let epoch = 0; epoch < o.epochs; epoch++) {
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(rng.next() * (i + 1));
        const tmp = perm[i] as number;
        perm[i] = perm[j] as number;
        perm[j] = tmp;
      }
      let sum = 0;
      for (let it = 0; it < itersPerEpoch; it++, t++) {
        setLr(0.5 * o.lr * (1 + Math.cos((Math.PI * t) / total)));
        const lo = it * o.batchSize;
        const hi = Math.min(n, lo + o.batchSize);
        const idx = tf.tensor1d(perm.subarray(lo, hi), 'int32');
        const loss = optimizer.minimize(
          () =>
            tf.tidy(() => {
              const pred = model.apply(tf.gather(X, idx)) as tf.Tensor;
              return tf.losses.meanSquaredError(tf.gather(Y, idx), pred) as tf.Scalar;
            }),
          true,
          vars,
        );
        idx.dispose();
        if (loss) {
          sum += (loss.dataSync()[0] as number) * (hi - lo);
          loss.dispose();
        }
      }
      lastMse = (sum / n) * lab.std * lab.std;
      if (!Number.isFinite(lastMse)) throw new TrainingDivergedError(`MLP training diverged at epoch ${epoch + 1} (loss ${lastMse}); lower the learning rate`);
      if (o.onEpoch) await o.onEpoch({ epoch: epoch + 1, epochs: o.epochs, trainMse: lastMse });
    }
    const weights = model.getWeights();
    const layers: DenseLayerJson[] = [];
    for (let i = 0; i + 1 < weights.length; i += 2) {
      const k = weights[i] as tf.Tensor;
      const b = weights[i + 1] as tf.Tensor;
      layers.push({ inputs: k.shape[0] as number, outputs: k.shape[1] as number, kernel: Array.from(k.dataSync()), bias: Array.from(b.dataSync()) });
    }
    const predictor = new MlpPredictor(spec, st, lab, layers);
    return {
      predictor,
      fit: { backend, tfjsVersion: tf.version_core, epochs: o.epochs, iterations: total, finalTrainMse: lastMse, seconds: (performance.now() - started) / 1000 },
    };
  } finally {
    X.dispose();
    Y.dispose();
    optimizer.dispose();
    model.dispose();
  }
}
