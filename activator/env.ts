// The activator's environment (spec §2.1) with envconfig's rules, plus knts's extensions for
// running outside a cluster and for bounded buffering. Pure: an env record in, a typed config
// or every error out.
import { EnvReader, type Env } from '../config/env-reader.ts';
import { DEFAULT_BUFFER_LIMITS, type BufferLimitsConfig } from './buffer-limits.ts';

export interface ActivatorEnv {
  readonly podName: string;
  readonly podIp: string;
  readonly maxIdleProxyConns: number;
  readonly maxIdleProxyConnsPerHost: number;
  readonly probeTimeoutMs: number;
  readonly probeFrequencyMs: number;
  readonly systemNamespace: string;
  // knts extensions.
  /** The autoscaler's stat websocket; default ws://autoscaler.<ns>.svc.<clusterDomain>:8080. */
  readonly autoscalerUrl: string | undefined;
  readonly listenHost: string;
  readonly httpPort: number;
  readonly h2cPort: number;
  readonly metricsPort: number;
  /** After SIGTERM: keep serving (health failing) this long, then shut down. Knative: 45 s. */
  readonly drainTimeoutMs: number;
  readonly limits: BufferLimitsConfig;
  /** A revisions-and-endpoints file for the static backend source (YAML or JSON). */
  readonly backendsFile: string | undefined;
}

export type ActivatorEnvResult = { ok: true; env: ActivatorEnv } | { ok: false; errors: string[] };

export function parseActivatorEnv(env: Env): ActivatorEnvResult {
  const r = new EnvReader(env);
  const autoscalerUrl = r.string('KNTS_AUTOSCALER_URL', false);
  const backendsFile = r.string('KNTS_BACKENDS_FILE', false);
  const out: ActivatorEnv = {
    podName: r.string('POD_NAME', true),
    podIp: r.string('POD_IP', true),
    maxIdleProxyConns: r.int('MAX_IDLE_PROXY_CONNS', false, 1000),
    maxIdleProxyConnsPerHost: r.int('MAX_IDLE_PROXY_CONNS_PER_HOST', false, 100),
    probeTimeoutMs: r.durationMs('PROBE_TIMEOUT', 300),
    probeFrequencyMs: r.durationMs('PROBE_FREQUENCY', 200),
    systemNamespace: r.string('SYSTEM_NAMESPACE', false, 'knative-serving'),
    autoscalerUrl: autoscalerUrl === '' ? undefined : autoscalerUrl,
    listenHost: r.string('KNTS_LISTEN_HOST', false),
    httpPort: r.port('KNTS_HTTP_PORT', false, 8012),
    h2cPort: r.port('KNTS_H2C_PORT', false, 8013),
    metricsPort: r.port('KNTS_METRICS_PORT', false, 9090),
    drainTimeoutMs: r.durationMs('KNTS_DRAIN_TIMEOUT', 45_000),
    limits: {
      maxQueuedPerRevision: r.int('KNTS_MAX_QUEUED_PER_REVISION', false, DEFAULT_BUFFER_LIMITS.maxQueuedPerRevision, 1),
      maxQueuedTotal: r.int('KNTS_MAX_QUEUED', false, DEFAULT_BUFFER_LIMITS.maxQueuedTotal, 1),
      maxBufferedBodyBytes: r.int('KNTS_MAX_BUFFERED_BODY_BYTES', false, DEFAULT_BUFFER_LIMITS.maxBufferedBodyBytes, 0),
    },
    backendsFile: backendsFile === '' ? undefined : backendsFile,
  };
  if (out.probeFrequencyMs === 0) r.errors.push('PROBE_FREQUENCY: must be positive');
  if (out.probeTimeoutMs === 0) r.errors.push('PROBE_TIMEOUT: must be positive');
  return r.errors.length > 0 ? { ok: false, errors: r.errors } : { ok: true, env: out };
}

/**
 * An activator on loopback with ephemeral ports and no drain delay: the embedded runtime's, and
 * the tests'. Built through the parser, so its defaults are the image's.
 */
export function loopbackActivatorEnv(autoscalerUrl: string, overrides: Partial<ActivatorEnv> = {}): ActivatorEnv {
  const parsed = parseActivatorEnv({
    POD_NAME: 'activator-local',
    POD_IP: '127.0.0.1',
    KNTS_AUTOSCALER_URL: autoscalerUrl,
    KNTS_LISTEN_HOST: '127.0.0.1',
    KNTS_HTTP_PORT: '0',
    KNTS_H2C_PORT: '0',
    KNTS_METRICS_PORT: '0',
    KNTS_DRAIN_TIMEOUT: '0s',
  });
  if (!parsed.ok) throw new Error(`activator env: ${parsed.errors.join('; ')}`);
  return { ...parsed.env, ...overrides };
}
