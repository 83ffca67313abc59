// config-deployment: every key's default, a valid value, each invalid class, the legacy
// camelCase aliases and the runtime-class-name selection (spec §4.3), table-driven.
import test from 'ava';
import { validRows, invalidRows } from '../helpers/config-table.ts';
import { deploymentConfigMap, runtimeClassFor, type DeploymentConfig } from '../../config/deployment.ts';
import { formatIssue } from '../../config/schema.ts';
import { MILLISECOND, MINUTE, SECOND } from '../../config/duration.ts';

const IMAGE = 'gcr.io/knative-releases/queue@sha256:abc';
// queue-sidecar-image is required, so every other case supplies one.
const parse = (data: Record<string, string>) => deploymentConfigMap.parse({ 'queue-sidecar-image': IMAGE, ...data });

const expectedDefaults: DeploymentConfig = {
  queueSidecarImage: '',
  progressDeadline: 600 * SECOND,
  digestResolutionTimeout: 10 * SECOND,
  registriesSkippingTagResolving: ['kind.local', 'ko.local', 'dev.local'],
  queueSidecarCpuRequest: '25m',
  queueSidecarCpuLimit: undefined,
  queueSidecarMemoryRequest: undefined,
  queueSidecarMemoryLimit: undefined,
  queueSidecarEphemeralStorageRequest: undefined,
  queueSidecarEphemeralStorageLimit: undefined,
  queueSidecarTokenAudiences: [],
  queueSidecarRootCa: '',
  queueSidecarTlsMinVersion: '',
  queueSidecarTlsMaxVersion: '',
  queueSidecarTlsCipherSuites: '',
  queueSidecarTlsCurvePreferences: '',
  defaultAffinityType: 'prefer-spread-revision-over-nodes',
  runtimeClassNames: [],
  podIsAlwaysSchedulable: false,
};

test('defaults match Knative', (t) => {
  t.deepEqual(deploymentConfigMap.defaults(), expectedDefaults);
  const r = parse({});
  t.true(r.ok);
  if (r.ok) {
    t.deepEqual(r.config, { ...expectedDefaults, queueSidecarImage: IMAGE });
    t.deepEqual(r.warnings, []);
  }
});

test('queue-sidecar-image is required', (t) => {
  const r = deploymentConfigMap.parse({});
  t.false(r.ok);
  if (!r.ok) t.deepEqual(r.errors.map(formatIssue), ['config-deployment: queue-sidecar-image: (unset) is required: set the queue-proxy image']);
  const blank = deploymentConfigMap.parse({ 'queue-sidecar-image': '' });
  t.false(blank.ok);
  if (!blank.ok) t.deepEqual(blank.errors.map(formatIssue), ['config-deployment: queue-sidecar-image: "" is required: set the queue-proxy image']);
  const legacyBlank = deploymentConfigMap.parse({ queueSidecarImage: '' });
  t.false(legacyBlank.ok);
  if (!legacyBlank.ok) t.deepEqual(legacyBlank.errors.map(formatIssue), ['config-deployment: queueSidecarImage: "" is required: set the queue-proxy image']);
});

// [key, value, field, parsed value]
const valid: [string, string, keyof DeploymentConfig, unknown][] = [
  ['queue-sidecar-image', 'ko://knative.dev/serving/cmd/queue', 'queueSidecarImage', 'ko://knative.dev/serving/cmd/queue'],
  ['progress-deadline', '1s', 'progressDeadline', SECOND],
  ['progress-deadline', '2m30s', 'progressDeadline', 150 * SECOND],
  ['progress-deadline', '1h', 'progressDeadline', 60 * MINUTE],
  ['progress-deadline', '1000ms', 'progressDeadline', SECOND],
  ['digest-resolution-timeout', '30s', 'digestResolutionTimeout', 30 * SECOND],
  // No whole-second rule here.
  ['digest-resolution-timeout', '500ms', 'digestResolutionTimeout', 500 * MILLISECOND],
  ['digest-resolution-timeout', '1ns', 'digestResolutionTimeout', 1],
  ['queue-sidecar-cpu-request', '100m', 'queueSidecarCpuRequest', '100m'],
  ['queue-sidecar-cpu-request', '0.25', 'queueSidecarCpuRequest', '0.25'],
  ['queue-sidecar-cpu-limit', '1000m', 'queueSidecarCpuLimit', '1000m'],
  ['queue-sidecar-memory-request', '400Mi', 'queueSidecarMemoryRequest', '400Mi'],
  ['queue-sidecar-memory-limit', '800Mi', 'queueSidecarMemoryLimit', '800Mi'],
  ['queue-sidecar-memory-limit', '1e9', 'queueSidecarMemoryLimit', '1e9'],
  ['queue-sidecar-ephemeral-storage-request', '512Mi', 'queueSidecarEphemeralStorageRequest', '512Mi'],
  ['queue-sidecar-ephemeral-storage-limit', '1Gi', 'queueSidecarEphemeralStorageLimit', '1Gi'],
  ['queue-sidecar-rootca', '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----', 'queueSidecarRootCa', '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----'],
  ['queue-sidecar-tls-min-version', '1.3', 'queueSidecarTlsMinVersion', '1.3'],
  ['queue-sidecar-tls-max-version', '1.3', 'queueSidecarTlsMaxVersion', '1.3'],
  ['queue-sidecar-tls-cipher-suites', 'TLS_AES_128_GCM_SHA256', 'queueSidecarTlsCipherSuites', 'TLS_AES_128_GCM_SHA256'],
  ['queue-sidecar-tls-curve-preferences', 'X25519', 'queueSidecarTlsCurvePreferences', 'X25519'],
  ['default-affinity-type', 'none', 'defaultAffinityType', 'none'],
  ['default-affinity-type', 'prefer-spread-revision-over-nodes', 'defaultAffinityType', 'prefer-spread-revision-over-nodes'],
  ['pod-is-always-schedulable', 'true', 'podIsAlwaysSchedulable', true],
  ['pod-is-always-schedulable', 'T', 'podIsAlwaysSchedulable', true],
];

validRows(parse, valid);

// Comma sets: [key, value, field, parsed set]
const sets: [string, string, 'registriesSkippingTagResolving' | 'queueSidecarTokenAudiences', readonly string[]][] = [
  ['registries-skipping-tag-resolving', 'registry.example.com', 'registriesSkippingTagResolving', ['registry.example.com']],
  ['registries-skipping-tag-resolving', 'a.io, b.io ,c.io', 'registriesSkippingTagResolving', ['a.io', 'b.io', 'c.io']],
  ['registries-skipping-tag-resolving', ' a.io,,a.io , ', 'registriesSkippingTagResolving', ['a.io']],
  ['registries-skipping-tag-resolving', '', 'registriesSkippingTagResolving', []],
  ['queue-sidecar-token-audiences', 'foo,bar', 'queueSidecarTokenAudiences', ['foo', 'bar']],
  ['queue-sidecar-token-audiences', ' foo , bar , foo', 'queueSidecarTokenAudiences', ['foo', 'bar']],
  ['queue-sidecar-token-audiences', '', 'queueSidecarTokenAudiences', []],
];

for (const [key, value, field, want] of sets) {
  test(`set ${key}: ${JSON.stringify(value)}`, (t) => {
    const r = parse({ [key]: value });
    t.true(r.ok);
    if (r.ok) t.deepEqual(r.config[field], want);
  });
}

const QUANTITY = 'must be a Kubernetes quantity such as 100m, 128Mi or 1';
const DURATION = 'must be a duration such as 30s, 1m30s or 500ms';

// [data, exact error message]
const invalid: [Record<string, string>, string][] = [
  // bad duration
  [{ 'progress-deadline': '600' }, `config-deployment: progress-deadline: "600" ${DURATION} (time: missing unit in duration "600")`],
  [{ 'progress-deadline': '1d' }, `config-deployment: progress-deadline: "1d" ${DURATION} (time: unknown unit "d" in duration "1d")`],
  [{ 'digest-resolution-timeout': 'fast' }, `config-deployment: digest-resolution-timeout: "fast" ${DURATION} (time: invalid duration "fast")`],
  [{ 'digest-resolution-timeout': '' }, `config-deployment: digest-resolution-timeout: "" ${DURATION} (time: invalid duration "")`],
  // out of range
  [{ 'progress-deadline': '0s' }, 'config-deployment: progress-deadline: "0s" must be greater than 0s'],
  [{ 'progress-deadline': '0' }, 'config-deployment: progress-deadline: "0" must be greater than 0s'],
  [{ 'progress-deadline': '-10s' }, 'config-deployment: progress-deadline: "-10s" must be greater than 0s'],
  [{ 'progress-deadline': '1.5s' }, 'config-deployment: progress-deadline: "1.5s" must be a whole number of seconds'],
  [{ 'progress-deadline': '10m500ms' }, 'config-deployment: progress-deadline: "10m500ms" must be a whole number of seconds'],
  [{ 'digest-resolution-timeout': '0s' }, 'config-deployment: digest-resolution-timeout: "0s" must be greater than 0s'],
  [{ 'digest-resolution-timeout': '-1ms' }, 'config-deployment: digest-resolution-timeout: "-1ms" must be greater than 0s'],
  // wrong type
  [{ 'pod-is-always-schedulable': 'yes' }, 'config-deployment: pod-is-always-schedulable: "yes" must be a boolean (true or false)'],
  [{ 'queue-sidecar-cpu-request': 'lots' }, `config-deployment: queue-sidecar-cpu-request: "lots" ${QUANTITY}`],
  [{ 'queue-sidecar-cpu-request': '' }, `config-deployment: queue-sidecar-cpu-request: "" ${QUANTITY}`],
  [{ 'queue-sidecar-cpu-limit': '1 cpu' }, `config-deployment: queue-sidecar-cpu-limit: "1 cpu" ${QUANTITY}`],
  [{ 'queue-sidecar-memory-request': '400MB' }, `config-deployment: queue-sidecar-memory-request: "400MB" ${QUANTITY}`],
  [{ 'queue-sidecar-memory-limit': '800mi' }, `config-deployment: queue-sidecar-memory-limit: "800mi" ${QUANTITY}`],
  [{ 'queue-sidecar-ephemeral-storage-request': '1K' }, `config-deployment: queue-sidecar-ephemeral-storage-request: "1K" ${QUANTITY}`],
  [{ 'queue-sidecar-ephemeral-storage-limit': 'Gi' }, `config-deployment: queue-sidecar-ephemeral-storage-limit: "Gi" ${QUANTITY}`],
  // default-affinity-type is compared case-sensitively; empty is rejected too.
  [{ 'default-affinity-type': 'None' }, 'config-deployment: default-affinity-type: "None" must be one of "none", "prefer-spread-revision-over-nodes"'],
  [{ 'default-affinity-type': 'Prefer-Spread-Revision-Over-Nodes' }, 'config-deployment: default-affinity-type: "Prefer-Spread-Revision-Over-Nodes" must be one of "none", "prefer-spread-revision-over-nodes"'],
  [{ 'default-affinity-type': '' }, 'config-deployment: default-affinity-type: "" must be one of "none", "prefer-spread-revision-over-nodes"'],
  [{ 'default-affinity-type': 'spread' }, 'config-deployment: default-affinity-type: "spread" must be one of "none", "prefer-spread-revision-over-nodes"'],
  // runtime-class-name
  [{ 'runtime-class-name': 'gvisor: [b' }, 'config-deployment: runtime-class-name: "gvisor: [b" is not valid YAML: Flow sequence in block collection must be sufficiently indented and end with a ] at line 1, column 11'],
  [{ 'runtime-class-name': 'a: {}\na: {}' }, 'config-deployment: runtime-class-name: "a: {}\\na: {}" is not valid YAML: Map keys must be unique at line 2, column 1'],
  [{ 'runtime-class-name': '- gvisor' }, 'config-deployment: runtime-class-name: "- gvisor" must be a YAML map of runtime class name to {selector: {label: value}}'],
  [{ 'runtime-class-name': 'gvisor' }, 'config-deployment: runtime-class-name: "gvisor" must be a YAML map of runtime class name to {selector: {label: value}}'],
  [{ 'runtime-class-name': 'gvisor: 3' }, 'config-deployment: runtime-class-name: "gvisor: 3" has class "gvisor" whose value is not a map with an optional selector'],
  [{ 'runtime-class-name': 'gvisor: [x]' }, 'config-deployment: runtime-class-name: "gvisor: [x]" has class "gvisor" whose value is not a map with an optional selector'],
  [
    { 'runtime-class-name': 'GVisor: {}' },
    `config-deployment: runtime-class-name: "GVisor: {}" has a runtime class name "GVisor" that is not a DNS subdomain: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
  ],
  [
    { 'runtime-class-name': 'kata_v2: {}' },
    `config-deployment: runtime-class-name: "kata_v2: {}" has a runtime class name "kata_v2" that is not a DNS subdomain: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
  ],
  [
    { 'runtime-class-name': 'gvisor: {selector: {"bad key!": x}}' },
    `config-deployment: runtime-class-name: "gvisor: {selector: {\\"bad key!\\": x}}" has class "gvisor" with an invalid selector: label key "bad key!": name part must be 1-63 alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric character`,
  ],
  [
    { 'runtime-class-name': 'gvisor: {selector: {app: "-x"}}' },
    `config-deployment: runtime-class-name: "gvisor: {selector: {app: \\"-x\\"}}" has class "gvisor" with an invalid selector: label "app" value "-x": must be at most 63 alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric character`,
  ],
  [{ 'runtime-class-name': 'gvisor: {selector: {app: 1}}' }, 'config-deployment: runtime-class-name: "gvisor: {selector: {app: 1}}" has class "gvisor" with an invalid selector: label "app" must have a string value'],
  [{ 'runtime-class-name': 'gvisor: {selector: [app]}' }, 'config-deployment: runtime-class-name: "gvisor: {selector: [app]}" has class "gvisor" with an invalid selector: must be a map of label to value'],
];

invalidRows(parse, invalid);

test('every error is reported, not just the first', (t) => {
  const r = parse({ 'progress-deadline': '1.5s', 'digest-resolution-timeout': '0s', 'default-affinity-type': 'None', 'queue-sidecar-cpu-limit': 'x' });
  t.false(r.ok);
  if (!r.ok) {
    t.deepEqual(r.errors.map((e) => e.key).sort(), ['default-affinity-type', 'digest-resolution-timeout', 'progress-deadline', 'queue-sidecar-cpu-limit']);
  }
});

// Legacy camelCase aliases: [alias, kebab key, alias value, kebab value, field, alias-only result, both-present result]
const aliases: [string, string, string, string, keyof DeploymentConfig, unknown, unknown][] = [
  ['queueSidecarImage', 'queue-sidecar-image', 'old/queue:1', 'new/queue:2', 'queueSidecarImage', 'old/queue:1', 'new/queue:2'],
  ['progressDeadline', 'progress-deadline', '30s', '45s', 'progressDeadline', 30 * SECOND, 45 * SECOND],
  ['digestResolutionTimeout', 'digest-resolution-timeout', '5s', '7s', 'digestResolutionTimeout', 5 * SECOND, 7 * SECOND],
  ['registriesSkippingTagResolving', 'registries-skipping-tag-resolving', 'old.io', 'new.io', 'registriesSkippingTagResolving', ['old.io'], ['new.io']],
  ['queueSidecarCPURequest', 'queue-sidecar-cpu-request', '50m', '75m', 'queueSidecarCpuRequest', '50m', '75m'],
  ['queueSidecarCPULimit', 'queue-sidecar-cpu-limit', '1', '2', 'queueSidecarCpuLimit', '1', '2'],
  ['queueSidecarMemoryRequest', 'queue-sidecar-memory-request', '100Mi', '200Mi', 'queueSidecarMemoryRequest', '100Mi', '200Mi'],
  ['queueSidecarMemoryLimit', 'queue-sidecar-memory-limit', '300Mi', '400Mi', 'queueSidecarMemoryLimit', '300Mi', '400Mi'],
  ['queueSidecarEphemeralStorageRequest', 'queue-sidecar-ephemeral-storage-request', '1Gi', '2Gi', 'queueSidecarEphemeralStorageRequest', '1Gi', '2Gi'],
  ['queueSidecarEphemeralStorageLimit', 'queue-sidecar-ephemeral-storage-limit', '3Gi', '4Gi', 'queueSidecarEphemeralStorageLimit', '3Gi', '4Gi'],
];

for (const [alias, key, aliasValue, keyValue, field, aliasOnly, both] of aliases) {
  test(`legacy alias ${alias} is accepted and ${key} wins over it`, (t) => {
    const base = key === 'queue-sidecar-image' ? {} : { 'queue-sidecar-image': IMAGE };
    const a = deploymentConfigMap.parse({ ...base, [alias]: aliasValue });
    t.true(a.ok, a.ok ? '' : a.errors.map(formatIssue).join('\n'));
    if (a.ok) {
      t.deepEqual(a.config[field], aliasOnly);
      t.deepEqual(a.warnings, []);
    }
    const b = deploymentConfigMap.parse({ ...base, [alias]: aliasValue, [key]: keyValue });
    t.true(b.ok);
    if (b.ok) {
      t.deepEqual(b.config[field], both);
      t.deepEqual(b.warnings, []);
    }
  });
}

test('an error under a legacy alias names the alias', (t) => {
  const r = parse({ progressDeadline: '1.5s', queueSidecarCPULimit: 'lots' });
  t.false(r.ok);
  if (!r.ok) {
    t.deepEqual(r.errors.map(formatIssue), [
      'config-deployment: progressDeadline: "1.5s" must be a whole number of seconds',
      `config-deployment: queueSidecarCPULimit: "lots" ${QUANTITY}`,
    ]);
  }
});

test('keys without a legacy alias do not accept camelCase', (t) => {
  const r = parse({ podIsAlwaysSchedulable: 'true', defaultAffinityType: 'none' });
  t.true(r.ok);
  if (r.ok) {
    t.false(r.config.podIsAlwaysSchedulable);
    t.is(r.config.defaultAffinityType, 'prefer-spread-revision-over-nodes');
  }
  t.deepEqual(r.warnings.map(formatIssue), [
    'config-deployment: podIsAlwaysSchedulable: "true" is not a key of this map and is ignored',
    'config-deployment: defaultAffinityType: "none" is not a key of this map and is ignored',
  ]);
});

const RUNTIME_CLASSES = `
gvisor:
  selector:
    sandbox: gvisor
kata-fast:
  selector:
    sandbox: kata
    tier: secure
kata:
  selector:
    sandbox: kata
    tier: secure
default-rc: {}
`;

test('runtime-class-name parses into classes with selectors', (t) => {
  const r = parse({ 'runtime-class-name': RUNTIME_CLASSES });
  t.true(r.ok, r.ok ? '' : r.errors.map(formatIssue).join('\n'));
  if (!r.ok) return;
  t.deepEqual(
    [...r.config.runtimeClassNames].sort((x, y) => (x.name < y.name ? -1 : 1)),
    [
      { name: 'default-rc', selector: {} },
      { name: 'gvisor', selector: { sandbox: 'gvisor' } },
      { name: 'kata', selector: { sandbox: 'kata', tier: 'secure' } },
      { name: 'kata-fast', selector: { sandbox: 'kata', tier: 'secure' } },
    ],
  );
});

// Empty-ish runtime-class-name values: [raw, classes]
const runtimeValid: [string, { name: string; selector: Record<string, string> }[]][] = [
  ['', []],
  ['gvisor:', [{ name: 'gvisor', selector: {} }]],
  ['gvisor: {selector: {}}', [{ name: 'gvisor', selector: {} }]],
  ['gvisor: {selector: null}', [{ name: 'gvisor', selector: {} }]],
  ['kata.example.com: {selector: {example.com/tier: ""}}', [{ name: 'kata.example.com', selector: { 'example.com/tier': '' } }]],
];

for (const [raw, want] of runtimeValid) {
  test(`valid runtime-class-name ${JSON.stringify(raw)}`, (t) => {
    const r = parse({ 'runtime-class-name': raw });
    t.true(r.ok, r.ok ? '' : r.errors.map(formatIssue).join('\n'));
    if (r.ok) t.deepEqual(r.config.runtimeClassNames, want);
  });
}

// runtimeClassFor: [pod labels, chosen class]
const selection: [Record<string, string>, string | undefined][] = [
  // Only the selector-less class matches.
  [{}, 'default-rc'],
  [{ app: 'web' }, 'default-rc'],
  // One label beats none.
  [{ sandbox: 'gvisor' }, 'gvisor'],
  // Two labels beat one and none; ties between kata and kata-fast go to the smaller name.
  [{ sandbox: 'kata', tier: 'secure' }, 'kata'],
  [{ sandbox: 'kata', tier: 'secure', extra: 'x' }, 'kata'],
  // A partial match of a two-label selector does not count.
  [{ sandbox: 'kata' }, 'default-rc'],
  [{ sandbox: 'kata', tier: 'fast' }, 'default-rc'],
];

for (const [labels, want] of selection) {
  test(`runtimeClassFor ${JSON.stringify(labels)} → ${String(want)}`, (t) => {
    const r = parse({ 'runtime-class-name': RUNTIME_CLASSES });
    t.true(r.ok);
    if (r.ok) t.is(runtimeClassFor(r.config, labels), want);
  });
}

test('runtimeClassFor: ties go to the smallest name whatever the YAML order', (t) => {
  const r = parse({ 'runtime-class-name': 'zeta: {selector: {a: b}}\nalpha: {selector: {a: b}}\nmid: {selector: {a: b}}' });
  t.true(r.ok);
  if (r.ok) t.is(runtimeClassFor(r.config, { a: 'b' }), 'alpha');
  const empty = parse({ 'runtime-class-name': 'zz: {}\nbb: {}' });
  t.true(empty.ok);
  if (empty.ok) t.is(runtimeClassFor(empty.config, { any: 'thing' }), 'bb');
});

test('runtimeClassFor: no class configured or none matching gives undefined', (t) => {
  const none = parse({});
  t.true(none.ok);
  if (none.ok) t.is(runtimeClassFor(none.config, { a: 'b' }), undefined);
  const r = parse({ 'runtime-class-name': 'gvisor: {selector: {sandbox: gvisor}}' });
  t.true(r.ok);
  if (r.ok) {
    t.is(runtimeClassFor(r.config, { sandbox: 'kata' }), undefined);
    t.is(runtimeClassFor(r.config, {}), undefined);
    t.is(runtimeClassFor(r.config, { sandbox: 'gvisor' }), 'gvisor');
  }
});

test('unknown keys are warned about; _example is ignored', (t) => {
  const r = parse({ _example: 'docs', 'progress-dedline': '10s' });
  t.true(r.ok);
  t.deepEqual(r.warnings.map(formatIssue), ['config-deployment: progress-dedline: "10s" is not a key of this map and is ignored']);
});

test('show prints durations in Go syntax', (t) => {
  const shown = deploymentConfigMap.show(expectedDefaults);
  t.is(shown.progressDeadline, '10m0s');
  t.is(shown.digestResolutionTimeout, '10s');
  t.deepEqual(shown.registriesSkippingTagResolving, ['kind.local', 'ko.local', 'dev.local']);
});
