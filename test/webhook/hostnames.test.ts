// Route hostnames, URLs and visibility (spec §5.4, §4.4, §4.8), table-driven: the default host,
// custom domain and tag templates, config-domain selectors, cluster-local by label, by domain
// and per target, the status and address URLs, template output that is no domain name, and
// the `knts routes` table.
import test from 'ava';
import { domainConfigMap, type DomainConfig } from '../../config/domain.ts';
import { networkConfigMap, type NetworkConfig } from '../../config/network.ts';
import {
  addressUrl,
  defaultHost,
  domainName,
  HostnameError,
  routeTable,
  routeVisibility,
  statusUrl,
  tagHostname,
  targetHost,
  targetUrl,
  targetVisibility,
  type HostConfig,
  type RouteMeta,
  type RouteTableRow,
} from '../../webhook/hostnames.ts';
import { resolveTraffic } from '../../webhook/routes.ts';

const LOCAL = { 'networking.knative.dev/visibility': 'cluster-local' };

function domains(data: Record<string, string>, clusterDomain = 'cluster.local'): DomainConfig {
  const r = domainConfigMap(clusterDomain).parse(data);
  if (!r.ok) throw new Error('bad config-domain in test');
  return r.config;
}

function cfg(opts: { network?: Partial<NetworkConfig>; domain?: Record<string, string>; clusterDomain?: string } = {}): HostConfig {
  const clusterDomain = opts.clusterDomain ?? 'cluster.local';
  return {
    network: { ...networkConfigMap.defaults(), ...opts.network },
    domain: domains(opts.domain ?? { 'example.com': '' }, clusterDomain),
    clusterDomain,
  };
}

const hello: RouteMeta = { name: 'hello', namespace: 'default' };

// [title, route, config, tag, host, url, visibility]
const hosts: [string, RouteMeta, HostConfig, string, string, string, 'ExternalIP' | 'ClusterLocal'][] = [
  ['the default host', hello, cfg(), '', 'hello.default.example.com', 'http://hello.default.example.com', 'ExternalIP'],
  ['no config-domain: everything is cluster-local', hello, cfg({ domain: {} }), '', 'hello.default.svc.cluster.local', 'http://hello.default.svc.cluster.local', 'ClusterLocal'],
  ['default-external-scheme https', hello, cfg({ network: { defaultExternalScheme: 'https' } }), '', 'hello.default.example.com', 'https://hello.default.example.com', 'ExternalIP'],
  [
    'a custom domain-template',
    hello,
    cfg({ network: { domainTemplate: '{{.Name}}-{{.Namespace}}.{{.Domain}}' } }),
    '',
    'hello-default.example.com',
    'http://hello-default.example.com',
    'ExternalIP',
  ],
  [
    'a domain-template reading labels and annotations',
    { name: 'hello', namespace: 'shop', labels: { team: 'payments' }, annotations: { region: 'eu' } },
    cfg({ network: { domainTemplate: '{{.Name}}.{{index .Labels "team"}}.{{index .Annotations "region"}}.{{.Domain}}' } }),
    '',
    'hello.payments.eu.example.com',
    'http://hello.payments.eu.example.com',
    'ExternalIP',
  ],
  [
    'a config-domain selector that matches',
    { name: 'hello', namespace: 'default', labels: { app: 'public' } },
    cfg({ domain: { 'example.com': '', 'public.example.org': 'selector:\n  app: public' } }),
    '',
    'hello.default.public.example.org',
    'http://hello.default.public.example.org',
    'ExternalIP',
  ],
  [
    'a config-domain selector that does not match',
    { name: 'hello', namespace: 'default', labels: { app: 'private' } },
    cfg({ domain: { 'example.com': '', 'public.example.org': 'selector:\n  app: public' } }),
    '',
    'hello.default.example.com',
    'http://hello.default.example.com',
    'ExternalIP',
  ],
  [
    'the most specific selector wins',
    { name: 'hello', namespace: 'default', labels: { app: 'public', tier: 'gold' } },
    cfg({ domain: { 'example.com': '', 'a.example.org': 'selector: {app: public}', 'b.example.org': 'selector: {app: public, tier: gold}' } }),
    '',
    'hello.default.b.example.org',
    'http://hello.default.b.example.org',
    'ExternalIP',
  ],
  [
    'cluster-local by label ignores the domain-template and the external scheme',
    { name: 'hello', namespace: 'default', labels: LOCAL },
    cfg({ network: { domainTemplate: '{{.Name}}-{{.Namespace}}.{{.Domain}}', defaultExternalScheme: 'https' } }),
    '',
    'hello.default.svc.cluster.local',
    'http://hello.default.svc.cluster.local',
    'ClusterLocal',
  ],
  [
    'cluster-local by a config-domain selector also ignores the domain-template',
    { name: 'hello', namespace: 'default', labels: { app: 'internal' } },
    cfg({ network: { domainTemplate: '{{.Name}}-{{.Namespace}}.{{.Domain}}' }, domain: { 'example.com': '', 'svc.cluster.local': 'selector: {app: internal}' } }),
    '',
    'hello.default.svc.cluster.local',
    'http://hello.default.svc.cluster.local',
    'ClusterLocal',
  ],
  [
    'a custom cluster domain',
    { name: 'hello', namespace: 'default', labels: LOCAL },
    cfg({ clusterDomain: 'corp.internal' }),
    '',
    'hello.default.svc.corp.internal',
    'http://hello.default.svc.corp.internal',
    'ClusterLocal',
  ],
  ['a tag host', hello, cfg(), 'canary', 'canary-hello.default.example.com', 'http://canary-hello.default.example.com', 'ExternalIP'],
  [
    'a custom tag-template',
    hello,
    cfg({ network: { tagTemplate: '{{.Name}}-{{.Tag}}' } }),
    'canary',
    'hello-canary.default.example.com',
    'http://hello-canary.default.example.com',
    'ExternalIP',
  ],
  [
    'tag-template then domain-template',
    hello,
    cfg({ network: { tagTemplate: '{{.Tag}}.{{.Name}}', domainTemplate: '{{.Name}}.{{.Domain}}', defaultExternalScheme: 'https' } }),
    'canary',
    'canary.hello.example.com',
    'https://canary.hello.example.com',
    'ExternalIP',
  ],
  [
    'a tag made cluster-local on its own',
    { ...hello, clusterLocalTargets: ['canary'] },
    cfg({ network: { defaultExternalScheme: 'https' } }),
    'canary',
    'canary-hello.default.svc.cluster.local',
    'http://canary-hello.default.svc.cluster.local',
    'ClusterLocal',
  ],
  [
    'another tag stays external',
    { ...hello, clusterLocalTargets: ['canary'] },
    cfg({ network: { defaultExternalScheme: 'https' } }),
    'stable',
    'stable-hello.default.example.com',
    'https://stable-hello.default.example.com',
    'ExternalIP',
  ],
  [
    'the default target made cluster-local on its own',
    { ...hello, clusterLocalTargets: [''] },
    cfg(),
    '',
    'hello.default.svc.cluster.local',
    'http://hello.default.svc.cluster.local',
    'ClusterLocal',
  ],
  [
    'a cluster-local route makes every tag cluster-local',
    { name: 'hello', namespace: 'default', labels: LOCAL },
    cfg(),
    'canary',
    'canary-hello.default.svc.cluster.local',
    'http://canary-hello.default.svc.cluster.local',
    'ClusterLocal',
  ],
  [
    'a trailing dot is a fully qualified name',
    hello,
    cfg({ network: { domainTemplate: '{{.Name}}.{{.Namespace}}.{{.Domain}}.' } }),
    '',
    'hello.default.example.com.',
    'http://hello.default.example.com.',
    'ExternalIP',
  ],
];

for (const [title, route, config, tag, host, url, visibility] of hosts) {
  test(`host: ${title}`, (t) => {
    t.is(targetHost(route, tag, config), host);
    t.is(targetUrl(route, tag, config), url);
    t.is(targetVisibility(route, tag, config), visibility);
    if (tag === '') {
      t.is(defaultHost(route, config), host);
      t.is(statusUrl(route, config), url);
    }
  });
}

const SUBDOMAIN =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const long = 'a'.repeat(60);

// [title, route, config, tag, the exact error]
const invalid: [string, RouteMeta, HostConfig, string, string][] = [
  [
    'an underscore',
    hello,
    cfg({ network: { domainTemplate: '{{.Name}}_{{.Namespace}}.{{.Domain}}' } }),
    '',
    `invalid domain name "hello_default.example.com": url: Invalid value: "hello_default.example.com": ${SUBDOMAIN}`,
  ],
  [
    'an upper-case label value',
    { name: 'hello', namespace: 'default', labels: { team: 'Pay' } },
    cfg({ network: { domainTemplate: '{{.Name}}.{{index .Labels "team"}}.{{.Domain}}' } }),
    '',
    `invalid domain name "hello.Pay.example.com": url: Invalid value: "hello.Pay.example.com": ${SUBDOMAIN}`,
  ],
  [
    'a single label',
    hello,
    cfg({ network: { domainTemplate: '{{.Name}}' } }),
    '',
    'invalid domain name "hello": url: Invalid value: "hello": should be a domain with at least two segments separated by dots',
  ],
  [
    'nothing at all',
    hello,
    cfg({ network: { domainTemplate: '{{index .Labels "missing"}}' } }),
    '',
    'invalid domain name "": url: Required value',
  ],
  [
    'a tag host label over 63 characters',
    { name: long, namespace: 'default' },
    cfg(),
    'canary',
    `invalid domain name "canary-${long}.default.example.com": url: Invalid value: "canary-${long}": must be no more than 63 characters`,
  ],
];

for (const [title, route, config, tag, message] of invalid) {
  test(`not a domain name: ${title}`, (t) => {
    const err = t.throws(() => targetHost(route, tag, config), { instanceOf: HostnameError });
    t.is(err?.message, message);
  });
}

test('a template that fails to run is reported as such', (t) => {
  const domainErr = t.throws(() => defaultHost(hello, cfg({ network: { domainTemplate: '{{.Name.Foo}}.{{.Domain}}' } })), { instanceOf: HostnameError });
  t.true(domainErr?.message.startsWith('error executing the DomainTemplate: '));
  t.true(domainErr?.message.includes("can't evaluate field Foo"));
  const tagErr = t.throws(() => tagHostname('hello', 'v2', '{{.Tag}}-{{.Namespace}}'), { instanceOf: HostnameError });
  t.true(tagErr?.message.startsWith('error executing the TagTemplate: '));
  t.true(tagErr?.message.includes("can't evaluate field Namespace"));
});

test('tagHostname: the route name for the default target, the tag-template otherwise', (t) => {
  t.is(tagHostname('hello', '', '{{.Tag}}-{{.Name}}'), 'hello');
  t.is(tagHostname('hello', 'v2', '{{.Tag}}-{{.Name}}'), 'v2-hello');
  t.is(tagHostname('hello', 'v2', '{{.Name}}--{{.Tag}}'), 'hello--v2');
});

test('domainName: only the visibility label switches to the default template', (t) => {
  const config = cfg({ network: { domainTemplate: '{{.Name}}.{{.Domain}}' } });
  t.is(domainName(hello, 'x', config), 'x.example.com');
  t.is(domainName({ ...hello, labels: LOCAL }, 'x', config), 'x.default.svc.cluster.local');
});

test('routeVisibility: by label or by the domain selected', (t) => {
  t.is(routeVisibility(hello, cfg()), 'ExternalIP');
  t.is(routeVisibility({ ...hello, labels: LOCAL }, cfg()), 'ClusterLocal');
  t.is(routeVisibility(hello, cfg({ domain: {} })), 'ClusterLocal');
  // per-target settings do not change the route's own visibility
  t.is(routeVisibility({ ...hello, clusterLocalTargets: [''] }, cfg()), 'ExternalIP');
});

test('addressUrl: the placeholder Service, https with cluster-local-domain-tls', (t) => {
  t.is(addressUrl(hello, cfg()), 'http://hello.default.svc.cluster.local');
  t.is(addressUrl(hello, cfg({ clusterDomain: 'corp.internal' })), 'http://hello.default.svc.corp.internal');
  t.is(addressUrl(hello, cfg({ network: { clusterLocalDomainTls: 'enabled' } })), 'https://hello.default.svc.cluster.local');
  // the address does not depend on visibility or templates
  const local: RouteMeta = { ...hello, labels: LOCAL };
  t.is(addressUrl(local, cfg({ network: { domainTemplate: '{{.Name}}.{{.Domain}}' } })), 'http://hello.default.svc.cluster.local');
});

const lookup = {
  latestReadyRevision: (c: string) => (c === 'hello' ? 'hello-00002' : undefined),
  revisionExists: (r: string) => ['hello-00001', 'hello-00002'].includes(r),
};

function table(route: RouteMeta, traffic: Parameters<typeof resolveTraffic>[0]['traffic'], config: HostConfig): RouteTableRow[] {
  const r = resolveTraffic({ name: route.name, namespace: route.namespace, traffic }, lookup);
  if (!r.ok) throw new Error(r.message);
  return routeTable(route, r.groups, config);
}

test('routeTable: a canary split', (t) => {
  const rows = table(
    hello,
    [
      { revisionName: 'hello-00001', percent: 90, latestRevision: false },
      { configurationName: 'hello', percent: 10, latestRevision: true, tag: 'canary' },
    ],
    cfg({ network: { defaultExternalScheme: 'https' } }),
  );
  t.deepEqual(rows, [
    { host: 'hello.default.example.com', revision: 'hello-00001', percent: 90, url: 'https://hello.default.example.com', visibility: 'ExternalIP' },
    { host: 'hello.default.example.com', revision: 'hello-00002', percent: 10, url: 'https://hello.default.example.com', visibility: 'ExternalIP' },
    { host: 'canary-hello.default.example.com', revision: 'hello-00002', percent: 100, tag: 'canary', url: 'https://canary-hello.default.example.com', visibility: 'ExternalIP' },
  ]);
});

test('routeTable: a 0 % tag has no row on the default host; a cluster-local tag', (t) => {
  const rows = table(
    { ...hello, clusterLocalTargets: ['green'] },
    [
      { revisionName: 'hello-00001', percent: 100, latestRevision: false },
      { revisionName: 'hello-00002', percent: 0, latestRevision: false, tag: 'green' },
    ],
    cfg(),
  );
  t.deepEqual(rows, [
    { host: 'hello.default.example.com', revision: 'hello-00001', percent: 100, url: 'http://hello.default.example.com', visibility: 'ExternalIP' },
    { host: 'green-hello.default.svc.cluster.local', revision: 'hello-00002', percent: 100, tag: 'green', url: 'http://green-hello.default.svc.cluster.local', visibility: 'ClusterLocal' },
  ]);
});

test('routeTable: a cluster-local route', (t) => {
  const rows = table({ ...hello, labels: LOCAL }, [{ configurationName: 'hello', percent: 100, latestRevision: true }], cfg());
  t.deepEqual(rows, [
    { host: 'hello.default.svc.cluster.local', revision: 'hello-00002', percent: 100, url: 'http://hello.default.svc.cluster.local', visibility: 'ClusterLocal' },
  ]);
});
