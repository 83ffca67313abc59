// The queue-proxy environment for a local pod, as Knative's revision reconciler builds it
// (spec §1.1, `makeQueueContainer`): the revision's concurrency and timeouts, its readiness probe
// with the port filled in, identity, logging and observability, plus the knts extensions that
// put every port on 127.0.0.1 and shorten the drain (locally the pod leaves routing before
// SIGTERM, so the 30 s quiet period for kube-proxy stragglers would only slow rollouts down).
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { V1Probe } from '@kubernetes/client-node';
import type { EffectiveConfig } from '../config/configmaps.ts';
import { HTTP_FULL_DUPLEX_ANNOTATION } from '../config/annotations.ts';
import type { Container, RevisionSpec } from '../webhook/types.ts';

export interface QueueEnvInput {
  readonly namespace: string;
  readonly revision: string;
  readonly configuration: string;
  readonly service: string;
  readonly podName: string;
  readonly spec: RevisionSpec;
  readonly annotations: Readonly<Record<string, string>>;
  readonly config: EffectiveConfig;
  readonly userPort: number;
  /** KNTS_DRAIN_QUIET_PERIOD for local pods. */
  readonly drainQuietPeriod: string;
}

/** The serving container: the only one, or the one with ports (spec §5.1). */
export function servingContainer(spec: RevisionSpec): Container | undefined {
  const cs = spec.containers ?? [];
  return cs.length === 1 ? cs[0] : cs.find((c) => (c.ports ?? []).length > 0);
}

/** The readiness probe as queue-proxy runs it: the port resolved to the user port. */
export function readinessProbeJson(probe: V1Probe | undefined, userPort: number): string {
  if (probe === undefined) return JSON.stringify({ tcpSocket: { port: userPort } });
  const out: V1Probe = { ...probe };
  if (probe.httpGet) out.httpGet = { ...probe.httpGet, port: userPort };
  else if (probe.tcpSocket) out.tcpSocket = { ...probe.tcpSocket, port: userPort };
  else if (probe.grpc) out.grpc = { ...probe.grpc, port: userPort };
  else if (!probe.exec) out.tcpSocket = { port: userPort };
  return JSON.stringify(out);
}

/** One compile cache per user and node version, shared by every local queue-proxy. */
export function compileCacheDir(): string {
  return join(tmpdir(), `knts-compile-cache-${userInfo().uid}`);
}

export function queueEnv(i: QueueEnvInput): Record<string, string> {
  const spec = i.spec;
  const c = servingContainer(spec);
  const fullDuplex = (i.annotations[HTTP_FULL_DUPLEX_ANNOTATION] ?? '').toLowerCase() === 'enabled';
  return {
    PATH: process.env['PATH'] ?? '',
    CONTAINER_CONCURRENCY: String(spec.containerConcurrency ?? 0),
    QUEUE_SERVING_TLS_PORT: '8112',
    REVISION_TIMEOUT_SECONDS: String(spec.timeoutSeconds ?? 0),
    REVISION_RESPONSE_START_TIMEOUT_SECONDS: String(spec.responseStartTimeoutSeconds ?? 0),
    REVISION_IDLE_TIMEOUT_SECONDS: String(spec.idleTimeoutSeconds ?? 0),
    SERVING_READINESS_PROBE: readinessProbeJson(c?.readinessProbe, i.userPort),
    ENABLE_HTTP_FULL_DUPLEX: String(fullDuplex),
    ENABLE_HTTP2_AUTO_DETECTION: String(i.config.features.autodetectHttp2 === 'enabled'),
    ENABLE_MULTI_CONTAINER_PROBES: 'false',
    SERVING_LOGGING_CONFIG: '',
    // Info at least: the runtime reads the "queue-proxy listening" line for the pod's ports (and
    // shows only warnings in the terminal unless loglevel.queueproxy is set).
    SERVING_LOGGING_LEVEL: i.config.logging.levels['queueproxy'] ?? 'info',
    SERVING_NAMESPACE: i.namespace,
    SERVING_SERVICE: i.service,
    SERVING_CONFIGURATION: i.configuration,
    SERVING_REVISION: i.revision,
    SERVING_POD: i.podName,
    SERVING_POD_IP: '127.0.0.1',
    SYSTEM_NAMESPACE: 'knative-serving',
    KNTS_DRAIN_QUIET_PERIOD: i.drainQuietPeriod,
    KNTS_EXIT_WITH_PARENT: 'true',
    // Node's compile cache makes every queue-proxy start after the first one about twice as fast.
    NODE_COMPILE_CACHE: compileCacheDir(),
  };
}
