// The activator probe of the scale-to-zero gate (spec §3.6, Knative scaler.go activatorProbe):
// GET the revision's public service /healthz with the activator probe headers, on a fresh
// connection. Only the activator answers 200 `activator` there, so success proves the activator
// is in the request path and the pods can go.
import { request } from 'node:http';

export const PROBE_USER_AGENT = 'Knative-Autoscaling-Probe';
export const PROBE_HEADER = 'K-Network-Probe';
export const ACTIVATOR_PROBE_VALUE = 'activator';
/** Not in Knative's synchronous probe; a bound so a black-holed service cannot stall a reconcile. */
export const DEFAULT_PROBE_TIMEOUT_MS = 10_000;

/** Probes the activator in front of a revision, given its key and the PA's status.serviceName. */
export type ActivatorProber = (revisionKey: string, serviceName: string) => Promise<boolean>;

/** http://<service>.<ns>.svc.<domain>:<port>/healthz; port 80 (81 for h2c revisions). */
export function activatorProbeUrl(serviceName: string, namespace: string, clusterDomain: string, port = 80): string {
  return `http://${serviceName}.${namespace}.svc.${clusterDomain}:${port}/healthz`;
}

/** One probe: true iff the answer is 200 with a body of exactly `activator`. Never throws. */
export function probeActivatorHttp(url: string, timeoutMs = DEFAULT_PROBE_TIMEOUT_MS): Promise<boolean> {
  return new Promise((resolve) => {
    // agent: false — a new connection each time, as Knative's probe transport disables keep-alive.
    const req = request(url, { agent: false, headers: { 'user-agent': PROBE_USER_AGENT, [PROBE_HEADER]: ACTIVATOR_PROBE_VALUE }, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(res.statusCode === 200 && Buffer.concat(chunks).toString('utf8') === ACTIVATOR_PROBE_VALUE));
      res.on('error', () => resolve(false));
    });
    req.on('timeout', () => req.destroy(new Error('activator probe timed out')));
    req.on('error', () => resolve(false));
    req.end();
  });
}

/** The production prober: the revision's namespace from its `namespace/name` key. */
export function httpActivatorProber(clusterDomain: string, port = 80, timeoutMs = DEFAULT_PROBE_TIMEOUT_MS): ActivatorProber {
  return (revisionKey, serviceName) => {
    const namespace = revisionKey.slice(0, revisionKey.indexOf('/'));
    return probeActivatorHttp(activatorProbeUrl(serviceName, namespace, clusterDomain, port), timeoutMs);
  };
}
