// Defaulting of serving resources, as Knative's mutating webhook does it (spec §5.2, its
// *_defaults.go): revision timeouts, container concurrency, container names from the name
// templates, resource requests and limits, readiness probe defaults for the serving container,
// enableServiceLinks, read-only mounts of non-writable volumes, secure pod defaults, traffic
// defaults, and the creator/lastModifier annotations. Works on a deep copy; the input is
// never changed.
//
// Knative does not default ports: the serving container's port 8080 and the probe's port are
// filled in when the Deployment is built, not here.
import { objectMetaTemplateData, type ObjectMetaLike } from '../config/defaults.ts';
import type { EffectiveConfig } from '../config/configmaps.ts';
import type { FeaturesConfig } from '../config/features.ts';
import { parseTemplate, TemplateError } from '../config/go-template.ts';
import { childName } from '../config/k8s-names.ts';
import { asArr, asObj, asObjects, asStr, isPresent, PROBE_HANDLERS, type Obj } from './field-masks.ts';
import { CREATOR_ANNOTATION, UPDATER_ANNOTATION } from './metadata-validation.ts';
import { DEFAULT_SERVICE_TRAFFIC } from './routes.ts';
import type { ObjectMeta, RevisionTemplateSpec, RouteSpec, ServingResource } from './types.ts';
import { jsonEqual } from './json-diff.ts';

export interface DefaultsOptions {
  /** Knative defaults some fields only on create (enableServiceLinks), and never a Revision on update. */
  readonly operation?: 'CREATE' | 'UPDATE';
  /** The stored object, on update. */
  readonly old?: ServingResource;
  /** The requesting user, recorded in the creator and lastModifier annotations. */
  readonly username?: string;
}

/** Returns a defaulted deep copy of the resource. */
export function setDefaults<T extends ServingResource>(resource: T, config: EffectiveConfig, opts: DefaultsOptions = {}): T {
  const out = structuredClone(resource);
  const create = opts.operation !== 'UPDATE';
  switch (out.kind) {
    case 'Service': {
      const meta = out.metadata ?? {};
      const prev = !create && opts.old?.kind === 'Service' ? opts.old : undefined;
      const spec = (out.spec ??= {});
      defaultConfigurationSpec(spec, config, meta, create, prev === undefined ? undefined : (prev.spec?.template ?? {}));
      // Inside a Service, traffic defaults to the Service's own configuration.
      defaultRouteSpec(spec, true);
      setUserInfo(out, create, prev?.spec, opts.username);
      break;
    }
    case 'Configuration': {
      const meta = out.metadata ?? {};
      const prev = !create && opts.old?.kind === 'Configuration' ? opts.old : undefined;
      defaultConfigurationSpec((out.spec ??= {}), config, meta, create, prev === undefined ? undefined : (prev.spec?.template ?? {}));
      // A Configuration made by a Service carries the Service's user info.
      if (!isPresent(meta.ownerReferences)) setUserInfo(out, create, prev?.spec, opts.username);
      break;
    }
    case 'Revision':
      // The spec is immutable: defaulting on update could only produce a rejected change.
      if (create) defaultRevisionSpec((out.spec ??= {}) as Obj, config, {}, create);
      break;
    case 'Route': {
      defaultRouteSpec((out.spec ??= {}), false);
      const prev = !create && opts.old?.kind === 'Route' ? opts.old : undefined;
      if (!isPresent(out.metadata?.ownerReferences)) setUserInfo(out, create, prev?.spec, opts.username);
      break;
    }
  }
  return out;
}

/**
 * The template's spec. On update, a template that keeps its own (non-empty) name is left
 * alone: defaulting it could change it, and a changed template must carry a new name.
 */
function defaultConfigurationSpec(
  spec: { template?: RevisionTemplateSpec },
  config: EffectiveConfig,
  parent: ObjectMeta,
  create: boolean,
  prevTemplate: RevisionTemplateSpec | undefined,
): void {
  if (prevTemplate !== undefined) {
    const name = spec.template?.metadata?.name ?? '';
    if (name !== '' && name === (prevTemplate.metadata?.name ?? '')) return;
  }
  const template = (spec.template ??= {});
  defaultRevisionSpec((template.spec ??= {}) as Obj, config, parent, create);
}

/** Traffic targets: pinned iff a revision is named, 0 % unless said; a Service's empty list routes all to its latest. */
function defaultRouteSpec(spec: RouteSpec, inService: boolean): void {
  if (asArr(spec.traffic).length === 0 && inService) spec.traffic = DEFAULT_SERVICE_TRAFFIC.map((tt) => ({ ...tt }));
  for (const raw of asArr(spec.traffic)) {
    const tt = asObj(raw);
    if (tt === undefined) continue;
    if (!isPresent(tt['latestRevision'])) tt['latestRevision'] = asStr(tt['revisionName']) === '';
    if (!isPresent(tt['percent'])) tt['percent'] = 0;
  }
}

/** Records the requesting user: creator and lastModifier on create, lastModifier when an update changes the spec. */
function setUserInfo(resource: ServingResource, create: boolean, oldSpec: unknown, username: string | undefined): void {
  if (username === undefined) return;
  if (!create && jsonEqual(oldSpec, resource.spec)) return;
  const meta = (resource.metadata ??= {});
  const annotations = (meta.annotations ??= {});
  if (create) annotations[CREATOR_ANNOTATION] = username;
  annotations[UPDATER_ANNOTATION] = username;
}

/** Runs a container name template over the parent's metadata; "" when it fails, as in Knative. */
function containerName(template: string, parent: ObjectMetaLike): string {
  try {
    return parseTemplate(template, 'container-template').execute(objectMetaTemplateData(parent));
  } catch (err) {
    if (err instanceof TemplateError) return '';
    throw err;
  }
}

const unset = (v: unknown): boolean => !isPresent(v);

/** A revision spec (also a template's spec), in place. */
function defaultRevisionSpec(rs: Obj, config: EffectiveConfig, parent: ObjectMetaLike, create: boolean): void {
  const d = config.defaults;
  if (unset(rs['timeoutSeconds']) || rs['timeoutSeconds'] === 0) rs['timeoutSeconds'] = d.revisionTimeoutSeconds;
  const timeout = rs['timeoutSeconds'] as number;
  // The idle and response-start defaults apply only when set and below the revision timeout:
  // an unset value leaves those timers off in queue-proxy.
  if (unset(rs['idleTimeoutSeconds']) && d.revisionIdleTimeoutSeconds !== 0 && d.revisionIdleTimeoutSeconds < timeout) {
    rs['idleTimeoutSeconds'] = d.revisionIdleTimeoutSeconds;
  }
  if (unset(rs['responseStartTimeoutSeconds']) && d.revisionResponseStartTimeoutSeconds !== 0 && d.revisionResponseStartTimeoutSeconds < timeout) {
    rs['responseStartTimeoutSeconds'] = d.revisionResponseStartTimeoutSeconds;
  }
  if (unset(rs['containerConcurrency'])) rs['containerConcurrency'] = d.containerConcurrency;

  const containers = asObjects(rs['containers']);
  const inits = asObjects(rs['initContainers']);
  // Generated names avoid every name the user chose, in both lists.
  const taken = new Set([...containers, ...inits].map((c) => asStr(c['name'])));
  applyDefaultContainerNames(containers, taken, containerName(d.containerNameTemplate, parent));
  applyDefaultContainerNames(inits, taken, containerName(d.initContainerNameTemplate, parent));

  for (const c of containers) {
    applyContainerDefaults(rs, c, containers.length, config, create);
    defaultSecurityContext(asObj(rs['securityContext']), c, config.features);
  }
  for (const c of inits) defaultSecurityContext(asObj(rs['securityContext']), c, config.features);
}

/**
 * Unnamed containers get the template's name; with several containers, or when that name is
 * taken, `-0`, `-1`, … suffixes (kmeta.ChildName), skipping names already in use.
 */
function applyDefaultContainerNames(containers: readonly Obj[], taken: ReadonlySet<string>, base: string): void {
  let next = 0;
  for (const c of containers) {
    if (asStr(c['name']) !== '') continue;
    let name = base;
    if (containers.length > 1 || taken.has(name)) {
      do {
        name = childName(base, `-${next}`);
        next++;
      } while (taken.has(name));
    }
    c['name'] = name;
  }
}

function applyContainerDefaults(rs: Obj, c: Obj, containerCount: number, config: EffectiveConfig, create: boolean): void {
  const d = config.defaults;
  const resources = asObj(c['resources']) ?? (c['resources'] = {} as Obj);
  const defaults: [string, string | undefined, string | undefined][] = [
    ['cpu', d.revisionCpuRequest, d.revisionCpuLimit],
    ['memory', d.revisionMemoryRequest, d.revisionMemoryLimit],
    ['ephemeral-storage', d.revisionEphemeralStorageRequest, d.revisionEphemeralStorageLimit],
  ];
  for (const [name, request, limit] of defaults) {
    if (request !== undefined) {
      const requests = asObj(resources['requests']) ?? (resources['requests'] = {} as Obj);
      if (!(name in requests)) requests[name] = request;
    }
    if (limit !== undefined) {
      const limits = asObj(resources['limits']) ?? (resources['limits'] = {} as Obj);
      if (!(name in limits)) limits[name] = limit;
    }
  }

  // The serving container: the only one, or the one with a port.
  if (containerCount === 1 || asArr(c['ports']).length > 0) {
    const probe = asObj(c['readinessProbe']) ?? (c['readinessProbe'] = {} as Obj);
    if (![...PROBE_HANDLERS].some((h) => isPresent(probe[h]))) probe['tcpSocket'] = {};
  }
  // Sidecars may go without a readiness probe; one they have gets the same defaults.
  const readiness = asObj(c['readinessProbe']);
  if (readiness !== undefined) {
    if (!readiness['successThreshold']) readiness['successThreshold'] = 1;
    // Kubernetes' own defaults, once the probe is periodic rather than Knative's aggressive one.
    if (readiness['periodSeconds']) {
      if (!readiness['failureThreshold']) readiness['failureThreshold'] = 3;
      if (!readiness['timeoutSeconds']) readiness['timeoutSeconds'] = 1;
    }
  }
  for (const key of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
    const grpc = asObj(asObj(c[key])?.['grpc']);
    if (grpc !== undefined && unset(grpc['service'])) grpc['service'] = '';
  }

  if (unset(rs['enableServiceLinks']) && create && d.enableServiceLinks !== undefined) rs['enableServiceLinks'] = d.enableServiceLinks;

  // Only emptyDir and persistent volume claims may be written to.
  const writable = new Set(
    asObjects(rs['volumes'])
      .filter((v) => isPresent(v['emptyDir']) || isPresent(v['persistentVolumeClaim']))
      .map((v) => asStr(v['name'])),
  );
  for (const vm of asArr(c['volumeMounts'])) {
    const mount = asObj(vm);
    if (mount !== undefined && !writable.has(asStr(mount['name']))) mount['readOnly'] = true;
  }
}

/**
 * secure-pod-defaults (Enabled or AllowRootBounded): no privilege escalation, the runtime's
 * seccomp profile unless the pod sets one, all capabilities dropped (NET_BIND_SERVICE kept for
 * a port below 1024) when none are given, and, when Enabled, non-root unless said otherwise.
 */
function defaultSecurityContext(psc: Obj | undefined, c: Obj, f: FeaturesConfig): void {
  if (f.securePodDefaults !== 'Enabled' && f.securePodDefaults !== 'AllowRootBounded') return;
  const pod = psc ?? {};
  const sc = asObj(c['securityContext']) ?? {};
  if (unset(sc['allowPrivilegeEscalation'])) sc['allowPrivilegeEscalation'] = false;
  const podSeccomp = asObj(pod['seccompProfile']);
  if (podSeccomp === undefined || asStr(podSeccomp['type']) === '') {
    const seccomp = asObj(sc['seccompProfile']) ?? (sc['seccompProfile'] = {} as Obj);
    if (asStr(seccomp['type']) === '') seccomp['type'] = 'RuntimeDefault';
  }
  if (unset(sc['capabilities'])) {
    const caps: Obj = { drop: ['ALL'] };
    // A port left at 0 counts as a low port here, as in Knative.
    if (asArr(c['ports']).some((p) => (Number(asObj(p)?.['containerPort']) || 0) < 1024)) caps['add'] = ['NET_BIND_SERVICE'];
    sc['capabilities'] = caps;
  }
  if (f.securePodDefaults === 'Enabled' && unset(pod['runAsNonRoot']) && unset(sc['runAsNonRoot'])) sc['runAsNonRoot'] = true;
  c['securityContext'] = sc;
}
