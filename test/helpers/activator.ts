// Test fixtures for the activator: an in-process activator on ephemeral ports with a static
// backend source, a stand-in autoscaler (a real websocket server decoding WireStatMessages),
// and fake pods that answer the activator's probe and report their concurrency.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { WebSocketServer } from 'ws';
import { StaticBackendSource, type ActivatorRevision, type RevisionEndpoints } from '../../activator/backends.ts';
import { loopbackActivatorEnv, type ActivatorEnv } from '../../activator/env.ts';
import { startActivator, type ActivatorOptions, type RunningActivator } from '../../activator/server.ts';
import { decodeWireStatMessages, type WireStatMessage } from '../../autoscaler/stat-proto.ts';

/** A stand-in autoscaler stat server: collects every message the activator sends. */
export class FakeAutoscaler {
  readonly wss: WebSocketServer;
  readonly messages: { at: number; message: WireStatMessage }[] = [];
  port = 0;

  constructor() {
    this.wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    this.wss.on('connection', (ws) => {
      ws.on('message', (data: Buffer) => {
        for (const m of decodeWireStatMessages(data)) this.messages.push({ at: performance.now(), message: m });
      });
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => (this.wss.address() ? resolve() : this.wss.once('listening', () => resolve())));
    this.port = (this.wss.address() as AddressInfo).port;
    return this.port;
  }

  close(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }
}

/**
 * A pod without a queue-proxy: answers the activator's probe (`queue`, or `probeStatus`), and
 * otherwise holds each request `?sleep=ms` and answers with its own name. Tracks concurrency.
 */
export class FakePod {
  readonly name: string;
  readonly server: Server;
  readonly seen: IncomingMessage[] = [];
  probeStatus = 200;
  probes = 0;
  inFlight = 0;
  maxInFlight = 0;
  port = 0;

  constructor(name: string, handler?: (req: IncomingMessage, res: ServerResponse) => void) {
    this.name = name;
    this.server = createServer((req, res) => {
      if (req.headers['k-network-probe'] === 'queue') {
        this.probes++;
        res.writeHead(this.probeStatus);
        res.end(this.probeStatus === 200 ? 'queue' : 'not ready');
        return;
      }
      this.seen.push(req);
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      res.on('close', () => this.inFlight--);
      if (handler) {
        handler(req, res);
        return;
      }
      const sleep = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('sleep') ?? 0);
      req.resume();
      req.on('end', () =>
        setTimeout(() => {
          if (res.destroyed) return;
          res.writeHead(200, { 'content-type': 'text/plain', 'x-pod': this.name });
          res.end(this.name);
        }, sleep),
      );
    });
  }

  get dest(): string {
    return `127.0.0.1:${this.port}`;
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

export function revision(name: string, overrides: Partial<ActivatorRevision> = {}): ActivatorRevision {
  return { namespace: 'default', name, containerConcurrency: 0, timeoutSeconds: 30, responseStartTimeoutSeconds: 0, idleTimeoutSeconds: 0, protocol: 'http1', ...overrides };
}

export function activatorEnv(autoscalerPort: number, overrides: Partial<ActivatorEnv> = {}): ActivatorEnv {
  return loopbackActivatorEnv(`ws://127.0.0.1:${autoscalerPort}`, { podName: 'activator-test', podIp: '10.0.0.1', probeTimeoutMs: 1000, probeFrequencyMs: 20, ...overrides });
}

export interface TestActivator {
  readonly act: RunningActivator;
  readonly source: StaticBackendSource;
  readonly autoscaler: FakeAutoscaler;
  readonly port: number;
  /** Sets the revision's endpoints (ready pods by default). */
  endpoints(name: string, e: Partial<RevisionEndpoints>): void;
  close(): Promise<void>;
}

export async function startTestActivator(
  revisions: readonly ActivatorRevision[],
  opts: { env?: Partial<ActivatorEnv>; network?: ActivatorOptions['network'] } = {},
): Promise<TestActivator> {
  const autoscaler = new FakeAutoscaler();
  await autoscaler.listen();
  const source = new StaticBackendSource();
  for (const r of revisions) source.setRevision(r);
  const act = await startActivator({
    env: activatorEnv(autoscaler.port, opts.env),
    source,
    log: pino({ level: process.env['KNTS_TEST_LOG'] ?? 'silent' }),
    network: opts.network ?? { meshCompatibilityMode: 'auto', enableMeshPodAddressability: false },
    clusterDomain: 'cluster.local',
    statsClient: { backoff: { initialMs: 20, factor: 1.3, jitter: 0.1, steps: 5 } },
  });
  return {
    act,
    source,
    autoscaler,
    port: act.ports.http,
    endpoints(name, e) {
      source.setEndpoints('default', name, { ready: [], notReady: [], ...e });
    },
    async close() {
      await act.close();
      await autoscaler.close();
    },
  };
}

/** Polls `cond` every 5 ms until true or `ms` pass; returns the final value. */
export async function until(cond: () => boolean, ms = 5000): Promise<boolean> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) return false;
    await new Promise((r) => setTimeout(r, 5));
  }
  return true;
}
