// config-deployment: how revisions become Deployments (spec §4.3): the queue-proxy image and
// its resources, progress deadline, tag resolution, affinity and runtime classes.
import { parse as parseYaml } from 'yaml';
import { yamlErrorLine } from './yaml-documents.ts';
import { SECOND } from './duration.ts';
import { boolField, durationField, enumField, optionalField, quantityField, stringField } from './fields.ts';
import { dns1123SubdomainErrors, labelSetProblem, mostSpecificMatch } from './k8s-names.ts';
import { fieldMap, type CrossIssue, type Field } from './schema.ts';
import { fail, ok, parseQuantity, type Parsed } from './values.ts';

export interface RuntimeClass {
  readonly name: string;
  readonly selector: Readonly<Record<string, string>>;
}

export type AffinityType = 'none' | 'prefer-spread-revision-over-nodes';

export interface DeploymentConfig {
  readonly queueSidecarImage: string;
  /** Nanoseconds. */
  readonly progressDeadline: number;
  readonly digestResolutionTimeout: number;
  readonly registriesSkippingTagResolving: readonly string[];
  readonly queueSidecarCpuRequest: string | undefined;
  readonly queueSidecarCpuLimit: string | undefined;
  readonly queueSidecarMemoryRequest: string | undefined;
  readonly queueSidecarMemoryLimit: string | undefined;
  readonly queueSidecarEphemeralStorageRequest: string | undefined;
  readonly queueSidecarEphemeralStorageLimit: string | undefined;
  readonly queueSidecarTokenAudiences: readonly string[];
  readonly queueSidecarRootCa: string;
  readonly queueSidecarTlsMinVersion: string;
  readonly queueSidecarTlsMaxVersion: string;
  readonly queueSidecarTlsCipherSuites: string;
  readonly queueSidecarTlsCurvePreferences: string;
  readonly defaultAffinityType: AffinityType;
  readonly runtimeClassNames: readonly RuntimeClass[];
  readonly podIsAlwaysSchedulable: boolean;
}

/** A comma-separated set; entries are trimmed and empty ones dropped. */
function parseStringSet(raw: string): Parsed<readonly string[]> {
  return ok([...new Set(raw.split(',').map((s) => s.trim()).filter((s) => s !== ''))]);
}

const setField = (key: string, def: readonly string[], aliases?: readonly string[]): Field<readonly string[]> => ({
  key,
  default: def,
  parse: parseStringSet,
  ...(aliases ? { aliases } : {}),
});

/** `runtime-class-name`: YAML mapping a class name to an optional `selector` of labels. */
function parseRuntimeClasses(raw: string): Parsed<readonly RuntimeClass[]> {
  let doc: unknown;
  try {
    doc = parseYaml(raw);
  } catch (err) {
    return fail(`is not valid YAML: ${yamlErrorLine(err)}`);
  }
  if (doc === null || doc === undefined || doc === '') return ok([]);
  if (typeof doc !== 'object' || Array.isArray(doc)) return fail('must be a YAML map of runtime class name to {selector: {label: value}}');
  const classes: RuntimeClass[] = [];
  for (const [name, spec] of Object.entries(doc as Record<string, unknown>)) {
    const nameErr = dns1123SubdomainErrors(name)[0];
    if (nameErr) return fail(`has a runtime class name ${JSON.stringify(name)} that is not a DNS subdomain: ${nameErr}`);
    const selector = spec !== null && typeof spec === 'object' ? (spec as { selector?: unknown }).selector : undefined;
    if (spec !== null && spec !== undefined && (typeof spec !== 'object' || Array.isArray(spec))) {
      return fail(`has class ${JSON.stringify(name)} whose value is not a map with an optional selector`);
    }
    const problem = labelSetProblem(selector);
    if (problem) return fail(`has class ${JSON.stringify(name)} with an invalid selector: ${problem}`);
    classes.push({ name, selector: (selector ?? {}) as Record<string, string> });
  }
  return ok(classes);
}

export const deploymentConfigMap = fieldMap<DeploymentConfig>(
  'config-deployment',
  {
    queueSidecarImage: stringField('queue-sidecar-image', '', { aliases: ['queueSidecarImage'] }),
    progressDeadline: durationField('progress-deadline', 600 * SECOND, { positive: true, wholeSeconds: true }, { aliases: ['progressDeadline'] }),
    digestResolutionTimeout: durationField('digest-resolution-timeout', 10 * SECOND, { positive: true }, { aliases: ['digestResolutionTimeout'] }),
    registriesSkippingTagResolving: setField('registries-skipping-tag-resolving', ['kind.local', 'ko.local', 'dev.local'], ['registriesSkippingTagResolving']),
    queueSidecarCpuRequest: { ...optionalField('queue-sidecar-cpu-request', parseQuantity, { aliases: ['queueSidecarCPURequest'] }), default: '25m' },
    queueSidecarCpuLimit: { ...quantityField('queue-sidecar-cpu-limit'), aliases: ['queueSidecarCPULimit'] },
    queueSidecarMemoryRequest: { ...quantityField('queue-sidecar-memory-request'), aliases: ['queueSidecarMemoryRequest'] },
    queueSidecarMemoryLimit: { ...quantityField('queue-sidecar-memory-limit'), aliases: ['queueSidecarMemoryLimit'] },
    queueSidecarEphemeralStorageRequest: { ...quantityField('queue-sidecar-ephemeral-storage-request'), aliases: ['queueSidecarEphemeralStorageRequest'] },
    queueSidecarEphemeralStorageLimit: { ...quantityField('queue-sidecar-ephemeral-storage-limit'), aliases: ['queueSidecarEphemeralStorageLimit'] },
    queueSidecarTokenAudiences: setField('queue-sidecar-token-audiences', []),
    queueSidecarRootCa: stringField('queue-sidecar-rootca', ''),
    queueSidecarTlsMinVersion: stringField('queue-sidecar-tls-min-version', ''),
    queueSidecarTlsMaxVersion: stringField('queue-sidecar-tls-max-version', ''),
    queueSidecarTlsCipherSuites: stringField('queue-sidecar-tls-cipher-suites', ''),
    queueSidecarTlsCurvePreferences: stringField('queue-sidecar-tls-curve-preferences', ''),
    // Knative compares this one case-sensitively.
    defaultAffinityType: enumField<AffinityType>('default-affinity-type', 'prefer-spread-revision-over-nodes', ['none', 'prefer-spread-revision-over-nodes']),
    runtimeClassNames: { key: 'runtime-class-name', default: [], parse: parseRuntimeClasses },
    podIsAlwaysSchedulable: boolField('pod-is-always-schedulable', false),
  },
  {
    validate: (c): CrossIssue[] =>
      c.queueSidecarImage === '' ? [{ key: 'queue-sidecar-image', rule: 'is required: set the queue-proxy image' }] : [],
  },
);

/**
 * The runtime class for a pod: the matching entry with the most selector labels wins, ties go
 * to the smallest name, and an entry without selector matches every pod.
 */
export function runtimeClassFor(config: DeploymentConfig, podLabels: Readonly<Record<string, string>>): string | undefined {
  return mostSpecificMatch(config.runtimeClassNames, (rc) => rc.name, podLabels)?.name;
}
