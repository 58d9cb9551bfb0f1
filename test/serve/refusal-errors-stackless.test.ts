import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolError } from '../../src/serve/tensors.js';

// Under overload a server answers thousands of refusals a second: their errors skip the stack trace
// (about 2 µs each); every other kind keeps it for debugging, and the stack limit is restored.
test('refusals (rejected, unavailable) carry no stack frames; other protocol errors do', () => {
  const limit = Error.stackTraceLimit;
  for (const kind of ['rejected', 'unavailable'] as const) {
    const e = new ProtocolError(kind, `refused: ${kind}`);
    assert.equal(e.kind, kind);
    assert.equal(e.message, `refused: ${kind}`);
    assert.equal(e.name, 'ProtocolError');
    assert.ok(e instanceof Error);
    assert.doesNotMatch(String(e.stack), /\n\s+at /, `${kind}: no frames`);
  }
  const bad = new ProtocolError('bad-request', 'malformed');
  assert.match(String(bad.stack), /\n\s+at /, 'bad-request keeps its frames');
  assert.equal(Error.stackTraceLimit, limit, 'the stack limit is restored');
});
