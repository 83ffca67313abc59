// The cluster domain (spec §1.13): CLUSTER_DOMAIN, else the first `svc.` search domain of
// /etc/resolv.conf, else cluster.local.
import { readFileSync } from 'node:fs';

export const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';

/** Pure: the domain from an env value and the text of resolv.conf. */
export function clusterDomainFrom(envValue: string | undefined, resolvConf: string | undefined): string {
  if (envValue) return envValue;
  for (const line of (resolvConf ?? '').split('\n')) {
    const words = line.trim().split(/\s+/);
    if (words[0] !== 'search') continue;
    const svc = words.slice(1).find((w) => w.startsWith('svc.'));
    if (svc) return svc.slice('svc.'.length).replace(/\.$/, '');
  }
  return DEFAULT_CLUSTER_DOMAIN;
}

export function clusterDomain(env: NodeJS.ProcessEnv = process.env): string {
  let resolv: string | undefined;
  try {
    resolv = readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    resolv = undefined; // no resolver file: fall through to the default
  }
  return clusterDomainFrom(env['CLUSTER_DOMAIN'], resolv);
}
