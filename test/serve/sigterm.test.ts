import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { startCli } from '../helpers/cli.js';
import { getJson, inferBody, postJson, seededInputs, tinyZoo } from './helpers.js';

/** Wait for the line that says where the server listens (bounded). */
function listeningPort(child: ReturnType<typeof startCli>, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`no listening line within ${timeoutMs} ms: ${text}`)), timeoutMs);
    child.stderr?.on('data', (c: Buffer) => {
      text += c.toString('utf8');
      const m = /on http:\/\/127\.0\.0\.1:(\d+)/.exec(text);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code} before listening: ${text}`)));
  });
}

test('SIGTERM stops admission, drains every accepted request, then exits 0 with the run summary', async () => {
  const zoo = await tinyZoo();
  const child = startCli([
    'serve', '--comb', 'resnet50', 'bert', '--models-dir', zoo.modelsDir, '--scale', 'tiny', '--policy', 'fcfs', '--listen', '127.0.0.1:0',
    '--batch-sizes', '32', '--seq-lens', '8', '--qos', '60000', '--threads', '1', '--json',
  ]);
  let stdout = '';
  child.stdout?.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  try {
    const port = await listeningPort(child, 90_000);
    const url = `http://127.0.0.1:${port}`;
    const body = JSON.stringify(inferBody(seededInputs(zoo.models[0]!.manifest, 32, 0)));
    const n = 16;
    const inflight = Array.from({ length: n }, () => postJson(`${url}/v2/models/resnet50/infer`, body));
    // wait until the server accepted all of them, then stop it while most still wait
    let submitted = 0;
    for (let i = 0; i < 500 && submitted < n; i++) {
      submitted = ((await getJson(`${url}/v2/abacus/status`)).json.queue as { submitted: number }).submitted;
      if (submitted < n) await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(submitted, n);
    child.kill('SIGTERM');
    // the signal is handled asynchronously: wait until the server says it stopped admitting (or is gone)
    for (let i = 0; i < 500; i++) {
      const accepting = await getJson(`${url}/v2/abacus/status`).then((r) => (r.json as { accepting?: boolean }).accepting, () => false);
      if (accepting === false) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const late = await postJson(`${url}/v2/models/resnet50/infer`, body).then((r) => r.status, () => 'refused');
    assert.ok(late === 503 || late === 'refused', `a request after SIGTERM: ${late}`);
    const replies = await Promise.all(inflight);
    assert.deepEqual(replies.map((r) => r.status), new Array(n).fill(200), 'every accepted request was served');
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0);
    const summary = JSON.parse(stdout.trim().split('\n').pop() as string) as { issued: number; completed: number; policy: string; rejected: { closed: number } };
    assert.equal(summary.policy, 'fcfs');
    assert.equal(summary.issued, n);
    assert.equal(summary.completed, n);
    assert.equal(summary.rejected.closed, late === 503 ? 1 : 0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
