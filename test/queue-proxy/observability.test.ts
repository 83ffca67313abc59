// User metrics on :9091 (prom-client) and the request log, both switched on through
// OBSERVABILITY_CONFIG as Knative's controller passes config-observability.
import test from 'ava';
import { DEFAULT_REQUEST_LOG_TEMPLATE } from '../../config/observability.ts';
import { httpGet, withQueueProxy } from '../helpers/queue-proxy.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('user metrics: :9091 serves the invocation histogram when request-metrics-protocol is prometheus', async (t) => {
  await withQueueProxy({ CONTAINER_CONCURRENCY: '4', OBSERVABILITY_CONFIG: JSON.stringify({ requestMetrics: { protocol: 'prometheus', endpoint: '' } }) }, async (qp) => {
    t.truthy(qp.userMetrics);
    await httpGet(qp.serving, '/');
    await httpGet(qp.serving, '/?status=404', { 'knative-serving-tag': 'blue' });
    await httpGet(qp.serving, '/', { 'user-agent': 'kube-probe/1.30', 'k-network-probe': 'queue' });
    const text = await (await fetch(`http://127.0.0.1:${qp.userMetrics}/metrics`)).text();
    t.regex(text, /kn_serving_invocation_duration_seconds_count\{[^}]*http_response_status_code="200"[^}]*kn_route_tag="kn:disabled"[^}]*\} 1/);
    t.regex(text, /kn_serving_invocation_duration_seconds_count\{[^}]*http_response_status_code="404"[^}]*kn_route_tag="blue"[^}]*\} 1/);
    t.regex(text, /kn_revision_name="hello-00001"/);
    t.regex(text, /kn_serving_queue_depth\{[^}]*\} \d/);
    t.false(/http_response_status_code="200"[^\n]*\} 2/.test(text), 'the probe was not counted');
  });
});

test('user metrics are off by default: nothing listens on :9091', async (t) => {
  await withQueueProxy({}, async (qp) => {
    t.is(qp.userMetrics, undefined);
  });
});

test('request log: one line per request from Knative\'s template; probes only when asked', async (t) => {
  await withQueueProxy({ OBSERVABILITY_CONFIG: JSON.stringify({ enableRequestLog: true, requestLogTemplate: DEFAULT_REQUEST_LOG_TEMPLATE }) }, async (qp) => {
    await httpGet(qp.serving, '/hello?x=1', { 'user-agent': 'test-agent', referer: 'http://ref', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
    await httpGet(qp.serving, '/', { 'user-agent': 'kube-probe/1.30', 'k-network-probe': 'queue' });
    await sleep(200);
    const lines = qp.logs.filter((l) => l.includes('"httpRequest"')).map((l) => JSON.parse(l) as { httpRequest: Record<string, unknown>; traceId: string });
    t.is(lines.length, 1, 'the probe is not logged');
    const r = lines[0]!.httpRequest;
    t.is(r['requestMethod'], 'GET');
    t.is(r['requestUrl'], '/hello?x=1');
    t.is(r['status'], 200);
    t.is(r['userAgent'], 'test-agent');
    t.is(r['referer'], 'http://ref');
    t.is(r['serverIp'], '127.0.0.1');
    t.is(r['protocol'], 'HTTP/1.1');
    t.regex(String(r['latency']), /^[0-9.e-]+s$/);
    t.is(lines[0]!.traceId, '0af7651916cd43dd8448eb211c80319c');
  });
});

test('request log with enableProbeRequestLog logs probes too', async (t) => {
  await withQueueProxy({ OBSERVABILITY_CONFIG: JSON.stringify({ enableRequestLog: true, enableProbeRequestLog: true, requestLogTemplate: '{{.Request.Method}} {{.Response.Code}}' }) }, async (qp) => {
    await httpGet(qp.serving, '/', { 'user-agent': 'kube-probe/1.30', 'k-network-probe': 'queue' });
    await sleep(200);
    t.true(qp.logs.includes('GET 200'), qp.logs.join('\n'));
  });
});
