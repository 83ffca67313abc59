// The proxy core shared by the queue-proxy and the activator: forwards one HTTP/1.1 request,
// HTTP/2 stream or upgrade to an upstream and streams the answer back. It owns connection
// reuse and Go-compatible error texts; callers own policy (headers, breaker, timeouts), which
// they hook in through `Exchange`. Plain HTTP/1 requests use undici, chosen by bench/ (see
// bench/RESULTS.md); upgrades use node:http; HTTP/2 uses one node:http2 session.
import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { connect as http2Connect, constants as h2, type ClientHttp2Session, type Http2ServerRequest, type Http2ServerResponse, type IncomingHttpHeaders as H2Headers } from 'node:http2';
import type { Duplex } from 'node:stream';
import { filterResponseRawHeaders } from './hop-headers.ts';
import { UndiciUpstream } from './undici-upstream.ts';

/** What a caller learns about one forwarded request. */
export interface Exchange {
  /** The upstream answered; the response head is about to be written to the client. */
  onResponseStart(status: number): void;
  /** Body bytes are about to be written to the client (for the idle timer and logs). */
  onWrite(bytes: number): void;
  /** The upstream failed before answering: the caller writes the error (502 in Knative). */
  onUpstreamError(err: Error, message: string): void;
  /** The exchange is over: response complete, client gone, or aborted. Called once. */
  onEnd(): void;
  /** Set by the proxy so the caller can abort the upstream side (timeouts). */
  abort?: () => void;
}

export interface UpstreamOptions {
  readonly host: string;
  readonly port: number;
  /** Connections kept to the upstream; undefined = no limit (Knative keeps cc, or 1000 idle). */
  readonly maxConnections?: number;
  readonly maxHeaderSize?: number;
}

/** Go's error text for the dial and read failures a proxy reports in its 502 body. */
export function goErrorText(err: NodeJS.ErrnoException, host: string, port: number): string {
  switch (err.code) {
    case 'ECONNREFUSED':
      return `dial tcp ${host}:${port}: connect: connection refused`;
    case 'ETIMEDOUT':
      return `dial tcp ${host}:${port}: i/o timeout`;
    case 'EHOSTUNREACH':
      return `dial tcp ${host}:${port}: connect: no route to host`;
    case 'ECONNRESET':
      return `read tcp ${host}:${port}: read: connection reset by peer`;
    default:
      return err.message === 'socket hang up' ? 'EOF' : err.message;
  }
}

/**
 * HTTP/1.1 upstream: plain requests go through undici (network/undici-upstream.ts, the faster
 * client by bench/); upgrades go through node:http, whose 'upgrade' event hands over the socket.
 */
export class Http1Upstream {
  readonly host: string;
  readonly port: number;
  readonly #fast: UndiciUpstream;
  readonly #maxHeaderSize: number;

  constructor(opts: UpstreamOptions) {
    this.host = opts.host;
    this.port = opts.port;
    this.#maxHeaderSize = opts.maxHeaderSize ?? 1 << 20;
    this.#fast = new UndiciUpstream({
      host: opts.host,
      port: opts.port,
      ...(opts.maxConnections !== undefined ? { connections: opts.maxConnections } : {}),
      maxHeaderSize: this.#maxHeaderSize,
      errorText: (err) => goErrorText(err, this.host, this.port),
    });
  }

  /**
   * Forwards `req` with `headers` (already rewritten by the caller). The request body is
   * streamed, never buffered; so is the response.
   */
  forward(req: IncomingMessage, res: ServerResponse, headers: OutgoingHttpHeaders, ex: Exchange, hasBody: boolean): void {
    this.#fast.forward(req, res, headers, ex, hasBody);
  }

  /** Tunnels an upgrade (WebSocket) request: 101 → bytes both ways; anything else is relayed. */
  forwardUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, headers: OutgoingHttpHeaders, ex: Exchange): void {
    const up = httpRequest({ host: this.host, port: this.port, method: req.method ?? 'GET', path: req.url ?? '/', headers, setHost: false, maxHeaderSize: this.#maxHeaderSize });
    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      ex.onEnd();
    };
    ex.abort = () => {
      up.destroy();
      socket.destroy();
    };
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      up.destroy();
      end();
    });
    up.on('upgrade', (upRes: IncomingMessage, upSocket: Duplex, upHead: Buffer) => {
      // After the 101 the request object is done with: the tunnel is these two sockets, and
      // either one closing (client gone, timeout, shutdown) must close the other.
      socket.once('close', () => upSocket.destroy());
      ex.abort = () => {
        upSocket.destroy();
        socket.destroy();
      };
      ex.onResponseStart(101);
      socket.write(rawHead(101, upRes.statusMessage || 'Switching Protocols', upRes.rawHeaders));
      if (upHead.length > 0) socket.write(upHead);
      if (head.length > 0) upSocket.write(head);
      upSocket.on('error', () => socket.destroy());
      upSocket.on('close', () => socket.destroy());
      upSocket.pipe(socket);
      socket.pipe(upSocket);
    });
    up.on('response', (upRes: IncomingMessage) => {
      // The app declined the upgrade: relay its answer and close.
      ex.onResponseStart(upRes.statusCode ?? 502);
      socket.write(rawHead(upRes.statusCode ?? 502, upRes.statusMessage ?? '', filterResponseRawHeaders(upRes.rawHeaders).concat('Connection', 'close')));
      upRes.pipe(socket);
    });
    up.on('error', (err: NodeJS.ErrnoException) => {
      if (ended || socket.destroyed) return;
      ex.onUpstreamError(err, goErrorText(err, this.host, this.port));
    });
    up.end();
  }

  close(): void {
    void this.#fast.close();
  }
}

/** An HTTP/1.1 response head for a raw socket. */
export function rawHead(status: number, message: string, raw: readonly string[]): string {
  let s = `HTTP/1.1 ${status} ${message}\r\n`;
  for (let i = 0; i < raw.length; i += 2) s += `${raw[i]}: ${raw[i + 1]}\r\n`;
  return s + '\r\n';
}

/** Writes a complete Go-http.Error-style response on a raw socket, then closes it. */
export function writeRawError(socket: Duplex, status: number, statusText: string, body: string): void {
  if (socket.destroyed) return;
  socket.end(
    rawHead(status, statusText, ['Content-Type', 'text/plain; charset=utf-8', 'X-Content-Type-Options', 'nosniff', 'Content-Length', String(Buffer.byteLength(body)), 'Connection', 'close']) + body,
  );
}

const H2_DROP = new Set([h2.HTTP2_HEADER_CONNECTION, 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

/** HTTP/2 upstream with prior knowledge (h2c): one multiplexed session, reopened when lost. */
export class Http2Upstream {
  readonly authority: string;
  #session: ClientHttp2Session | undefined;

  constructor(host: string, port: number) {
    this.authority = `http://${host}:${port}`;
  }

  #connect(): ClientHttp2Session {
    const s = this.#session;
    if (s && !s.closed && !s.destroyed) return s;
    const session = http2Connect(this.authority);
    session.on('error', () => session.destroy());
    session.on('close', () => {
      if (this.#session === session) this.#session = undefined;
    });
    this.#session = session;
    return session;
  }

  forward(req: Http2ServerRequest, res: Http2ServerResponse, headers: H2Headers, ex: Exchange): void {
    const out: Record<string, string | string[] | undefined> = {};
    for (const [k, v] of Object.entries(headers)) if (!H2_DROP.has(k)) out[k] = v as string | string[];
    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      ex.onEnd();
    };
    let upstream;
    try {
      upstream = this.#connect().request(out);
    } catch (err) {
      ex.onUpstreamError(err as Error, (err as Error).message);
      end();
      return;
    }
    const up = upstream;
    let answered = false;
    ex.abort = () => up.close(h2.NGHTTP2_CANCEL);
    up.on('response', (h) => {
      answered = true;
      const status = Number(h[h2.HTTP2_HEADER_STATUS] ?? 502);
      ex.onResponseStart(status);
      const resHeaders: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(h)) if (!k.startsWith(':') && !H2_DROP.has(k) && v !== undefined) resHeaders[k] = v as string | string[];
      if (!res.stream.destroyed) res.writeHead(status, resHeaders);
    });
    up.on('trailers', (t) => {
      const trailers: Record<string, string> = {};
      for (const [k, v] of Object.entries(t)) if (!k.startsWith(':') && v !== undefined) trailers[k] = String(v);
      res.addTrailers(trailers);
    });
    up.on('data', (chunk: Buffer) => {
      ex.onWrite(chunk.length);
      if (!res.write(chunk)) {
        up.pause();
        res.once('drain', () => up.resume());
      }
    });
    up.on('end', () => {
      if (!res.stream.destroyed) res.end();
      end();
    });
    up.on('error', (err: NodeJS.ErrnoException) => {
      if (!answered && !res.stream.destroyed && !res.headersSent) ex.onUpstreamError(err, err.message);
      else res.stream.close(h2.NGHTTP2_INTERNAL_ERROR);
      end();
    });
    up.on('close', () => {
      if (!answered && !ended && !res.headersSent && !res.stream.destroyed) {
        ex.onUpstreamError(new Error('upstream stream closed'), 'EOF');
      }
      end();
    });
    res.on('close', () => {
      if (!up.closed) up.close(h2.NGHTTP2_CANCEL);
      end();
    });
    req.pipe(up);
  }

  close(): void {
    this.#session?.close();
  }
}
