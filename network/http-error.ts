// Responses shaped like Go's http.Error, which Knative's components use for their error
// bodies: text/plain, nosniff, and the message plus a newline.
import type { ServerResponse } from 'node:http';
import type { Http2ServerResponse } from 'node:http2';

export type AnyResponse = ServerResponse | Http2ServerResponse;

/**
 * Writes a whole response on either protocol. The HTTP/2 compatibility response takes the
 * same (status, headers) arguments; TypeScript cannot call the union directly.
 */
export function respond(res: AnyResponse, status: number, headers: Record<string, string | number>, body?: string): void {
  const r = res as ServerResponse;
  r.writeHead(status, headers);
  if (body === undefined) r.end();
  else r.end(body);
}

export function writeHttpError(res: AnyResponse, status: number, message: string): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const body = message + '\n';
  respond(res, status, {
    'content-type': 'text/plain; charset=utf-8',
    'x-content-type-options': 'nosniff',
    'content-length': Buffer.byteLength(body),
  }, body);
}

/** A plain write without Go's newline: the timeout handler and health bodies use these. */
export function writePlain(res: AnyResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  respond(res, status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), ...headers }, body);
}
