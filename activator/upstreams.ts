// Connections from the activator to its destinations (`ip:port` pods or a cluster IP): one
// HTTP/1.1 upstream (undici, keep-alive) and one h2c session per destination, created on first
// use and closed when the destination leaves every revision. The proxy core is network/proxy.ts.
import type { UpstreamPair } from '../network/dispatch.ts';
import { Http1Upstream, Http2Upstream } from '../network/proxy.ts';

interface Entry {
  readonly host: string;
  readonly port: number;
  readonly pair: UpstreamPair;
  h1?: Http1Upstream;
  h2?: Http2Upstream;
}

/** `ip:port` or `[v6]:port` → host and port. */
export function splitHostPort(dest: string): { host: string; port: number } {
  const colon = dest.lastIndexOf(':');
  const rawHost = colon < 0 ? dest : dest.slice(0, colon);
  const port = colon < 0 ? 80 : Number(dest.slice(colon + 1));
  const host = rawHost.startsWith('[') && rawHost.endsWith(']') ? rawHost.slice(1, -1) : rawHost;
  return { host, port };
}

export class Upstreams {
  readonly #entries = new Map<string, Entry>();
  readonly #maxHeaderSize: number;

  constructor(maxHeaderSize: number) {
    this.#maxHeaderSize = maxHeaderSize;
  }

  /** The destination's upstreams, each connected lazily on first use. */
  for(dest: string): UpstreamPair {
    let e = this.#entries.get(dest);
    if (e === undefined) {
      const { host, port } = splitHostPort(dest);
      const maxHeaderSize = this.#maxHeaderSize;
      const entry: Entry = {
        host,
        port,
        pair: {
          get http1() {
            return (entry.h1 ??= new Http1Upstream({ host, port, maxHeaderSize }));
          },
          get http2() {
            return (entry.h2 ??= new Http2Upstream(host, port));
          },
        },
      };
      this.#entries.set(dest, (e = entry));
    }
    return e.pair;
  }

  /** Closes the connections of destinations not in `live`. Requests in flight finish first. */
  retain(live: ReadonlySet<string>): void {
    for (const [dest, e] of this.#entries) {
      if (live.has(dest)) continue;
      this.#entries.delete(dest);
      e.h1?.close();
      e.h2?.close();
    }
  }

  close(): void {
    this.retain(new Set());
  }
}
