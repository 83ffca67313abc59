// config-defaults: every key's default, a valid value, each invalid class and the cross-key
// rules (spec §4.2), table-driven.
import test from 'ava';
import { validRows, invalidRows } from '../helpers/config-table.ts';
import { defaultsConfigMap, objectMetaTemplateData, type DefaultsConfig } from '../../config/defaults.ts';
import { parseTemplate } from '../../config/go-template.ts';
import { formatIssue } from '../../config/schema.ts';

const parse = (data: Record<string, string>) => defaultsConfigMap.parse(data);

test('defaults match Knative', (t) => {
  const expected: DefaultsConfig = {
    revisionTimeoutSeconds: 300,
    maxRevisionTimeoutSeconds: 600,
    revisionResponseStartTimeoutSeconds: 300,
    revisionIdleTimeoutSeconds: 0,
    containerConcurrency: 0,
    containerConcurrencyMaxLimit: 1000,
    allowContainerConcurrencyZero: true,
    enableServiceLinks: false,
    containerNameTemplate: 'user-container',
    initContainerNameTemplate: 'init-container',
    revisionCpuRequest: undefined,
    revisionMemoryRequest: undefined,
    revisionEphemeralStorageRequest: undefined,
    revisionCpuLimit: undefined,
    revisionMemoryLimit: undefined,
    revisionEphemeralStorageLimit: undefined,
  };
  t.deepEqual(defaultsConfigMap.defaults(), expected);
  const empty = parse({});
  t.true(empty.ok);
  if (empty.ok) {
    t.deepEqual(empty.config, expected);
    t.deepEqual(empty.warnings, []);
  }
});

// [key, value, field, parsed value]
const valid: [string, string, keyof DefaultsConfig, unknown][] = [
  ['revision-timeout-seconds', '120', 'revisionTimeoutSeconds', 120],
  ['revision-timeout-seconds', '600', 'revisionTimeoutSeconds', 600],
  ['revision-timeout-seconds', '+60', 'revisionTimeoutSeconds', 60],
  ['max-revision-timeout-seconds', '3600', 'maxRevisionTimeoutSeconds', 3600],
  ['max-revision-timeout-seconds', '300', 'maxRevisionTimeoutSeconds', 300],
  ['revision-response-start-timeout-seconds', '60', 'revisionResponseStartTimeoutSeconds', 60],
  ['revision-response-start-timeout-seconds', '300', 'revisionResponseStartTimeoutSeconds', 300],
  // 0 and below mean "not set": no check against revision-timeout-seconds.
  ['revision-response-start-timeout-seconds', '0', 'revisionResponseStartTimeoutSeconds', 0],
  ['revision-idle-timeout-seconds', '30', 'revisionIdleTimeoutSeconds', 30],
  ['revision-idle-timeout-seconds', '300', 'revisionIdleTimeoutSeconds', 300],
  ['revision-idle-timeout-seconds', '-1', 'revisionIdleTimeoutSeconds', -1],
  ['container-concurrency', '10', 'containerConcurrency', 10],
  ['container-concurrency', '1000', 'containerConcurrency', 1000],
  ['container-concurrency-max-limit', '1', 'containerConcurrencyMaxLimit', 1],
  ['container-concurrency-max-limit', '5000', 'containerConcurrencyMaxLimit', 5000],
  // Knative checks only the lower bound of the limit.
  ['container-concurrency-max-limit', '3000000000', 'containerConcurrencyMaxLimit', 3000000000],
  ['allow-container-concurrency-zero', 'false', 'allowContainerConcurrencyZero', false],
  ['allow-container-concurrency-zero', '0', 'allowContainerConcurrencyZero', false],
  ['allow-container-concurrency-zero', 'TRUE', 'allowContainerConcurrencyZero', true],
  ['enable-service-links', 'true', 'enableServiceLinks', true],
  ['enable-service-links', 'TRUE', 'enableServiceLinks', true],
  ['enable-service-links', 'tRuE', 'enableServiceLinks', true],
  ['enable-service-links', 'false', 'enableServiceLinks', false],
  ['enable-service-links', 'FaLsE', 'enableServiceLinks', false],
  ['container-name-template', '{{.Name}}', 'containerNameTemplate', '{{.Name}}'],
  ['container-name-template', 'app-{{.Namespace}}-{{.Labels.app}}', 'containerNameTemplate', 'app-{{.Namespace}}-{{.Labels.app}}'],
  ['container-name-template', 'main', 'containerNameTemplate', 'main'],
  ['init-container-name-template', 'init-{{.Name}}', 'initContainerNameTemplate', 'init-{{.Name}}'],
  ['revision-cpu-request', '100m', 'revisionCpuRequest', '100m'],
  ['revision-memory-request', '128Mi', 'revisionMemoryRequest', '128Mi'],
  ['revision-ephemeral-storage-request', '1Gi', 'revisionEphemeralStorageRequest', '1Gi'],
  ['revision-cpu-limit', '1', 'revisionCpuLimit', '1'],
  ['revision-cpu-limit', '0.5', 'revisionCpuLimit', '0.5'],
  ['revision-memory-limit', '1e9', 'revisionMemoryLimit', '1e9'],
  ['revision-ephemeral-storage-limit', '2G', 'revisionEphemeralStorageLimit', '2G'],
];

validRows(parse, valid);

const QUANTITY = 'must be a Kubernetes quantity such as 100m, 128Mi or 1';

// [data, exact error message]
const invalid: [Record<string, string>, string][] = [
  // wrong type
  [{ 'revision-timeout-seconds': '5m' }, 'config-defaults: revision-timeout-seconds: "5m" must be an integer'],
  [{ 'revision-timeout-seconds': '1e3' }, 'config-defaults: revision-timeout-seconds: "1e3" must be an integer'],
  [{ 'revision-timeout-seconds': '' }, 'config-defaults: revision-timeout-seconds: "" must be an integer'],
  [{ 'max-revision-timeout-seconds': '60.5' }, 'config-defaults: max-revision-timeout-seconds: "60.5" must be an integer'],
  [{ 'max-revision-timeout-seconds': '99999999999999999999' }, 'config-defaults: max-revision-timeout-seconds: "99999999999999999999" must be an integer that fits in 53 bits'],
  [{ 'revision-response-start-timeout-seconds': 'soon' }, 'config-defaults: revision-response-start-timeout-seconds: "soon" must be an integer'],
  [{ 'revision-idle-timeout-seconds': ' 30' }, 'config-defaults: revision-idle-timeout-seconds: " 30" must be an integer'],
  [{ 'container-concurrency': '0x10' }, 'config-defaults: container-concurrency: "0x10" must be an integer'],
  [{ 'container-concurrency-max-limit': 'many' }, 'config-defaults: container-concurrency-max-limit: "many" must be an integer'],
  [{ 'allow-container-concurrency-zero': 'yes' }, 'config-defaults: allow-container-concurrency-zero: "yes" must be a boolean (true or false)'],
  [{ 'allow-container-concurrency-zero': 'tRuE' }, 'config-defaults: allow-container-concurrency-zero: "tRuE" must be a boolean (true or false)'],
  [{ 'revision-cpu-request': 'lots' }, `config-defaults: revision-cpu-request: "lots" ${QUANTITY}`],
  [{ 'revision-memory-request': '1GB' }, `config-defaults: revision-memory-request: "1GB" ${QUANTITY}`],
  [{ 'revision-ephemeral-storage-request': '' }, `config-defaults: revision-ephemeral-storage-request: "" ${QUANTITY}`],
  [{ 'revision-cpu-limit': '1K' }, `config-defaults: revision-cpu-limit: "1K" ${QUANTITY}`],
  [{ 'revision-memory-limit': '1 Gi' }, `config-defaults: revision-memory-limit: "1 Gi" ${QUANTITY}`],
  [{ 'revision-ephemeral-storage-limit': '1e' }, `config-defaults: revision-ephemeral-storage-limit: "1e" ${QUANTITY}`],
  // template parse errors
  [{ 'container-name-template': '{{.Name' }, 'config-defaults: container-name-template: "{{.Name" is not a valid template: template: container-template:1: unclosed action'],
  [{ 'container-name-template': '{{}}' }, 'config-defaults: container-name-template: "{{}}" is not a valid template: template: container-template:1: missing value for command'],
  [{ 'container-name-template': '{{if .Name}}x' }, 'config-defaults: container-name-template: "{{if .Name}}x" is not a valid template: template: container-template: unexpected EOF'],
  [{ 'init-container-name-template': '{{end}}' }, 'config-defaults: init-container-name-template: "{{end}}" is not a valid template: template: container-template:1: unexpected {{end}}'],
  // template execute errors (run on an empty ObjectMeta)
  [{ 'container-name-template': '{{.Foo}}' }, `config-defaults: container-name-template: "{{.Foo}}" is not a valid template: template: container-template: can't evaluate field Foo`],
  [{ 'init-container-name-template': 'init-{{.Spec}}' }, `config-defaults: init-container-name-template: "init-{{.Spec}}" is not a valid template: template: container-template: can't evaluate field Spec`],
  // out of range, across keys
  [{ 'revision-timeout-seconds': '601' }, 'config-defaults: revision-timeout-seconds: "601" must not be greater than max-revision-timeout-seconds (600)'],
  [{ 'max-revision-timeout-seconds': '100' }, 'config-defaults: revision-timeout-seconds: (unset) must not be greater than max-revision-timeout-seconds (100)'],
  [
    { 'revision-timeout-seconds': '100', 'revision-response-start-timeout-seconds': '101' },
    'config-defaults: revision-response-start-timeout-seconds: "101" must not be greater than revision-timeout-seconds (100)',
  ],
  [{ 'revision-response-start-timeout-seconds': '301' }, 'config-defaults: revision-response-start-timeout-seconds: "301" must not be greater than revision-timeout-seconds (300)'],
  [{ 'revision-idle-timeout-seconds': '301' }, 'config-defaults: revision-idle-timeout-seconds: "301" must not be greater than revision-timeout-seconds (300)'],
  [
    { 'revision-timeout-seconds': '10', 'revision-idle-timeout-seconds': '11' },
    'config-defaults: revision-idle-timeout-seconds: "11" must not be greater than revision-timeout-seconds (10)',
  ],
  [{ 'container-concurrency-max-limit': '0' }, 'config-defaults: container-concurrency-max-limit: "0" must be at least 1'],
  [{ 'container-concurrency-max-limit': '-5' }, 'config-defaults: container-concurrency-max-limit: "-5" must be at least 1'],
  [{ 'container-concurrency': '-1' }, 'config-defaults: container-concurrency: "-1" must be between 0 and container-concurrency-max-limit (1000)'],
  [{ 'container-concurrency': '1001' }, 'config-defaults: container-concurrency: "1001" must be between 0 and container-concurrency-max-limit (1000)'],
  [
    { 'container-concurrency': '11', 'container-concurrency-max-limit': '10' },
    'config-defaults: container-concurrency: "11" must be between 0 and container-concurrency-max-limit (10)',
  ],
  [
    { 'container-concurrency': '1000', 'container-concurrency-max-limit': '999' },
    'config-defaults: container-concurrency: "1000" must be between 0 and container-concurrency-max-limit (999)',
  ],
];

invalidRows(parse, invalid);

test('every error is reported, not just the first', (t) => {
  const r = parse({
    'revision-timeout-seconds': 'x',
    'allow-container-concurrency-zero': 'maybe',
    'container-name-template': '{{.Nope}}',
    'revision-cpu-limit': 'lots',
  });
  t.false(r.ok);
  if (!r.ok) {
    t.deepEqual(r.errors.map((e) => e.key).sort(), [
      'allow-container-concurrency-zero',
      'container-name-template',
      'revision-cpu-limit',
      'revision-timeout-seconds',
    ]);
  }
});

test('every cross-key error is reported at once', (t) => {
  const r = parse({
    'revision-timeout-seconds': '700',
    'revision-response-start-timeout-seconds': '800',
    'revision-idle-timeout-seconds': '900',
    'container-concurrency': '2000',
  });
  t.false(r.ok);
  if (!r.ok) {
    t.deepEqual(r.errors.map(formatIssue), [
      'config-defaults: revision-timeout-seconds: "700" must not be greater than max-revision-timeout-seconds (600)',
      'config-defaults: revision-response-start-timeout-seconds: "800" must not be greater than revision-timeout-seconds (700)',
      'config-defaults: revision-idle-timeout-seconds: "900" must not be greater than revision-timeout-seconds (700)',
      'config-defaults: container-concurrency: "2000" must be between 0 and container-concurrency-max-limit (1000)',
    ]);
  }
});

test('revision-response-start-timeout-seconds defaults to the parsed revision-timeout-seconds', (t) => {
  const r = parse({ 'revision-timeout-seconds': '120' });
  t.true(r.ok);
  if (r.ok) {
    t.is(r.config.revisionTimeoutSeconds, 120);
    t.is(r.config.revisionResponseStartTimeoutSeconds, 120);
  }
  const raised = parse({ 'revision-timeout-seconds': '900', 'max-revision-timeout-seconds': '1000' });
  t.true(raised.ok);
  if (raised.ok) t.is(raised.config.revisionResponseStartTimeoutSeconds, 900);
});

test('an explicit revision-response-start-timeout-seconds is kept even when revision-timeout-seconds changes', (t) => {
  const r = parse({ 'revision-timeout-seconds': '120', 'revision-response-start-timeout-seconds': '30' });
  t.true(r.ok);
  if (r.ok) t.is(r.config.revisionResponseStartTimeoutSeconds, 30);
});

test('a non-positive response-start or idle timeout means "not set" and is not checked', (t) => {
  const r = parse({
    'revision-timeout-seconds': '10',
    'revision-response-start-timeout-seconds': '-1',
    'revision-idle-timeout-seconds': '0',
  });
  t.true(r.ok);
  if (r.ok) {
    t.is(r.config.revisionResponseStartTimeoutSeconds, -1);
    t.is(r.config.revisionIdleTimeoutSeconds, 0);
  }
});

test('revision-timeout-seconds equal to the max is allowed', (t) => {
  const r = parse({ 'revision-timeout-seconds': '42', 'max-revision-timeout-seconds': '42' });
  t.true(r.ok);
  if (r.ok) t.is(r.config.revisionResponseStartTimeoutSeconds, 42);
});

test('an invalid container-concurrency-max-limit hides the container-concurrency check, as in Knative', (t) => {
  const r = parse({ 'container-concurrency-max-limit': '0', 'container-concurrency': '5' });
  t.false(r.ok);
  if (!r.ok) t.deepEqual(r.errors.map(formatIssue), ['config-defaults: container-concurrency-max-limit: "0" must be at least 1']);
});

test('allow-container-concurrency-zero false is not checked against container-concurrency here', (t) => {
  const r = parse({ 'allow-container-concurrency-zero': 'false', 'container-concurrency': '0' });
  t.true(r.ok);
  if (r.ok) {
    t.false(r.config.allowContainerConcurrencyZero);
    t.is(r.config.containerConcurrency, 0);
  }
});

// enable-service-links: true/false in any case; anything else leaves the pod field unset.
for (const raw of ['yes', '1', 't', '', ' true', 'enabled']) {
  test(`enable-service-links ${JSON.stringify(raw)} is unset with a warning, not an error`, (t) => {
    const r = parse({ 'enable-service-links': raw });
    t.true(r.ok);
    if (r.ok) {
      t.is(r.config.enableServiceLinks, undefined);
      t.true('enableServiceLinks' in r.config);
    }
    t.deepEqual(r.warnings.map(formatIssue), [
      `config-defaults: enable-service-links: ${JSON.stringify(raw)} is neither true nor false, so the pod field stays unset`,
    ]);
  });
}

test('container name templates run against the parent ObjectMeta', (t) => {
  const r = parse({ 'container-name-template': '{{.Name}}-{{index .Labels "app"}}' });
  t.true(r.ok);
  if (!r.ok) return;
  const name = parseTemplate(r.config.containerNameTemplate, 'container-template').execute(
    objectMetaTemplateData({ name: 'svc', labels: { app: 'web' } }),
  );
  t.is(name, 'svc-web');
  // On an empty ObjectMeta the same template runs too (that is what validation checks).
  t.is(parseTemplate(r.config.containerNameTemplate).execute(objectMetaTemplateData()), '-');
});

test('unknown keys are warned about; _example is ignored', (t) => {
  const r = parse({ _example: 'docs', 'revision-timeout': '10' });
  t.true(r.ok);
  t.deepEqual(r.warnings.map(formatIssue), ['config-defaults: revision-timeout: "10" is not a key of this map and is ignored']);
});

test('show prints the effective configuration', (t) => {
  const shown = defaultsConfigMap.show(defaultsConfigMap.defaults());
  t.is(shown.revisionTimeoutSeconds, 300);
  t.is(shown.revisionResponseStartTimeoutSeconds, 300);
  t.is(shown.containerNameTemplate, 'user-container');
});
