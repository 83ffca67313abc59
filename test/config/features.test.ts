// config-features: every flag's default, its words in any case, and the warning for a word
// Knative does not know (spec §4.5), table-driven. This map never fails to parse.
import test from 'ava';
import { featuresConfigMap, type FeaturesConfig } from '../../config/features.ts';
import { formatIssue } from '../../config/schema.ts';

const parse = (data: Record<string, string>) => featuresConfigMap.parse(data);

// [key, field, default]
const flags: [string, keyof FeaturesConfig, string][] = [
  ['multi-container', 'multiContainer', 'Enabled'],
  ['multi-container-probing', 'multiContainerProbing', 'Disabled'],
  ['autodetect-http2', 'autodetectHttp2', 'Disabled'],
  ['tag-header-based-routing', 'tagHeaderBasedRouting', 'Disabled'],
  ['queueproxy.mount-podinfo', 'queueProxyMountPodInfo', 'Disabled'],
  ['queueproxy.resource-defaults', 'queueProxyResourceDefaults', 'Disabled'],
  ['secure-pod-defaults', 'securePodDefaults', 'Disabled'],
  ['kubernetes.containerspec-addcapabilities', 'containerSpecAddCapabilities', 'Disabled'],
  ['kubernetes.podspec-affinity', 'podSpecAffinity', 'Disabled'],
  ['kubernetes.podspec-dnsconfig', 'podSpecDnsConfig', 'Disabled'],
  ['kubernetes.podspec-dnspolicy', 'podSpecDnsPolicy', 'Disabled'],
  ['kubernetes.podspec-fieldref', 'podSpecFieldRef', 'Disabled'],
  ['kubernetes.podspec-hostaliases', 'podSpecHostAliases', 'Disabled'],
  ['kubernetes.podspec-hostipc', 'podSpecHostIpc', 'Disabled'],
  ['kubernetes.podspec-hostnetwork', 'podSpecHostNetwork', 'Disabled'],
  ['kubernetes.podspec-hostpid', 'podSpecHostPid', 'Disabled'],
  ['kubernetes.podspec-init-containers', 'podSpecInitContainers', 'Disabled'],
  ['kubernetes.podspec-nodeselector', 'podSpecNodeSelector', 'Disabled'],
  ['kubernetes.podspec-persistent-volume-claim', 'podSpecPersistentVolumeClaim', 'Disabled'],
  ['kubernetes.podspec-persistent-volume-write', 'podSpecPersistentVolumeWrite', 'Disabled'],
  ['kubernetes.podspec-priorityclassname', 'podSpecPriorityClassName', 'Disabled'],
  ['kubernetes.podspec-runtimeclassname', 'podSpecRuntimeClassName', 'Disabled'],
  ['kubernetes.podspec-schedulername', 'podSpecSchedulerName', 'Disabled'],
  ['kubernetes.podspec-securitycontext', 'podSpecSecurityContext', 'Disabled'],
  ['kubernetes.podspec-shareprocessnamespace', 'podSpecShareProcessNamespace', 'Disabled'],
  ['kubernetes.podspec-tolerations', 'podSpecTolerations', 'Disabled'],
  ['kubernetes.podspec-topologyspreadconstraints', 'podSpecTopologySpreadConstraints', 'Disabled'],
  ['kubernetes.podspec-volumes-emptydir', 'podSpecVolumesEmptyDir', 'Enabled'],
  ['kubernetes.podspec-volumes-hostpath', 'podSpecVolumesHostPath', 'Disabled'],
  ['kubernetes.podspec-volumes-csi', 'podSpecVolumesCsi', 'Disabled'],
  ['kubernetes.podspec-volumes-image', 'podSpecVolumesImage', 'Disabled'],
  ['kubernetes.podspec-volumes-mount-propagation', 'podSpecVolumesMountPropagation', 'Disabled'],
];

test('defaults match Knative', (t) => {
  const expected: FeaturesConfig = {
    multiContainer: 'Enabled',
    multiContainerProbing: 'Disabled',
    autodetectHttp2: 'Disabled',
    tagHeaderBasedRouting: 'Disabled',
    queueProxyMountPodInfo: 'Disabled',
    queueProxyResourceDefaults: 'Disabled',
    securePodDefaults: 'Disabled',
    containerSpecAddCapabilities: 'Disabled',
    podSpecAffinity: 'Disabled',
    podSpecDnsConfig: 'Disabled',
    podSpecDnsPolicy: 'Disabled',
    podSpecFieldRef: 'Disabled',
    podSpecHostAliases: 'Disabled',
    podSpecHostIpc: 'Disabled',
    podSpecHostNetwork: 'Disabled',
    podSpecHostPid: 'Disabled',
    podSpecInitContainers: 'Disabled',
    podSpecNodeSelector: 'Disabled',
    podSpecPersistentVolumeClaim: 'Disabled',
    podSpecPersistentVolumeWrite: 'Disabled',
    podSpecPriorityClassName: 'Disabled',
    podSpecRuntimeClassName: 'Disabled',
    podSpecSchedulerName: 'Disabled',
    podSpecSecurityContext: 'Disabled',
    podSpecShareProcessNamespace: 'Disabled',
    podSpecTolerations: 'Disabled',
    podSpecTopologySpreadConstraints: 'Disabled',
    podSpecVolumesEmptyDir: 'Enabled',
    podSpecVolumesHostPath: 'Disabled',
    podSpecVolumesCsi: 'Disabled',
    podSpecVolumesImage: 'Disabled',
    podSpecVolumesMountPropagation: 'Disabled',
  };
  t.deepEqual(featuresConfigMap.defaults(), expected);
  const empty = parse({});
  t.true(empty.ok);
  if (empty.ok) {
    t.deepEqual(empty.config, expected);
    t.deepEqual(empty.warnings, []);
  }
  // The table below covers every field of the map.
  t.deepEqual(flags.map(([, field]) => field).sort(), Object.keys(expected).sort());
});

// Each ordinary flag: [raw, stored canonical word]
const words: [string, string][] = [
  ['Enabled', 'Enabled'],
  ['enabled', 'Enabled'],
  ['ENABLED', 'Enabled'],
  ['Disabled', 'Disabled'],
  ['disabled', 'Disabled'],
  ['Allowed', 'Allowed'],
  ['aLLoWeD', 'Allowed'],
];

for (const [key, field, def] of flags) {
  if (key === 'secure-pod-defaults') continue;
  test(`flag ${key}: default ${def}, words in any case, unknown word warned`, (t) => {
    for (const [raw, want] of words) {
      const r = parse({ [key]: raw });
      t.true(r.ok);
      if (r.ok) {
        t.is(r.config[field], want, `${key}: ${raw}`);
        t.deepEqual(r.warnings, []);
      }
    }
    // A word Knative does not know keeps the default: never an error, but we warn.
    for (const raw of ['true', 'on', '', ' Enabled', 'AllowRootBounded']) {
      const r = parse({ [key]: raw });
      t.true(r.ok);
      if (r.ok) t.is(r.config[field], def, `${key}: ${JSON.stringify(raw)}`);
      t.deepEqual(r.warnings.map(formatIssue), [
        `config-features: ${key}: ${JSON.stringify(raw)} is not one of Enabled, Disabled, Allowed; the default ${def} applies`,
      ]);
    }
  });
}

test('the default flips for flags whose default is not Disabled', (t) => {
  const r = parse({ 'multi-container': 'disabled', 'kubernetes.podspec-volumes-emptydir': 'DISABLED' });
  t.true(r.ok);
  if (r.ok) {
    t.is(r.config.multiContainer, 'Disabled');
    t.is(r.config.podSpecVolumesEmptyDir, 'Disabled');
  }
});

// secure-pod-defaults has its own words: [raw, stored]
const secure: [string, string][] = [
  ['Enabled', 'Enabled'],
  ['enabled', 'Enabled'],
  ['Disabled', 'Disabled'],
  ['DISABLED', 'Disabled'],
  ['AllowRootBounded', 'AllowRootBounded'],
  ['allowrootbounded', 'AllowRootBounded'],
  ['ALLOWROOTBOUNDED', 'AllowRootBounded'],
];

for (const [raw, want] of secure) {
  test(`secure-pod-defaults ${JSON.stringify(raw)} → ${want}`, (t) => {
    const r = parse({ 'secure-pod-defaults': raw });
    t.true(r.ok);
    if (r.ok) t.is(r.config.securePodDefaults, want);
    t.deepEqual(r.warnings, []);
  });
}

for (const raw of ['Allowed', 'allowed', 'AllowRoot', 'true', '']) {
  test(`secure-pod-defaults ${JSON.stringify(raw)} keeps Disabled with a warning`, (t) => {
    const r = parse({ 'secure-pod-defaults': raw });
    t.true(r.ok);
    if (r.ok) t.is(r.config.securePodDefaults, 'Disabled');
    t.deepEqual(r.warnings.map(formatIssue), [
      `config-features: secure-pod-defaults: ${JSON.stringify(raw)} is not one of Disabled, AllowRootBounded, Enabled; the default Disabled applies`,
    ]);
  });
}

test('several flags at once; unknown words are all warned about and never fail the map', (t) => {
  const r = parse({
    'multi-container-probing': 'Enabled',
    'queueproxy.mount-podinfo': 'allowed',
    'autodetect-http2': 'yes',
    'kubernetes.podspec-affinity': 'maybe',
  });
  t.true(r.ok);
  if (r.ok) {
    t.is(r.config.multiContainerProbing, 'Enabled');
    t.is(r.config.queueProxyMountPodInfo, 'Allowed');
    t.is(r.config.autodetectHttp2, 'Disabled');
    t.is(r.config.podSpecAffinity, 'Disabled');
  }
  t.deepEqual(r.warnings.map(formatIssue), [
    'config-features: autodetect-http2: "yes" is not one of Enabled, Disabled, Allowed; the default Disabled applies',
    'config-features: kubernetes.podspec-affinity: "maybe" is not one of Enabled, Disabled, Allowed; the default Disabled applies',
  ]);
});

test('unknown keys are warned about; _example is ignored', (t) => {
  const r = parse({ _example: 'docs', 'kubernetes.podspec-dryrun': 'Allowed' });
  t.true(r.ok);
  t.deepEqual(r.warnings.map(formatIssue), ['config-features: kubernetes.podspec-dryrun: "Allowed" is not a key of this map and is ignored']);
});
