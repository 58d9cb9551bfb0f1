/**
 * Progress of long work, on stderr (stdout stays machine-readable): a cli-progress bar when stderr is a
 * terminal; otherwise (CI, a log file, a pipe) one line every few seconds with done/total, rate and ETA,
 * and a last line when the work stops. `ABACUS_PROGRESS_INTERVAL_MS` sets the interval of those lines
 * (default 5000).
 */
import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number, payload?: Record<string, string | number>): void;
  increment(by?: number, payload?: Record<string, string | number>): void;
  setTotal(total: number): void;
  stop(): void;
}

export type ProgressMode = 'bar' | 'lines' | 'off';

const DEFAULT_INTERVAL_MS = 5000;

function intervalMs(): number {
  const v = Number(process.env.ABACUS_PROGRESS_INTERVAL_MS);
  return Number.isFinite(v) && v >= 0 ? v : DEFAULT_INTERVAL_MS;
}

/** Seconds as people read an ETA: 42 s, 3 min 5 s, 2 h 10 min. */
export function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** The line printed off a terminal: `label 120/480 (25.0 %), 3.20/s, eta 1 min 52 s, info`. */
export function progressLine(label: string, done: number, total: number, initial: number, elapsedS: number, info: string): string {
  const rate = elapsedS > 0 ? (done - initial) / elapsedS : 0;
  const pct = total > 0 ? ` (${((100 * done) / total).toFixed(1)} %)` : '';
  const eta = rate > 0 && total >= done ? `, eta ${formatEta((total - done) / rate)}` : '';
  return `${label} ${done}/${total}${pct}, ${rate.toFixed(2)}/s${eta}${info ? `, ${info}` : ''}`;
}

export function startProgress(label: string, total: number, initial = 0, mode: ProgressMode = process.stderr.isTTY === true ? 'bar' : 'lines'): Progress {
  if (mode === 'off') return { update() {}, increment() {}, setTotal() {}, stop() {} };
  const started = Date.now();
  let done = initial;
  let last = total;
  if (mode === 'lines') {
    const every = intervalMs();
    let lastLineAt = started;
    let printed = false;
    let info = '';
    let stopped = false;
    const line = (): void => {
      process.stderr.write(`${progressLine(label, done, last, initial, (Date.now() - started) / 1000, info)}\n`);
      printed = true;
      lastLineAt = Date.now();
    };
    const maybe = (payload?: Record<string, string | number>): void => {
      if (payload?.info !== undefined) info = String(payload.info);
      if (Date.now() - lastLineAt >= every) line();
    };
    return {
      update(value, payload) {
        done = value;
        maybe(payload);
      },
      increment(by = 1, payload) {
        done += by;
        maybe(payload);
      },
      setTotal(t) {
        last = t;
      },
      stop() {
        if (stopped) return;
        stopped = true;
        // the last state, once, when anything was said before (short work stays quiet)
        if (printed && Date.now() > lastLineAt) line();
      },
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {value}/{total} | {rate}/s | eta {eta_formatted} {info}`,
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  const rate = (): string => {
    const s = (Date.now() - started) / 1000;
    return s > 0 ? ((done - initial) / s).toFixed(2) : '0';
  };
  bar.start(total, initial, { rate: '0', info: '' });
  return {
    update(value, payload) {
      done = value;
      bar.update(value, { rate: rate(), info: '', ...payload });
    },
    increment(by = 1, payload) {
      done += by;
      bar.update(done, { rate: rate(), info: '', ...payload });
    },
    setTotal(t) {
      last = t;
      bar.setTotal(t);
    },
    stop() {
      bar.stop();
    },
  };
}
