// On the GPU machine (from the unpacked app): does a query cut into segments give the whole model's output on cuda,
// and what do its boundaries cost? Usage: node scripts/gpu/cuda-segments-check.mjs <models-dir> <out.json> [model ...]
// Each model at batch 8: one segment, 4 FLOPs-balanced segments and every operator; max |difference| against the
// one-segment output, and the median of 10 timed runs each (after 3 untimed). Run it with and without
// ABACUS_CUDA_DEVICE_ACTIVATIONS=1 (the options shim keeps activations in CUDA memory then).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Executor, balancedOperatorCuts, cudaProviderReport } from '../../dist/executor/index.js';
import { readManifest } from '../../dist/zoo/manifest.js';

const [modelsDir, out, ...names] = process.argv.slice(2);
const models = names.length > 0 ? names : ['resnet50', 'vgg16', 'bert'];
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const results = [];
const ex = new Executor();
let q = 0;
try {
  for (const name of models) {
    const dir = join(modelsDir, name);
    const m = readManifest(dir);
    const L = m.operators.length;
    const seq = m.inputs.some((i) => i.shape.includes('seq')) ? 64 : 0;
    await ex.addService({ name, modelDir: dir, ep: process.env.EP ?? 'cuda' });
    const variants = { one: [0, L], four: balancedOperatorCuts(m.operators.map((o) => o.flops), 4), all: Array.from({ length: L + 1 }, (_, i) => i) };
    const runCuts = async (cuts) => {
      const id = `c${q++}`;
      let output = null;
      const t0 = performance.now();
      for (let k = 0; k + 1 < cuts.length; k++) {
        const r = await ex.runGroup([{ service: name, queryId: id, start: cuts[k], end: cuts[k + 1], batch: 8, seq, returnOutput: cuts[k + 1] === L }]);
        if (r.members[0].output) output = r.members[0].output.data;
      }
      return { ms: performance.now() - t0, output };
    };
    const row = { model: name, batch: 8, seq, operators: L };
    let reference = null;
    for (const [v, cuts] of Object.entries(variants)) {
      const times = [];
      let last = null;
      for (let rep = -3; rep < 10; rep++) {
        const r = await runCuts(cuts);
        if (rep >= 0) times.push(r.ms);
        last = r.output;
      }
      if (v === 'one') reference = last;
      let maxDiff = 0;
      for (let i = 0; i < reference.length; i++) maxDiff = Math.max(maxDiff, Math.abs(reference[i] - last[i]));
      row[v] = { segments: cuts.length - 1, ms: median(times), maxAbsDiff: maxDiff, outputValues: last.length };
    }
    row.fourOverOne = row.four.ms / row.one.ms;
    row.allOverOne = row.all.ms / row.one.ms;
    results.push(row);
    console.log(JSON.stringify(row));
  }
} finally {
  await ex.shutdown();
}
writeFileSync(out, JSON.stringify({ cuda: cudaProviderReport(), results, createdAt: new Date().toISOString(), command: process.argv.join(' ') }, null, 1));
