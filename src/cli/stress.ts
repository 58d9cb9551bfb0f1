/**
 * `abacus stress`: attacks and an overload sweep against one's own server (loopback only, bounded in
 * time and requests); see src/serve/stress.ts. Exit 1 when an attack fails.
 */
import { Command } from '@commander-js/extra-typings';
import { join } from 'node:path';
import { InputError } from '../common/errors.js';
import { writeJsonAtomic } from '../common/fsutil.js';
import { collectProvenance } from '../common/provenance.js';
import { parseServerUrl } from '../serve/client.js';
import { ATTACK_NAMES, DEFAULT_STRESS_BOUNDS, overloadSweep, runAttacks, type AttackResult, type SweepPoint } from '../serve/stress.js';
import { action, parseIntOption, parseNumberOption, printJson } from './shared.js';

function parseRates(value: string): number[] {
  const rates = value.split(/[\s,]+/).filter(Boolean).map(Number);
  if (rates.length === 0 || rates.some((r) => !Number.isFinite(r) || r <= 0)) throw new InputError(`--sweep must be a list of positive request rates, got '${value}'`);
  return rates;
}

/** The sweep's table: goodput and the share of accepted requests within QoS per offered rate. */
export function sweepTable(points: readonly SweepPoint[]): string {
  const peak = Math.max(...points.map((p) => p.goodputQps));
  const lines = ['offered/s   sent    ok  late  429  fail  goodput/s  of peak  accepted in QoS  p99 accepted ms  server: in QoS'];
  for (const p of points) {
    lines.push(`${p.rateQps.toFixed(0).padStart(9)}${String(p.sent).padStart(7)}${String(p.ok).padStart(6)}${String(p.late).padStart(6)}${String(p.rejected).padStart(5)}${String(p.failed).padStart(6)}${p.goodputQps.toFixed(1).padStart(11)}${(peak > 0 ? `${((100 * p.goodputQps) / peak).toFixed(0)} %` : '-').padStart(9)}${(p.acceptedWithinQos === null ? '-' : `${(100 * p.acceptedWithinQos).toFixed(1)} %`).padStart(17)}${(p.p99AcceptedMs === null ? '-' : p.p99AcceptedMs.toFixed(1)).padStart(17)}${(p.server?.acceptedWithinQos == null ? '-' : `${(100 * p.server.acceptedWithinQos).toFixed(1)} %`).padStart(16)}`);
  }
  return lines.join('\n');
}

export function stressCommand(): Command {
  return new Command('stress')
    .description(`attack and overload your own server on this machine (loopback only, bounded): ${ATTACK_NAMES.join(', ')}; --sweep adds open-loop load at several rates`)
    .requiredOption('--url <url>', 'the server, e.g. http://127.0.0.1:8000 (loopback only)')
    .option('--attacks <list>', "attacks to run (comma-separated), 'all' or 'none'", 'all')
    .option('--model <name>', 'model to aim at (default: the first without a sequence length)')
    .option('--large-bodies <n>', 'concurrent large bodies', parseIntOption('--large-bodies', 1), DEFAULT_STRESS_BOUNDS.largeBodies)
    .option('--large-body-mb <n>', 'size of each large body, MiB', parseNumberOption('--large-body-mb', 0.001), DEFAULT_STRESS_BOUNDS.largeBodyBytes / 1024 / 1024)
    .option('--slow-connections <n>', 'slowloris connections', parseIntOption('--slow-connections', 1), DEFAULT_STRESS_BOUNDS.slowConnections)
    .option('--flood-connections <n>', 'connections of the flood', parseIntOption('--flood-connections', 1), DEFAULT_STRESS_BOUNDS.floodConnections)
    .option('--grpc <host:port>', "the server's gRPC address (loopback only): runs the grpc-garbage attack")
    .option('--grpc-garbage <n>', 'ModelInfer messages that are not protobuf (each at most 4 KiB; at most 1024)', parseIntOption('--grpc-garbage', 1), DEFAULT_STRESS_BOUNDS.grpcGarbageFrames)
    .option('--sweep <rates>', 'open-loop Poisson rates, requests/s (e.g. 50,100,200,400,800)', parseRates)
    .option('--duration <s>', 'seconds per sweep rate (at most 120)', parseNumberOption('--duration', 0.1), 10)
    .option('--qos <ms>', 'QoS of the sweep requests, ms (sent as the abacus-qos-ms header and the qos_ms parameter)', parseNumberOption('--qos', 0.001), 50)
    .option('--seed <n>', 'seed of the sweep schedule', parseIntOption('--seed'), 0)
    .option('--auth-token <token>', 'bearer token the server expects (default: $ABACUS_AUTH_TOKEN); also runs the no-token attack')
    .option('--out <dir>', 'write stress.json here')
    .option('--json', 'print one JSON object on stdout')
    .action(
      action(async (opts) => {
        const url = parseServerUrl(opts.url);
        const authToken = opts.authToken ?? process.env.ABACUS_AUTH_TOKEN;
        const names = opts.attacks === 'all' ? undefined : opts.attacks === 'none' ? [] : opts.attacks.split(',').map((s) => s.trim()).filter(Boolean);
        const say = (line: string) => process.stderr.write(`abacus stress: ${line}\n`);
        let attacks: AttackResult[] = [];
        if (names === undefined || names.length > 0) {
          attacks = await runAttacks(url, {
            ...(names ? { names } : {}),
            ...(opts.model ? { model: opts.model } : {}),
            ...(opts.grpc !== undefined ? { grpc: opts.grpc } : {}),
            bounds: { largeBodies: opts.largeBodies, largeBodyBytes: Math.round(opts.largeBodyMb * 1024 * 1024), slowConnections: opts.slowConnections, floodConnections: opts.floodConnections, grpcGarbageFrames: opts.grpcGarbage, ...(authToken ? { authToken } : {}) },
            onResult: (r) => say(`${r.verdict.padEnd(4)} ${r.name} (${r.ms} ms): ${r.detail}`),
          });
        }
        let sweep: SweepPoint[] = [];
        if (opts.sweep) {
          sweep = await overloadSweep(url, {
            rates: opts.sweep, durationS: opts.duration, qosMs: opts.qos, seed: opts.seed, ...(opts.model ? { model: opts.model } : {}), ...(authToken ? { authToken } : {}),
            onPoint: (p) => say(`${p.rateQps}/s: ${p.ok} ok, ${p.late} late, ${p.rejected} rejected, ${p.failed} failed of ${p.sent}`),
          });
        }
        const record = {
          url: url.href,
          attacks,
          sweep: sweep.map(({ summary, ...p }) => ({ ...p, p50Ms: summary.p50Ms, p99Ms: summary.p99Ms, serverP99Ms: summary.serverP99Ms, errors: summary.errors })),
          settings: { durationS: opts.duration, qosMs: opts.qos, seed: opts.seed, model: opts.model ?? null, grpc: opts.grpc ?? null },
          provenance: collectProvenance({ seed: opts.seed }),
        };
        if (opts.out) writeJsonAtomic(join(opts.out, 'stress.json'), record);
        if (opts.json) printJson(record);
        else {
          for (const a of attacks) console.log(`${a.verdict.padEnd(5)}${a.name.padEnd(24)}${a.detail}`);
          if (sweep.length > 0) console.log(sweepTable(sweep));
        }
        if (attacks.some((a) => a.verdict === 'fail')) process.exitCode = 1;
      }),
    );
}
