// The serving model of `knts serve`, without processes: which edits make a new generation and
// Revision (and which must not), Services deleted and added again, Routes to a Configuration
// that does not exist (yet), config-domain edits, and manifests the runtime cannot run.
import test from 'ava';
import { readYamlDocuments } from '../../config/yaml-documents.ts';
import { ServingModel, type ManifestFile } from '../../runtime/model.ts';

function file(name: string, text: string): ManifestFile {
  const { docs, problems } = readYamlDocuments(text, name);
  if (problems.length > 0) throw new Error(`bad YAML in test: ${JSON.stringify(problems)}`);
  return { file: name, dir: '/srv', docs };
}

const service = (target: string, o: { traffic?: string; templateName?: string; name?: string } = {}): string => `
apiVersion: serving.knative.dev/v1
kind: Service
metadata: {name: ${o.name ?? 'hello'}, namespace: default}
spec:
  template:
    metadata: {name: ${o.templateName ?? '""'}}
    spec:
      containers: [{image: example.com/hello, command: [node, app.js], env: [{name: TARGET, value: ${target}}]}]
${o.traffic ?? ''}`;

const configMap = (name: string, data: Record<string, string>): string => `
apiVersion: v1
kind: ConfigMap
metadata: {name: ${name}, namespace: knative-serving}
data: ${JSON.stringify(data)}
`;

const allReady = (): boolean => true;
const revisions = (m: ServingModel): string[] => m.routing(allReady).revisions.map((r) => r.name);
const traffic = (m: ServingModel, route = 'hello'): [string, number][] =>
  m
    .routing(allReady)
    .services.find((s) => s.name === route)
    ?.traffic.map((t) => [t.revision, t.percent]) ?? [];

test('an unchanged document is no new generation: not on a reload, not when another file or config-defaults changes, not for a traffic edit', (t) => {
  const m = new ServingModel();
  t.deepEqual(m.update([file('hello.yaml', service('one'))]), []);
  t.deepEqual(revisions(m), ['hello-00001']);
  // The same files again, then another file edited.
  t.deepEqual(m.update([file('hello.yaml', service('one'))]), []);
  t.deepEqual(m.update([file('hello.yaml', service('one')), file('other.yaml', service('x', { name: 'other' }))]), []);
  // A config-defaults edit applies to new revisions only: stored objects keep their defaults.
  t.deepEqual(m.update([file('hello.yaml', service('one')), file('other.yaml', service('x', { name: 'other' })), file('config.yaml', configMap('config-defaults', { 'revision-timeout-seconds': '100' }))]), []);
  t.deepEqual(revisions(m), ['hello-00001', 'other-00001']);
  // Only the traffic block changes: re-routed, same revision.
  t.deepEqual(m.update([file('hello.yaml', service('one', { traffic: '  traffic: [{latestRevision: true, percent: 100, tag: current}]' }))]), []);
  t.deepEqual(revisions(m), ['hello-00001']);
  t.deepEqual(m.routing(allReady).services[0]?.traffic, [{ revision: 'hello-00001', percent: 100, tag: 'current', url: 'http://current-hello.default.example.com' }]);
  // A template edit after all that is generation 2, with the defaults of now.
  t.deepEqual(m.update([file('hello.yaml', service('two')), file('config.yaml', configMap('config-defaults', { 'revision-timeout-seconds': '100' }))]), []);
  const revs = m.routing(allReady).revisions;
  t.deepEqual(
    revs.map((r) => [r.name, r.spec.timeoutSeconds]),
    [
      ['hello-00001', 300],
      ['hello-00002', 100],
    ],
  );
});

test('a template edited back and forth makes a new generation each time; traffic follows the latest ready one', (t) => {
  const m = new ServingModel();
  m.update([file('hello.yaml', service('one'))]);
  m.update([file('hello.yaml', service('two'))]);
  m.update([file('hello.yaml', service('one'))]);
  t.deepEqual(revisions(m), ['hello-00001', 'hello-00002', 'hello-00003']);
  t.deepEqual(traffic(m), [['hello-00003', 100]]);
  // Until generation 3 is ready, generation 2 (the latest ready) keeps the traffic.
  const notYet = m.routing((_ns, name) => name !== 'hello-00003');
  t.deepEqual(notYet.services[0]?.traffic.map((x) => x.revision), ['hello-00002']);
  t.deepEqual(
    notYet.revisions.map((r) => [r.name, r.reachable]),
    [
      ['hello-00001', false],
      ['hello-00002', true],
      ['hello-00003', true],
    ],
  );
});

test('a template name that comes back to an older Revision: reused for the same spec, a conflict for another', (t) => {
  const m = new ServingModel();
  m.update([file('hello.yaml', service('one', { templateName: 'hello-a' }))]);
  m.update([file('hello.yaml', service('two', { templateName: 'hello-b' }))]);
  t.deepEqual(m.update([file('hello.yaml', service('one', { templateName: 'hello-a' }))]), []);
  t.deepEqual(revisions(m), ['hello-a', 'hello-b']);
  t.deepEqual(traffic(m), [['hello-a', 100]]);
  m.update([file('hello.yaml', service('two', { templateName: 'hello-b' }))]);
  // hello-a again, with another spec: Knative cannot create it; the state stays as it was.
  const errors = m.update([file('hello.yaml', service('three', { templateName: 'hello-a' }))]);
  t.deepEqual(errors, ['Configuration default/hello: Revision creation failed with message: revisions.serving.knative.dev "hello-a" already exists.']);
  const env = m.routing(allReady).revisions.find((r) => r.name === 'hello-a')?.spec.containers?.[0]?.env;
  t.deepEqual(env, [{ name: 'TARGET', value: 'one' }]);
  t.deepEqual(traffic(m), [['hello-b', 100]]);
});

test('a Service with a named template: a traffic edit is accepted; a template edit must change the name, and the error shows just that edit', (t) => {
  const m = new ServingModel();
  m.update([file('hello.yaml', service('one', { templateName: 'hello-a' }))]);
  t.deepEqual(m.update([file('hello.yaml', service('one', { templateName: 'hello-a', traffic: '  traffic: [{latestRevision: true, percent: 100, tag: a}]' }))]), []);
  t.deepEqual(m.routing(allReady).services[0]?.traffic.map((x) => x.tag), ['a']);
  const errors = m.update([file('hello.yaml', service('two', { templateName: 'hello-a' }))]);
  t.deepEqual(errors, [
    'hello.yaml:2: Service hello: Saw the following changes without a name change (-old +new): spec.template.metadata.name\n' +
      '  {*v1.RevisionTemplateSpec}.spec.containers[0].env[0].value:\n' +
      '  \t-: "one"\n' +
      '  \t+: "two"',
  ]);
  t.deepEqual(revisions(m), ['hello-a']);
});

test('a Service deleted and added again starts over at generation 1', (t) => {
  const m = new ServingModel();
  m.update([file('hello.yaml', service('one'))]);
  m.update([file('hello.yaml', service('two'))]);
  t.deepEqual(m.update([]), []);
  const gone = m.routing(allReady);
  t.deepEqual([gone.revisions, gone.rules, gone.services], [[], [], []]);
  m.update([file('hello.yaml', service('three'))]);
  const back = m.routing(allReady);
  t.deepEqual(
    back.revisions.map((r) => [r.name, r.spec.containers?.[0]?.env?.[0]?.value]),
    [['hello-00001', 'three']],
  );
  t.deepEqual(
    back.rules.map((r) => r.host),
    ['hello.default.example.com'],
  );
});

test('a Route to a Configuration that does not exist waits, with a message, and routes once it does', (t) => {
  const m = new ServingModel();
  const route = (target: string): ManifestFile =>
    file(
      'route.yaml',
      `
apiVersion: serving.knative.dev/v1
kind: Route
metadata: {name: split, namespace: default}
spec:
  traffic: [${target}]
`,
    );
  t.deepEqual(m.update([route('{configurationName: later, percent: 100}')]), []);
  const waiting = m.routing(allReady);
  t.deepEqual(waiting.rules, []);
  t.deepEqual(waiting.pending, ['Route default/split: Configuration "later" referenced in traffic not found.']);
  t.deepEqual(waiting.services.map((s) => [s.url, s.traffic]), [['http://split.default.example.com', []]]);
  const configuration = file(
    'later.yaml',
    `
apiVersion: serving.knative.dev/v1
kind: Configuration
metadata: {name: later, namespace: default}
spec:
  template:
    spec:
      containers: [{image: example.com/hello, command: [node, app.js]}]
`,
  );
  m.update([route('{configurationName: later, percent: 100}'), configuration]);
  // Not ready yet: still waiting, but the new revision runs so that it can become ready.
  const starting = m.routing(() => false);
  t.deepEqual(starting.rules, []);
  t.deepEqual(starting.revisions.map((r) => [r.name, r.reachable]), [['later-00001', true]]);
  t.deepEqual(traffic(m, 'split'), [['later-00001', 100]]);
  t.deepEqual(m.routing(allReady).pending, []);
  // A traffic edit that cannot be assigned: the route keeps serving, and showing, what it had.
  t.deepEqual(m.update([route('{revisionName: later-00009, percent: 100}'), configuration]), []);
  const kept = m.routing(allReady);
  t.deepEqual(kept.pending, ['Route default/split: Revision "later-00009" referenced in traffic not found.']);
  t.deepEqual(
    kept.rules.map((r) => [r.host, r.targets]),
    [['split.default.example.com', [{ revision: 'later-00001', percent: 100 }]]],
  );
  t.deepEqual(traffic(m, 'split'), [['later-00001', 100]]);
});

test('a config-domain edit moves every host', (t) => {
  const m = new ServingModel();
  const hello = file('hello.yaml', service('one', { traffic: '  traffic: [{latestRevision: true, percent: 100, tag: v1}]' }));
  m.update([hello]);
  t.deepEqual(
    m.routing(allReady).rules.map((r) => r.host),
    ['hello.default.example.com', 'v1-hello.default.example.com'],
  );
  m.update([hello, file('config.yaml', configMap('config-domain', { 'knative.test': '' }))]);
  const moved = m.routing(allReady);
  t.deepEqual(
    moved.rules.map((r) => r.host),
    ['hello.default.knative.test', 'v1-hello.default.knative.test'],
  );
  t.is(moved.services[0]?.url, 'http://hello.default.knative.test');
  t.deepEqual(revisions(m), ['hello-00001']);
});

test('a container without a command is reported (images are not pulled), and the last good version serves', (t) => {
  const m = new ServingModel();
  m.update([file('hello.yaml', service('one'))]);
  const errors = m.update([file('hello.yaml', service('two').replace('command: [node, app.js], ', ''))]);
  t.deepEqual(errors, ["hello.yaml:2: Service hello: knts serve runs the container's command (images are not pulled): missing field(s): spec.template.spec.containers[0].command"]);
  t.deepEqual(revisions(m), ['hello-00001']);
});
