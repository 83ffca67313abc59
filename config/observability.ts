// config-observability (spec §4.6): metrics, request metrics, tracing, profiling and request
// logging. (The queue-proxy later receives this config as JSON in OBSERVABILITY_CONFIG.)
import { SECOND } from './duration.ts';
import { boolField, durationField, enumField, floatField, inRange, stringField } from './fields.ts';
import { parseTemplate, TemplateError } from './go-template.ts';
import { fieldMap, type CrossIssue } from './schema.ts';
import { fail, ok, type Parsed } from './values.ts';

export type MetricsProtocol = 'none' | 'prometheus' | 'grpc' | 'http/protobuf';
export type TracingProtocol = 'none' | 'grpc' | 'http/protobuf' | 'stdout';

export interface ObservabilityConfig {
  readonly metricsProtocol: MetricsProtocol;
  readonly metricsEndpoint: string;
  /** Nanoseconds. */
  readonly metricsExportInterval: number;
  readonly requestMetricsProtocol: MetricsProtocol;
  readonly requestMetricsEndpoint: string;
  readonly requestMetricsExportInterval: number;
  readonly tracingProtocol: TracingProtocol;
  readonly tracingEndpoint: string;
  readonly tracingSamplingRate: number;
  readonly runtimeProfiling: 'enabled' | 'disabled';
  readonly runtimeExportInterval: number;
  readonly enableVarLogCollection: boolean;
  readonly loggingRevisionUrlTemplate: string;
  readonly requestLogTemplate: string;
  readonly enableRequestLog: boolean;
  readonly enableProbeRequestLog: boolean;
}

export const DEFAULT_REQUEST_LOG_TEMPLATE =
  '{"httpRequest": {"requestMethod": "{{.Request.Method}}", "requestUrl": "{{js .Request.RequestURI}}", "requestSize": "{{.Request.ContentLength}}", "status": {{.Response.Code}}, "responseSize": "{{.Response.Size}}", "userAgent": "{{js .Request.UserAgent}}", "remoteIp": "{{js .Request.RemoteAddr}}", "serverIp": "{{.Revision.PodIP}}", "referer": "{{js .Request.Referer}}", "latency": "{{.Response.Latency}}s", "protocol": "{{.Request.Proto}}"}, "traceId": "{{.TraceID}}"}';

const METRICS_PROTOCOLS: readonly MetricsProtocol[] = ['none', 'prometheus', 'grpc', 'http/protobuf'];
const TRACING_PROTOCOLS: readonly TracingProtocol[] = ['none', 'grpc', 'http/protobuf', 'stdout'];

function parseRequestLogTemplate(raw: string): Parsed<string> {
  if (raw === '') return ok(raw);
  try {
    parseTemplate(raw, 'requestLog');
    return ok(raw);
  } catch (err) {
    if (err instanceof TemplateError) return fail(`is not a valid template: ${err.message}`);
    throw err;
  }
}

export const observabilityConfigMap = fieldMap<ObservabilityConfig>(
  'config-observability',
  {
    metricsProtocol: enumField('metrics-protocol', 'none', METRICS_PROTOCOLS),
    metricsEndpoint: stringField('metrics-endpoint', ''),
    metricsExportInterval: durationField('metrics-export-interval', 0, { min: 0 }),
    requestMetricsProtocol: enumField('request-metrics-protocol', 'none', METRICS_PROTOCOLS),
    requestMetricsEndpoint: stringField('request-metrics-endpoint', ''),
    requestMetricsExportInterval: durationField('request-metrics-export-interval', 0, { min: 0 }),
    tracingProtocol: enumField('tracing-protocol', 'none', TRACING_PROTOCOLS),
    tracingEndpoint: stringField('tracing-endpoint', ''),
    tracingSamplingRate: floatField('tracing-sampling-rate', 0, { check: inRange(0, 1) }),
    runtimeProfiling: enumField('runtime-profiling', 'disabled', ['enabled', 'disabled'] as const),
    runtimeExportInterval: durationField('runtime-export-interval', 15 * SECOND, { min: 0 }),
    enableVarLogCollection: boolField('logging.enable-var-log-collection', false),
    loggingRevisionUrlTemplate: stringField('logging.revision-url-template', ''),
    requestLogTemplate: { key: 'logging.request-log-template', default: DEFAULT_REQUEST_LOG_TEMPLATE, parse: parseRequestLogTemplate },
    enableRequestLog: boolField('logging.enable-request-log', false),
    enableProbeRequestLog: boolField('logging.enable-probe-request-log', false),
  },
  { validate: crossChecks },
);

function crossChecks(c: ObservabilityConfig): CrossIssue[] {
  const issues: CrossIssue[] = [];
  const endpointRules = (prefix: string, protocol: string, endpoint: string) => {
    if ((protocol === 'grpc' || protocol === 'http/protobuf') && endpoint === '') {
      issues.push({ key: `${prefix}-endpoint`, rule: `must be set when ${prefix}-protocol is ${protocol}` });
    }
    if ((protocol === 'none' || protocol === 'stdout') && endpoint !== '') {
      issues.push({ key: `${prefix}-endpoint`, rule: `must be empty when ${prefix}-protocol is ${protocol}` });
    }
  };
  endpointRules('metrics', c.metricsProtocol, c.metricsEndpoint);
  endpointRules('request-metrics', c.requestMetricsProtocol, c.requestMetricsEndpoint);
  endpointRules('tracing', c.tracingProtocol, c.tracingEndpoint);
  if (c.enableRequestLog && c.requestLogTemplate === '') {
    issues.push({ key: 'logging.request-log-template', rule: 'must not be empty when logging.enable-request-log is true' });
  }
  return issues;
}
