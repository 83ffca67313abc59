// Test fixtures for the queue-proxy: a real user app on 127.0.0.1 whose behaviour each test
// controls (delay, status, streaming, readiness, WebSocket echo, h2c), and the queue-proxy as a
// child process started with Knative's env vars, its ports read from its startup log line.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server } from 'node:http';
import { createServer as createH2Server, type ClientHttp2Session, type Http2Server, type IncomingHttpHeaders as H2Headers } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { WebSocketServer } from 'ws';
import { REPO_ROOT } from './cli.ts';

export interface AppRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A user container: records requests and answers per `?` query knobs. */
export class UserApp {
  readonly server: Server;
  readonly requests: AppRequest[] = [];
  inFlight = 0;
  maxInFlight = 0;
  port = 0;

  constructor() {
    this.server = createServer({ maxHeaderSize: 2 << 20 }, (req, res) => {
      const url = new URL(req.url ?? '/', 'http://app');
      const q = url.searchParams;
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      let body = '';
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        this.inFlight--;
      };
      res.on('close', finish);
      req.setEncoding('utf8');
      req.on('data', (d: string) => (body += d));
      req.on('end', () => {
        this.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        const sleep = Number(q.get('sleep') ?? 0);
        const status = Number(q.get('status') ?? 200);
        setTimeout(() => {
          if (q.has('stream')) {
            // Stream `stream` chunks, `gap` ms apart.
            const n = Number(q.get('stream'));
            const gap = Number(q.get('gap') ?? 50);
            res.writeHead(status, { 'content-type': 'text/plain' });
            let i = 0;
            const tick = (): void => {
              if (res.destroyed) return;
              res.write(`chunk${i}\n`);
              if (++i < n) setTimeout(tick, gap);
              else res.end();
            };
            tick();
            return;
          }
          if (q.has('echo')) {
            res.writeHead(status, { 'content-type': 'application/octet-stream' });
            res.end(body);
            return;
          }
          const out = JSON.stringify({ path: url.pathname, host: req.headers.host, headers: req.headers });
          res.writeHead(status, { 'content-type': 'application/json', 'x-app': 'yes' });
          res.end(out);
        }, sleep);
      });
    });
    const wss = new WebSocketServer({ server: this.server });
    wss.on('connection', (ws) => ws.on('message', (m, binary) => ws.send(m, { binary })));
  }

  async listen(port = 0): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this.port;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** An h2c app that answers gRPC-style: body echo and trailers. */
export async function startH2cApp(): Promise<{ server: Http2Server; port: number; streams: () => number; maxStreams: () => number }> {
  let open = 0;
  let max = 0;
  const server = createH2Server();
  server.on('stream', (stream, headers) => {
    open++;
    max = Math.max(max, open);
    stream.on('close', () => open--);
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const delay = Number(new URL(String(headers[':path']), 'http://x').searchParams.get('sleep') ?? 0);
      setTimeout(() => {
        if (stream.destroyed) return;
        stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'x-path': String(headers[':path']) }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'grpc-message': 'ok' }));
        stream.end(Buffer.concat(chunks));
      }, delay);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, streams: () => open, maxStreams: () => max };
}

export interface H2Reply {
  headers: H2Headers;
  trailers: H2Headers;
  body: Buffer;
  ms: number;
}

/** One gRPC-style POST over an h2c session: headers, trailers and the whole body. */
export function h2request(session: ClientHttp2Session, path: string, body: Buffer, extra: Record<string, string> = {}): Promise<H2Reply> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const req = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', ...extra });
    let headers: H2Headers = {};
    let trailers: H2Headers = {};
    const chunks: Buffer[] = [];
    req.on('response', (h) => (headers = h));
    req.on('trailers', (h) => (trailers = h));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve({ headers, trailers, body: Buffer.concat(chunks), ms: performance.now() - start }));
    req.on('error', reject);
    req.end(body);
  });
}

export interface QueueProxyProcess {
  readonly child: ChildProcess;
  readonly serving: number;
  readonly admin: number;
  readonly metrics: number;
  readonly userMetrics: number | undefined;
  readonly logs: string[];
  readonly stderr: string[];
  /** Resolves with the exit code. */
  readonly exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function queueProxyEnv(userPort: number, overrides: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string | undefined> = {
    PATH: process.env['PATH'],
    CONTAINER_CONCURRENCY: '0',
    QUEUE_SERVING_PORT: '0',
    QUEUE_SERVING_TLS_PORT: '8112',
    USER_PORT: String(userPort),
    REVISION_TIMEOUT_SECONDS: '30',
    SERVING_LOGGING_CONFIG: '',
    SERVING_LOGGING_LEVEL: 'info',
    SERVING_NAMESPACE: 'default',
    SERVING_SERVICE: 'hello',
    SERVING_CONFIGURATION: 'hello',
    SERVING_REVISION: 'hello-00001',
    SERVING_POD: 'hello-00001-deployment-abc',
    SERVING_POD_IP: '127.0.0.1',
    KNTS_LISTEN_HOST: '127.0.0.1',
    KNTS_ADMIN_PORT: '0',
    KNTS_METRICS_PORT: '0',
    KNTS_USER_METRICS_PORT: '0',
    // A test run killed midway must not leave queue-proxies behind.
    KNTS_EXIT_WITH_PARENT: 'true',
    ...overrides,
  };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

/** Starts `node queue-proxy/main.ts` and waits for its "listening" log line. */
export function startQueueProxy(env: Record<string, string>): Promise<QueueProxyProcess> {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'queue-proxy/main.ts')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: string[] = [];
  const stderr: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  createInterface({ input: child.stderr! }).on('line', (l) => stderr.push(l));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`queue-proxy did not start: ${stderr.join('\n')}`)), 10_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      logs.push(line);
      if (!line.includes('"queue-proxy listening"')) return;
      clearTimeout(timer);
      const ports = (JSON.parse(line) as { ports: { serving: number; admin: number; metrics: number; userMetrics?: number } }).ports;
      resolve({
        child,
        serving: ports.serving,
        admin: ports.admin,
        metrics: ports.metrics,
        userMetrics: ports.userMetrics,
        logs,
        stderr,
        exited,
        stop: (signal = 'SIGKILL') => {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          return exited;
        },
      });
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`queue-proxy exited with ${code}: ${stderr.join('\n')}`));
    });
  });
}

export interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly ms: number;
}

/** One HTTP/1.1 request without keep-alive; resolves on the full response (or its cut). */
export function httpGet(port: number, path: string, headers: Record<string, string> = {}, opts: { method?: string; body?: string } = {}): Promise<Reply> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers, agent: false }, (res: IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      const done = (): void => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, ms: performance.now() - start });
      res.on('end', done);
      res.on('error', done);
      res.on('aborted', done);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Runs `fn` with a fresh app and a queue-proxy in front of it; stops both afterwards. */
export async function withQueueProxy(env: Record<string, string>, fn: (qp: QueueProxyProcess, app: UserApp) => Promise<void>): Promise<void> {
  const app = new UserApp();
  await app.listen();
  const qp = await startQueueProxy(queueProxyEnv(app.port, env));
  try {
    await fn(qp, app);
  } finally {
    await qp.stop();
    await app.close();
  }
}
