/** Every command's help: defaults written plainly (not JSON), required options marked, an example line. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../helpers/cli.js';

const COMMANDS = [['zoo', 'build'], ['zoo', 'list'], ['split'], ['bench', 'executor'], ['profile'], ['report'], ['quickstart'], ['train'], ['serve'], ['load'], ['balance']];

test('every subcommand help has an example, marks required options and shows no JSON defaults', () => {
  for (const cmd of COMMANDS) {
    const r = runCli([...cmd, '--help'], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, `${cmd.join(' ')} --help: ${r.stderr}`);
    const help = r.stdout.replace(/\s+/g, ' ');
    assert.match(help, /Example(s)?: \$ abacus /, `${cmd.join(' ')} has an example`);
    assert.doesNotMatch(help, /default: [["]/, `${cmd.join(' ')}: a default shown as JSON`);
    assert.doesNotMatch(help, /\[object /, `${cmd.join(' ')}: a default shown as [object]`);
    assert.doesNotMatch(help, /choices: "/, `${cmd.join(' ')}: choices shown as JSON`);
  }
  const serve = runCli(['serve', '--help']).stdout.replace(/\s+/g, ' ');
  assert.match(serve, /--comb <models\.\.\.> the co-located models \(zoo ids or names\) \(required\)/);
  assert.match(serve, /\(default: abacus\)/);
  assert.match(serve, /\(default: 4,8,16,32\)/);
  const balance = runCli(['balance', '--help']).stdout.replace(/\s+/g, ' ');
  assert.match(balance, /--listen <host:port> .*\(required\)/);
});
