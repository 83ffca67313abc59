// Shared benchmark plumbing: child processes pinned to cores (and always killed on exit), a
// real queue-proxy child, free ports, /proc CPU and RSS readings and waiting for a quiet machine,
// the load generators (wrk, else autocannon in a child process), and the report: percentiles,
// formatting, the run and machine lines and the RESULTS.md section writer. Benchmarks in bench/
// build on this.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline';

export const BENCH_DIR = import.meta.dirname;
export const ROOT_DIR = join(BENCH_DIR, '..');

function onPath(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export const HAVE_TASKSET = onPath('taskset');
export const HAVE_WRK = onPath('wrk');

/** Which cores the proxy under test and the load (generator + backend) run on. */
export interface Pinning {
  readonly proxy: string | undefined;
  readonly load: string | undefined;
  readonly note: string;
}

export function choosePinning(cores: number): Pinning {
  if (!HAVE_TASKSET) return { proxy: undefined, load: undefined, note: 'not pinned (taskset not found)' };
  if (cores < 2) return { proxy: undefined, load: undefined, note: 'not pinned (1 core)' };
  return { proxy: '1', load: '0', note: 'proxy under test on core 1 (`taskset -c 1`); load generator and backend on core 0' };
}

// ---------------------------------------------------------------------------------------------
// Child processes

const children = new Set<ChildProcess>();

function killAll(): void {
  for (const c of children) {
    // SIGKILL: benchmark children hold nothing worth a graceful stop, and exit handlers must be sync.
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
  children.clear();
}

let guarded = false;
/** Kills every child on exit, Ctrl-C, SIGTERM or a crash. Idempotent. */
export function guardChildren(): void {
  if (guarded) return;
  guarded = true;
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      process.stderr.write(`\n${sig}: stopping benchmark children\n`);
      killAll();
      process.exit(130);
    });
  }
  process.on('uncaughtException', (err) => {
    process.stderr.write(`${err.stack ?? String(err)}\n`);
    killAll();
    process.exit(1);
  });
  process.on('unhandledRejection', (err) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    killAll();
    process.exit(1);
  });
}

export interface Child {
  readonly proc: ChildProcess;
  readonly pid: number;
  /** The last lines the child wrote (stdout and stderr), for error messages. */
  readonly tail: string[];
  /** Resolves with the first stdout line matching `test`; rejects if the child exits first. */
  waitForLine(test: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  /** Resolves with the whole stdout once the child exits. */
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }>;
  kill(signal?: NodeJS.Signals): void;
}

export interface SpawnOptions {
  readonly cpu?: string | undefined;
  readonly env?: NodeJS.ProcessEnv;
  readonly nodeArgs?: readonly string[];
}

/**
 * Starts `node <script> ...args` with the running Node (so Node 24 under npm scripts), under
 * `taskset -c <cpu>` when asked. taskset execs, so the pid is the node process itself.
 * The child's stdin is a pipe that our own child entry points watch: when this process dies
 * without running its handlers (SIGKILL), they see EOF and exit.
 */
export function spawnNode(script: string, args: readonly string[], opts: SpawnOptions = {}): Child {
  const nodeArgv = [...(opts.nodeArgs ?? []), script, ...args];
  const [cmd, argv] = opts.cpu !== undefined ? ['taskset', ['-c', opts.cpu, process.execPath, ...nodeArgv]] : [process.execPath, nodeArgv];
  const proc = spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env, cwd: ROOT_DIR });
  if (proc.pid === undefined) throw new Error(`could not start ${script}`);
  children.add(proc);
  const tail: string[] = [];
  const remember = (line: string): void => {
    tail.push(line);
    if (tail.length > 20) tail.shift();
  };
  let stdout = '';
  const waiters: { test: (l: string) => boolean; resolve: (l: string) => void }[] = [];
  createInterface({ input: proc.stdout }).on('line', (line) => {
    remember(line);
    if (stdout.length < 1 << 20) stdout += line + '\n';
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i];
      if (w?.test(line)) {
        waiters.splice(i, 1);
        w.resolve(line);
      }
    }
  });
  createInterface({ input: proc.stderr }).on('line', remember);
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.on('exit', (code, signal) => {
      children.delete(proc);
      resolve({ code, signal });
    });
  });
  proc.stdin.on('error', () => undefined);
  const describe = (): string => `${script} ${args.join(' ')}`;
  return {
    proc,
    pid: proc.pid,
    tail,
    waitForLine(test, timeoutMs = 15_000) {
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${describe()}: no ready line after ${timeoutMs} ms\n${tail.join('\n')}`)), timeoutMs);
        waiters.push({
          test,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
        });
        void exit.then(({ code, signal }) => {
          clearTimeout(timer);
          reject(new Error(`${describe()} exited (${code ?? signal}) before it was ready\n${tail.join('\n')}`));
        });
      });
    },
    async exited() {
      const r = await exit;
      // Let readline deliver the last lines.
      await new Promise((resolve) => setImmediate(resolve));
      return { ...r, stdout };
    },
    kill(signal = 'SIGKILL') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    },
  };
}

/** In a child entry point: exit when the parent's end of stdin closes (parent gone). */
export function exitWithParent(): void {
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
  process.stdin.resume();
}

export interface QueueProxyOptions {
  /** The port of the app it fronts (USER_PORT; its readiness probe is a TCP connect there). */
  readonly userPort: number;
  readonly containerConcurrency: number;
  /** SERVING_REVISION; the pod is `<revision>-deployment-0`, namespace, service and configuration `bench`. */
  readonly revision: string;
  readonly cpu?: string | undefined;
  readonly nodeArgs?: readonly string[];
  /** The script run: queue-proxy/main.ts unless given (e.g. the compiled dist/queue-proxy/main.js). */
  readonly entry?: string;
}

/**
 * The real queue-proxy (`node queue-proxy/main.ts`) with the env Knative's controller sets, every
 * port a free loopback port; resolves once it logs "queue-proxy listening". `port` and `url` are
 * its serving port.
 */
export async function startQueueProxy(o: QueueProxyOptions): Promise<Child & { readonly port: number; readonly url: string }> {
  const [serving, tls, admin, metrics, userMetrics] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CONTAINER_CONCURRENCY: String(o.containerConcurrency),
    QUEUE_SERVING_PORT: String(serving),
    QUEUE_SERVING_TLS_PORT: String(tls),
    USER_PORT: String(o.userPort),
    REVISION_TIMEOUT_SECONDS: '300',
    SERVING_READINESS_PROBE: JSON.stringify({ tcpSocket: { port: o.userPort, host: '127.0.0.1' }, successThreshold: 1 }),
    SERVING_LOGGING_CONFIG: '',
    SERVING_LOGGING_LEVEL: 'info',
    SERVING_NAMESPACE: 'bench',
    SERVING_SERVICE: 'bench',
    SERVING_CONFIGURATION: 'bench',
    SERVING_REVISION: o.revision,
    SERVING_POD: `${o.revision}-deployment-0`,
    SERVING_POD_IP: '127.0.0.1',
    KNTS_LISTEN_HOST: '127.0.0.1',
    KNTS_ADMIN_PORT: String(admin),
    KNTS_METRICS_PORT: String(metrics),
    KNTS_USER_METRICS_PORT: String(userMetrics),
    // SIGTERM (e.g. to write a CPU profile) then exits at once instead of after Knative's 30 s quiet period.
    KNTS_DRAIN_QUIET_PERIOD: '0s',
  };
  const child = spawnNode(o.entry ?? join(ROOT_DIR, 'queue-proxy', 'main.ts'), [], { cpu: o.cpu, env, nodeArgs: o.nodeArgs ?? [] });
  await child.waitForLine((l) => l.includes('queue-proxy listening'));
  return Object.assign(child, { port: serving, url: `http://127.0.0.1:${serving}/` });
}

/** A port that was free a moment ago (the kernel picks it; the race is harmless on loopback). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// /proc readings

/** Clock ticks per second, the unit of /proc/<pid>/stat's CPU times. */
export const CLK_TCK = ((): number => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of the whole process (all threads), in microseconds. */
export function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Field 2 (comm) may hold spaces; everything after its closing ')' is space-separated from field 3.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // fields 14 and 15
  return (ticks * 1e6) / CLK_TCK;
}

/** CPU time all cores spent busy since boot (user, nice, system, irq, softirq), in microseconds. */
export function machineBusyMicros(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  const [, user, nice, system, , , irq, softirq] = line.trim().split(/\s+/).map(Number);
  return (((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0)) * 1e6) / CLK_TCK;
}

/** cpuMicros that survives the process having exited (0 then). */
function cpuMicrosOrZero(pid: number): number {
  try {
    return cpuMicros(pid);
  } catch {
    return 0;
  }
}

/**
 * Measures how much CPU processes other than ours used over a window: machine busy time minus
 * the given pids, this process and the load generator. On a shared 2-core machine any of it
 * distorts the numbers, so cells with much of it are retried.
 */
export function foreignCpu(pids: readonly number[]): { stop(loadGenMicros: number): number } {
  const unique = [...new Set(pids)];
  const own = (): number => unique.reduce((sum, pid) => sum + cpuMicrosOrZero(pid), 0);
  const self = (): number => {
    const u = process.cpuUsage();
    return u.user + u.system;
  };
  const busy0 = machineBusyMicros();
  const own0 = own() + self();
  return {
    stop(loadGenMicros) {
      return Math.max(0, machineBusyMicros() - busy0 - (own() + self() - own0) - loadGenMicros);
    },
  };
}

/**
 * Waits (up to `maxS` seconds) for a 1 s window in which processes other than ours and `pids`
 * used at most `maxNoise`% of a core; says so once when it has to wait.
 */
export async function waitQuiet(pids: readonly number[], maxNoise: number, maxS = 30): Promise<void> {
  for (let i = 0; i < maxS; i++) {
    const f = foreignCpu(pids);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const busy = f.stop(0) / 1e4;
    if (busy <= maxNoise) return;
    if (i === 0) process.stdout.write(`  (other processes use ${busy.toFixed(0)}% of a core; waiting up to ${maxS} s for quiet)\n`);
  }
}

/** A VmRSS / VmHWM value from /proc/<pid>/status, in bytes (0 when unreadable). */
export function statusBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Polls VmRSS until stopped; `stop()` returns the peak seen (bytes). */
export function sampleRss(pid: number, everyMs = 50): { stop(): number } {
  let peak = statusBytes(pid, 'VmRSS');
  const timer = setInterval(() => {
    peak = Math.max(peak, statusBytes(pid, 'VmRSS'));
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, statusBytes(pid, 'VmRSS'));
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Load generators

export interface LoadResult {
  readonly requests: number;
  readonly seconds: number;
  readonly rps: number;
  /** Microseconds. */
  readonly p50: number;
  readonly p99: number;
  /** Socket errors and timeouts. */
  readonly errors: number;
  /** Responses that were not 2xx/3xx. */
  readonly non2xx: number;
  /** CPU the load generator itself used (µs; sampled every 100 ms, so slightly low). */
  readonly loadGenCpu: number;
}

/** Polls a process's CPU time; `stop()` returns the last reading (µs) taken while it lived. */
function trackCpu(pid: number | undefined): { stop(): number } {
  if (pid === undefined) return { stop: () => 0 };
  const start = cpuMicrosOrZero(pid);
  let last = start;
  const timer = setInterval(() => {
    last = Math.max(last, cpuMicrosOrZero(pid));
  }, 100);
  return {
    stop() {
      clearInterval(timer);
      return last - start;
    },
  };
}

export type LoadTool = 'wrk' | 'autocannon';

export const LATENCY_SOURCE: Record<LoadTool, string> = {
  wrk: "wrk's own latency percentiles (its in-process histogram, read in a Lua done() hook)",
  autocannon: 'per-request latencies from autocannon recorded into an hdr-histogram-js histogram',
};

const WRK_SCRIPT = join(tmpdir(), `knts-bench-wrk-${process.pid}.lua`);
const WRK_LUA = `-- Written by bench/harness.ts: machine-readable summary with exact percentiles (µs).
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("KNTS_JSON {\\"requests\\":%d,\\"duration_us\\":%d,\\"p50\\":%.1f,\\"p99\\":%.1f,\\"connect\\":%d,\\"read\\":%d,\\"write\\":%d,\\"status\\":%d,\\"timeout\\":%d}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
`;

/** Request headers every load-generator request carries (e.g. the activator's revision headers). */
export type LoadHeaders = Readonly<Record<string, string>>;

async function runWrk(url: string, connections: number, seconds: number, cpu: string | undefined, headers: LoadHeaders): Promise<LoadResult> {
  if (!existsSync(WRK_SCRIPT)) {
    writeFileSync(WRK_SCRIPT, WRK_LUA);
    process.on('exit', () => rmSync(WRK_SCRIPT, { force: true }));
  }
  // One thread: the generator has one core, shared with the backend.
  const headerArgs = Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]);
  const wrkArgs = ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '5s', ...headerArgs, '-s', WRK_SCRIPT, url];
  const [cmd, argv] = cpu !== undefined ? ['taskset', ['-c', cpu, 'wrk', ...wrkArgs]] : ['wrk', wrkArgs];
  const proc = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(proc);
  const usage = trackCpu(proc.pid);
  let out = '';
  let err = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => proc.on('exit', (c) => resolve(c)));
  const loadGenCpu = usage.stop();
  children.delete(proc);
  const line = out.split('\n').find((l) => l.startsWith('KNTS_JSON '));
  if (code !== 0 || line === undefined) throw new Error(`wrk failed (${code}): ${err || out}`);
  const j = JSON.parse(line.slice('KNTS_JSON '.length)) as Record<string, number>;
  const n = (k: string): number => j[k] ?? 0;
  const secs = n('duration_us') / 1e6;
  return {
    requests: n('requests'),
    seconds: secs,
    rps: n('requests') / secs,
    p50: n('p50'),
    p99: n('p99'),
    errors: n('connect') + n('read') + n('write') + n('timeout'),
    non2xx: n('status'),
    loadGenCpu,
  };
}

async function runAutocannon(url: string, connections: number, seconds: number, cpu: string | undefined, headers: LoadHeaders): Promise<LoadResult> {
  const extra = Object.keys(headers).length > 0 ? [JSON.stringify(headers)] : [];
  const child = spawnNode(join(BENCH_DIR, 'autocannon-run.ts'), [url, String(connections), String(seconds), ...extra], { cpu });
  const usage = trackCpu(child.pid);
  const { code, stdout } = await child.exited();
  const loadGenCpu = usage.stop();
  const line = stdout.split('\n').find((l) => l.startsWith('KNTS_JSON '));
  if (code !== 0 || line === undefined) throw new Error(`autocannon failed (${code}):\n${child.tail.join('\n')}`);
  return { ...(JSON.parse(line.slice('KNTS_JSON '.length)) as Omit<LoadResult, 'loadGenCpu'>), loadGenCpu };
}

export function runLoad(tool: LoadTool, url: string, connections: number, seconds: number, cpu: string | undefined, headers: LoadHeaders = {}): Promise<LoadResult> {
  return tool === 'wrk' ? runWrk(url, connections, seconds, cpu, headers) : runAutocannon(url, connections, seconds, cpu, headers);
}

// ---------------------------------------------------------------------------------------------
// Output

/** Replaces the `## <title>` section of a markdown file (up to the next `## `), or appends it. */
export function writeSection(file: string, title: string, body: string): void {
  const heading = `## ${title}`;
  const old = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmark results\n';
  const lines = old.split('\n');
  const start = lines.findIndex((l) => l.trim() === heading);
  const section = `${heading}\n\n${body.trim()}\n`;
  let next: string;
  if (start < 0) {
    next = `${old.trimEnd()}\n\n${section}`;
  } else {
    let end = lines.findIndex((l, i) => i > start && l.startsWith('## '));
    if (end < 0) end = lines.length;
    const before = lines.slice(0, start).join('\n').trimEnd();
    const after = lines.slice(end).join('\n').trim();
    next = `${before}\n\n${section}${after ? `\n${after}\n` : ''}`;
  }
  writeFileSync(file, next.replace(/^\n+/, ''));
}

/**
 * Writes the `## <title>` section of bench/RESULTS.md and says so, or with --no-write (`print`)
 * prints the report instead.
 */
export function writeResults(title: string, md: string, print: boolean): void {
  if (print) {
    process.stdout.write(`\n${md}`);
    return;
  }
  const file = join(BENCH_DIR, 'RESULTS.md');
  writeSection(file, title, md);
  process.stdout.write(`\nwrote the "## ${title}" section of ${relative(process.cwd(), file) || file}\n`);
}

/** The report's first line: when and by which command (`npm run <script> -- <this run's flags>`). */
export function ranBy(script: string, startedAt: Date): string {
  const args = process.argv.slice(2);
  return `Run ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC by \`npm run ${script}${args.length > 0 ? ` -- ${args.join(' ')}` : ''}\``;
}

/** `N cores (CPU model), Node vX, platform arch`, for the report. */
export function machine(): string {
  return `${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}, ${process.platform} ${process.arch}`;
}

/** Nearest-rank percentile (with fewer than 100 samples, p99 is the slowest). NaN when empty. */
export function pct(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
}

/** Milliseconds (two decimals under 10 ms, else one), seconds from 1 s, `—` for NaN. */
export function fmtMs(v: number): string {
  return !Number.isFinite(v) ? '—' : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(v < 10 ? 2 : 1)} ms`;
}

export function fmtMicros(us: number): string {
  if (!Number.isFinite(us)) return '—';
  if (us >= 10_000) return `${(us / 1000).toFixed(1)} ms`;
  if (us >= 1000) return `${(us / 1000).toFixed(2)} ms`;
  return `${Math.round(us)} µs`;
}

export function fmtRps(rps: number): string {
  return rps >= 10_000 ? `${(rps / 1000).toFixed(1)}k` : rps >= 1000 ? `${(rps / 1000).toFixed(2)}k` : rps.toFixed(0);
}

export function fmtMB(bytes: number): string {
  return bytes > 0 ? `${Math.round(bytes / (1 << 20))} MB` : '—';
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] ?? NaN) : ((s[m - 1] ?? NaN) + (s[m] ?? NaN)) / 2;
}
