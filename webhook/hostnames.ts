// A Route's hostnames, URLs and visibility (spec §5.4, Knative's domains.go, visibility.go and
// the route controller's status URLs), from the Route's name, namespace, labels and
// annotations, config-network (domain-template, tag-template, default-external-scheme),
// config-domain and the cluster domain: the default host, one host per tag, which of them are
// cluster-local, the status and address URLs, and the table `knts routes` prints.
import { parseTemplate, TemplateError } from '../config/go-template.ts';
import { CLUSTER_LOCAL, VISIBILITY_LABEL, clusterLocalDomain, domainFor, type DomainConfig } from '../config/domain.ts';
import { DEFAULT_DOMAIN_TEMPLATE, domainTemplateData, type NetworkConfig } from '../config/network.ts';
import { fullyQualifiedDomainNameError } from './dns-validation.ts';
import type { ResolvedTarget } from './routes.ts';

/** Knative's IngressVisibility values. */
export type Visibility = 'ExternalIP' | 'ClusterLocal';

export interface RouteMeta {
  readonly name: string;
  readonly namespace: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  /**
   * Traffic targets made cluster-local on their own, by tag ('' for the default target):
   * Knative reads these from the visibility label on the placeholder Service of each host.
   */
  readonly clusterLocalTargets?: readonly string[];
}

export interface HostConfig {
  readonly network: Pick<NetworkConfig, 'domainTemplate' | 'tagTemplate' | 'defaultExternalScheme' | 'clusterLocalDomainTls'>;
  readonly domain: DomainConfig;
  readonly clusterDomain: string;
}

/** A template that fails to run, or runs to something that is not a domain name. */
export class HostnameError extends Error {
  override name = 'HostnameError';
}

function execute(source: string, templateName: string, data: Record<string, unknown>, what: string): string {
  try {
    return parseTemplate(source, templateName).execute(data);
  } catch (err) {
    if (err instanceof TemplateError) throw new HostnameError(`error executing the ${what}: ${err.message}`);
    throw err;
  }
}

/** The host's first part: the route name, or for a tag the tag-template (`{{.Tag}}-{{.Name}}`). */
export function tagHostname(routeName: string, tag: string, tagTemplate: string): string {
  if (tag === '') return routeName;
  return execute(tagTemplate, 'tag-template', { Name: routeName, Tag: tag }, 'TagTemplate');
}

/**
 * The full domain name for `name` (a route or tag hostname) under the route's metadata: the
 * config-domain suffix its labels select, through the domain-template, except that a route
 * labelled cluster-local always uses the default template (`<name>.<ns>.svc.<cluster domain>`).
 * The result must be a fully qualified domain name.
 */
export function domainName(route: RouteMeta, name: string, cfg: HostConfig): string {
  const labels = route.labels ?? {};
  const domain = domainFor(cfg.domain, labels, cfg.clusterDomain);
  const template = labels[VISIBILITY_LABEL] === CLUSTER_LOCAL ? DEFAULT_DOMAIN_TEMPLATE : cfg.network.domainTemplate;
  const data = domainTemplateData({ name, namespace: route.namespace, domain, labels, ...(route.annotations ? { annotations: route.annotations } : {}) });
  const host = execute(template, 'domain-template', data, 'DomainTemplate');
  const problem = fullyQualifiedDomainNameError('url', host);
  if (problem !== undefined) throw new HostnameError(`invalid domain name ${JSON.stringify(host)}: ${problem}`);
  return host;
}

/** Cluster-local when the route's labels select the `svc.<cluster domain>` domain. */
export function routeVisibility(route: RouteMeta, cfg: HostConfig): Visibility {
  const domain = domainFor(cfg.domain, route.labels ?? {}, cfg.clusterDomain);
  return domain === clusterLocalDomain(cfg.clusterDomain) ? 'ClusterLocal' : 'ExternalIP';
}

/** A target's visibility: the most restrictive of the route's and the target's own. */
export function targetVisibility(route: RouteMeta, tag: string, cfg: HostConfig): Visibility {
  if (routeVisibility(route, cfg) === 'ClusterLocal') return 'ClusterLocal';
  return route.clusterLocalTargets?.includes(tag) ? 'ClusterLocal' : 'ExternalIP';
}

// The route's metadata as Knative computes a target's host from it: the visibility label set
// for a cluster-local target and removed otherwise.
function withVisibility(route: RouteMeta, visibility: Visibility): RouteMeta {
  const { [VISIBILITY_LABEL]: _dropped, ...rest } = route.labels ?? {};
  return { ...route, labels: visibility === 'ClusterLocal' ? { ...rest, [VISIBILITY_LABEL]: CLUSTER_LOCAL } : rest };
}

/** The host of a traffic target: '' is the route's default host, otherwise a tag's host. */
export function targetHost(route: RouteMeta, tag: string, cfg: HostConfig): string {
  const visibility = targetVisibility(route, tag, cfg);
  return domainName(withVisibility(route, visibility), tagHostname(route.name, tag, cfg.network.tagTemplate), cfg);
}

export const defaultHost = (route: RouteMeta, cfg: HostConfig): string => targetHost(route, '', cfg);

/** A target's URL: default-external-scheme for external hosts, http for cluster-local ones. */
export function targetUrl(route: RouteMeta, tag: string, cfg: HostConfig): string {
  const scheme = targetVisibility(route, tag, cfg) === 'ClusterLocal' ? 'http' : cfg.network.defaultExternalScheme;
  return `${scheme}://${targetHost(route, tag, cfg)}`;
}

/** Route status.url. */
export const statusUrl = (route: RouteMeta, cfg: HostConfig): string => targetUrl(route, '', cfg);

/** The in-cluster name of the route's placeholder Service, `<route>.<ns>.svc.<cluster domain>`. */
export const serviceHostname = (route: Pick<RouteMeta, 'name' | 'namespace'>, clusterDomain: string): string =>
  `${route.name}.${route.namespace}.${clusterLocalDomain(clusterDomain)}`;

/** Route status.address.url: the placeholder Service, https with cluster-local-domain-tls. */
export function addressUrl(route: Pick<RouteMeta, 'name' | 'namespace'>, cfg: HostConfig): string {
  const scheme = cfg.network.clusterLocalDomainTls === 'enabled' ? 'https' : 'http';
  return `${scheme}://${serviceHostname(route, cfg.clusterDomain)}`;
}

export interface RouteTableRow {
  readonly host: string;
  readonly revision: string;
  readonly percent: number;
  /** The tag whose host this is; absent on the default host. */
  readonly tag?: string;
  readonly url: string;
  readonly visibility: Visibility;
}

/**
 * Where requests to each host go: the default host first, then each tag's host, one row per
 * Revision with its share. Revisions at 0 % get no row on the default host: the ingress
 * sends them nothing (they stay reachable through their tag, if any).
 */
export function routeTable(route: RouteMeta, groups: ReadonlyMap<string, readonly ResolvedTarget[]>, cfg: HostConfig): RouteTableRow[] {
  const rows: RouteTableRow[] = [];
  for (const [tag, targets] of groups) {
    const host = targetHost(route, tag, cfg);
    const url = targetUrl(route, tag, cfg);
    const visibility = targetVisibility(route, tag, cfg);
    for (const t of targets) {
      if (t.percent === 0) continue;
      rows.push({ host, revision: t.revisionName, percent: t.percent, ...(tag !== '' ? { tag } : {}), url, visibility });
    }
  }
  return rows;
}
