/**
 * The coordinator's side of one service host: starts it (worker thread or child process), sends
 * requests with deadlines, and turns a host's death into errors for whatever was waiting on it.
 */
import { Worker } from 'node:worker_threads';
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { InputError } from '../common/errors.js';
import type { HostReply, HostRequest } from './protocol.js';
import type { SegmentGraphInfo, ServiceConfig } from './types.js';

export class HostError extends Error {
  constructor(message: string, readonly service: string, readonly hostDied: boolean) {
    super(message);
    this.name = 'HostError';
  }
}

type Pending = { resolve: (r: HostReply) => void; reject: (e: Error) => void; timer: NodeJS.Timeout; what: string };

/** Our own loader flags (tsx in tests) that a host must inherit; test-runner flags are left out. */
function inheritedExecArgv(): string[] {
  const out: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (/^--(import|require|loader|experimental-loader)$/.test(a) && i + 1 < argv.length) out.push(a, argv[++i] as string);
    else if (/^--(import|require|loader|experimental-loader|conditions|max-old-space-size)=/.test(a) || a === '--enable-source-maps') out.push(a);
  }
  return out;
}

function hostEntry(): string {
  const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
  return fileURLToPath(new URL(`./host-main.${ext}`, import.meta.url));
}

/** Flags for a host: ours, plus the TypeScript loader when running from sources (tests, tsx). */
function hostExecArgv(): string[] {
  const argv = inheritedExecArgv();
  if (hostEntry().endsWith('.ts') && !argv.some((a) => a.includes('tsx'))) argv.push('--import', 'tsx');
  return argv;
}

export class ServiceHost {
  private worker: Worker | null = null;
  private child: ChildProcess | null = null;
  private pending = new Map<number, Pending>();
  private nextId = 1;
  private alive = false;
  private deathReason: string | null = null;
  operatorCount = 0;
  pid = 0;
  /** Where the host's segment sessions come from (known once it has started). */
  graph: SegmentGraphInfo | null = null;

  constructor(readonly config: ServiceConfig, readonly kind: 'thread' | 'process', private readonly initTimeoutMs: number) {}

  get isAlive(): boolean {
    return this.alive;
  }

  async start(): Promise<void> {
    this.deathReason = null;
    const onMessage = (r: HostReply) => this.onReply(r);
    if (this.kind === 'thread') {
      const entry = hostEntry();
      // From TypeScript sources (tests), a worker needs tsx registered inside it: Node 20 does not apply
      // the parent's --import loader hooks to worker threads.
      const w = entry.endsWith('.ts')
        ? new Worker(`import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(pathToFileURL(entry).href)}); })`, { eval: true, execArgv: inheritedExecArgv() })
        : new Worker(entry, { execArgv: inheritedExecArgv() });
      w.on('message', onMessage);
      w.on('error', (err) => this.onDeath(`threw ${err.message}`));
      w.on('exit', (code) => this.onDeath(`exited with code ${code}`));
      this.worker = w;
    } else {
      const c = fork(hostEntry(), [], { execArgv: hostExecArgv(), serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      c.on('message', (m) => onMessage(m as HostReply));
      c.on('error', (err) => this.onDeath(`failed: ${err.message}`));
      c.on('exit', (code, signal) => this.onDeath(signal ? `was killed by ${signal}` : `exited with code ${code}`));
      this.child = c;
    }
    this.alive = true;
    const ready = await this.request({ type: 'init', id: 0, config: this.config }, this.initTimeoutMs, 'start');
    if (ready.type === 'ready') {
      this.operatorCount = ready.operatorCount;
      this.pid = ready.pid;
      this.graph = ready.graph;
    }
  }

  private onReply(r: HostReply): void {
    const p = this.pending.get(r.id);
    if (!p) return;
    this.pending.delete(r.id);
    clearTimeout(p.timer);
    if (r.type === 'error') {
      const msg = `service ${this.config.name}: ${p.what}: ${r.message}`;
      p.reject(r.inputError ? new InputError(msg) : new HostError(msg, this.config.name, false));
    } else p.resolve(r);
  }

  private onDeath(reason: string): void {
    if (!this.alive) return;
    this.alive = false;
    this.deathReason = reason;
    this.worker = null;
    this.child = null;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new HostError(`service ${this.config.name}: host ${reason} during ${p.what}`, this.config.name, true));
      this.pending.delete(id);
    }
  }

  /** Send a request; rejects when the host answers an error, dies, or misses the deadline. */
  request(msg: HostRequest, timeoutMs: number, what: string): Promise<HostReply> {
    if (!this.alive) {
      return Promise.reject(new HostError(`service ${this.config.name}: host is not running${this.deathReason ? ` (it ${this.deathReason})` : ''}; restart it`, this.config.name, true));
    }
    const id = msg.type === 'init' ? 0 : this.nextId++;
    const framed = { ...msg, id } as HostRequest;
    return new Promise<HostReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new HostError(`service ${this.config.name}: no answer to ${what} within ${timeoutMs} ms; the host was stopped`, this.config.name, true));
        void this.kill(`missed a ${timeoutMs} ms deadline`);
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer, what });
      if (this.worker) this.worker.postMessage(framed);
      else this.child?.send(framed);
    });
  }

  /** Stop the host at once (no drain). */
  async kill(reason = 'was stopped'): Promise<void> {
    const w = this.worker;
    const c = this.child;
    this.onDeath(reason);
    if (w) await w.terminate();
    if (c && c.exitCode === null && c.signalCode === null) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => { c.kill('SIGKILL'); resolve(); }, 2000);
        c.once('exit', () => { clearTimeout(t); resolve(); });
        c.kill('SIGTERM');
      });
    }
  }

  /** Ask the host to shut down cleanly; kill it if it does not within the deadline. */
  async stop(timeoutMs = 5000): Promise<void> {
    if (!this.alive) return;
    try {
      await this.request({ type: 'shutdown', id: 0 }, timeoutMs, 'shutdown');
    } catch {
      // a host that cannot shut down cleanly is killed below
    }
    await this.kill('was shut down');
  }

  /** Test hook: make the host die (exit) or throw outside any request. */
  crash(how: 'throw' | 'exit'): void {
    const msg: HostRequest = { type: 'crash', id: -1, how };
    if (this.worker) this.worker.postMessage(msg);
    else this.child?.send(msg);
  }
}
