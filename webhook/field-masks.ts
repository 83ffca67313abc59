// Knative's allow-lists for the Kubernetes parts of a revision (its fieldmask.go), and the
// check that reports every field set outside them as "must not set the field(s)". Validators
// here read parsed YAML/JSON, so this file also owns the small accessors that treat a value of
// the wrong type as absent instead of throwing.
//
// Go decodes into structs, where a value-typed field left at its zero value (false, 0, "") is
// indistinguishable from an absent one, while a pointer, slice or map is "set" as soon as it is
// present, even when empty. Each mask therefore names its value-typed fields. A key Go does
// not know at all is reported too: the API server would have pruned it, and silently dropping
// user input hides mistakes.
import type { FeaturesConfig } from '../config/features.ts';
import { errDisallowedFields, type FieldError } from './field-error.ts';

export type Obj = Record<string, unknown>;

export const asObj = (v: unknown): Obj | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined);
export const asArr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
/** The objects of a list, skipping anything else (which parse.ts already rejects). */
export const asObjects = (v: unknown): Obj[] => asArr(v).flatMap((x): Obj[] => {
  const o = asObj(x);
  return o === undefined ? [] : [o];
});
export const asStr = (v: unknown): string => (typeof v === 'string' ? v : '');
export const asNum = (v: unknown): number => (typeof v === 'number' ? v : 0);
export const isPresent = (v: unknown): boolean => v !== undefined && v !== null;

const isZero = (v: unknown): boolean => v === false || v === 0 || v === '';

/** A struct's allow-list: which present keys are allowed, given their values. */
export interface Mask {
  /** Keys Knative copies into its masked struct (given the value, for "only false" rules). */
  readonly allowed: (key: string, value: unknown) => boolean;
  /** Go value-typed fields: their zero value counts as unset. */
  readonly valueKeys?: ReadonlySet<string>;
  /** Keys of an embedded (`json:",inline"`) struct: Knative reports them as the struct itself. */
  readonly inline?: ReadonlySet<string>;
}

const keys = (...k: string[]): ReadonlySet<string> => new Set(k);
const only = (set: ReadonlySet<string>) => (key: string): boolean => set.has(key);

/** Every set field outside the mask, in one "must not set the field(s)" error (paths relative to obj). */
export function checkDisallowed(obj: Obj | undefined, mask: Mask): FieldError | undefined {
  if (obj === undefined) return undefined;
  const names = new Set<string>();
  for (const [key, value] of Object.entries(obj)) {
    if (!isPresent(value)) continue;
    if (mask.valueKeys?.has(key) && isZero(value)) continue;
    if (mask.allowed(key, value)) continue;
    names.add(mask.inline?.has(key) ? '' : key);
  }
  return names.size > 0 ? errDisallowedFields(...[...names].sort()) : undefined;
}

const on = (flag: string): boolean => flag !== 'Disabled';

// --- pod spec ---------------------------------------------------------------------------------

/** Knative's own RevisionSpec fields, next to the inlined PodSpec. */
export const REVISION_SPEC_FIELDS = keys('containerConcurrency', 'timeoutSeconds', 'responseStartTimeoutSeconds', 'idleTimeoutSeconds');

const POD_SPEC_VALUE_KEYS = keys(
  'restartPolicy',
  'dnsPolicy',
  'serviceAccountName',
  'serviceAccount',
  'nodeName',
  'hostNetwork',
  'hostPID',
  'hostIPC',
  'hostname',
  'subdomain',
  'schedulerName',
  'priorityClassName',
);

const POD_SPEC_ALWAYS = keys('serviceAccountName', 'containers', 'volumes', 'imagePullSecrets', 'enableServiceLinks');

/** The pod fields a revision may set: a fixed list, plus one feature flag per optional field. */
export function revisionSpecMask(f: FeaturesConfig): Mask {
  const gated: Record<string, boolean> = {
    affinity: on(f.podSpecAffinity),
    topologySpreadConstraints: on(f.podSpecTopologySpreadConstraints),
    hostAliases: on(f.podSpecHostAliases),
    nodeSelector: on(f.podSpecNodeSelector),
    runtimeClassName: on(f.podSpecRuntimeClassName),
    tolerations: on(f.podSpecTolerations),
    // secure-pod-defaults lets the pod security context through; its own mask narrows it.
    securityContext: on(f.podSpecSecurityContext) || on(f.securePodDefaults),
    shareProcessNamespace: on(f.podSpecShareProcessNamespace),
    priorityClassName: on(f.podSpecPriorityClassName),
    schedulerName: on(f.podSpecSchedulerName),
    initContainers: on(f.podSpecInitContainers),
    dnsPolicy: on(f.podSpecDnsPolicy),
    dnsConfig: on(f.podSpecDnsConfig),
    hostIPC: on(f.podSpecHostIpc),
    hostPID: on(f.podSpecHostPid),
    hostNetwork: on(f.podSpecHostNetwork),
  };
  return {
    allowed: (key, value) =>
      POD_SPEC_ALWAYS.has(key) ||
      REVISION_SPEC_FIELDS.has(key) ||
      gated[key] === true ||
      // Only opting out of the token mount is allowed.
      (key === 'automountServiceAccountToken' && value === false),
    valueKeys: POD_SPEC_VALUE_KEYS,
  };
}

// --- containers -------------------------------------------------------------------------------

export const CONTAINER_MASK: Mask = {
  allowed: only(
    keys(
      'name',
      'args',
      'command',
      'env',
      'workingDir',
      'envFrom',
      'image',
      'imagePullPolicy',
      'livenessProbe',
      'ports',
      'readinessProbe',
      'resources',
      'securityContext',
      'startupProbe',
      'terminationMessagePath',
      'terminationMessagePolicy',
      'volumeMounts',
    ),
  ),
  valueKeys: keys('name', 'image', 'workingDir', 'terminationMessagePath', 'terminationMessagePolicy', 'imagePullPolicy', 'stdin', 'stdinOnce', 'tty'),
};

export const CONTAINER_PORT_MASK: Mask = {
  allowed: only(keys('containerPort', 'name', 'protocol')),
  valueKeys: keys('containerPort', 'name', 'protocol', 'hostPort', 'hostIP'),
};

export function volumeMountMask(f: FeaturesConfig): Mask {
  const allowed = keys('name', 'readOnly', 'mountPath', 'subPath');
  // Assumed from the kubernetes.podspec-volumes-mount-propagation flag (see the report).
  const propagation = on(f.podSpecVolumesMountPropagation);
  return {
    allowed: (key) => allowed.has(key) || (propagation && key === 'mountPropagation'),
    valueKeys: keys('name', 'readOnly', 'mountPath', 'subPath', 'subPathExpr'),
  };
}

export const PROBE_HANDLERS = keys('exec', 'httpGet', 'tcpSocket', 'grpc');
const PROBE_NUMBERS = keys('initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold');

export const PROBE_MASK: Mask = {
  allowed: (key) => PROBE_HANDLERS.has(key) || PROBE_NUMBERS.has(key),
  valueKeys: PROBE_NUMBERS,
  inline: PROBE_HANDLERS,
};

/** A sidecar's probes without multi-container probing: nothing may be set. */
export const EMPTY_PROBE_MASK: Mask = { allowed: () => false, valueKeys: PROBE_NUMBERS, inline: PROBE_HANDLERS };

export const HTTP_GET_MASK: Mask = { allowed: only(keys('host', 'path', 'scheme', 'httpHeaders', 'port')), valueKeys: keys('host', 'path', 'scheme') };
export const TCP_SOCKET_MASK: Mask = { allowed: only(keys('host', 'port')), valueKeys: keys('host') };
export const EXEC_MASK: Mask = { allowed: only(keys('command')) };
export const GRPC_MASK: Mask = { allowed: only(keys('port', 'service')), valueKeys: keys('port') };

export const ENV_VAR_MASK: Mask = { allowed: only(keys('name', 'value', 'valueFrom')), valueKeys: keys('name', 'value') };

export function envVarSourceMask(f: FeaturesConfig): Mask {
  const fieldRef = on(f.podSpecFieldRef);
  return { allowed: (key) => key === 'configMapKeyRef' || key === 'secretKeyRef' || (fieldRef && (key === 'fieldRef' || key === 'resourceFieldRef')) };
}

export const ENV_FROM_SOURCE_MASK: Mask = { allowed: only(keys('prefix', 'configMapRef', 'secretRef')), valueKeys: keys('prefix') };
/** ConfigMapEnvSource and SecretEnvSource: the inlined reference's name and `optional`. */
export const ENV_SOURCE_REF_MASK: Mask = { allowed: only(keys('name', 'optional')), valueKeys: keys('name') };

export const RESOURCES_MASK: Mask = { allowed: only(keys('limits', 'requests')) };

export const SECURITY_CONTEXT_MASK: Mask = {
  allowed: (key, value) =>
    ['capabilities', 'readOnlyRootFilesystem', 'runAsUser', 'runAsGroup', 'runAsNonRoot', 'allowPrivilegeEscalation', 'seccompProfile'].includes(key) ||
    // Only asking for an unprivileged container is allowed.
    (key === 'privileged' && value === false),
};

export function capabilitiesMask(f: FeaturesConfig): Mask {
  return {
    allowed: (key, value) => {
      if (key === 'drop') return true;
      if (key !== 'add') return false;
      if (f.containerSpecAddCapabilities === 'Enabled') return true;
      // Secure pod defaults may add NET_BIND_SERVICE, so that one alone stays allowed.
      return f.securePodDefaults === 'Enabled' && Array.isArray(value) && value.length === 1 && value[0] === 'NET_BIND_SERVICE';
    },
  };
}

export function podSecurityContextMask(f: FeaturesConfig): Mask {
  const full = keys('runAsUser', 'runAsGroup', 'runAsNonRoot', 'fsGroup', 'supplementalGroups', 'seccompProfile');
  return {
    allowed: (key, value) => {
      if (f.podSpecSecurityContext !== 'Disabled') return full.has(key);
      if (key !== 'seccompProfile' || f.securePodDefaults !== 'Enabled') return false;
      // With secure pod defaults the user may opt out again, with a bare type and nothing else.
      const sp = asObj(value);
      if (sp === undefined) return false;
      const type = sp['type'];
      return (type === 'RuntimeDefault' || type === 'Unconfined') && Object.entries(sp).every(([k, v]) => k === 'type' || !isPresent(v) || v === '');
    },
  };
}

// --- volumes ----------------------------------------------------------------------------------

/** Every VolumeSource member (inlined in a Volume): a source Knative does not know is disallowed. */
export const VOLUME_SOURCES = keys(
  'hostPath',
  'emptyDir',
  'gcePersistentDisk',
  'awsElasticBlockStore',
  'gitRepo',
  'secret',
  'nfs',
  'iscsi',
  'glusterfs',
  'persistentVolumeClaim',
  'rbd',
  'flexVolume',
  'cinder',
  'cephfs',
  'flocker',
  'downwardAPI',
  'fc',
  'azureFile',
  'configMap',
  'vsphereVolume',
  'quobyte',
  'azureDisk',
  'photonPersistentDisk',
  'projected',
  'portworxVolume',
  'scaleIO',
  'storageos',
  'csi',
  'ephemeral',
  'image',
);

/** Volume itself: a name and one source; anything else is unknown to Go. */
export const VOLUME_MASK: Mask = { allowed: (key) => key === 'name' || VOLUME_SOURCES.has(key), valueKeys: keys('name') };

export function volumeSourceMask(f: FeaturesConfig): Mask {
  const allowed = new Set(['secret', 'configMap', 'projected']);
  if (on(f.podSpecVolumesEmptyDir)) allowed.add('emptyDir');
  if (on(f.podSpecPersistentVolumeClaim)) allowed.add('persistentVolumeClaim');
  if (on(f.podSpecVolumesHostPath)) allowed.add('hostPath');
  // Assumed from the kubernetes.podspec-volumes-csi / -image flags (see the report).
  if (on(f.podSpecVolumesCsi)) allowed.add('csi');
  if (on(f.podSpecVolumesImage)) allowed.add('image');
  // Only the source members are judged here; other keys belong to VOLUME_MASK.
  return { allowed: (key) => !VOLUME_SOURCES.has(key) || allowed.has(key) };
}

export const VOLUME_PROJECTION_MASK: Mask = { allowed: only(keys('secret', 'configMap', 'serviceAccountToken', 'downwardAPI')) };
/** ConfigMapProjection and SecretProjection. */
export const PROJECTION_REF_MASK: Mask = { allowed: only(keys('name', 'items', 'optional')), valueKeys: keys('name') };
export const SA_TOKEN_PROJECTION_MASK: Mask = { allowed: only(keys('audience', 'expirationSeconds', 'path')), valueKeys: keys('audience', 'path') };
export const DOWNWARD_API_PROJECTION_MASK: Mask = { allowed: only(keys('items')) };
export const DOWNWARD_API_FILE_MASK: Mask = { allowed: only(keys('fieldRef', 'resourceFieldRef', 'path', 'mode')), valueKeys: keys('path') };
export const KEY_TO_PATH_MASK: Mask = { allowed: only(keys('key', 'path', 'mode')), valueKeys: keys('key', 'path') };
