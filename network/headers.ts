// Knative's wire headers and probe user agents (spec §6.4), lowercased as Node presents them,
// and the probe classifications the queue-proxy and the activator share.
import type { IncomingHttpHeaders } from 'node:http';

export const PROBE_HEADER = 'k-network-probe';
export const HASH_HEADER = 'k-network-hash';
export const PROXY_HEADER = 'k-proxy-request';
export const ORIGINAL_HOST_HEADER = 'k-original-host';
export const KUBELET_PROBE_HEADER = 'k-kubelet-probe';
export const PASSTHROUGH_LB_HEADER = 'k-passthrough-lb';
export const REVISION_HEADER = 'knative-serving-revision';
export const NAMESPACE_HEADER = 'knative-serving-namespace';
export const TAG_HEADER = 'knative-serving-tag';
export const DEFAULT_ROUTE_HEADER = 'knative-serving-default-route';

/** The K-Network-Probe value of the ingress prober, the queue-proxy and the activator. */
export const PROBE_INGRESS = 'probe';
export const PROBE_QUEUE = 'queue';
export const PROBE_ACTIVATOR = 'activator';
/** K-Proxy-Request value the activator sets on what it forwards. */
export const PROXY_ACTIVATOR = 'activator';

export const KUBE_PROBE_UA_PREFIX = 'kube-probe/';
export const ACTIVATOR_PROBE_UA = 'Knative-Activator-Probe';
export const AUTOSCALING_PROBE_UA = 'Knative-Autoscaling-Probe';
export const INGRESS_PROBE_UA = 'Knative-Ingress-Probe';
export const QUEUE_PROXY_PROBE_UA = 'Knative-Queue-Proxy-Probe';

const first = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

/** kubelet (or an Istio-rewritten kubelet probe): networking's IsKubeletProbe. */
export function isKubeletProbe(headers: IncomingHttpHeaders): boolean {
  const ua = headers['user-agent'];
  return (ua !== undefined && ua.startsWith(KUBE_PROBE_UA_PREFIX)) || !!first(headers[KUBELET_PROBE_HEADER]);
}

/** The drainer's health-check test: by User-Agent only, ignoring K-Kubelet-Probe. */
export function isHealthCheck(headers: IncomingHttpHeaders): boolean {
  const ua = headers['user-agent'];
  if (ua === undefined) return false;
  return ua.startsWith(KUBE_PROBE_UA_PREFIX) || ua.startsWith(ACTIVATOR_PROBE_UA) || ua.startsWith(AUTOSCALING_PROBE_UA);
}

/** Probes are kept out of metrics, traces and request logs. */
export function isProbe(headers: IncomingHttpHeaders): boolean {
  return isKubeletProbe(headers) || !!first(headers[PROBE_HEADER]);
}
