// `knts routes FILE...`: where each host of the files' Services and Routes sends requests.
// Resources are defaulted and validated first (invalid ones are errors, exit 1); every
// Service and Configuration gets its first Revision, named as the runtime names it
// (`<config>-00001`, or the template's name), ready; Revisions in the files exist too. Each
// Route's traffic is then resolved as the route controller does and printed as one aligned
// table: HOST, REVISION, PERCENT, TAG. Namespaces default to `default`, as with kubectl.
import type { CommandIO } from '../cli/command.ts';
import type { ServingSemantics } from './admission.ts';
import { HostnameError, routeTable, type HostConfig, type RouteMeta, type RouteTableRow } from './hostnames.ts';
import { admitOnCreate, invalidResourceError, readManifests, reportProblems } from './manifests.ts';
import { revisionName } from './revision-naming.ts';
import { resolveTraffic, serviceRoute, serviceRouteMeta, type TrafficLookup } from './routes.ts';
import { CONFIGURATION_LABEL, type TrafficTarget } from './types.ts';

export interface RoutesOptions {
  readonly clusterDomain: string;
  readonly semantics: ServingSemantics;
}

interface RouteEntry {
  readonly what: string;
  readonly meta: RouteMeta;
  readonly traffic: readonly TrafficTarget[];
}

export async function runRoutes(files: readonly string[], io: CommandIO, o: RoutesOptions): Promise<number> {
  const m = await readManifests(files, io.stdin, o.clusterDomain);
  const errors = [...m.errors];
  const warnings = [...m.warnings];
  // namespace/name → the Configuration's latest ready Revision, and Revision → its Configuration.
  const configurations = new Map<string, string>();
  const revisions = new Map<string, string | undefined>();
  const routes: RouteEntry[] = [];
  for (const { what, resource: r, result } of admitOnCreate(m, o.semantics, errors)) {
    const invalid = result?.errors;
    if (invalid) {
      errors.push(invalidResourceError(what, invalid));
      continue;
    }
    const name = r.metadata?.name ?? '';
    const ns = r.metadata?.namespace || 'default';
    const key = (n: string): string => `${ns}/${n}`;
    if (r.kind === 'Service' || r.kind === 'Configuration') {
      const revision = revisionName(name, 1, r.spec?.template?.metadata?.name);
      configurations.set(key(name), revision);
      revisions.set(key(revision), name);
    }
    if (r.kind === 'Service') {
      routes.push({ what, meta: serviceRouteMeta(r), traffic: serviceRoute(r).traffic ?? [] });
    } else if (r.kind === 'Revision') {
      revisions.set(key(name), r.metadata?.labels?.[CONFIGURATION_LABEL]);
    } else if (r.kind === 'Route') {
      const meta: RouteMeta = { name, namespace: ns, labels: { ...(r.metadata?.labels ?? {}) }, annotations: { ...(r.metadata?.annotations ?? {}) } };
      routes.push({ what, meta, traffic: r.spec?.traffic ?? [] });
    }
  }

  const hostConfig: HostConfig = { network: m.config.network, domain: m.config.domain, clusterDomain: o.clusterDomain };
  const rows: RouteTableRow[] = [];
  for (const route of routes) {
    const ns = route.meta.namespace;
    const lookup: TrafficLookup = {
      latestReadyRevision: (c) => configurations.get(`${ns}/${c}`),
      revisionExists: (r) => revisions.has(`${ns}/${r}`),
      configurationExists: (c) => configurations.has(`${ns}/${c}`),
      revisionConfiguration: (r) => revisions.get(`${ns}/${r}`),
    };
    const resolved = resolveTraffic({ name: route.meta.name, namespace: ns, traffic: route.traffic }, lookup);
    if (!resolved.ok) {
      errors.push(`${route.what}: traffic not assigned: ${resolved.message}`);
      continue;
    }
    try {
      rows.push(...routeTable(route.meta, resolved.groups, hostConfig));
    } catch (err) {
      if (!(err instanceof HostnameError)) throw err;
      errors.push(`${route.what}: ${err.message}`);
    }
  }

  if (rows.length > 0) io.stdout.write(formatTable(rows));
  else if (errors.length === 0) warnings.push('no Service or Route in the files: nothing is routed');
  return reportProblems(io, errors, warnings);
}

/** Columns padded to their widest cell, two spaces apart, no trailing blanks. */
function formatTable(rows: readonly RouteTableRow[]): string {
  const cells = [['HOST', 'REVISION', 'PERCENT', 'TAG'], ...rows.map((r) => [r.host, r.revision, `${r.percent}%`, r.tag ?? ''])];
  const widths = [0, 1, 2].map((i) => Math.max(...cells.map((c) => (c[i] ?? '').length)));
  return cells.map((c) => c.map((cell, i) => (i < 3 ? cell.padEnd((widths[i] ?? 0) + 2) : cell)).join('').trimEnd() + '\n').join('');
}
