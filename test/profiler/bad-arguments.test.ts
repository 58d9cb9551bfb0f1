import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tiny-model.js';

test('bad profile arguments give clear errors and exit code 2', () => {
  const dir = tempDir();
  const base = ['profile', '--scale', 'tiny', '--models-dir', dir, '--out', `${dir}/p`];
  const cases: Array<[string[], RegExp]> = [
    [['--model-num', '2', '--comb', 'resnet50', 'alexnet'], /unknown model 'alexnet'/],
    [['--model-num', '5'], /--model-num must be 2, 3 or 4/],
    [['--model-num', '2', '--comb', 'resnet50', 'bert', '--batch-sizes', ''], /--batch-sizes is an empty list/],
    [['--model-num', '2', '--comb', 'resnet50', 'bert', '--batch-sizes', '4,x'], /--batch-sizes must be an integer/],
    [['--model-num', '3', '--comb', 'resnet50', 'bert'], /--comb names 2 models but --model-num is 3/],
    [['--model-num', '2', '--comb', 'resnet50', 'bert', '--ep', 'tpu'], /unknown execution provider 'tpu'/],
  ];
  for (const [args, pattern] of cases) {
    const r = runCli([...base, ...args]);
    assert.equal(r.code, 2, `${args.join(' ')} → exit ${r.code}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
    assert.equal(r.stdout, '');
  }
});
