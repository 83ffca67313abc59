// A real HTTPS admission webhook on an ephemeral port with a fresh self-signed certificate, and
// a client that trusts exactly that certificate, for the webhook's black-box tests.
import { request } from 'node:https';
import { pino } from 'pino';
import { effectiveConfig, asConfigMap, type ConfigMapDocument } from '../../config/configmaps.ts';
import type { AdmissionContext, ServingSemantics } from '../../webhook/admission.ts';
import { selfSignedCertificate } from '../../webhook/self-signed.ts';
import { startWebhookServer, type WebhookServer } from '../../webhook/server.ts';

export interface TestWebhook {
  readonly server: WebhookServer;
  readonly ca: string;
  /** Replaces the configuration the next reviews see. */
  setContext(ctx: AdmissionContext): void;
  close(): Promise<void>;
}

/** The effective configuration of `config-*` maps given as {name: data}. */
export function configOf(maps: Readonly<Record<string, Readonly<Record<string, string>>>> = {}): AdmissionContext['config'] {
  const docs: ConfigMapDocument[] = Object.entries(maps).map(([name, data]) => {
    const { map } = asConfigMap({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data }, name);
    if (!map) throw new Error(`bad config map ${name}`);
    return map;
  });
  const r = effectiveConfig(docs);
  if (r.errors.length > 0) throw new Error(r.errors.join('\n'));
  return r.config;
}

export async function startTestWebhook(semantics: ServingSemantics, opts: { maxBodyBytes?: number; config?: AdmissionContext['config'] } = {}): Promise<TestWebhook> {
  const { cert, key } = selfSignedCertificate();
  let ctx: AdmissionContext = { config: opts.config ?? configOf(), semantics, clusterDomain: 'cluster.local' };
  const server = await startWebhookServer({
    tls: { cert, key },
    context: () => ctx,
    log: pino({ level: 'silent' }),
    port: 0,
    host: '127.0.0.1',
    ...(opts.maxBodyBytes === undefined ? {} : { maxBodyBytes: opts.maxBodyBytes }),
  });
  return {
    server,
    ca: cert,
    setContext(c) {
      ctx = c;
    },
    close: () => server.close(),
  };
}

export interface HttpsReply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

export interface SendOptions {
  readonly method?: string;
  readonly contentType?: string | null;
  readonly headers?: Record<string, string>;
}

/** One request over TLS, trusting only `ca`, with SNI as the API server sends it. */
export function send(port: number, ca: string, path: string, body: string | Buffer | undefined, o: SendOptions = {}): Promise<HttpsReply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...(o.headers ?? {}) };
    if (o.contentType !== null) headers['content-type'] = o.contentType ?? 'application/json';
    const req = request(
      { host: '127.0.0.1', port, path, method: o.method ?? 'POST', ca, servername: 'webhook.knative-serving.svc', headers, agent: false },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export interface ReviewOut {
  readonly apiVersion: string;
  readonly kind: string;
  readonly response: {
    readonly uid: string;
    readonly allowed: boolean;
    readonly patchType?: string;
    readonly patch?: string;
    readonly status?: { readonly code: number; readonly message: string; readonly reason?: string; readonly status?: string };
    readonly warnings?: readonly string[];
  };
}

/** POSTs an AdmissionReview with this request and returns the parsed answer. */
export async function review(port: number, ca: string, path: string, req: Record<string, unknown>): Promise<ReviewOut> {
  const r = await send(port, ca, path, JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: req }));
  if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${r.body}`);
  return JSON.parse(r.body) as ReviewOut;
}
