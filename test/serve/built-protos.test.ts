// A build shipped without src/ (the GPU machine's bundle, a package of dist/) must serve gRPC: `npm run build`
// copies the vendored protos next to the compiled server, and the compiled protoDir() finds them there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = join(import.meta.dirname, '..', '..');

test('npm run build puts the gRPC protos beside dist/serve, byte for byte, and the built server reads them there', async () => {
  const built = (await import(pathToFileURL(join(ROOT, 'dist', 'serve', 'grpc.js')).href)) as { protoDir(): string; PROTO_FILES: Record<string, string> };
  assert.equal(built.protoDir(), join(ROOT, 'dist', 'serve', 'proto'), 'the compiled server must not need src/ (run npm run build)');
  for (const file of Object.values(built.PROTO_FILES)) {
    assert.deepEqual(readFileSync(join(ROOT, 'dist', 'serve', 'proto', file)), readFileSync(join(ROOT, 'src', 'serve', 'proto', file)), `${file} differs from the vendored one`);
  }
});
