// User-facing request metrics (spec §1.9) with prom-client, served on :9091 when
// config-observability's request-metrics-protocol is prometheus: the invocation duration
// histogram and the queue depth gauge, named as Knative's Prometheus exporter names them.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import { Gauge, Histogram, Registry } from 'prom-client';
import { DEFAULT_ROUTE_HEADER, TAG_HEADER } from '../network/headers.ts';
import type { RequestObserver } from './handler.ts';

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

/** The `kn.route.tag` attribute (spec §1.3 step 6). */
export function routeTag(headers: IncomingMessage['headers']): string {
  const tag = headers[TAG_HEADER];
  const def = headers[DEFAULT_ROUTE_HEADER];
  if (typeof tag !== 'string' || tag === '') return def === undefined ? 'kn:disabled' : 'kn:default';
  return def === 'true' ? 'kn:undefined' : tag;
}

export interface RevisionLabels {
  readonly namespace: string;
  readonly service: string;
  readonly configuration: string;
  readonly revision: string;
  readonly pod: string;
}

export class UserMetrics implements RequestObserver {
  readonly registry = new Registry();
  readonly #duration: Histogram<'http_response_status_code' | 'kn_route_tag'>;
  readonly #depth: Gauge;
  readonly #queueDepth: () => number | undefined;

  constructor(labels: RevisionLabels, queueDepth: () => number | undefined) {
    this.registry.setDefaultLabels({
      k8s_namespace_name: labels.namespace,
      k8s_pod_name: labels.pod,
      k8s_container_name: 'queue-proxy',
      kn_service_name: labels.service,
      kn_configuration_name: labels.configuration,
      kn_revision_name: labels.revision,
    });
    this.#queueDepth = queueDepth;
    this.#duration = new Histogram({
      name: 'kn_serving_invocation_duration_seconds',
      help: 'The duration of requests to the user container',
      labelNames: ['http_response_status_code', 'kn_route_tag'],
      buckets: BUCKETS,
      registers: [this.registry],
    });
    this.#depth = new Gauge({ name: 'kn_serving_queue_depth', help: 'Requests in the breaker (running and queued)', registers: [this.registry] });
  }

  onStart(): void {
    const depth = this.#queueDepth();
    if (depth !== undefined) this.#depth.set(depth);
  }

  onEnd(req: IncomingMessage | Http2ServerRequest, status: number, _bytes: number, seconds: number, probe: boolean): void {
    if (probe) return;
    this.#duration.observe({ http_response_status_code: String(status), kn_route_tag: routeTag(req.headers) }, seconds);
  }

  createServer(): Server {
    return createServer((req, res) => {
      if ((req.url ?? '').split('?')[0] !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('404 page not found\n');
        return;
      }
      this.registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': this.registry.contentType });
          res.end(text);
        },
        (err: Error) => {
          res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
          res.end(`${err.message}\n`);
        },
      );
    });
  }
}
