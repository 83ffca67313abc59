// The serving model of `knts serve`, pure: the accepted manifests in, Knative's view out. It does
// what the webhook and the serving controllers do in a cluster: defaults and validates each
// resource (a file with any invalid document is rejected whole and its last good version kept;
// a document that did not change is not applied again, so it keeps the defaults it was stored
// with), turns Services into a Configuration and a Route, gives each Configuration a new
// generation and Revision when its template changes, keeps the Revisions created so far,
// resolves every Route's traffic against the Revisions that are ready, and computes hostnames
// from config-network and config-domain. The ConfigMaps among the manifests are the cluster's
// configuration. A container without a `command` is rejected: images are not pulled.
import { asConfigMap, effectiveConfig, formatDocumentProblem, type ConfigMapDocument, type EffectiveConfig } from '../config/configmaps.ts';
import { resolveRevisionAutoscaling } from '../config/revision-autoscaling.ts';
import type { YamlDocument } from '../config/yaml-documents.ts';
import { setDefaults } from '../webhook/defaults.ts';
import { asServingResource } from '../webhook/parse.ts';
import { validateResource } from '../webhook/validation.ts';
import { jsonEqual } from '../webhook/json-diff.ts';
import { nextConfigurationState, templateChanged, type ConfigurationState } from '../webhook/revision-naming.ts';
import { resolveTraffic, serviceRoute, serviceRouteMeta, type ResolvedTarget } from '../webhook/routes.ts';
import { routeTable, statusUrl, targetUrl, HostnameError, type HostConfig, type RouteMeta } from '../webhook/hostnames.ts';
import type { RevisionTemplateSpec, ServingResource, TrafficTarget } from '../webhook/types.ts';
import type { HostRule } from './ingress.ts';
import type { LocalRevision } from './local-cluster.ts';
import { servingContainer } from './queue-env.ts';
import type { ServiceStatus } from './status.ts';

export interface ManifestFile {
  readonly file: string;
  /** The folder the file is in: the working directory of the apps it declares. */
  readonly dir: string;
  readonly docs: readonly YamlDocument[];
}

interface AcceptedResource {
  readonly doc: YamlDocument;
  /** As written in the file. */
  readonly raw: ServingResource;
  /** As stored: defaulted by the webhook. */
  readonly resource: ServingResource;
}

interface Accepted {
  readonly file: ManifestFile;
  readonly resources: readonly AcceptedResource[];
  readonly configMaps: readonly ConfigMapDocument[];
}

interface ConfigurationRecord extends ConfigurationState {
  readonly namespace: string;
  readonly name: string;
}

interface RevisionRecord {
  readonly namespace: string;
  readonly name: string;
  readonly configuration: string;
  readonly service: string;
  readonly generation: number;
  readonly template: RevisionTemplateSpec;
  readonly dir: string;
}

interface RouteRecord {
  readonly kind: 'Service' | 'Route';
  readonly meta: RouteMeta;
  readonly traffic: readonly TrafficTarget[];
}

export interface Routing {
  readonly revisions: LocalRevision[];
  readonly rules: HostRule[];
  readonly services: ServiceStatus[];
  /** Routes whose traffic cannot be assigned yet (and keep their previous rules). */
  readonly pending: string[];
}

/** The domain routes get when the folder has no config-domain. */
export const DEFAULT_LOCAL_DOMAIN = 'example.com';

const keyOf = (namespace: string, name: string): string => `${namespace}/${name}`;
const resourceKey = (r: ServingResource): string => `${r.kind}/${r.metadata?.namespace || 'default'}/${r.metadata?.name ?? ''}`;
const where = (doc: YamlDocument): string => `${doc.file}:${doc.line}`;

export class ServingModel {
  readonly #clusterDomain: string;
  /** Last good content per file. */
  readonly #accepted = new Map<string, Accepted>();
  readonly #configurations = new Map<string, ConfigurationRecord>();
  readonly #revisions = new Map<string, RevisionRecord>();
  #routes: RouteRecord[] = [];
  #config: EffectiveConfig;
  /**
   * The last assigned rules and traffic per route, kept (served and shown) while a route's new
   * traffic cannot be assigned, as a Route keeps its ingress and status traffic in Knative.
   */
  readonly #lastAssigned = new Map<string, { readonly rules: HostRule[]; readonly traffic: ServiceStatus['traffic'] }>();
  #errors: string[] = [];

  constructor(clusterDomain = 'cluster.local') {
    this.#clusterDomain = clusterDomain;
    this.#config = effectiveConfig([{ name: 'config-domain', namespace: 'knative-serving', origin: 'knts serve default', data: { [DEFAULT_LOCAL_DOMAIN]: '' } }], clusterDomain).config;
  }

  get config(): EffectiveConfig {
    return this.#config;
  }

  /** Problems with the manifests as they are now; the last good state of those files serves. */
  get errors(): readonly string[] {
    return this.#errors;
  }

  /**
   * Takes the current content of every file (`unreadable` lists files that do not parse, with
   * their errors). Returns the problems found; files with problems keep their last good content.
   */
  update(files: readonly ManifestFile[], unreadable: ReadonlyMap<string, readonly string[]> = new Map()): readonly string[] {
    const errors: string[] = [];
    for (const [, errs] of unreadable) errors.push(...errs);
    const present = new Set([...files.map((f) => f.file), ...unreadable.keys()]);
    for (const f of this.#accepted.keys()) if (!present.has(f)) this.#accepted.delete(f);

    // ConfigMaps first: they configure how everything else is defaulted and validated.
    const maps: ConfigMapDocument[] = [];
    const mapsByFile = new Map<string, ConfigMapDocument[]>();
    for (const f of files) {
      const own: ConfigMapDocument[] = [];
      for (const doc of f.docs) {
        if (!isConfigMap(doc.value)) continue;
        const { map, problems } = asConfigMap(doc.value, where(doc));
        errors.push(...problems.map(formatDocumentProblem));
        if (map) own.push(map);
      }
      mapsByFile.set(f.file, own);
    }
    for (const f of files) maps.push(...(mapsByFile.get(f.file) ?? []));
    for (const [file, acc] of this.#accepted) if (unreadable.has(file)) maps.push(...acc.configMaps);
    // Without a config-domain the runtime serves under example.com, so a folder of plain Services
    // is reachable at once (Knative's own default, svc.<cluster domain>, is cluster-local only).
    if (!maps.some((m) => m.name === 'config-domain')) maps.push({ name: 'config-domain', namespace: 'knative-serving', origin: 'knts serve default', data: { [DEFAULT_LOCAL_DOMAIN]: '' } });
    const effective = effectiveConfig(maps, this.#clusterDomain);
    if (effective.errors.length > 0) errors.push(...effective.errors);
    else this.#config = effective.config;

    const previous = new Map<string, AcceptedResource>();
    for (const acc of this.#accepted.values()) for (const r of acc.resources) previous.set(resourceKey(r.resource), r);

    for (const f of files) {
      const fileErrors: string[] = [];
      const resources: AcceptedResource[] = [];
      for (const doc of f.docs) {
        if (isConfigMap(doc.value)) continue;
        const parsed = asServingResource(doc.value);
        if (!parsed.ok) {
          fileErrors.push(`${where(doc)}: ${parsed.error}`);
          continue;
        }
        const raw = parsed.resource;
        const old = previous.get(resourceKey(raw));
        // An unchanged document is not applied again: the stored object keeps its defaults, so
        // neither another file's edit nor a config-defaults edit makes it a new generation.
        if (old !== undefined && jsonEqual(old.raw, raw)) {
          resources.push({ doc, raw, resource: old.resource });
          continue;
        }
        // `kubectl apply` keeps the defaults the stored object got, so an edit is defaulted in full,
        // as on create, and an unchanged template stays exactly as stored; then validated as the
        // update it is (a named template must change its name when it changes).
        const defaulted = setDefaults(raw, this.#config, { operation: 'CREATE' });
        if (old !== undefined) keepStoredTemplate(old, raw, defaulted);
        const op = old === undefined ? { operation: 'CREATE' as const } : { operation: 'UPDATE' as const, old: old.resource };
        const err = validateResource(defaulted, this.#config, op);
        const bad = err?.errors;
        if (bad !== undefined) {
          fileErrors.push(`${where(doc)}: ${defaulted.kind} ${defaulted.metadata?.name ?? ''}: ${bad.toString().trimEnd().replaceAll('\n', `\n  `)}`);
          continue;
        }
        const noCommand = missingCommand(defaulted);
        if (noCommand !== undefined) {
          fileErrors.push(`${where(doc)}: ${defaulted.kind} ${defaulted.metadata?.name ?? ''}: knts serve runs the container's command (images are not pulled): missing field(s): ${noCommand}`);
          continue;
        }
        resources.push({ doc, raw, resource: defaulted });
      }
      if (fileErrors.length > 0) errors.push(...fileErrors);
      else this.#accepted.set(f.file, { file: f, resources, configMaps: mapsByFile.get(f.file) ?? [] });
    }
    this.#rebuild(errors);
    this.#errors = errors;
    return errors;
  }

  #rebuild(errors: string[]): void {
    const seen = new Set<string>();
    const routes: RouteRecord[] = [];
    const liveConfigs = new Set<string>();
    for (const acc of this.#accepted.values()) {
      for (const { doc, resource } of acc.resources) {
        const rk = resourceKey(resource);
        if (seen.has(rk)) {
          errors.push(`${where(doc)}: ${rk.replace(/\//, ' ')} is declared twice; the first one counts`);
          continue;
        }
        seen.add(rk);
        const namespace = resource.metadata?.namespace || 'default';
        const name = resource.metadata?.name ?? '';
        if (resource.kind === 'Service' || resource.kind === 'Configuration') {
          const template = resource.spec?.template ?? {};
          const service = resource.kind === 'Service' ? name : (resource.metadata?.labels?.['serving.knative.dev/service'] ?? '');
          this.#configure(namespace, name, service, template, acc.file.dir, errors);
          liveConfigs.add(keyOf(namespace, name));
          if (resource.kind === 'Service') {
            const meta = serviceRouteMeta(resource);
            routes.push({ kind: 'Service', meta: { ...meta, namespace }, traffic: serviceRoute(resource).traffic ?? [] });
          }
        } else if (resource.kind === 'Route') {
          routes.push({
            kind: 'Route',
            meta: { name, namespace, labels: resource.metadata?.labels ?? {}, annotations: resource.metadata?.annotations ?? {} },
            traffic: resource.spec?.traffic ?? [],
          });
        } else {
          errors.push(`${where(doc)}: Revision ${name}: Revisions are created by Configurations; a Revision manifest is ignored`);
        }
      }
    }
    // A deleted Configuration takes its Revisions with it (owner references).
    for (const [k, c] of this.#configurations) {
      if (liveConfigs.has(k)) continue;
      this.#configurations.delete(k);
      for (const [rk, r] of this.#revisions) if (r.namespace === c.namespace && r.configuration === c.name) this.#revisions.delete(rk);
    }
    this.#routes = routes;
  }

  #configure(namespace: string, name: string, service: string, template: RevisionTemplateSpec, dir: string, errors: string[]): void {
    const key = keyOf(namespace, name);
    const prev = this.#configurations.get(key);
    const step = nextConfigurationState(prev, name, template);
    if (step.conflict !== undefined) {
      errors.push(`Configuration ${key}: ${step.conflict}`);
      return;
    }
    // A template name may come back to the name of an older Revision: Knative reuses that
    // Revision for the same spec, and cannot create it again for another spec.
    const existing = step.createsRevision ? this.#revisions.get(keyOf(namespace, step.revisionName)) : undefined;
    if (existing !== undefined && (existing.configuration !== name || templateChanged({ spec: existing.template.spec ?? {} }, { spec: template.spec ?? {} }))) {
      errors.push(`Configuration ${key}: Revision creation failed with message: revisions.serving.knative.dev ${JSON.stringify(step.revisionName)} already exists.`);
      return;
    }
    if (step.createsRevision) {
      this.#revisions.set(keyOf(namespace, step.revisionName), { namespace, name: step.revisionName, configuration: name, service, generation: step.generation, template, dir });
    }
    this.#configurations.set(key, { namespace, name, generation: step.generation, template: step.createsRevision || prev === undefined ? template : prev.template, latestCreatedRevisionName: step.revisionName });
  }

  /**
   * Routes resolved against the Revisions that are ready now (`ready(namespace, name)`: has had a
   * ready pod): the ingress rules, the Revisions to run with their reachability, and each route's
   * URL and traffic for status.
   */
  routing(podsReady: (namespace: string, revision: string) => boolean): Routing {
    // A Revision with initial scale 0 is Ready without ever running a pod, as in Knative.
    const ready = (ns: string, name: string): boolean => podsReady(ns, name) || this.#zeroInitialScale(ns, name);
    const hostCfg: HostConfig = { network: this.#config.network, domain: this.#config.domain, clusterDomain: this.#clusterDomain };
    const rules: HostRule[] = [];
    const services: ServiceStatus[] = [];
    const pending: string[] = [];
    const routed = new Set<string>();
    for (const route of this.#routes) {
      const ns = route.meta.namespace;
      const rk = keyOf(ns, route.meta.name);
      const resolution = resolveTraffic(
        { name: route.meta.name, namespace: ns, traffic: route.traffic },
        {
          latestReadyRevision: (config) => this.#latestReady(ns, config, ready),
          revisionExists: (name) => this.#revisions.has(keyOf(ns, name)),
          configurationExists: (name) => this.#configurations.has(keyOf(ns, name)),
          revisionReady: (name) => (ready(ns, name) ? 'True' : 'Unknown'),
          revisionConfiguration: (name) => this.#revisions.get(keyOf(ns, name))?.configuration,
        },
      );
      let url = '';
      try {
        url = statusUrl(route.meta, hostCfg);
        if (resolution.ok) {
          const routeRules: HostRule[] = [];
          for (const row of routeTable(route.meta, resolution.groups, hostCfg)) {
            let rule = routeRules.find((r) => r.host === row.host);
            if (rule === undefined) {
              rule = { host: row.host, namespace: ns, route: route.meta.name, visibility: row.visibility === 'ClusterLocal' ? 'cluster-local' : 'external', targets: [] };
              routeRules.push(rule);
            }
            (rule.targets as { revision: string; percent: number }[]).push({ revision: row.revision, percent: row.percent });
          }
          const traffic = resolution.targets.map((t: ResolvedTarget) => ({
            revision: t.revisionName,
            percent: t.percent,
            ...(t.tag === undefined ? {} : { tag: t.tag, url: targetUrl(route.meta, t.tag, hostCfg) }),
          }));
          this.#lastAssigned.set(rk, { rules: routeRules, traffic });
        } else {
          pending.push(`${route.kind} ${rk}: ${resolution.message}`);
        }
      } catch (err) {
        if (!(err instanceof HostnameError)) throw err;
        pending.push(`${route.kind} ${rk}: ${err.message}`);
      }
      const assigned = this.#lastAssigned.get(rk) ?? { rules: [], traffic: [] };
      rules.push(...assigned.rules);
      for (const r of assigned.rules) for (const t of r.targets) routed.add(keyOf(ns, t.revision));
      // Revisions a tag pins at 0 % are still routed (reachable through their tag host).
      if (resolution.ok) for (const t of resolution.targets) routed.add(keyOf(ns, t.revisionName));
      services.push({ namespace: ns, name: route.meta.name, kind: route.kind, url, visibility: url.startsWith('http://') && url.includes('.svc.') ? 'cluster-local' : 'external', traffic: assigned.traffic });
    }
    for (const k of [...this.#lastAssigned.keys()]) if (!this.#routes.some((r) => keyOf(r.meta.namespace, r.meta.name) === k)) this.#lastAssigned.delete(k);

    const revisions: LocalRevision[] = [];
    for (const [k, r] of this.#revisions) {
      const config = this.#configurations.get(keyOf(r.namespace, r.configuration));
      // A new Revision runs until it is ready and routed (Knative's routingState "pending").
      const pendingLatest = config?.latestCreatedRevisionName === r.name && !ready(r.namespace, r.name);
      revisions.push({
        namespace: r.namespace,
        name: r.name,
        configuration: r.configuration,
        service: r.service,
        spec: r.template.spec ?? {},
        annotations: r.template.metadata?.annotations ?? {},
        labels: { ...(r.template.metadata?.labels ?? {}), 'serving.knative.dev/configuration': r.configuration, 'serving.knative.dev/revision': r.name, ...(r.service ? { 'serving.knative.dev/service': r.service } : {}) },
        cwd: r.dir,
        reachable: routed.has(k) || pendingLatest,
      });
    }
    return { revisions, rules, services, pending };
  }

  #zeroInitialScale(namespace: string, name: string): boolean {
    const r = this.#revisions.get(keyOf(namespace, name));
    if (r === undefined) return false;
    const spec = r.template.spec ?? {};
    return resolveRevisionAutoscaling(r.template.metadata?.annotations ?? {}, this.#config.autoscaler, spec.containerConcurrency ?? 0).initialScale === 0;
  }

  /** The newest Revision of a Configuration that is ready (Knative's latestReadyRevisionName). */
  #latestReady(namespace: string, configuration: string, ready: (namespace: string, revision: string) => boolean): string | undefined {
    let best: RevisionRecord | undefined;
    for (const r of this.#revisions.values()) {
      if (r.namespace !== namespace || r.configuration !== configuration || !ready(namespace, r.name)) continue;
      if (best === undefined || r.generation > best.generation) best = r;
    }
    return best?.name;
  }
}

/** An edit that leaves the template as it was (a traffic edit) keeps the stored template. */
function keepStoredTemplate(old: AcceptedResource, raw: ServingResource, defaulted: ServingResource): void {
  const stored = templateOf(old.resource);
  if (stored === undefined || (defaulted.kind !== 'Service' && defaulted.kind !== 'Configuration')) return;
  if (jsonEqual(templateOf(old.raw), templateOf(raw))) (defaulted.spec ??= {}).template = stored;
}

const templateOf = (r: ServingResource): RevisionTemplateSpec | undefined => (r.kind === 'Service' || r.kind === 'Configuration' ? r.spec?.template : undefined);

/** The serving container's `command` path when it has none (the runtime cannot run an image). */
function missingCommand(r: ServingResource): string | undefined {
  if (r.kind !== 'Service' && r.kind !== 'Configuration') return undefined;
  const spec = r.spec?.template?.spec ?? {};
  const c = servingContainer(spec);
  if (c === undefined || (c.command ?? []).length > 0) return undefined;
  return `spec.template.spec.containers[${(spec.containers ?? []).indexOf(c)}].command`;
}

function isConfigMap(v: unknown): boolean {
  return v !== null && typeof v === 'object' && (v as { kind?: unknown }).kind === 'ConfigMap';
}
