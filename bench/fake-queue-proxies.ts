// Child entry point for bench/autoscaler.ts: the simulated queue-proxy metrics endpoints of many
// revisions in one process. Every simulated pod listens on its own 127.0.0.1 port, so the
// autoscaler's scraper keeps one keep-alive connection per pod as it would against real pods, and
// each GET /metrics answers a protobuf Stat (`application/protobuf`, as queue-proxy's :9090).
// The load moves over time (a slow wave per revision, bursts on every tenth one, per-pod noise)
// so the deciders scale up, down and sometimes panic.
// Usage: node bench/fake-queue-proxies.ts <revisions>
// Prints `KNTS_READY {"revisions":[[port,...],...]}` (1–3 pods per revision) once listening.
// Commands on stdin: `start` zeroes the request counter, `report` prints `KNTS_JSON {...}`.
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server } from 'node:net';
import { createInterface } from 'node:readline';
import { encodeStat } from '../autoscaler/stat-proto.ts';
import { exitWithParent } from './harness.ts';

exitWithParent();

const revisions = Number(process.argv[2] ?? 2000);
if (!Number.isInteger(revisions) || revisions < 1) {
  process.stderr.write('usage: node bench/fake-queue-proxies.ts <revisions>\n');
  process.exit(2);
}

interface Pod {
  readonly revision: number;
  readonly name: string;
  readonly pods: number;
  /** Per-pod phase, so a revision's pods do not report identical numbers. */
  readonly jitter: number;
}

const startMs = Date.now();
/** Local port → pod: the port is how a request names its pod. */
const byPort = new Map<number, Pod>();
let requests = 0;
let notFound = 0;
let since = performance.now();

/**
 * The revision's total concurrency at time t: a ±50 % wave of period 60–180 s around a level of
 * 0.2–1.2 × target (70) per pod, so desired scale goes above and below the ready pods without
 * panicking; on every tenth revision a 6 s burst of ×4 every 30 s crosses the panic threshold.
 */
function revisionConcurrency(r: number, pods: number, tS: number): number {
  const level = 70 * pods * (0.2 + ((r * 37) % 100) / 100);
  const period = 60 + ((r * 53) % 120);
  let c = level * (1 + 0.5 * Math.sin((2 * Math.PI * tS) / period + r));
  if (r % 10 === 0 && (tS + r) % 30 < 6) c *= 4;
  return c;
}

const HEAD = ['Content-Type', 'application/protobuf'];

function serve(req: IncomingMessage, res: ServerResponse): void {
  const pod = byPort.get(req.socket.localPort ?? 0);
  if (pod === undefined || req.url !== '/metrics') {
    notFound++;
    res.writeHead(404).end();
    return;
  }
  requests++;
  const nowMs = Date.now();
  const tS = (nowMs - startMs) / 1000;
  const share = revisionConcurrency(pod.revision, pod.pods, tS) / pod.pods;
  const concurrency = Math.max(0, share * (0.9 + 0.2 * Math.abs(Math.sin(tS * 0.7 + pod.jitter))));
  const body = encodeStat({
    podName: pod.name,
    averageConcurrentRequests: concurrency,
    averageProxiedConcurrentRequests: pod.revision % 7 === 0 ? concurrency / 2 : 0,
    requestCount: concurrency * 10,
    proxiedRequestCount: pod.revision % 7 === 0 ? concurrency * 5 : 0,
    processUptime: tS,
    timestamp: Math.floor(nowMs / 1000),
  });
  res.writeHead(200, [...HEAD, 'Content-Length', String(body.length)]).end(body);
}

// One HTTP parser for every port: each listener hands its connections to it.
const http = createHttpServer(serve);
http.keepAliveTimeout = 120_000;
http.headersTimeout = 125_000;

function listen(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv: Server = createNetServer({ noDelay: true }, (socket) => http.emit('connection', socket));
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => resolve((srv.address() as AddressInfo).port));
  });
}

const layout: number[][] = [];
for (let r = 0; r < revisions; r++) {
  const pods = 1 + (r % 3);
  const ports: number[] = [];
  for (let k = 0; k < pods; k++) {
    const port = await listen();
    byPort.set(port, { revision: r, name: `rev-${r}-pod-${k}`, pods, jitter: k * 1.3 + r });
    ports.push(port);
  }
  layout.push(ports);
}

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'start') {
    requests = 0;
    notFound = 0;
    since = performance.now();
  } else if (line === 'report') {
    const seconds = (performance.now() - since) / 1000;
    process.stdout.write(`KNTS_JSON ${JSON.stringify({ seconds, requests, notFound, pods: byPort.size })}\n`);
  }
});

process.stdout.write(`KNTS_READY ${JSON.stringify({ revisions: layout })}\n`);
