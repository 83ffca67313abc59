// RFC 7239 `Forwarded` synthesis from X-Forwarded-* headers (Knative's forwarded shim, spec §1.3
// step 8): apps that read only `Forwarded` still learn the client and scheme. Also the
// X-Forwarded-For append that Go reverse proxies (activator and queue-proxy) do.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v.join(', ') : v);

function node(n: string): string {
  // A node with a colon is an IPv6 address, which RFC 7239 wants quoted and bracketed.
  return n.includes(':') ? `"[${n}]"` : n;
}

/** The Forwarded value to add, or undefined when none is needed. */
export function synthesizeForwarded(headers: IncomingHttpHeaders): string | undefined {
  if (headers['forwarded'] !== undefined) return undefined;
  const xff = one(headers['x-forwarded-for']);
  const proto = one(headers['x-forwarded-proto']);
  const host = one(headers['x-forwarded-host']);
  if (xff === undefined && proto === undefined && host === undefined) return undefined;
  const nodes = xff === undefined ? [] : xff.split(',').map((s) => s.trim());
  let out = '';
  if (nodes.length > 0) out = `for=${node(nodes[0] ?? '')}`;
  if (host !== undefined) out += `${out ? ';' : ''}host=${host}`;
  if (proto !== undefined) out += `${out ? ';' : ''}proto=${proto}`;
  for (const n of nodes.slice(1)) out += `, for=${node(n)}`;
  return out;
}

/** Appends the client address to X-Forwarded-For, as Go's ReverseProxy does. */
export function appendForwardedFor(headers: OutgoingHttpHeaders, remote: string | undefined): void {
  if (!remote) return;
  const ip = remote.startsWith('::ffff:') ? remote.slice(7) : remote;
  const prior = headers['x-forwarded-for'];
  headers['x-forwarded-for'] = prior === undefined ? ip : `${Array.isArray(prior) ? prior.join(', ') : String(prior)}, ${ip}`;
}
