/** `abacus serve --json` prints one shape, { summaries: [...], predictor }, for one policy as for several. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';

test('serve --json has the same shape whatever the number of policies', () => {
  const models = join(mkdtempSync(join(tmpdir(), 'abacus-json-')), 'models');
  const base = ['serve', '--comb', 'resnet50', 'vgg16', '--scale', 'tiny', '--models-dir', models, '--simulate', '--queries', '20', '--load', '20', '--qos', '200', '--predictor', 'data/predictor/cpu-tiny-2in4-mlp-all', '--json'];
  for (const policies of ['fcfs', 'fcfs,abacus']) {
    const r = runCli([...base, '--policy', policies]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { summaries: { policy: string; issued: number }[]; predictor: string };
    assert.deepEqual(Object.keys(out).sort(), ['predictor', 'summaries']);
    assert.deepEqual(out.summaries.map((s) => s.policy), policies.split(','));
    for (const s of out.summaries) assert.equal(s.issued, 20);
    assert.equal(out.predictor, 'data/predictor/cpu-tiny-2in4-mlp-all');
  }
});
