// Defaulting (spec §5.2, Knative's *_defaults.go), table-driven: timeouts, container
// concurrency, container names, resources, readiness probes, enableServiceLinks, read-only
// mounts, secure pod defaults, traffic, user info, and the update rules.
import test from 'ava';
import { effectiveConfig, type EffectiveConfig } from '../../config/configmaps.ts';
import type { DefaultsConfig } from '../../config/defaults.ts';
import type { FeaturesConfig } from '../../config/features.ts';
import { setDefaults, type DefaultsOptions } from '../../webhook/defaults.ts';
import type { Configuration, Revision, RevisionSpec, Route, Service, ServingResource, TrafficTarget } from '../../webhook/types.ts';

const BASE = effectiveConfig([]).config;
const cfg = (d: Partial<DefaultsConfig> = {}, f: Partial<FeaturesConfig> = {}): EffectiveConfig => ({
  ...BASE,
  defaults: { ...BASE.defaults, ...d },
  features: { ...BASE.features, ...f },
});

const IMAGE = 'ghcr.io/knative/helloworld-go:latest';
const service = (spec: RevisionSpec, name = 'hello'): Service => ({
  apiVersion: 'serving.knative.dev/v1',
  kind: 'Service',
  metadata: { name, namespace: 'default' },
  spec: { template: { spec } },
});
const templateSpec = (s: Service | Configuration): RevisionSpec => s.spec?.template?.spec ?? {};

/** What defaulting adds to a one-container spec with the stock config. */
const DEFAULTED_SINGLE = {
  timeoutSeconds: 300,
  containerConcurrency: 0,
  enableServiceLinks: false,
  containers: [{ name: 'user-container', image: IMAGE, resources: {}, readinessProbe: { tcpSocket: {}, successThreshold: 1 } }],
};

test('a minimal Service gets Knative defaults and a 100 % latest route', (t) => {
  const svc = service({ containers: [{ image: IMAGE }] });
  const before = structuredClone(svc);
  const out = setDefaults(svc, BASE);
  t.deepEqual(templateSpec(out) as unknown, DEFAULTED_SINGLE);
  t.deepEqual(out.spec?.traffic, [{ percent: 100, latestRevision: true }]);
  t.deepEqual(svc, before, 'the input is not changed');
});

test('a Service without a spec still gets the defaulted template and traffic', (t) => {
  const bare: Service = { apiVersion: 'serving.knative.dev/v1', kind: 'Service', metadata: { name: 'x' } };
  const out = setDefaults(bare, BASE);
  t.deepEqual(out.spec as unknown, { template: { spec: { timeoutSeconds: 300, containerConcurrency: 0 } }, traffic: [{ percent: 100, latestRevision: true }] });
});

// [title, spec, config, the defaulted spec's fields that matter (compared key by key)]
const revisionRows: [string, RevisionSpec, EffectiveConfig, Record<string, unknown>][] = [
  // timeoutSeconds: nil or 0 take revision-timeout-seconds
  ['timeout unset', {}, BASE, { timeoutSeconds: 300 }],
  ['timeout 0', { timeoutSeconds: 0 }, BASE, { timeoutSeconds: 300 }],
  ['timeout kept', { timeoutSeconds: 42 }, BASE, { timeoutSeconds: 42 }],
  ['timeout from config', {}, cfg({ revisionTimeoutSeconds: 120 }), { timeoutSeconds: 120 }],
  // responseStartTimeoutSeconds: only a non-zero default strictly below the timeout
  ['response start default equals the timeout: unset', {}, BASE, { responseStartTimeoutSeconds: undefined }],
  ['response start default below the timeout', {}, cfg({ revisionResponseStartTimeoutSeconds: 60 }), { responseStartTimeoutSeconds: 60 }],
  ['response start default above a short timeout', { timeoutSeconds: 30 }, cfg({ revisionResponseStartTimeoutSeconds: 60 }), { responseStartTimeoutSeconds: undefined }],
  ['response start default 0', {}, cfg({ revisionResponseStartTimeoutSeconds: 0 }), { responseStartTimeoutSeconds: undefined }],
  ['response start kept', { responseStartTimeoutSeconds: 10 }, cfg({ revisionResponseStartTimeoutSeconds: 60 }), { responseStartTimeoutSeconds: 10 }],
  ['response start 0 kept', { responseStartTimeoutSeconds: 0 }, cfg({ revisionResponseStartTimeoutSeconds: 60 }), { responseStartTimeoutSeconds: 0 }],
  // idleTimeoutSeconds: the same rule; the stock default 0 never sets it
  ['idle default 0', {}, BASE, { idleTimeoutSeconds: undefined }],
  ['idle default below the timeout', {}, cfg({ revisionIdleTimeoutSeconds: 30 }), { idleTimeoutSeconds: 30 }],
  ['idle default equal to the timeout', { timeoutSeconds: 30 }, cfg({ revisionIdleTimeoutSeconds: 30 }), { idleTimeoutSeconds: undefined }],
  ['idle kept', { idleTimeoutSeconds: 5 }, cfg({ revisionIdleTimeoutSeconds: 30 }), { idleTimeoutSeconds: 5 }],
  // containerConcurrency: nil takes container-concurrency
  ['cc unset', {}, BASE, { containerConcurrency: 0 }],
  ['cc from config', {}, cfg({ containerConcurrency: 10 }), { containerConcurrency: 10 }],
  ['cc 0 kept', { containerConcurrency: 0 }, cfg({ containerConcurrency: 10 }), { containerConcurrency: 0 }],
  ['cc kept', { containerConcurrency: 5 }, BASE, { containerConcurrency: 5 }],
  // enableServiceLinks: from config on create, when unset
  ['service links default false', {}, BASE, { enableServiceLinks: false }],
  ['service links from config', {}, cfg({ enableServiceLinks: true }), { enableServiceLinks: true }],
  ['service links left unset', {}, cfg({ enableServiceLinks: undefined }), { enableServiceLinks: undefined }],
  ['service links kept', { enableServiceLinks: true }, BASE, { enableServiceLinks: true }],
];

for (const [title, spec, config, want] of revisionRows) {
  test(`revision spec: ${title}`, (t) => {
    const out = templateSpec(setDefaults(service({ ...spec, containers: [{ image: IMAGE }] }), config));
    for (const [k, v] of Object.entries(want)) t.deepEqual(out[k], v, k);
  });
}

// [title, containers, init containers, config, parent name, expected names, expected init names]
const nameRows: [string, { name?: string }[], { name?: string }[], EffectiveConfig, string, string[], string[]][] = [
  ['one container', [{}], [], BASE, 'hello', ['user-container'], []],
  ['a named container is kept', [{ name: 'app' }], [], BASE, 'hello', ['app'], []],
  ['two containers get suffixes', [{}, {}], [], BASE, 'hello', ['user-container-0', 'user-container-1'], []],
  ['suffixes skip names in use', [{ name: 'user-container-0' }, {}, {}], [], BASE, 'hello', ['user-container-0', 'user-container-1', 'user-container-2'], []],
  ['a clash with an init container name', [{}], [{ name: 'user-container' }], BASE, 'hello', ['user-container-0'], ['user-container']],
  ['init containers', [{}], [{}], BASE, 'hello', ['user-container'], ['init-container']],
  ['two init containers', [{}], [{}, {}], BASE, 'hello', ['user-container'], ['init-container-0', 'init-container-1']],
  ['template over the parent', [{}, {}], [], cfg({ containerNameTemplate: '{{.Name}}-app' }), 'hello', ['hello-app-0', 'hello-app-1'], []],
  [
    'a long name is cut with a hash (kmeta.ChildName)',
    [{}, {}],
    [],
    cfg({ containerNameTemplate: '{{.Name}}' }),
    'a'.repeat(62),
    ['aaaaaaaaaaaaaaaaaaaaaaaaaaaaa24612f0ce2c9d2cf2b022ef1e027a54f-0', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaa24612f0ce2c9d2cf2b022ef1e027a54f-1'],
    [],
  ],
  // A failing template gives "", which the unnamed container's own "" already takes.
  ['a template that fails to run gives "" and then a suffix', [{}], [], cfg({ containerNameTemplate: '{{.Nope}}' }), 'hello', ['-0'], []],
];

for (const [title, containers, inits, config, parent, want, wantInit] of nameRows) {
  test(`container names: ${title}`, (t) => {
    const spec: RevisionSpec = { containers: containers.map((c) => ({ ...c, image: IMAGE })), ...(inits.length > 0 ? { initContainers: inits.map((c) => ({ ...c, image: IMAGE })) } : {}) };
    const out = templateSpec(setDefaults(service(spec, parent), config));
    t.deepEqual(
      (out.containers ?? []).map((c) => c.name),
      want,
    );
    t.deepEqual(
      (out.initContainers ?? []).map((c) => c.name),
      wantInit,
    );
  });
}

test('container names: a Revision renders the template over empty metadata', (t) => {
  const rev: Revision = { apiVersion: 'serving.knative.dev/v1', kind: 'Revision', metadata: { name: 'hello-00001' }, spec: { containers: [{ image: IMAGE }] } };
  const out = setDefaults(rev, cfg({ containerNameTemplate: '{{.Name}}-ctr' }));
  t.is(out.spec?.containers?.[0]?.name, '-ctr');
});

// [title, containers (JSON), volumes, config, the defaulted containers (JSON)]
const containerRows: [string, unknown[], unknown[], EffectiveConfig, unknown[]][] = [
  [
    'resource defaults fill only missing entries',
    [{ image: IMAGE, resources: { requests: { cpu: '1' } } }],
    [],
    cfg({ revisionCpuRequest: '100m', revisionMemoryRequest: '128Mi', revisionCpuLimit: '2', revisionEphemeralStorageLimit: '1Gi' }),
    [
      {
        name: 'user-container',
        image: IMAGE,
        resources: { requests: { cpu: '1', memory: '128Mi' }, limits: { cpu: '2', 'ephemeral-storage': '1Gi' } },
        readinessProbe: { tcpSocket: {}, successThreshold: 1 },
      },
    ],
  ],
  [
    'a probe with a handler keeps it',
    [{ image: IMAGE, readinessProbe: { httpGet: { path: '/healthz' } } }],
    [],
    BASE,
    [{ name: 'user-container', image: IMAGE, resources: {}, readinessProbe: { httpGet: { path: '/healthz' }, successThreshold: 1 } }],
  ],
  [
    'a handler-less probe gets tcpSocket',
    [{ image: IMAGE, readinessProbe: { initialDelaySeconds: 2 } }],
    [],
    BASE,
    [{ name: 'user-container', image: IMAGE, resources: {}, readinessProbe: { initialDelaySeconds: 2, tcpSocket: {}, successThreshold: 1 } }],
  ],
  [
    'a periodic probe gets Kubernetes defaults',
    [{ image: IMAGE, readinessProbe: { periodSeconds: 5, tcpSocket: { port: 8080 } } }],
    [],
    BASE,
    [
      {
        name: 'user-container',
        image: IMAGE,
        resources: {},
        readinessProbe: { periodSeconds: 5, tcpSocket: { port: 8080 }, successThreshold: 1, failureThreshold: 3, timeoutSeconds: 1 },
      },
    ],
  ],
  [
    'explicit thresholds are kept',
    [{ image: IMAGE, readinessProbe: { periodSeconds: 5, successThreshold: 2, failureThreshold: 7, timeoutSeconds: 4, exec: { command: ['true'] } } }],
    [],
    BASE,
    [
      {
        name: 'user-container',
        image: IMAGE,
        resources: {},
        readinessProbe: { periodSeconds: 5, successThreshold: 2, failureThreshold: 7, timeoutSeconds: 4, exec: { command: ['true'] } },
      },
    ],
  ],
  [
    'gRPC probes get an empty service',
    [{ image: IMAGE, readinessProbe: { grpc: { port: 9000 } }, livenessProbe: { grpc: { port: 9000 } }, startupProbe: { grpc: { port: 9000, service: 'x' } } }],
    [],
    BASE,
    [
      {
        name: 'user-container',
        image: IMAGE,
        resources: {},
        readinessProbe: { grpc: { port: 9000, service: '' }, successThreshold: 1 },
        livenessProbe: { grpc: { port: 9000, service: '' } },
        startupProbe: { grpc: { port: 9000, service: 'x' } },
      },
    ],
  ],
  [
    'with several containers only the serving one gets a default probe',
    [{ image: IMAGE, ports: [{ containerPort: 8080 }] }, { image: IMAGE }, { image: IMAGE, readinessProbe: { exec: { command: ['true'] } } }],
    [],
    BASE,
    [
      { name: 'user-container-0', image: IMAGE, ports: [{ containerPort: 8080 }], resources: {}, readinessProbe: { tcpSocket: {}, successThreshold: 1 } },
      { name: 'user-container-1', image: IMAGE, resources: {} },
      { name: 'user-container-2', image: IMAGE, resources: {}, readinessProbe: { exec: { command: ['true'] }, successThreshold: 1 } },
    ],
  ],
  [
    'mounts of non-writable volumes become read-only',
    [
      {
        image: IMAGE,
        volumeMounts: [
          { name: 'cfg', mountPath: '/cfg' },
          { name: 'scratch', mountPath: '/tmp/x' },
          { name: 'data', mountPath: '/data', readOnly: false },
          { name: 'missing', mountPath: '/m' },
        ],
      },
    ],
    [
      { name: 'cfg', configMap: { name: 'c' } },
      { name: 'scratch', emptyDir: {} },
      { name: 'data', persistentVolumeClaim: { claimName: 'p' } },
    ],
    BASE,
    [
      {
        name: 'user-container',
        image: IMAGE,
        resources: {},
        readinessProbe: { tcpSocket: {}, successThreshold: 1 },
        volumeMounts: [
          { name: 'cfg', mountPath: '/cfg', readOnly: true },
          { name: 'scratch', mountPath: '/tmp/x' },
          { name: 'data', mountPath: '/data', readOnly: false },
          { name: 'missing', mountPath: '/m', readOnly: true },
        ],
      },
    ],
  ],
  [
    'secure pod defaults (Enabled)',
    [{ image: IMAGE, ports: [{ containerPort: 80 }] }],
    [],
    cfg({}, { securePodDefaults: 'Enabled' }),
    [
      {
        name: 'user-container',
        image: IMAGE,
        ports: [{ containerPort: 80 }],
        resources: {},
        readinessProbe: { tcpSocket: {}, successThreshold: 1 },
        securityContext: {
          allowPrivilegeEscalation: false,
          seccompProfile: { type: 'RuntimeDefault' },
          capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] },
          runAsNonRoot: true,
        },
      },
    ],
  ],
  [
    'secure pod defaults (AllowRootBounded) keep what the user set',
    [{ image: IMAGE, ports: [{ containerPort: 8080 }], securityContext: { allowPrivilegeEscalation: true, capabilities: { drop: [] } } }],
    [],
    cfg({}, { securePodDefaults: 'AllowRootBounded' }),
    [
      {
        name: 'user-container',
        image: IMAGE,
        ports: [{ containerPort: 8080 }],
        resources: {},
        readinessProbe: { tcpSocket: {}, successThreshold: 1 },
        securityContext: { allowPrivilegeEscalation: true, capabilities: { drop: [] }, seccompProfile: { type: 'RuntimeDefault' } },
      },
    ],
  ],
];

for (const [title, containers, volumes, config, want] of containerRows) {
  test(`containers: ${title}`, (t) => {
    const spec = { containers, ...(volumes.length > 0 ? { volumes } : {}) } as RevisionSpec;
    t.deepEqual(templateSpec(setDefaults(service(spec), config)).containers as unknown, want);
  });
}

test('secure pod defaults: a pod-level seccomp profile and runAsNonRoot count; init containers are covered', (t) => {
  const spec = {
    securityContext: { runAsNonRoot: false, seccompProfile: { type: 'Localhost', localhostProfile: 'p.json' } },
    containers: [{ image: IMAGE }],
    initContainers: [{ image: IMAGE }],
  } as RevisionSpec;
  const out = templateSpec(setDefaults(service(spec), cfg({}, { securePodDefaults: 'Enabled' })));
  const want = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } };
  t.deepEqual(out.containers?.[0]?.securityContext as unknown, want);
  t.deepEqual(out.initContainers?.[0]?.securityContext as unknown, want);
});

test('secure pod defaults off: no security context is added', (t) => {
  const out = templateSpec(setDefaults(service({ containers: [{ image: IMAGE }] }), BASE));
  t.is(out.containers?.[0]?.securityContext, undefined);
});

// [title, traffic, in a Service, the defaulted traffic]
const trafficRows: [string, TrafficTarget[] | undefined, boolean, TrafficTarget[] | undefined][] = [
  ['service: none', undefined, true, [{ percent: 100, latestRevision: true }]],
  ['service: empty', [], true, [{ percent: 100, latestRevision: true }]],
  [
    'service: latestRevision follows revisionName, percent defaults to 0',
    [{ revisionName: 'hello-00001', percent: 90 }, { tag: 'next' }],
    true,
    [
      { revisionName: 'hello-00001', percent: 90, latestRevision: false },
      { tag: 'next', latestRevision: true, percent: 0 },
    ],
  ],
  ['service: explicit values kept', [{ revisionName: 'r', latestRevision: true, percent: 100 }], true, [{ revisionName: 'r', latestRevision: true, percent: 100 }]],
  ['route: none stays none', undefined, false, undefined],
  ['route: empty stays empty', [], false, []],
  ['route: targets', [{ configurationName: 'c', percent: 100 }], false, [{ configurationName: 'c', percent: 100, latestRevision: true }]],
];

for (const [title, traffic, inService, want] of trafficRows) {
  test(`traffic: ${title}`, (t) => {
    if (inService) {
      const svc: Service = { ...service({ containers: [{ image: IMAGE }] }), spec: { template: { spec: { containers: [{ image: IMAGE }] } }, ...(traffic ? { traffic } : {}) } };
      t.deepEqual(setDefaults(svc, BASE).spec?.traffic, want);
    } else {
      const route: Route = { apiVersion: 'serving.knative.dev/v1', kind: 'Route', metadata: { name: 'r' }, spec: traffic ? { traffic } : {} };
      t.deepEqual(setDefaults(route, BASE).spec?.traffic, want);
    }
  });
}

test('a Revision is defaulted on create and left alone on update', (t) => {
  const rev: Revision = { apiVersion: 'serving.knative.dev/v1', kind: 'Revision', metadata: { name: 'hello-00001' }, spec: { containers: [{ image: IMAGE }] } };
  t.deepEqual(setDefaults(rev, BASE).spec as unknown, DEFAULTED_SINGLE);
  t.deepEqual(setDefaults(rev, BASE, { operation: 'UPDATE', old: rev }), rev);
});

test('enableServiceLinks is defaulted on create only', (t) => {
  const svc = service({ containers: [{ image: IMAGE }] });
  t.is(templateSpec(setDefaults(svc, BASE, { operation: 'UPDATE', old: svc })).enableServiceLinks, undefined);
  t.is(templateSpec(setDefaults(svc, BASE, { operation: 'CREATE' })).enableServiceLinks, false);
});

test('update: a template that keeps its own name is not defaulted; a new name is', (t) => {
  const old: Configuration = {
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Configuration',
    metadata: { name: 'hello' },
    spec: { template: { metadata: { name: 'hello-v1' }, spec: { containers: [{ image: IMAGE }] } } },
  };
  const same = setDefaults(old, BASE, { operation: 'UPDATE', old });
  t.deepEqual(same.spec?.template?.spec as unknown, { containers: [{ image: IMAGE }] });
  const renamed: Configuration = { ...old, spec: { template: { metadata: { name: 'hello-v2' }, spec: { containers: [{ image: IMAGE }] } } } };
  t.is(setDefaults(renamed, BASE, { operation: 'UPDATE', old }).spec?.template?.spec?.timeoutSeconds, 300);
  const unnamed: Configuration = { ...old, spec: { template: { spec: { containers: [{ image: IMAGE }] } } } };
  t.is(setDefaults(unnamed, BASE, { operation: 'UPDATE', old }).spec?.template?.spec?.timeoutSeconds, 300);
});

// [title, resource, options, the creator and lastModifier annotations afterwards]
const svcWithUser = (user: string): Service => ({
  ...setDefaults(service({ containers: [{ image: IMAGE }] }), BASE),
  metadata: { name: 'hello', annotations: { 'serving.knative.dev/creator': user, 'serving.knative.dev/lastModifier': user } },
});
const userRows: [string, ServingResource, DefaultsOptions, [string | undefined, string | undefined]][] = [
  ['no user, no annotations', service({ containers: [{ image: IMAGE }] }), {}, [undefined, undefined]],
  ['create records both', service({ containers: [{ image: IMAGE }] }), { username: 'alice' }, ['alice', 'alice']],
  ['update without a spec change records nothing', svcWithUser('alice'), { operation: 'UPDATE', old: svcWithUser('alice'), username: 'bob' }, ['alice', 'alice']],
  [
    'update with a spec change records the modifier',
    svcWithUser('alice'),
    { operation: 'UPDATE', old: setDefaults(service({ containers: [{ image: 'other' }] }), BASE), username: 'bob' },
    ['alice', 'bob'],
  ],
  [
    'a Configuration owned by a Service is left alone',
    { apiVersion: 'serving.knative.dev/v1', kind: 'Configuration', metadata: { name: 'c', ownerReferences: [{ apiVersion: 'serving.knative.dev/v1', kind: 'Service', name: 'c', uid: 'u' }] }, spec: {} },
    { username: 'alice' },
    [undefined, undefined],
  ],
  ['a Route records both', { apiVersion: 'serving.knative.dev/v1', kind: 'Route', metadata: { name: 'r' }, spec: {} }, { username: 'alice' }, ['alice', 'alice']],
  ['a Revision never', { apiVersion: 'serving.knative.dev/v1', kind: 'Revision', metadata: { name: 'r' }, spec: {} }, { username: 'alice' }, [undefined, undefined]],
];

for (const [title, resource, opts, [creator, modifier]] of userRows) {
  test(`user info: ${title}`, (t) => {
    const annotations = setDefaults(resource, BASE, opts).metadata?.annotations ?? {};
    t.is(annotations['serving.knative.dev/creator'], creator);
    t.is(annotations['serving.knative.dev/lastModifier'], modifier);
  });
}
