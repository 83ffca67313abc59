// The set of config maps knts understands, and turning ConfigMap documents into one effective
// configuration: shape checks (kind, apiVersion, name, string data), dispatch by name, and
// every error at once. Maps that are absent keep Knative's defaults.
import { autoscalerConfigMap, type AutoscalerConfig } from './autoscaler.ts';
import { DEFAULT_CLUSTER_DOMAIN } from './cluster-domain.ts';
import { defaultsConfigMap, type DefaultsConfig } from './defaults.ts';
import { deploymentConfigMap, type DeploymentConfig } from './deployment.ts';
import { domainConfigMap, type DomainConfig } from './domain.ts';
import { featuresConfigMap, type FeaturesConfig } from './features.ts';
import { loggingConfigMap, type LoggingConfig } from './logging.ts';
import { networkConfigMap, type NetworkConfig } from './network.ts';
import { observabilityConfigMap, type ObservabilityConfig } from './observability.ts';
import { formatIssue, type ConfigMapSpec, type RawData } from './schema.ts';

export interface EffectiveConfig {
  readonly autoscaler: AutoscalerConfig;
  readonly defaults: DefaultsConfig;
  readonly deployment: DeploymentConfig;
  readonly network: NetworkConfig;
  readonly features: FeaturesConfig;
  readonly observability: ObservabilityConfig;
  readonly logging: LoggingConfig;
  readonly domain: DomainConfig;
}

type Specs = { readonly [K in keyof EffectiveConfig]: ConfigMapSpec<EffectiveConfig[K]> };

export function configMapSpecs(clusterDomain = DEFAULT_CLUSTER_DOMAIN): Specs {
  return {
    autoscaler: autoscalerConfigMap,
    defaults: defaultsConfigMap,
    deployment: deploymentConfigMap,
    network: networkConfigMap,
    features: featuresConfigMap,
    observability: observabilityConfigMap,
    logging: loggingConfigMap,
    domain: domainConfigMap(clusterDomain),
  };
}

/** Knative config maps that knts has no use for: accepted with a warning. */
export const IGNORED_KNATIVE_CONFIG_MAPS = ['config-gc', 'config-leader-election', 'config-certmanager', 'config-tracing', 'config-kourier'];

/** A ConfigMap as found in a file. */
export interface ConfigMapDocument {
  readonly name: string;
  readonly namespace: string | undefined;
  readonly data: RawData;
  /** `file:line`, for messages. */
  readonly origin: string;
}

/** A problem with a whole document or map rather than one key. */
export interface DocumentProblem {
  readonly origin: string;
  readonly message: string;
}

export const formatDocumentProblem = (p: DocumentProblem): string => `${p.origin}: ${p.message}`;

/** Checks that a YAML value is a ConfigMap, and extracts its name and string data. */
export function asConfigMap(value: unknown, origin: string): { map?: ConfigMapDocument; problems: DocumentProblem[] } {
  const problems: DocumentProblem[] = [];
  const fail = (message: string) => ({ problems: [...problems, { origin, message }] });
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return fail('document is not a YAML map: expected a ConfigMap');
  const doc = value as Record<string, unknown>;
  if (doc['kind'] !== 'ConfigMap') {
    return fail(doc['kind'] === undefined ? 'document has no kind: expected kind ConfigMap' : `kind ${JSON.stringify(doc['kind'])} is not a ConfigMap`);
  }
  if (doc['apiVersion'] !== 'v1') return fail(`ConfigMap apiVersion must be "v1", not ${JSON.stringify(doc['apiVersion'] ?? null)}`);
  const meta = doc['metadata'];
  const name = meta !== null && typeof meta === 'object' ? (meta as Record<string, unknown>)['name'] : undefined;
  if (typeof name !== 'string' || name === '') return fail('ConfigMap has no metadata.name');
  const nsValue = (meta as Record<string, unknown>)['namespace'];
  const rawData = doc['data'] ?? {};
  if (typeof rawData !== 'object' || rawData === null || Array.isArray(rawData)) return fail(`${name}: data must be a map of string keys to string values`);
  const data: Record<string, string> = {};
  for (const [key, v] of Object.entries(rawData as Record<string, unknown>)) {
    if (typeof v === 'string') data[key] = v;
    else if (v === null) data[key] = ''; // Kubernetes stores a null value as ""
    else problems.push({ origin, message: `${name}: ${key}: ${JSON.stringify(v)} must be a string: ConfigMap values are text, so quote it ("${String(v)}")` });
  }
  return { map: { name, namespace: typeof nsValue === 'string' ? nsValue : undefined, data, origin }, problems };
}

export interface EffectiveResult {
  readonly config: EffectiveConfig;
  /** Which maps were given, by ConfigMap name. */
  readonly given: readonly string[];
  readonly errors: readonly string[];
  readonly warnings: readonly string[];
}

/**
 * Builds the effective configuration from ConfigMaps. An invalid map keeps its defaults in
 * the result (the caller decides whether to use it); every problem is listed.
 */
export function effectiveConfig(maps: readonly ConfigMapDocument[], clusterDomain = DEFAULT_CLUSTER_DOMAIN): EffectiveResult {
  const specs = configMapSpecs(clusterDomain);
  const byName = new Map(Object.entries(specs).map(([prop, spec]) => [spec.name, prop as keyof EffectiveConfig]));
  const out: Record<string, unknown> = {};
  for (const [prop, spec] of Object.entries(specs)) out[prop] = spec.defaults();
  const errors: string[] = [];
  const warnings: string[] = [];
  const seen = new Map<string, string>();
  for (const m of maps) {
    const prop = byName.get(m.name);
    if (!prop) {
      if (IGNORED_KNATIVE_CONFIG_MAPS.includes(m.name)) warnings.push(`${m.origin}: ${m.name} is a Knative config map that knts does not use; it is ignored`);
      else errors.push(`${m.origin}: unknown config map ${JSON.stringify(m.name)}; knts reads ${[...byName.keys()].join(', ')}`);
      continue;
    }
    const earlier = seen.get(m.name);
    if (earlier) {
      errors.push(`${m.origin}: ${m.name} is already defined at ${earlier}`);
      continue;
    }
    seen.set(m.name, m.origin);
    const spec = specs[prop] as ConfigMapSpec<unknown>;
    const result = spec.parse(m.data);
    warnings.push(...result.warnings.map(formatIssue));
    if (result.ok) out[prop] = result.config;
    else errors.push(...result.errors.map(formatIssue));
  }
  return { config: out as unknown as EffectiveConfig, given: [...seen.keys()], errors, warnings };
}

/** The effective configuration as JSON-ready data, keyed by ConfigMap name. */
export function showEffectiveConfig(config: EffectiveConfig, clusterDomain = DEFAULT_CLUSTER_DOMAIN): Record<string, unknown> {
  const specs = configMapSpecs(clusterDomain);
  const out: Record<string, unknown> = {};
  for (const [prop, spec] of Object.entries(specs) as [keyof EffectiveConfig, ConfigMapSpec<unknown>][]) {
    out[spec.name] = spec.show(config[prop]);
  }
  return out;
}

