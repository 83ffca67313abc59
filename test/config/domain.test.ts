// config-domain: domain entries with optional selectors, the svc.<clusterDomain> default and
// the domain lookup for a Route's labels (spec §4.8), table-driven.
import test from 'ava';
import { invalidRows } from '../helpers/config-table.ts';
import { CLUSTER_LOCAL, VISIBILITY_LABEL, clusterLocalDomain, domainConfigMap, domainFor, isClusterLocalDomain, type DomainConfig, type DomainEntry } from '../../config/domain.ts';
import { formatIssue } from '../../config/schema.ts';

const parse = (data: Record<string, string>) => domainConfigMap().parse(data);
const LABEL_NAME_RULE = "name part must be 1-63 alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric character";
const NOT_A_MAP = 'must be empty or a YAML map such as "selector: {app: public}"';

test('defaults match Knative', (t) => {
  const expected: DomainConfig = { domains: [{ domain: 'svc.cluster.local', selector: {} }] };
  t.deepEqual(domainConfigMap().defaults(), expected);
  const empty = parse({});
  t.true(empty.ok);
  if (empty.ok) {
    t.deepEqual(empty.config, expected);
    t.deepEqual(empty.warnings, []);
  }
  t.is(VISIBILITY_LABEL, 'networking.knative.dev/visibility');
  t.is(CLUSTER_LOCAL, 'cluster-local');
});

test('the default follows a custom cluster domain', (t) => {
  const spec = domainConfigMap('corp.internal');
  t.deepEqual(spec.defaults(), { domains: [{ domain: 'svc.corp.internal', selector: {} }] });
  const r = spec.parse({ 'public.example.com': 'selector:\n  app: public' });
  t.true(r.ok);
  if (r.ok) {
    t.deepEqual(r.config.domains, [
      { domain: 'public.example.com', selector: { app: 'public' } },
      { domain: 'svc.corp.internal', selector: {} },
    ]);
  }
  t.is(clusterLocalDomain('corp.internal'), 'svc.corp.internal');
  t.is(clusterLocalDomain(), 'svc.cluster.local');
});

// [data, parsed entries (sorted by domain)]
const valid: [Record<string, string>, DomainEntry[]][] = [
  // a key with an empty value (or an empty selector) is a default: no svc.cluster.local entry
  [{ 'example.com': '' }, [{ domain: 'example.com', selector: {} }]],
  [{ 'example.com': '   ' }, [{ domain: 'example.com', selector: {} }]],
  [{ 'example.com': '{}' }, [{ domain: 'example.com', selector: {} }]],
  [{ 'example.com': 'selector: {}' }, [{ domain: 'example.com', selector: {} }]],
  [{ 'example.com': 'selector:' }, [{ domain: 'example.com', selector: {} }]],
  [{ 'example.com': 'type: wildcard' }, [{ domain: 'example.com', selector: {} }]],
  // only selector entries: svc.cluster.local is added as the default
  [
    { 'public.example.com': 'selector:\n  app: public' },
    [
      { domain: 'public.example.com', selector: { app: 'public' } },
      { domain: 'svc.cluster.local', selector: {} },
    ],
  ],
  [
    { 'example.org': 'selector: {app: nonprofit, tier: "1"}' },
    [
      { domain: 'example.org', selector: { app: 'nonprofit', tier: '1' } },
      { domain: 'svc.cluster.local', selector: {} },
    ],
  ],
  [
    { 'example.com': '', 'example.org': 'selector:\n  app: nonprofit', 'a.example.net': 'selector:\n  example.com/team: a' },
    [
      { domain: 'a.example.net', selector: { 'example.com/team': 'a' } },
      { domain: 'example.com', selector: {} },
      { domain: 'example.org', selector: { app: 'nonprofit' } },
    ],
  ],
  // _example is documentation, not a domain
  [{ _example: '################################\n#  example.com: |\n', 'example.com': '' }, [{ domain: 'example.com', selector: {} }]],
];

for (const [data, want] of valid) {
  test(`valid ${JSON.stringify(data)}`, (t) => {
    const r = parse(data);
    t.true(r.ok, r.ok ? '' : r.errors.map(formatIssue).join('\n'));
    if (r.ok) {
      t.deepEqual(r.config.domains, want);
      t.deepEqual(r.warnings.map(formatIssue), []);
    }
  });
}

// [data, exact error message]
const invalid: [Record<string, string>, string][] = [
  // invalid YAML
  [{ 'example.com': 'selector: [a' }, 'config-domain: example.com: "selector: [a" is not valid YAML: Flow sequence in block collection must be sufficiently indented and end with a ] at line 1, column 13'],
  [{ 'example.com': 'selector:\n  app: a\n app2: b' }, 'config-domain: example.com: "selector:\\n  app: a\\n app2: b" is not valid YAML: All mapping items must start at the same column at line 3, column 1'],
  // not a map
  [{ 'example.com': 'public' }, `config-domain: example.com: "public" ${NOT_A_MAP}`],
  [{ 'example.com': '- app: public' }, `config-domain: example.com: "- app: public" ${NOT_A_MAP}`],
  [{ 'example.com': '42' }, `config-domain: example.com: "42" ${NOT_A_MAP}`],
  // bad selector
  [{ 'example.com': 'selector: public' }, 'config-domain: example.com: "selector: public" has an invalid selector: must be a map of label to value'],
  [{ 'example.com': 'selector: [app]' }, 'config-domain: example.com: "selector: [app]" has an invalid selector: must be a map of label to value'],
  [{ 'example.com': 'selector:\n  app: 1' }, 'config-domain: example.com: "selector:\\n  app: 1" has an invalid selector: label "app" must have a string value'],
  [{ 'example.com': 'selector:\n  app: true' }, 'config-domain: example.com: "selector:\\n  app: true" has an invalid selector: label "app" must have a string value'],
  [{ 'example.com': 'selector:\n  "bad key!": x' }, `config-domain: example.com: "selector:\\n  \\"bad key!\\": x" has an invalid selector: label key "bad key!": ${LABEL_NAME_RULE}`],
  [
    { 'example.com': 'selector:\n  app: "-bad-"' },
    `config-domain: example.com: "selector:\\n  app: \\"-bad-\\"" has an invalid selector: label "app" value "-bad-": must be at most 63 alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric character`,
  ],
];

invalidRows(parse, invalid);

test('every error is reported, not just the first', (t) => {
  const r = parse({ 'a.com': 'public', 'b.com': 'selector: x', 'c.com': '' });
  t.false(r.ok);
  if (!r.ok) t.deepEqual(r.errors.map((e) => e.key), ['a.com', 'b.com']);
});

test('a key that is not a DNS name is accepted with a warning', (t) => {
  const r = parse({ 'Example_com': '' });
  t.true(r.ok);
  if (r.ok) t.deepEqual(r.config.domains, [{ domain: 'Example_com', selector: {} }]);
  t.deepEqual(r.warnings.map(formatIssue), [
    `config-domain: Example_com: "" is not a DNS name: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
  ]);
});

const config = (data: Record<string, string>, clusterDomain?: string): DomainConfig => {
  const r = domainConfigMap(clusterDomain).parse(data);
  if (!r.ok) throw new Error(r.errors.map(formatIssue).join('\n'));
  return r.config;
};

const routes = config({
  'example.com': '',
  'example.org': 'selector:\n  app: nonprofit',
  'gold.example.org': 'selector:\n  app: nonprofit\n  tier: gold',
  'b.example.net': 'selector:\n  team: x',
  'a.example.net': 'selector:\n  team: x',
  'c.example.net': 'selector:\n  team: x',
});

// [labels, expected domain]
const lookups: [Record<string, string>, string][] = [
  [{}, 'example.com'],
  [{ app: 'other' }, 'example.com'],
  [{ app: 'nonprofit' }, 'example.org'],
  // the entry with the most selector entries wins
  [{ app: 'nonprofit', tier: 'gold' }, 'gold.example.org'],
  [{ app: 'nonprofit', tier: 'silver' }, 'example.org'],
  // ties go to the lexicographically smallest domain
  [{ team: 'x' }, 'a.example.net'],
  [{ team: 'x', app: 'nonprofit' }, 'a.example.net'],
  // cluster-local visibility short-cuts everything
  [{ [VISIBILITY_LABEL]: 'cluster-local', app: 'nonprofit', tier: 'gold' }, 'svc.cluster.local'],
  [{ [VISIBILITY_LABEL]: 'public', app: 'nonprofit' }, 'example.org'],
];

for (const [labels, want] of lookups) {
  test(`domainFor ${JSON.stringify(labels)}`, (t) => {
    t.is(domainFor(routes, labels), want);
  });
}

test('domainFor ties do not depend on entry order', (t) => {
  const entries: DomainEntry[] = [
    { domain: 'zeta.dev', selector: { app: 'a' } },
    { domain: 'alpha.dev', selector: { app: 'a' } },
    { domain: 'mid.dev', selector: { app: 'a' } },
  ];
  t.is(domainFor({ domains: entries }, { app: 'a' }), 'alpha.dev');
  t.is(domainFor({ domains: [...entries].reverse() }, { app: 'a' }), 'alpha.dev');
});

test('domainFor without a matching entry gives the default', (t) => {
  // parsed: the svc.<clusterDomain> default entry matches everything
  t.is(domainFor(config({ 'public.example.com': 'selector:\n  app: public' }), { app: 'private' }), 'svc.cluster.local');
  t.is(domainFor(config({ 'public.example.com': 'selector:\n  app: public' }), { app: 'public' }), 'public.example.com');
  // a hand-built config with no default entry falls back to svc.<clusterDomain>
  const bare: DomainConfig = { domains: [{ domain: 'public.example.com', selector: { app: 'public' } }] };
  t.is(domainFor(bare, { app: 'private' }), 'svc.cluster.local');
  t.is(domainFor(bare, { app: 'private' }, 'corp.internal'), 'svc.corp.internal');
  t.is(domainFor({ domains: [] }, {}), 'svc.cluster.local');
});

test('domainFor cluster-local uses the cluster domain', (t) => {
  const corp = config({ 'example.com': '' }, 'corp.internal');
  t.is(domainFor(corp, { [VISIBILITY_LABEL]: CLUSTER_LOCAL }, 'corp.internal'), 'svc.corp.internal');
  t.is(domainFor(corp, {}, 'corp.internal'), 'example.com');
});

test('isClusterLocalDomain', (t) => {
  t.true(isClusterLocalDomain('svc.cluster.local'));
  t.false(isClusterLocalDomain('example.com'));
  t.false(isClusterLocalDomain('cluster.local'));
  t.false(isClusterLocalDomain('svc.cluster.local', 'corp.internal'));
  t.true(isClusterLocalDomain('svc.corp.internal', 'corp.internal'));
  t.is(isClusterLocalDomain(domainFor(routes, { [VISIBILITY_LABEL]: CLUSTER_LOCAL })), true);
  t.is(isClusterLocalDomain(domainFor(routes, { app: 'nonprofit' })), false);
});

test('show lists each domain with its selector', (t) => {
  const spec = domainConfigMap();
  t.deepEqual(spec.show(config({ 'example.org': 'selector:\n  app: nonprofit' })), {
    'example.org': { selector: { app: 'nonprofit' } },
    'svc.cluster.local': { selector: {} },
  });
});
