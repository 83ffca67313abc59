// Traffic validation (spec §5.3, route_validation.go), table-driven: every rule with its exact
// message and path as Knative prints them under `spec`.
import test from 'ava';
import { validateTraffic } from '../../webhook/route-validation.ts';
import type { TrafficTarget } from '../../webhook/types.ts';

const DNS1035 =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const QUALIFIED =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const SUBDOMAIN =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

const ROUTE = { inService: false };
const SERVICE = { inService: true };

// [title, traffic, context, Knative's Error() under spec, or undefined when valid]
const rows: [string, TrafficTarget[] | undefined, { inService: boolean }, string | undefined][] = [
  // valid lists
  ['one pinned revision', [{ revisionName: 'hello-00001', percent: 100 }], ROUTE, undefined],
  ['one configuration', [{ configurationName: 'hello', percent: 100 }], ROUTE, undefined],
  [
    'tagged split',
    [
      { tag: 'prod', revisionName: 'hello-00001', percent: 90 },
      { tag: 'experiment', configurationName: 'hello', percent: 10 },
    ],
    ROUTE,
    undefined,
  ],
  ['revision with latestRevision false', [{ revisionName: 'a', latestRevision: false, percent: 100 }], ROUTE, undefined],
  ['configuration with latestRevision true', [{ configurationName: 'a', latestRevision: true, percent: 100 }], ROUTE, undefined],
  ['a 0 % tag beside the 100 %', [{ revisionName: 'a', percent: 100 }, { tag: 'green', revisionName: 'b', percent: 0 }], ROUTE, undefined],
  ['service default target', [{ percent: 100, latestRevision: true }], SERVICE, undefined],
  ['service: pinned and default', [{ revisionName: 'svc-00001', percent: 50 }, { percent: 50 }], SERVICE, undefined],
  ['an empty url is no url', [{ revisionName: 'a', percent: 100, url: '' }], ROUTE, undefined],
  ['a qualified name with a prefix', [{ revisionName: 'example.com/MyRev', percent: 100 }], ROUTE, undefined],

  // the sum
  ['no traffic', [], ROUTE, 'Traffic targets sum to 0, want 100: spec.traffic'],
  ['absent traffic', undefined, ROUTE, 'Traffic targets sum to 0, want 100: spec.traffic'],
  ['undefaulted service traffic', undefined, SERVICE, 'Traffic targets sum to 0, want 100: spec.traffic'],
  ['sum below 100', [{ revisionName: 'a', percent: 90 }], ROUTE, 'Traffic targets sum to 90, want 100: spec.traffic'],
  ['sum above 100', [{ revisionName: 'a', percent: 60 }, { revisionName: 'b', percent: 50 }], ROUTE, 'Traffic targets sum to 110, want 100: spec.traffic'],
  ['a missing percent counts 0', [{ revisionName: 'a' }, { revisionName: 'b', percent: 99 }], ROUTE, 'Traffic targets sum to 99, want 100: spec.traffic'],

  // percent bounds
  [
    'percents out of bounds (summing to 100)',
    [
      { revisionName: 'a', percent: -5 },
      { revisionName: 'b', percent: 105 },
    ],
    ROUTE,
    'expected 0 <= -5 <= 100: spec.traffic[0].percent\nexpected 0 <= 105 <= 100: spec.traffic[1].percent',
  ],
  ['a percent above 100 alone', [{ revisionName: 'a', percent: 101 }], ROUTE, 'Traffic targets sum to 101, want 100: spec.traffic\nexpected 0 <= 101 <= 100: spec.traffic[0].percent'],

  // revisionName / configurationName
  [
    'both names',
    [{ revisionName: 'a', configurationName: 'b', percent: 100 }],
    ROUTE,
    'expected exactly one, got both: spec.traffic[0].configurationName, spec.traffic[0].revisionName',
  ],
  ['neither name in a Route', [{ tag: 'foo', percent: 100 }], ROUTE, 'expected exactly one, got neither: spec.traffic[0].configurationName, spec.traffic[0].revisionName'],
  ['configurationName in a Service', [{ configurationName: 'other', percent: 100 }], SERVICE, 'must not set the field(s): spec.traffic[0].configurationName'],
  [
    'both names in a Service: only the configuration is reported',
    [{ revisionName: 'a', configurationName: 'other', percent: 100 }],
    SERVICE,
    'must not set the field(s): spec.traffic[0].configurationName',
  ],
  ['a bad revisionName', [{ revisionName: 'b ar', percent: 100 }], ROUTE, `invalid key name "b ar": spec.traffic[0].revisionName\n${QUALIFIED}`],
  ['a bad configurationName', [{ configurationName: 'b ar', percent: 100 }], ROUTE, `invalid key name "b ar": spec.traffic[0].configurationName\n${QUALIFIED}`],
  [
    'a revisionName too long',
    [{ revisionName: 'r'.repeat(64), percent: 100 }],
    ROUTE,
    `invalid key name "${'r'.repeat(64)}": spec.traffic[0].revisionName\nname part must be no more than 63 characters`,
  ],
  ['an empty prefix', [{ revisionName: '/rev', percent: 100 }], ROUTE, 'invalid key name "/rev": spec.traffic[0].revisionName\nprefix part must be non-empty'],
  ['a bad prefix', [{ revisionName: 'Ex/rev', percent: 100 }], ROUTE, `invalid key name "Ex/rev": spec.traffic[0].revisionName\nprefix part ${SUBDOMAIN}`],
  [
    'two slashes',
    [{ configurationName: 'a/b/c', percent: 100 }],
    ROUTE,
    `invalid key name "a/b/c": spec.traffic[0].configurationName\na qualified name ${QUALIFIED.slice('name part '.length)} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
  ],

  // latestRevision
  [
    'latestRevision true with a revision',
    [{ revisionName: 'bar', latestRevision: true, percent: 100 }],
    ROUTE,
    'may not set revisionName "bar" when latestRevision is true: spec.traffic[0].latestRevision',
  ],
  [
    'latestRevision false with a configuration',
    [{ configurationName: 'blah', latestRevision: false, percent: 100 }],
    ROUTE,
    'may not set revisionName "" when latestRevision is false: spec.traffic[0].latestRevision',
  ],
  [
    'latestRevision false on the Service default',
    [{ latestRevision: false, percent: 100 }],
    SERVICE,
    'may not set revisionName "" when latestRevision is false: spec.traffic[0].latestRevision',
  ],

  // tags
  ['a tag with @', [{ tag: 'foo@', revisionName: 'bar', percent: 100 }], ROUTE, `invalid value: not a DNS 1035 label: [${DNS1035}]: spec.traffic.tag[0]`],
  ['a tag starting with a digit', [{ revisionName: 'a', percent: 100 }, { tag: '1st', revisionName: 'b', percent: 0 }], ROUTE, `invalid value: not a DNS 1035 label: [${DNS1035}]: spec.traffic.tag[1]`],
  ['a tag too long', [{ tag: 'a'.repeat(64), revisionName: 'bar', percent: 100 }], ROUTE, 'invalid value: not a DNS 1035 label: [must be no more than 63 characters]: spec.traffic.tag[0]'],
  [
    'a tag too long and invalid',
    [{ tag: `${'A'.repeat(64)}`, revisionName: 'bar', percent: 100 }],
    ROUTE,
    `invalid value: not a DNS 1035 label: [must be no more than 63 characters ${DNS1035}]: spec.traffic.tag[0]`,
  ],
  [
    'a tag used twice',
    [
      { tag: 'foo', revisionName: 'bar', percent: 50 },
      { tag: 'foo', revisionName: 'bar', percent: 50 },
    ],
    ROUTE,
    'Multiple definitions for "foo": spec.traffic[0].tag, spec.traffic[1].tag',
  ],
  [
    'a tag used three times',
    [
      { tag: 'foo', revisionName: 'a', percent: 50 },
      { tag: 'foo', revisionName: 'b', percent: 50 },
      { tag: 'foo', configurationName: 'c', percent: 0 },
    ],
    ROUTE,
    'Multiple definitions for "foo": spec.traffic[0].tag, spec.traffic[1].tag, spec.traffic[2].tag',
  ],

  // url
  ['a url on a tagged target', [{ tag: 'foo', revisionName: 'a', percent: 100, url: 'http://foo.example.com' }], ROUTE, 'must not set the field(s): spec.traffic[0].url'],
  ['a url on an untagged target', [{ revisionName: 'a', percent: 100, url: 'http://example.com' }], ROUTE, 'must not set the field(s): spec.traffic[0].url'],

  // everything at once, sorted by message as Knative prints it
  [
    'many problems',
    [
      { tag: 'x_y', revisionName: 'a', configurationName: 'b', percent: 30 },
      { tag: 'x_y', latestRevision: false, percent: 130 },
      { configurationName: 'c', url: 'http://c.example.com' },
    ],
    ROUTE,
    [
      'Multiple definitions for "x_y": spec.traffic[0].tag, spec.traffic[1].tag',
      'Traffic targets sum to 160, want 100: spec.traffic',
      'expected 0 <= 130 <= 100: spec.traffic[1].percent',
      'expected exactly one, got both: spec.traffic[0].configurationName, spec.traffic[0].revisionName',
      'expected exactly one, got neither: spec.traffic[1].configurationName, spec.traffic[1].revisionName',
      `invalid value: not a DNS 1035 label: [${DNS1035}]: spec.traffic.tag[0], spec.traffic.tag[1]`,
      'may not set revisionName "" when latestRevision is false: spec.traffic[1].latestRevision',
      'must not set the field(s): spec.traffic[2].url',
    ].join('\n'),
  ],
];

for (const [title, traffic, opts, want] of rows) {
  test(`traffic: ${title}`, (t) => {
    t.is(validateTraffic(traffic, opts)?.viaField('spec').toString(), want);
  });
}

test('paths are relative to the spec holding the list', (t) => {
  t.is(validateTraffic([{ revisionName: 'a', percent: 100, latestRevision: true }], ROUTE)?.toString(), 'may not set revisionName "a" when latestRevision is true: traffic[0].latestRevision');
  t.is(validateTraffic([], SERVICE)?.toString(), 'Traffic targets sum to 0, want 100: traffic');
});

test('problems are errors, not warnings', (t) => {
  const err = validateTraffic([{ revisionName: 'a', percent: 1 }], ROUTE);
  t.truthy(err?.errors);
  t.is(err?.warnings, undefined);
});
