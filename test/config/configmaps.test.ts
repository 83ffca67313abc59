// From YAML text to the effective configuration: document shape, wrong kinds, malformed and
// empty YAML, unknown and duplicate map names, and defaults for absent maps.
import test from 'ava';
import { asConfigMap, effectiveConfig, showEffectiveConfig, type ConfigMapDocument } from '../../config/configmaps.ts';
import { formatProblem, readYamlDocuments } from '../../config/yaml-documents.ts';
import { SECOND } from '../../config/duration.ts';

const cm = (name: string, data: Record<string, string>, origin = `${name}.yaml:1`): ConfigMapDocument => ({ name, namespace: 'knative-serving', data, origin });

test('multi-document YAML yields one value per document with its first line', (t) => {
  const { docs, problems } = readYamlDocuments('a: 1\n---\n# comment\nb: 2\n---\n', 'f.yaml');
  t.deepEqual(problems, []);
  t.deepEqual(docs.map((d) => [d.line, d.value]), [[1, { a: 1 }], [4, { b: 2 }]]);
});

test('malformed YAML gives file:line:col and the parser message', (t) => {
  const { docs, problems } = readYamlDocuments('a: 1\nb: [1, 2\n', 'bad.yaml');
  t.deepEqual(docs, []);
  t.true(problems.length > 0);
  t.regex(formatProblem(problems[0]!), /^bad\.yaml:\d+:\d+: invalid YAML: /);
});

test('duplicate keys are a YAML error', (t) => {
  const { problems } = readYamlDocuments('data:\n  a: "1"\n  a: "2"\n', 'dup.yaml');
  t.is(problems.length, 1);
  t.regex(formatProblem(problems[0]!), /^dup\.yaml:3:\d+: invalid YAML: .*unique/i);
});

test('an empty file has no documents', (t) => {
  t.deepEqual(readYamlDocuments('', 'e.yaml'), { docs: [], problems: [] });
  t.deepEqual(readYamlDocuments('---\n# only a comment\n', 'e.yaml'), { docs: [], problems: [] });
});

test('asConfigMap: wrong kind, missing kind, wrong apiVersion, no name, non-map', (t) => {
  const msg = (v: unknown) => asConfigMap(v, 'f.yaml:1').problems.map((p) => p.message);
  t.deepEqual(msg({ apiVersion: 'serving.knative.dev/v1', kind: 'Service', metadata: { name: 'x' } }), ['kind "Service" is not a ConfigMap']);
  t.deepEqual(msg({ apiVersion: 'v1', metadata: { name: 'x' } }), ['document has no kind: expected kind ConfigMap']);
  t.deepEqual(msg({ apiVersion: 'v2', kind: 'ConfigMap', metadata: { name: 'x' } }), ['ConfigMap apiVersion must be "v1", not "v2"']);
  t.deepEqual(msg({ apiVersion: 'v1', kind: 'ConfigMap', metadata: {} }), ['ConfigMap has no metadata.name']);
  t.deepEqual(msg(['a']), ['document is not a YAML map: expected a ConfigMap']);
  t.deepEqual(msg({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'config-x' }, data: ['a'] }), ['config-x: data must be a map of string keys to string values']);
});

test('asConfigMap: non-string values are errors that say how to fix them; null is ""', (t) => {
  const r = asConfigMap({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'config-autoscaler', namespace: 'knative-serving' }, data: { 'min-scale': 5, 'enable-scale-to-zero': false, 'max-scale': null, 'stable-window': '60s' } }, 'f.yaml:1');
  t.deepEqual(r.problems.map((p) => p.message), [
    'config-autoscaler: min-scale: 5 must be a string: ConfigMap values are text, so quote it ("5")',
    'config-autoscaler: enable-scale-to-zero: false must be a string: ConfigMap values are text, so quote it ("false")',
  ]);
  t.deepEqual(r.map?.data, { 'max-scale': '', 'stable-window': '60s' });
  t.is(r.map?.namespace, 'knative-serving');
});

test('effectiveConfig: absent maps keep defaults; given maps apply', (t) => {
  const r = effectiveConfig([cm('config-autoscaler', { 'stable-window': '2m' }), cm('config-defaults', { 'container-concurrency': '10' })]);
  t.deepEqual(r.errors, []);
  t.is(r.config.autoscaler.stableWindow, 120 * SECOND);
  t.is(r.config.defaults.containerConcurrency, 10);
  t.is(r.config.network.ingressClass, 'istio.ingress.networking.knative.dev');
  t.deepEqual(r.given, ['config-autoscaler', 'config-defaults']);
});

test('effectiveConfig: unknown names are errors, known-but-unused Knative maps are warnings, duplicates are errors', (t) => {
  const r = effectiveConfig([cm('config-autoscalar', {}), cm('config-gc', {}), cm('config-network', {}, 'a.yaml:1'), cm('config-network', {}, 'b.yaml:7')]);
  t.deepEqual(r.errors, [
    'config-autoscalar.yaml:1: unknown config map "config-autoscalar"; knts reads config-autoscaler, config-defaults, config-deployment, config-network, config-features, config-observability, config-logging, config-domain',
    'b.yaml:7: config-network is already defined at a.yaml:1',
  ]);
  t.deepEqual(r.warnings, ['config-gc.yaml:1: config-gc is a Knative config map that knts does not use; it is ignored']);
});

test('effectiveConfig: errors from several maps are all listed', (t) => {
  const r = effectiveConfig([cm('config-autoscaler', { 'stable-window': '3s' }), cm('config-deployment', {}), cm('config-logging', { 'loglevel.activator': 'loud' })]);
  t.deepEqual(r.errors, [
    'config-autoscaler: stable-window: "3s" must be between 6s and 1h0m0s',
    'config-deployment: queue-sidecar-image: (unset) is required: set the queue-proxy image',
    'config-logging: loglevel.activator: "loud" must be a log level: one of debug, info, warn, error, dpanic, panic, fatal',
  ]);
});

test('showEffectiveConfig prints durations in Go syntax under ConfigMap names', (t) => {
  const r = effectiveConfig([cm('config-autoscaler', { 'stable-window': '90s' })]);
  const shown = showEffectiveConfig(r.config) as Record<string, Record<string, unknown>>;
  t.deepEqual(Object.keys(shown), ['config-autoscaler', 'config-defaults', 'config-deployment', 'config-network', 'config-features', 'config-observability', 'config-logging', 'config-domain']);
  t.is(shown['config-autoscaler']?.['stableWindow'], '1m30s');
  t.is(shown['config-autoscaler']?.['scaleToZeroGracePeriod'], '30s');
  t.deepEqual(shown['config-domain'], { 'svc.cluster.local': { selector: {} } });
});
