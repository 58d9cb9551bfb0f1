import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/common/rng.js';
import { type SvrOptions, solveLinearSvr, svrObjectives } from '../../src/predictor/svr.js';

const close = (a: number, b: number, tol: number, what: string): void => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

/** Primal objective of (w, b) with bias feature 1. */
function primal(x: number[][], y: number[], w: number[], b: number, o: Required<Pick<SvrOptions, 'C' | 'epsilon' | 'loss'>>): number {
  let norm = b * b;
  for (const v of w) norm += v * v;
  let loss = 0;
  x.forEach((row, i) => {
    const pred = b + row.reduce((s, v, k) => s + v * w[k]!, 0);
    const ex = Math.max(0, Math.abs(pred - y[i]!) - o.epsilon);
    loss += o.loss === 'l1' ? ex : ex * ex;
  });
  return 0.5 * norm + o.C * loss;
}

test('points on an exact line: the fit recovers the line (L1 loss, ε = 0)', () => {
  const xs = Array.from({ length: 10 }, (_, i) => i + 1);
  const fit = solveLinearSvr(Float64Array.from(xs), xs.map((x) => 2 * x + 3), 10, 1, { C: 10, tol: 1e-8, maxIter: 100_000 });
  assert.ok(fit.converged);
  close(fit.weights[0]!, 2, 1e-4, 'slope');
  close(fit.bias, 3, 1e-4, 'intercept');
  close(fit.primal, 0.5 * (4 + 9), 1e-3, 'primal = ½‖(w, b)‖², no loss');
});

test('one point, closed forms: the regularised bias shares the fit with the weight', () => {
  // x = 1, y = 1: minimise t² + C·ξ(1 − 2t) with w = b = t
  const one = (o: SvrOptions): { w: number; b: number } => {
    const f = solveLinearSvr(Float64Array.of(1), [1], 1, 1, { tol: 1e-10, maxIter: 100_000, ...o });
    return { w: f.weights[0]!, b: f.bias };
  };
  for (const [o, t] of [
    [{ C: 0.25 }, 0.25], // interior: t = C
    [{ C: 1 }, 0.5], // at the kink: the residual is 0
    [{ C: 1, epsilon: 0.2 }, 0.4], // residual = ε
    [{ C: 0.1, epsilon: 0.2 }, 0.1],
    [{ C: 1, loss: 'l2' }, 0.4], // t = 2C / (1 + 4C)
    [{ C: 0.25, loss: 'l2' }, 0.25],
  ] as Array<[SvrOptions, number]>) {
    const got = one(o);
    close(got.w, t, 1e-6, `w for ${JSON.stringify(o)}`);
    close(got.b, t, 1e-6, `b for ${JSON.stringify(o)}`);
  }
  // without the bias feature the weight alone fits: w = min(1, C) for C·|1 − w| + ½w²
  close(solveLinearSvr(Float64Array.of(1), [1], 1, 1, { C: 0.3, bias: 0 }).weights[0]!, 0.3, 1e-9, 'no bias');
});

test('random tiny problems: zero duality gap, KKT conditions hold, no nearby point does better', () => {
  const rng = new Rng(11);
  for (let trial = 0; trial < 25; trial++) {
    const n = rng.int(3, 9);
    const d = rng.int(1, 3);
    const o = { C: rng.pick([0.1, 1, 5]), epsilon: rng.pick([0, 0.1, 0.5]), loss: rng.pick(['l1', 'l2'] as const) };
    const x: number[][] = Array.from({ length: n }, () => Array.from({ length: d }, () => rng.normal()));
    const y = x.map((row) => row.reduce((s, v) => s + v, 0) + 0.5 * rng.normal());
    const fit = solveLinearSvr(Float64Array.from(x.flat()), y, n, d, { ...o, tol: 1e-12, maxIter: 200_000, seed: trial });
    const w = Array.from(fit.weights);
    const p = primal(x, y, w, fit.bias, o);
    close(p, fit.primal, 1e-9 * Math.max(1, p), 'reported primal');
    assert.ok(fit.primal - fit.dual <= 1e-6 * Math.max(1, fit.primal), `trial ${trial}: duality gap ${fit.primal - fit.dual}`);
    // KKT of the dual: β_i against the residual r_i = y_i − f(x_i)
    x.forEach((row, i) => {
      const r = y[i]! - (fit.bias + row.reduce((s, v, k) => s + v * w[k]!, 0));
      const beta = fit.beta[i]!;
      const tol = 1e-5;
      if (o.loss === 'l1') {
        if (beta === 0) assert.ok(Math.abs(r) <= o.epsilon + tol, `β=0 but |r|=${Math.abs(r)}`);
        else if (Math.abs(beta) < o.C - 1e-9) close(r, Math.sign(beta) * o.epsilon, tol, `interior β residual (trial ${trial})`);
        else assert.ok(Math.sign(beta) * r >= o.epsilon - tol, `β at ±C needs |r| >= ε, r=${r}`);
      } else {
        // L2: β_i = 2C·(r_i − ε·sign) outside the tube, 0 inside
        const ex = Math.max(0, Math.abs(r) - o.epsilon) * Math.sign(r);
        close(beta, 2 * o.C * ex, tol * Math.max(1, o.C), `L2 β (trial ${trial})`);
      }
    });
    for (let k = 0; k < 30; k++) {
      const dw = w.map((v) => v + 1e-3 * rng.normal());
      assert.ok(primal(x, y, dw, fit.bias + 1e-3 * rng.normal(), o) >= fit.primal - 1e-9, 'a perturbed point is better');
    }
  }
});

test('brute force on a grid agrees with the solver (1-D with bias, L1 loss)', () => {
  const x = [[0.5], [1.5], [2], [3], [-1]];
  const y = [1, 2.2, 2.1, 4.5, -0.4];
  const o = { C: 0.7, epsilon: 0.1, loss: 'l1' as const };
  const fit = solveLinearSvr(Float64Array.from(x.flat()), y, 5, 1, { ...o, tol: 1e-12, maxIter: 100_000 });
  let best = Number.POSITIVE_INFINITY;
  let arg = [0, 0];
  for (let w = -1; w <= 3; w += 0.005) {
    for (let b = -2; b <= 2; b += 0.005) {
      const p = primal(x, y, [w], b, o);
      if (p < best) {
        best = p;
        arg = [w, b];
      }
    }
  }
  assert.ok(fit.primal <= best + 1e-9, `solver ${fit.primal} vs grid ${best}`);
  close(fit.weights[0]!, arg[0]!, 0.02, 'w near the grid optimum');
  close(fit.bias, arg[1]!, 0.02, 'b near the grid optimum');
});

test('the coordinate order is seeded: same seed, same result; the optimum does not depend on it', () => {
  const rng = new Rng(5);
  const n = 40;
  const x = Float64Array.from({ length: n * 4 }, () => rng.normal());
  const y = Array.from({ length: n }, (_, i) => x[4 * i]! - 2 * x[4 * i + 1]! + rng.normal());
  const a = solveLinearSvr(x, y, n, 4, { seed: 1, maxIter: 3 });
  const b = solveLinearSvr(x, y, n, 4, { seed: 1, maxIter: 3 });
  const c = solveLinearSvr(x, y, n, 4, { seed: 2, maxIter: 3 });
  assert.deepEqual(Array.from(a.beta), Array.from(b.beta));
  assert.notDeepEqual(Array.from(a.beta), Array.from(c.beta), 'three passes in another order end elsewhere');
  const full1 = solveLinearSvr(x, y, n, 4, { seed: 1, tol: 1e-12, maxIter: 100_000 });
  const full2 = solveLinearSvr(x, y, n, 4, { seed: 2, tol: 1e-12, maxIter: 100_000 });
  close(full1.primal, full2.primal, 1e-7, 'same optimum');
  const obj = svrObjectives(x, y, n, 4, full1.weights, full1.bias, full1.beta);
  close(obj.primal, full1.primal, 1e-9, 'svrObjectives agrees');
});
