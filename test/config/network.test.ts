// config-network: every key's default, a valid value, each invalid class, the legacy aliases
// and the template and TLS rules (spec §4.4), table-driven.
import test from 'ava';
import { validRows, invalidRows } from '../helpers/config-table.ts';
import { DEFAULT_DOMAIN_TEMPLATE, DEFAULT_TAG_TEMPLATE, networkConfigMap, type NetworkConfig } from '../../config/network.ts';
import { formatIssue } from '../../config/schema.ts';

const parse = (data: Record<string, string>) => networkConfigMap.parse(data);

test('defaults match Knative', (t) => {
  const expected: NetworkConfig = {
    ingressClass: 'istio.ingress.networking.knative.dev',
    certificateClass: 'cert-manager.certificate.networking.knative.dev',
    domainTemplate: '{{.Name}}.{{.Namespace}}.{{.Domain}}',
    tagTemplate: '{{.Tag}}-{{.Name}}',
    rolloutDurationSeconds: 0,
    autocreateClusterDomainClaims: false,
    enableMeshPodAddressability: false,
    meshCompatibilityMode: 'auto',
    defaultExternalScheme: 'http',
    namespaceWildcardCertSelector: undefined,
    externalDomainTls: false,
    clusterLocalDomainTls: 'disabled',
    systemInternalTls: 'disabled',
    internalEncryption: false,
    httpProtocol: 'enabled',
  };
  t.deepEqual(networkConfigMap.defaults(), expected);
  t.is(DEFAULT_DOMAIN_TEMPLATE, expected.domainTemplate);
  t.is(DEFAULT_TAG_TEMPLATE, expected.tagTemplate);
  const empty = parse({});
  t.true(empty.ok);
  if (empty.ok) {
    t.deepEqual(empty.config, expected);
    t.deepEqual(empty.warnings, []);
  }
});

// [key, value, field, parsed value]
const valid: [string, string, keyof NetworkConfig, unknown][] = [
  ['ingress-class', 'kourier.ingress.networking.knative.dev', 'ingressClass', 'kourier.ingress.networking.knative.dev'],
  ['ingress.class', 'contour.ingress.networking.knative.dev', 'ingressClass', 'contour.ingress.networking.knative.dev'],
  ['certificate-class', 'net-http01.certificate.networking.knative.dev', 'certificateClass', 'net-http01.certificate.networking.knative.dev'],
  ['certificate.class', 'other.certificate', 'certificateClass', 'other.certificate'],
  ['domain-template', '{{.Name}}-{{.Namespace}}.{{.Domain}}', 'domainTemplate', '{{.Name}}-{{.Namespace}}.{{.Domain}}'],
  ['domain-template', '{{.Name}}.{{.Domain}}:8443', 'domainTemplate', '{{.Name}}.{{.Domain}}:8443'],
  ['domain-template', '{{if index .Annotations "sub"}}{{index .Annotations "sub"}}{{else}}{{.Name}}{{end}}.{{.Domain}}', 'domainTemplate', '{{if index .Annotations "sub"}}{{index .Annotations "sub"}}{{else}}{{.Name}}{{end}}.{{.Domain}}'],
  ['domain-template', '{{.Name}}.{{index .Labels "team"}}x.{{.Domain}}', 'domainTemplate', '{{.Name}}.{{index .Labels "team"}}x.{{.Domain}}'],
  ['domainTemplate', '{{.Name}}.{{.Domain}}', 'domainTemplate', '{{.Name}}.{{.Domain}}'],
  ['tag-template', '{{.Name}}-{{.Tag}}', 'tagTemplate', '{{.Name}}-{{.Tag}}'],
  ['tagTemplate', '{{.Tag}}.{{.Name}}', 'tagTemplate', '{{.Tag}}.{{.Name}}'],
  ['rollout-duration', '0', 'rolloutDurationSeconds', 0],
  ['rollout-duration', '380', 'rolloutDurationSeconds', 380],
  ['rollout-duration', '+5', 'rolloutDurationSeconds', 5],
  ['rolloutDuration', '60', 'rolloutDurationSeconds', 60],
  ['autocreate-cluster-domain-claims', 'true', 'autocreateClusterDomainClaims', true],
  ['autocreateClusterDomainClaims', 'T', 'autocreateClusterDomainClaims', true],
  ['enable-mesh-pod-addressability', 'true', 'enableMeshPodAddressability', true],
  ['enable-mesh-pod-addressability', 'FALSE', 'enableMeshPodAddressability', false],
  ['mesh-compatibility-mode', 'enabled', 'meshCompatibilityMode', 'enabled'],
  ['mesh-compatibility-mode', 'Disabled', 'meshCompatibilityMode', 'disabled'],
  ['mesh-compatibility-mode', 'AUTO', 'meshCompatibilityMode', 'auto'],
  ['default-external-scheme', 'https', 'defaultExternalScheme', 'https'],
  ['defaultExternalScheme', 'https', 'defaultExternalScheme', 'https'],
  ['namespace-wildcard-cert-selector', 'matchLabels:\n  networking.knative.dev/wildcard: "true"', 'namespaceWildcardCertSelector', { matchLabels: { 'networking.knative.dev/wildcard': 'true' } }],
  [
    'namespace-wildcard-cert-selector',
    'matchExpressions:\n- key: kubernetes.io/metadata.name\n  operator: NotIn\n  values: [kube-system]',
    'namespaceWildcardCertSelector',
    { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system'] }] },
  ],
  ['namespace-wildcard-cert-selector', '{matchExpressions: [{key: team, operator: Exists}]}', 'namespaceWildcardCertSelector', { matchExpressions: [{ key: 'team', operator: 'Exists' }] }],
  ['namespace-wildcard-cert-selector', '{}', 'namespaceWildcardCertSelector', {}],
  ['namespace-wildcard-cert-selector', 'matchLabels:\n  a: b\nmatchExpressions:', 'namespaceWildcardCertSelector', { matchLabels: { a: 'b' } }],
  ['namespace-wildcard-cert-selector', '', 'namespaceWildcardCertSelector', undefined],
  ['namespace-wildcard-cert-selector', '  \n', 'namespaceWildcardCertSelector', undefined],
  // Anything but "enabled" (any case) turns external-domain-tls off, never an error.
  ['external-domain-tls', 'enabled', 'externalDomainTls', true],
  ['external-domain-tls', 'ENABLED', 'externalDomainTls', true],
  ['external-domain-tls', 'Disabled', 'externalDomainTls', false],
  ['external-domain-tls', 'true', 'externalDomainTls', false],
  ['external-domain-tls', '', 'externalDomainTls', false],
  ['auto-tls', 'Enabled', 'externalDomainTls', true],
  ['autoTLS', 'enabled', 'externalDomainTls', true],
  ['cluster-local-domain-tls', 'enabled', 'clusterLocalDomainTls', 'enabled'],
  ['cluster-local-domain-tls', 'ENABLED', 'clusterLocalDomainTls', 'enabled'],
  ['cluster-local-domain-tls', 'Disabled', 'clusterLocalDomainTls', 'disabled'],
  ['cluster-local-domain-tls', '', 'clusterLocalDomainTls', 'disabled'],
  ['system-internal-tls', 'Enabled', 'systemInternalTls', 'enabled'],
  ['system-internal-tls', 'disabled', 'systemInternalTls', 'disabled'],
  ['system-internal-tls', '', 'systemInternalTls', 'disabled'],
  ['internal-encryption', 'false', 'internalEncryption', false],
  ['internal-encryption', 'true', 'internalEncryption', true],
  ['http-protocol', 'Redirected', 'httpProtocol', 'redirected'],
  ['http-protocol', 'disabled', 'httpProtocol', 'disabled'],
  ['http-protocol', 'ENABLED', 'httpProtocol', 'enabled'],
  ['http-protocol', '', 'httpProtocol', 'enabled'],
  ['httpProtocol', 'redirected', 'httpProtocol', 'redirected'],
];

validRows(parse, valid);

const LABEL_NAME_RULE = "name part must be 1-63 alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric character";
const BAD_EXPRESSION = 'has a matchExpression without a key or with an operator other than In, NotIn, Exists, DoesNotExist';

// [data, exact error message]
const invalid: [Record<string, string>, string][] = [
  // domain-template: bad syntax, unknown field, empty hostname, a URL path, not a hostname
  [{ 'domain-template': '{{.Name' }, 'config-network: domain-template: "{{.Name" is not a valid template: template: domain-template:1: unclosed action'],
  [{ 'domain-template': '{{.Name}}.{{end}}' }, 'config-network: domain-template: "{{.Name}}.{{end}}" is not a valid template: template: domain-template:1: unexpected {{end}}'],
  [{ 'domain-template': '{{.Foo}}.{{.Domain}}' }, `config-network: domain-template: "{{.Foo}}.{{.Domain}}" is not a valid template: template: domain-template: can't evaluate field Foo`],
  [{ 'domain-template': '{{.Tag}}.{{.Domain}}' }, `config-network: domain-template: "{{.Tag}}.{{.Domain}}" is not a valid template: template: domain-template: can't evaluate field Tag`],
  [{ 'domain-template': '' }, 'config-network: domain-template: "" gives an empty hostname for a sample route'],
  [{ 'domain-template': '{{index .Labels "none"}}' }, 'config-network: domain-template: "{{index .Labels \\"none\\"}}" gives an empty hostname for a sample route'],
  [{ 'domain-template': ':8080' }, 'config-network: domain-template: ":8080" gives an empty hostname for a sample route'],
  [{ 'domain-template': '/{{.Name}}' }, 'config-network: domain-template: "/{{.Name}}" gives an empty hostname for a sample route'],
  [{ 'domain-template': '{{.Name}}.{{.Domain}}/path' }, 'config-network: domain-template: "{{.Name}}.{{.Domain}}/path" gives a URL path (/path) for a sample route; it must give a hostname only'],
  [{ 'domain-template': '{{.Name}}.{{.Domain}}?x=1' }, 'config-network: domain-template: "{{.Name}}.{{.Domain}}?x=1" gives a URL path (/?x=1) for a sample route; it must give a hostname only'],
  [{ 'domain-template': '{{.Name}} {{.Domain}}' }, 'config-network: domain-template: "{{.Name}} {{.Domain}}" gives "foo baz.com" for a sample route, which is not a valid hostname'],
  [{ domainTemplate: '{{.Name}}.{{.Domain}}/x' }, 'config-network: domainTemplate: "{{.Name}}.{{.Domain}}/x" gives a URL path (/x) for a sample route; it must give a hostname only'],
  // tag-template: bad syntax, a field tag templates do not have
  [{ 'tag-template': '{{.Tag' }, 'config-network: tag-template: "{{.Tag" is not a valid template: template: tag-template:1: unclosed action'],
  [{ 'tag-template': '{{.Tag}}-{{nope .Name}}' }, 'config-network: tag-template: "{{.Tag}}-{{nope .Name}}" is not a valid template: template: tag-template:1: function "nope" not defined'],
  [{ 'tag-template': '{{.Tag}}-{{.Namespace}}' }, `config-network: tag-template: "{{.Tag}}-{{.Namespace}}" is not a valid template: template: tag-template: can't evaluate field Namespace`],
  [{ tagTemplate: '{{.Tag' }, 'config-network: tagTemplate: "{{.Tag" is not a valid template: template: tag-template:1: unclosed action'],
  // rollout-duration: negative, not an integer
  [{ 'rollout-duration': '-1' }, 'config-network: rollout-duration: "-1" must be a whole number of seconds, at least 0'],
  [{ 'rollout-duration': '1.5' }, 'config-network: rollout-duration: "1.5" must be an integer'],
  [{ 'rollout-duration': '10s' }, 'config-network: rollout-duration: "10s" must be an integer'],
  [{ 'rollout-duration': '' }, 'config-network: rollout-duration: "" must be an integer'],
  [{ rolloutDuration: '-5' }, 'config-network: rolloutDuration: "-5" must be a whole number of seconds, at least 0'],
  // booleans
  [{ 'autocreate-cluster-domain-claims': 'yes' }, 'config-network: autocreate-cluster-domain-claims: "yes" must be a boolean (true or false)'],
  [{ autocreateClusterDomainClaims: 'no' }, 'config-network: autocreateClusterDomainClaims: "no" must be a boolean (true or false)'],
  [{ 'enable-mesh-pod-addressability': 'on' }, 'config-network: enable-mesh-pod-addressability: "on" must be a boolean (true or false)'],
  [{ 'internal-encryption': 'enabled' }, 'config-network: internal-encryption: "enabled" must be a boolean (true or false)'],
  // words
  [{ 'http-protocol': 'bogus' }, 'config-network: http-protocol: "bogus" must be one of enabled, disabled, redirected'],
  [{ 'http-protocol': 'redirect' }, 'config-network: http-protocol: "redirect" must be one of enabled, disabled, redirected'],
  [{ httpProtocol: 'on' }, 'config-network: httpProtocol: "on" must be one of enabled, disabled, redirected'],
  [{ 'system-internal-tls': 'true' }, 'config-network: system-internal-tls: "true" must be one of enabled, disabled'],
  [{ 'cluster-local-domain-tls': 'yes' }, 'config-network: cluster-local-domain-tls: "yes" must be one of enabled, disabled'],
  [{ 'cluster-local-domain-tls': ' enabled' }, 'config-network: cluster-local-domain-tls: " enabled" must be one of enabled, disabled'],
  // namespace-wildcard-cert-selector
  [
    { 'namespace-wildcard-cert-selector': 'matchLabels: [a' },
    'config-network: namespace-wildcard-cert-selector: "matchLabels: [a" is not valid YAML: Flow sequence in block collection must be sufficiently indented and end with a ] at line 1, column 16',
  ],
  [{ 'namespace-wildcard-cert-selector': 'everything' }, 'config-network: namespace-wildcard-cert-selector: "everything" must be a label selector ({matchLabels: …, matchExpressions: […]})'],
  [{ 'namespace-wildcard-cert-selector': '- a' }, 'config-network: namespace-wildcard-cert-selector: "- a" must be a label selector ({matchLabels: …, matchExpressions: […]})'],
  [{ 'namespace-wildcard-cert-selector': 'matchLabels: x' }, 'config-network: namespace-wildcard-cert-selector: "matchLabels: x" has invalid matchLabels: must be a map of label to value'],
  [{ 'namespace-wildcard-cert-selector': 'matchLabels: {"bad key!": x}' }, `config-network: namespace-wildcard-cert-selector: "matchLabels: {\\"bad key!\\": x}" has invalid matchLabels: label key "bad key!": ${LABEL_NAME_RULE}`],
  [{ 'namespace-wildcard-cert-selector': 'matchExpressions: foo' }, 'config-network: namespace-wildcard-cert-selector: "matchExpressions: foo" has matchExpressions that is not a list'],
  [{ 'namespace-wildcard-cert-selector': 'matchExpressions:\n- key: a\n  operator: Like' }, `config-network: namespace-wildcard-cert-selector: "matchExpressions:\\n- key: a\\n  operator: Like" ${BAD_EXPRESSION}`],
  [{ 'namespace-wildcard-cert-selector': 'matchExpressions:\n- key: a\n  operator: in' }, `config-network: namespace-wildcard-cert-selector: "matchExpressions:\\n- key: a\\n  operator: in" ${BAD_EXPRESSION}`],
  [{ 'namespace-wildcard-cert-selector': 'matchExpressions:\n- operator: Exists' }, `config-network: namespace-wildcard-cert-selector: "matchExpressions:\\n- operator: Exists" ${BAD_EXPRESSION}`],
];

invalidRows(parse, invalid);

test('every error is reported, not just the first', (t) => {
  const r = parse({ 'rollout-duration': '-1', 'http-protocol': 'bogus', 'tag-template': '{{.Tag', 'enable-mesh-pod-addressability': 'on' });
  t.false(r.ok);
  if (!r.ok) t.deepEqual(r.errors.map((e) => e.key).sort(), ['enable-mesh-pod-addressability', 'http-protocol', 'rollout-duration', 'tag-template']);
});

// [kebab key, legacy alias, value under the alias, value under the kebab key, field, parsed alias value, parsed kebab value]
const aliases: [string, string, string, string, keyof NetworkConfig, unknown, unknown][] = [
  ['ingress-class', 'ingress.class', 'legacy.ingress', 'new.ingress', 'ingressClass', 'legacy.ingress', 'new.ingress'],
  ['certificate-class', 'certificate.class', 'legacy.cert', 'new.cert', 'certificateClass', 'legacy.cert', 'new.cert'],
  ['domain-template', 'domainTemplate', '{{.Name}}.{{.Domain}}', '{{.Namespace}}.{{.Domain}}', 'domainTemplate', '{{.Name}}.{{.Domain}}', '{{.Namespace}}.{{.Domain}}'],
  ['tag-template', 'tagTemplate', '{{.Tag}}.{{.Name}}', '{{.Name}}--{{.Tag}}', 'tagTemplate', '{{.Tag}}.{{.Name}}', '{{.Name}}--{{.Tag}}'],
  ['rollout-duration', 'rolloutDuration', '30', '120', 'rolloutDurationSeconds', 30, 120],
  ['autocreate-cluster-domain-claims', 'autocreateClusterDomainClaims', 'true', 'false', 'autocreateClusterDomainClaims', true, false],
  ['default-external-scheme', 'defaultExternalScheme', 'https', 'http', 'defaultExternalScheme', 'https', 'http'],
  ['external-domain-tls', 'auto-tls', 'Enabled', 'Disabled', 'externalDomainTls', true, false],
  ['external-domain-tls', 'autoTLS', 'enabled', 'disabled', 'externalDomainTls', true, false],
  ['http-protocol', 'httpProtocol', 'redirected', 'disabled', 'httpProtocol', 'redirected', 'disabled'],
];

for (const [key, alias, aliasValue, keyValue, field, wantAlias, wantKey] of aliases) {
  test(`legacy ${alias} is accepted; ${key} wins when both are set`, (t) => {
    const legacy = parse({ [alias]: aliasValue });
    t.true(legacy.ok, legacy.ok ? '' : legacy.errors.map(formatIssue).join('\n'));
    if (legacy.ok) {
      t.deepEqual(legacy.config[field] as unknown, wantAlias);
      t.deepEqual(legacy.warnings, []);
    }
    t.notDeepEqual(wantAlias, wantKey);
    for (const data of [{ [alias]: aliasValue, [key]: keyValue }, { [key]: keyValue, [alias]: aliasValue }]) {
      const both = parse(data);
      t.true(both.ok);
      if (both.ok) t.deepEqual(both.config[field] as unknown, wantKey);
    }
  });
}

test('auto-tls wins over autoTLS, and external-domain-tls over both', (t) => {
  const legacy = parse({ autoTLS: 'disabled', 'auto-tls': 'enabled' });
  t.true(legacy.ok && legacy.config.externalDomainTls);
  const all = parse({ autoTLS: 'enabled', 'auto-tls': 'enabled', 'external-domain-tls': 'disabled' });
  t.true(all.ok && !all.config.externalDomainTls);
});

test('a legacy key names itself in its error', (t) => {
  const r = parse({ httpProtocol: 'sometimes', 'domain-template': '{{.Name}}.{{.Domain}}' });
  t.false(r.ok);
  if (!r.ok) t.deepEqual(r.errors.map((e) => e.key), ['httpProtocol']);
});

test('internal-encryption "true" forces system-internal-tls enabled', (t) => {
  for (const data of [{ 'internal-encryption': 'true' }, { 'internal-encryption': 'true', 'system-internal-tls': 'disabled' }, { 'internal-encryption': 'true', 'system-internal-tls': '' }]) {
    const r = parse(data);
    t.true(r.ok);
    if (r.ok) {
      t.is(r.config.systemInternalTls, 'enabled', JSON.stringify(data));
      t.true(r.config.internalEncryption);
    }
  }
  const off = parse({ 'internal-encryption': 'false' });
  t.true(off.ok && off.config.systemInternalTls === 'disabled');
});

test('system-internal-tls enabled also sets the deprecated internal-encryption', (t) => {
  const r = parse({ 'system-internal-tls': 'enabled', 'internal-encryption': 'false' });
  t.true(r.ok);
  if (r.ok) {
    t.is(r.config.systemInternalTls, 'enabled');
    t.true(r.config.internalEncryption);
  }
});

test('an unknown mesh-compatibility-mode keeps auto, with a warning', (t) => {
  const r = parse({ 'mesh-compatibility-mode': 'sometimes' });
  t.true(r.ok);
  if (r.ok) t.is(r.config.meshCompatibilityMode, 'auto');
  t.deepEqual(r.warnings.map(formatIssue), ['config-network: mesh-compatibility-mode: "sometimes" is not one of enabled, disabled, auto; auto applies']);
});

test('unknown keys are warned about; _example is ignored', (t) => {
  const r = parse({ _example: 'docs', 'ingress-klass': 'x' });
  t.true(r.ok);
  t.deepEqual(r.warnings.map(formatIssue), ['config-network: ingress-klass: "x" is not a key of this map and is ignored']);
});

test('show prints the effective configuration', (t) => {
  const r = parse({ 'rollout-duration': '5', 'http-protocol': 'Redirected' });
  t.true(r.ok);
  if (r.ok) {
    const shown = networkConfigMap.show(r.config);
    t.is(shown['rolloutDurationSeconds'], 5);
    t.is(shown['httpProtocol'], 'redirected');
  }
});
