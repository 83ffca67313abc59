// The embedded runtime's ingress, in place of Envoy (net-kourier, spec §6): routes by Host to a
// route's traffic split (or a tag's revision), sets Knative-Serving-Revision/Namespace, and sends
// each request to the activator when the revision's SKS mode is Proxy or straight to a ready
// pod's queue-proxy when it is Serve. Cluster-local hosts are served only on the internal port.
// It answers the ingress probe protocol (§6.2) by rewriting `K-Network-Hash: override` to the
// route's hash, so the probe reaches a backend that echoes it. Unknown hosts get 404.
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { dispatch } from '../network/dispatch.ts';
import { HASH_HEADER, NAMESPACE_HEADER, REVISION_HEADER } from '../network/headers.ts';
import { writeHttpError, type AnyResponse } from '../network/http-error.ts';
import { writeRawError, type Exchange } from '../network/proxy.ts';
import { STATUS_TEXT } from '../network/timeout-response.ts';
import type { Upstreams } from '../activator/upstreams.ts';

export type Visibility = 'external' | 'cluster-local';

/** One host's rule: the revisions it splits between (percents sum to 100). */
export interface HostRule {
  readonly host: string;
  readonly namespace: string;
  readonly route: string;
  readonly visibility: Visibility;
  readonly targets: readonly { readonly revision: string; readonly percent: number }[];
}

/** Where a revision's traffic goes now. */
export interface RevisionRouting {
  /** 'activator' in Proxy mode; else the ready pods' queue-proxy addresses. */
  destinationsFor(namespace: string, revision: string): { readonly via: 'activator' } | { readonly via: 'pods'; readonly pods: readonly string[] };
}

export interface IngressOptions {
  readonly routing: RevisionRouting;
  readonly activator: () => string | undefined;
  readonly upstreams: Upstreams;
  readonly log: Logger;
  readonly random?: () => number;
}

/** The ingress probe hash of spec §6.2 over a route's rules. */
export function ingressHash(rules: readonly HostRule[], namespace: string, name: string): string {
  return createHash('sha256').update(JSON.stringify(rules)).update(namespace).update(name).digest('hex');
}

interface CompiledRule {
  readonly rule: HostRule;
  readonly hash: string;
  /** Cumulative percents for the weighted pick. */
  readonly cumulative: readonly number[];
}

const first = (v: string | string[] | undefined): string => (Array.isArray(v) ? (v[0] ?? '') : (v ?? ''));

/** Host without the port, lowercased. */
export function hostOf(raw: string): string {
  const h = raw.toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const colon = h.lastIndexOf(':');
  return colon < 0 ? h : h.slice(0, colon);
}

export class Ingress {
  readonly #o: IngressOptions;
  readonly #random: () => number;
  #rules = new Map<string, CompiledRule>();
  readonly #rr = new Map<string, number>();

  constructor(options: IngressOptions) {
    this.#o = options;
    this.#random = options.random ?? Math.random;
  }

  /** Replaces the whole routing table (a new KIngress generation). */
  setRules(rules: readonly HostRule[]): void {
    const byRoute = new Map<string, HostRule[]>();
    for (const r of rules) {
      const k = `${r.namespace}/${r.route}`;
      byRoute.set(k, [...(byRoute.get(k) ?? []), r]);
    }
    const next = new Map<string, CompiledRule>();
    for (const [k, rs] of byRoute) {
      const [namespace = '', route = ''] = k.split('/');
      const hash = ingressHash(rs, namespace, route);
      for (const rule of rs) {
        let sum = 0;
        next.set(rule.host, { rule, hash, cumulative: rule.targets.map((t) => (sum += t.percent)) });
      }
    }
    this.#rules = next;
  }

  /** The hash a probe through `host` must see echoed, for readiness checks. */
  hashFor(host: string): string | undefined {
    return this.#rules.get(host)?.hash;
  }

  /** A handler for one listener; `internal` also serves cluster-local hosts. */
  handler(internal: boolean): { request: (req: IncomingMessage | Http2ServerRequest, res: AnyResponse) => void; upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void } {
    return {
      request: (req, res) => this.#route(req, res, undefined, internal),
      upgrade: (req, socket, head) => {
        socket.on('error', () => socket.destroy());
        this.#route(req, undefined, { socket, head }, internal);
      },
    };
  }

  #route(req: IncomingMessage | Http2ServerRequest, res: AnyResponse | undefined, upgrade: { socket: Duplex; head: Buffer } | undefined, internal: boolean): void {
    const headers = req.headers;
    const host = hostOf(first(headers[':authority']) || first(headers.host));
    const c = this.#rules.get(host);
    if (c === undefined || (c.rule.visibility === 'cluster-local' && !internal)) {
      fail(res, upgrade, 404, `no route for host ${JSON.stringify(host)}`);
      return;
    }
    const revision = this.#pick(c);
    if (revision === undefined) {
      fail(res, upgrade, 503, `route ${c.rule.namespace}/${c.rule.route} has no traffic target`);
      return;
    }
    // The probe copy of every path: `K-Network-Hash: override` becomes the route's hash.
    if (first(headers[HASH_HEADER]) === 'override') headers[HASH_HEADER] = c.hash;
    headers[REVISION_HEADER] = revision;
    headers[NAMESPACE_HEADER] = c.rule.namespace;
    const dest = this.#destination(c.rule.namespace, revision);
    if (dest === undefined) {
      fail(res, upgrade, 503, 'no healthy upstream');
      return;
    }
    dispatch(req, res, upgrade, this.#o.upstreams.for(dest), new IngressExchange(this.#o.log, res, upgrade, dest));
  }

  #pick(c: CompiledRule): string | undefined {
    const total = c.cumulative.at(-1) ?? 0;
    if (total <= 0) return undefined;
    const x = this.#random() * total;
    const i = c.cumulative.findIndex((cum) => x < cum);
    return c.rule.targets[i < 0 ? c.rule.targets.length - 1 : i]?.revision;
  }

  #destination(namespace: string, revision: string): string | undefined {
    const d = this.#o.routing.destinationsFor(namespace, revision);
    if (d.via === 'activator') return this.#o.activator();
    if (d.pods.length === 0) return this.#o.activator();
    const key = `${namespace}/${revision}`;
    const i = (this.#rr.get(key) ?? 0) % d.pods.length;
    this.#rr.set(key, i + 1);
    return d.pods[i];
  }

}

function fail(res: AnyResponse | undefined, upgrade: { socket: Duplex } | undefined, status: number, message: string): void {
  if (upgrade) {
    writeRawError(upgrade.socket, status, STATUS_TEXT[status] ?? '', message + '\n');
    upgrade.socket.destroy();
  } else if (res) writeHttpError(res, status, message);
}

/** What the proxy reports back for one request: only a failure before the answer matters here. */
class IngressExchange implements Exchange {
  readonly #log: Logger;
  readonly #res: AnyResponse | undefined;
  readonly #upgrade: { socket: Duplex } | undefined;
  readonly #dest: string;

  constructor(log: Logger, res: AnyResponse | undefined, upgrade: { socket: Duplex } | undefined, dest: string) {
    this.#log = log;
    this.#res = res;
    this.#upgrade = upgrade;
    this.#dest = dest;
  }

  onResponseStart(): void {}
  onWrite(): void {}
  onEnd(): void {}

  onUpstreamError(err: Error): void {
    this.#log.debug({ dest: this.#dest, err: err.message }, 'ingress upstream error');
    fail(this.#res, this.#upgrade, 503, `upstream connect error or disconnect/reset before headers. reset reason: ${err.message}`);
  }
}
