// `npm run bench:activator`: the activator benchmark. In one run, with the real activator in a
// child process of its own (bench/activator-child.ts) and simulated pods in another
// (bench/activator-pod.ts):
//   1. throughput and p50/p99 latency direct to a pod, through the activator to a warm pod
//      (cc=0), and through the activator and a real queue-proxy child in front of the pod, as
//      ratios of direct, with the activator's (and queue-proxy's) CPU per request and peak RSS;
//   2. the activator's RSS with 10,000 requests queued for a revision without pods (a fresh
//      activator), then the time for all of them to be answered once a pod turns up;
//   3. the time from a pod turning ready to the first queued request reaching it, repeated:
//      once as Kubernetes listing it ready, once as its probe starting to pass.
// Writes the "## Activator" section of bench/RESULTS.md. Flags: see USAGE or bench/README.md.
import { execFileSync } from 'node:child_process';
import { request, type IncomingMessage } from 'node:http';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer } from 'ws';
import { clock, command } from './child-protocol.ts';
import { benchFlags, LOAD_FLAGS, loadSettings, MAX_NOISE_FLAG, TOOL_USAGE } from './cli-flags.ts';
import { BENCH_DIR, LATENCY_SOURCE, choosePinning, cpuMicros, fmtMB, fmtMicros, fmtMs as ms, fmtRps, foreignCpu, guardChildren, machine, pct, ranBy, runLoad, sampleRss, spawnNode, startQueueProxy as startQueueProxyChild, statusBytes, waitQuiet, writeResults } from './harness.ts';
import type { Child, LoadHeaders, LoadResult, Pinning } from './harness.ts';

const USAGE = `usage: npm run bench:activator -- [flags]
  --quick              2 s cells after a 1 s warm-up, 2,000 queued requests, 3 repetitions of the
                       ready tests (default: 5 s cells after 1 s, 10,000 queued, 10 repetitions)
  --duration=S         seconds per throughput cell      --warmup=S   seconds of warm-up per cell
  --queued=N           requests to queue for the RSS test (the activator sheds past 10,000 per revision)
  --queue-cc=N         containerConcurrency of the queued revision (default 100; see bench/README.md)
  --reps=N             repetitions of each pod-ready test
${TOOL_USAGE}
  --node-args="..."    extra node/V8 flags for the activator (recorded in RESULTS.md)
  --max-noise=P        retry a cell once when other processes used more than P% of a core (default 20)`;

const flags = benchFlags(USAGE, {
  quick: { type: 'boolean', default: false },
  duration: { type: 'string' },
  warmup: { type: 'string' },
  queued: { type: 'string' },
  'queue-cc': { type: 'string', default: '100' },
  reps: { type: 'string' },
  ...MAX_NOISE_FLAG,
  ...LOAD_FLAGS,
});

const CONNECTIONS = [50, 1] as const;
const durationS = Number(flags.duration ?? (flags.quick ? 2 : 5));
const warmupS = Number(flags.warmup ?? 1);
const queuedN = Number(flags.queued ?? (flags.quick ? 2000 : 10_000));
const queueCc = Number(flags['queue-cc']);
const reps = Number(flags.reps ?? (flags.quick ? 3 : 10));
const maxNoise = Number(flags['max-noise']);
const { tool, nodeArgs: activatorNodeArgs } = loadSettings(flags);
const cores = availableParallelism();
const pin: Pinning = choosePinning(cores);
const pinNote = pin.proxy === undefined ? pin.note : 'activator (and the queue-proxy of the third target) on core 1 (`taskset -c 1`); load generator and pods on core 0';

/** The open-files limit the children inherit (`ulimit -n`), for the report. */
const FD_LIMIT = ((): string => {
  try {
    return execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
})();
/** Queued requests per pod-ready repetition. */
const READY_BURST = 10;
const NAMESPACE = 'bench';
const revHeaders = (name: string): LoadHeaders => ({ 'Knative-Serving-Namespace': NAMESPACE, 'Knative-Serving-Revision': name });

guardChildren();

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// Processes

interface ActivatorStats {
  readonly queued: number;
  readonly shed: number;
  readonly open: number;
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
  readonly arrayBuffers: number;
}

interface PodTimes {
  readonly probeAt: number;
  readonly requestAt: number;
  readonly passingSince: number;
  readonly requests: number;
  readonly probes: number;
}

/** A stand-in autoscaler: accepts the activator's stat websocket and counts its messages. */
async function startFakeAutoscaler(): Promise<{ url: string; messages: () => number; close(): void }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  let messages = 0;
  wss.on('connection', (ws) => ws.on('message', () => messages++));
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const addr = wss.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  return {
    url: `ws://127.0.0.1:${port}`,
    messages: () => messages,
    close() {
      for (const c of wss.clients) c.terminate();
      wss.close();
    },
  };
}

async function startPods(): Promise<Child & { port: number }> {
  const child = spawnNode(join(BENCH_DIR, 'activator-pod.ts'), [], { cpu: pin.load });
  const line = await child.waitForLine((l) => l.startsWith('KNTS_READY '));
  return Object.assign(child, { port: Number(line.split(' ')[1]) });
}

type Activator = Child & { readonly port: number; readonly metricsPort: number };

async function startActivatorChild(autoscalerUrl: string): Promise<Activator> {
  const child = spawnNode(join(BENCH_DIR, 'activator-child.ts'), [autoscalerUrl], { cpu: pin.proxy, nodeArgs: activatorNodeArgs });
  const line = await child.waitForLine((l) => l.startsWith('KNTS_READY '), 30_000);
  const ports = JSON.parse(line.slice('KNTS_READY '.length)) as { http: number; metrics: number };
  return Object.assign(child, { port: ports.http, metricsPort: ports.metrics });
}

/** The real queue-proxy (cc=0) in front of `userPort`, as bench/queue-proxy.ts starts it, on the activator's core. */
function startQueueProxy(userPort: number): Promise<Child & { port: number }> {
  return startQueueProxyChild({ userPort, containerConcurrency: 0, revision: 'via-qp', cpu: pin.proxy });
}

interface Reply {
  readonly status: number;
  readonly body: string;
  /** Parent clock (timeOrigin + now) when the response ended. */
  readonly at: number;
}

/** One request on a connection of its own (as many distinct clients would). Never rejects. */
function send(port: number, headers: LoadHeaders, onConnect?: () => void, path = '/'): Promise<Reply | Error> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, headers, agent: false }, (res: IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, at: clock() }));
      res.on('error', (err) => resolve(err));
    });
    req.on('error', (err) => {
      onConnect?.();
      resolve(err);
    });
    if (onConnect) req.on('socket', (s) => (s.connecting ? s.once('connect', onConnect) : onConnect()));
    req.end();
  });
}

async function sanityCheck(port: number, headers: LoadHeaders, what: string): Promise<void> {
  for (let i = 0; ; i++) {
    const r = await send(port, headers);
    if (!(r instanceof Error) && r.status === 200 && r.body === 'ok') return;
    if (i >= 50) throw new Error(`${what}: ${r instanceof Error ? r.message : `${r.status} ${JSON.stringify(r.body.slice(0, 200))}`}`);
    await sleep(100);
  }
}

/** The activator's kn_revision_request_queued gauge for bench/<name>, scraped from /metrics. */
async function scrapeQueued(act: Activator, name: string): Promise<number> {
  const r = await send(act.metricsPort, {}, undefined, '/metrics');
  if (r instanceof Error || r.status !== 200) throw new Error(`scraping /metrics: ${r instanceof Error ? r.message : r.status}`);
  for (const l of r.body.split('\n')) {
    if (l.startsWith('kn_revision_request_queued{') && l.includes(`revision_name="${name}"`)) return Number(l.slice(l.lastIndexOf(' ') + 1));
  }
  return NaN;
}

/** Polls the activator until `cond(stats)` holds. */
async function waitStats(act: Child, cond: (s: ActivatorStats) => boolean, timeoutMs: number, what: string): Promise<ActivatorStats> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const s = await command<ActivatorStats>(act, 'stats');
    if (cond(s)) return s;
    if (performance.now() > end) throw new Error(`${what}: timed out (${JSON.stringify(s)})`);
    await sleep(5);
  }
}

// ---------------------------------------------------------------------------------------------
// 1. Throughput and latency

interface Cell extends LoadResult {
  readonly target: string;
  readonly label: string;
  readonly connections: number;
  /** µs of CPU per request: the activator's (the pod's for direct), and the queue-proxy's. */
  readonly actCpu: number;
  readonly qpCpu: number | undefined;
  readonly peakRss: number;
  /** % of one core used by processes outside the benchmark. */
  readonly noise: number;
}

interface Target {
  readonly id: string;
  readonly label: string;
  readonly port: number;
  readonly headers: LoadHeaders;
  /** The process whose CPU and RSS are reported (the pod for direct). */
  readonly main: number;
  readonly qp: number | undefined;
}

async function measureOnce(t: Target, connections: number, others: readonly number[]): Promise<Cell> {
  const cpu0 = cpuMicros(t.main);
  const qp0 = t.qp === undefined ? 0 : cpuMicros(t.qp);
  const rss = sampleRss(t.main);
  const foreign = foreignCpu([t.main, ...(t.qp === undefined ? [] : [t.qp]), ...others]);
  const res = await runLoad(tool, `http://127.0.0.1:${t.port}/`, connections, durationS, pin.load, t.headers);
  const noise = foreign.stop(res.loadGenCpu) / (res.seconds * 1e4);
  const perReq = (us: number): number => (res.requests > 0 ? us / res.requests : NaN);
  return {
    ...res,
    target: t.id,
    label: t.label,
    connections,
    actCpu: perReq(cpuMicros(t.main) - cpu0),
    qpCpu: t.qp === undefined ? undefined : perReq(cpuMicros(t.qp) - qp0),
    peakRss: rss.stop(),
    noise,
  };
}

async function measure(t: Target, connections: number, others: readonly number[]): Promise<Cell> {
  if (warmupS > 0) await runLoad(tool, `http://127.0.0.1:${t.port}/`, connections, warmupS, pin.load, t.headers);
  let cell = await measureOnce(t, connections, others);
  if (cell.noise > maxNoise) {
    process.stdout.write(`  (${t.id} c=${connections}: other processes used ${cell.noise.toFixed(0)}% of a core; retrying)\n`);
    await waitQuiet([t.main, ...others], maxNoise, 10);
    cell = await measureOnce(t, connections, others);
  }
  const qp = cell.qpCpu === undefined ? '' : `  qp ${cell.qpCpu.toFixed(1)} µs/req`;
  const errs = cell.errors + cell.non2xx > 0 ? `  errors ${cell.errors} non-2xx ${cell.non2xx}` : '';
  process.stdout.write(
    `  ${t.id.padEnd(14)} c=${String(connections).padEnd(3)} ${fmtRps(cell.rps).padStart(7)} req/s  p50 ${fmtMicros(cell.p50).padStart(8)}  p99 ${fmtMicros(cell.p99).padStart(8)}  cpu ${cell.actCpu.toFixed(1)} µs/req${qp}  rss ${fmtMB(cell.peakRss)}${errs}\n`,
  );
  return cell;
}

// ---------------------------------------------------------------------------------------------
// 3. Pod ready → first request

interface ReadySample {
  /** ms from the change to the activator's first probe reaching the pod (endpoints variant). */
  readonly toProbe: number | undefined;
  /** ms from the change to the first queued request reaching the pod. */
  readonly toRequest: number;
  /** ms from the change to the last of the burst answered (parent clock). */
  readonly toAllAnswered: number;
  /** Probes the pod answered. */
  readonly probes: number;
}

/** Sends READY_BURST requests for `name` and waits until the activator has queued them all. */
async function queueBurst(act: Activator, name: string): Promise<{ replies: Promise<(Reply | Error)[]> }> {
  const before = (await command<ActivatorStats>(act, 'stats')).queued;
  const replies = Promise.all(Array.from({ length: READY_BURST }, () => send(act.port, revHeaders(name))));
  await waitStats(act, (s) => s.queued >= before + READY_BURST, 10_000, `queueing ${READY_BURST} requests for ${name}`);
  // Wrapped: an async function returning the promise itself would wait for the replies.
  return { replies };
}

function checkBurst(replies: readonly (Reply | Error)[], what: string): number {
  let last = 0;
  for (const r of replies) {
    if (r instanceof Error) throw new Error(`${what}: ${r.message}`);
    if (r.status !== 200) throw new Error(`${what}: ${r.status} ${r.body.slice(0, 200)}`);
    last = Math.max(last, r.at);
  }
  return last;
}

/** Kubernetes lists a new pod as ready: endpoints change → probe → queued requests released. */
async function readyByEndpoints(act: Activator, pods: Child): Promise<ReadySample> {
  const { port } = await command<{ port: number }>(pods, 'listen 200');
  const pending = await queueBurst(act, 'cold');
  const { at } = await command<{ at: number }>(act, `endpoints cold 127.0.0.1:${port} -`);
  const last = checkBurst(await pending.replies, 'endpoints ready');
  const t = await command<PodTimes>(pods, `times ${port}`);
  await command(act, 'endpoints cold - -');
  await command(pods, `close ${port}`);
  return { toProbe: t.probeAt - at, toRequest: t.requestAt - at, toAllAnswered: last - at, probes: t.probes };
}

/** A pod listed not ready whose probe starts passing: the activator's re-probe finds it. */
async function readyByProbe(act: Activator, pods: Child): Promise<ReadySample> {
  const { port } = await command<{ port: number }>(pods, 'listen 503');
  const pending = await queueBurst(act, 'probed');
  await command(act, `endpoints probed - 127.0.0.1:${port}`);
  // Let a probe fail first, then switch at a random point of the re-probe period (200 ms).
  const end = performance.now() + 5000;
  while ((await command<PodTimes>(pods, `times ${port}`)).probeAt === 0) {
    if (performance.now() > end) throw new Error('the activator never probed the not-ready pod');
    await sleep(2);
  }
  await sleep(Math.random() * 200);
  const { at } = await command<{ at: number }>(pods, `probe ${port} 200`);
  const last = checkBurst(await pending.replies, 'probe passing');
  const t = await command<PodTimes>(pods, `times ${port}`);
  await command(act, 'endpoints probed - -');
  await command(pods, `close ${port}`);
  return { toProbe: undefined, toRequest: t.requestAt - at, toAllAnswered: last - at, probes: t.probes };
}

/**
 * How far the activator's and the pods' clocks (timeOrigin + now) disagree, from round trips
 * through the parent: the best of 8 pings each; bound = half of both round trips.
 */
async function clockCheck(a: Child, b: Child): Promise<{ offsetMs: number; boundMs: number }> {
  const offset = async (c: Child): Promise<{ off: number; rtt: number }> => {
    let best = { off: 0, rtt: Infinity };
    for (let i = 0; i < 8; i++) {
      const t0 = clock();
      const { now } = await command<{ now: number }>(c, 'clock');
      const t1 = clock();
      if (t1 - t0 < best.rtt) best = { off: now - (t0 + t1) / 2, rtt: t1 - t0 };
    }
    return best;
  };
  const x = await offset(a);
  const y = await offset(b);
  return { offsetMs: x.off - y.off, boundMs: (x.rtt + y.rtt) / 2 };
}

// ---------------------------------------------------------------------------------------------
// 2. Queued requests and RSS

interface QueueResult {
  readonly n: number;
  readonly idle: ActivatorStats;
  readonly idleRss: number;
  readonly queued: ActivatorStats;
  readonly queuedRss: number;
  /** kn_revision_request_queued as scraped while all were queued. */
  readonly gauge: number;
  readonly queueSeconds: number;
  readonly peakRss: number;
  readonly drainMs: number;
  readonly firstMs: number;
  readonly ok: number;
  readonly failed: number;
  readonly failures: string[];
  readonly after: ActivatorStats;
  readonly afterRss: number;
}

async function queueTest(act: Activator, podPort: number): Promise<QueueResult> {
  await command(act, `rev queued ${queueCc} 600`);
  await sleep(1000);
  const idle = await command<ActivatorStats>(act, 'stats');
  const idleRss = statusBytes(act.pid, 'VmRSS');
  const peak = sampleRss(act.pid);
  const t0 = performance.now();
  const replies: Promise<Reply | Error>[] = [];
  // Batches of 500 connections, each waiting for the previous one to connect: the listen backlog
  // is 511, and beyond it SYNs are dropped and retried after 1 s, 3 s… (that would time the
  // kernel's retransmits, not the activator).
  const BATCH = 500;
  for (let i = 0; i < queuedN; i += BATCH) {
    const connected: Promise<void>[] = [];
    for (let j = i; j < Math.min(queuedN, i + BATCH); j++) {
      connected.push(new Promise<void>((resolve) => replies.push(send(act.port, revHeaders('queued'), resolve))));
    }
    await Promise.all(connected);
  }
  const queued = await waitStats(act, (s) => s.queued >= queuedN || s.shed > 0, 120_000, `queueing ${queuedN} requests`);
  const queueSeconds = (performance.now() - t0) / 1000;
  if (queued.shed > 0) process.stdout.write(`  (the activator shed ${queued.shed} requests while queueing)\n`);
  await sleep(500);
  const queuedRss = statusBytes(act.pid, 'VmRSS');
  const queuedStats = await command<ActivatorStats>(act, 'stats');
  const gauge = await scrapeQueued(act, 'queued');
  process.stdout.write(`  ${queued.queued} queued in ${queueSeconds.toFixed(1)} s; RSS ${fmtMB(idleRss)} idle → ${fmtMB(queuedRss)} queued\n`);
  const start = clock();
  await command(act, `endpoints queued 127.0.0.1:${podPort} -`);
  const all = await Promise.all(replies);
  let ok = 0;
  let first = Infinity;
  let last = 0;
  const failures = new Map<string, number>();
  for (const r of all) {
    if (!(r instanceof Error) && r.status === 200 && r.body === 'ok') {
      ok++;
      first = Math.min(first, r.at);
      last = Math.max(last, r.at);
    } else {
      const key = r instanceof Error ? r.message : `${r.status} ${r.body.trim().slice(0, 80)}`;
      failures.set(key, (failures.get(key) ?? 0) + 1);
    }
  }
  const peakRss = peak.stop();
  const after = await command<ActivatorStats>(act, 'stats');
  return {
    n: queuedN,
    idle,
    idleRss,
    queued: queuedStats,
    queuedRss,
    gauge,
    queueSeconds,
    peakRss,
    drainMs: last - start,
    firstMs: first - start,
    ok,
    failed: all.length - ok,
    failures: [...failures].map(([k, v]) => `${v}× ${k}`),
    after,
    afterRss: statusBytes(act.pid, 'VmRSS'),
  };
}

// ---------------------------------------------------------------------------------------------
// Report

function throughputTable(cells: readonly Cell[]): string {
  const head =
    '| target | conns | req/s | × direct | p50 | p99 | activator CPU / req | queue-proxy CPU / req | activator peak RSS | errors | other CPU |\n|---|---|---|---|---|---|---|---|---|---|---|';
  const rows = cells.map((c) => {
    const direct = cells.find((d) => d.target === 'direct' && d.connections === c.connections);
    const ratio = direct && c !== direct ? `${(c.rps / direct.rps).toFixed(2)}×` : '1.00×';
    const isDirect = c.target === 'direct';
    const errs = c.errors + c.non2xx > 0 ? `${c.errors} / ${c.non2xx} non-2xx` : '0';
    return `| ${[
      c.label,
      c.connections,
      fmtRps(c.rps),
      ratio,
      fmtMicros(c.p50),
      fmtMicros(c.p99),
      `${c.actCpu.toFixed(1)} µs${isDirect ? ' ¹' : ''}`,
      c.qpCpu === undefined ? '—' : `${c.qpCpu.toFixed(1)} µs`,
      `${fmtMB(c.peakRss)}${isDirect ? ' ¹' : ''}`,
      errs,
      `${c.noise.toFixed(0)}%`,
    ].join(' | ')} |`;
  });
  return `${head}\n${rows.join('\n')}`;
}

function queueTable(q: QueueResult): string {
  const perReq = (q.queuedRss - q.idleRss) / q.n;
  const heapPerReq = (q.queued.heapUsed - q.idle.heapUsed) / q.n;
  const n = q.n.toLocaleString('en-US');
  const rows: [string, string][] = [
    ['activator RSS, idle (fresh process, the revision known, no requests)', fmtMB(q.idleRss)],
    [`RSS with ${n} requests queued`, `**${fmtMB(q.queuedRss)}** (+${(perReq / 1024).toFixed(1)} KB per queued request)`],
    ['V8 heap used, idle → queued', `${fmtMB(q.idle.heapUsed)} → ${fmtMB(q.queued.heapUsed)} (+${(heapPerReq / 1024).toFixed(1)} KB per request)`],
    ['peak RSS during the test (VmRSS every 50 ms) / RSS after the drain', `${fmtMB(q.peakRss)} / ${fmtMB(q.afterRss)}`],
    [`time to open and queue all ${n} (batches of 500 connections)`, `${q.queueSeconds.toFixed(1)} s`],
    ['`kn_revision_request_queued` scraped from the activator’s /metrics meanwhile', String(q.gauge)],
    ['pod listed ready → first response', ms(q.firstMs)],
    [`pod listed ready → all ${n} answered (drain)`, `**${ms(q.drainMs)}** (${fmtRps(q.ok / (q.drainMs / 1000))} req/s)`],
    ['answered 200 `ok` / failed', `${q.ok.toLocaleString('en-US')} / ${q.failed}${q.failures.length > 0 ? ` (${q.failures.slice(0, 3).join('; ')})` : ''}`],
  ];
  return `| ${n} queued requests, one revision, containerConcurrency ${queueCc} | measured |\n|---|---|\n${rows.map(([k, v]) => `| ${k} | ${v} |`).join('\n')}`;
}

function readyTable(byEndpoints: readonly ReadySample[], byProbe: readonly ReadySample[]): string {
  const row = (label: string, xs: readonly number[]): string => `| ${label} | ${xs.length} | ${ms(pct(xs, 50))} | ${ms(pct(xs, 99))} | ${ms(Math.min(...xs))} |`;
  return `| from → to | reps | p50 | p99 | min |
|---|---|---|---|---|
${row('endpoints list the pod ready → the activator’s probe reaches it', byEndpoints.map((s) => s.toProbe ?? NaN))}
${row('**endpoints list the pod ready → first queued request reaches it**', byEndpoints.map((s) => s.toRequest))}
${row(`endpoints list the pod ready → all ${READY_BURST} queued requests answered`, byEndpoints.map((s) => s.toAllAnswered))}
${row('**pod (listed not ready) starts passing its probe → first queued request reaches it**', byProbe.map((s) => s.toRequest))}

Percentiles are nearest-rank over the repetitions (with ${reps}, p99 is the slowest one; in (a) that is typically the first, when the activator's probe and proxy code paths are still cold).`;
}

function report(cells: readonly Cell[], q: QueueResult, byEndpoints: readonly ReadySample[], byProbe: readonly ReadySample[], clockSkew: { offsetMs: number; boundMs: number }, startedAt: Date): string {
  const flagsNote = activatorNodeArgs.length > 0 ? `\`${activatorNodeArgs.join(' ')}\`` : 'none';
  const at = (conns: number, id: string): Cell | undefined => cells.find((c) => c.target === id && c.connections === conns);
  const direct50 = at(50, 'direct');
  const act50 = at(50, 'activator');
  const qp50 = at(50, 'activator-qp');
  const act1 = at(1, 'activator');
  const direct1 = at(1, 'direct');
  const summary: string[] = [];
  if (direct50 && act50) summary.push(`at 50 connections the activator passes ${fmtRps(act50.rps)} req/s (${(act50.rps / direct50.rps).toFixed(2)}× direct) at ${act50.actCpu.toFixed(1)} µs of its CPU per request`);
  if (direct50 && qp50) summary.push(`with a queue-proxy behind it ${fmtRps(qp50.rps)} req/s (${(qp50.rps / direct50.rps).toFixed(2)}×)`);
  if (direct1 && act1) summary.push(`at 1 connection it adds ${fmtMicros(act1.p50 - direct1.p50)} to p50`);
  const n = q.n.toLocaleString('en-US');
  summary.push(
    `${n} queued requests take the activator from ${fmtMB(q.idleRss)} to ${fmtMB(q.queuedRss)} RSS and all ${q.failed === 0 ? 'succeed' : `but ${q.failed} succeed`}, drained in ${ms(q.drainMs)}`,
    `a pod listed ready gets its first queued request after ${ms(pct(byEndpoints.map((s) => s.toRequest), 50))} (p50)`,
  );
  return `${ranBy('bench:activator', startedAt)}.
Machine: ${machine()}. Pinning: ${pinNote}. Node/V8 flags on the activator: ${flagsNote}.
The activator is the real \`startActivator\` in a child process (bench/activator-child.ts: Knative's default env, probe timeout 300 ms and re-probe every 200 ms, buffering limits 10,000 per revision, pino at warn), fed by a \`StaticBackendSource\` the parent drives over stdin, reporting to a stand-in autoscaler websocket in the parent (\`ws\`, messages counted and dropped). Pods: bench/activator-pod.ts (node:http answering 200 \`ok\`, and \`queue\` to the activator's probe), each on its own loopback port.

**Summary:** ${summary.join('; ')}.

### Throughput and latency

Load generator: **${tool}** (1 thread), ${durationS} s per cell after a ${warmupS} s warm-up. Latency percentiles: ${LATENCY_SOURCE[tool]}. Requests to the activator carry \`Knative-Serving-Namespace\` / \`Knative-Serving-Revision\`; both revisions have containerConcurrency 0 and one ready pod (the throttler then never queues). The queue-proxy is the real \`queue-proxy/main.ts\` (cc=0) in front of the same pod, as a revision's only endpoint; it shares core 1 with the activator, so that row is two proxy hops on one core.

${throughputTable(cells)}

¹ For the direct rows, CPU and RSS are the pod's own. CPU / req is the process's utime+stime (/proc/<pid>/stat) over the cell ÷ requests; peak RSS is VmRSS polled every 50 ms. "other CPU" is what processes outside the benchmark used during the cell, in % of one core (a cell above ${maxNoise}% is retried once).

### Queued requests and RSS

A fresh activator; one revision (containerConcurrency ${queueCc}, timeout 600 s) with no pods. The parent opens ${n} concurrent HTTP/1.1 requests for it, one connection each, and waits until the activator counts all of them as queued (its buffering counter, read over the command channel; its \`kn_revision_request_queued\` gauge is scraped too); the activator's VmRSS is read from /proc/<pid>/status. Then the parent lists one pod as ready: the activator probes it and releases the queue ${queueCc} at a time (with containerConcurrency 0 it would open one connection to the pod per released request: 10,000 clients plus 10,000 upstream sockets in one process exceed this machine's \`ulimit -n\` of ${FD_LIMIT}).

${queueTable(q)}

### Pod ready → first queued request

${reps} repetitions of each: ${READY_BURST} requests are queued for a revision (containerConcurrency 0) with no ready pod, then a new pod (a new port, no pooled connection) turns ready, either (a) as the endpoints listing it ready (the activator then probes it and, once the probe answers \`queue\`, releases the queue), or (b) as the pod, already listed not ready and failing the activator's probe, starting to pass it at a random moment (the activator re-probes every 200 ms, so (b) spreads over 0–200 ms). The start is stamped in the activator's process (a) or the pod's (b), the first non-probe request's arrival in the pod's, all as \`performance.timeOrigin + performance.now()\`; the two processes' clocks differed by ${clockSkew.offsetMs.toFixed(3)} ms ± ${clockSkew.boundMs.toFixed(3)} ms (measured by round trips through the parent).

${readyTable(byEndpoints, byProbe)}
`;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  if (!process.features.typescript) process.stderr.write('warning: this Node cannot run .ts files; use `npm run bench:activator` (Node 24)\n');
  const startedAt = new Date();
  process.stdout.write(
    `activator benchmark: 3 targets × ${CONNECTIONS.length} connection counts × (${warmupS} s + ${durationS} s), ${queuedN} queued requests, ${reps}×2 pod-ready repetitions; load: ${tool}; ${pinNote}\n`,
  );
  const autoscaler = await startFakeAutoscaler();
  const pods = await startPods();
  const qp = await startQueueProxy(pods.port);
  let act = await startActivatorChild(autoscaler.url);

  await command(act, 'rev warm 0 300');
  await command(act, `endpoints warm 127.0.0.1:${pods.port} -`);
  await command(act, 'rev via-qp 0 300');
  await command(act, `endpoints via-qp 127.0.0.1:${qp.port} -`);
  await sanityCheck(pods.port, {}, 'direct to the pod');
  await sanityCheck(act.port, revHeaders('warm'), 'activator → pod');
  await sanityCheck(act.port, revHeaders('via-qp'), 'activator → queue-proxy → pod');

  process.stdout.write('throughput and latency:\n');
  await waitQuiet([pods.pid, act.pid, qp.pid], maxNoise);
  const targets: Target[] = [
    { id: 'direct', label: 'direct to the pod', port: pods.port, headers: {}, main: pods.pid, qp: undefined },
    { id: 'activator', label: '**activator → pod** (cc=0, warm)', port: act.port, headers: revHeaders('warm'), main: act.pid, qp: undefined },
    { id: 'activator-qp', label: '**activator → queue-proxy → pod**', port: act.port, headers: revHeaders('via-qp'), main: act.pid, qp: qp.pid },
  ];
  const cells: Cell[] = [];
  for (const conns of CONNECTIONS) {
    for (const t of targets) cells.push(await measure(t, conns, [pods.pid, act.pid, qp.pid]));
  }
  qp.kill();

  process.stdout.write(`pod ready → first queued request (${reps} repetitions each):\n`);
  await command(act, 'rev cold 0 30');
  await command(act, 'rev probed 0 30');
  const clockSkew = await clockCheck(act, pods);
  const byEndpoints: ReadySample[] = [];
  const byProbe: ReadySample[] = [];
  for (let i = 0; i < reps; i++) {
    const a = await readyByEndpoints(act, pods);
    const b = await readyByProbe(act, pods);
    byEndpoints.push(a);
    byProbe.push(b);
    process.stdout.write(`  #${i + 1}: endpoints → probe ${ms(a.toProbe ?? NaN)}, → request ${ms(a.toRequest)}; probe passing → request ${ms(b.toRequest)} (${b.probes} probes)\n`);
  }
  act.kill();

  process.stdout.write(`${queuedN} queued requests (fresh activator):\n`);
  act = await startActivatorChild(autoscaler.url);
  const q = await queueTest(act, pods.port);
  process.stdout.write(`  drained in ${ms(q.drainMs)}: ${q.ok} ok, ${q.failed} failed${q.failures.length > 0 ? ` (${q.failures.join('; ')})` : ''}; peak RSS ${fmtMB(q.peakRss)}\n`);
  act.kill();
  pods.kill();
  autoscaler.close();

  writeResults('Activator', report(cells, q, byEndpoints, byProbe, clockSkew, startedAt), flags['no-write']);
  if (q.failed > 0) process.exitCode = 1;
}

await main();
process.exit(process.exitCode ?? 0);
