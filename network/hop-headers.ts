// Hop-by-hop headers (RFC 9110 §7.6.1) that a proxy must not forward, as Go's ReverseProxy
// removes them: the fixed set plus any named in Connection. Upgrades keep Connection/Upgrade.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

const HOP = ['connection', 'proxy-connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade'];
const HOP_SET = new Set(HOP);

/** Removes hop-by-hop request headers in place; keeps `te: trailers` (gRPC needs it). */
export function stripHopRequestHeaders(h: IncomingHttpHeaders | OutgoingHttpHeaders, keepUpgrade: boolean): void {
  const conn = h['connection'];
  if (typeof conn === 'string' && conn !== 'keep-alive' && conn !== 'close') {
    for (const name of conn.split(',')) {
      const n = name.trim().toLowerCase();
      if (n && !(keepUpgrade && n === 'upgrade')) delete h[n];
    }
  }
  const te = h['te'];
  for (const name of HOP) {
    if (h[name] === undefined) continue;
    if (keepUpgrade && (name === 'connection' || name === 'upgrade')) continue;
    delete h[name];
  }
  if (typeof te === 'string' && /(^|,)\s*trailers\s*(,|$)/i.test(te)) h['te'] = 'trailers';
  if (keepUpgrade) h['connection'] = 'Upgrade';
}

/** Response raw headers ([k, v, k, v, …]) without hop-by-hop entries; Node frames the body itself. */
export function filterResponseRawHeaders(raw: readonly string[]): string[] {
  let connNames: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if ((raw[i] ?? '').toLowerCase() === 'connection') {
      connNames ??= new Set();
      for (const n of (raw[i + 1] ?? '').split(',')) connNames.add(n.trim().toLowerCase());
    }
  }
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i] ?? '';
    const lower = k.toLowerCase();
    if (HOP_SET.has(lower) || connNames?.has(lower)) continue;
    out.push(k, raw[i + 1] ?? '');
  }
  return out;
}

/** Whether a request carries a body (HTTP/1.1 framing); ask before hop headers are removed. */
export function requestHasBody(h: IncomingHttpHeaders): boolean {
  const length = h['content-length'];
  return length !== undefined ? length !== '0' : h['transfer-encoding'] !== undefined;
}
