// One listening port that serves HTTP/1.1 and cleartext HTTP/2 with prior knowledge (h2c), as
// Knative's network.NewServer does: each new connection is sniffed for the HTTP/2 preface and
// handed to the matching Node server. Node has no `Upgrade: h2c`; neither does Knative's client.
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerOptions, type ServerResponse } from 'node:http';
import { createServer as createHttp2Server, type Http2Server, type ServerHttp2Session, type Http2ServerRequest, type Http2ServerResponse, type ServerOptions as Http2Options } from 'node:http2';
import type { Duplex } from 'node:stream';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

export type Request = IncomingMessage | Http2ServerRequest;
export type Response = ServerResponse | Http2ServerResponse;

export interface DualServer {
  readonly net: NetServer;
  readonly http1: HttpServer;
  readonly http2: Http2Server;
  /** Open sockets of both protocols, for shutdown. */
  readonly sockets: Set<Socket>;
  /** Open HTTP/2 sessions, to send GOAWAY at shutdown. */
  readonly sessions: Set<ServerHttp2Session>;
}

export interface DualServerOptions {
  readonly http1?: ServerOptions;
  readonly http2?: Http2Options;
  readonly onRequest: (req: Request, res: Response) => void;
  readonly onUpgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
}

export function createDualServer(opts: DualServerOptions): DualServer {
  const http1 = createHttpServer(opts.http1 ?? {}, opts.onRequest);
  const http2 = createHttp2Server(opts.http2 ?? {}, opts.onRequest);
  if (opts.onUpgrade) http1.on('upgrade', opts.onUpgrade);
  const sockets = new Set<Socket>();
  const sessions = new Set<ServerHttp2Session>();
  http2.on('session', (session: ServerHttp2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  const net = createNetServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    sniff(socket, http1, http2);
  });
  return { net, http1, http2, sockets, sessions };
}

function sniff(socket: Socket, http1: HttpServer, http2: Http2Server): void {
  let seen: Buffer = Buffer.alloc(0);
  const onData = (chunk: Buffer): void => {
    seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
    const n = Math.min(seen.length, PREFACE.length);
    const h2 = seen.subarray(0, n).equals(PREFACE.subarray(0, n));
    if (h2 && seen.length < PREFACE.length) return; // undecided: wait for more bytes
    socket.off('data', onData);
    socket.off('error', onEarlyError);
    socket.pause();
    socket.unshift(seen);
    if (h2) {
      // The HTTP/2 session reads the bytes already buffered, then the socket handle directly;
      // resuming the JS stream here would steal data from it.
      http2.emit('connection', socket);
    } else {
      http1.emit('connection', socket);
      socket.resume();
    }
  };
  // A client that resets before sending anything must not crash the process.
  const onEarlyError = (): void => {
    socket.destroy();
  };
  socket.on('data', onData);
  socket.on('error', onEarlyError);
}
