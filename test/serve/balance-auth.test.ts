// The balancer and tokens: it forwards the caller's `authorization` to the nodes, makes its own calls to
// them with its node token, and with its own token checks callers as `abacus serve` does.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Balancer, parseServerUrl, type OnlineServer } from '../../src/serve/index.js';
import { runCli } from '../helpers/cli.js';
import { baseUrl, counterValues, inferBody, seededInputs, startTestServer, tinyZoo } from './helpers.js';

const TOKEN = 'a-test-token-of-32-characters-xy';
const OTHER = 'another-token-of-32-characters-z';
const bearer = (t: string): Record<string, string> => ({ authorization: `Bearer ${t}` });

let node: OnlineServer;
let body: string;

before(async () => {
  const zoo = await tinyZoo();
  node = await startTestServer({ authToken: TOKEN });
  body = JSON.stringify(inferBody(seededInputs(zoo.models[0]!.manifest, 1, 0)));
});

after(async () => {
  await node?.drain();
});

async function nodeCounts(): Promise<Map<string, number>> {
  return counterValues(await (await fetch(`${baseUrl(node)}/metrics`, { headers: bearer(TOKEN) })).text(), 'abacus_requests_total');
}

const infer = (url: string, headers: Record<string, string>): Promise<Response> => fetch(`${url}/v2/models/resnet50/infer`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });

test('an open balancer in front of a node that needs a token: the caller\'s token is forwarded, a caller without one gets the node\'s 401', async () => {
  const balancer = await Balancer.start({ nodes: [parseServerUrl(baseUrl(node))], policy: 'least-loaded', listen: { host: '127.0.0.1', port: 0 }, pollMs: 50, nodeToken: TOKEN });
  try {
    const url = `http://127.0.0.1:${balancer.address.port}`;
    const ready = await fetch(`${url}/v2/health/ready`);
    assert.equal(ready.status, 200, 'the status polls carry the node token, so the node counts as ready');
    const before = await nodeCounts();
    const ok = await infer(url, bearer(TOKEN));
    assert.equal(ok.status, 200, await ok.clone().text());
    assert.equal(ok.headers.get('abacus-node'), '0');
    await ok.arrayBuffer();
    const without = await infer(url, {});
    assert.equal(without.status, 401, 'the balancer lends its node token to no caller');
    assert.match(((await without.json()) as { error: string }).error, /needs authorization: Bearer <token>/);
    const wrong = await infer(url, bearer(OTHER));
    assert.equal(wrong.status, 401);
    assert.match(((await wrong.json()) as { error: string }).error, /not this server's/);
    const after = await nodeCounts();
    const delta = (k: string): number => (after.get(k) ?? 0) - (before.get(k) ?? 0);
    assert.equal(delta('model="resnet50",outcome="ok"'), 1);
    assert.equal(delta('model="resnet50",outcome="invalid"'), 2, 'the node itself refused the two');
    assert.equal(balancer.forwardedPerNode()[0], 3, 'all three were forwarded');
    // model metadata is forwarded with the caller's header too
    assert.equal((await fetch(`${url}/v2/models/resnet50`, { headers: bearer(TOKEN) })).status, 200);
    assert.equal((await fetch(`${url}/v2/models/resnet50`)).status, 401);
  } finally {
    await balancer.close();
  }
});

test('a balancer with its own token refuses callers without it (401, nothing forwarded); health probes stay open', async () => {
  const balancer = await Balancer.start({ nodes: [parseServerUrl(baseUrl(node))], policy: 'random', listen: { host: '127.0.0.1', port: 0 }, pollMs: 50, authToken: TOKEN, nodeToken: TOKEN });
  try {
    const url = `http://127.0.0.1:${balancer.address.port}`;
    const none = await infer(url, {});
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer');
    assert.match(((await none.json()) as { error: string }).error, /this server needs authorization: Bearer <token>/);
    assert.equal((await infer(url, bearer(OTHER))).status, 401);
    assert.equal(balancer.forwardedPerNode()[0], 0, 'refused at the balancer');
    for (const path of ['/v2', '/v2/models/resnet50', '/v2/abacus/status', '/metrics']) assert.equal((await fetch(`${url}${path}`)).status, 401, path);
    assert.equal((await fetch(`${url}/v2/repository/index`, { method: 'POST', body: '{}' })).status, 401);
    for (const path of ['/v2/health/live', '/v2/health/ready']) assert.equal((await fetch(`${url}${path}`)).status, 200, path);
    const ok = await infer(url, bearer(TOKEN));
    assert.equal(ok.status, 200, await ok.clone().text());
    await ok.arrayBuffer();
    assert.equal(balancer.forwardedPerNode()[0], 1);
    const metrics = await (await fetch(`${url}/metrics`, { headers: bearer(TOKEN) })).text();
    assert.equal(counterValues(metrics, 'abacus_balancer_requests_total').get('node="none",outcome="401"'), 2);
  } finally {
    await balancer.close();
  }
});

test('a balancer without a node token cannot start in front of a node that needs one, and says which option is missing', async () => {
  await assert.rejects(
    Balancer.start({ nodes: [parseServerUrl(baseUrl(node))], policy: 'random', listen: { host: '127.0.0.1', port: 0 } }),
    /cannot read the models of node .*needs authorization.*--node-token or \$ABACUS_NODE_TOKEN/,
  );
  await assert.rejects(
    Balancer.start({ nodes: [parseServerUrl(baseUrl(node))], policy: 'random', listen: { host: '127.0.0.1', port: 0 }, nodeToken: OTHER }),
    /refuses the balancer's node token/,
  );
});

test('abacus balance checks its tokens (flag or environment) before it starts', () => {
  const nodes = ['--listen', '127.0.0.1:0', '--nodes', baseUrl(node)];
  const short = runCli(['balance', ...nodes, '--auth-token', 'short']);
  assert.equal(short.code, 2);
  assert.match(short.stderr, /--auth-token \/ \$ABACUS_AUTH_TOKEN: the auth token must be at least 16 characters/);
  const env = runCli(['balance', ...nodes], { env: { ABACUS_NODE_TOKEN: 'has spaces in it, many' } });
  assert.equal(env.code, 2);
  assert.match(env.stderr, /--node-token \/ \$ABACUS_NODE_TOKEN: the auth token must be printable ASCII without spaces/);
});
