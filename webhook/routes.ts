// A Route's traffic flattened to Revisions, as Knative's route controller does it
// (traffic.go, spec §5.4): configuration targets follow their latest ready Revision, pinned
// targets must exist and be ready, and one bad target holds back the whole Route with an
// AllTrafficAssigned reason and message. Also the Route a Service makes of its traffic
// (spec §5.1). Lookups are passed in, so this stays pure.
import { SERVICE_LABEL, type RouteSpec, type Service, type TrafficTarget } from './types.ts';

/** A traffic target flattened to a Revision. */
export interface ResolvedTarget {
  readonly revisionName: string;
  /** The configuration it came from, or, for a pinned Revision, the one that made it (if known). */
  readonly configurationName?: string;
  readonly percent: number;
  readonly tag?: string;
  readonly latestRevision: boolean;
}

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface TrafficLookup {
  /** A Configuration's status.latestReadyRevisionName; undefined when it has none (or is missing). */
  latestReadyRevision(configurationName: string): string | undefined;
  revisionExists(name: string): boolean;
  /** Without it every referenced Configuration is taken to exist. */
  configurationExists?(name: string): boolean;
  /** A Configuration's Ready condition, read only when it has no ready Revision; default Unknown. */
  configurationReady?(name: string): ConditionStatus;
  /** A Revision's Ready condition; without it every existing Revision is taken to be ready. */
  revisionReady?(name: string): ConditionStatus;
  /** A Revision's `serving.knative.dev/configuration` label. */
  revisionConfiguration?(name: string): string | undefined;
}

export interface MissingTarget {
  readonly kind: 'Configuration' | 'Revision';
  readonly name: string;
}

export interface TrafficResolved {
  readonly ok: true;
  /**
   * What Route status.traffic lists: one entry per target, entries with the same tag,
   * Revision and latestRevision merged with their percents added.
   */
  readonly targets: ResolvedTarget[];
  /**
   * The routing table: '' (the default host) takes every target, each tag its own targets;
   * within a group percents of the same Revision are added, and a group with a single
   * Revision gets 100. Groups are in order of first appearance, the default first.
   */
  readonly groups: ReadonlyMap<string, readonly ResolvedTarget[]>;
}

export interface TrafficUnresolved {
  readonly ok: false;
  /** The AllTrafficAssigned condition Knative sets: status, reason and message. */
  readonly status: 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
  /** Every missing Configuration and Revision found, not only the one reported. */
  readonly missing: readonly MissingTarget[];
}

export type TrafficResolution = TrafficResolved | TrafficUnresolved;

export interface RouteTraffic {
  readonly name: string;
  readonly namespace: string;
  /** Already defaulted; a missing latestRevision is read as "no revisionName". */
  readonly traffic: readonly TrafficTarget[];
}

interface TargetProblem {
  readonly failure: boolean;
  readonly reason: string;
  readonly message: string;
  readonly missing?: MissingTarget;
}

const missingProblem = (kind: MissingTarget['kind'], name: string): TargetProblem => ({
  failure: true,
  reason: `${kind}Missing`,
  message: `${kind} ${JSON.stringify(name)} referenced in traffic not found.`,
  missing: { kind, name },
});

// Unready targets block the route too; "failed" (Ready False) outranks "not yet" (Unknown).
const unreadyConfiguration = (name: string, status: ConditionStatus): TargetProblem =>
  status === 'False'
    ? { failure: true, reason: 'RevisionMissing', message: `Configuration ${JSON.stringify(name)} does not have any ready Revision.` }
    : { failure: false, reason: 'RevisionMissing', message: `Configuration ${JSON.stringify(name)} is waiting for a Revision to become ready.` };

const unreadyRevision = (name: string, status: ConditionStatus): TargetProblem =>
  status === 'False'
    ? { failure: true, reason: 'RevisionMissing', message: `Revision ${JSON.stringify(name)} failed to become ready.` }
    : { failure: false, reason: 'RevisionMissing', message: `Revision ${JSON.stringify(name)} is not yet ready.` };

type Flattened = { target: ResolvedTarget } | { problem: TargetProblem } | undefined;

function flatten(tt: TrafficTarget, lookup: TrafficLookup): Flattened {
  const configExists = (name: string): boolean => lookup.configurationExists?.(name) ?? true;
  const latestRevision = tt.latestRevision ?? (tt.revisionName ?? '') === '';
  const base = {
    percent: tt.percent ?? 0,
    latestRevision,
    ...(tt.tag !== undefined && tt.tag !== '' ? { tag: tt.tag } : {}),
  };
  const revisionName = tt.revisionName ?? '';
  const configurationName = tt.configurationName ?? '';
  if (revisionName !== '') {
    if (!lookup.revisionExists(revisionName)) return { problem: missingProblem('Revision', revisionName) };
    const ready = lookup.revisionReady?.(revisionName) ?? 'True';
    if (ready !== 'True') return { problem: unreadyRevision(revisionName, ready) };
    const owner = lookup.revisionConfiguration?.(revisionName);
    if (owner !== undefined && !configExists(owner)) return { problem: missingProblem('Configuration', owner) };
    return { target: { revisionName, ...(owner !== undefined ? { configurationName: owner } : {}), ...base } };
  }
  if (configurationName !== '') {
    if (!configExists(configurationName)) return { problem: missingProblem('Configuration', configurationName) };
    const latest = lookup.latestReadyRevision(configurationName);
    if (latest === undefined || latest === '') {
      return { problem: unreadyConfiguration(configurationName, lookup.configurationReady?.(configurationName) ?? 'Unknown') };
    }
    // The latest ready Revision is used whatever its state now; only its existence is checked.
    if (!lookup.revisionExists(latest)) return { problem: missingProblem('Revision', latest) };
    return { target: { revisionName: latest, configurationName, ...base } };
  }
  // Neither name (traffic that skipped defaulting and validation): Knative ignores the target.
  return undefined;
}

/** Adds `t` to the status list, merging with an entry of the same tag, Revision and latestRevision. */
function mergeIntoStatus(list: ResolvedTarget[], t: ResolvedTarget): void {
  const i = list.findIndex((x) => x.tag === t.tag && x.revisionName === t.revisionName && x.latestRevision === t.latestRevision);
  const cur = list[i];
  if (cur === undefined) list.push(t);
  else list[i] = { ...cur, percent: cur.percent + t.percent };
}

/** One routing group: the first entry of each Revision keeps its fields, percents are added. */
function consolidate(targets: readonly ResolvedTarget[]): ResolvedTarget[] {
  const byRevision = new Map<string, ResolvedTarget>();
  for (const t of targets) {
    const cur = byRevision.get(t.revisionName);
    byRevision.set(t.revisionName, cur === undefined ? t : { ...cur, percent: cur.percent + t.percent });
  }
  const out = [...byRevision.values()];
  const only = out[0];
  // A group with one Revision sends it everything, whatever the percents said (a tag's host).
  return out.length === 1 && only !== undefined ? [{ ...only, percent: 100 }] : out;
}

/**
 * Flattens the Route's traffic. Every target is looked at so that all missing references are
 * listed; the condition reported is the first problem, unless a later one is a failure (a
 * missing target, or one whose Ready is False), in which case the last failure.
 */
export function resolveTraffic(route: RouteTraffic, lookup: TrafficLookup): TrafficResolution {
  const status: ResolvedTarget[] = [];
  const grouped = new Map<string, ResolvedTarget[]>();
  const missing: MissingTarget[] = [];
  let problem: TargetProblem | undefined;
  for (const tt of route.traffic) {
    const f = flatten(tt, lookup);
    if (f === undefined) continue;
    if ('problem' in f) {
      if (f.problem.missing) missing.push(f.problem.missing);
      if (problem === undefined || f.problem.failure) problem = f.problem;
      continue;
    }
    mergeIntoStatus(status, f.target);
    for (const key of f.target.tag === undefined ? [''] : ['', f.target.tag]) {
      const group = grouped.get(key) ?? [];
      group.push(f.target);
      grouped.set(key, group);
    }
  }
  if (problem !== undefined) {
    return { ok: false, status: problem.failure ? 'False' : 'Unknown', reason: problem.reason, message: problem.message, missing };
  }
  const groups = new Map<string, readonly ResolvedTarget[]>();
  for (const [key, targets] of grouped) groups.set(key, consolidate(targets));
  return { ok: true, targets: status, groups };
}

/** The Service's default traffic: everything to the latest ready Revision. */
export const DEFAULT_SERVICE_TRAFFIC: readonly TrafficTarget[] = [{ percent: 100, latestRevision: true }];

/**
 * The spec of the Route a Service makes (named like the Service): its traffic, with every
 * target that pins no Revision pointed at the Service's Configuration (also named like the
 * Service). Empty traffic takes the Service default first, as defaulting would have.
 */
export function serviceRoute(service: Pick<Service, 'metadata' | 'spec'>): RouteSpec {
  const name = service.metadata?.name ?? '';
  const traffic = service.spec?.traffic !== undefined && service.spec.traffic.length > 0 ? service.spec.traffic : DEFAULT_SERVICE_TRAFFIC;
  return {
    traffic: traffic.map((tt) => ((tt.revisionName ?? '') === '' ? { ...tt, configurationName: name } : { ...tt })),
  };
}

/**
 * Name, namespace, labels and annotations of the Route a Service makes: the Service's own,
 * plus the `serving.knative.dev/service` label. Hostnames are computed from these, so a
 * Service's visibility label and config-domain selectors reach its Route.
 */
export function serviceRouteMeta(service: Pick<Service, 'metadata'>): {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
} {
  const name = service.metadata?.name ?? '';
  return {
    name,
    // Like kubectl without -n: an object that names no namespace lands in `default`.
    namespace: service.metadata?.namespace || 'default',
    labels: { ...(service.metadata?.labels ?? {}), [SERVICE_LABEL]: name },
    annotations: { ...(service.metadata?.annotations ?? {}) },
  };
}
