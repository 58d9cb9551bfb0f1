/**
 * `abacus balance`: a front door speaking the Open Inference Protocol that forwards each request to one of
 * several `abacus serve --listen` nodes (random, least-loaded, headroom, or the original's Clockwork
 * emulation `clock`), until SIGTERM/SIGINT, which stops admission and drains.
 */
import { Command, Option } from '@commander-js/extra-typings';
import { InputError } from '../common/errors.js';
import { BALANCE_POLICIES, Balancer, type BalancePolicy } from '../serve/balance.js';
import { parseServerUrl } from '../serve/client.js';
import { parseHostPort } from '../serve/http.js';
import { AUTH_TOKEN_ENV, NODE_TOKEN_ENV, checkAuthToken, isLoopbackHost } from '../serve/auth.js';
import { action, parseIntOption, parseNumberOption, printJson } from './shared.js';

export function balanceCommand(): Command {
  return new Command('balance')
    .description('forward Open Inference Protocol requests to several abacus serve --listen nodes under a balancing policy')
    .requiredOption('--listen <host:port>', 'where to listen (port 0: any free port)')
    .requiredOption('--nodes <urls>', 'the nodes, comma-separated (http://127.0.0.1:8001,http://127.0.0.1:8002)')
    .addOption(new Option('--policy <p>', 'balancing policy').choices(BALANCE_POLICIES as readonly BalancePolicy[]).default('headroom' as BalancePolicy))
    .option('--seed <n>', 'seed of the random policy', parseIntOption('--seed'), 0)
    .option('--poll-ms <ms>', 'how often node status is read (default 100 for headroom, 1000 otherwise)', parseNumberOption('--poll-ms', 5))
    .option('--timeout <ms>', 'a forwarded request without an answer after this long gets 503', parseNumberOption('--timeout', 1), 60_000)
    .option('--max-body-mb <n>', 'largest request body, MiB', parseNumberOption('--max-body-mb', 0.001), 64)
    .option('--auth-token <token>', `callers must send authorization: Bearer <token> (health probes excepted; 401 otherwise); default $${AUTH_TOKEN_ENV}`)
    .option('--node-token <token>', `the token of the balancer's own calls to the nodes (model list, metadata, status polls); default $${NODE_TOKEN_ENV}, else the --auth-token. Forwarded requests carry the caller's authorization as it came`)
    .option('--json', 'print one JSON object on stdout when stopped')
    .action(
      action(async (opts) => {
        const nodes = opts.nodes.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map((s) => parseServerUrl(s, '--nodes'));
        if (nodes.length === 0) throw new InputError('--nodes lists no node');
        const listen = parseHostPort(opts.listen, '--listen');
        const authToken = opts.authToken ?? process.env[AUTH_TOKEN_ENV];
        const nodeToken = opts.nodeToken ?? process.env[NODE_TOKEN_ENV] ?? authToken;
        if (authToken !== undefined) {
          const bad = checkAuthToken(authToken);
          if (bad) throw new InputError(`--auth-token / $${AUTH_TOKEN_ENV}: ${bad}`);
        } else if (!isLoopbackHost(listen.host)) {
          process.stderr.write(`abacus: warning: listening on ${listen.host} without --auth-token: anyone who can reach it may call it (bind to 127.0.0.1, or set $${AUTH_TOKEN_ENV})\n`);
        }
        if (nodeToken !== undefined) {
          const bad = checkAuthToken(nodeToken);
          if (bad) throw new InputError(`--node-token / $${NODE_TOKEN_ENV}: ${bad}`);
        }
        const balancer = await Balancer.start({
          nodes, policy: opts.policy, listen, seed: opts.seed, timeoutMs: opts.timeout,
          maxBodyBytes: Math.round(opts.maxBodyMb * 1024 * 1024), ...(opts.pollMs !== undefined ? { pollMs: opts.pollMs } : {}),
          ...(authToken !== undefined ? { authToken } : {}), ...(nodeToken !== undefined ? { nodeToken } : {}),
        });
        const at = balancer.address;
        process.stderr.write(`abacus: balancing ${nodes.length} nodes (${opts.policy}) on http://${at.host}:${at.port}\n`);
        const signal = await new Promise<NodeJS.Signals>((resolve) => {
          process.once('SIGTERM', () => resolve('SIGTERM'));
          process.once('SIGINT', () => resolve('SIGINT'));
        });
        process.stderr.write(`abacus: ${signal}: not accepting new requests; draining\n`);
        await balancer.close(opts.timeout);
        const forwarded = balancer.forwardedPerNode();
        if (opts.json) printJson({ policy: opts.policy, nodes: nodes.map((n) => n.href), forwarded });
        else console.log(`forwarded per node: ${forwarded.join(', ')}`);
      }),
    );
}
