// Connections from the activator to its destinations (`ip:port` pods or a cluster IP): one
// HTTP/1.1 upstream (undici, keep-alive) and one h2c session per destination, created on first
// use and closed when the destination leaves every revision. The proxy core is network/proxy.ts.
import { Http1Upstream, Http2Upstream } from '../network/proxy.ts';

interface Entry {
  readonly host: string;
  readonly port: number;
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

  #entry(dest: string): Entry {
    let e = this.#entries.get(dest);
    if (e === undefined) {
      e = splitHostPort(dest);
      this.#entries.set(dest, e);
    }
    return e;
  }

  http1(dest: string): Http1Upstream {
    const e = this.#entry(dest);
    return (e.h1 ??= new Http1Upstream({ host: e.host, port: e.port, maxHeaderSize: this.#maxHeaderSize }));
  }

  http2(dest: string): Http2Upstream {
    const e = this.#entry(dest);
    return (e.h2 ??= new Http2Upstream(e.host, e.port));
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
