// Validation (spec §5.3, Knative's *_validation.go and k8s_validation.go), table-driven: each
// rule with Knative's exact message and path, errors and warnings apart, several problems at
// once in Knative's merged and sorted order, and the update rules.
import test from 'ava';
import { effectiveConfig, type EffectiveConfig } from '../../config/configmaps.ts';
import type { AutoscalerConfig } from '../../config/autoscaler.ts';
import type { DefaultsConfig } from '../../config/defaults.ts';
import type { FeaturesConfig } from '../../config/features.ts';
import { setDefaults } from '../../webhook/defaults.ts';
import { validateResource, type ValidateOptions } from '../../webhook/validation.ts';
import type { Configuration, Revision, Route, Service, ServingResource } from '../../webhook/types.ts';

const BASE = effectiveConfig([]).config;
const cfg = (o: { d?: Partial<DefaultsConfig>; f?: Partial<FeaturesConfig>; a?: Partial<AutoscalerConfig> }): EffectiveConfig => ({
  ...BASE,
  defaults: { ...BASE.defaults, ...o.d },
  features: { ...BASE.features, ...o.f },
  autoscaler: { ...BASE.autoscaler, ...o.a },
});

const V1 = 'serving.knative.dev/v1';
const IMAGE = 'ghcr.io/knative/helloworld-go:latest';
type Json = Record<string, unknown>;

/** A Service around a template spec (JSON, so that disallowed fields can be written). */
const svc = (spec: Json, over: { metadata?: Json; templateMetadata?: Json; traffic?: unknown[] } = {}): Service =>
  ({
    apiVersion: V1,
    kind: 'Service',
    metadata: { name: 'hello', namespace: 'default', ...over.metadata },
    // The traffic defaulting would give, unless a row says otherwise.
    spec: { template: { ...(over.templateMetadata ? { metadata: over.templateMetadata } : {}), spec }, traffic: over.traffic ?? [{ percent: 100, latestRevision: true }] },
  }) as unknown as Service;
const one = (container: Json = {}, spec: Json = {}): Json => ({ containers: [{ image: IMAGE, ...container }], ...spec });

const errorsOf = (r: ServingResource, config: EffectiveConfig = BASE, opts?: ValidateOptions): string => validateResource(r, config, opts)?.errors?.toString() ?? '';
const warningsOf = (r: ServingResource, config: EffectiveConfig = BASE): string => validateResource(r, config)?.warnings?.toString() ?? '';

const T = 'spec.template.spec';
const C0 = `${T}.containers[0]`;
const DNS1035 =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const SUBDOMAIN =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const INSECURE = 'Kubernetes default value is insecure, Knative may default this to secure in a future release';

test('a defaulted minimal Service is valid, with Knative\'s security-context warnings', (t) => {
  const s = setDefaults(svc(one()), BASE);
  t.is(errorsOf(s), '');
  t.is(
    warningsOf(s),
    `${INSECURE}: ${C0}.securityContext.allowPrivilegeEscalation, ${C0}.securityContext.capabilities, ${C0}.securityContext.runAsNonRoot, ${C0}.securityContext.seccompProfile`,
  );
  for (const d of validateResource(s, BASE)?.diagnostics ?? []) t.is(d.level, 'warning');
});

test('secure pod defaults silence the warnings', (t) => {
  const config = cfg({ f: { securePodDefaults: 'Enabled' } });
  t.is(validateResource(setDefaults(svc(one()), config), config), undefined);
});

// [title, resource, config, Knative's Error() of the errors ('' when valid)]
const rows: [string, ServingResource, EffectiveConfig, string][] = [
  // containerConcurrency and timeouts
  ['cc within bounds', svc(one({}, { containerConcurrency: 1000 })), BASE, ''],
  ['cc above the limit', svc(one({}, { containerConcurrency: 120 })), cfg({ d: { containerConcurrencyMaxLimit: 100 } }), `expected 0 <= 120 <= 100: ${T}.containerConcurrency`],
  ['cc negative', svc(one({}, { containerConcurrency: -1 })), BASE, `expected 0 <= -1 <= 1000: ${T}.containerConcurrency`],
  ['cc 0 when zero is not allowed', svc(one({}, { containerConcurrency: 0 })), cfg({ d: { allowContainerConcurrencyZero: false } }), `expected 1 <= 0 <= 1000: ${T}.containerConcurrency`],
  ['timeout 0 is fine (defaulted)', svc(one({}, { timeoutSeconds: 0 })), BASE, ''],
  ['timeout at the maximum', svc(one({}, { timeoutSeconds: 600 })), BASE, ''],
  ['timeout above the maximum', svc(one({}, { timeoutSeconds: 601 })), BASE, `expected 0 <= 601 <= 600: ${T}.timeoutSeconds`],
  ['timeout negative', svc(one({}, { timeoutSeconds: -5 })), BASE, `expected 0 <= -5 <= 600: ${T}.timeoutSeconds`],
  ['timeout against a configured maximum', svc(one({}, { timeoutSeconds: 900 })), cfg({ d: { maxRevisionTimeoutSeconds: 3600 } }), ''],
  ['response start and idle timeouts are not range-checked', svc(one({}, { responseStartTimeoutSeconds: 5000, idleTimeoutSeconds: -1 })), BASE, ''],

  // the pod spec allow-list
  ['nodeName', svc(one({}, { nodeName: 'n1' })), BASE, `must not set the field(s): ${T}.nodeName`],
  [
    'several disallowed fields in one error',
    svc(one({}, { nodeName: 'n1', hostNetwork: true, terminationGracePeriodSeconds: 0, readinessGates: [] })),
    BASE,
    `must not set the field(s): ${T}.hostNetwork, ${T}.nodeName, ${T}.readinessGates, ${T}.terminationGracePeriodSeconds`,
  ],
  ['a Go zero value is no value', svc(one({}, { hostNetwork: false, nodeName: '' })), BASE, ''],
  ['a field nobody knows', svc(one({}, { replicas: 3 })), BASE, `must not set the field(s): ${T}.replicas`],
  ['automountServiceAccountToken true', svc(one({}, { automountServiceAccountToken: true })), BASE, `must not set the field(s): ${T}.automountServiceAccountToken`],
  ['automountServiceAccountToken false', svc(one({}, { automountServiceAccountToken: false })), BASE, ''],
  ['nodeSelector off', svc(one({}, { nodeSelector: { disk: 'ssd' } })), BASE, `must not set the field(s): ${T}.nodeSelector`],
  ['nodeSelector enabled', svc(one({}, { nodeSelector: { disk: 'ssd' } })), cfg({ f: { podSpecNodeSelector: 'Enabled' } }), ''],
  ['nodeSelector allowed', svc(one({}, { nodeSelector: { disk: 'ssd' } })), cfg({ f: { podSpecNodeSelector: 'Allowed' } }), ''],
  ['affinity, tolerations, dnsPolicy off', svc(one({}, { affinity: {}, tolerations: [], dnsPolicy: 'Default' })), BASE, `must not set the field(s): ${T}.affinity, ${T}.dnsPolicy, ${T}.tolerations`],
  [
    'affinity, tolerations, dnsPolicy enabled',
    svc(one({}, { affinity: {}, tolerations: [], dnsPolicy: 'Default' })),
    cfg({ f: { podSpecAffinity: 'Enabled', podSpecTolerations: 'Enabled', podSpecDnsPolicy: 'Enabled' } }),
    '',
  ],
  ['runtimeClassName, hostAliases, priorityClassName, schedulerName off', svc(one({}, { runtimeClassName: 'gvisor', hostAliases: [], priorityClassName: 'p', schedulerName: 's' })), BASE, `must not set the field(s): ${T}.hostAliases, ${T}.priorityClassName, ${T}.runtimeClassName, ${T}.schedulerName`],
  ['a bad service account name', svc(one({}, { serviceAccountName: 'foo@bar.baz' })), BASE, `invalid value: foo@bar.baz: ${T}.serviceAccountName\n${SUBDOMAIN}`],

  // pod security context
  [
    'pod security context off: the field and its members',
    svc(one({}, { securityContext: { runAsUser: 1000 } })),
    BASE,
    `must not set the field(s): ${T}.securityContext, ${T}.securityContext.runAsUser`,
  ],
  ['pod security context enabled', svc(one({}, { securityContext: { runAsUser: 1000, fsGroup: 2000 } })), cfg({ f: { podSpecSecurityContext: 'Enabled' } }), ''],
  [
    'pod security context enabled: sysctls and bounds',
    svc(one({}, { securityContext: { sysctls: [], runAsUser: -1, supplementalGroups: [5, -2] } })),
    cfg({ f: { podSpecSecurityContext: 'Enabled' } }),
    `expected 0 <= -1 <= 2147483647: ${T}.securityContext.runAsUser\nexpected 0 <= -2 <= 2147483647: ${T}.securityContext.supplementalGroups[1]\nmust not set the field(s): ${T}.securityContext.sysctls`,
  ],
  ['secure pod defaults: opting out of seccomp', svc(one({}, { securityContext: { seccompProfile: { type: 'Unconfined' } } })), cfg({ f: { securePodDefaults: 'Enabled' } }), ''],
  [
    'secure pod defaults: other pod fields stay disallowed',
    svc(one({}, { securityContext: { runAsUser: 5, seccompProfile: { type: 'Localhost', localhostProfile: 'x' } } })),
    cfg({ f: { securePodDefaults: 'Enabled' } }),
    `must not set the field(s): ${T}.securityContext.runAsUser, ${T}.securityContext.seccompProfile`,
  ],

  // containers
  ['no containers', svc({}), BASE, `missing field(s): ${T}.containers`],
  ['an empty container', svc({ containers: [{}] }), BASE, `missing field(s): ${C0}`],
  ['no image', svc({ containers: [{ name: 'x' }] }), BASE, `missing field(s): ${C0}.image`],
  ['an unparsable image', svc(one({ image: 'foo:bar:baz' })), BASE, `Failed to parse image reference: ${C0}.image\nimage: "foo:bar:baz", error: could not parse reference: foo:bar:baz`],
  ['an image with upper case', svc(one({ image: 'Hello' })), BASE, `Failed to parse image reference: ${C0}.image\nimage: "Hello", error: could not parse reference: Hello`],
  ['an image by digest', svc(one({ image: `gcr.io/p/app:v1@sha256:${'a'.repeat(64)}` })), BASE, ''],
  ['an image with a registry port', svc(one({ image: 'localhost:5000/app' })), BASE, ''],
  ['a bad digest', svc(one({ image: 'app@sha256:abc' })), BASE, `Failed to parse image reference: ${C0}.image\nimage: "app@sha256:abc", error: could not parse reference: app@sha256:abc`],
  ['reserved container name', svc(one({ name: 'queue-proxy' })), BASE, `"queue-proxy" is a reserved container name: ${C0}.name`],
  [
    'disallowed container fields',
    svc(one({ lifecycle: {}, stdin: true, tty: true, volumeDevices: [], resizePolicy: [] })),
    BASE,
    `must not set the field(s): ${C0}.lifecycle, ${C0}.resizePolicy, ${C0}.stdin, ${C0}.tty, ${C0}.volumeDevices`,
  ],
  ['resource claims', svc(one({ resources: { limits: { cpu: '1' }, claims: [] } })), BASE, `must not set the field(s): ${C0}.resources.claims`],
  ['terminationMessagePolicy', svc(one({ terminationMessagePolicy: 'Never' })), BASE, `invalid value: Never: ${C0}.terminationMessagePolicy`],

  // ports
  ['one port', svc(one({ ports: [{ containerPort: 8888, name: 'h2c', protocol: 'TCP' }] })), BASE, ''],
  ['port 0 and a bare http1 name', svc(one({ ports: [{ name: 'http1' }] })), BASE, ''],
  ['two ports on the container', svc(one({ ports: [{ containerPort: 8080 }, { containerPort: 8081 }] })), BASE, `more than one container port is set: ${T}.containers[*].ports\nOnly a single port is allowed across all containers`],
  ['a bad port name', svc(one({ ports: [{ name: 'grpc' }] })), BASE, `Port name grpc is not allowed: ${C0}.ports\nName must be empty, or one of: 'h2c', 'http1'`],
  ['UDP', svc(one({ ports: [{ protocol: 'UDP' }] })), BASE, `invalid value: UDP: ${C0}.ports.protocol`],
  ['hostPort and hostIP', svc(one({ ports: [{ hostPort: 80, hostIP: '1.2.3.4' }] })), BASE, `must not set the field(s): ${C0}.ports.hostIP, ${C0}.ports.hostPort`],
  ['a port too large', svc(one({ ports: [{ containerPort: 70000 }] })), BASE, `expected 0 <= 70000 <= 65535: ${C0}.ports.containerPort`],
  ...[8012, 8013, 8022, 9090, 9091, 8008].map((p): [string, ServingResource, EffectiveConfig, string] => [
    `reserved port ${p}`,
    svc(one({ ports: [{ containerPort: p }] })),
    BASE,
    `invalid value: ${p} is a reserved port: ${C0}.ports.containerPort\n${p} is a reserved port, please use a different value`,
  ]),

  // environment
  ...['PORT', 'K_SERVICE', 'K_CONFIGURATION', 'K_REVISION'].map((name): [string, ServingResource, EffectiveConfig, string] => [
    `reserved env ${name}`,
    svc(one({ env: [{ name: 'OK', value: '1' }, { name, value: 'x' }] })),
    BASE,
    `${JSON.stringify(name)} is a reserved environment variable: ${C0}.env[1].name`,
  ]),
  ['an env var without a name', svc(one({ env: [{ value: 'x' }] })), BASE, `missing field(s): ${C0}.env[0].name`],
  ['fieldRef off', svc(one({ env: [{ name: 'N', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } }] })), BASE, `must not set the field(s): ${C0}.env[0].valueFrom.fieldRef`],
  ['fieldRef enabled', svc(one({ env: [{ name: 'N', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } }] })), cfg({ f: { podSpecFieldRef: 'Enabled' } }), ''],
  ['envFrom with neither', svc(one({ envFrom: [{}] })), BASE, `expected exactly one, got neither: ${C0}.envFrom.configMapRef, ${C0}.envFrom.secretRef`],
  ['envFrom with both', svc(one({ envFrom: [{ configMapRef: { name: 'a' }, secretRef: { name: 'b' } }] })), BASE, `expected exactly one, got both: ${C0}.envFrom.configMapRef, ${C0}.envFrom.secretRef`],
  ['envFrom with one', svc(one({ envFrom: [{ prefix: 'P_', secretRef: { name: 'b', optional: true } }] })), BASE, ''],

  // security context
  ['privileged true', svc(one({ securityContext: { privileged: true } })), BASE, `must not set the field(s): ${C0}.securityContext.privileged`],
  ['privileged false', svc(one({ securityContext: { privileged: false } })), BASE, ''],
  ['added capabilities', svc(one({ securityContext: { capabilities: { add: ['NET_ADMIN'] } } })), BASE, `must not set the field(s): ${C0}.securityContext.capabilities.add`],
  ['added capabilities enabled', svc(one({ securityContext: { capabilities: { add: ['NET_ADMIN'] } } })), cfg({ f: { containerSpecAddCapabilities: 'Enabled' } }), ''],
  ['NET_BIND_SERVICE under secure pod defaults', svc(one({ securityContext: { capabilities: { add: ['NET_BIND_SERVICE'] } } })), cfg({ f: { securePodDefaults: 'Enabled' } }), ''],
  ['a uid out of range', svc(one({ securityContext: { runAsUser: 2147483648 } })), BASE, `expected 0 <= 2147483648 <= 2147483647: ${C0}.securityContext.runAsUser`],
  ['seLinuxOptions', svc(one({ securityContext: { seLinuxOptions: {} } })), BASE, `must not set the field(s): ${C0}.securityContext.seLinuxOptions`],

  // readiness and liveness probes of the serving container
  ['a probe on the serving port name', svc(one({ readinessProbe: { httpGet: { port: 'http' }, successThreshold: 1 } })), BASE, ''],
  ['a probe on the named port', svc(one({ ports: [{ name: 'h2c' }], readinessProbe: { tcpSocket: { port: 'h2c' }, successThreshold: 1 } })), BASE, ''],
  ['a probe on another named port', svc(one({ livenessProbe: { tcpSocket: { port: 'imap' } } })), BASE, `invalid value: imap: ${C0}.livenessProbe.tcpSocket.port\nProbe port must match container port`],
  ['a probe on another port number', svc(one({ readinessProbe: { httpGet: { port: 9999 }, successThreshold: 1 } })), BASE, ''],
  ['an undefaulted probe (successThreshold 0)', svc(one({ readinessProbe: { httpGet: {} } })), BASE, `expected 1 <= 0 <= 2147483647: ${C0}.readinessProbe.successThreshold`],
  ['no handler', svc(one({ livenessProbe: { periodSeconds: 3 } })), BASE, `expected exactly one, got neither: ${C0}.livenessProbe.exec, ${C0}.livenessProbe.grpc, ${C0}.livenessProbe.httpGet, ${C0}.livenessProbe.tcpSocket`],
  [
    'several handlers',
    svc(one({ readinessProbe: { httpGet: {}, exec: {}, grpc: { port: 1 }, successThreshold: 1 } })),
    BASE,
    `expected exactly one, got both: ${C0}.readinessProbe.exec, ${C0}.readinessProbe.gRPC, ${C0}.readinessProbe.httpGet`,
  ],
  ['terminationGracePeriodSeconds', svc(one({ livenessProbe: { exec: {}, terminationGracePeriodSeconds: 5 } })), BASE, `must not set the field(s): ${C0}.livenessProbe.exec.terminationGracePeriodSeconds`],
  [
    'aggressive probing with thresholds',
    svc(one({ readinessProbe: { tcpSocket: {}, successThreshold: 1, failureThreshold: 2, timeoutSeconds: 2 } })),
    BASE,
    `failureThreshold is disallowed when periodSeconds is zero: ${C0}.readinessProbe.failureThreshold\ntimeoutSeconds is disallowed when periodSeconds is zero: ${C0}.readinessProbe.timeoutSeconds`,
  ],
  [
    'readiness bounds',
    svc(one({ readinessProbe: { httpGet: {}, periodSeconds: -1, initialDelaySeconds: -1 } })),
    BASE,
    [
      `expected 0 <= -1 <= 2147483647: ${C0}.readinessProbe.initialDelaySeconds, ${C0}.readinessProbe.periodSeconds`,
      `expected 1 <= 0 <= 2147483647: ${C0}.readinessProbe.failureThreshold, ${C0}.readinessProbe.successThreshold, ${C0}.readinessProbe.timeoutSeconds`,
    ].join('\n'),
  ],
  ['a periodic probe with its thresholds', svc(one({ readinessProbe: { httpGet: {}, periodSeconds: 5, successThreshold: 1, failureThreshold: 3, timeoutSeconds: 1 } })), BASE, ''],

  // several containers
  ['a sidecar', svc({ containers: [{ image: IMAGE, ports: [{ containerPort: 8080 }] }, { image: IMAGE, name: 'side' }] }), BASE, ''],
  ['multi-container off', svc({ containers: [{ image: IMAGE, ports: [{}] }, { image: IMAGE }] }), cfg({ f: { multiContainer: 'Disabled' } }), 'multi-container is off, but found 2 containers: '],
  ['no port among several', svc({ containers: [{ name: 'a', image: IMAGE }, { name: 'b', image: IMAGE }] }), BASE, `missing field(s): ${T}.containers[*].ports`],
  // Before defaulting names them, unnamed containers share the name "".
  ['unnamed containers', svc({ containers: [{ image: IMAGE, ports: [{}] }, { image: IMAGE }] }), BASE, `duplicate container name "": ${T}.containers[1].name`],
  [
    'ports on two containers',
    svc({ containers: [{ name: 'a', image: IMAGE, ports: [{ containerPort: 8080 }] }, { name: 'b', image: IMAGE, ports: [{ containerPort: 9000 }] }] }),
    BASE,
    `more than one container port is set: ${T}.containers[*].ports\nOnly a single port is allowed across all containers`,
  ],
  [
    'duplicate names',
    svc({ containers: [{ name: 'a', image: IMAGE, ports: [{}] }, { name: 'a', image: IMAGE }] }),
    BASE,
    `duplicate container name "a": ${T}.containers[1].name`,
  ],
  [
    'sidecar probes without multi-container probing',
    svc({ containers: [{ name: 'a', image: IMAGE, ports: [{}] }, { name: 'b', image: IMAGE, readinessProbe: { httpGet: { port: 9000 } }, livenessProbe: { timeoutSeconds: 1 } }] }),
    BASE,
    `must not set the field(s): ${T}.containers[1].livenessProbe.timeoutSeconds, ${T}.containers[1].readinessProbe`,
  ],
  [
    'sidecar probes with multi-container probing must name a port',
    svc({ containers: [{ name: 'a', image: IMAGE, ports: [{}] }, { name: 'b', image: IMAGE, readinessProbe: { httpGet: {}, successThreshold: 1 }, livenessProbe: { tcpSocket: { port: 9000 } } }] }),
    cfg({ f: { multiContainerProbing: 'Enabled' } }),
    `invalid value: 0: ${T}.containers[1].readinessProbe.httpGet.port\nProbe port must be specified`,
  ],
  [
    'a sidecar may set PORT but not K_REVISION',
    svc({ containers: [{ name: 'a', image: IMAGE, ports: [{}] }, { name: 'b', image: IMAGE, env: [{ name: 'PORT', value: '1' }, { name: 'K_REVISION', value: 'x' }] }] }),
    BASE,
    `"K_REVISION" is a reserved environment variable: ${T}.containers[1].env[1].name`,
  ],

  // init containers
  [
    'init containers off',
    svc(one({}, { initContainers: [{ image: IMAGE }] })),
    BASE,
    `must not set the field(s): ${T}.initContainers\npod spec support for init-containers is off, but found 1 init containers: `,
  ],
  ['init containers enabled', svc(one({ name: 'app' }, { initContainers: [{ name: 'init', image: IMAGE, env: [{ name: 'PORT', value: '1' }] }] })), cfg({ f: { podSpecInitContainers: 'Enabled' } }), ''],
  [
    'init container probes and name clash (filed under containers[i])',
    svc(one({ name: 'app' }, { initContainers: [{ name: 'app', image: IMAGE, readinessProbe: { exec: {} }, lifecycle: {} }] })),
    cfg({ f: { podSpecInitContainers: 'Enabled' } }),
    `duplicate container name "app": ${T}.containers[0].name\nfield not allowed in an init container: ${T}.containers[0].lifecycle, ${T}.containers[0].readinessProbe\nmust not set the field(s): ${T}.containers[0].lifecycle`,
  ],

  // volumes and mounts
  [
    'a secret volume mounted read-only',
    svc(one({ volumeMounts: [{ name: 's', mountPath: '/s', readOnly: true }] }, { volumes: [{ name: 's', secret: { secretName: 's' } }] })),
    BASE,
    '',
  ],
  [
    'a writable mount of a secret',
    svc(one({ volumeMounts: [{ name: 's', mountPath: '/s' }] }, { volumes: [{ name: 's', secret: { secretName: 's' } }] })),
    BASE,
    `volume mount should be readOnly for this type of volume: ${C0}.volumeMounts[0].readOnly`,
  ],
  ['an unmounted volume', svc(one({}, { volumes: [{ name: 's', secret: { secretName: 's' } }] })), BASE, `volume with name "s" not mounted: ${T}.volumes[0].name`],
  [
    'a mount without a volume',
    svc(one({ volumeMounts: [{ name: 'nope', mountPath: '/x', readOnly: true, mountPropagation: 'Bidirectional' }] })),
    BASE,
    `must not set the field(s): ${C0}.volumeMounts[0].mountPropagation\nvolumeMount has no matching volume: ${C0}.volumeMounts[0].name`,
  ],
  [
    'mount paths',
    svc(
      one(
        {
          volumeMounts: [
            { name: 'a', mountPath: '//dev//', readOnly: true },
            { name: 'a', mountPath: 'rel/path', readOnly: true },
            { name: 'a', mountPath: '/data', readOnly: true },
            { name: 'a', mountPath: '/data/', readOnly: true },
            { name: 'a', readOnly: true },
          ],
        },
        { volumes: [{ name: 'a', configMap: { name: 'c' } }] },
      ),
    ),
    BASE,
    [
      `invalid value: "/data/" must be unique: ${C0}.volumeMounts[3].mountPath`,
      `invalid value: rel/path: ${C0}.volumeMounts[1].mountPath`,
      `missing field(s): ${C0}.volumeMounts[4].mountPath`,
      `mountPath "/dev" is a reserved path: ${C0}.volumeMounts[0].mountPath`,
    ].join('\n'),
  ],
  [
    'volume sources',
    svc(
      one(
        { volumeMounts: ['a', 'b', 'c', 'd'].map((n) => ({ name: n, mountPath: `/${n}`, readOnly: true })) },
        { volumes: [{ name: 'a' }, { name: 'b', configMap: { name: 'x' }, secret: { secretName: 'y' } }, { name: 'c', nfs: { server: 's', path: '/' } }, { name: 'd', hostPath: { path: '/' } }] },
      ),
    ),
    BASE,
    [
      'HostPath volume support is disabled, but found HostPath volume d: ',
      `expected exactly one, got both: ${T}.volumes[1].configMap, ${T}.volumes[1].secret`,
      `expected exactly one, got neither: ${T}.volumes[0].configMap, ${T}.volumes[0].emptyDir, ${T}.volumes[0].projected, ${T}.volumes[0].secret, ${T}.volumes[2].configMap, ${T}.volumes[2].emptyDir, ${T}.volumes[2].projected, ${T}.volumes[2].secret`,
      `must not set the field(s): ${T}.volumes[2].nfs, ${T}.volumes[3].hostPath`,
    ].join('\n'),
  ],
  [
    'volume names',
    svc(one({ volumeMounts: [{ name: 'Bad_Name', mountPath: '/a', readOnly: true }] }, { volumes: [{ name: 'Bad_Name', secret: {} }] })),
    BASE,
    `invalid value: Bad_Name: ${T}.volumes[0].name`,
  ],
  [
    'emptyDir on, with a bad medium',
    svc(one({ volumeMounts: [{ name: 'e', mountPath: '/e' }] }, { volumes: [{ name: 'e', emptyDir: { medium: 'Disk', sizeLimit: '-1Gi' } }] })),
    BASE,
    `invalid value: -1Gi: ${T}.volumes[0].emptyDir.sizeLimit\ninvalid value: Disk: ${T}.volumes[0].emptyDir.medium`,
  ],
  [
    'emptyDir off',
    svc(one({ volumeMounts: [{ name: 'e', mountPath: '/e' }] }, { volumes: [{ name: 'e', emptyDir: {} }] })),
    cfg({ f: { podSpecVolumesEmptyDir: 'Disabled' } }),
    `EmptyDir volume support is disabled, but found EmptyDir volume e: \nmust not set the field(s): ${T}.volumes[0].emptyDir`,
  ],
  [
    'persistent volume claims off',
    svc(one({ volumeMounts: [{ name: 'p', mountPath: '/p' }] }, { volumes: [{ name: 'p', persistentVolumeClaim: { claimName: 'claim' } }] })),
    BASE,
    [
      'Persistent volume claim support is disabled, but found persistent volume claim claim: ',
      'Persistent volume write support is disabled, but found persistent volume claim claim that is not read-only: ',
      `must not set the field(s): ${T}.volumes[0].persistentVolumeClaim`,
    ].join('\n'),
  ],
  [
    'a read-only claim mounted writable',
    svc(one({ volumeMounts: [{ name: 'p', mountPath: '/p' }] }, { volumes: [{ name: 'p', persistentVolumeClaim: { claimName: 'claim', readOnly: true } }] })),
    cfg({ f: { podSpecPersistentVolumeClaim: 'Enabled' } }),
    `volume is readOnly but volume mount is not: ${C0}.volumeMounts[0].readOnly`,
  ],
  [
    'projected sources',
    svc(
      one(
        { volumeMounts: [{ name: 'p', mountPath: '/p', readOnly: true }] },
        {
          volumes: [
            {
              name: 'p',
              projected: {
                sources: [
                  { secret: {}, configMap: { name: 'c', items: [{}] } },
                  {},
                  { serviceAccountToken: { audience: 'a' } },
                  { downwardAPI: { items: [{ path: 'l', fieldRef: { fieldPath: 'metadata.labels' }, resourceFieldRef: { resource: 'limits.cpu' } }] } },
                ],
              },
            },
          ],
        },
      ),
    ),
    BASE,
    [
      `Within a single item, cannot set both: ${T}.volumes[0].projected[3].downwardAPI.items[0].fieldRef, ${T}.volumes[0].projected[3].downwardAPI.items[0].resourceFieldRef`,
      `expected exactly one, got both: ${T}.volumes[0].projected[0].configMap, ${T}.volumes[0].projected[0].secret`,
      `expected exactly one, got neither: ${T}.volumes[0].projected[1].configMap, ${T}.volumes[0].projected[1].downwardAPI, ${T}.volumes[0].projected[1].secret, ${T}.volumes[0].projected[1].serviceAccountToken`,
      `missing field(s): ${T}.volumes[0].projected[0].configMap.items[0].key, ${T}.volumes[0].projected[0].configMap.items[0].path, ${T}.volumes[0].projected[0].secret.name, ${T}.volumes[0].projected[2].serviceAccountToken.path`,
    ].join('\n'),
  ],

  // names
  ['no name', { apiVersion: V1, kind: 'Service', metadata: {}, spec: { template: { spec: one() }, traffic: [{ percent: 100 }] } } as unknown as Service, BASE, 'name or generateName is required: metadata.name'],
  ['a generateName', svc(one(), { metadata: { name: undefined, generateName: 'hello-' } }), BASE, ''],
  ['a bad name', svc(one(), { metadata: { name: 'Hello' } }), BASE, `not a DNS 1035 label: [${DNS1035}]: metadata.name`],
  ['a name starting with a digit', svc(one(), { metadata: { name: '1hello' } }), BASE, `not a DNS 1035 label: [${DNS1035}]: metadata.name`],
  ['a name too long', svc(one(), { metadata: { name: 'a'.repeat(64) } }), BASE, `not a DNS 1035 label: [must be no more than 63 characters]: metadata.name`],
  ['a bad generateName', svc(one(), { metadata: { name: undefined, generateName: 'Hello-' } }), BASE, `not a DNS 1035 label prefix: [${DNS1035}]: metadata.generateName`],
  // apimachinery's maskTrailingDash swaps the last two characters for "a": "hello_-" is checked as "helloa".
  ['a generateName as apimachinery masks it', svc(one(), { metadata: { name: undefined, generateName: 'hello_-' } }), BASE, ''],
  ['a template generateName as apimachinery masks it', svc(one(), { templateMetadata: { generateName: '9-' } }), BASE, ''],
  ['a template name with the prefix', svc(one(), { templateMetadata: { name: 'hello-v1' } }), BASE, ''],
  ['a template name without the prefix', svc(one(), { templateMetadata: { name: 'foo' } }), BASE, `invalid value: "foo" must have prefix "hello-": spec.template.metadata.name`],
  ['a template name that is no label', svc(one(), { templateMetadata: { name: 'hello_v1' } }), BASE, `invalid value: not a DNS 1035 label: [${DNS1035}]: spec.template.metadata.name`],
  ['a template name under a generateName', svc(one(), { metadata: { name: undefined, generateName: 'hello-' }, templateMetadata: { name: 'hello-v1' } }), BASE, 'must not set the field(s): spec.template.metadata.name'],
  ['a bad template generateName', svc(one(), { templateMetadata: { generateName: '-x' } }), BASE, `invalid value: not a DNS 1035 label prefix: [${DNS1035}]: spec.template.metadata.generateName`],

  // annotations
  [
    'autoscaling annotations on the Service',
    svc(one(), { metadata: { annotations: { 'autoscaling.knative.dev/minScale': '1' } } }),
    BASE,
    'invalid key name "autoscaling.knative.dev/minScale": metadata.annotations\nautoscaling annotations must be put under "spec.template.metadata.annotations" to work',
  ],
  ['autoscaling annotations on the template', svc(one(), { templateMetadata: { annotations: { 'autoscaling.knative.dev/min-scale': '1', 'autoscaling.knative.dev/max-scale': '3' } } }), BASE, ''],
  ['min-scale negative', svc(one(), { templateMetadata: { annotations: { 'autoscaling.knative.dev/minScale': '-1' } } }), BASE, 'expected 0 <= -1 <= 2147483647: spec.template.metadata.annotations.autoscaling.knative.dev/minScale'],
  [
    'max-scale below min-scale',
    svc(one(), { templateMetadata: { annotations: { 'autoscaling.knative.dev/min-scale': '3', 'autoscaling.knative.dev/maxScale': '1' } } }),
    BASE,
    'max-scale=1 is less than min-scale=3: spec.template.metadata.annotations.autoscaling.knative.dev/max-scale, spec.template.metadata.annotations.autoscaling.knative.dev/min-scale',
  ],
  ['max-scale above the limit', svc(one(), { templateMetadata: { annotations: { 'autoscaling.knative.dev/max-scale': '20' } } }), cfg({ a: { maxScaleLimit: 10 } }), 'expected 1 <= 20 <= 10: spec.template.metadata.annotations.autoscaling.knative.dev/max-scale'],
  ['initial-scale 0 not allowed', svc(one(), { templateMetadata: { annotations: { 'autoscaling.knative.dev/initial-scale': '0' } } }), BASE, 'invalid value: 0: spec.template.metadata.annotations.autoscaling.knative.dev/initial-scale=0 not allowed by cluster'],
  ['initial-scale 0 allowed', svc(one(), { templateMetadata: { annotations: { 'autoscaling.knative.dev/initial-scale': '0' } } }), cfg({ a: { allowZeroInitialScale: true } }), ''],
  ['initial-scale negative', svc(one(), { templateMetadata: { annotations: { 'autoscaling.knative.dev/initialScale': '-2' } } }), BASE, 'invalid value: -2: spec.template.metadata.annotations.autoscaling.knative.dev/initialScale must be greater than 0'],
  ['window too short', svc(one(), { templateMetadata: { annotations: { 'autoscaling.knative.dev/window': '3s' } } }), BASE, 'expected 6s <= 3s <= 1h0m0s: spec.template.metadata.annotations.autoscaling.knative.dev/window'],
  ['target too small', svc(one(), { templateMetadata: { annotations: { 'autoscaling.knative.dev/target': '0.001' } } }), BASE, 'target 0.001 should be at least 0.01: spec.template.metadata.annotations.autoscaling.knative.dev/target'],
  ['a foreign class', svc(one(), { templateMetadata: { annotations: { 'autoscaling.knative.dev/class': 'foo.knative.dev' } } }), BASE, 'invalid value: foo.knative.dev: spec.template.metadata.annotations.autoscaling.knative.dev/class'],
  ['rollout duration', svc(one(), { metadata: { annotations: { 'serving.knative.dev/rollout-duration': '120s' } } }), BASE, ''],
  ['rollout duration not a duration', svc(one(), { metadata: { annotations: { 'serving.knative.dev/rolloutDuration': 'soon' } } }), BASE, 'invalid value: soon: metadata.annotations.serving.knative.dev/rolloutDuration'],
  ['rollout duration below a second', svc(one(), { metadata: { annotations: { 'serving.knative.dev/rollout-duration': '1.5s' } } }), BASE, 'rollout-duration=1.5s is not at second precision: metadata.annotations.serving.knative.dev/rollout-duration'],
  ['rollout duration negative', svc(one(), { metadata: { annotations: { 'serving.knative.dev/rollout-duration': '-5s' } } }), BASE, 'rollout-duration=-5s must be positive: metadata.annotations.serving.knative.dev/rollout-duration'],
  ['progress deadline', svc(one(), { templateMetadata: { annotations: { 'serving.knative.dev/progress-deadline': '1500ms' } } }), BASE, 'progress-deadline=1500ms is not at second precision: spec.template.metadata.annotations.serving.knative.dev/progress-deadline'],
  [
    'queue sidecar annotations',
    svc(one(), { templateMetadata: { annotations: { 'queue.sidecar.serving.knative.dev/resource-percentage': '200', 'queue.sidecar.serving.knative.dev/cpu-resource-request': 'lots' } } }),
    BASE,
    'expected 0.1 <= 200 <= 100: spec.template.metadata.annotations.[queue.sidecar.serving.knative.dev/resource-percentage]\ninvalid value: lots: spec.template.metadata.annotations.[queue.sidecar.serving.knative.dev/cpu-resource-request]',
  ],

  // Service traffic (validateTraffic inside a Service)
  ['traffic naming a configuration', svc(one(), { traffic: [{ configurationName: 'hello', percent: 100, latestRevision: true }] }), BASE, 'must not set the field(s): spec.traffic[0].configurationName'],
  ['traffic summing to 90', svc(one(), { traffic: [{ percent: 90, latestRevision: true }] }), BASE, 'Traffic targets sum to 90, want 100: spec.traffic'],
];

for (const [title, resource, config, want] of rows) {
  test(`${resource.kind}: ${title}`, (t) => {
    t.is(errorsOf(resource, config), want);
  });
}

test('several problems at once, merged and sorted as Knative prints them', (t) => {
  const s = svc(
    {
      containerConcurrency: 2000,
      timeoutSeconds: 1000,
      nodeName: 'n',
      hostPID: true,
      containers: [{ image: IMAGE, ports: [{ containerPort: 8013, name: 'web' }], env: [{ name: 'PORT', value: '1' }], stdin: true }],
    },
    { metadata: { name: 'Hello', annotations: { 'autoscaling.knative.dev/window': '1m' } }, templateMetadata: { name: 'foo' }, traffic: [{ percent: 50, latestRevision: true }] },
  );
  t.is(
    errorsOf(s),
    [
      `"PORT" is a reserved environment variable: ${C0}.env[0].name`,
      `Port name web is not allowed: ${C0}.ports\nName must be empty, or one of: 'h2c', 'http1'`,
      'Traffic targets sum to 50, want 100: spec.traffic',
      `expected 0 <= 1000 <= 600: ${T}.timeoutSeconds`,
      `expected 0 <= 2000 <= 1000: ${T}.containerConcurrency`,
      'invalid key name "autoscaling.knative.dev/window": metadata.annotations\nautoscaling annotations must be put under "spec.template.metadata.annotations" to work',
      `invalid value: "foo" must have prefix "Hello-": spec.template.metadata.name`,
      `invalid value: 8013 is a reserved port: ${C0}.ports.containerPort\n8013 is a reserved port, please use a different value`,
      `must not set the field(s): ${C0}.stdin, ${T}.hostPID, ${T}.nodeName`,
      `not a DNS 1035 label: [${DNS1035}]: metadata.name`,
    ].join('\n'),
  );
});

test('warnings: the pod context counts, a misspelt "all", and the deprecated queue percentage', (t) => {
  const s = svc(
    {
      securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [{ image: IMAGE, securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['all'] } } }],
    },
    { templateMetadata: { annotations: { 'queue.sidecar.serving.knative.dev/resourcePercentage': '10' } } },
  );
  const config = cfg({ f: { podSpecSecurityContext: 'Enabled' } });
  t.is(errorsOf(s, config), '');
  t.is(
    warningsOf(s, config),
    `Queue proxy resource percentage annotation is deprecated. Please use the available annotations to explicitly set resource values per service: \ninvalid value: all: ${C0}.securityContext.capabilities.drop\nMust be spelled as 'ALL'`,
  );
});

test('warnings: init containers too, and an empty seccomp type', (t) => {
  const s = svc(one({ securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false, seccompProfile: {}, capabilities: {} } }, { initContainers: [{ image: IMAGE, name: 'init' }] }));
  const I0 = `${T}.initContainers[0].securityContext`;
  t.is(
    warningsOf(s, cfg({ f: { podSpecInitContainers: 'Enabled' } })),
    `${INSECURE}: ${C0}.securityContext.capabilities.drop, ${C0}.securityContext.seccompProfile.type, ${I0}.allowPrivilegeEscalation, ${I0}.capabilities, ${I0}.runAsNonRoot, ${I0}.seccompProfile`,
  );
});

// --- the other kinds --------------------------------------------------------------------------

const revision = (spec: Json, metadata: Json = {}): Revision => ({ apiVersion: V1, kind: 'Revision', metadata: { name: 'hello-00001', ...metadata }, spec }) as unknown as Revision;
const configuration = (spec: Json, metadata: Json = {}): Configuration =>
  ({ apiVersion: V1, kind: 'Configuration', metadata: { name: 'hello', ...metadata }, spec: { template: { spec } } }) as unknown as Configuration;
const route = (traffic: unknown[], metadata: Json = {}): Route => ({ apiVersion: V1, kind: 'Route', metadata: { name: 'hello', ...metadata }, spec: { traffic } }) as unknown as Route;
const owner = (kind: string, name: string): Json => ({ ownerReferences: [{ apiVersion: V1, kind, name, uid: 'u1' }] });

const kindRows: [string, ServingResource, string][] = [
  ['Revision: a valid spec', revision(one()), ''],
  ['Revision: spec paths', revision(one({ ports: [{ containerPort: 9090 }] }, { containerConcurrency: -2 })), `expected 0 <= -2 <= 1000: spec.containerConcurrency\ninvalid value: 9090 is a reserved port: spec.containers[0].ports.containerPort\n9090 is a reserved port, please use a different value`],
  ['Revision: autoscaling annotations belong here', revision(one(), { annotations: { 'autoscaling.knative.dev/target': 'x' } }), 'invalid value: x: metadata.annotations.autoscaling.knative.dev/target'],
  ['Revision: a configuration label needs the owner', revision(one(), { labels: { 'serving.knative.dev/configuration': 'hello' } }), 'missing field(s): metadata.labels.serving.knative.dev/configuration'],
  ['Revision: with its owner', revision(one(), { labels: { 'serving.knative.dev/configuration': 'hello' }, ...owner('Configuration', 'hello') }), ''],
  ['Configuration: a valid template', configuration(one()), ''],
  ['Configuration: template paths', configuration(one({ name: 'queue-proxy' })), '"queue-proxy" is a reserved container name: spec.template.spec.containers[0].name'],
  ['Configuration: a service label needs the owner', configuration(one(), { labels: { 'serving.knative.dev/service': 'hello' } }), 'missing field(s): metadata.labels.serving.knative.dev/service'],
  ['Configuration: with its owner', configuration(one(), { labels: { 'serving.knative.dev/service': 'hello' }, ...owner('Service', 'hello') }), ''],
  [
    'Configuration: no autoscaling annotations',
    configuration(one(), { annotations: { 'autoscaling.knative.dev/class': 'kpa.autoscaling.knative.dev' } }),
    'invalid key name "autoscaling.knative.dev/class": metadata.annotations\nautoscaling annotations must be put under "spec.template.metadata.annotations" to work',
  ],
  ['Route: a valid split', route([{ revisionName: 'hello-00001', percent: 50, latestRevision: false }, { configurationName: 'hello', percent: 50, latestRevision: true }]), ''],
  ['Route: a target without a name', route([{ percent: 100 }]), 'expected exactly one, got neither: spec.traffic[0].configurationName, spec.traffic[0].revisionName'],
  ['Route: no traffic', route([]), 'Traffic targets sum to 0, want 100: spec.traffic'],
  ['Route: a service label needs the owner', route([{ configurationName: 'c', percent: 100 }], { labels: { 'serving.knative.dev/service': 'x' } }), 'missing field(s): metadata.labels.serving.knative.dev/service'],
  ['Route: rollout duration', route([{ configurationName: 'c', percent: 100 }], { annotations: { 'serving.knative.dev/rollout-duration': '1m0.5s' } }), 'rollout-duration=1m0.5s is not at second precision: metadata.annotations.serving.knative.dev/rollout-duration'],
];

for (const [title, resource, want] of kindRows) {
  test(title, (t) => {
    t.is(errorsOf(resource), want);
  });
}

// --- updates ----------------------------------------------------------------------------------

const UPDATE = (old: ServingResource): ValidateOptions => ({ operation: 'UPDATE', old });

test('update: a Revision spec is immutable, and only that is reported', (t) => {
  const old = setDefaults(revision(one()), BASE);
  const changed = revision({ ...(old.spec as Json), containerConcurrency: 5, containers: [{ ...(old.spec?.containers?.[0] as Json), image: 'other' }] }, { name: 'Bad' });
  t.is(
    errorsOf(changed, BASE, UPDATE(old)),
    'Immutable fields changed (-old +new): spec\n{v1.RevisionSpec}.containers[0].image:\n\t-: "ghcr.io/knative/helloworld-go:latest"\n\t+: "other"\n{v1.RevisionSpec}.containerConcurrency:\n\t-: "0"\n\t+: "5"\n',
  );
  // Without a spec change only the metadata is checked; the spec is not re-validated.
  const relabelled = revision(old.spec as Json, { annotations: { 'autoscaling.knative.dev/window': '1s' } });
  t.is(errorsOf(relabelled, BASE, UPDATE(old)), 'expected 6s <= 1s <= 1h0m0s: metadata.annotations.autoscaling.knative.dev/window');
  t.is(errorsOf(revision({ ...(old.spec as Json), nodeName: 'x' }), BASE, UPDATE(revision({ ...(old.spec as Json), nodeName: 'x' }))), '');
});

test('update: a template that keeps its name may not change', (t) => {
  const old = svc(one(), { templateMetadata: { name: 'hello-v1' } });
  const same = svc(one(), { templateMetadata: { name: 'hello-v1' } });
  t.is(errorsOf(same, BASE, UPDATE(old)), '');
  const changed = svc(one({ image: 'other' }), { templateMetadata: { name: 'hello-v1' } });
  t.is(
    errorsOf(changed, BASE, UPDATE(old)),
    'Saw the following changes without a name change (-old +new): spec.template.metadata.name\n{*v1.RevisionTemplateSpec}.spec.containers[0].image:\n\t-: "ghcr.io/knative/helloworld-go:latest"\n\t+: "other"\n',
  );
  t.is(errorsOf(svc(one({ image: 'other' }), { templateMetadata: { name: 'hello-v2' } }), BASE, UPDATE(old)), '');
  // A Configuration too.
  const oldCfg = { ...configuration(one()), spec: { template: { metadata: { name: 'hello-a' }, spec: one() } } } as Configuration;
  const newCfg = { ...configuration(one()), spec: { template: { metadata: { name: 'hello-a', labels: { x: 'y' } }, spec: one() } } } as Configuration;
  t.is(
    errorsOf(newCfg, BASE, UPDATE(oldCfg)),
    'Saw the following changes without a name change (-old +new): spec.template.metadata.name\n{*v1.RevisionTemplateSpec}.metadata.labels:\n\t+: "{"x":"y"}"\n',
  );
});

test('update: the creator is immutable; lastModifier changes only with the spec', (t) => {
  const withUsers = (spec: Json, creator: string, modifier: string): Service =>
    svc(spec, { metadata: { annotations: { 'serving.knative.dev/creator': creator, 'serving.knative.dev/lastModifier': modifier } } });
  const old = withUsers(one(), 'alice', 'alice');
  t.is(errorsOf(withUsers(one(), 'bob', 'alice'), BASE, UPDATE(old)), 'annotation value is immutable: metadata.annotations.serving.knative.dev/creator');
  t.is(errorsOf(withUsers(one(), 'alice', 'bob'), BASE, UPDATE(old)), 'invalid value: bob: metadata.annotations.serving.knative.dev/lastModifier');
  t.is(errorsOf(withUsers(one({ image: 'other' }), 'alice', 'bob'), BASE, UPDATE(old)), '');
  // Not checked on a Route owned by a Service.
  const oldRoute = route([{ configurationName: 'c', percent: 100 }], { annotations: { 'serving.knative.dev/creator': 'alice' }, ...owner('Service', 'c') });
  t.is(errorsOf(route([{ configurationName: 'c', percent: 100 }], owner('Service', 'c')), BASE, UPDATE(oldRoute)), '');
  const standalone = route([{ configurationName: 'c', percent: 100 }], { annotations: { 'serving.knative.dev/creator': 'alice' } });
  t.is(errorsOf(route([{ configurationName: 'c', percent: 100 }]), BASE, UPDATE(standalone)), 'annotation value is immutable: metadata.annotations.serving.knative.dev/creator');
});

test('an old object of another kind is ignored', (t) => {
  t.is(errorsOf(revision(one()), BASE, UPDATE(svc(one()))), '');
});
