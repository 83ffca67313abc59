// The bare proxies that pick the hot path's upstream client by numbers (issue 3, "Proxy core and
// performance"): the same node:http front end (http-proxy's for (a)) in front of each candidate
// client, with no queue-proxy features. Each runs in its own child process, started by
// bench/queue-proxy.ts; this file is both the list of candidates and the child entry point.
// Usage: node bench/upstream-clients.ts <kind> <backend-port>   → prints `KNTS_READY <port>`
import { Agent, createServer, request as httpRequest, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import httpProxy from 'http-proxy';
import { Pool } from 'undici';
import { Http1Upstream, type Exchange } from '../network/proxy.ts';
import { exitWithParent } from './harness.ts';

export interface BareProxy {
  readonly kind: string;
  readonly label: string;
}

export const BARE_PROXIES: readonly BareProxy[] = [
  { kind: 'http-proxy', label: '(a) bare: http-proxy + keep-alive agent' },
  { kind: 'undici-request', label: '(b) bare: node:http + undici Pool.request, `.pipe()`' },
  { kind: 'undici-stream', label: "(b') bare: node:http + undici Pool.stream (writes straight into the response)" },
  { kind: 'node-http', label: '(c) bare: node:http + node:http client, keep-alive Agent' },
  { kind: 'knts-upstream', label: '(d) bare: node:http + network/proxy.ts Http1Upstream (the hot path in use)' },
];

function badGateway(res: ServerResponse): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(502, { 'Content-Type': 'text/plain' }).end('bad gateway');
}

function hasBody(req: IncomingMessage): boolean {
  return req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
}

function httpProxyHandler(backend: string): RequestListener {
  const agent = new Agent({ keepAlive: true, maxFreeSockets: 1000 });
  const proxy = httpProxy.createProxyServer({ target: backend, agent });
  proxy.on('error', (_err, _req, res) => {
    // For web requests `res` is the ServerResponse (a Socket only for ws upgrades).
    if ('writeHead' in res) badGateway(res);
    else res.destroy();
  });
  return (req, res) => proxy.web(req, res);
}

/** undici rejects hop-by-hop framing headers; it frames the streamed body itself. */
function undiciHeaders(req: IncomingMessage): IncomingMessage['headers'] {
  const h = req.headers;
  if (h['transfer-encoding'] !== undefined || h['keep-alive'] !== undefined || h['upgrade'] !== undefined || h['expect'] !== undefined) {
    const { 'transfer-encoding': _te, 'keep-alive': _ka, upgrade: _up, expect: _ex, ...rest } = h;
    return rest;
  }
  return h;
}

function undiciRequestHandler(backend: string): RequestListener {
  const pool = new Pool(backend, { connections: null, pipelining: 1, keepAliveTimeout: 60_000 });
  return (req, res) => {
    pool.request({ path: req.url ?? '/', method: (req.method ?? 'GET') as 'GET', headers: undiciHeaders(req), body: hasBody(req) ? req : null }, (err, data) => {
      if (err) {
        badGateway(res);
        return;
      }
      res.writeHead(data.statusCode, data.headers);
      data.body.pipe(res);
    });
  };
}

// One factory for all requests: the response travels in `opaque`, so no per-request closure.
function streamFactory({ statusCode, headers, opaque }: { statusCode: number; headers: IncomingMessage['headers']; opaque: ServerResponse }): ServerResponse {
  return opaque.writeHead(statusCode, headers);
}

function undiciStreamHandler(backend: string): RequestListener {
  const pool = new Pool(backend, { connections: null, pipelining: 1, keepAliveTimeout: 60_000 });
  return (req, res) => {
    pool.stream({ path: req.url ?? '/', method: (req.method ?? 'GET') as 'GET', headers: undiciHeaders(req), body: hasBody(req) ? req : null, opaque: res }, streamFactory, (err) => {
      if (err) badGateway(res);
    });
  };
}

function nodeHttpHandler(host: string, port: number): RequestListener {
  const agent = new Agent({ keepAlive: true, maxFreeSockets: 1000 });
  return (req, res) => {
    const up = httpRequest({ host, port, method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, agent, setHost: false });
    up.on('response', (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
    });
    up.on('error', () => badGateway(res));
    req.pipe(up);
  };
}

function kntsUpstreamHandler(host: string, port: number): RequestListener {
  const upstream = new Http1Upstream({ host, port });
  return (req, res) => {
    const ex: Exchange = {
      onResponseStart: () => undefined,
      onWrite: () => undefined,
      onUpstreamError: () => badGateway(res),
      onEnd: () => undefined,
    };
    upstream.forward(req, res, req.headers, ex, hasBody(req));
  };
}

export function bareHandler(kind: string, port: number): RequestListener {
  const host = '127.0.0.1';
  const backend = `http://${host}:${port}`;
  switch (kind) {
    case 'http-proxy':
      return httpProxyHandler(backend);
    case 'undici-request':
      return undiciRequestHandler(backend);
    case 'undici-stream':
      return undiciStreamHandler(backend);
    case 'node-http':
      return nodeHttpHandler(host, port);
    case 'knts-upstream':
      return kntsUpstreamHandler(host, port);
    default:
      throw new Error(`unknown bare proxy ${kind}; one of ${BARE_PROXIES.map((p) => p.kind).join(', ')}`);
  }
}

if (import.meta.main) {
  const [kind, port] = process.argv.slice(2);
  if (kind === undefined || port === undefined) {
    process.stderr.write(`usage: upstream-clients.ts <${BARE_PROXIES.map((p) => p.kind).join('|')}> <backend-port>\n`);
    process.exit(2);
  }
  exitWithParent();
  const server = createServer({ keepAliveTimeout: 120_000 }, bareHandler(kind, Number(port)));
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`KNTS_READY ${(server.address() as AddressInfo).port}\n`);
  });
}
