// Hands one request to the right upstream as a Go reverse proxy would: an upgrade tunnels over
// HTTP/1.1, an HTTP/2 stream goes over h2c, anything else over HTTP/1.1. Hop-by-hop headers
// are removed and the client's address appended to X-Forwarded-For on the way. Shared by the
// queue-proxy and the activator, which own everything else about the request.
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { Duplex } from 'node:stream';
import { appendForwardedFor } from './forwarded.ts';
import type { AnyResponse } from './http-error.ts';
import { requestHasBody, stripHopRequestHeaders } from './hop-headers.ts';
import type { Exchange, Http1Upstream, Http2Upstream } from './proxy.ts';

export interface UpgradeSocket {
  readonly socket: Duplex;
  readonly head: Buffer;
}

/** The two upstream kinds a destination offers; only the methods dispatch calls. */
export interface UpstreamPair {
  readonly http1: Pick<Http1Upstream, 'forward' | 'forwardUpgrade'>;
  readonly http2: Pick<Http2Upstream, 'forward'>;
}

export function dispatch(req: IncomingMessage | Http2ServerRequest, res: AnyResponse | undefined, upgrade: UpgradeSocket | undefined, to: UpstreamPair, ex: Exchange): void {
  const headers = req.headers;
  if (upgrade) {
    const out = headers as OutgoingHttpHeaders;
    stripHopRequestHeaders(out, true);
    appendForwardedFor(out, req.socket.remoteAddress);
    to.http1.forwardUpgrade(req as IncomingMessage, upgrade.socket, upgrade.head, out, ex);
  } else if ((req as IncomingMessage).httpVersionMajor === 2) {
    appendForwardedFor(headers as OutgoingHttpHeaders, req.socket?.remoteAddress);
    to.http2.forward(req as Http2ServerRequest, res as Http2ServerResponse, headers, ex);
  } else {
    const out = headers as OutgoingHttpHeaders;
    const hasBody = requestHasBody(headers);
    stripHopRequestHeaders(out, false);
    appendForwardedFor(out, req.socket.remoteAddress);
    to.http1.forward(req as IncomingMessage, res as ServerResponse, out, ex, hasBody);
  }
}
