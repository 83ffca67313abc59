// What a client sees when a proxy's timeout handler fires (spec §1.6), shared by the
// queue-proxy and the activator: 504 with the message before the response started; after it
// started, the message appended and the stream cut, so the client sees an incomplete response
// rather than a clean end. Upgrade sockets get a raw 504 or are simply closed.
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { writePlain, type AnyResponse } from './http-error.ts';
import { writeRawError } from './proxy.ts';

export const STATUS_TEXT: Readonly<Record<number, string>> = { 400: 'Bad Request', 404: 'Not Found', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout' };

/** Returns true when a 504 was written (the response had not started). */
export function writeTimeoutResponse(res: AnyResponse, message: string): boolean {
  if (!res.headersSent) {
    writePlain(res, 504, message);
    return true;
  }
  if (!res.writableEnded && !res.destroyed) {
    const cut = setTimeout(() => destroyResponse(res), 1000);
    (res as ServerResponse).write(message, () => {
      clearTimeout(cut);
      destroyResponse(res);
    });
  } else {
    destroyResponse(res);
  }
  return false;
}

/** A timed-out upgrade: a raw 504 if nothing was relayed yet, then the socket is closed. */
export function writeTimeoutToSocket(socket: Duplex, wrote: boolean, message: string): void {
  if (!wrote) writeRawError(socket, 504, STATUS_TEXT[504] ?? '', message);
  socket.destroy();
}

export function destroyResponse(res: AnyResponse): void {
  if ('stream' in res) res.stream.close(0x2); // HTTP/2: RST_STREAM INTERNAL_ERROR
  else res.destroy();
}
