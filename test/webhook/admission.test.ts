// The admission webhook end to end over real HTTPS (a self-signed certificate the client
// trusts): AdmissionReview round trips on /defaulting (apply the patch, get the defaulted
// object), /resource-validation (Knative's denial text, warnings) and /config-validation, and
// the HTTP edges: malformed JSON, too-large bodies, wrong kinds, methods, media types and
// paths, probes and drain. The Serving semantics are the real ones (parse, defaults,
// validation); a stand-in is used only where the admission layer itself is under test.
import test from 'ava';
import { crc32 } from 'node:zlib';
import { servingSemantics } from '../../webhook/semantics.ts';
import type { ServingSemantics } from '../../webhook/admission.ts';
import { FieldError, also } from '../../webhook/field-error.ts';
import { applyPatch, type PatchOperation } from '../../webhook/json-patch.ts';
import type { ServingResource } from '../../webhook/types.ts';
import { configOf, review, send, startTestWebhook, type ReviewOut, type TestWebhook } from '../helpers/webhook.ts';

const SERVING_V1 = { group: 'serving.knative.dev', version: 'v1' };
const CONFIG_MAP = { group: '', version: 'v1', kind: 'ConfigMap' };

const service = (spec: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}): Record<string, unknown> => ({
  apiVersion: 'serving.knative.dev/v1',
  kind: 'Service',
  metadata: { name: 'hello', namespace: 'default', ...metadata },
  spec: { template: { spec: { containers: [{ image: 'ghcr.io/knative/helloworld-go:latest' }] } }, ...spec },
});

const configMap = (name: string, data: Record<string, string>, annotations: Record<string, string> = {}): Record<string, unknown> => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'knative-serving', ...(Object.keys(annotations).length > 0 ? { annotations } : {}) },
  data,
});

let uidCounter = 0;
const request = (kind: string, object: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  uid: `uid-${++uidCounter}`,
  kind: kind === 'ConfigMap' ? CONFIG_MAP : { ...SERVING_V1, kind },
  operation: 'CREATE',
  namespace: 'default',
  name: 'hello',
  userInfo: { username: 'alice@example.com' },
  object,
  ...extra,
});

function patched(t: import('ava').ExecutionContext, original: unknown, out: ReviewOut): unknown {
  t.true(out.response.allowed);
  t.is(out.response.patchType, 'JSONPatch');
  const ops = JSON.parse(Buffer.from(out.response.patch ?? '', 'base64').toString('utf8')) as PatchOperation[];
  const applied = applyPatch(original, ops);
  if (!applied.ok) throw new Error(applied.error);
  return applied.value;
}

/** What the webhook should produce on CREATE: the real defaults, with the requesting user. */
function expectedDefaults(obj: unknown, config = configOf(), username?: string): unknown {
  const parsed = servingSemantics.parse(obj);
  if (!parsed.ok) throw new Error(parsed.error);
  const d: ServingResource = servingSemantics.setDefaults(parsed.resource, config, { operation: 'CREATE', ...(username === undefined ? {} : { username }) });
  return JSON.parse(JSON.stringify(d)) as unknown;
}

let wh: TestWebhook;
test.before(async () => {
  wh = await startTestWebhook(servingSemantics);
});
test.after.always(async () => {
  await wh?.close();
});

const post = (path: string, req: Record<string, unknown>): Promise<ReviewOut> => review(wh.server.port, wh.ca, path, req);

// ---------------------------------------------------------------------------------------------
// /defaulting

test.serial('defaulting a Service: the patch turns the object into the defaulted one, with its creator', async (t) => {
  const obj = service();
  const req = request('Service', obj);
  const out = await post('/defaulting', req);
  t.is(out.apiVersion, 'admission.k8s.io/v1');
  t.is(out.kind, 'AdmissionReview');
  t.is(out.response.uid, req['uid'] as string);
  const result = patched(t, obj, out) as { metadata: { annotations: Record<string, string> }; spec: { template: { spec: Record<string, unknown> }; traffic: unknown } };
  t.deepEqual(result, expectedDefaults(obj, configOf(), 'alice@example.com'));
  // Spot checks against Knative's defaults (spec §5.2).
  t.is(result.spec.template.spec['timeoutSeconds'], 300);
  t.is(result.spec.template.spec['containerConcurrency'], 0);
  t.is((result.spec.template.spec['containers'] as { name: string }[])[0]?.name, 'user-container');
  t.deepEqual(result.spec.traffic, [{ latestRevision: true, percent: 100 }]);
  t.is(result.metadata.annotations['serving.knative.dev/creator'], 'alice@example.com');
});

test.serial('defaulting follows the config maps the webhook was started with', async (t) => {
  const config = configOf({ 'config-defaults': { 'revision-timeout-seconds': '120', 'container-concurrency': '8' } });
  wh.setContext({ config, semantics: servingSemantics, clusterDomain: 'cluster.local' });
  try {
    const obj = service();
    const result = patched(t, obj, await post('/defaulting', request('Service', obj, { userInfo: {} }))) as { spec: { template: { spec: Record<string, unknown> } } };
    t.deepEqual(result, expectedDefaults(obj, config));
    t.is(result.spec.template.spec['timeoutSeconds'], 120);
    t.is(result.spec.template.spec['containerConcurrency'], 8);
  } finally {
    wh.setContext({ config: configOf(), semantics: servingSemantics, clusterDomain: 'cluster.local' });
  }
});

test.serial('defaulting an UPDATE: lastModifier changes only when the spec does', async (t) => {
  const created = expectedDefaults(service(), configOf(), 'alice') as Record<string, unknown>;
  // The same object sent back by someone else: nothing to record.
  const same = patched(t, created, await post('/defaulting', request('Service', created, { operation: 'UPDATE', oldObject: created, userInfo: { username: 'bob' } })));
  t.deepEqual(same, created);
  // A new image: bob is the last modifier, alice stays the creator.
  const edited = structuredClone(created) as { spec: { template: { spec: { containers: { image: string }[] } } } };
  edited.spec.template.spec.containers[0]!.image = 'ghcr.io/knative/helloworld-go:v2';
  const result = patched(t, edited, await post('/defaulting', request('Service', edited, { operation: 'UPDATE', oldObject: created, userInfo: { username: 'bob' } }))) as {
    metadata: { annotations: Record<string, string> };
  };
  t.is(result.metadata.annotations['serving.knative.dev/creator'], 'alice');
  t.is(result.metadata.annotations['serving.knative.dev/lastModifier'], 'bob');
});

test.serial('defaulting a Route and a Revision; Revisions get no user annotations', async (t) => {
  const route = { apiVersion: 'serving.knative.dev/v1', kind: 'Route', metadata: { name: 'r', namespace: 'default' }, spec: { traffic: [{ configurationName: 'hello', percent: 100 }] } };
  const r = patched(t, route, await post('/defaulting', request('Route', route)));
  t.deepEqual(r, expectedDefaults(route, configOf(), 'alice@example.com'));
  const revision = { apiVersion: 'serving.knative.dev/v1', kind: 'Revision', metadata: { name: 'hello-00001', namespace: 'default' }, spec: { containers: [{ image: 'img' }] } };
  const rev = patched(t, revision, await post('/defaulting', request('Revision', revision))) as { metadata: Record<string, unknown> };
  t.deepEqual(rev, expectedDefaults(revision, configOf(), 'alice@example.com'));
  t.is(rev.metadata['annotations'], undefined);
});

test.serial('DELETE, other operations and other kinds pass without a patch', async (t) => {
  const del = await post('/defaulting', request('Service', null, { operation: 'DELETE', oldObject: service() }));
  t.deepEqual(del.response, { uid: del.response.uid, allowed: true });
  const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: {} };
  const other = await post('/defaulting', request('Deployment', deployment, { kind: { group: 'apps', version: 'v1', kind: 'Deployment' } }));
  t.deepEqual(other.response, { uid: other.response.uid, allowed: true });
});

test.serial('an object that does not decode is denied as knative/pkg words it', async (t) => {
  const out = await post('/defaulting', request('Service', { apiVersion: 'serving.knative.dev/v1', kind: 'Service', metadata: 'not a map', spec: 7 }));
  t.false(out.response.allowed);
  t.is(out.response.status?.code, 400);
  t.is(out.response.status?.reason, 'BadRequest');
  t.regex(out.response.status?.message ?? '', /^mutation failed: cannot decode incoming new object: /);
});

// ---------------------------------------------------------------------------------------------
// /resource-validation

test.serial('a valid defaulted Service is allowed, with Knative\'s secure-pod-defaults warning', async (t) => {
  const obj = expectedDefaults(service());
  const out = await post('/resource-validation', request('Service', obj));
  t.true(out.response.allowed);
  t.is(out.response.status, undefined);
  const parsed = servingSemantics.parse(obj);
  if (!parsed.ok) throw new Error(parsed.error);
  const warnings = servingSemantics.validate(parsed.resource, configOf(), { operation: 'CREATE' })?.warnings?.toString().split('\n');
  t.deepEqual(out.response.warnings, warnings);
  t.regex(out.response.warnings?.[0] ?? '', /^Kubernetes default value is insecure, Knative may default this to secure in a future release: spec\.template\.spec\.containers\[0\]\.securityContext\.allowPrivilegeEscalation/);
});

test.serial('an invalid Service is denied with every FieldError line after "validation failed: "', async (t) => {
  const bad = expectedDefaults(service()) as { spec: { template: { spec: Record<string, unknown> } } };
  bad.spec.template.spec['containerConcurrency'] = -1;
  bad.spec.template.spec['timeoutSeconds'] = 6000;
  const out = await post('/resource-validation', request('Service', bad));
  t.false(out.response.allowed);
  t.is(out.response.status?.code, 400);
  t.is(out.response.status?.reason, 'BadRequest');
  const parsed = servingSemantics.parse(bad);
  if (!parsed.ok) throw new Error(parsed.error);
  const expected = servingSemantics.validate(parsed.resource, configOf(), { operation: 'CREATE' })?.errors?.toString();
  t.is(out.response.status?.message, `validation failed: ${expected ?? '(no errors?)'}`);
  t.regex(out.response.status?.message ?? '', /expected 0 <= -1 <= 1000: spec\.template\.spec\.containerConcurrency/);
  t.regex(out.response.status?.message ?? '', /expected 0 <= 6000 <= 600: spec\.template\.spec\.timeoutSeconds/);
});

test.serial('status updates are not validated or defaulted (the spec cannot change there)', async (t) => {
  const bad = expectedDefaults(service()) as { spec: { template: { spec: Record<string, unknown> } } };
  bad.spec.template.spec['containerConcurrency'] = -1;
  const extra = { operation: 'UPDATE', oldObject: bad, subResource: 'status' };
  const v = await post('/resource-validation', request('Service', bad, extra));
  t.deepEqual(v.response, { uid: v.response.uid, allowed: true });
  const d = await post('/defaulting', request('Service', service(), extra));
  t.deepEqual(d.response, { uid: d.response.uid, allowed: true });
});

test.serial('an UPDATE is validated against the old object', async (t) => {
  const named = (image: string): unknown =>
    expectedDefaults(service({ template: { metadata: { name: 'hello-v1' }, spec: { containers: [{ image }] } } }));
  const old = named('ghcr.io/knative/helloworld-go:v1');
  const same = await post('/resource-validation', request('Service', old, { operation: 'UPDATE', oldObject: old }));
  t.true(same.response.allowed);
  // A new image under the same revision name: Knative's immutability rule.
  const changed = named('ghcr.io/knative/helloworld-go:v2');
  const created = await post('/resource-validation', request('Service', changed));
  t.true(created.response.allowed, 'fine on CREATE');
  const updated = await post('/resource-validation', request('Service', changed, { operation: 'UPDATE', oldObject: old }));
  t.false(updated.response.allowed);
  t.regex(updated.response.status?.message ?? '', /^validation failed: Saw the following changes without a name change \(-old \+new\): spec\.template\.metadata\.name\n/);
});

test.serial('warnings come back one line each, with an allowed or a denied answer', async (t) => {
  // A stand-in validation that returns warnings (one with details on a second line).
  const stub: ServingSemantics = {
    ...servingSemantics,
    validate: (r) =>
      also(
        FieldError.of('deprecated annotation', ['metadata.annotations[old]'], 'use new instead', 'warning'),
        FieldError.of('odd value', ['spec.x'], '', 'warning'),
        r.metadata?.name === 'bad' ? FieldError.of('missing field(s)', ['spec.template']) : undefined,
      ),
  };
  const local = await startTestWebhook(stub);
  try {
    const ok = await review(local.server.port, local.ca, '/resource-validation', request('Service', service()));
    t.true(ok.response.allowed);
    t.deepEqual(ok.response.warnings, ['deprecated annotation: metadata.annotations[old]', 'use new instead', 'odd value: spec.x']);
    const denied = await review(local.server.port, local.ca, '/resource-validation', request('Service', service({}, { name: 'bad' })));
    t.false(denied.response.allowed);
    t.is(denied.response.status?.message, 'validation failed: missing field(s): spec.template');
    t.is(denied.response.warnings?.length, 3);
  } finally {
    await local.close();
  }
});

test.serial('a semantics bug becomes a 500 denial, and the server carries on', async (t) => {
  const stub: ServingSemantics = {
    ...servingSemantics,
    setDefaults: () => {
      throw new Error('boom');
    },
  };
  const local = await startTestWebhook(stub);
  try {
    const out = await review(local.server.port, local.ca, '/defaulting', request('Service', service()));
    t.false(out.response.allowed);
    t.is(out.response.status?.code, 500);
    t.is(out.response.status?.message, 'internal error: boom');
    const again = await review(local.server.port, local.ca, '/resource-validation', request('Service', expectedDefaults(service())));
    t.true(again.response.allowed);
  } finally {
    await local.close();
  }
});

// ---------------------------------------------------------------------------------------------
// /config-validation

test.serial('config-validation: a valid config map is allowed, an unknown key is a warning', async (t) => {
  const ok = await post('/config-validation', request('ConfigMap', configMap('config-autoscaler', { 'stable-window': '2m', 'max-scale': '10' }), { name: 'config-autoscaler' }));
  t.true(ok.response.allowed);
  t.is(ok.response.warnings, undefined);
  const typo = await post('/config-validation', request('ConfigMap', configMap('config-autoscaler', { 'stable-windw': '2m' })));
  t.true(typo.response.allowed);
  t.deepEqual(typo.response.warnings, ['config-autoscaler: stable-windw: "2m" is not a key of this map and is ignored']);
});

test.serial('config-validation: a bad value is rejected with the config package message', async (t) => {
  const out = await post('/config-validation', request('ConfigMap', configMap('config-autoscaler', { 'stable-window': '3s', 'max-scale-up-rate': '1' })));
  t.false(out.response.allowed);
  t.is(out.response.status?.code, 400);
  t.is(
    out.response.status?.message,
    'validation failed: config-autoscaler: max-scale-up-rate: "1" must be greater than 1\nconfig-autoscaler: stable-window: "3s" must be between 6s and 1h0m0s',
  );
});

test.serial('config-validation: an edited _example block is rejected; an intact one passes', async (t) => {
  const example = '\n    # stable-window: "60s"\n';
  const checksum = crc32(example.trim()).toString(16).padStart(8, '0');
  const intact = await post('/config-validation', request('ConfigMap', configMap('config-autoscaler', { _example: example }, { 'knative.dev/example-checksum': checksum })));
  t.true(intact.response.allowed);
  const edited = await post(
    '/config-validation',
    request('ConfigMap', configMap('config-autoscaler', { _example: example + '    stable-window: "10s"\n' }, { 'knative.dev/example-checksum': checksum })),
  );
  t.false(edited.response.allowed);
  t.is(
    edited.response.status?.message,
    'validation failed: the update modifies a key in "_example" which is probably not what you want. Instead, copy the respective setting to the top-level of the ConfigMap, directly below "data"',
  );
});

test.serial('config-validation: the checksum skips blank lines and CRLF, as knative/pkg\'s does', async (t) => {
  // knative/pkg's configmap.Checksum test vectors: the three texts share one checksum.
  for (const example of ['a somewhat\nlonger\ntext', 'a somewhat\n\n\nlonger\n\ntext', 'a somewhat\r\n\r\n\r\nlonger\r\n\r\ntext']) {
    const out = await post('/config-validation', request('ConfigMap', configMap('config-defaults', { _example: example }, { 'knative.dev/example-checksum': '2b4ed320' })));
    t.true(out.response.allowed, JSON.stringify(example));
  }
  const edited = await post('/config-validation', request('ConfigMap', configMap('config-defaults', { _example: 'a somewhat\nshorter\ntext' }, { 'knative.dev/example-checksum': '2b4ed320' })));
  t.false(edited.response.allowed);
});

test.serial('config-validation: config maps knts does not read, other kinds and DELETE pass', async (t) => {
  for (const req of [
    request('ConfigMap', configMap('my-app-settings', { anything: 'goes' })),
    request('ConfigMap', configMap('config-gc', { 'retain-since-create-time': 'not checked' })),
    request('ConfigMap', null, { operation: 'DELETE', oldObject: configMap('config-autoscaler', { 'stable-window': '3s' }) }),
    request('Secret', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'config-autoscaler' } }, { kind: { group: '', version: 'v1', kind: 'Secret' } }),
  ]) {
    const out = await post('/config-validation', req);
    t.true(out.response.allowed, JSON.stringify(req));
  }
});

// ---------------------------------------------------------------------------------------------
// HTTP edges

test.serial('malformed JSON is a 400 naming the decode error', async (t) => {
  const r = await send(wh.server.port, wh.ca, '/defaulting', '{"apiVersion": "admission.k8s.io/v1", "kind": ');
  t.is(r.status, 400);
  t.regex(r.body, /^could not decode body: .*JSON/);
  t.is(r.headers['content-type'], 'text/plain; charset=utf-8');
});

test.serial('a review that is not an AdmissionReview, or has no request, is a 400', async (t) => {
  const cases: [unknown, RegExp][] = [
    [{ apiVersion: 'admission.k8s.io/v1', kind: 'TokenReview', request: { uid: 'u' } }, /^invalid AdmissionReview: kind is "TokenReview": expected "AdmissionReview"/],
    [{ apiVersion: 'admission.k8s.io/v2', kind: 'AdmissionReview', request: { uid: 'u' } }, /^invalid AdmissionReview: apiVersion is "admission.k8s.io\/v2": expected "admission.k8s.io\/v1"/],
    [{ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }, /^invalid AdmissionReview: the AdmissionReview has no request/],
    [{ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { kind: SERVING_V1, operation: 'CREATE' } }, /request\.uid is missing/],
    [[1, 2, 3], /the body is not a JSON object/],
  ];
  for (const [body, message] of cases) {
    const r = await send(wh.server.port, wh.ca, '/resource-validation', JSON.stringify(body));
    t.is(r.status, 400, JSON.stringify(body));
    t.regex(r.body, message);
  }
});

test.serial('v1beta1 reviews are answered in v1beta1', async (t) => {
  const body = { apiVersion: 'admission.k8s.io/v1beta1', kind: 'AdmissionReview', request: request('Service', expectedDefaults(service())) };
  const r = await send(wh.server.port, wh.ca, '/resource-validation', JSON.stringify(body));
  t.is(r.status, 200);
  const out = JSON.parse(r.body) as ReviewOut;
  t.is(out.apiVersion, 'admission.k8s.io/v1beta1');
  t.true(out.response.allowed);
});

test.serial('a body over the limit is a 413, and the connection still reads the answer', async (t) => {
  const local = await startTestWebhook(servingSemantics, { maxBodyBytes: 64 * 1024 });
  try {
    const big = JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: request('Service', service({}, { annotations: { pad: 'x'.repeat(200 * 1024) } })) });
    const r = await send(local.server.port, local.ca, '/defaulting', big);
    t.is(r.status, 413);
    t.regex(r.body, /request body too large: the limit is 65536 bytes/);
    // Without a content-length (chunked), the limit holds while reading.
    const chunked = await send(local.server.port, local.ca, '/defaulting', big, { headers: { 'transfer-encoding': 'chunked' } });
    t.is(chunked.status, 413);
    const ok = await review(local.server.port, local.ca, '/resource-validation', request('Service', expectedDefaults(service())));
    t.true(ok.response.allowed);
  } finally {
    await local.close();
  }
});

test.serial('the default limit is 3 MiB', async (t) => {
  const big = Buffer.alloc(3 * 1024 * 1024 + 1, 0x20);
  const r = await send(wh.server.port, wh.ca, '/defaulting', big);
  t.is(r.status, 413);
});

test.serial('only POST: other methods are a 405 with Allow', async (t) => {
  for (const method of ['GET', 'PUT', 'DELETE']) {
    const r = await send(wh.server.port, wh.ca, '/defaulting', undefined, { method });
    t.is(r.status, 405, method);
    t.is(r.headers['allow'], 'POST');
  }
});

test.serial('only JSON: another media type is a 415, as in knative/pkg', async (t) => {
  const r = await send(wh.server.port, wh.ca, '/defaulting', '{}', { contentType: 'text/yaml' });
  t.is(r.status, 415);
  t.is(r.body, 'invalid Content-Type, want `application/json`\n');
  const none = await send(wh.server.port, wh.ca, '/defaulting', '{}', { contentType: null });
  t.is(none.status, 415);
  const charset = await send(wh.server.port, wh.ca, '/resource-validation', JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: request('Service', expectedDefaults(service())) }), {
    contentType: 'application/json; charset=utf-8',
  });
  t.is(charset.status, 200);
});

test.serial('an unknown path is a 404 listing the paths', async (t) => {
  const r = await send(wh.server.port, wh.ca, '/validate', '{}');
  t.is(r.status, 404);
  t.is(r.body, 'no admission controller at /validate: use /defaulting, /resource-validation, /config-validation\n');
});

test.serial('kubelet probes and /healthz answer 200, and 503 once draining', async (t) => {
  const local = await startTestWebhook(servingSemantics);
  try {
    t.is((await send(local.server.port, local.ca, '/', undefined, { method: 'GET', headers: { 'k-kubelet-probe': 'webhook' }, contentType: null })).status, 200);
    t.is((await send(local.server.port, local.ca, '/healthz', undefined, { method: 'GET', contentType: null })).status, 200);
    t.is((await send(local.server.port, local.ca, '/', undefined, { method: 'GET', headers: { 'user-agent': 'kube-probe/1.31' }, contentType: null })).status, 200);
    local.server.drain();
    t.is((await send(local.server.port, local.ca, '/', undefined, { method: 'GET', headers: { 'k-kubelet-probe': 'webhook' }, contentType: null })).status, 503);
    // Reviews are still answered while draining.
    const out = await review(local.server.port, local.ca, '/resource-validation', request('Service', expectedDefaults(service())));
    t.true(out.response.allowed);
  } finally {
    await local.close();
  }
});

test.serial('TLS: a client that does not trust the certificate is refused', async (t) => {
  const other = (await import('../../webhook/self-signed.ts')).selfSignedCertificate().cert;
  await t.throwsAsync(send(wh.server.port, other, '/healthz', undefined, { method: 'GET' }));
  t.is((await send(wh.server.port, wh.ca, '/healthz', undefined, { method: 'GET' })).status, 200);
});
