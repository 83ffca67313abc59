// Reading a document as a serving resource: kind and apiVersion, and the JSON types of the
// fields defaulting and validation read, with every problem listed.
import test from 'ava';
import { asServingResource } from '../../webhook/parse.ts';

const V1 = 'serving.knative.dev/v1';

test('a Service parses as itself', (t) => {
  const doc = { apiVersion: V1, kind: 'Service', metadata: { name: 'hello' }, spec: { template: { spec: { containers: [{ image: 'x' }] } } } };
  const r = asServingResource(doc);
  t.true(r.ok);
  if (r.ok) t.is(r.resource as unknown, doc);
});

for (const kind of ['Configuration', 'Revision', 'Route']) {
  test(`a ${kind} parses`, (t) => {
    t.true(asServingResource({ apiVersion: V1, kind, metadata: { name: 'x' } }).ok);
  });
}

test('null fields count as absent, and fields nobody reads are not checked', (t) => {
  const doc = { apiVersion: V1, kind: 'Revision', metadata: { name: 'x', labels: null, finalizers: ['a'] }, spec: { containerConcurrency: null, nodeName: 5 } };
  t.true(asServingResource(doc).ok);
});

// [title, document, the error]
const rows: [string, unknown, string][] = [
  ['an array', [], 'expected a serving.knative.dev/v1 Service, Configuration, Revision or Route as a map, got a list'],
  ['a string', 'Service', 'expected a serving.knative.dev/v1 Service, Configuration, Revision or Route as a map, got the string "Service"'],
  ['null', null, 'expected a serving.knative.dev/v1 Service, Configuration, Revision or Route as a map, got null'],
  ['no kind', { apiVersion: V1 }, 'a document without kind (apiVersion serving.knative.dev/v1) is not a Knative serving resource: expected a serving.knative.dev/v1 Service, Configuration, Revision or Route'],
  [
    'another kind',
    { apiVersion: 'apps/v1', kind: 'Deployment' },
    'kind "Deployment" (apiVersion apps/v1) is not a Knative serving resource: expected a serving.knative.dev/v1 Service, Configuration, Revision or Route',
  ],
  ['an older version', { apiVersion: 'serving.knative.dev/v1beta1', kind: 'Service' }, 'Service has apiVersion "serving.knative.dev/v1beta1": expected apiVersion serving.knative.dev/v1'],
  ['no version', { kind: 'Route' }, 'Route has no apiVersion: expected apiVersion serving.knative.dev/v1'],
  ['metadata not a map', { apiVersion: V1, kind: 'Route', metadata: 'x' }, 'metadata: expected a map, got the string "x"'],
  ['a label that is not a string', { apiVersion: V1, kind: 'Route', metadata: { labels: { a: 1 } } }, 'metadata.labels.a: expected a string, got number 1'],
  [
    'wrongly typed revision fields, all listed',
    {
      apiVersion: V1,
      kind: 'Service',
      spec: {
        template: { spec: { containerConcurrency: '10', timeoutSeconds: 1.5, containers: [{ image: 5, ports: [{ containerPort: '8080' }] }] } },
        traffic: [{ percent: '100', latestRevision: 'yes' }],
      },
    },
    [
      'spec.template.spec.containerConcurrency: expected an integer, got the string "10"',
      'spec.template.spec.timeoutSeconds: expected an integer, got number 1.5',
      'spec.template.spec.containers[0].image: expected a string, got number 5',
      'spec.template.spec.containers[0].ports[0].containerPort: expected an integer, got the string "8080"',
      'spec.traffic[0].latestRevision: expected true or false, got the string "yes"',
      'spec.traffic[0].percent: expected an integer, got the string "100"',
    ].join('\n'),
  ],
  ['containers not a list', { apiVersion: V1, kind: 'Revision', spec: { containers: { image: 'x' } } }, 'spec.containers: expected a list, got a map'],
  [
    'probe ports and resources',
    { apiVersion: V1, kind: 'Revision', spec: { containers: [{ readinessProbe: { httpGet: { port: 1.5 } }, resources: { limits: { cpu: true } } }] } },
    ['spec.containers[0].resources.limits.cpu: expected a quantity, got boolean true', 'spec.containers[0].readinessProbe.httpGet.port: expected an integer or a string, got number 1.5'].join(
      '\n',
    ),
  ],
  [
    'null list items where maps go (a YAML "-" with nothing after it)',
    { apiVersion: V1, kind: 'Service', metadata: { ownerReferences: [null] }, spec: { template: { spec: { containers: [null] } }, traffic: [null, { percent: 100 }] } },
    ['metadata.ownerReferences[0]: expected a map, got null', 'spec.template.spec.containers[0]: expected a map, got null', 'spec.traffic[0]: expected a map, got null'].join('\n'),
  ],
  ['status not a map', { apiVersion: V1, kind: 'Route', status: [] }, 'status: expected a map, got a list'],
];

for (const [title, doc, error] of rows) {
  test(`rejects ${title}`, (t) => {
    t.deepEqual(asServingResource(doc), { ok: false, error });
  });
}
