/**
 * Linear support vector regression by dual coordinate descent (Ho & Lin 2012, "Large-scale linear support
 * vector regression", JMLR 13; liblinear's L2R_L1LOSS_SVR_DUAL / L2R_L2LOSS_SVR_DUAL). Primal:
 *
 *   min_w  ½‖w‖² + C Σ_i ξ(w·x_i − y_i),   ξ(r) = max(0, |r| − ε)  (L1 loss)  or  max(0, |r| − ε)²  (L2 loss)
 *
 * where x_i carries an extra constant feature `bias` (liblinear's augmented bias: the intercept is
 * regularised, as sklearn's LinearSVR with intercept_scaling = 1). Dual, with w = Σ β_i x_i:
 *
 *   min_β  ½ βᵀQβ − yᵀβ + ε‖β‖₁ + (λ/2)‖β‖²,   −U ≤ β_i ≤ U
 *
 * with Q = XXᵀ and (λ, U) = (0, C) for L1 loss, (1/(2C), ∞) for L2 loss. Each step minimises the dual
 * exactly in one β_i (a one-variable piecewise quadratic), visiting the coordinates in a seeded random
 * order, with the paper's shrinking of coordinates that sit at a bound. Stops when the summed violation of
 * the optimality conditions falls to `tol` times its value in the first pass (liblinear's rule).
 */
import { Rng } from '../common/rng.js';

export interface SvrOptions {
  /** Cost C (default 1, as sklearn's LinearSVR). */
  C?: number;
  /** Width ε of the insensitive tube, in label units (default 0, as sklearn's LinearSVR). */
  epsilon?: number;
  /** 'l1' = epsilon_insensitive (default), 'l2' = squared_epsilon_insensitive. */
  loss?: 'l1' | 'l2';
  /** Relative stopping tolerance (default 1e-5, the original's LinearSVR tol). */
  tol?: number;
  /** Maximum passes over the data (default 1000, sklearn's max_iter). */
  maxIter?: number;
  /** Value of the augmented bias feature (default 1); 0 fits no intercept. */
  bias?: number;
  /** Seed of the coordinate order (default 0). */
  seed?: number;
}

export interface SvrResult {
  /** Weights of the d real features. */
  weights: Float64Array;
  /** Intercept = weight of the bias feature × bias. */
  bias: number;
  /** Dual variables β. */
  beta: Float64Array;
  iterations: number;
  converged: boolean;
  /** Primal objective at the solution. */
  primal: number;
  /** Dual objective (the minimised form above, negated: primal ≥ dual, equal at the optimum). */
  dual: number;
}

export const DEFAULT_SVR: Required<SvrOptions> = { C: 1, epsilon: 0, loss: 'l1', tol: 1e-5, maxIter: 1000, bias: 1, seed: 0 };

/** Fit on `rows` rows of `d` features (row-major `x`) and labels `y`. */
export function solveLinearSvr(x: Float64Array, y: ArrayLike<number>, rows: number, d: number, options: SvrOptions = {}): SvrResult {
  const o = { ...DEFAULT_SVR, ...options };
  if (!(o.C > 0)) throw new RangeError(`SVR: C must be > 0, got ${o.C}`);
  if (!(o.epsilon >= 0)) throw new RangeError(`SVR: epsilon must be >= 0, got ${o.epsilon}`);
  if (!(o.tol > 0)) throw new RangeError(`SVR: tol must be > 0, got ${o.tol}`);
  if (x.length < rows * d || y.length < rows) throw new RangeError('SVR: data shorter than rows × d');
  const l = rows;
  const p = o.epsilon;
  const biasValue = o.bias;
  const lambda = o.loss === 'l1' ? 0 : 0.5 / o.C;
  const upper = o.loss === 'l1' ? o.C : Number.POSITIVE_INFINITY;
  const w = new Float64Array(d);
  let wb = 0;
  const beta = new Float64Array(l);
  const qd = new Float64Array(l);
  const index = new Int32Array(l);
  for (let i = 0; i < l; i++) {
    let s = biasValue * biasValue;
    for (let k = 0; k < d; k++) s += (x[i * d + k] as number) ** 2;
    qd[i] = s;
    index[i] = i;
  }
  const rng = new Rng(o.seed);
  let activeSize = l;
  let gmaxOld = Number.POSITIVE_INFINITY;
  let gnorm1Init = -1;
  let iter = 0;
  let converged = false;

  while (iter < o.maxIter) {
    let gmaxNew = 0;
    let gnorm1New = 0;
    for (let i = 0; i < activeSize; i++) {
      const j = i + Math.floor(rng.next() * (activeSize - i));
      const t = index[i] as number;
      index[i] = index[j] as number;
      index[j] = t;
    }
    for (let s = 0; s < activeSize; s++) {
      const i = index[s] as number;
      const bi = beta[i] as number;
      const row = i * d;
      let g = -(y[i] as number) + lambda * bi + wb * biasValue;
      for (let k = 0; k < d; k++) g += (w[k] as number) * (x[row + k] as number);
      const h = (qd[i] as number) + lambda;
      const gp = g + p;
      const gn = g - p;
      let violation = 0;
      if (bi === 0) {
        if (gp < 0) violation = -gp;
        else if (gn > 0) violation = gn;
        else if (gp > gmaxOld && gn < -gmaxOld) {
          // shrink: stays at 0 with a margin
          activeSize--;
          index[s] = index[activeSize] as number;
          index[activeSize] = i;
          s--;
          continue;
        }
      } else if (bi >= upper) {
        if (gp > 0) violation = gp;
        else if (gp < -gmaxOld) {
          activeSize--;
          index[s] = index[activeSize] as number;
          index[activeSize] = i;
          s--;
          continue;
        }
      } else if (bi <= -upper) {
        if (gn < 0) violation = -gn;
        else if (gn > gmaxOld) {
          activeSize--;
          index[s] = index[activeSize] as number;
          index[activeSize] = i;
          s--;
          continue;
        }
      } else if (bi > 0) violation = Math.abs(gp);
      else violation = Math.abs(gn);
      if (violation > gmaxNew) gmaxNew = violation;
      gnorm1New += violation;

      // exact minimiser of the one-variable problem (before clipping to the box)
      let step: number;
      if (h <= 0) continue; // an all-zero row (and no bias) cannot move w
      if (gp < h * bi) step = -gp / h;
      else if (gn > h * bi) step = -gn / h;
      else step = -bi;
      if (Math.abs(step) < 1e-12) continue;
      const nb = Math.min(Math.max(bi + step, -upper), upper);
      const delta = nb - bi;
      beta[i] = nb;
      if (delta !== 0) {
        for (let k = 0; k < d; k++) w[k] = (w[k] as number) + delta * (x[row + k] as number);
        wb += delta * biasValue;
      }
    }
    if (iter === 0) gnorm1Init = gnorm1New;
    iter++;
    if (gnorm1New <= o.tol * gnorm1Init) {
      if (activeSize === l) {
        converged = true;
        break;
      }
      // re-check every coordinate before stopping
      activeSize = l;
      gmaxOld = Number.POSITIVE_INFINITY;
      continue;
    }
    gmaxOld = gmaxNew;
  }

  const { primal, dual } = svrObjectives(x, y, rows, d, w, wb, beta, o);
  return { weights: w, bias: wb * biasValue, beta, iterations: iter, converged, primal, dual };
}

/** Primal and (negated) dual objectives of a solution, for checks and reports. */
export function svrObjectives(
  x: Float64Array,
  y: ArrayLike<number>,
  rows: number,
  d: number,
  w: Float64Array,
  wBiasFeature: number,
  beta: Float64Array,
  options: SvrOptions = {},
): { primal: number; dual: number } {
  const o = { ...DEFAULT_SVR, ...options };
  let norm = wBiasFeature * wBiasFeature;
  for (let k = 0; k < d; k++) norm += (w[k] as number) ** 2;
  let loss = 0;
  let yb = 0;
  let b1 = 0;
  let b2 = 0;
  for (let i = 0; i < rows; i++) {
    let pred = wBiasFeature * o.bias;
    for (let k = 0; k < d; k++) pred += (w[k] as number) * (x[i * d + k] as number);
    const excess = Math.max(0, Math.abs(pred - (y[i] as number)) - o.epsilon);
    loss += o.loss === 'l1' ? excess : excess * excess;
    const bi = beta[i] as number;
    yb += (y[i] as number) * bi;
    b1 += Math.abs(bi);
    b2 += bi * bi;
  }
  const lambda = o.loss === 'l1' ? 0 : 0.5 / o.C;
  const primal = 0.5 * norm + o.C * loss;
  // the dual's w is Σ β_i x_i, which the solver keeps equal to (w, wBiasFeature)
  const dual = -(0.5 * norm - yb + o.epsilon * b1 + 0.5 * lambda * b2);
  return { primal, dual };
}
