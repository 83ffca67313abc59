// JSON Patch creation: applying the patch to the original gives the target back, the patch is
// minimal for the edits defaulting makes, pointers are escaped, and output is deterministic.
import test from 'ava';
import { applyPatch, createPatch, escapePointer, type PatchOperation } from '../../webhook/json-patch.ts';

function roundTrip(t: import('ava').ExecutionContext, from: unknown, to: unknown): PatchOperation[] {
  const patch = createPatch(from, to);
  const applied = applyPatch(from, patch);
  if (!applied.ok) t.fail(applied.error);
  else t.deepEqual(applied.value, JSON.parse(JSON.stringify(to)) as unknown, JSON.stringify(patch));
  // Through JSON text too, as the API server receives it.
  const viaText = applyPatch(JSON.parse(JSON.stringify(from)) as unknown, JSON.parse(JSON.stringify(patch)) as PatchOperation[]);
  t.true(viaText.ok);
  return patch;
}

test('equal documents give an empty patch', (t) => {
  const doc = { a: 1, b: [1, { c: 'x' }], d: null };
  t.deepEqual(createPatch(doc, structuredClone(doc)), []);
});

test('defaulting a Service: only the added fields are in the patch', (t) => {
  const from = {
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Service',
    metadata: { name: 'hello', namespace: 'default' },
    spec: { template: { spec: { containers: [{ image: 'ko://hello' }] } } },
  };
  const to = structuredClone(from) as typeof from & { spec: { traffic: unknown[]; template: { spec: Record<string, unknown> } } };
  Object.assign(to.spec.template.spec, { containerConcurrency: 0, timeoutSeconds: 300 });
  Object.assign(to.spec.template.spec.containers[0]!, { name: 'user-container', readinessProbe: { successThreshold: 1, tcpSocket: { port: 0 } }, resources: {} });
  to.spec.traffic = [{ latestRevision: true, percent: 100 }];
  t.deepEqual(roundTrip(t, from, to), [
    { op: 'add', path: '/spec/template/spec/containers/0/name', value: 'user-container' },
    { op: 'add', path: '/spec/template/spec/containers/0/readinessProbe', value: { successThreshold: 1, tcpSocket: { port: 0 } } },
    { op: 'add', path: '/spec/template/spec/containers/0/resources', value: {} },
    { op: 'add', path: '/spec/template/spec/containerConcurrency', value: 0 },
    { op: 'add', path: '/spec/template/spec/timeoutSeconds', value: 300 },
    { op: 'add', path: '/spec/traffic', value: [{ latestRevision: true, percent: 100 }] },
  ]);
});

test('replace and remove, removals first', (t) => {
  t.deepEqual(roundTrip(t, { a: 1, b: 2, c: { d: true } }, { a: 2, c: { d: false }, e: 'new' }), [
    { op: 'remove', path: '/b' },
    { op: 'replace', path: '/a', value: 2 },
    { op: 'replace', path: '/c/d', value: false },
    { op: 'add', path: '/e', value: 'new' },
  ]);
});

test('a changed type replaces the whole value', (t) => {
  t.deepEqual(roundTrip(t, { a: [1, 2] }, { a: { x: 1 } }), [{ op: 'replace', path: '/a', value: { x: 1 } }]);
  t.deepEqual(roundTrip(t, { a: '1' }, { a: 1 }), [{ op: 'replace', path: '/a', value: 1 }]);
  t.deepEqual(roundTrip(t, { a: null }, { a: {} }), [{ op: 'replace', path: '/a', value: {} }]);
  t.deepEqual(roundTrip(t, [1], { root: true }), [{ op: 'replace', path: '', value: { root: true } }]);
});

test('keys with "/" and "~" are escaped as ~1 and ~0', (t) => {
  t.is(escapePointer('serving.knative.dev/creator'), 'serving.knative.dev~1creator');
  t.is(escapePointer('a~1/b'), 'a~01~1b');
  const patch = roundTrip(t, { metadata: { annotations: { 'x~y': '1' } } }, {
    metadata: { annotations: { 'x~y': '1', 'serving.knative.dev/creator': 'alice', 'odd~1/key': 'v' } },
  });
  t.deepEqual(patch.map((p) => p.path), ['/metadata/annotations/serving.knative.dev~1creator', '/metadata/annotations/odd~01~1key']);
});

test('arrays: a changed middle element is patched in place; inserts and removals keep the ends', (t) => {
  t.deepEqual(roundTrip(t, [{ n: 'a' }, { n: 'b' }, { n: 'c' }], [{ n: 'a' }, { n: 'B' }, { n: 'c' }]), [{ op: 'replace', path: '/1/n', value: 'B' }]);
  t.deepEqual(roundTrip(t, [1, 2, 3], [1, 9, 8, 2, 3]), [
    { op: 'add', path: '/1', value: 9 },
    { op: 'add', path: '/2', value: 8 },
  ]);
  t.deepEqual(roundTrip(t, [1, 9, 8, 2, 3], [1, 2, 3]), [
    { op: 'remove', path: '/1' },
    { op: 'remove', path: '/1' },
  ]);
  t.deepEqual(roundTrip(t, [1, 2], [1, 2, 3]), [{ op: 'add', path: '/2', value: 3 }]);
  t.deepEqual(roundTrip(t, ['a', 'b'], []), [{ op: 'remove', path: '/0' }, { op: 'remove', path: '/0' }]);
  roundTrip(t, [{ a: 1 }, { b: 2 }], [{ a: 2 }, { b: 3 }, { c: 4 }]);
  roundTrip(t, [[1, 2], [3]], [[1], [3, 4], []]);
});

test('undefined properties count as absent, as in JSON text', (t) => {
  t.deepEqual(createPatch({ a: 1, b: undefined }, { a: 1 }), []);
  t.deepEqual(createPatch({ a: 1 }, { a: 1, b: undefined, c: { d: undefined, e: 2 } }), [{ op: 'add', path: '/c', value: { e: 2 } }]);
  t.is(JSON.stringify(createPatch({}, { c: { d: undefined } })), '[{"op":"add","path":"/c","value":{}}]');
});

test('a "__proto__" key is data, never the prototype', (t) => {
  const from = JSON.parse('{"metadata":{"labels":{}}}') as unknown;
  const to = JSON.parse('{"metadata":{"labels":{"__proto__":"x"}}}') as unknown;
  const patch = createPatch(from, to);
  t.deepEqual(patch, [{ op: 'add', path: '/metadata/labels/__proto__', value: 'x' }]);
  const applied = applyPatch(from, patch);
  t.true(applied.ok);
  if (applied.ok) t.is(JSON.stringify(applied.value), '{"metadata":{"labels":{"__proto__":"x"}}}');
  t.deepEqual(createPatch({}, {}), []);
  t.is(({} as Record<string, unknown>)['x'], undefined, 'Object.prototype untouched');
});

test('the patch is deterministic', (t) => {
  const from = { spec: { a: [1, { b: 2 }], c: 'x' } };
  const to = { spec: { a: [1, { b: 3, z: 1 }, 4], d: 'y' } };
  t.deepEqual(JSON.stringify(createPatch(from, to)), JSON.stringify(createPatch(structuredClone(from), structuredClone(to))));
  roundTrip(t, from, to);
});

test('applyPatch reports a bad operation', (t) => {
  const r = applyPatch({ a: {} }, [{ op: 'replace', path: '/a/missing', value: 1 }]);
  t.false(r.ok);
  if (!r.ok) t.is(r.error, 'operation 0 (replace "/a/missing"): no member "missing"');
  const idx = applyPatch({ a: [1] }, [{ op: 'remove', path: '/a/3' }]);
  t.false(idx.ok);
});
