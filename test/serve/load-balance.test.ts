import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AnalyticLatencyModel, generateTrace, type TraceQuery } from '../../src/controller/index.js';
import { Balancer, BALANCE_POLICIES, listModels, modelMetadata, parseServerUrl, runLoad, type OnlineServer, type RemoteModel } from '../../src/serve/index.js';
import { runCli, startCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tiny-model.js';
import { baseUrl, getJson, startTestServer } from './helpers.js';

let nodes: OnlineServer[] = [];
let models: Map<string, RemoteModel>;
let trace: TraceQuery[];

before(async () => {
  for (let i = 0; i < 2; i++) nodes.push(await startTestServer({ policy: 'abacus', latencyModel: new AnalyticLatencyModel(), qos: 3000 }));
  const url = parseServerUrl(baseUrl(nodes[0]!));
  const names = await listModels(url);
  models = new Map();
  for (const [i, n] of names.entries()) models.set(n, await modelMetadata(url, n, i));
  const services = [...models.values()].map((m) => ({ name: m.name, modelId: m.modelId, hasSeq: m.hasSeq }));
  trace = generateTrace({ services, loadQps: 40, queries: 40, seed: 1, qos: 3000, batchSizes: [1, 2], seqLens: [8] });
});

after(async () => {
  await Promise.all(nodes.map((n) => n.drain()));
  nodes = [];
});

for (const policy of BALANCE_POLICIES) {
  test(`balance ${policy}: every request is forwarded and answered, load's accounting adds up`, async () => {
    const balancer = await Balancer.start({ nodes: nodes.map((n) => parseServerUrl(baseUrl(n))), policy, listen: { host: '127.0.0.1', port: 0 }, pollMs: 50 });
    try {
      const url = parseServerUrl(`http://127.0.0.1:${balancer.address.port}`);
      const status = (await getJson(`${url.href}v2/abacus/status`)).json as { policy: string; balancer: string; ready: boolean };
      assert.equal(status.balancer, policy);
      assert.equal(status.policy, 'abacus');
      assert.equal(status.ready, true);
      const { records, summary } = await runLoad({ url, trace, models, policy: status.policy, stepS: 0.5 });
      assert.equal(records.length, trace.length);
      assert.equal(summary.sent, trace.length);
      assert.equal(summary.completed + summary.rejected + summary.failed, summary.sent);
      assert.equal(summary.failed, 0, JSON.stringify(summary.errors));
      assert.equal(summary.completed, trace.length, 'a generous QoS: everything is served');
      assert.equal(summary.steps?.reduce((a, s) => a + s.sent, 0), trace.length);
      const perNode = balancer.forwardedPerNode();
      assert.equal(perNode.reduce((a, b) => a + b, 0), trace.length);
      if (policy !== 'clock') assert.ok(perNode.every((n) => n > 0), `both nodes got requests: ${perNode.join(', ')}`);
      const after = balancer.status() as { nodes: { maxOutstanding: number }[] };
      if (policy === 'clock') assert.ok(after.nodes.every((n) => n.maxOutstanding <= 1), 'clock: one request at a time per node');
    } finally {
      await balancer.close();
    }
  });
}

test('clock drops a request whose headroom runs out while it waits for an idle node', async () => {
  const balancer = await Balancer.start({ nodes: [parseServerUrl(baseUrl(nodes[0]!))], policy: 'clock', listen: { host: '127.0.0.1', port: 0 } });
  try {
    const url = parseServerUrl(`http://127.0.0.1:${balancer.address.port}`);
    // 30 requests at once for one node with a 1 ms headroom: the first runs, the rest expire waiting
    const burst = trace.slice(0, 30).map((q) => ({ ...q, arrivalMs: 0, qosMs: 1 }));
    const { summary } = await runLoad({ url, trace: burst, models });
    assert.ok(summary.rejected >= 20, `rejected ${summary.rejected}`);
    assert.equal(summary.completed + summary.rejected + summary.failed, 30);
    assert.equal(summary.failed, 0);
  } finally {
    await balancer.close();
  }
});

test('the abacus load and abacus balance commands: the summary as JSON, SIGTERM ends the balancer, bad arguments exit 2', async () => {
  const child = startCli(['balance', '--listen', '127.0.0.1:0', '--nodes', nodes.map((n) => baseUrl(n)).join(','), '--policy', 'least-loaded']);
  let err = '';
  let out = '';
  child.stderr?.on('data', (c: Buffer) => (err += c.toString('utf8')));
  child.stdout?.on('data', (c: Buffer) => (out += c.toString('utf8')));
  try {
    for (let i = 0; i < 600 && !/on http:\/\/127\.0\.0\.1:\d+/.test(err); i++) await new Promise((r) => setTimeout(r, 50));
    const port = Number(/on http:\/\/127\.0\.0\.1:(\d+)/.exec(err)?.[1]);
    assert.ok(port > 0, err);
    const load = startCli(['load', '--url', `http://127.0.0.1:${port}`, '--rate', '20', '--duration', '1', '--batch-sizes', '1', '--seq-lens', '8', '--json', '--step', '0.5']);
    let loadOut = '';
    load.stdout?.on('data', (c: Buffer) => (loadOut += c.toString('utf8')));
    const [loadCode] = (await once(load, 'exit')) as [number | null];
    assert.equal(loadCode, 0);
    const summary = JSON.parse(loadOut) as { sent: number; completed: number; rejected: number; failed: number; policy: string; p99Ms: number; steps: unknown[]; perModel: Record<string, unknown> };
    assert.ok(summary.sent > 5);
    assert.equal(summary.completed + summary.rejected + summary.failed, summary.sent);
    assert.equal(summary.policy, 'abacus');
    assert.ok(summary.p99Ms > 0);
    assert.ok(summary.steps.length >= 2);
    assert.deepEqual(Object.keys(summary.perModel).sort(), ['bert', 'resnet50']);
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0);
    assert.match(out, /forwarded per node: \d+, \d+/);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
  // trace-driven: the trace's requests, at its times, with its QoS
  const dir = tempDir();
  const tracePath = join(dir, 'trace.csv');
  writeFileSync(tracePath, 'arrival_ms,model,batch,seq,qos_ms\n0,resnet50,1,0,2000\n50,bert,2,8,\n120,resnet50,2,0,1\n');
  const traced = startCli(['load', '--url', baseUrl(nodes[0]!), '--trace', tracePath, '--json', '--out', join(dir, 'out')]);
  let tracedOut = '';
  traced.stdout?.on('data', (c: Buffer) => (tracedOut += c.toString('utf8')));
  const [tracedCode] = (await once(traced, 'exit')) as [number | null];
  assert.equal(tracedCode, 0);
  const t = JSON.parse(tracedOut) as { sent: number; completed: number; rejected: number; late: number };
  assert.equal(t.sent, 3);
  assert.equal(t.completed + t.rejected, 3);
  assert.ok(t.rejected + t.late >= 1, 'the 1 ms QoS is missed');
  const csv = readFileSync(join(dir, 'out', 'requests.csv'), 'utf8').trim().split('\n');
  assert.equal(csv.length, 4);
  assert.match(csv[2] as string, /^"q1","bert",2,8,3000,50,/);
  const bad = runCli(['load', '--url', 'http://127.0.0.1:1', '--rate', '5']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--rate and --duration go together|give either/);
  const both = runCli(['load', '--url', 'http://127.0.0.1:1', '--rate', '5', '--duration', '1', '--trace', 'x.csv']);
  assert.equal(both.code, 2);
  const badPolicy = runCli(['balance', '--listen', '127.0.0.1:0', '--nodes', 'http://127.0.0.1:1', '--policy', 'nearest']);
  assert.equal(badPolicy.code, 2);
});
