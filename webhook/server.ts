// The admission webhook's HTTPS server (Knative's port 8443): POSTed AdmissionReviews on
// /defaulting, /resource-validation and /config-validation, answered by admission.ts. The HTTP
// rules are knative/pkg's where it has them (JSON only, else 415; a body that does not decode
// is a 400 with "could not decode body"; kubelet probes answered on any path, 503 once
// draining) plus limits it leaves to Go's server: 405 for other methods, 413 past the body
// limit, and a 500 rather than a crash if anything throws. Nothing a client sends can stop it.
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { isKubeletProbe } from '../network/headers.ts';
import { writeHttpError, writePlain } from '../network/http-error.ts';
import { listen } from '../network/listen.ts';
import { ADMISSION_PATHS, admit, parseAdmissionReview, reviewResponse, type AdmissionContext, type AdmissionPath } from './admission.ts';

/** Knative's webhook port (cmd/webhook: webhook.Options{Port: 8443}). */
export const WEBHOOK_PORT = 8443;
/**
 * An AdmissionReview carries the object and, on UPDATE, the old object; etcd caps an object
 * near 1.5 MiB, so 3 MiB holds any real review.
 */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export interface TlsFiles {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
}

export interface WebhookServerOptions {
  readonly tls: TlsFiles;
  /** Read for every request, so that a configuration reload takes effect at once. */
  readonly context: () => AdmissionContext;
  readonly log: Logger;
  /** Default 8443; 0 picks a free port. */
  readonly port?: number;
  readonly host?: string;
  readonly maxBodyBytes?: number;
  /** knative/pkg's default is TLS 1.3 (env TLS_MIN_VERSION may lower it to 1.2). */
  readonly minTlsVersion?: 'TLSv1.2' | 'TLSv1.3';
}

export interface WebhookServer {
  readonly port: number;
  /** Swaps the certificate for new connections (a renewed secret, SIGHUP). */
  setCertificate(tls: TlsFiles): void;
  /** Fails kubelet probes from now on, so the endpoint leaves the Service before closing. */
  drain(): void;
  /** Stops accepting, lets in-flight reviews finish, then closes every connection. */
  close(): Promise<void>;
}

export async function startWebhookServer(o: WebhookServerOptions): Promise<WebhookServer> {
  const maxBody = o.maxBodyBytes ?? MAX_BODY_BYTES;
  let draining = false;
  const server: Server = createServer({ cert: o.tls.cert, key: o.tls.key, minVersion: o.minTlsVersion ?? 'TLSv1.3' }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      o.log.error({ err: (err as Error).message, path: req.url }, 'admission request failed');
      if (!res.headersSent) writeHttpError(res, 500, `internal error: ${(err as Error).message}`);
      else res.destroy();
    });
  });
  // The API server waits at most 30 s for a webhook; a slower client is not one.
  server.requestTimeout = 60_000;
  server.headersTimeout = 30_000;
  server.on('tlsClientError', (err: Error) => o.log.debug({ err: err.message }, 'TLS handshake failed'));

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    // The body is read (bounded) before any answer, so that no answer races a reset socket.
    const body = await readBody(req, maxBody);
    if (isKubeletProbe(req.headers) || path === '/healthz') {
      writePlain(res, draining ? 503 : 200, draining ? 'shutting down' : 'ok');
      return;
    }
    if (!(ADMISSION_PATHS as readonly string[]).includes(path)) {
      writeHttpError(res, 404, `no admission controller at ${path}: use ${ADMISSION_PATHS.join(', ')}`);
      return;
    }
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      writeHttpError(res, 405, `method ${req.method ?? ''} not allowed: POST an AdmissionReview`);
      return;
    }
    // knative/pkg takes application/json only; parameters such as charset are tolerated.
    const mediaType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (mediaType !== 'application/json') {
      writeHttpError(res, 415, 'invalid Content-Type, want `application/json`');
      return;
    }
    if (body === undefined) {
      writeHttpError(res, 413, `request body too large: the limit is ${maxBody} bytes`);
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch (err) {
      writeHttpError(res, 400, `could not decode body: ${(err as Error).message}`);
      return;
    }
    const review = parseAdmissionReview(json);
    if (!review.ok) {
      // Without a request uid there is nothing the API server could match an answer to.
      writeHttpError(res, 400, `invalid AdmissionReview: ${review.error}`);
      return;
    }
    const started = performance.now();
    const r = review.request;
    const response = admit(path as AdmissionPath, r, o.context());
    o.log.info(
      {
        path,
        uid: r.uid,
        kind: `${r.kind.group}/${r.kind.version}, Kind=${r.kind.kind}`,
        namespace: r.namespace,
        name: r.name,
        operation: r.operation,
        allowed: response.allowed,
        ...(response.status ? { result: response.status.message } : {}),
        ...(response.warnings ? { warnings: response.warnings } : {}),
        ms: Math.round((performance.now() - started) * 1000) / 1000,
      },
      'admission review',
    );
    const text = JSON.stringify(reviewResponse(review.apiVersion, response));
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  const port = await listen(server, o.port ?? WEBHOOK_PORT, o.host);
  return {
    port,
    setCertificate(tls) {
      server.setSecureContext({ cert: tls.cert, key: tls.key });
    },
    drain() {
      draining = true;
    },
    close() {
      draining = true;
      return new Promise<void>((resolve) => {
        // Reviews take milliseconds; a connection still busy after 5 s is not worth waiting for.
        const force = setTimeout(() => server.closeAllConnections(), 5000);
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      });
    },
  };
}

/**
 * The request body, or undefined when it is over `limit`. An oversized body is still read to
 * its end (and dropped) before the 413 goes out: closing a socket with unread data resets it,
 * and the reset can destroy the answer before the client reads it. Only past four times the
 * limit is the client cut short; it gets the 413 if it is still listening.
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const hardLimit = 4 * limit;
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > hardLimit) {
    req.resume();
    return Promise.resolve(undefined);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else if (chunks.length > 0) chunks.length = 0; // over the limit: keep nothing
      if (size > hardLimit) resolve(undefined);
    });
    req.on('end', () => resolve(size > limit ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
    // A client that goes away mid-body settles it too (a no-op after 'end').
    req.on('close', () => reject(new Error('the client closed the request before its end')));
  });
}
