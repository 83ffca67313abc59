// Validation of the pod part of a revision (Knative's k8s_validation.go): the allow-listed pod
// fields, volumes and their mounts, init containers, the serving container and sidecars, ports,
// environment, probes and security contexts, plus the warnings about insecure security
// defaults. Paths are relative to the revision spec; the caller adds `spec` and above.
//
// The structure follows Knative's closely, including where it adds a path prefix to every
// error gathered so far rather than just the new one (duplicate container names, envFrom
// references): those paths are what Knative reports, so they are kept.
import type { FeaturesConfig } from '../config/features.ts';
import { isDNS1123Label, isDNS1123Subdomain } from './dns-validation.ts';
import {
  also,
  errGeneric,
  errInvalidValue,
  errMissingField,
  errMissingOneOf,
  errMultipleOneOf,
  errOutOfBoundsValue,
  FieldError,
} from './field-error.ts';
import {
  asArr,
  asNum,
  asObj,
  asStr,
  capabilitiesMask,
  checkDisallowed,
  CONTAINER_MASK,
  CONTAINER_PORT_MASK,
  DOWNWARD_API_FILE_MASK,
  DOWNWARD_API_PROJECTION_MASK,
  EMPTY_PROBE_MASK,
  ENV_FROM_SOURCE_MASK,
  ENV_SOURCE_REF_MASK,
  ENV_VAR_MASK,
  envVarSourceMask,
  EXEC_MASK,
  GRPC_MASK,
  HTTP_GET_MASK,
  isPresent,
  KEY_TO_PATH_MASK,
  type Mask,
  type Obj,
  podSecurityContextMask,
  PROBE_MASK,
  PROJECTION_REF_MASK,
  RESOURCES_MASK,
  revisionSpecMask,
  SA_TOKEN_PROJECTION_MASK,
  SECURITY_CONTEXT_MASK,
  TCP_SOCKET_MASK,
  VOLUME_MASK,
  VOLUME_PROJECTION_MASK,
  volumeMountMask,
  volumeSourceMask,
} from './field-masks.ts';
import { imageReferenceError } from './image-reference.ts';

const MAX_INT32 = 2 ** 31 - 1;

/** Ports of queue-proxy (8012, 8013, 8022, 9090, 9091) and the profiling port (8008). */
export const RESERVED_PORTS: ReadonlySet<number> = new Set([8012, 8013, 8022, 9090, 9091, 8008]);
export const RESERVED_CONTAINER_NAMES: ReadonlySet<string> = new Set(['queue-proxy']);
export const RESERVED_ENV_VARS: ReadonlySet<string> = new Set(['PORT', 'K_SERVICE', 'K_CONFIGURATION', 'K_REVISION']);
// Sidecars and init containers may set PORT: only the serving container gets it injected.
const RESERVED_SIDECAR_ENV_VARS: ReadonlySet<string> = new Set(['K_SERVICE', 'K_CONFIGURATION', 'K_REVISION']);
// The serving port's name selects the protocol; nothing else is accepted.
const VALID_PORT_NAMES: ReadonlySet<string> = new Set(['h2c', 'http1', '']);
// Mount paths that would hide what the container needs to run.
const RESERVED_PATHS: ReadonlySet<string> = new Set(['/', '/dev', '/dev/log']);

const INSECURE_DEFAULT = 'Kubernetes default value is insecure, Knative may default this to secure in a future release';
const INIT_FIELD_NOT_ALLOWED = 'field not allowed in an init container';

/** Where a container sits: it decides PORT's reservation and which checks apply. */
type ContainerRole = 'serving' | 'sidecar' | 'init';

/** The serving port as probes see it: Knative's defaults when unset. */
interface ServingPort {
  readonly name: string;
  readonly containerPort: number;
}

type Volumes = ReadonlyMap<string, Obj>;

const pathless = (message: string): FieldError => FieldError.of(message, []);

/** Validates a revision's pod spec (with Knative's own fields), every problem at once. */
export function validatePodSpec(ps: Obj, f: FeaturesConfig): FieldError | undefined {
  const containers = asArr(ps['containers']).map((c) => asObj(c) ?? {});
  const inits = asArr(ps['initContainers']).map((c) => asObj(c) ?? {});
  const psc = asObj(ps['securityContext']);

  let errs = checkDisallowed(ps, revisionSpecMask(f));
  errs = also(errs, validatePodSecurityContext(psc, f)?.viaField('securityContext'));
  containers.forEach((c, i) => {
    errs = also(errs, warnDefaultContainerSecurityContext(psc, asObj(c['securityContext']))?.viaField('securityContext').viaFieldIndex('containers', i));
  });
  inits.forEach((c, i) => {
    errs = also(errs, warnDefaultContainerSecurityContext(psc, asObj(c['securityContext']))?.viaField('securityContext').viaFieldIndex('initContainers', i));
  });

  const { volumes, errs: volumeErrs } = validateVolumes(asArr(ps['volumes']), allMountedVolumes([...inits, ...containers]), f);
  errs = also(errs, volumeErrs?.viaField('volumes'));
  errs = also(errs, validateInitContainers(inits, containers, volumes, f));

  const { port, errs: portErrs } = validateContainersPorts(containers);
  errs = also(errs, portErrs?.viaField('containers[*]'));

  const [first] = containers;
  if (first === undefined) errs = also(errs, errMissingField('containers'));
  else if (containers.length === 1) errs = also(errs, validateServingContainer(first, volumes, port, f)?.viaFieldIndex('containers', 0));
  else errs = also(errs, validateContainers(containers, volumes, port, f));

  const sa = asStr(ps['serviceAccountName']);
  if (sa !== '') for (const problem of isDNS1123Subdomain(sa)) errs = also(errs, errInvalidValue(sa, 'serviceAccountName', problem));
  return errs;
}

function allMountedVolumes(containers: readonly Obj[]): Set<string> {
  const names = new Set<string>();
  for (const c of containers) for (const vm of asArr(c['volumeMounts'])) names.add(asStr(asObj(vm)?.['name']));
  return names;
}

// --- containers -------------------------------------------------------------------------------

/**
 * The serving port: ports[0] of the (last) container that has ports, `http`/8080 when unset.
 * More than one port across all containers is an error; so is none among several containers.
 */
function validateContainersPorts(containers: readonly Obj[]): { port: ServingPort; errs: FieldError | undefined } {
  let count = 0;
  let chosen: Obj = {};
  for (const c of containers) {
    const ports = asArr(c['ports']);
    if (ports.length > 0) {
      count += ports.length;
      chosen = asObj(ports[0]) ?? {};
    }
  }
  const port = { name: asStr(chosen['name']) || 'http', containerPort: asNum(chosen['containerPort']) || 8080 };
  if (count === 0 && containers.length > 1) return { port, errs: errMissingField('ports') };
  if (count > 1) return { port, errs: FieldError.of('more than one container port is set', ['ports'], 'Only a single port is allowed across all containers') };
  return { port, errs: undefined };
}

function validateContainers(containers: readonly Obj[], volumes: Volumes, port: ServingPort, f: FeaturesConfig): FieldError | undefined {
  if (f.multiContainer !== 'Enabled') return pathless(`multi-container is off, but found ${containers.length} containers`);
  const names = new Set<string>();
  let errs: FieldError | undefined;
  containers.forEach((c, i) => {
    const name = asStr(c['name']);
    if (names.has(name)) {
      // Knative prefixes everything gathered so far here, not just the new error.
      errs = also(errs, FieldError.of(`duplicate container name ${JSON.stringify(name)}`, ['name']))?.viaFieldIndex('containers', i);
    } else {
      names.add(name);
    }
    const problems = asArr(c['ports']).length === 0 ? validateSidecarContainer(c, volumes, f) : validateServingContainer(c, volumes, port, f);
    errs = also(errs, problems?.viaFieldIndex('containers', i));
  });
  return errs;
}

function validateInitContainers(inits: readonly Obj[], others: readonly Obj[], volumes: Volumes, f: FeaturesConfig): FieldError | undefined {
  if (inits.length === 0) return undefined;
  if (f.podSpecInitContainers !== 'Enabled') return pathless(`pod spec support for init-containers is off, but found ${inits.length} init containers`);
  const names = new Set(others.map((c) => asStr(c['name'])));
  let errs: FieldError | undefined;
  // Knative files init containers under `containers[i]`, and checks names against the
  // serving and sidecar containers only.
  inits.forEach((c, i) => {
    const name = asStr(c['name']);
    if (names.has(name)) errs = also(errs, FieldError.of(`duplicate container name ${JSON.stringify(name)}`, ['name']))?.viaFieldIndex('containers', i);
    errs = also(errs, validateInitContainer(c, volumes, f)?.viaFieldIndex('containers', i));
  });
  return errs;
}

function validateServingContainer(c: Obj, volumes: Volumes, port: ServingPort, f: FeaturesConfig): FieldError | undefined {
  return also(
    validateProbe(asObj(c['livenessProbe']), port)?.viaField('livenessProbe'),
    validateReadinessProbe(asObj(c['readinessProbe']), port)?.viaField('readinessProbe'),
    validateContainer(c, volumes, 'serving', f),
  );
}

function validateSidecarContainer(c: Obj, volumes: Volumes, f: FeaturesConfig): FieldError | undefined {
  let errs: FieldError | undefined;
  if (f.multiContainerProbing !== 'Enabled') {
    // Without multi-container probing nobody would run a sidecar's probes: none may be set.
    errs = also(
      checkDisallowed(asObj(c['livenessProbe']), EMPTY_PROBE_MASK)?.viaField('livenessProbe'),
      checkDisallowed(asObj(c['readinessProbe']), EMPTY_PROBE_MASK)?.viaField('readinessProbe'),
    );
  } else {
    errs = also(
      validateProbe(asObj(c['livenessProbe']), undefined)?.viaField('livenessProbe'),
      validateReadinessProbe(asObj(c['readinessProbe']), undefined)?.viaField('readinessProbe'),
    );
  }
  return also(errs, validateContainer(c, volumes, 'sidecar', f));
}

function validateInitContainer(c: Obj, volumes: Volumes, f: FeaturesConfig): FieldError | undefined {
  // Kubernetes rejects these on init containers; say so before it does.
  const errs = ['livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle']
    .filter((k) => isPresent(c[k]))
    .map((k) => FieldError.of(INIT_FIELD_NOT_ALLOWED, [k]));
  return also(...errs, validateContainer(c, volumes, 'init', f));
}

/** A container with nothing set (Go's zero Container). */
function isEmptyContainer(c: Obj): boolean {
  return Object.entries(c).every(([k, v]) => {
    if (!isPresent(v)) return true;
    if (CONTAINER_MASK.valueKeys?.has(k) && (v === '' || v === false || v === 0)) return true;
    return k === 'resources' && Object.values(asObj(v) ?? { x: 1 }).every((x) => !isPresent(x));
  });
}

function validateContainer(c: Obj, volumes: Volumes, role: ContainerRole, f: FeaturesConfig): FieldError | undefined {
  if (isEmptyContainer(c)) return errMissingField('');
  let errs = checkDisallowed(c, CONTAINER_MASK);
  const name = asStr(c['name']);
  if (RESERVED_CONTAINER_NAMES.has(name)) errs = also(errs, FieldError.of(`${JSON.stringify(name)} is a reserved container name`, ['name']));
  errs = also(errs, validateEnv(asArr(c['env']), role, f)?.viaField('env'));
  errs = also(errs, validateEnvFrom(asArr(c['envFrom']))?.viaField('envFrom'));
  const image = asStr(c['image']);
  if (image === '') {
    errs = also(errs, errMissingField('image'));
  } else {
    const problem = imageReferenceError(image);
    if (problem !== undefined) errs = also(errs, FieldError.of('Failed to parse image reference', ['image'], `image: ${JSON.stringify(image)}, error: ${problem}`));
  }
  const ports = asArr(c['ports']).map((p) => asObj(p) ?? {});
  // An init container's ports are only checked for the basics, all under `ports`.
  if (role === 'init') errs = also(errs, ...ports.map((p) => validateContainerPortBasic(p)?.viaField('ports')));
  else errs = also(errs, validateContainerPorts(ports)?.viaField('ports'));
  errs = also(errs, checkDisallowed(asObj(c['resources']), RESOURCES_MASK)?.viaField('resources'));
  errs = also(errs, validateSecurityContext(asObj(c['securityContext']), f)?.viaField('securityContext'));
  const policy = c['terminationMessagePolicy'];
  if (isPresent(policy) && policy !== '' && policy !== 'File' && policy !== 'FallbackToLogsOnError') {
    errs = also(errs, errInvalidValue(policy, 'terminationMessagePolicy'));
  }
  errs = also(errs, validateVolumeMounts(asArr(c['volumeMounts']), volumes, f)?.viaField('volumeMounts'));
  return errs;
}

function validateEnv(env: readonly unknown[], role: ContainerRole, f: FeaturesConfig): FieldError | undefined {
  const reserved = role === 'serving' ? RESERVED_ENV_VARS : RESERVED_SIDECAR_ENV_VARS;
  const sourceMask = envVarSourceMask(f);
  return also(
    ...env.map((raw, i) => {
      const e = asObj(raw) ?? {};
      const name = asStr(e['name']);
      let errs = checkDisallowed(e, ENV_VAR_MASK);
      if (name === '') errs = also(errs, errMissingField('name'));
      else if (reserved.has(name)) errs = also(errs, FieldError.of(`${JSON.stringify(name)} is a reserved environment variable`, ['name']));
      errs = also(errs, checkDisallowed(asObj(e['valueFrom']), sourceMask)?.viaField('valueFrom'));
      return errs?.viaIndex(i);
    }),
  );
}

function validateEnvFrom(list: readonly unknown[]): FieldError | undefined {
  let errs: FieldError | undefined;
  list.forEach((raw, i) => {
    const ef = asObj(raw) ?? {};
    errs = also(errs, checkDisallowed(ef, ENV_FROM_SOURCE_MASK)?.viaIndex(i));
    const cm = asObj(ef['configMapRef']);
    const sm = asObj(ef['secretRef']);
    // As in Knative, the reference's index and field prefix everything gathered so far.
    if (sm !== undefined) errs = also(errs, checkDisallowed(sm, ENV_SOURCE_REF_MASK)?.viaIndex(i))?.viaIndex(i).viaField('secretRef');
    if (cm !== undefined) errs = also(errs, checkDisallowed(cm, ENV_SOURCE_REF_MASK)?.viaIndex(i))?.viaIndex(i).viaField('configMapRef');
    if (cm !== undefined && sm !== undefined) errs = also(errs, errMultipleOneOf('configMapRef', 'secretRef'));
    else if (cm === undefined && sm === undefined) errs = also(errs, errMissingOneOf('configMapRef', 'secretRef'));
  });
  return errs;
}

/** Only the first port counts: it is the one queue-proxy forwards to. */
function validateContainerPorts(ports: readonly Obj[]): FieldError | undefined {
  const [userPort] = ports;
  if (userPort === undefined) return undefined;
  let errs = validateContainerPortBasic(userPort);
  const protocol = asStr(userPort['protocol']);
  if (protocol !== '' && protocol !== 'TCP') errs = also(errs, errInvalidValue(protocol, 'protocol'));
  const name = asStr(userPort['name']);
  if (!VALID_PORT_NAMES.has(name)) {
    errs = also(errs, FieldError.of(`Port name ${name} is not allowed`, [''], "Name must be empty, or one of: 'h2c', 'http1'"));
  }
  return errs;
}

function validateContainerPortBasic(port: Obj): FieldError | undefined {
  let errs = checkDisallowed(port, CONTAINER_PORT_MASK);
  const p = asNum(port['containerPort']);
  if (RESERVED_PORTS.has(p)) errs = also(errs, errInvalidValue(`${p} is a reserved port`, 'containerPort', `${p} is a reserved port, please use a different value`));
  if (p < 0 || p > 65535) errs = also(errs, errOutOfBoundsValue(p, 0, 65535, 'containerPort'));
  return errs;
}

function validateSecurityContext(sc: Obj | undefined, f: FeaturesConfig): FieldError | undefined {
  if (sc === undefined) return undefined;
  let errs = checkDisallowed(sc, SECURITY_CONTEXT_MASK);
  errs = also(errs, checkDisallowed(asObj(sc['capabilities']), capabilitiesMask(f))?.viaField('capabilities'));
  return also(errs, idBounds(sc, 'runAsUser'), idBounds(sc, 'runAsGroup'));
}

/** User and group IDs are int32 ≥ 0. */
function idBounds(sc: Obj, key: string): FieldError | undefined {
  const v = sc[key];
  return typeof v === 'number' && (v < 0 || v > MAX_INT32) ? errOutOfBoundsValue(v, 0, MAX_INT32, key) : undefined;
}

function validatePodSecurityContext(sc: Obj | undefined, f: FeaturesConfig): FieldError | undefined {
  if (sc === undefined) return undefined;
  let errs = also(checkDisallowed(sc, podSecurityContextMask(f)), idBounds(sc, 'runAsUser'), idBounds(sc, 'runAsGroup'), idBounds(sc, 'fsGroup'));
  asArr(sc['supplementalGroups']).forEach((gid, i) => {
    if (typeof gid === 'number' && (gid < 0 || gid > MAX_INT32)) errs = also(errs, errOutOfBoundsValue(gid, 0, MAX_INT32, '').viaFieldIndex('supplementalGroups', i));
  });
  return errs;
}

/**
 * Warnings for security settings left at Kubernetes' insecure defaults (the "restricted"
 * profile forbids them); the pod-level context counts where Kubernetes would use it.
 */
function warnDefaultContainerSecurityContext(psc: Obj | undefined, sc: Obj | undefined): FieldError | undefined {
  const pod = psc ?? {};
  const ctr = sc ?? {};
  const insecure = (path: string): FieldError => errGeneric(INSECURE_DEFAULT, path).at('warning');
  const warnings: FieldError[] = [];
  if (!isPresent(pod['runAsNonRoot']) && !isPresent(ctr['runAsNonRoot'])) warnings.push(insecure('runAsNonRoot'));
  if (!isPresent(ctr['allowPrivilegeEscalation'])) warnings.push(insecure('allowPrivilegeEscalation'));
  const podSeccomp = asObj(pod['seccompProfile']);
  const ctrSeccomp = asObj(ctr['seccompProfile']);
  if (podSeccomp === undefined && ctrSeccomp === undefined) warnings.push(insecure('seccompProfile'));
  else if (asStr(podSeccomp?.['type']) === '' && asStr(ctrSeccomp?.['type']) === '') warnings.push(insecure('seccompProfile.type'));
  const caps = asObj(ctr['capabilities']);
  if (caps === undefined) {
    warnings.push(insecure('capabilities'));
  } else if (!isPresent(caps['drop'])) {
    warnings.push(insecure('capabilities.drop'));
  } else if (asArr(caps['drop'])[0] === 'all') {
    // "all" in lower case drops nothing.
    warnings.push(errInvalidValue('all', 'capabilities.drop', "Must be spelled as 'ALL'").at('warning'));
  }
  return also(...warnings);
}

// --- probes -----------------------------------------------------------------------------------

/** A probe's handlers in Knative's order, with the name its "got both" error uses. */
const PROBE_HANDLER_CHECKS: readonly { field: string; name: string; mask: Mask; namedPort: boolean }[] = [
  { field: 'httpGet', name: 'httpGet', mask: HTTP_GET_MASK, namedPort: true },
  { field: 'tcpSocket', name: 'tcpSocket', mask: TCP_SOCKET_MASK, namedPort: true },
  { field: 'exec', name: 'exec', mask: EXEC_MASK, namedPort: false },
  { field: 'grpc', name: 'gRPC', mask: GRPC_MASK, namedPort: false },
];

/**
 * A probe's handler and fields. `port` is the serving port for the serving container (a named
 * probe port must be its name); undefined for sidecars, whose probes must name a port.
 */
function validateProbe(p: Obj | undefined, port: ServingPort | undefined): FieldError | undefined {
  if (p === undefined) return undefined;
  let errs = checkDisallowed(p, PROBE_MASK);
  const handlers: string[] = [];
  const portCheck = (action: Obj, path: string): FieldError | undefined => {
    const v = action['port'];
    const text = typeof v === 'string' ? v : String(asNum(v));
    if (port !== undefined) {
      return typeof v === 'string' && v !== '' && v !== port.name ? errInvalidValue(text, path, 'Probe port must match container port') : undefined;
    }
    return (typeof v !== 'string' || v === '') && asNum(v) === 0 ? errInvalidValue(text, path, 'Probe port must be specified') : undefined;
  };
  for (const h of PROBE_HANDLER_CHECKS) {
    const action = asObj(p[h.field]);
    if (action === undefined) continue;
    handlers.push(h.name);
    // As in Knative, each handler's field prefixes everything gathered before it.
    errs = also(errs, checkDisallowed(action, h.mask))?.viaField(h.field);
    if (h.namedPort) errs = also(errs, portCheck(action, `${h.field}.port`));
  }
  if (handlers.length === 0) errs = also(errs, errMissingOneOf(...PROBE_HANDLER_CHECKS.map((h) => h.field)));
  else if (handlers.length > 1) errs = also(errs, errMultipleOneOf(...handlers));
  return errs;
}

/**
 * Readiness adds bounds. periodSeconds 0 selects Knative's aggressive probing (queue-proxy retries
 * within one request), where failureThreshold and timeoutSeconds have no meaning.
 */
function validateReadinessProbe(p: Obj | undefined, port: ServingPort | undefined): FieldError | undefined {
  if (p === undefined) return undefined;
  let errs = validateProbe(p, port);
  const period = asNum(p['periodSeconds']);
  const initialDelay = asNum(p['initialDelaySeconds']);
  const success = asNum(p['successThreshold']);
  const failure = asNum(p['failureThreshold']);
  const timeout = asNum(p['timeoutSeconds']);
  if (period < 0) errs = also(errs, errOutOfBoundsValue(period, 0, MAX_INT32, 'periodSeconds'));
  if (initialDelay < 0) errs = also(errs, errOutOfBoundsValue(initialDelay, 0, MAX_INT32, 'initialDelaySeconds'));
  if (success < 1) errs = also(errs, errOutOfBoundsValue(success, 1, MAX_INT32, 'successThreshold'));
  if (period === 0) {
    if (failure !== 0) errs = also(errs, FieldError.of('failureThreshold is disallowed when periodSeconds is zero', ['failureThreshold']));
    if (timeout !== 0) errs = also(errs, FieldError.of('timeoutSeconds is disallowed when periodSeconds is zero', ['timeoutSeconds']));
  } else {
    if (timeout < 1) errs = also(errs, errOutOfBoundsValue(timeout, 1, MAX_INT32, 'timeoutSeconds'));
    if (failure < 1) errs = also(errs, errOutOfBoundsValue(failure, 1, MAX_INT32, 'failureThreshold'));
  }
  return errs;
}

// --- volumes ----------------------------------------------------------------------------------

function validateVolumes(list: readonly unknown[], mounted: ReadonlySet<string>, f: FeaturesConfig): { volumes: Volumes; errs: FieldError | undefined } {
  const volumes = new Map<string, Obj>();
  let errs: FieldError | undefined;
  list.forEach((raw, i) => {
    const v = asObj(raw) ?? {};
    const name = asStr(v['name']);
    if (volumes.has(name)) errs = also(errs, FieldError.of(`duplicate volume name ${JSON.stringify(name)}`, ['name']).viaIndex(i));
    if (!mounted.has(name)) errs = also(errs, FieldError.of(`volume with name ${JSON.stringify(name)} not mounted`, ['name']).viaIndex(i));
    errs = also(errs, validateVolume(v, f)?.viaIndex(i));
    volumes.set(name, v);
  });
  return { volumes, errs };
}

function validateVolume(v: Obj, f: FeaturesConfig): FieldError | undefined {
  const name = asStr(v['name']);
  let errs = validatePersistentVolumeClaim(asObj(v['persistentVolumeClaim']), f);
  if (isPresent(v['emptyDir']) && f.podSpecVolumesEmptyDir !== 'Enabled') errs = also(errs, pathless(`EmptyDir volume support is disabled, but found EmptyDir volume ${name}`));
  if (isPresent(v['hostPath']) && f.podSpecVolumesHostPath !== 'Enabled') errs = also(errs, pathless(`HostPath volume support is disabled, but found HostPath volume ${name}`));
  errs = also(errs, checkDisallowed(v, VOLUME_MASK));
  // Knative replaces what it found so far when the name is missing or invalid.
  if (name === '') errs = errMissingField('name');
  else if (isDNS1123Label(name).length > 0) errs = errInvalidValue(name, 'name');
  errs = also(errs, checkDisallowed(v, volumeSourceMask(f)));

  const specified: string[] = [];
  const secret = asObj(v['secret']);
  if (secret !== undefined) {
    specified.push('secret');
    errs = also(errs, ...keyToPathErrors(secret));
  }
  const configMap = asObj(v['configMap']);
  if (configMap !== undefined) {
    specified.push('configMap');
    errs = also(errs, ...keyToPathErrors(configMap));
  }
  const projected = asObj(v['projected']);
  if (projected !== undefined) {
    specified.push('projected');
    asArr(projected['sources']).forEach((src, i) => {
      errs = also(errs, validateProjection(asObj(src) ?? {})?.viaFieldIndex('projected', i));
    });
  }
  const emptyDir = asObj(v['emptyDir']);
  if (emptyDir !== undefined) {
    specified.push('emptyDir');
    errs = also(errs, validateEmptyDir(emptyDir)?.viaField('emptyDir'));
  }
  if (isPresent(v['persistentVolumeClaim'])) specified.push('persistentVolumeClaim');
  if (isPresent(v['hostPath'])) specified.push('hostPath');
  if (isPresent(v['csi'])) specified.push('csi');
  if (isPresent(v['image'])) specified.push('image');

  if (specified.length === 0) {
    const oneOf = ['secret', 'configMap', 'projected'];
    if (f.podSpecVolumesEmptyDir === 'Enabled') oneOf.push('emptyDir');
    if (f.podSpecPersistentVolumeClaim === 'Enabled') oneOf.push('persistentVolumeClaim');
    if (f.podSpecVolumesHostPath === 'Enabled') oneOf.push('hostPath');
    if (f.podSpecVolumesCsi === 'Enabled') oneOf.push('csi');
    if (f.podSpecVolumesImage === 'Enabled') oneOf.push('image');
    errs = also(errs, errMissingOneOf(...oneOf));
  } else if (specified.length > 1) {
    errs = also(errs, errMultipleOneOf(...specified));
  }
  return errs;
}

function validatePersistentVolumeClaim(pvc: Obj | undefined, f: FeaturesConfig): FieldError | undefined {
  if (pvc === undefined) return undefined;
  const claim = asStr(pvc['claimName']);
  let errs: FieldError | undefined;
  if (f.podSpecPersistentVolumeClaim !== 'Enabled') errs = pathless(`Persistent volume claim support is disabled, but found persistent volume claim ${claim}`);
  if (pvc['readOnly'] !== true && f.podSpecPersistentVolumeWrite !== 'Enabled') {
    errs = also(errs, pathless(`Persistent volume write support is disabled, but found persistent volume claim ${claim} that is not read-only`));
  }
  return errs;
}

function keyToPathErrors(source: Obj): (FieldError | undefined)[] {
  return asArr(source['items']).map((item, i) => validateKeyToPath(asObj(item) ?? {})?.viaFieldIndex('items', i));
}

function validateKeyToPath(k: Obj): FieldError | undefined {
  let errs = checkDisallowed(k, KEY_TO_PATH_MASK);
  if (asStr(k['key']) === '') errs = also(errs, errMissingField('key'));
  if (asStr(k['path']) === '') errs = also(errs, errMissingField('path'));
  return errs;
}

function validateProjection(src: Obj): FieldError | undefined {
  let errs = checkDisallowed(src, VOLUME_PROJECTION_MASK);
  const specified: string[] = [];
  const refProjection = (ref: Obj): FieldError | undefined => {
    let e = checkDisallowed(ref, PROJECTION_REF_MASK);
    if (asStr(ref['name']) === '') e = also(e, errMissingField('name'));
    return also(e, ...keyToPathErrors(ref));
  };
  const secret = asObj(src['secret']);
  if (secret !== undefined) {
    specified.push('secret');
    errs = also(errs, refProjection(secret)?.viaField('secret'));
  }
  const configMap = asObj(src['configMap']);
  if (configMap !== undefined) {
    specified.push('configMap');
    errs = also(errs, refProjection(configMap)?.viaField('configMap'));
  }
  const token = asObj(src['serviceAccountToken']);
  if (token !== undefined) {
    specified.push('serviceAccountToken');
    let e = checkDisallowed(token, SA_TOKEN_PROJECTION_MASK);
    if (asStr(token['path']) === '') e = also(e, errMissingField('path'));
    errs = also(errs, e?.viaField('serviceAccountToken'));
  }
  const downward = asObj(src['downwardAPI']);
  if (downward !== undefined) {
    specified.push('downwardAPI');
    const items = asArr(downward['items']).map((item, i) => validateDownwardAPIFile(asObj(item) ?? {})?.viaFieldIndex('items', i));
    errs = also(errs, also(checkDisallowed(downward, DOWNWARD_API_PROJECTION_MASK), ...items)?.viaField('downwardAPI'));
  }
  if (specified.length === 0) errs = also(errs, errMissingOneOf('secret', 'configMap', 'serviceAccountToken', 'downwardAPI'));
  else if (specified.length > 1) errs = also(errs, errMultipleOneOf(...specified));
  return errs;
}

function validateDownwardAPIFile(file: Obj): FieldError | undefined {
  let errs = checkDisallowed(file, DOWNWARD_API_FILE_MASK);
  const fieldRef = isPresent(file['fieldRef']);
  const resourceFieldRef = isPresent(file['resourceFieldRef']);
  if (!fieldRef && !resourceFieldRef) errs = also(errs, errMissingOneOf('fieldRef', 'resourceFieldRef'));
  if (fieldRef && resourceFieldRef) errs = also(errs, errGeneric('Within a single item, cannot set both', 'resourceFieldRef', 'fieldRef'));
  if (asStr(file['path']) === '') errs = also(errs, errMissingField('path'));
  return errs;
}

function validateEmptyDir(dir: Obj): FieldError | undefined {
  let errs: FieldError | undefined;
  const medium = asStr(dir['medium']);
  if (medium !== '' && medium !== 'Memory') errs = errInvalidValue(medium, 'medium');
  const size = dir['sizeLimit'];
  if (isPresent(size) && quantitySign(size) < 0) errs = also(errs, errInvalidValue(size, 'sizeLimit'));
  return errs;
}

/** The sign of a Kubernetes quantity (`-1Gi` → -1); 0 when it is not a number at all. */
function quantitySign(q: unknown): number {
  if (typeof q === 'number') return Math.sign(q);
  const m = /^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))/.exec(asStr(q));
  return m?.[1] === undefined ? 0 : Math.sign(Number(m[1]));
}

function validateVolumeMounts(mounts: readonly unknown[], volumes: Volumes, f: FeaturesConfig): FieldError | undefined {
  const mask = volumeMountMask(f);
  const seenPaths = new Set<string>();
  return also(
    ...mounts.map((raw, i) => {
      const vm = asObj(raw) ?? {};
      const name = asStr(vm['name']);
      const mountPath = asStr(vm['mountPath']);
      const readOnly = vm['readOnly'] === true;
      const volume = volumes.get(name);
      let errs = checkDisallowed(vm, mask);
      // This also catches an empty name: a volume always has one.
      if (volume === undefined) errs = also(errs, FieldError.of('volumeMount has no matching volume', ['name']));
      const clean = cleanPath(mountPath);
      if (mountPath === '') errs = also(errs, errMissingField('mountPath'));
      else if (RESERVED_PATHS.has(clean)) errs = also(errs, FieldError.of(`mountPath ${JSON.stringify(clean)} is a reserved path`, ['mountPath']));
      else if (!mountPath.startsWith('/')) errs = also(errs, errInvalidValue(mountPath, 'mountPath'));
      else if (seenPaths.has(clean)) errs = also(errs, errInvalidValue(`${JSON.stringify(mountPath)} must be unique`, 'mountPath'));
      seenPaths.add(clean);
      // Only emptyDir and persistent volume claims may be written to.
      const writable = isPresent(volume?.['emptyDir']) || isPresent(volume?.['persistentVolumeClaim']);
      if (!writable && !readOnly) errs = also(errs, FieldError.of('volume mount should be readOnly for this type of volume', ['readOnly']));
      if (asObj(volume?.['persistentVolumeClaim'])?.['readOnly'] === true && !readOnly) {
        errs = also(errs, FieldError.of('volume is readOnly but volume mount is not', ['readOnly']));
      }
      return errs?.viaIndex(i);
    }),
  );
}

/** Go's path.Clean: the shortest equivalent path, without `.`, `..`, doubled or trailing slashes. */
function cleanPath(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
    } else {
      out.push(part);
    }
  }
  const joined = out.join('/');
  if (rooted) return `/${joined}`;
  return joined === '' ? '.' : joined;
}
