// config-observability: every key's default, a valid value, each invalid class and the
// protocol/endpoint and request-log rules (spec §4.6), table-driven.
import test from 'ava';
import { invalidRows } from '../helpers/config-table.ts';
import { DEFAULT_REQUEST_LOG_TEMPLATE, observabilityConfigMap, type ObservabilityConfig } from '../../config/observability.ts';
import { parseTemplate } from '../../config/go-template.ts';
import { formatIssue } from '../../config/schema.ts';
import { SECOND, MINUTE } from '../../config/duration.ts';

const parse = (data: Record<string, string>) => observabilityConfigMap.parse(data);

// Spec §4.6, copied verbatim.
const SPEC_REQUEST_LOG_TEMPLATE =
  '{"httpRequest": {"requestMethod": "{{.Request.Method}}", "requestUrl": "{{js .Request.RequestURI}}", "requestSize": "{{.Request.ContentLength}}", "status": {{.Response.Code}}, "responseSize": "{{.Response.Size}}", "userAgent": "{{js .Request.UserAgent}}", "remoteIp": "{{js .Request.RemoteAddr}}", "serverIp": "{{.Revision.PodIP}}", "referer": "{{js .Request.Referer}}", "latency": "{{.Response.Latency}}s", "protocol": "{{.Request.Proto}}"}, "traceId": "{{.TraceID}}"}';

test('defaults match Knative', (t) => {
  const expected: ObservabilityConfig = {
    metricsProtocol: 'none',
    metricsEndpoint: '',
    metricsExportInterval: 0,
    requestMetricsProtocol: 'none',
    requestMetricsEndpoint: '',
    requestMetricsExportInterval: 0,
    tracingProtocol: 'none',
    tracingEndpoint: '',
    tracingSamplingRate: 0,
    runtimeProfiling: 'disabled',
    runtimeExportInterval: 15 * SECOND,
    enableVarLogCollection: false,
    loggingRevisionUrlTemplate: '',
    requestLogTemplate: SPEC_REQUEST_LOG_TEMPLATE,
    enableRequestLog: false,
    enableProbeRequestLog: false,
  };
  t.deepEqual(observabilityConfigMap.defaults(), expected);
  const empty = parse({});
  t.true(empty.ok);
  if (empty.ok) {
    t.deepEqual(empty.config, expected);
    t.deepEqual(empty.warnings, []);
  }
});

test('the default request log template is present and renders JSON', (t) => {
  t.is(DEFAULT_REQUEST_LOG_TEMPLATE, SPEC_REQUEST_LOG_TEMPLATE);
  const out = parseTemplate(DEFAULT_REQUEST_LOG_TEMPLATE, 'requestLog').execute({
    Request: { Method: 'GET', RequestURI: '/a?b="c"', ContentLength: 0, UserAgent: 'curl/8', RemoteAddr: '10.0.0.1:5555', Referer: '', Proto: 'HTTP/1.1' },
    Response: { Code: 200, Size: 12, Latency: 0.25 },
    Revision: { PodIP: '10.0.0.9' },
    TraceID: 'abc',
  });
  t.deepEqual(JSON.parse(out), {
    httpRequest: {
      requestMethod: 'GET',
      requestUrl: '/a?b\u003d"c"',
      requestSize: '0',
      status: 200,
      responseSize: '12',
      userAgent: 'curl/8',
      remoteIp: '10.0.0.1:5555',
      serverIp: '10.0.0.9',
      referer: '',
      latency: '0.25s',
      protocol: 'HTTP/1.1',
    },
    traceId: 'abc',
  });
});

// [data, field, parsed value]: data rather than one key, because endpoints go with protocols.
const valid: [Record<string, string>, keyof ObservabilityConfig, unknown][] = [
  [{ 'metrics-protocol': 'prometheus' }, 'metricsProtocol', 'prometheus'],
  [{ 'metrics-protocol': 'none' }, 'metricsProtocol', 'none'],
  [{ 'metrics-protocol': 'grpc', 'metrics-endpoint': 'otel-collector:4317' }, 'metricsProtocol', 'grpc'],
  [{ 'metrics-protocol': 'http/protobuf', 'metrics-endpoint': 'http://otel:4318/v1/metrics' }, 'metricsEndpoint', 'http://otel:4318/v1/metrics'],
  [{ 'metrics-protocol': 'prometheus', 'metrics-endpoint': ':9090' }, 'metricsEndpoint', ':9090'],
  [{ 'metrics-export-interval': '30s' }, 'metricsExportInterval', 30 * SECOND],
  [{ 'metrics-export-interval': '0' }, 'metricsExportInterval', 0],
  [{ 'request-metrics-protocol': 'prometheus' }, 'requestMetricsProtocol', 'prometheus'],
  [{ 'request-metrics-protocol': 'grpc', 'request-metrics-endpoint': 'collector:4317' }, 'requestMetricsEndpoint', 'collector:4317'],
  [{ 'request-metrics-export-interval': '1m' }, 'requestMetricsExportInterval', MINUTE],
  [{ 'tracing-protocol': 'grpc', 'tracing-endpoint': 'jaeger:4317' }, 'tracingProtocol', 'grpc'],
  [{ 'tracing-protocol': 'http/protobuf', 'tracing-endpoint': 'http://zipkin:4318/v1/traces' }, 'tracingEndpoint', 'http://zipkin:4318/v1/traces'],
  [{ 'tracing-protocol': 'stdout' }, 'tracingProtocol', 'stdout'],
  [{ 'tracing-sampling-rate': '0.1' }, 'tracingSamplingRate', 0.1],
  [{ 'tracing-sampling-rate': '1' }, 'tracingSamplingRate', 1],
  [{ 'tracing-sampling-rate': '0' }, 'tracingSamplingRate', 0],
  [{ 'tracing-sampling-rate': '1e-3' }, 'tracingSamplingRate', 0.001],
  [{ 'runtime-profiling': 'enabled' }, 'runtimeProfiling', 'enabled'],
  [{ 'runtime-profiling': 'disabled' }, 'runtimeProfiling', 'disabled'],
  [{ 'runtime-export-interval': '500ms' }, 'runtimeExportInterval', SECOND / 2],
  [{ 'runtime-export-interval': '0s' }, 'runtimeExportInterval', 0],
  [{ 'logging.enable-var-log-collection': 'true' }, 'enableVarLogCollection', true],
  [{ 'logging.revision-url-template': 'http://logs.example.com/?rev=${REVISION_UID}' }, 'loggingRevisionUrlTemplate', 'http://logs.example.com/?rev=${REVISION_UID}'],
  [{ 'logging.request-log-template': '{{.Request.Method}} {{.Response.Code}}' }, 'requestLogTemplate', '{{.Request.Method}} {{.Response.Code}}'],
  [{ 'logging.request-log-template': '' }, 'requestLogTemplate', ''],
  [{ 'logging.enable-request-log': 'true' }, 'enableRequestLog', true],
  [{ 'logging.enable-request-log': '1', 'logging.request-log-template': '{{.Request.URL}}' }, 'enableRequestLog', true],
  [{ 'logging.enable-probe-request-log': 'True' }, 'enableProbeRequestLog', true],
];

for (const [data, field, want] of valid) {
  test(`valid ${JSON.stringify(data)}`, (t) => {
    const r = parse(data);
    t.true(r.ok, r.ok ? '' : r.errors.map(formatIssue).join('\n'));
    if (r.ok) {
      t.deepEqual(r.config[field] as unknown, want);
      t.deepEqual(r.warnings.map(formatIssue), []);
    }
  });
}

const METRICS_WORDS = 'must be one of "none", "prometheus", "grpc", "http/protobuf"';
const TRACING_WORDS = 'must be one of "none", "grpc", "http/protobuf", "stdout"';

// [data, exact error message]
const invalid: [Record<string, string>, string][] = [
  // protocol enums (exact, case-sensitive)
  [{ 'metrics-protocol': 'otlp' }, `config-observability: metrics-protocol: "otlp" ${METRICS_WORDS}`],
  [{ 'metrics-protocol': 'Prometheus' }, `config-observability: metrics-protocol: "Prometheus" ${METRICS_WORDS}`],
  [{ 'metrics-protocol': 'stdout' }, `config-observability: metrics-protocol: "stdout" ${METRICS_WORDS}`],
  [{ 'metrics-protocol': '' }, `config-observability: metrics-protocol: "" ${METRICS_WORDS}`],
  [{ 'request-metrics-protocol': 'http' }, `config-observability: request-metrics-protocol: "http" ${METRICS_WORDS}`],
  [{ 'tracing-protocol': 'Grpc' }, `config-observability: tracing-protocol: "Grpc" ${TRACING_WORDS}`],
  [{ 'tracing-protocol': 'prometheus' }, `config-observability: tracing-protocol: "prometheus" ${TRACING_WORDS}`],
  // endpoint required for grpc and http/protobuf
  [{ 'metrics-protocol': 'grpc' }, 'config-observability: metrics-endpoint: (unset) must be set when metrics-protocol is grpc'],
  [{ 'metrics-protocol': 'http/protobuf', 'metrics-endpoint': '' }, 'config-observability: metrics-endpoint: "" must be set when metrics-protocol is http/protobuf'],
  [{ 'request-metrics-protocol': 'grpc' }, 'config-observability: request-metrics-endpoint: (unset) must be set when request-metrics-protocol is grpc'],
  [{ 'request-metrics-protocol': 'http/protobuf' }, 'config-observability: request-metrics-endpoint: (unset) must be set when request-metrics-protocol is http/protobuf'],
  [{ 'tracing-protocol': 'grpc' }, 'config-observability: tracing-endpoint: (unset) must be set when tracing-protocol is grpc'],
  [{ 'tracing-protocol': 'http/protobuf' }, 'config-observability: tracing-endpoint: (unset) must be set when tracing-protocol is http/protobuf'],
  // endpoint forbidden for none (and stdout for tracing)
  [{ 'metrics-endpoint': 'collector:4317' }, 'config-observability: metrics-endpoint: "collector:4317" must be empty when metrics-protocol is none'],
  [{ 'request-metrics-protocol': 'none', 'request-metrics-endpoint': 'x' }, 'config-observability: request-metrics-endpoint: "x" must be empty when request-metrics-protocol is none'],
  [{ 'tracing-endpoint': 'jaeger:4317' }, 'config-observability: tracing-endpoint: "jaeger:4317" must be empty when tracing-protocol is none'],
  [{ 'tracing-protocol': 'stdout', 'tracing-endpoint': 'x' }, 'config-observability: tracing-endpoint: "x" must be empty when tracing-protocol is stdout'],
  // sampling rate: out of range, wrong type
  [{ 'tracing-sampling-rate': '1.5' }, 'config-observability: tracing-sampling-rate: "1.5" must be between 0 and 1'],
  [{ 'tracing-sampling-rate': '-0.1' }, 'config-observability: tracing-sampling-rate: "-0.1" must be between 0 and 1'],
  [{ 'tracing-sampling-rate': 'half' }, 'config-observability: tracing-sampling-rate: "half" must be a number'],
  [{ 'tracing-sampling-rate': 'NaN' }, 'config-observability: tracing-sampling-rate: "NaN" must be a finite number'],
  [{ 'tracing-sampling-rate': '' }, 'config-observability: tracing-sampling-rate: "" must be a number'],
  // export intervals: negative, bad duration
  [{ 'metrics-export-interval': '-1s' }, 'config-observability: metrics-export-interval: "-1s" must be at least 0s'],
  [{ 'metrics-export-interval': '30' }, 'config-observability: metrics-export-interval: "30" must be a duration such as 30s, 1m30s or 500ms (time: missing unit in duration "30")'],
  [{ 'request-metrics-export-interval': '-1ms' }, 'config-observability: request-metrics-export-interval: "-1ms" must be at least 0s'],
  [{ 'request-metrics-export-interval': '1d' }, 'config-observability: request-metrics-export-interval: "1d" must be a duration such as 30s, 1m30s or 500ms (time: unknown unit "d" in duration "1d")'],
  [{ 'runtime-export-interval': '-5s' }, 'config-observability: runtime-export-interval: "-5s" must be at least 0s'],
  [{ 'runtime-export-interval': '' }, 'config-observability: runtime-export-interval: "" must be a duration such as 30s, 1m30s or 500ms (time: invalid duration "")'],
  // runtime-profiling words
  [{ 'runtime-profiling': 'Enabled' }, 'config-observability: runtime-profiling: "Enabled" must be one of "enabled", "disabled"'],
  [{ 'runtime-profiling': 'true' }, 'config-observability: runtime-profiling: "true" must be one of "enabled", "disabled"'],
  // booleans
  [{ 'logging.enable-var-log-collection': 'no' }, 'config-observability: logging.enable-var-log-collection: "no" must be a boolean (true or false)'],
  [{ 'logging.enable-request-log': 'yes' }, 'config-observability: logging.enable-request-log: "yes" must be a boolean (true or false)'],
  [{ 'logging.enable-probe-request-log': '' }, 'config-observability: logging.enable-probe-request-log: "" must be a boolean (true or false)'],
  // request-log template
  [{ 'logging.request-log-template': '{{.Request.Method' }, 'config-observability: logging.request-log-template: "{{.Request.Method" is not a valid template: template: requestLog:1: unclosed action'],
  [{ 'logging.request-log-template': '{{if .Request}}x' }, 'config-observability: logging.request-log-template: "{{if .Request}}x" is not a valid template: template: requestLog: unexpected EOF'],
  [
    { 'logging.enable-request-log': 'true', 'logging.request-log-template': '' },
    'config-observability: logging.request-log-template: "" must not be empty when logging.enable-request-log is true',
  ],
];

invalidRows(parse, invalid);

test('the prometheus endpoint is optional', (t) => {
  for (const prefix of ['metrics', 'request-metrics']) {
    t.true(parse({ [`${prefix}-protocol`]: 'prometheus' }).ok);
    t.true(parse({ [`${prefix}-protocol`]: 'prometheus', [`${prefix}-endpoint`]: '0.0.0.0:9091' }).ok);
  }
});

test('the request-log template is checked even when request logging is off', (t) => {
  const r = parse({ 'logging.enable-request-log': 'false', 'logging.request-log-template': '{{.Request.Method' });
  t.false(r.ok);
  if (!r.ok) t.deepEqual(r.errors.map((e) => e.key), ['logging.request-log-template']);
});

test('enable-request-log with the default template is valid', (t) => {
  const r = parse({ 'logging.enable-request-log': 'true' });
  t.true(r.ok);
  if (r.ok) t.is(r.config.requestLogTemplate, SPEC_REQUEST_LOG_TEMPLATE);
});

test('every error is reported, not just the first', (t) => {
  const r = parse({ 'metrics-protocol': 'otlp', 'tracing-sampling-rate': '2', 'runtime-export-interval': 'soon' });
  t.false(r.ok);
  if (!r.ok) t.deepEqual(r.errors.map((e) => e.key).sort(), ['metrics-protocol', 'runtime-export-interval', 'tracing-sampling-rate']);
});

test('every cross-key error is reported, not just the first', (t) => {
  const r = parse({ 'metrics-protocol': 'grpc', 'request-metrics-endpoint': 'x', 'tracing-protocol': 'http/protobuf' });
  t.false(r.ok);
  if (!r.ok) {
    t.deepEqual(r.errors.map(formatIssue), [
      'config-observability: metrics-endpoint: (unset) must be set when metrics-protocol is grpc',
      'config-observability: request-metrics-endpoint: "x" must be empty when request-metrics-protocol is none',
      'config-observability: tracing-endpoint: (unset) must be set when tracing-protocol is http/protobuf',
    ]);
  }
});

test('unknown keys are warned about; _example is ignored', (t) => {
  const r = parse({ _example: 'docs', 'metrics-backend-destination': 'prometheus' });
  t.true(r.ok);
  t.deepEqual(r.warnings.map(formatIssue), ['config-observability: metrics-backend-destination: "prometheus" is not a key of this map and is ignored']);
});

test('show prints durations in Go syntax', (t) => {
  const r = parse({ 'metrics-export-interval': '90s' });
  t.true(r.ok);
  if (r.ok) {
    const shown = observabilityConfigMap.show(r.config);
    t.is(shown['metricsExportInterval'], '1m30s');
    t.is(shown['runtimeExportInterval'], '15s');
  }
});
