// The HTTP/1.1 hot path: forwards requests over an undici Pool with its low-level dispatch API.
// bench/ measured it about a third cheaper per request than node:http's client (see
// bench/RESULTS.md). Each request is one `Call` object whose prototype methods are undici's
// handler callbacks, so forwarding allocates no closures on the common path.
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { Dispatcher, Pool as UndiciPool } from 'undici';
import type { Exchange } from './proxy.ts';

type Controller = Dispatcher.DispatchController;

// Only the Pool: `import 'undici'` loads fetch, WebSocket and the rest, about 14 MB more RSS
// per process (bench/). The package has no export map, so the deep path is public.
const Pool = createRequire(import.meta.url)('undici/lib/dispatcher/pool.js') as typeof UndiciPool;

export interface UndiciUpstreamOptions {
  readonly host: string;
  readonly port: number;
  /** Connections kept to the upstream; undefined = no limit. */
  readonly connections?: number;
  readonly maxHeaderSize: number;
  readonly errorText: (err: NodeJS.ErrnoException) => string;
}

const BODYLESS = new Set(['GET', 'HEAD', 'OPTIONS', 'DELETE', 'TRACE']);
// undici frames bodies itself and rejects these; Node frames the client side.
const RESPONSE_HOP = ['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'upgrade', 'trailer'];

export class UndiciUpstream {
  readonly pool: UndiciPool;
  readonly options: UndiciUpstreamOptions;

  constructor(opts: UndiciUpstreamOptions) {
    this.options = opts;
    this.pool = new Pool(`http://${opts.host}:${opts.port}`, {
      connections: opts.connections ?? null,
      pipelining: 1,
      // Our own timers (revision, response-start, idle) govern requests, not undici's.
      headersTimeout: 0,
      bodyTimeout: 0,
      maxHeaderSize: opts.maxHeaderSize,
      connectTimeout: 10_000,
    });
  }

  forward(req: IncomingMessage, res: ServerResponse, headers: OutgoingHttpHeaders, ex: Exchange, hasBody: boolean): void {
    new Call(this, req, res, headers, ex, hasBody, true).start();
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/** One forwarded request: undici's DispatchHandler plus the glue to the client response. */
class Call implements Dispatcher.DispatchHandler {
  readonly up: UndiciUpstream;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly headers: OutgoingHttpHeaders;
  readonly ex: Exchange;
  readonly hasBody: boolean;
  readonly mayRetry: boolean;
  controller: Controller | undefined;
  answered = false;
  ended = false;
  /** The caller aborted (timeout): it then owns what the client sees. */
  aborted = false;

  constructor(up: UndiciUpstream, req: IncomingMessage, res: ServerResponse, headers: OutgoingHttpHeaders, ex: Exchange, hasBody: boolean, mayRetry: boolean) {
    this.up = up;
    this.req = req;
    this.res = res;
    this.headers = headers;
    this.ex = ex;
    this.hasBody = hasBody;
    this.mayRetry = mayRetry;
  }

  start(): void {
    const req = this.req;
    const method = req.method ?? 'GET';
    delete this.headers['expect']; // Node's server already answered 100-continue
    this.ex.abort = this.abortFromCaller;
    (this.res as ServerResponse & { [CALL]?: Call })[CALL] = this;
    this.res.once('close', onClientClose);
    this.up.pool.dispatch(
      {
        path: req.url ?? '/',
        method,
        headers: this.headers as Record<string, string | string[]>,
        body: this.hasBody && !req.readableEnded ? req : null,
        idempotent: BODYLESS.has(method),
      },
      this,
    );
  }

  readonly abortFromCaller = (): void => {
    this.aborted = true;
    this.controller?.abort(new Error('request aborted'));
  };

  onRequestStart(controller: Controller): void {
    this.controller = controller;
    if (this.aborted || this.res.destroyed) controller.abort(new Error('client gone'));
  }

  onResponseStart(controller: Controller, statusCode: number, headers: Record<string, string | string[] | undefined>, statusMessage?: string): void {
    this.answered = true;
    if (statusCode < 200) return; // 1xx informational: wait for the real answer
    const res = this.res;
    if (res.destroyed) {
      controller.abort(new Error('client gone'));
      return;
    }
    this.ex.onResponseStart(statusCode);
    const conn = headers['connection'];
    if (typeof conn === 'string') for (const n of conn.split(',')) delete headers[n.trim().toLowerCase()];
    for (const n of RESPONSE_HOP) delete headers[n];
    res.writeHead(statusCode, statusMessage ?? '', headers as OutgoingHttpHeaders);
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    this.ex.onWrite(chunk.length);
    if (!this.res.write(chunk)) {
      controller.pause();
      this.res.once('drain', () => controller.resume());
    }
  }

  onResponseEnd(_controller: Controller, trailers: Record<string, string | string[] | undefined>): void {
    const res = this.res;
    if (!res.destroyed) {
      if (Object.keys(trailers).length > 0) res.addTrailers(trailers as Record<string, string>);
      res.end();
    }
    this.end();
  }

  onResponseError(_controller: Controller, err: NodeJS.ErrnoException): void {
    if (this.ended) return;
    if (this.aborted) {
      this.end();
      return;
    }
    if (this.answered) {
      // The body was cut upstream: cut ours so the client sees an incomplete response.
      this.res.destroy();
      this.end();
      return;
    }
    if (this.res.destroyed) {
      this.end();
      return;
    }
    // A kept-alive connection the app closed as we reused it (Knative #12414): retry once on
    // a fresh one when no body was sent, instead of failing the client with a 502.
    const code = err.code ?? '';
    if (this.mayRetry && (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET') && !this.hasBody) {
      this.res.off('close', onClientClose);
      new Call(this.up, this.req, this.res, this.headers, this.ex, false, false).start();
      return;
    }
    this.ex.onUpstreamError(err, this.up.options.errorText(err));
    this.end();
  }

  clientClosed(): void {
    if (this.ended || this.res.writableFinished) return;
    this.controller?.abort(new Error('client gone'));
    this.end();
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.ex.onEnd();
  }
}

const CALL = Symbol('knts.call');

function onClientClose(this: ServerResponse & { [CALL]?: Call }): void {
  this[CALL]?.clientClosed();
}
