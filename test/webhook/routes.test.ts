// Traffic resolution as Knative's traffic.go does it (spec §5.4), table-driven over a small
// world of Configurations and Revisions: splits, tags, latestRevision, configuration targets
// following their latest ready Revision, the same Revision named twice, and every reason a
// Route cannot assign its traffic. Also the Route a Service makes (spec §5.1).
import test from 'ava';
import { resolveTraffic, serviceRoute, serviceRouteMeta, type ConditionStatus, type ResolvedTarget, type TrafficLookup, type TrafficResolution } from '../../webhook/routes.ts';
import type { Service, TrafficTarget } from '../../webhook/types.ts';

interface World {
  configs: Record<string, { latestReady?: string; ready?: ConditionStatus }>;
  revisions: Record<string, { config?: string; ready?: ConditionStatus }>;
}

const world: World = {
  configs: {
    hello: { latestReady: 'hello-00002', ready: 'True' },
    pending: { ready: 'Unknown' },
    broken: { ready: 'False' },
    dangling: { latestReady: 'dangling-00001', ready: 'True' }, // its latest ready Revision was deleted
  },
  revisions: {
    'hello-00001': { config: 'hello', ready: 'True' },
    'hello-00002': { config: 'hello', ready: 'True' },
    'hello-00003': { config: 'hello', ready: 'Unknown' },
    'hello-00004': { config: 'hello', ready: 'False' },
    'orphan-00001': { config: 'gone', ready: 'True' },
    'byhand': { ready: 'True' }, // no configuration label
  },
};

function lookupOf(w: World): TrafficLookup {
  return {
    latestReadyRevision: (c) => w.configs[c]?.latestReady,
    revisionExists: (r) => r in w.revisions,
    configurationExists: (c) => c in w.configs,
    configurationReady: (c) => w.configs[c]?.ready ?? 'Unknown',
    revisionReady: (r) => w.revisions[r]?.ready ?? 'Unknown',
    revisionConfiguration: (r) => w.revisions[r]?.config,
  };
}

const resolve = (traffic: TrafficTarget[], lookup: TrafficLookup = lookupOf(world)): TrafficResolution =>
  resolveTraffic({ name: 'web', namespace: 'default', traffic }, lookup);

const rt = (revisionName: string, percent: number, extra: Partial<ResolvedTarget> = {}): ResolvedTarget => ({
  revisionName,
  percent,
  latestRevision: false,
  configurationName: 'hello',
  ...extra,
});

type Expected = { targets: ResolvedTarget[]; groups: [string, ResolvedTarget[]][] };

// [title, defaulted traffic, status targets, groups in order]
const resolved: [string, TrafficTarget[], Expected][] = [
  [
    'a configuration follows its latest ready revision',
    [{ configurationName: 'hello', percent: 100, latestRevision: true }],
    {
      targets: [rt('hello-00002', 100, { latestRevision: true })],
      groups: [['', [rt('hello-00002', 100, { latestRevision: true })]]],
    },
  ],
  [
    'a pinned split with a tag',
    [
      { revisionName: 'hello-00001', percent: 90, latestRevision: false },
      { revisionName: 'hello-00002', percent: 10, tag: 'canary', latestRevision: false },
    ],
    {
      targets: [rt('hello-00001', 90), rt('hello-00002', 10, { tag: 'canary' })],
      groups: [
        ['', [rt('hello-00001', 90), rt('hello-00002', 10, { tag: 'canary' })]],
        ['canary', [rt('hello-00002', 100, { tag: 'canary' })]],
      ],
    },
  ],
  [
    'the same revision twice: one status entry, one split',
    [
      { revisionName: 'hello-00001', percent: 40, latestRevision: false },
      { revisionName: 'hello-00001', percent: 60, latestRevision: false },
    ],
    { targets: [rt('hello-00001', 100)], groups: [['', [rt('hello-00001', 100)]]] },
  ],
  [
    'pinned and latest on the same revision: two status entries, one split',
    [
      { configurationName: 'hello', percent: 40, latestRevision: true },
      { revisionName: 'hello-00002', percent: 60, latestRevision: false },
    ],
    {
      targets: [rt('hello-00002', 40, { latestRevision: true }), rt('hello-00002', 60)],
      groups: [['', [rt('hello-00002', 100, { latestRevision: true })]]],
    },
  ],
  [
    'a 0 % tag: its own host gets 100 %, the default host keeps 0 %',
    [
      { revisionName: 'hello-00001', percent: 100, latestRevision: false },
      { revisionName: 'hello-00002', percent: 0, tag: 'green', latestRevision: false },
    ],
    {
      targets: [rt('hello-00001', 100), rt('hello-00002', 0, { tag: 'green' })],
      groups: [
        ['', [rt('hello-00001', 100), rt('hello-00002', 0, { tag: 'green' })]],
        ['green', [rt('hello-00002', 100, { tag: 'green' })]],
      ],
    },
  ],
  [
    'a tag on the revision the default already sends to',
    [
      { revisionName: 'hello-00001', percent: 100, latestRevision: false },
      { revisionName: 'hello-00001', percent: 0, tag: 'blue', latestRevision: false },
    ],
    {
      targets: [rt('hello-00001', 100), rt('hello-00001', 0, { tag: 'blue' })],
      groups: [
        ['', [rt('hello-00001', 100)]],
        ['blue', [rt('hello-00001', 100, { tag: 'blue' })]],
      ],
    },
  ],
  [
    'three targets on two revisions, percents added per revision in the default group',
    [
      { revisionName: 'hello-00001', percent: 30, latestRevision: false },
      { configurationName: 'hello', percent: 50, latestRevision: true },
      { revisionName: 'hello-00002', percent: 20, tag: 't', latestRevision: false },
    ],
    {
      targets: [rt('hello-00001', 30), rt('hello-00002', 50, { latestRevision: true }), rt('hello-00002', 20, { tag: 't' })],
      groups: [
        ['', [rt('hello-00001', 30), rt('hello-00002', 70, { latestRevision: true })]],
        ['t', [rt('hello-00002', 100, { tag: 't' })]],
      ],
    },
  ],
  [
    'latestRevision missing is read from revisionName; percent missing is 0',
    [{ revisionName: 'hello-00001', percent: 100 }, { configurationName: 'hello', tag: 'latest' }],
    {
      targets: [rt('hello-00001', 100), rt('hello-00002', 0, { tag: 'latest', latestRevision: true })],
      groups: [
        ['', [rt('hello-00001', 100), rt('hello-00002', 0, { tag: 'latest', latestRevision: true })]],
        ['latest', [rt('hello-00002', 100, { tag: 'latest', latestRevision: true })]],
      ],
    },
  ],
  [
    'a revision without a configuration label',
    [{ revisionName: 'byhand', percent: 100, latestRevision: false }],
    {
      targets: [{ revisionName: 'byhand', percent: 100, latestRevision: false }],
      groups: [['', [{ revisionName: 'byhand', percent: 100, latestRevision: false }]]],
    },
  ],
  ['a target naming neither is skipped', [{ configurationName: 'hello', percent: 100, latestRevision: true }, { percent: 0 }], {
    targets: [rt('hello-00002', 100, { latestRevision: true })],
    groups: [['', [rt('hello-00002', 100, { latestRevision: true })]]],
  }],
];

for (const [title, traffic, want] of resolved) {
  test(`resolves: ${title}`, (t) => {
    const r = resolve(traffic);
    if (!r.ok) return t.fail(r.message);
    t.deepEqual(r.targets, want.targets);
    t.deepEqual([...r.groups.entries()], want.groups);
  });
}

type Failure = Omit<Extract<TrafficResolution, { ok: false }>, 'ok'>;
const RM = 'RevisionMissing';

// [title, traffic, AllTrafficAssigned status, reason, message, missing targets]
const failures: [string, TrafficTarget[], Failure][] = [
  [
    'a missing revision',
    [{ revisionName: 'nope', percent: 100, latestRevision: false }],
    { status: 'False', reason: 'RevisionMissing', message: 'Revision "nope" referenced in traffic not found.', missing: [{ kind: 'Revision', name: 'nope' }] },
  ],
  [
    'a missing configuration',
    [{ configurationName: 'nope', percent: 100, latestRevision: true }],
    { status: 'False', reason: 'ConfigurationMissing', message: 'Configuration "nope" referenced in traffic not found.', missing: [{ kind: 'Configuration', name: 'nope' }] },
  ],
  [
    'a configuration with no ready revision yet',
    [{ configurationName: 'pending', percent: 100, latestRevision: true }],
    { status: 'Unknown', reason: RM, message: 'Configuration "pending" is waiting for a Revision to become ready.', missing: [] },
  ],
  [
    'a configuration that failed',
    [{ configurationName: 'broken', percent: 100, latestRevision: true }],
    { status: 'False', reason: RM, message: 'Configuration "broken" does not have any ready Revision.', missing: [] },
  ],
  [
    'a pinned revision not ready yet',
    [{ revisionName: 'hello-00003', percent: 100, latestRevision: false }],
    { status: 'Unknown', reason: RM, message: 'Revision "hello-00003" is not yet ready.', missing: [] },
  ],
  [
    'a pinned revision that failed',
    [{ revisionName: 'hello-00004', percent: 100, latestRevision: false }],
    { status: 'False', reason: RM, message: 'Revision "hello-00004" failed to become ready.', missing: [] },
  ],
  [
    "a revision whose configuration is gone",
    [{ revisionName: 'orphan-00001', percent: 100, latestRevision: false }],
    { status: 'False', reason: 'ConfigurationMissing', message: 'Configuration "gone" referenced in traffic not found.', missing: [{ kind: 'Configuration', name: 'gone' }] },
  ],
  [
    'a configuration whose latest ready revision was deleted',
    [{ configurationName: 'dangling', percent: 100, latestRevision: true }],
    { status: 'False', reason: RM, message: 'Revision "dangling-00001" referenced in traffic not found.', missing: [{ kind: 'Revision', name: 'dangling-00001' }] },
  ],
  [
    'one bad target holds back the good ones',
    [
      { configurationName: 'hello', percent: 90, latestRevision: true },
      { revisionName: 'hello-00003', percent: 10, tag: 'next', latestRevision: false },
    ],
    { status: 'Unknown', reason: RM, message: 'Revision "hello-00003" is not yet ready.', missing: [] },
  ],
  [
    'a later failure outranks an earlier wait',
    [
      { configurationName: 'pending', percent: 50, latestRevision: true },
      { configurationName: 'broken', percent: 50, latestRevision: true },
    ],
    { status: 'False', reason: RM, message: 'Configuration "broken" does not have any ready Revision.', missing: [] },
  ],
  [
    'a later wait does not replace an earlier failure',
    [
      { configurationName: 'broken', percent: 50, latestRevision: true },
      { configurationName: 'pending', percent: 50, latestRevision: true },
    ],
    { status: 'False', reason: RM, message: 'Configuration "broken" does not have any ready Revision.', missing: [] },
  ],
  [
    'of two waits the first is reported',
    [
      { revisionName: 'hello-00003', percent: 50, latestRevision: false },
      { configurationName: 'pending', percent: 50, latestRevision: true },
    ],
    { status: 'Unknown', reason: RM, message: 'Revision "hello-00003" is not yet ready.', missing: [] },
  ],
  [
    'of two failures the last is reported, and every missing target listed',
    [
      { revisionName: 'first', percent: 50, latestRevision: false },
      { configurationName: 'second', percent: 50, latestRevision: true },
    ],
    {
      status: 'False',
      reason: 'ConfigurationMissing',
      message: 'Configuration "second" referenced in traffic not found.',
      missing: [
        { kind: 'Revision', name: 'first' },
        { kind: 'Configuration', name: 'second' },
      ],
    },
  ],
];

for (const [title, traffic, want] of failures) {
  test(`does not resolve: ${title}`, (t) => {
    t.deepEqual(resolve(traffic), { ok: false, ...want });
  });
}

test('with only the two required lookups, configurations exist and revisions are ready', (t) => {
  const minimal: TrafficLookup = {
    latestReadyRevision: (c) => (c === 'hello' ? 'hello-00002' : undefined),
    revisionExists: (r) => r.startsWith('hello-'),
  };
  const ok = resolve([{ revisionName: 'hello-00003', percent: 50, latestRevision: false }, { configurationName: 'hello', percent: 50, latestRevision: true }], minimal);
  t.deepEqual(ok.ok ? ok.targets : [], [
    { revisionName: 'hello-00003', percent: 50, latestRevision: false },
    { revisionName: 'hello-00002', configurationName: 'hello', percent: 50, latestRevision: true },
  ]);
  t.deepEqual(resolve([{ configurationName: 'other', percent: 100, latestRevision: true }], minimal), {
    ok: false,
    status: 'Unknown',
    reason: RM,
    message: 'Configuration "other" is waiting for a Revision to become ready.',
    missing: [],
  });
  t.deepEqual(resolve([{ revisionName: 'x-00001', percent: 100, latestRevision: false }], minimal), {
    ok: false,
    status: 'False',
    reason: RM,
    message: 'Revision "x-00001" referenced in traffic not found.',
    missing: [{ kind: 'Revision', name: 'x-00001' }],
  });
});

const svc = (traffic?: TrafficTarget[]): Service => ({
  apiVersion: 'serving.knative.dev/v1',
  kind: 'Service',
  metadata: { name: 'web', namespace: 'prod', labels: { app: 'shop' }, annotations: { note: 'x' } },
  spec: { template: {}, ...(traffic ? { traffic } : {}) },
});

// [title, the Service's traffic, the Route's traffic]
const routes: [string, TrafficTarget[] | undefined, TrafficTarget[]][] = [
  ['no traffic: the Service default', undefined, [{ percent: 100, latestRevision: true, configurationName: 'web' }]],
  ['empty traffic: the Service default', [], [{ percent: 100, latestRevision: true, configurationName: 'web' }]],
  [
    'unpinned targets get the Service configuration, pinned ones keep their revision',
    [
      { revisionName: 'web-00001', percent: 80, latestRevision: false },
      { percent: 20, latestRevision: true, tag: 'next' },
    ],
    [
      { revisionName: 'web-00001', percent: 80, latestRevision: false },
      { percent: 20, latestRevision: true, tag: 'next', configurationName: 'web' },
    ],
  ],
];

for (const [title, traffic, want] of routes) {
  test(`serviceRoute: ${title}`, (t) => {
    const service = svc(traffic);
    const before = structuredClone(service);
    t.deepEqual(serviceRoute(service), { traffic: want });
    t.deepEqual(service, before, 'the Service is not changed');
  });
}

test("serviceRouteMeta: the Service's labels and annotations plus the service label", (t) => {
  t.deepEqual(serviceRouteMeta(svc()), {
    name: 'web',
    namespace: 'prod',
    labels: { app: 'shop', 'serving.knative.dev/service': 'web' },
    annotations: { note: 'x' },
  });
  t.is(serviceRouteMeta({ metadata: { name: 'web' } }).namespace, 'default');
});

test('a Service route resolves against its configuration', (t) => {
  const spec = serviceRoute({ metadata: { name: 'hello' }, spec: {} });
  const r = resolveTraffic({ name: 'hello', namespace: 'default', traffic: spec.traffic ?? [] }, lookupOf(world));
  t.deepEqual(r.ok ? r.targets : r.message, [rt('hello-00002', 100, { latestRevision: true })]);
});
