// The request log (spec §1.3 step 2): when config-observability enables it, one line per
// request, rendered from Knative's Go template (`logging.request-log-template`) with the same
// inputs, written to stdout after the request finishes. Probes are logged only on request.
import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import { parseTemplate, type Template } from '../config/go-template.ts';
import type { RequestObserver } from './handler.ts';

export interface RevisionInfo {
  readonly Name: string;
  readonly Namespace: string;
  readonly Service: string;
  readonly Configuration: string;
  readonly PodName: string;
  readonly PodIP: string;
}

const header = (req: IncomingMessage | Http2ServerRequest, name: string): string => {
  const v = req.headers[name];
  return Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
};

/** The trace id from W3C traceparent, else B3. */
export function traceIdOf(req: IncomingMessage | Http2ServerRequest): string {
  const tp = header(req, 'traceparent');
  const m = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/.exec(tp);
  if (m) return m[1] ?? '';
  return header(req, 'x-b3-traceid');
}

export class RequestLog implements RequestObserver {
  readonly #template: Template;
  readonly #revision: RevisionInfo;
  readonly #logProbes: boolean;
  readonly #write: (line: string) => void;

  constructor(template: string, revision: RevisionInfo, logProbes: boolean, write: (line: string) => void = (l) => process.stdout.write(l)) {
    this.#template = parseTemplate(template, 'requestLog');
    this.#revision = revision;
    this.#logProbes = logProbes;
    this.#write = write;
  }

  onEnd(req: IncomingMessage | Http2ServerRequest, status: number, bytes: number, seconds: number, probe: boolean): void {
    if (probe && !this.#logProbes) return;
    const length = header(req, 'content-length');
    const remote = req.socket?.remoteAddress ?? '';
    const request = {
      Method: req.method ?? '',
      RequestURI: req.url ?? '',
      ContentLength: length === '' ? (header(req, 'transfer-encoding') ? -1 : 0) : Number(length),
      UserAgent: header(req, 'user-agent'),
      Referer: header(req, 'referer'),
      RemoteAddr: `${remote.startsWith('::ffff:') ? remote.slice(7) : remote}:${req.socket?.remotePort ?? 0}`,
      Proto: `HTTP/${req.httpVersionMajor}.${req.httpVersionMinor}`,
      Host: header(req, 'host') || header(req, ':authority'),
    };
    let line: string;
    try {
      line = this.#template.execute({ Request: request, Response: { Code: status, Size: bytes, Latency: seconds }, Revision: this.#revision, TraceID: traceIdOf(req) });
    } catch {
      line = `Invalid request log template: method: ${request.Method}, response code: ${status}, latency: ${seconds}, url: ${request.RequestURI}`;
    }
    this.#write(line.endsWith('\n') ? line : line + '\n');
  }
}
