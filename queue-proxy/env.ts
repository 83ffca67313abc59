// The queue-proxy's environment (spec §1.1): the variables Knative's revision reconciler sets,
// with envconfig's rules (required means present, even if empty; ints in any Go base), plus
// knts's own local-use overrides. Pure: an env record in, a typed config or an error out.
import { SECOND } from '../config/duration.ts';
import { EnvReader as Reader, type Env } from '../config/env-reader.ts';

export interface RequestMetricsConfig {
  readonly protocol: string;
  readonly endpoint: string;
}

export interface QueueEnv {
  readonly containerConcurrency: number;
  readonly servingPort: number;
  readonly servingTlsPort: number;
  readonly userPort: number;
  readonly revisionTimeoutSeconds: number;
  readonly responseStartTimeoutSeconds: number;
  readonly idleTimeoutSeconds: number;
  readonly readinessProbe: string;
  readonly enableHttpFullDuplex: boolean;
  readonly enableHttp2AutoDetection: boolean;
  readonly enableMultiContainerProbes: boolean;
  readonly loggingConfig: string;
  readonly loggingLevel: string;
  readonly namespace: string;
  readonly service: string;
  readonly configuration: string;
  readonly revision: string;
  readonly pod: string;
  readonly podIp: string;
  readonly enableRequestLog: boolean;
  readonly requestLogTemplate: string;
  readonly enableProbeRequestLog: boolean;
  readonly requestMetrics: RequestMetricsConfig;
  // knts extensions, for running outside a pod.
  readonly listenHost: string;
  readonly userHost: string;
  readonly adminPort: number;
  readonly metricsPort: number;
  readonly userMetricsPort: number;
  /** Milliseconds. */
  readonly drainQuietPeriodMs: number;
  readonly hijackedDrainTimeoutMs: number;
  /** Exempts upgraded (WebSocket) connections from the response-start and idle timers. */
  readonly upgradeTimeoutExempt: boolean;
  /** Drain and exit when the parent process goes away (local pods of `knts serve`, tests). */
  readonly exitWithParent: boolean;
}

export type EnvResult = { ok: true; env: QueueEnv } | { ok: false; errors: string[] };

interface ObservabilityJson {
  requestMetrics?: { protocol?: unknown; endpoint?: unknown };
  enableRequestLog?: unknown;
  requestLogTemplate?: unknown;
  enableProbeRequestLog?: unknown;
}

function parseObservability(raw: string | undefined, errors: string[]): ObservabilityJson {
  if (raw === undefined || raw === '') return {};
  try {
    const v: unknown = JSON.parse(raw);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not a JSON object');
    return v as ObservabilityJson;
  } catch (err) {
    errors.push(`OBSERVABILITY_CONFIG: invalid JSON: ${(err as Error).message}`);
    return {};
  }
}

export function parseQueueEnv(env: Env): EnvResult {
  const r = new Reader(env);
  const cc = r.int('CONTAINER_CONCURRENCY', true);
  const servingPort = r.port('QUEUE_SERVING_PORT', true, 8012);
  const servingTlsPort = r.port('QUEUE_SERVING_TLS_PORT', true, 8112);
  const userPort = r.port('USER_PORT', true, 8080);
  const timeout = r.int('REVISION_TIMEOUT_SECONDS', true);
  const obs = parseObservability(env['OBSERVABILITY_CONFIG'], r.errors);
  const rm = obs.requestMetrics ?? {};
  const result: QueueEnv = {
    containerConcurrency: cc,
    servingPort,
    servingTlsPort,
    userPort,
    revisionTimeoutSeconds: timeout,
    responseStartTimeoutSeconds: r.int('REVISION_RESPONSE_START_TIMEOUT_SECONDS', false),
    idleTimeoutSeconds: r.int('REVISION_IDLE_TIMEOUT_SECONDS', false),
    readinessProbe: r.string('SERVING_READINESS_PROBE', false),
    enableHttpFullDuplex: r.bool('ENABLE_HTTP_FULL_DUPLEX'),
    enableHttp2AutoDetection: r.bool('ENABLE_HTTP2_AUTO_DETECTION'),
    enableMultiContainerProbes: r.bool('ENABLE_MULTI_CONTAINER_PROBES'),
    loggingConfig: r.string('SERVING_LOGGING_CONFIG', true),
    loggingLevel: r.string('SERVING_LOGGING_LEVEL', true),
    namespace: r.string('SERVING_NAMESPACE', true),
    service: r.string('SERVING_SERVICE', false),
    configuration: r.string('SERVING_CONFIGURATION', true),
    revision: r.string('SERVING_REVISION', true),
    pod: r.string('SERVING_POD', true),
    podIp: r.string('SERVING_POD_IP', true),
    enableRequestLog: obs.enableRequestLog === true,
    requestLogTemplate: typeof obs.requestLogTemplate === 'string' ? obs.requestLogTemplate : '',
    enableProbeRequestLog: obs.enableProbeRequestLog === true,
    requestMetrics: {
      protocol: typeof rm.protocol === 'string' && rm.protocol !== '' ? rm.protocol : 'none',
      endpoint: typeof rm.endpoint === 'string' ? rm.endpoint : '',
    },
    listenHost: r.string('KNTS_LISTEN_HOST', false),
    userHost: r.string('KNTS_USER_HOST', false, '127.0.0.1') || '127.0.0.1',
    adminPort: r.port('KNTS_ADMIN_PORT', false, 8022),
    metricsPort: r.port('KNTS_METRICS_PORT', false, 9090),
    userMetricsPort: r.port('KNTS_USER_METRICS_PORT', false, 9091),
    drainQuietPeriodMs: r.durationMs('KNTS_DRAIN_QUIET_PERIOD', 30 * SECOND / 1e6),
    hijackedDrainTimeoutMs: r.durationMs('KNTS_DRAIN_HIJACKED_TIMEOUT', 60 * SECOND / 1e6),
    upgradeTimeoutExempt: r.bool('KNTS_UPGRADE_TIMEOUT_EXEMPT'),
    exitWithParent: r.bool('KNTS_EXIT_WITH_PARENT'),
  };
  if (result.enableRequestLog && result.requestLogTemplate === '') {
    r.errors.push('OBSERVABILITY_CONFIG: enableRequestLog is true but requestLogTemplate is empty');
  }
  return r.errors.length > 0 ? { ok: false, errors: r.errors } : { ok: true, env: result };
}
