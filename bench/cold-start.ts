// `npm run bench:cold-start`: the cold-start benchmark. `knts serve` runs in this process
// (startServe on a temp folder, ephemeral ports) with N+1 Services of examples/hello/app.js whose
// one initial pod scales away unused, so each revision is at zero (latest autoscaler decision 0)
// and the first request to each is a cold start through the whole data plane: ingress → activator
// (queues, reports) → autoscaler poke → a pod (app + real queue-proxy child processes) → kubelet
// readiness → activator probe → proxy. Interleaved with the cold starts, it spawns the app alone
// and times it to its "listening" line (the app's own start), and a queue-proxy alone the same
// way. Overhead = cold-start latency − median app start. Where the time goes comes from the
// runtime's log lines, the pods' output and readiness, and the activator's Server-Timing header.
// A few Services created at zero (initial-scale 0) are measured too: they wait for a decision tick.
// Writes the "## Cold start" section of bench/RESULTS.md. Flags: see USAGE or bench/README.md.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { startServe, type RunningServe } from '../runtime/serve.ts';
import { BENCH_DIR, ROOT_DIR, freePort, guardChildren, machineBusyMicros, spawnNode, writeSection } from './harness.ts';

const USAGE = `usage: npm run bench:cold-start -- [flags]
  --quick          5 cold starts (default 24), 2 revisions created at zero (default 5)
  --samples=N      cold starts (each with an app start and queue-proxy starts alone) after a warm-up round
  --new-samples=N  first requests to revisions created at zero (default 5; --quick 2)
  --settle=MS      pause before each measurement (default 300)
  --max-noise=P    before each round, wait (up to 10 s; at the start up to 2 min) until processes
                   outside the benchmark use less than P% of a core, and measure a round again
                   when they used more during it (default 20)
  --no-write       print only; leave bench/RESULTS.md alone`;

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    samples: { type: 'string' },
    'new-samples': { type: 'string' },
    settle: { type: 'string', default: '300' },
    'max-noise': { type: 'string', default: '20' },
    'no-write': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (flags.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

const samples = Number(flags.samples ?? (flags.quick ? 5 : 24));
/** First requests to revisions created at zero (initial-scale 0), a path of its own. */
const newSamples = Number(flags['new-samples'] ?? (flags.quick ? 2 : 5));
const settleMs = Number(flags.settle);
const maxNoise = Number(flags['max-noise']);
if (!Number.isInteger(samples) || samples < 1) throw new Error(`--samples must be a positive integer, not ${flags.samples}`);
/** The issue's goal for the p50 overhead. */
const GOAL_MS = 100;
const APP = join(ROOT_DIR, 'examples/hello/app.js');
const QUEUE_PROXY = join(ROOT_DIR, 'queue-proxy/main.ts');
const NAMESPACE = 'default';
const DOMAIN = 'example.com';

guardChildren();

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const now = (): number => performance.now();

// ---------------------------------------------------------------------------------------------
// Other processes' CPU (the machine may be shared: a test run beside the benchmark slows spawns)

const CLK_TCK = ((): number => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Fields 3… of /proc/<pid>/stat (after the command name), or undefined once it is gone. */
function statFields(pid: string): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/**
 * CPU time (µs) of this process (which hosts the runtime), its exited children (cutime, cstime)
 * and its live children: the pods' apps and queue-proxies and the apps started alone.
 */
function ownTreeMicros(): number {
  const self = statFields('self') ?? [];
  // utime, stime, cutime, cstime: fields 14–17.
  let ticks = Number(self[11]) + Number(self[12]) + Number(self[13]) + Number(self[14]);
  const me = String(process.pid);
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const f = statFields(pid);
    if (f?.[1] === me) ticks += Number(f[11]) + Number(f[12]);
  }
  return (ticks * 1e6) / CLK_TCK;
}

/** Starts a window; `stop()` gives the CPU used by processes outside the benchmark, in % of one core. */
function otherCpu(): { stop(): number } {
  const t0 = now();
  const busy0 = machineBusyMicros();
  const own0 = ownTreeMicros();
  return {
    stop() {
      const wallUs = (now() - t0) * 1000;
      return wallUs > 0 ? (Math.max(0, machineBusyMicros() - busy0 - (ownTreeMicros() - own0)) / wallUs) * 100 : 0;
    },
  };
}

/** Waits until other processes use less than `maxNoise`% of a core over 1 s, for at most `maxWaitMs`. */
async function waitQuiet(maxWaitMs: number, say: boolean): Promise<number> {
  const end = now() + maxWaitMs;
  let told = false;
  for (;;) {
    const w = otherCpu();
    await sleep(1000);
    const used = w.stop();
    if (used < maxNoise || now() > end) return used;
    if (say && !told) {
      process.stdout.write(`  waiting for a quiet machine (other processes use ${used.toFixed(0)}% of a core)…\n`);
      told = true;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The served folder

/** Short windows so pods from earlier cold starts go away during the run (6 s stable + 1 s grace). */
const CONFIG = `apiVersion: v1
kind: ConfigMap
metadata: {name: config-autoscaler, namespace: knative-serving}
data:
  stable-window: "6s"
  scale-to-zero-grace-period: "1s"
  scale-to-zero-pod-retention-period: "0s"
  allow-zero-initial-scale: "true"
---
apiVersion: v1
kind: ConfigMap
metadata: {name: config-logging, namespace: knative-serving}
data:
  # The runtime passes queue-proxy info lines (its "queue-proxy listening") on only when asked.
  loglevel.queueproxy: "info"
`;

/** Services whose pod has come and gone (the revision at zero): `cold-NN`; created at zero: `new-NN`. */
type Kind = 'cold' | 'new';
const serviceName = (kind: Kind, i: number): string => `${kind}-${String(i).padStart(2, '0')}`;
const revisionName = (kind: Kind, i: number): string => `${serviceName(kind, i)}-00001`;
const revisionKey = (kind: Kind, i: number): string => `${NAMESPACE}/${revisionName(kind, i)}`;

/**
 * `cold-NN` starts at the default initial scale (1) and, unused, scales to zero: its latest
 * autoscaler decision is then 0, so the activator's first stat pokes an immediate decision.
 * `new-NN` is created at zero (`initial-scale: "0"`) and has never had a decision.
 */
function serviceYaml(kind: Kind, i: number): string {
  const annotations = kind === 'new' ? '\n      annotations:\n        autoscaling.knative.dev/initial-scale: "0"' : ' {}';
  return `apiVersion: serving.knative.dev/v1
kind: Service
metadata: {name: ${serviceName(kind, i)}, namespace: ${NAMESPACE}}
spec:
  template:
    metadata:${annotations}
    spec:
      containerConcurrency: 0
      containers:
        - image: example.com/hello
          command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(APP)}]
          env: [{name: TARGET, value: "${serviceName(kind, i)}"}]
`;
}

/** A stream that hands every complete line to `onLine` with the time it was written. */
function lineSink(onLine: (line: string, at: number) => void): Writable {
  let partial = '';
  return new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      const at = now();
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) onLine(l, at);
      cb();
    },
  });
}

// ---------------------------------------------------------------------------------------------
// Measurements

interface ColdSample {
  readonly service: string;
  /** All in ms after the request was sent. */
  readonly total: number;
  readonly headers: number;
  readonly scaled: number | undefined;
  readonly appListening: number | undefined;
  readonly qpListening: number | undefined;
  readonly podReady: number | undefined;
  readonly serverTiming: Readonly<Record<string, number>>;
  /** CPU used by processes outside the benchmark meanwhile, in % of one core. */
  readonly otherCpu: number;
}

/** What the runtime reports for the cold start in flight (times from `now()`). */
interface Watch {
  readonly revision: string;
  readonly key: string;
  scaled?: number;
  appListening?: number;
  qpListening?: number;
  podReady?: number;
}

let watching: Watch | undefined;

function onRuntimeLog(line: string, at: number): void {
  const w = watching;
  if (w === undefined || w.scaled !== undefined || !line.includes('"scaling"')) return;
  try {
    const j = JSON.parse(line) as { msg?: string; revision?: string; replicas?: number };
    if (j.msg === 'scaling' && j.revision === w.key && (j.replicas ?? 0) > 0) w.scaled = at;
  } catch {
    // Not a JSON log line.
  }
}

const POD_LINE = /^\[(\S+) (user-container|queue-proxy)\] (.*)$/;
function onPodLog(line: string, at: number): void {
  const w = watching;
  const m = POD_LINE.exec(line);
  if (w === undefined || m === null || !(m[1] ?? '').startsWith(`${w.revision}-`)) return;
  if (m[2] === 'user-container' && w.appListening === undefined && (m[3] ?? '').includes('listening')) w.appListening = at;
  if (m[2] === 'queue-proxy' && w.qpListening === undefined && (m[3] ?? '').includes('"queue-proxy listening"')) w.qpListening = at;
}

interface Reply {
  readonly status: number;
  readonly body: string;
  readonly headersAt: number;
  readonly endAt: number;
  readonly serverTiming: string;
}

function get(port: number, host: string, timeoutMs = 30_000): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false, headers: { host }, timeout: timeoutMs }, (res) => {
      const headersAt = now();
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => {
        const st = res.headers['server-timing'];
        resolve({ status: res.statusCode ?? 0, body, headersAt, endAt: now(), serverTiming: Array.isArray(st) ? st.join(', ') : (st ?? '') });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no response from ${host} in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** `activator-queued;dur=812.3, …` → { 'activator-queued': 812.3, … } */
function parseServerTiming(v: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of v.split(',')) {
    const m = /^\s*([\w-]+)\s*;.*\bdur=([\d.]+)/.exec(part);
    if (m?.[1] !== undefined) out[m[1]] = Number(m[2]);
  }
  return out;
}

async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = now() + timeoutMs;
  while (!cond()) {
    if (now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** Whether a revision is at zero: no pod wanted or running. */
function atZero(s: RunningServe, key: string): boolean {
  const st = s.controlPlane.cluster.status(key);
  return st !== undefined && st.desired === 0 && st.pods === 0 && st.ready === 0;
}

async function coldStart(s: RunningServe, kind: Kind, i: number): Promise<Omit<ColdSample, 'otherCpu'>> {
  const key = revisionKey(kind, i);
  if (!atZero(s, key)) throw new Error(`${key} is not at zero: ${JSON.stringify(s.controlPlane.cluster.status(key))}`);
  const w: Watch = { revision: revisionName(kind, i), key };
  watching = w;
  const t0 = now();
  const r = await get(s.ports.ingress, `${serviceName(kind, i)}.${NAMESPACE}.${DOMAIN}`);
  watching = undefined;
  const expected = `Hello ${serviceName(kind, i)}! (${revisionName(kind, i)})\n`;
  if (r.status !== 200 || r.body !== expected) throw new Error(`${key}: cold start answered ${r.status} ${JSON.stringify(r.body.slice(0, 200))}`);
  const rel = (t: number | undefined): number | undefined => (t === undefined ? undefined : t - t0);
  return {
    service: serviceName(kind, i),
    total: r.endAt - t0,
    headers: r.headersAt - t0,
    scaled: rel(w.scaled),
    appListening: rel(w.appListening),
    qpListening: rel(w.qpListening),
    podReady: rel(w.podReady),
    serverTiming: parseServerTiming(r.serverTiming),
  };
}

interface AppSample {
  /** Spawn → the app's "listening" line on its stdout (ms). */
  readonly listening: number;
  /** Spawn → its answer to one GET sent right after that line (ms). */
  readonly firstResponse: number;
  /** Spawn → a queue-proxy's "queue-proxy listening" line, started alone the same way (ms). */
  readonly queueProxy: number;
  /** The same with NODE_COMPILE_CACHE set to a warm cache (the runtime does not set it). */
  readonly queueProxyCached: number;
}

/** The environment of a pod's app (runtime/local-cluster.ts builds the same). */
function appEnv(i: number, port: number): Record<string, string> {
  const svc = serviceName('cold', i);
  return { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', TARGET: svc, K_REVISION: revisionName('cold', i), K_CONFIGURATION: svc, K_SERVICE: svc, PORT: String(port) };
}

/** The environment the runtime gives a pod's queue-proxy (runtime/queue-env.ts, pod-process.ts), every port its own. */
function queueProxyEnv(i: number, userPort: number): Record<string, string> {
  return {
    PATH: process.env['PATH'] ?? '',
    CONTAINER_CONCURRENCY: '0',
    QUEUE_SERVING_PORT: '0',
    QUEUE_SERVING_TLS_PORT: '8112',
    USER_PORT: String(userPort),
    REVISION_TIMEOUT_SECONDS: '300',
    REVISION_RESPONSE_START_TIMEOUT_SECONDS: '0',
    REVISION_IDLE_TIMEOUT_SECONDS: '0',
    SERVING_READINESS_PROBE: JSON.stringify({ tcpSocket: { port: userPort } }),
    ENABLE_HTTP_FULL_DUPLEX: 'false',
    ENABLE_HTTP2_AUTO_DETECTION: 'false',
    ENABLE_MULTI_CONTAINER_PROBES: 'false',
    SERVING_LOGGING_CONFIG: '',
    SERVING_LOGGING_LEVEL: 'info',
    SERVING_NAMESPACE: NAMESPACE,
    SERVING_SERVICE: serviceName('cold', i),
    SERVING_CONFIGURATION: serviceName('cold', i),
    SERVING_REVISION: revisionName('cold', i),
    SERVING_POD: `${revisionName('cold', i)}-alone`,
    SERVING_POD_IP: '127.0.0.1',
    SYSTEM_NAMESPACE: 'knative-serving',
    KNTS_DRAIN_QUIET_PERIOD: '0s',
    KNTS_ADMIN_PORT: '0',
    KNTS_METRICS_PORT: '0',
    KNTS_USER_METRICS_PORT: '0',
    KNTS_LISTEN_HOST: '127.0.0.1',
  };
}

/**
 * Spawns `node <script>` and times it to its first stdout line matching `ready`; then runs
 * `then` and stops it (SIGKILL, or SIGTERM when it must exit cleanly to write its compile cache).
 */
async function timeToLine(script: string, env: Record<string, string>, ready: string, o: { then?: () => Promise<void>; stop?: NodeJS.Signals } = {}): Promise<number> {
  const t0 = now();
  const child = spawnNode(script, [], { env });
  try {
    await child.waitForLine((l) => l.includes(ready), 15_000);
    const at = now() - t0;
    await o.then?.();
    return at;
  } finally {
    child.kill(o.stop ?? 'SIGKILL');
    const exit = child.exited();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exit;
    clearTimeout(timer);
  }
}

/** Node's on-disk compile cache for the queue-proxy variant (it also caches the TypeScript stripping). */
let compileCacheDir = '';

/** The app alone, started as a pod starts it (same node, same env, its own free port), then a queue-proxy alone. */
async function appStart(i: number): Promise<AppSample> {
  const port = await freePort();
  let firstResponse = NaN;
  const t0 = now();
  const listening = await timeToLine(APP, appEnv(i, port), 'listening', {
    then: async () => {
      const r = await get(port, 'localhost', 5000);
      if (r.status !== 200) throw new Error(`the app alone answered ${r.status}`);
      firstResponse = r.endAt - t0;
    },
  });
  await sleep(settleMs / 2);
  const queueProxy = await timeToLine(QUEUE_PROXY, queueProxyEnv(i, port), '"queue-proxy listening"');
  await sleep(settleMs / 2);
  // SIGTERM: the cache is written when the process exits (its drain quiet period is 0 here).
  const queueProxyCached = await timeToLine(QUEUE_PROXY, { ...queueProxyEnv(i, port), NODE_COMPILE_CACHE: compileCacheDir }, '"queue-proxy listening"', { stop: 'SIGTERM' });
  return { listening, firstResponse, queueProxy, queueProxyCached };
}

// ---------------------------------------------------------------------------------------------
// Report

/** Nearest-rank percentile (with fewer than 100 samples, p99 is the slowest). */
function pct(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
}

const ms = (v: number): string => (!Number.isFinite(v) ? '—' : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(v < 10 ? 2 : 1)} ms`);
const defined = (xs: readonly (number | undefined)[]): number[] => xs.filter((x): x is number => x !== undefined);
const gap = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined || b === undefined ? undefined : a - b);
const later = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined || b === undefined ? undefined : Math.max(a, b));

function row(label: string, xs: readonly number[]): string {
  return `| ${label} | ${xs.length} | ${ms(pct(xs, 50))} | ${ms(pct(xs, 99))} | ${ms(Math.min(...xs))} |`;
}

interface Result {
  readonly cold: readonly ColdSample[];
  readonly app: readonly AppSample[];
  /** First requests to revisions created at zero. */
  readonly fresh: readonly ColdSample[];
  /** Cold starts measured while other processes were busy, and measured again. */
  readonly discarded: number;
  readonly startedAt: Date;
  readonly seconds: number;
  readonly setupSeconds: number;
  readonly load: number;
  /** Other processes' CPU (% of a core) in the last second before the run began. */
  readonly startNoise: number;
}

interface Summary {
  readonly coldP50: number;
  readonly coldP99: number;
  readonly appP50: number;
  readonly appP99: number;
  readonly overP50: number;
  readonly overP99: number;
}

function summarize(r: Result): Summary {
  const totals = r.cold.map((c) => c.total);
  const apps = r.app.map((a) => a.listening);
  const appP50 = pct(apps, 50);
  const over = totals.map((t) => t - appP50);
  return { coldP50: pct(totals, 50), coldP99: pct(totals, 99), appP50, appP99: pct(apps, 99), overP50: pct(over, 50), overP99: pct(over, 99) };
}

/** The phases of each cold start, as arrays of ms (only where the runtime reported them). */
function phasesOf(cs: readonly ColdSample[]): Record<'scaled' | 'podApp' | 'podQp' | 'ready' | 'serve' | 'queued' | 'capacity' | 'proxy', number[]> {
  const f = (fn: (c: ColdSample) => number | undefined): number[] => defined(cs.map(fn));
  return {
    scaled: f((c) => c.scaled),
    podApp: f((c) => gap(c.appListening, c.scaled)),
    podQp: f((c) => gap(c.qpListening, c.scaled)),
    ready: f((c) => gap(c.podReady, later(c.appListening, c.qpListening))),
    serve: f((c) => gap(c.headers, c.podReady)),
    queued: f((c) => c.serverTiming['activator-queued']),
    capacity: f((c) => c.serverTiming['activator-capacity']),
    proxy: f((c) => c.serverTiming['activator-proxy']),
  };
}

function report(r: Result): string {
  const s = summarize(r);
  const n = r.cold.length;
  const cpuModel = cpus()[0]?.model ?? 'unknown CPU';
  const args = process.argv.slice(2);
  const p = phasesOf(r.cold);
  const fp = phasesOf(r.fresh);
  const noise = r.cold.map((c) => c.otherCpu);
  const noisy = noise.filter((x) => x > maxNoise).length;

  return `Run ${r.startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC by \`npm run bench:cold-start${args.length ? ' -- ' + args.join(' ') : ''}\` (${r.seconds.toFixed(0)} s, of which ${r.setupSeconds.toFixed(0)} s setting up).
Machine: ${availableParallelism()} cores (${cpuModel}), Node ${process.version}, ${process.platform} ${process.arch}; nothing pinned. Other processes used ${r.startNoise.toFixed(0)}% of a core just before the run (1-minute load average ${r.load.toFixed(2)}) and ${pct(noise, 50).toFixed(0)}% (median) / ${Math.max(...noise).toFixed(0)}% (max) during the kept samples${noisy > 0 ? ` (${noisy} above ${maxNoise}%)` : ''}; ${r.discarded} sample${r.discarded === 1 ? ' was' : 's were'} measured while they used more than ${maxNoise}% and measured again.

**Summary:** over ${n} cold starts the first request to a revision at zero took **${ms(s.coldP50)}** (p50) / ${ms(s.coldP99)} (p99) end to end; the app alone takes ${ms(s.appP50)} (p50) / ${ms(s.appP99)} (p99) to start listening. **Cold-start overhead: ${ms(s.overP50)} p50, ${ms(s.overP99)} p99** — goal p50 < ${GOAL_MS} ms ${s.overP50 < GOAL_MS ? '**met**' : '**not met**'}.

How it is measured: \`startServe\` (the runtime of \`knts serve\`) runs in the benchmark's process on a temp folder with ${n + 1} Services of \`examples/hello/app.js\` (containerConcurrency 0; config-autoscaler stable window 6 s, scale-to-zero grace 1 s, \`allow-zero-initial-scale\`). Each starts with one pod, which scales away unused, so every revision is at zero with a latest autoscaler decision of 0, as a revision that went idle. Then, one at a time, each gets one GET through the ingress: the time from sending it to the end of its response is one cold start. Before each, in the same process, the app is spawned alone (the same node binary and env, a free \`PORT\`) and timed from \`spawn\` to its \`hello: listening on …\` stdout line: one app start (and then a GET to it: its first response); then a queue-proxy alone (\`node queue-proxy/main.ts\`, the command and env the runtime uses) to its \`queue-proxy listening\` line, and once more with \`NODE_COMPILE_CACHE\` set to a cache directory the earlier rounds filled. The first round is a warm-up and not counted; a round during which other processes used more than ${maxNoise}% of a core is measured again on another Service at zero. Overhead per cold start = its latency − the median app start, so p50 overhead = p50 cold start − p50 app start. Percentiles are nearest-rank over the samples (with ${n}, p99 is the slowest).

| ${n} samples each | n | p50 | p99 | min |
|---|---|---|---|---|
${row('**cold start**: request sent → response ended (ingress → activator → queue-proxy → app)', r.cold.map((c) => c.total))}
${row('app alone: spawn → "listening" line', r.app.map((a) => a.listening))}
${row('app alone: spawn → its first response (a GET sent on the "listening" line)', r.app.map((a) => a.firstResponse))}
${row('**overhead**: cold start − median app start', r.cold.map((c) => c.total - s.appP50))}
${row('queue-proxy alone: spawn of `node queue-proxy/main.ts` → "queue-proxy listening" line', r.app.map((a) => a.queueProxy))}
${row('queue-proxy alone, with `NODE_COMPILE_CACHE` warm (not what the runtime does: a candidate fix)', r.app.map((a) => a.queueProxyCached))}

### Where the time goes

Stamped in the benchmark's process, which hosts the runtime: the runtime's \`scaling\` log line (the activator's first stat pokes the autoscaler, whose KPA sets the revision's replicas to 1; the pod's two processes, app and queue-proxy, are spawned side by side right after), the pods' output lines as the runtime reads them from their pipes, the revision's first ready pod (the runtime's kubelet-style probe of the queue-proxy, every 25 ms until ready, passing), the response's headers, and the activator's \`Server-Timing\` header.

| phase of a cold start | n | p50 | p99 | min |
|---|---|---|---|---|
${row('request sent → autoscaler orders 1 replica (activator stat → poke → KPA)', p.scaled)}
${row('1 replica ordered → app "listening" line (inside the pod)', p.podApp)}
${row('1 replica ordered → queue-proxy "queue-proxy listening" line (inside the pod)', p.podQp)}
${row('the later of those two lines → pod ready (kubelet probe → queue-proxy → probe of the app)', p.ready)}
${row('pod ready → response headers (the activator sees the endpoint, probes the pod, proxies)', p.serve)}
${row('Server-Timing `activator-queued` (request queued until the revision had capacity)', p.queued)}
${row('Server-Timing `activator-capacity` (then waiting for a slot)', p.capacity)}
${row('Server-Timing `activator-proxy` (activator → queue-proxy → app → response headers)', p.proxy)}

${analysis(r, s)}

### Revisions created at zero

${r.fresh.length} more Services were created with \`autoscaling.knative.dev/initial-scale: "0"\` and never ran a pod before their first request, which was measured the same way:

| first request to a revision created at zero | n | p50 | p99 | min |
|---|---|---|---|---|
${row('request sent → response ended', r.fresh.map((c) => c.total))}
${row('request sent → autoscaler orders 1 replica', fp.scaled)}
${row('1 replica ordered → response ended', defined(r.fresh.map((c) => gap(c.total, c.scaled))))}

Such a revision has no autoscaler decision yet (no pod was ever scraped), and the autoscaler pokes only a revision whose latest decision is 0, as Knative's \`MultiScaler.Poke\` does; the activator's stat waits for the revision's next 2 s decision tick instead, 0–2 s later.

Run it: \`npm run bench:cold-start\` (\`-- --quick\` for ${5} cold starts, \`--samples=N\`, \`--new-samples=N\`, \`--settle=MS\`, \`--max-noise=P\`, \`--no-write\`).
`;
}

/** What the numbers say, derived from them. */
function analysis(r: Result, s: Summary): string {
  const p = phasesOf(r.cold);
  const podApp = pct(p.podApp, 50);
  const podQp = pct(p.podQp, 50);
  const aloneQp = pct(r.app.map((a) => a.queueProxy), 50);
  const tail = pct(p.ready, 50) + pct(p.serve, 50);
  const out: string[] = [];
  out.push(
    `**Reading.** Of the ${ms(s.overP50)} p50 overhead: the scale order comes ${ms(pct(p.scaled, 50))} after the request; the pod's app and queue-proxy then start side by side, and the pod can serve only once both listen, so the slower one sets the pace. Inside the pod the app listens after ${ms(podApp)} (${ms(s.appP50)} alone: the two processes and the runtime share ${availableParallelism()} cores) and the queue-proxy after ${ms(podQp)} (${ms(aloneQp)} alone).`,
  );
  if (podQp > podApp) {
    out.push(`The queue-proxy's start is the critical path: it listens ${ms(podQp - podApp)} after the app (p50), ${ms(podQp + pct(p.scaled, 50) - s.appP50)} after the app alone would have.`);
  }
  out.push(`After both listen, readiness and the first proxied response take ${ms(tail)} more (kubelet probe ${ms(pct(p.ready, 50))}, then the activator's probe of the pod and the proxied request ${ms(pct(p.serve, 50))}).`);
  const cached = pct(r.app.map((a) => a.queueProxyCached), 50);
  out.push(
    `A queue-proxy alone starts in ${ms(aloneQp)} as the runtime runs it (on every start Node loads its TypeScript stripper and strips the types of ${'~'}30 \`.ts\` modules) and in ${ms(cached)} with a warm \`NODE_COMPILE_CACHE\` (${ms(aloneQp - cached)} less), still ${ms(cached - s.appP50)} slower than the app.`,
  );
  // With the queue-proxy off the critical path (already listening when the pod is ordered), the
  // app would start uncontended and the readiness probe would wait half its 25 ms period on average.
  const offPath = pct(p.scaled, 50) + 12.5 + pct(p.ready, 50) + pct(p.serve, 50);
  out.push(
    `Were the queue-proxy already listening when the replica is ordered (e.g. one spare queue-proxy process kept started), and the app then started as fast as alone, the overhead would come to about ${ms(offPath)}: the scale order, half the 25 ms readiness period on average, the probe, and the activator's probe and proxy.`,
  );
  return out.join(' ');
}

// ---------------------------------------------------------------------------------------------

async function closeServe(s: RunningServe): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), 30_000)));
  const done = await Promise.race([s.close().then(() => 'closed' as const), timeout]);
  clearTimeout(timer);
  if (done === 'timeout') {
    process.stderr.write('serve did not close in 30 s; killing its pods\n');
    s.controlPlane.cluster.kill();
  }
}

async function main(): Promise<void> {
  if (!process.features.typescript) process.stderr.write('warning: this Node cannot run .ts files; use `npm run bench:cold-start` (Node 24)\n');
  const startedAt = new Date();
  process.stdout.write(`cold-start benchmark: ${samples} cold starts, app starts and queue-proxy starts (after one warm-up round), then ${newSamples} first requests to revisions created at zero\n`);
  const load = loadavg()[0] ?? 0;
  const startNoise = await waitQuiet(120_000, true);
  const t0 = now();
  const dir = await mkdtemp(join(tmpdir(), 'knts-bench-cold-'));
  // Outside the served folder (the runtime watches that one).
  compileCacheDir = await mkdtemp(join(tmpdir(), 'knts-bench-cold-cache-'));
  await writeFile(join(dir, 'config.yaml'), CONFIG);
  const coldIds = Array.from({ length: samples + 1 }, (_, i) => i);
  const newIds = Array.from({ length: newSamples }, (_, i) => i + 1);
  const docs = [...coldIds.map((i) => serviceYaml('cold', i)), ...newIds.map((i) => serviceYaml('new', i))];
  await writeFile(join(dir, 'services.yaml'), docs.join('---\n'));

  const errors: string[] = [];
  const s = await startServe({
    dir,
    port: 0,
    adminPort: 0,
    host: '127.0.0.1',
    stdout: lineSink(onPodLog),
    stderr: lineSink((l) => errors.push(l)),
    log: lineSink(onRuntimeLog),
  });
  const cluster = s.controlPlane.cluster;
  const unsubscribe = cluster.revisions.subscribe((key) => {
    const w = watching;
    if (w !== undefined && key === w.key && w.podReady === undefined && (cluster.status(key)?.ready ?? 0) > 0) w.podReady = now();
  });
  const cold: ColdSample[] = [];
  const app: AppSample[] = [];
  const fresh: ColdSample[] = [];
  const noisy: { c: ColdSample; a: AppSample }[] = [];
  let remeasured = 0;
  let setupSeconds = 0;
  try {
    // The cold-NN revisions start one pod each, which scales away unused (6 s stable window,
    // 1 s grace, 1 s drain); then each is at zero with a latest decision of 0, as a revision that
    // has gone idle. The new-NN revisions never run a pod before their first request.
    const routed = (kind: Kind, i: number): boolean => s.status().services.some((x) => x.name === serviceName(kind, i) && x.traffic.some((t) => t.revision === revisionName(kind, i)));
    const idle = (i: number): boolean => atZero(s, revisionKey('cold', i)) && s.controlPlane.decisions.get(revisionKey('cold', i))?.desiredPodCount === 0;
    process.stdout.write(`  waiting for ${coldIds.length} revisions to start a pod and scale to zero…\n`);
    await until(() => coldIds.every((i) => routed('cold', i)) && newIds.every((i) => routed('new', i)), 60_000, `every service to be routed (errors: ${errors.join('; ')})`);
    await until(() => coldIds.every(idle), 90_000, 'every cold-NN revision to scale to zero');
    setupSeconds = (now() - t0) / 1000;
    process.stdout.write(`  all at zero after ${setupSeconds.toFixed(1)} s\n`);

    // One round: the app alone, a queue-proxy alone, then a cold start of revision i.
    const round = async (i: number): Promise<{ c: ColdSample; a: AppSample }> => {
      await waitQuiet(10_000, false);
      const win = otherCpu();
      const a = await appStart(i);
      await sleep(settleMs);
      const c = { ...(await coldStart(s, 'cold', i)), otherCpu: win.stop() };
      return { c, a };
    };
    const lastUsed = new Map<number, number>();
    let next = 0;
    // Beyond the first pass, a noisy round is measured again on a revision that is back at zero.
    const pick = async (): Promise<number> => {
      if (next < coldIds.length) return next++;
      await until(() => coldIds.some(idle), 30_000, 'a revision back at zero');
      return coldIds.filter(idle).sort((x, y) => (lastUsed.get(x) ?? 0) - (lastUsed.get(y) ?? 0))[0] ?? 0;
    };
    const maxRounds = coldIds.length + Math.ceil(samples / 2);
    for (let rounds = 0; cold.length < samples && rounds < maxRounds; rounds++) {
      const i = await pick();
      const { c, a } = await round(i);
      lastUsed.set(i, now());
      const warmUp = rounds === 0;
      const tooBusy = !warmUp && c.otherCpu > maxNoise;
      process.stdout.write(`  ${warmUp ? 'warm-up' : `#${cold.length + 1}`} (${c.service}): app alone ${ms(a.listening)}, queue-proxy alone ${ms(a.queueProxy)} (compile cache ${ms(a.queueProxyCached)}); ${describe(c)}${tooBusy ? ' — too busy, measuring again' : ''}\n`);
      if (warmUp) continue;
      if (tooBusy) {
        noisy.push({ c, a });
        remeasured++;
      }
      else {
        app.push(a);
        cold.push(c);
      }
    }
    // Out of rounds: keep the quietest of the noisy ones.
    noisy.sort((x, y) => x.c.otherCpu - y.c.otherCpu);
    while (cold.length < samples && noisy.length > 0) {
      const { c, a } = noisy.shift() as { c: ColdSample; a: AppSample };
      cold.push(c);
      app.push(a);
      remeasured--;
    }
    for (const i of newIds) {
      await waitQuiet(10_000, false);
      const win = otherCpu();
      const c = { ...(await coldStart(s, 'new', i)), otherCpu: win.stop() };
      process.stdout.write(`  created at zero #${i}: ${describe(c)}\n`);
      fresh.push(c);
    }
  } finally {
    watching = undefined;
    unsubscribe();
    await closeServe(s);
    await rm(dir, { recursive: true, force: true });
    await rm(compileCacheDir, { recursive: true, force: true });
  }

  const result: Result = { cold, app, fresh, discarded: remeasured, startedAt, seconds: (now() - t0) / 1000, setupSeconds, load, startNoise };
  const md = report(result);
  const sum = summarize(result);
  if (flags['no-write']) {
    process.stdout.write(`\n${md}`);
  } else {
    const file = join(BENCH_DIR, 'RESULTS.md');
    writeSection(file, 'Cold start', md);
    process.stdout.write(`\nwrote the "## Cold start" section of ${relative(process.cwd(), file) || file}\n`);
  }
  process.stdout.write(`cold start p50 ${ms(sum.coldP50)} / p99 ${ms(sum.coldP99)}; app start p50 ${ms(sum.appP50)} / p99 ${ms(sum.appP99)}; overhead p50 ${ms(sum.overP50)} / p99 ${ms(sum.overP99)} (goal p50 < ${GOAL_MS} ms)\n`);
}

function describe(c: ColdSample): string {
  const st = Object.entries(c.serverTiming).map(([k, v]) => `${k.replace('activator-', '')} ${ms(v)}`).join(', ');
  return `cold start ${ms(c.total)} (scale ordered ${ms(c.scaled ?? NaN)}, app listening ${ms(c.appListening ?? NaN)}, queue-proxy listening ${ms(c.qpListening ?? NaN)}, ready ${ms(c.podReady ?? NaN)}; ${st}; other CPU ${c.otherCpu.toFixed(0)}%)`;
}

await main();
process.exit(process.exitCode ?? 0);
