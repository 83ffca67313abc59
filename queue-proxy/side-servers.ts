// The queue-proxy's small servers: :9090 serves the latest protobuf Stat to the autoscaler
// (spec §1.8) and :8022 serves /wait-for-drain to the user container's preStop hook (§1.10).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Drainer } from './drainer.ts';
import type { StatsReporter } from './stats-reporter.ts';

export const DRAIN_PATH = '/wait-for-drain';

function notFound(res: ServerResponse): void {
  const body = '404 page not found\n';
  res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/** Any method on /metrics gets the Stat; the Accept header is ignored, as in Knative. */
export function createMetricsServer(reporter: StatsReporter): Server {
  return createServer((req, res) => {
    if (pathOf(req) !== '/metrics') return notFound(res);
    const body = reporter.latest;
    res.writeHead(200, { 'content-type': 'application/protobuf', 'content-length': body.length });
    res.end(body);
  });
}

export interface AdminOptions {
  readonly drainer: Drainer;
  /** True once SIGTERM arrived: a drain without it is a container restart, not a shutdown. */
  readonly terminating: () => boolean;
  /** How long a drain waits for SIGTERM before it is reset (Knative: 1 s). */
  readonly sigtermGraceMs?: number;
}

export function createAdminServer(opts: AdminOptions): Server {
  return createServer((req, res) => {
    if (pathOf(req) !== DRAIN_PATH) return notFound(res);
    const grace = setTimeout(() => {
      if (!opts.terminating()) opts.drainer.reset();
    }, opts.sigtermGraceMs ?? 1000);
    opts.drainer.drain().then(() => {
      clearTimeout(grace);
      res.writeHead(200, { 'content-length': 0 });
      res.end();
    });
  });
}
