// Revision names (spec §5.1: `<config>-%05d` through kmeta.ChildName, or the template's own
// name), when a template change makes a new generation, and the Configuration step the
// embedded runtime takes on each apply.
import test from 'ava';
import { canonicalTemplate, nextConfigurationState, revisionName, templateChanged, templateHash, type ConfigurationStep } from '../../webhook/revision-naming.ts';
import type { RevisionTemplateSpec } from '../../webhook/types.ts';

// md5("f" × 63), from kmeta's own ChildName test vector.
const F63_MD5 = '105d7597f637e83cc711605ac3ea4957';

// [config name, generation, template name, expected]
const names: [string, number, string | undefined, string][] = [
  ['hello', 1, undefined, 'hello-00001'],
  ['hello', 123, undefined, 'hello-00123'],
  ['hello', 99999, undefined, 'hello-99999'],
  ['hello', 123456, undefined, 'hello-123456'],
  ['hello', 7, '', 'hello-00007'],
  ['hello', 7, 'hello-blue', 'hello-blue'],
  // 57 + 6 = 63: fits exactly
  ['a'.repeat(57), 1, undefined, `${'a'.repeat(57)}-00001`],
  // longer: the parent is cut to 63 − 32 − len(suffix) and its MD5 goes before the suffix
  ['f'.repeat(63), 1, undefined, `${'f'.repeat(25)}${F63_MD5}-00001`],
  ['f'.repeat(63), 123456, undefined, `${'f'.repeat(24)}${F63_MD5}-123456`],
];

for (const [config, generation, templateName, want] of names) {
  test(`revisionName(${config.length > 20 ? `${config.slice(0, 3)}…×${config.length}` : config}, ${generation}, ${String(templateName)})`, (t) => {
    const got = revisionName(config, generation, templateName);
    t.is(got, want);
    t.true(got.length <= 63);
  });
}

const base: RevisionTemplateSpec = {
  metadata: { labels: { app: 'hello' } },
  spec: { containers: [{ image: 'ghcr.io/example/hello:1', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] }], timeoutSeconds: 300 },
};

// [title, other template, changed?]
const changes: [string, RevisionTemplateSpec, boolean][] = [
  ['identical', structuredClone(base), false],
  ['keys in another order', { spec: { timeoutSeconds: 300, containers: [{ env: [{ value: '1', name: 'A' }, { name: 'B', value: '2' }], image: 'ghcr.io/example/hello:1' }] }, metadata: { labels: { app: 'hello' } } }, false],
  ['empty annotations added', { ...base, metadata: { ...base.metadata, annotations: {} } }, false],
  ['null creationTimestamp (as Go writes it)', { ...base, metadata: { ...base.metadata, creationTimestamp: null as unknown as string } }, false],
  ['an empty volumes list', { ...base, spec: { ...base.spec, volumes: [] } }, false],
  ['a new image', { ...base, spec: { ...base.spec, containers: [{ image: 'ghcr.io/example/hello:2' }] } }, true],
  ['env reordered', { ...base, spec: { ...base.spec, containers: [{ image: 'ghcr.io/example/hello:1', env: [{ name: 'B', value: '2' }, { name: 'A', value: '1' }] }] } }, true],
  ['an annotation added', { ...base, metadata: { ...base.metadata, annotations: { 'autoscaling.knative.dev/min-scale': '1' } } }, true],
  ['a label changed', { ...base, metadata: { labels: { app: 'hello2' } } }, true],
  ['containerConcurrency 0 set', { ...base, spec: { ...base.spec, containerConcurrency: 0 } }, true],
  ['a template name given', { ...base, metadata: { ...base.metadata, name: 'hello-blue' } }, true],
];

for (const [title, other, changed] of changes) {
  test(`templateChanged: ${title}`, (t) => {
    t.is(templateChanged(base, other), changed);
    t.is(templateChanged(other, base), changed);
    t.is(templateHash(base) !== templateHash(other), changed);
  });
}

test('templateHash is a stable hex digest of the canonical form', (t) => {
  t.regex(templateHash(base), /^[0-9a-f]{64}$/);
  t.is(templateHash({}), templateHash({ metadata: {}, spec: {} }));
  t.is(canonicalTemplate({}), '{}');
  t.is(canonicalTemplate({ spec: { timeoutSeconds: 300, containers: [{ image: 'x' }] }, metadata: { labels: {} } }), '{"spec":{"containers":[{"image":"x"}],"timeoutSeconds":300}}');
});

const named = (name: string, image: string, labels: Record<string, string> = {}): RevisionTemplateSpec => ({ metadata: { name, labels }, spec: { containers: [{ image }] } });
const plain = (image: string): RevisionTemplateSpec => ({ spec: { containers: [{ image }] } });

// [title, previous state, new template, expected step]
const steps: [string, Parameters<typeof nextConfigurationState>[0], RevisionTemplateSpec, ConfigurationStep][] = [
  ['a new Configuration', undefined, plain('v1'), { generation: 1, revisionName: 'hello-00001', createsRevision: true }],
  ['a new Configuration with a named template', undefined, named('hello-blue', 'v1'), { generation: 1, revisionName: 'hello-blue', createsRevision: true }],
  [
    'the same template again',
    { generation: 3, template: plain('v1'), latestCreatedRevisionName: 'hello-00003' },
    plain('v1'),
    { generation: 3, revisionName: 'hello-00003', createsRevision: false },
  ],
  [
    'a changed template',
    { generation: 1, template: plain('v1'), latestCreatedRevisionName: 'hello-00001' },
    plain('v2'),
    { generation: 2, revisionName: 'hello-00002', createsRevision: true },
  ],
  [
    'a changed template after many generations',
    { generation: 99999, template: plain('v1'), latestCreatedRevisionName: 'hello-99999' },
    plain('v2'),
    { generation: 100000, revisionName: 'hello-100000', createsRevision: true },
  ],
  [
    'a new template name',
    { generation: 1, template: named('hello-blue', 'v1'), latestCreatedRevisionName: 'hello-blue' },
    named('hello-green', 'v2'),
    { generation: 2, revisionName: 'hello-green', createsRevision: true },
  ],
  [
    'the template name dropped',
    { generation: 4, template: named('hello-blue', 'v1'), latestCreatedRevisionName: 'hello-blue' },
    plain('v2'),
    { generation: 5, revisionName: 'hello-00005', createsRevision: true },
  ],
  [
    'the same name, only labels changed: the Revision is reused',
    { generation: 1, template: named('hello-blue', 'v1'), latestCreatedRevisionName: 'hello-blue' },
    named('hello-blue', 'v1', { team: 'a' }),
    { generation: 2, revisionName: 'hello-blue', createsRevision: false },
  ],
  [
    'the same name, spec changed: the name is taken',
    { generation: 1, template: named('hello-blue', 'v1'), latestCreatedRevisionName: 'hello-blue' },
    named('hello-blue', 'v2'),
    {
      generation: 2,
      revisionName: 'hello-blue',
      createsRevision: false,
      conflict: 'Revision creation failed with message: revisions.serving.knative.dev "hello-blue" already exists.',
    },
  ],
];

for (const [title, prev, template, want] of steps) {
  test(`nextConfigurationState: ${title}`, (t) => {
    t.deepEqual(nextConfigurationState(prev, 'hello', template), want);
  });
}
