// config-domain (spec §4.8): which domain suffix a Route gets. Each key is a domain; its value
// is YAML with an optional label `selector`. A key without selector is a default.
import { parse as parseYaml } from 'yaml';
import { yamlErrorLine } from './yaml-documents.ts';
import { dns1123SubdomainErrors, labelSetProblem, mostSpecificMatch } from './k8s-names.ts';
import { EXAMPLE_KEY, type ConfigIssue, type ConfigMapSpec, type RawData } from './schema.ts';

export const VISIBILITY_LABEL = 'networking.knative.dev/visibility';
export const CLUSTER_LOCAL = 'cluster-local';

export interface DomainEntry {
  readonly domain: string;
  readonly selector: Readonly<Record<string, string>>;
}

export interface DomainConfig {
  readonly domains: readonly DomainEntry[];
}

const NAME = 'config-domain';

/** The cluster-local domain, `svc.<clusterDomain>`. */
export const clusterLocalDomain = (clusterDomain = 'cluster.local'): string => `svc.${clusterDomain}`;

function parseEntry(domain: string, raw: string): { entry?: DomainEntry; rule?: string } {
  let doc: unknown;
  try {
    doc = raw.trim() === '' ? {} : parseYaml(raw);
  } catch (err) {
    return { rule: `is not valid YAML: ${yamlErrorLine(err)}` };
  }
  if (doc === null || doc === undefined) doc = {};
  if (typeof doc !== 'object' || Array.isArray(doc)) return { rule: 'must be empty or a YAML map such as "selector: {app: public}"' };
  const selector = (doc as { selector?: unknown }).selector ?? {};
  const problem = labelSetProblem(selector);
  if (problem) return { rule: `has an invalid selector: ${problem}` };
  return { entry: { domain, selector: selector as Record<string, string> } };
}

export function domainConfigMap(clusterDomain = 'cluster.local'): ConfigMapSpec<DomainConfig> {
  const fallback: DomainEntry = { domain: clusterLocalDomain(clusterDomain), selector: {} };
  return {
    name: NAME,
    defaults: () => ({ domains: [fallback] }),
    parse(data: RawData) {
      const errors: ConfigIssue[] = [];
      const warnings: ConfigIssue[] = [];
      const domains: DomainEntry[] = [];
      for (const [domain, raw] of Object.entries(data)) {
        if (domain === EXAMPLE_KEY) continue;
        const { entry, rule } = parseEntry(domain, raw);
        if (rule) errors.push({ source: NAME, key: domain, value: raw, rule });
        else if (entry) domains.push(entry);
        const nameProblem = dns1123SubdomainErrors(domain)[0];
        // Knative does not check the key, but a route URL with it will not resolve.
        if (nameProblem) warnings.push({ source: NAME, key: domain, value: raw, rule: `is not a DNS name: ${nameProblem}` });
      }
      if (!domains.some((d) => Object.keys(d.selector).length === 0)) domains.push(fallback);
      domains.sort((a, b) => (a.domain < b.domain ? -1 : a.domain > b.domain ? 1 : 0));
      return errors.length > 0 ? { ok: false, errors, warnings } : { ok: true, config: { domains }, warnings };
    },
    show: (c) => Object.fromEntries(c.domains.map((d) => [d.domain, { selector: d.selector }])),
  };
}

/**
 * The domain suffix for a Route with these labels: cluster-local visibility short-cuts to
 * `svc.<clusterDomain>`; otherwise the matching entry with the most selector labels wins, and
 * ties go to the lexicographically smallest domain.
 */
export function domainFor(config: DomainConfig, labels: Readonly<Record<string, string>>, clusterDomain = 'cluster.local'): string {
  if (labels[VISIBILITY_LABEL] === CLUSTER_LOCAL) return clusterLocalDomain(clusterDomain);
  const best = mostSpecificMatch(config.domains, (d) => d.domain, labels);
  return best?.domain ?? clusterLocalDomain(clusterDomain);
}

/** A route whose domain is the cluster-local one is reachable only inside the cluster. */
export const isClusterLocalDomain = (domain: string, clusterDomain = 'cluster.local'): boolean =>
  domain === clusterLocalDomain(clusterDomain);
