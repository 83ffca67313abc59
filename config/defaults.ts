// config-defaults: the values the webhook puts into revisions that leave them out (spec §4.2):
// timeouts, container concurrency and its limits, container names and resource defaults.
import { boolField, optionalField, quantityField } from './fields.ts';
import { parseTemplate, TemplateError } from './go-template.ts';
import { fieldMap, type CrossIssue, type Field } from './schema.ts';
import { fail, ok, parseInt64, type Parsed } from './values.ts';

export interface DefaultsConfig {
  readonly revisionTimeoutSeconds: number;
  readonly maxRevisionTimeoutSeconds: number;
  /** Defaults to revisionTimeoutSeconds; applied to a revision only when strictly smaller. */
  readonly revisionResponseStartTimeoutSeconds: number;
  readonly revisionIdleTimeoutSeconds: number;
  readonly containerConcurrency: number;
  readonly containerConcurrencyMaxLimit: number;
  readonly allowContainerConcurrencyZero: boolean;
  /** undefined leaves the pod's field unset (the Kubernetes default). */
  readonly enableServiceLinks: boolean | undefined;
  readonly containerNameTemplate: string;
  readonly initContainerNameTemplate: string;
  readonly revisionCpuRequest: string | undefined;
  readonly revisionMemoryRequest: string | undefined;
  readonly revisionEphemeralStorageRequest: string | undefined;
  readonly revisionCpuLimit: string | undefined;
  readonly revisionMemoryLimit: string | undefined;
  readonly revisionEphemeralStorageLimit: string | undefined;
}

const int64Field = (key: string, def: number): Field<number> => ({ key, default: def, parse: parseInt64 });

/** `true`/`false` in any case; Knative treats anything else as "leave unset", never an error. */
function parseServiceLinks(raw: string): Parsed<boolean | undefined> {
  const lower = raw.toLowerCase();
  if (lower === 'true') return ok(true);
  if (lower === 'false') return ok(false);
  return { ok: true, value: undefined, warning: 'is neither true nor false, so the pod field stays unset' };
}

/** What a name template sees: Go's metav1.ObjectMeta, with labels and annotations as maps. */
export interface ObjectMetaLike {
  readonly name?: string;
  readonly generateName?: string;
  readonly namespace?: string;
  readonly uid?: string;
  readonly generation?: number;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

export function objectMetaTemplateData(meta: ObjectMetaLike = {}): Record<string, unknown> {
  return {
    Name: meta.name ?? '',
    GenerateName: meta.generateName ?? '',
    Namespace: meta.namespace ?? '',
    UID: meta.uid ?? '',
    Generation: meta.generation ?? 0,
    Labels: new Map(Object.entries(meta.labels ?? {})),
    Annotations: new Map(Object.entries(meta.annotations ?? {})),
  };
}

/** A name template must parse, and must run on an empty ObjectMeta, as Knative checks. */
function parseNameTemplate(raw: string): Parsed<string> {
  try {
    parseTemplate(raw, 'container-template').execute(objectMetaTemplateData());
    return ok(raw);
  } catch (err) {
    if (err instanceof TemplateError) return fail(`is not a valid template: ${err.message}`);
    throw err;
  }
}

const templateField = (key: string, def: string): Field<string> => ({ key, default: def, parse: parseNameTemplate });

export const defaultsConfigMap = fieldMap<DefaultsConfig>(
  'config-defaults',
  {
    revisionTimeoutSeconds: int64Field('revision-timeout-seconds', 300),
    maxRevisionTimeoutSeconds: int64Field('max-revision-timeout-seconds', 600),
    // -1 stands for "absent": complete() turns it into the revision timeout.
    revisionResponseStartTimeoutSeconds: int64Field('revision-response-start-timeout-seconds', -1),
    revisionIdleTimeoutSeconds: int64Field('revision-idle-timeout-seconds', 0),
    containerConcurrency: int64Field('container-concurrency', 0),
    containerConcurrencyMaxLimit: int64Field('container-concurrency-max-limit', 1000),
    allowContainerConcurrencyZero: boolField('allow-container-concurrency-zero', true),
    enableServiceLinks: { ...optionalField('enable-service-links', parseServiceLinks), default: false },
    containerNameTemplate: templateField('container-name-template', 'user-container'),
    initContainerNameTemplate: templateField('init-container-name-template', 'init-container'),
    revisionCpuRequest: quantityField('revision-cpu-request'),
    revisionMemoryRequest: quantityField('revision-memory-request'),
    revisionEphemeralStorageRequest: quantityField('revision-ephemeral-storage-request'),
    revisionCpuLimit: quantityField('revision-cpu-limit'),
    revisionMemoryLimit: quantityField('revision-memory-limit'),
    revisionEphemeralStorageLimit: quantityField('revision-ephemeral-storage-limit'),
  },
  {
    complete: (c, data) =>
      data['revision-response-start-timeout-seconds'] === undefined
        ? { ...c, revisionResponseStartTimeoutSeconds: c.revisionTimeoutSeconds }
        : c,
    validate: crossChecks,
  },
);

function crossChecks(c: DefaultsConfig): CrossIssue[] {
  const issues: CrossIssue[] = [];
  if (c.revisionTimeoutSeconds > c.maxRevisionTimeoutSeconds) {
    issues.push({
      key: 'revision-timeout-seconds',
      rule: `must not be greater than max-revision-timeout-seconds (${c.maxRevisionTimeoutSeconds})`,
    });
  }
  if (c.revisionResponseStartTimeoutSeconds > 0 && c.revisionResponseStartTimeoutSeconds > c.revisionTimeoutSeconds) {
    issues.push({
      key: 'revision-response-start-timeout-seconds',
      rule: `must not be greater than revision-timeout-seconds (${c.revisionTimeoutSeconds})`,
    });
  }
  if (c.revisionIdleTimeoutSeconds > 0 && c.revisionIdleTimeoutSeconds > c.revisionTimeoutSeconds) {
    issues.push({
      key: 'revision-idle-timeout-seconds',
      rule: `must not be greater than revision-timeout-seconds (${c.revisionTimeoutSeconds})`,
    });
  }
  // Knative checks only the lower bound (its message quotes MaxInt32, but larger values pass).
  if (c.containerConcurrencyMaxLimit < 1) {
    issues.push({ key: 'container-concurrency-max-limit', rule: 'must be at least 1' });
  } else if (c.containerConcurrency < 0 || c.containerConcurrency > c.containerConcurrencyMaxLimit) {
    issues.push({
      key: 'container-concurrency',
      rule: `must be between 0 and container-concurrency-max-limit (${c.containerConcurrencyMaxLimit})`,
    });
  }
  return issues;
}
