// The autoscaler's stat server (spec §3.1, Knative `pkg/autoscaler/statserver`): HTTP on :8080,
// kubelet probes answered 200 on any path, every other request upgraded to a WebSocket that
// carries the activators' protobuf `WireStatMessages` (§2.7). Each message becomes one
// `onStat(ns/name, stat)`; shutdown sends close code 1012 ("service restart") to every client.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from 'pino';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { isKubeletProbe } from '../network/headers.ts';
import { decodeWireStatMessages, type Stat } from './stat-proto.ts';

export const STAT_SERVER_PORT = 8080;
export const CLOSE_SERVICE_RESTART = 1012;
const TCP_KEEP_ALIVE_MS = 3 * 60 * 1000;
const CLOSE_GRACE_MS = 1000;

export interface StatServerOptions {
  readonly port?: number;
  readonly host?: string;
  readonly onStat: (key: string, stat: Stat) => void;
  readonly log: Logger;
  /** Wall clock in ms, for stats that arrive without a timestamp. */
  readonly now?: () => number;
}

export interface StatServer {
  readonly server: Server;
  readonly port: number;
  /** Sends 1012 to every client, waits briefly for the close handshakes, stops listening. */
  close(): Promise<void>;
}

export async function startStatServer(opts: StatServerOptions): Promise<StatServer> {
  const now = opts.now ?? Date.now;
  const log = opts.log;
  const wss = new WebSocketServer({ noServer: true });
  const server = createServer({ keepAlive: true, keepAliveInitialDelay: TCP_KEEP_ALIVE_MS }, (req, res) => {
    if (isKubeletProbe(req.headers)) {
      res.writeHead(200, { 'content-length': 0 });
      res.end();
      return;
    }
    // Not a WebSocket handshake: what gorilla's upgrader answers.
    const body = 'Bad Request\n';
    res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8', 'sec-websocket-version': '13', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });

  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    if (isKubeletProbe(req.headers)) {
      socket.end('HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  wss.on('connection', (ws: WebSocket, req: IncomingMessage) => {
    const remote = req.socket.remoteAddress;
    log.debug({ remote }, 'stat connection opened');
    ws.on('error', (err) => log.warn({ remote, err: err.message }, 'stat connection error'));
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (!isBinary) {
        log.debug({ remote }, 'dropping a non-binary stat frame');
        return;
      }
      handleFrame(toBuffer(data), remote);
    });
  });

  const handleFrame = (frame: Buffer, remote: string | undefined): void => {
    let messages;
    try {
      messages = decodeWireStatMessages(frame);
    } catch (err) {
      log.error({ remote, err: (err as Error).message }, 'failed to decode a stat frame');
      return;
    }
    for (const m of messages) {
      if (m.stat === undefined) continue;
      const stat = m.stat.timestamp === 0 ? { ...m.stat, timestamp: Math.floor(now() / 1000) } : m.stat;
      opts.onStat(`${m.namespace}/${m.name}`, stat);
    }
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? STAT_SERVER_PORT, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });

  return {
    server,
    port: (server.address() as AddressInfo).port,
    async close(): Promise<void> {
      const clients = [...wss.clients];
      await Promise.all(
        clients.map(
          (ws) =>
            new Promise<void>((resolve) => {
              if (ws.readyState === ws.CLOSED) return resolve();
              const timer = setTimeout(() => {
                ws.terminate();
                resolve();
              }, CLOSE_GRACE_MS);
              ws.once('close', () => {
                clearTimeout(timer);
                resolve();
              });
              ws.close(CLOSE_SERVICE_RESTART, 'service restart');
            }),
        ),
      );
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
