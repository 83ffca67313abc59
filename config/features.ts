// config-features (spec §4.5): feature flags. Knative never rejects this map: a flag word it
// does not know keeps the default. We keep that, and report such words as warnings.
import { flagField } from './fields.ts';
import { fieldMap, type Field } from './schema.ts';

export interface FeaturesConfig {
  readonly multiContainer: string;
  readonly multiContainerProbing: string;
  readonly autodetectHttp2: string;
  readonly tagHeaderBasedRouting: string;
  readonly queueProxyMountPodInfo: string;
  readonly queueProxyResourceDefaults: string;
  readonly securePodDefaults: string;
  readonly containerSpecAddCapabilities: string;
  readonly podSpecAffinity: string;
  readonly podSpecDnsConfig: string;
  readonly podSpecDnsPolicy: string;
  readonly podSpecFieldRef: string;
  readonly podSpecHostAliases: string;
  readonly podSpecHostIpc: string;
  readonly podSpecHostNetwork: string;
  readonly podSpecHostPid: string;
  readonly podSpecInitContainers: string;
  readonly podSpecNodeSelector: string;
  readonly podSpecPersistentVolumeClaim: string;
  readonly podSpecPersistentVolumeWrite: string;
  readonly podSpecPriorityClassName: string;
  readonly podSpecRuntimeClassName: string;
  readonly podSpecSchedulerName: string;
  readonly podSpecSecurityContext: string;
  readonly podSpecShareProcessNamespace: string;
  readonly podSpecTolerations: string;
  readonly podSpecTopologySpreadConstraints: string;
  readonly podSpecVolumesEmptyDir: string;
  readonly podSpecVolumesHostPath: string;
  readonly podSpecVolumesCsi: string;
  readonly podSpecVolumesImage: string;
  readonly podSpecVolumesMountPropagation: string;
}

const off = (key: string): Field<string> => flagField(key, 'Disabled');
const podspec = (suffix: string): Field<string> => off(`kubernetes.podspec-${suffix}`);

export const featuresConfigMap = fieldMap<FeaturesConfig>('config-features', {
  multiContainer: flagField('multi-container', 'Enabled'),
  multiContainerProbing: off('multi-container-probing'),
  autodetectHttp2: off('autodetect-http2'),
  tagHeaderBasedRouting: off('tag-header-based-routing'),
  queueProxyMountPodInfo: off('queueproxy.mount-podinfo'),
  queueProxyResourceDefaults: off('queueproxy.resource-defaults'),
  // This flag has its own words: Allowed means nothing here.
  securePodDefaults: flagField('secure-pod-defaults', 'Disabled', ['Disabled', 'AllowRootBounded', 'Enabled']),
  containerSpecAddCapabilities: off('kubernetes.containerspec-addcapabilities'),
  podSpecAffinity: podspec('affinity'),
  podSpecDnsConfig: podspec('dnsconfig'),
  podSpecDnsPolicy: podspec('dnspolicy'),
  podSpecFieldRef: podspec('fieldref'),
  podSpecHostAliases: podspec('hostaliases'),
  podSpecHostIpc: podspec('hostipc'),
  podSpecHostNetwork: podspec('hostnetwork'),
  podSpecHostPid: podspec('hostpid'),
  podSpecInitContainers: podspec('init-containers'),
  podSpecNodeSelector: podspec('nodeselector'),
  podSpecPersistentVolumeClaim: podspec('persistent-volume-claim'),
  podSpecPersistentVolumeWrite: podspec('persistent-volume-write'),
  podSpecPriorityClassName: podspec('priorityclassname'),
  podSpecRuntimeClassName: podspec('runtimeclassname'),
  podSpecSchedulerName: podspec('schedulername'),
  podSpecSecurityContext: podspec('securitycontext'),
  podSpecShareProcessNamespace: podspec('shareprocessnamespace'),
  podSpecTolerations: podspec('tolerations'),
  podSpecTopologySpreadConstraints: podspec('topologyspreadconstraints'),
  podSpecVolumesEmptyDir: flagField('kubernetes.podspec-volumes-emptydir', 'Enabled'),
  podSpecVolumesHostPath: podspec('volumes-hostpath'),
  podSpecVolumesCsi: podspec('volumes-csi'),
  podSpecVolumesImage: podspec('volumes-image'),
  podSpecVolumesMountPropagation: podspec('volumes-mount-propagation'),
});
