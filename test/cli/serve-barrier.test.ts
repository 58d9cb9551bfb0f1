/** `abacus serve --barrier`: abacus joins members one by one by default, the paper's group barrier on request; bad values are refused. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';

test('serve --barrier: member by default, group on request, recorded in the summary; an unknown mode exits 2', () => {
  const models = join(mkdtempSync(join(tmpdir(), 'abacus-barrier-')), 'models');
  const base = ['serve', '--comb', 'resnet50', 'vgg16', '--scale', 'tiny', '--models-dir', models, '--simulate', '--queries', '30', '--load', '40', '--qos', '200', '--abandon', '--policy', 'abacus', '--predictor', 'data/predictor/cpu-tiny-2in4-mlp-all', '--json'];
  for (const [args, want] of [[[], 'member'], [['--barrier', 'group'], 'group'], [['--barrier', 'member'], 'member']] as const) {
    const r = runCli([...base, ...args]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { summaries: { policy: string; barrier?: string; issued: number; completed: number; dropped: number; failed: number }[] };
    const s = out.summaries[0]!;
    assert.equal(s.barrier, want);
    assert.equal(s.issued, s.completed + s.dropped + s.failed);
  }
  const bad = runCli([...base, '--barrier', 'none']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /barrier/);
});
