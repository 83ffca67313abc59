// `npm run bench:queue-proxy`: the queue-proxy benchmark of issue 3. In one run, against one
// fast fixed-response backend: direct, knts's full queue-proxy at cc=0 and cc=10, and the bare
// upstream-client proxies of upstream-clients.ts, each at 1 and 50 connections. Reports req/s,
// p50/p99, the proxy's CPU time per request and peak RSS, and writes the "## queue-proxy"
// section of bench/RESULTS.md. `--profile` instead records a CPU profile of the queue-proxy under
// load and prints its top self-time functions. Flags: see usage() or bench/README.md.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { get } from 'node:http';
import { availableParallelism, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { benchFlags, LOAD_FLAGS, loadSettings, MAX_NOISE_FLAG, TOOL_USAGE } from './cli-flags.ts';
import { BENCH_DIR, LATENCY_SOURCE, ROOT_DIR, choosePinning, cpuMicros, fmtMB, foreignCpu, fmtMicros, fmtRps, guardChildren, machine, median, ranBy, runLoad, sampleRss, spawnNode, startQueueProxy as startQueueProxyChild, statusBytes, waitQuiet, writeResults } from './harness.ts';
import type { Child, LoadResult, Pinning } from './harness.ts';
import { BARE_PROXIES } from './upstream-clients.ts';

const USAGE = `usage: npm run bench:queue-proxy -- [flags]
  --quick              ~2 s cells after a 1 s warm-up (default: 8 s after 2 s)
  --duration=S         seconds per measured cell        --warmup=S   seconds of warm-up per cell
  --rounds=N           measure each cell N times, report the median round by req/s (default 1)
  --only=a,b           run only these targets (direct always runs), e.g. --only=qp-cc0,knts-upstream; targets:
                       direct, qp-cc0, qp-cc10, ${BARE_PROXIES.map((p) => p.kind).join(', ')}
${TOOL_USAGE}
  --node-args="..."    extra node/V8 flags for the proxies under test (recorded in RESULTS.md)
  --dist               run the compiled queue-proxy (dist/queue-proxy/main.js, built first), as the
                       image does, instead of the type-stripped .ts sources
  --max-noise=P        retry a cell (twice at most) when other processes used more than P% of a
                       core during it (default 20; the machine may be shared)
  --profile            instead: node --cpu-prof the queue-proxy under 50 connections and print the
                       top self-time functions (--profile-cc=N, --profile-seconds=S)`;

const flags = benchFlags(USAGE, {
  quick: { type: 'boolean', default: false },
  duration: { type: 'string' },
  warmup: { type: 'string' },
  rounds: { type: 'string', default: '1' },
  only: { type: 'string' },
  dist: { type: 'boolean', default: false },
  profile: { type: 'boolean', default: false },
  'profile-cc': { type: 'string', default: '0' },
  'profile-seconds': { type: 'string', default: '5' },
  ...MAX_NOISE_FLAG,
  ...LOAD_FLAGS,
});

const CONNECTIONS = [1, 50] as const;
const durationS = Number(flags.duration ?? (flags.quick ? 2 : 8));
const warmupS = Number(flags.warmup ?? (flags.quick ? 1 : 2));
const rounds = Math.max(1, Number(flags.rounds));
const maxNoise = Number(flags['max-noise']);
const { tool, nodeArgs: proxyNodeArgs } = loadSettings(flags);
const cores = availableParallelism();
const pin: Pinning = choosePinning(cores);

guardChildren();
if (flags.dist) execFileSync(process.execPath, [join(ROOT_DIR, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT_DIR, 'tsconfig.build.json')], { stdio: 'inherit' });

// ---------------------------------------------------------------------------------------------
// Processes under test

interface Running {
  readonly url: string;
  /** The process whose CPU and RSS are measured. */
  readonly pid: number;
  stop(): void;
}

interface Target {
  readonly id: string;
  readonly label: string;
  start(backendPort: number): Promise<Running>;
}

async function startBackend(): Promise<Child & { port: number }> {
  const child = spawnNode(join(BENCH_DIR, 'backend.ts'), [], { cpu: pin.load });
  const line = await child.waitForLine((l) => l.startsWith('KNTS_READY '));
  return Object.assign(child, { port: Number(line.split(' ')[1]) });
}

/** The full queue-proxy in front of the backend, on the proxy core; the compiled one with --dist. */
function startQueueProxy(backendPort: number, cc: number, nodeArgs: readonly string[]): Promise<Child & { url: string }> {
  const entry = flags.dist ? join(ROOT_DIR, 'dist', 'queue-proxy', 'main.js') : join(ROOT_DIR, 'queue-proxy', 'main.ts');
  return startQueueProxyChild({ userPort: backendPort, containerConcurrency: cc, revision: 'bench-00001', cpu: pin.proxy, nodeArgs, entry });
}

function queueProxyTarget(cc: number): Target {
  return {
    id: `qp-cc${cc}`,
    label: `**knts queue-proxy, cc=${cc}** (full handler chain)`,
    async start(backendPort) {
      const qp = await startQueueProxy(backendPort, cc, proxyNodeArgs);
      return { url: qp.url, pid: qp.pid, stop: () => qp.kill() };
    },
  };
}

const TARGETS: readonly Target[] = [
  queueProxyTarget(0),
  queueProxyTarget(10),
  ...BARE_PROXIES.map(
    (p): Target => ({
      id: p.kind,
      label: p.label,
      async start(backendPort) {
        const child = spawnNode(join(BENCH_DIR, 'upstream-clients.ts'), [p.kind, String(backendPort)], {
          cpu: pin.proxy,
          // http-proxy uses util._extend, deprecated on Node 22+: keep its warning out of the logs.
          nodeArgs: ['--no-deprecation', ...proxyNodeArgs],
        });
        const line = await child.waitForLine((l) => l.startsWith('KNTS_READY '));
        return { url: `http://127.0.0.1:${line.split(' ')[1]}/`, pid: child.pid, stop: () => child.kill() };
      },
    }),
  ),
];

/** One plain request, so a broken target fails loudly instead of benchmarking error pages. */
function sanityCheck(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = get(url, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => (res.statusCode === 200 && body === 'ok' ? resolve() : reject(new Error(`${url}: ${res.statusCode} ${JSON.stringify(body.slice(0, 200))}`))));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error(`${url}: no answer in 5 s`)));
  });
}

// ---------------------------------------------------------------------------------------------
// Measuring

interface Cell extends LoadResult {
  readonly target: string;
  readonly label: string;
  readonly connections: number;
  /** Microseconds of the measured process's CPU per request. */
  readonly cpuPerReq: number;
  /** Bytes; the highest VmRSS seen during the measured rounds. */
  readonly peakRss: number;
  /** CPU used by processes other than ours during the cell, in % of one core. */
  readonly noise: number;
}

async function measureOnce(target: string, label: string, url: string, pids: { proxy: number; backend: number }, connections: number): Promise<Cell> {
  const pid = pids.proxy;
  const cpu0 = cpuMicros(pid);
  const rss = sampleRss(pid);
  const others = foreignCpu([pids.proxy, pids.backend]);
  const res = await runLoad(tool, url, connections, durationS, pin.load);
  const noise = others.stop(res.loadGenCpu) / (res.seconds * 1e4);
  const cpu1 = cpuMicros(pid);
  const peakRss = rss.stop();
  return { ...res, target, label, connections, cpuPerReq: res.requests > 0 ? (cpu1 - cpu0) / res.requests : NaN, peakRss, noise };
}

async function measure(target: string, label: string, url: string, pids: { proxy: number; backend: number }, connections: number): Promise<Cell> {
  if (warmupS > 0) await runLoad(tool, url, connections, warmupS, pin.load);
  const runs: Cell[] = [];
  for (let r = 0; r < rounds; r++) {
    let cell = await measureOnce(target, label, url, pids, connections);
    for (let retry = 0; retry < 2 && cell.noise > maxNoise; retry++) {
      process.stdout.write(`  (${target} c=${connections}: other processes used ${cell.noise.toFixed(0)}% of a core; retrying)\n`);
      await waitQuiet([pids.proxy, pids.backend], maxNoise);
      cell = await measureOnce(target, label, url, pids, connections);
    }
    runs.push(cell);
  }
  const mid = median(runs.map((c) => c.rps));
  const chosen = runs.reduce((a, b) => (Math.abs(b.rps - mid) < Math.abs(a.rps - mid) ? b : a));
  return { ...chosen, peakRss: Math.max(...runs.map((c) => c.peakRss)) };
}

function logCell(c: Cell): void {
  const errs = (c.errors + c.non2xx > 0 ? `  errors ${c.errors} non-2xx ${c.non2xx}` : '') + (c.noise > 5 ? `  other CPU ${c.noise.toFixed(0)}%` : '');
  process.stdout.write(
    `  ${c.target.padEnd(15)} c=${String(c.connections).padEnd(3)} ${fmtRps(c.rps).padStart(7)} req/s  p50 ${fmtMicros(c.p50).padStart(8)}  p99 ${fmtMicros(c.p99).padStart(8)}  cpu ${c.cpuPerReq.toFixed(1).padStart(6)} µs/req  rss ${fmtMB(c.peakRss)}${errs}\n`,
  );
}

// ---------------------------------------------------------------------------------------------
// Report

const ANCHORS = `Anchors from issue 3 (same machine kind; proxy pinned to one core, nginx \`return 200\` backend and wrk
on the other; medians of two rounds). Their direct figure used nginx, so compare ratios and CPU per request,
not raw req/s:

| at 50 connections | req/s | proxy CPU per request | RSS |
|---|---|---|---|
| direct to backend | 121k | — | 12 MB |
| Knative Go queue-proxy v1.17.2, cc=0 | 14.4k | 69 µs | 29 MB |
| bare Node 20 proxy: node:http server + undici Pool, bodies with \`.pipe()\` | 21.3k | 47 µs | 114 MB |
| bare Node 20 proxy: node:http server + node:http client | 14.5k | 71 µs | 85 MB |
| bare Node 20 proxy: http-proxy + keep-alive agent | 8.1k | 125 µs | 84 MB |

At one connection the Go queue-proxy added about 0.25 ms to p50. Goal for knts's queue-proxy with the full
feature set: at least 1.2× Go's req/s per core (≥ 17.3k), CPU per request ≤ 58 µs, peak RSS under load < 80 MB.`;

function table(cells: readonly Cell[], connections: number): string {
  const direct = cells.find((c) => c.target === 'direct' && c.connections === connections);
  const rows = cells.filter((c) => c.connections === connections);
  const head =
    connections === 1
      ? '| at 1 connection | req/s | × direct | p50 | p50 added | p99 | CPU / req | peak RSS | errors | other CPU |\n|---|---|---|---|---|---|---|---|---|---|'
      : '| at 50 connections | req/s | × direct | p50 | p99 | CPU / req | peak RSS | errors | other CPU |\n|---|---|---|---|---|---|---|---|---|';
  const lines = rows.map((c) => {
    const ratio = direct && c !== direct ? `${(c.rps / direct.rps).toFixed(2)}×` : '1.00×';
    const cpu = `${c.cpuPerReq.toFixed(1)} µs${c.target === 'direct' ? ' ¹' : ''}`;
    const rss = `${fmtMB(c.peakRss)}${c.target === 'direct' ? ' ¹' : ''}`;
    const errs = c.errors + c.non2xx > 0 ? `${c.errors} / ${c.non2xx} non-2xx` : '0';
    const noise = `${c.noise.toFixed(0)}%`;
    const cols =
      connections === 1
        ? [c.label, fmtRps(c.rps), ratio, fmtMicros(c.p50), direct && c !== direct ? `+${fmtMicros(c.p50 - direct.p50)}` : '—', fmtMicros(c.p99), cpu, rss, errs, noise]
        : [c.label, fmtRps(c.rps), ratio, fmtMicros(c.p50), fmtMicros(c.p99), cpu, rss, errs, noise];
    return `| ${cols.join(' | ')} |`;
  });
  return `${head}\n${lines.join('\n')}`;
}

/** The "Choice" paragraph, derived from this run's numbers. */
function choice(cells: readonly Cell[]): string {
  const at50 = cells.filter((c) => c.connections === 50);
  const bare = at50.filter((c) => BARE_PROXIES.some((p) => p.kind === c.target));
  if (bare.length === 0) return 'No bare proxies ran (see --only), so no choice of upstream client is made.';
  const tag = (c: Cell): string => /^\((\S+)\)/.exec(c.label)?.[1] ?? c.target;
  const byCpu = [...bare].sort((a, b) => a.cpuPerReq - b.cpuPerReq);
  const fastest = [...bare].sort((a, b) => b.rps - a.rps)[0] as Cell;
  const cheapest = byCpu[0] as Cell;
  const parts: string[] = [
    `At 50 connections, CPU per request of the bare proxies: ${byCpu.map((c) => `(${tag(c)}) ${c.target} ${c.cpuPerReq.toFixed(1)} µs`).join(' < ')}. Fastest: (${tag(fastest)}) ${fastest.target} at ${fmtRps(fastest.rps)} req/s.`,
  ];
  const ours = bare.find((c) => c.target === 'knts-upstream');
  if (ours) {
    if (cheapest === ours) {
      parts.push('network/proxy.ts (Http1Upstream) is already the cheapest: keep it.');
    } else {
      const saving = 1 - cheapest.cpuPerReq / ours.cpuPerReq;
      parts.push(
        `network/proxy.ts's Http1Upstream costs ${ours.cpuPerReq.toFixed(1)} µs (${fmtRps(ours.rps)} req/s, peak RSS ${fmtMB(ours.peakRss)}); ${cheapest.target} would cut that by ${(saving * 100).toFixed(0)}% (peak RSS ${fmtMB(cheapest.peakRss)}).`,
        saving >= 0.1
          ? `That is more than this benchmark's run-to-run noise (about 10%), so the HTTP/1 hot path should switch to ${cheapest.target}, provided it passes every queue-proxy test (streamed bodies, trailers, upgrades, timeouts, client aborts).`
          : 'That is within this benchmark’s run-to-run noise (about 10%), so the numbers alone do not justify a switch.',
      );
    }
  }
  const qp0 = at50.find((c) => c.target === 'qp-cc0');
  if (qp0) {
    const base = ours ? ` (the handler chain adds ${(qp0.cpuPerReq - ours.cpuPerReq).toFixed(1)} µs over the bare Http1Upstream)` : '';
    const verdict = (ok: boolean): string => (ok ? 'met' : 'not met');
    parts.push(
      `The full queue-proxy at cc=0 costs ${qp0.cpuPerReq.toFixed(1)} µs per request${base}: goal ≤ 58 µs ${verdict(qp0.cpuPerReq <= 58)} (Go: 69 µs); ${fmtRps(qp0.rps)} req/s on its one core: goal ≥ 17.3k ${verdict(qp0.rps >= 17_300)}; peak RSS ${fmtMB(qp0.peakRss)}: goal < 80 MB ${verdict(qp0.peakRss < 80 << 20)}.`,
    );
  }
  return parts.join(' ');
}

function report(cells: readonly Cell[], startedAt: Date): string {
  const flagsNote = proxyNodeArgs.length > 0 ? `\`${proxyNodeArgs.join(' ')}\`` : 'none';
  return `${ranBy('bench:queue-proxy', startedAt)}.
Machine: ${machine()}. Load generator: **${tool}** (1 thread), ${durationS} s per cell after a ${warmupS} s warm-up, ${rounds === 1 ? 'one round' : `median of ${rounds} rounds by req/s`}. Pinning: ${pin.note}.
Backend: bench/backend.ts (node:http answering 200 \`ok\`). Latency percentiles: ${LATENCY_SOURCE[tool]}.
CPU / req is the measured process's utime+stime (all threads, /proc/<pid>/stat) over the cell ÷ requests served; peak RSS is the highest VmRSS polled every 50 ms during the cell. Node/V8 flags on the proxies: ${flagsNote}. Queue-proxy code: ${flags.dist ? "compiled (dist/queue-proxy/main.js, as the image runs it)" : "TypeScript sources run by type stripping"}.

${table(cells, 50)}

${table(cells, 1)}

¹ For the direct rows, CPU and RSS are the backend's own. The proxy rows do not include the backend's CPU.
"other CPU" is what processes outside the benchmark used during the cell, in % of one core (a cell above ${maxNoise}% is retried up to twice).
At 1 connection the proxy sleeps and wakes for every request, so its CPU per request there measures wake-ups on this VM more than the proxy's code; compare CPU per request at 50 connections.

${ANCHORS}

**Choice.** ${choice(cells)}
`;
}

// ---------------------------------------------------------------------------------------------
// Profile mode

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a sampled frame's code lives, for the by-origin summary. */
function origin(url: string, name: string): string {
  if (url.startsWith('node:')) return 'Node internals (node:*)';
  if (url.includes('/node_modules/')) return 'dependencies (node_modules)';
  if (url.startsWith('file://')) return 'knts code';
  if (name === '(garbage collector)') return 'garbage collector';
  return 'native, builtins and (program)';
}

function topSelfTime(profile: CpuProfile, n: number): string {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, { us: number; own: boolean }>();
  const byOrigin = new Map<string, number>();
  let total = 0;
  let idle = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    const f = byId.get(id)?.callFrame;
    if (!f) return;
    total += dt;
    if (f.functionName === '(idle)') {
      idle += dt;
      return;
    }
    const own = f.url.startsWith('file://') && !f.url.includes('/node_modules/');
    const where = f.url ? ` ${f.url.startsWith('file://') ? relative(ROOT_DIR, new URL(f.url).pathname) : f.url}:${f.lineNumber + 1}` : '';
    const key = `${f.functionName || '(anonymous)'}${where}`;
    const entry = self.get(key) ?? { us: 0, own };
    entry.us += dt;
    self.set(key, entry);
    const o = origin(f.url, f.functionName);
    byOrigin.set(o, (byOrigin.get(o) ?? 0) + dt);
  });
  const busy = total - idle;
  const pct = (us: number): string => `${((us / busy) * 100).toFixed(1)}%`;
  const rows = (entries: [string, { us: number }][]): string =>
    entries.map(([k, { us }], i) => `| ${i + 1} | \`${k}\` | ${(us / 1000).toFixed(0)} ms | ${pct(us)} |`).join('\n');
  const sorted = [...self.entries()].sort((a, b) => b[1].us - a[1].us);
  const head = '| # | function (self time) | self | % of busy |\n|---|---|---|---|';
  const origins = [...byOrigin.entries()].sort((a, b) => b[1] - a[1]).map(([o, us]) => `${o} ${pct(us)}`);
  return `Sampled ${(total / 1e6).toFixed(1)} s, busy ${(busy / 1e6).toFixed(1)} s (idle excluded below). Self time by origin: ${origins.join(', ')}.

Top ${n} overall:

${head}
${rows(sorted.slice(0, n))}

Top ${n} in knts's own code:

${head}
${rows(sorted.filter(([, e]) => e.own).slice(0, n))}`;
}

async function profile(): Promise<void> {
  const cc = Number(flags['profile-cc']);
  const seconds = Number(flags['profile-seconds']);
  const dir = mkdtempSync(join(tmpdir(), 'knts-cpuprof-'));
  const backend = await startBackend();
  const qp = await startQueueProxy(backend.port, cc, ['--cpu-prof', '--cpu-prof-dir', dir, ...proxyNodeArgs]);
  await sanityCheck(qp.url);
  process.stdout.write(`profiling queue-proxy cc=${cc} (pid ${qp.pid}) under 50 connections for ${seconds} s with ${tool}…\n`);
  await runLoad(tool, qp.url, 50, 1, pin.load);
  const cpu0 = cpuMicros(qp.pid);
  const res = await runLoad(tool, qp.url, 50, seconds, pin.load);
  const cpu = (cpuMicros(qp.pid) - cpu0) / res.requests;
  process.stdout.write(`${fmtRps(res.rps)} req/s, ${cpu.toFixed(1)} µs CPU/req (profiler on: slower than a plain run)\n`);
  // The profile is written when the process exits normally: SIGTERM drains (quiet period 0 s).
  qp.kill('SIGTERM');
  const timer = setTimeout(() => qp.kill('SIGKILL'), 20_000);
  await qp.exited();
  clearTimeout(timer);
  backend.kill();
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (file === undefined) throw new Error(`no .cpuprofile in ${dir} (did the queue-proxy exit cleanly?)`);
  const path = join(dir, file);
  process.stdout.write(`\n${topSelfTime(JSON.parse(readFileSync(path, 'utf8')) as CpuProfile, 10)}\n\nProfile: ${path} (open in Chrome DevTools › Performance, or VS Code)\n`);
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  if (!process.features.typescript) process.stderr.write('warning: this Node cannot run .ts files; use `npm run bench:queue-proxy` (Node 24)\n');
  if (flags.profile) return profile();
  const only = flags.only?.split(',').map((s) => s.trim());
  const targets = only ? TARGETS.filter((t) => only.includes(t.id)) : TARGETS;
  if (only && targets.length !== only.filter((o) => o !== 'direct').length) {
    throw new Error(`unknown target in --only=${flags.only}\n${USAGE}`);
  }
  const startedAt = new Date();
  const cellCount = (targets.length + 1) * CONNECTIONS.length;
  process.stdout.write(
    `queue-proxy benchmark: ${cellCount} cells × (${warmupS} s warm-up + ${durationS} s × ${rounds}) ≈ ${Math.ceil((cellCount * (warmupS + durationS * rounds)) / 60)} min; load: ${tool}; ${pin.note}\n`,
  );

  const backend = await startBackend();
  await waitQuiet([backend.pid], maxNoise, 60);
  const backendUrl = `http://127.0.0.1:${backend.port}/`;
  await sanityCheck(backendUrl);
  const cells: Cell[] = [];
  for (const conns of CONNECTIONS) {
    const c = await measure('direct', 'direct to backend', backendUrl, { proxy: backend.pid, backend: backend.pid }, conns);
    cells.push(c);
    logCell(c);
  }
  for (const target of targets) {
    const running = await target.start(backend.port);
    try {
      await sanityCheck(running.url);
      for (const conns of CONNECTIONS) {
        const c = await measure(target.id, target.label, running.url, { proxy: running.pid, backend: backend.pid }, conns);
        cells.push(c);
        logCell(c);
      }
      // Also the lifetime high-water mark, in case a spike fell between two polls.
      const hwm = statusBytes(running.pid, 'VmHWM');
      const last = cells.at(-1);
      if (last && hwm > last.peakRss && hwm - last.peakRss > 8 << 20) {
        process.stdout.write(`  (${target.id}: VmHWM ${fmtMB(hwm)} > polled peak ${fmtMB(last.peakRss)})\n`);
      }
    } finally {
      running.stop();
    }
  }
  backend.kill();

  writeResults('queue-proxy', report(cells, startedAt), flags['no-write']);
  if (!flags['no-write']) process.stdout.write(`\n**Choice.** ${choice(cells)}\n`);
}

await main();
// Nothing should be left, but make sure: the exit handler kills any child still running.
process.exit(0);
