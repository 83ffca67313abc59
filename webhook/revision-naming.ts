// Revision names and when a Configuration makes a new Revision (spec §5.1). A Revision is
// named by its template (`metadata.name`) or else `<config>-<generation as %05d>` through
// kmeta.ChildName; the Configuration's generation moves, and a Revision is made, whenever
// its template changes. nextConfigurationState is that rule as a pure step for the embedded
// runtime, which keeps no API server to count generations for it.
import { createHash } from 'node:crypto';
import { childName } from '../config/k8s-names.ts';
import type { RevisionTemplateSpec } from './types.ts';

/** `hello-00001`; generation 123456 gives `hello-123456`; a template name wins when given. */
export function revisionName(configName: string, generation: number, templateName?: string): string {
  if (templateName !== undefined && templateName !== '') return templateName;
  return childName(configName, `-${String(generation).padStart(5, '0')}`);
}

/**
 * The template as canonical JSON: object keys sorted, and absent, null, empty-map and
 * empty-list values dropped. Those are the differences Kubernetes' semantic equality and Go's
 * omitempty serialisation do not see, so two templates with the same canonical form are the
 * same generation. Array order and every scalar (0, false, "") still count.
 */
export function canonicalTemplate(template: RevisionTemplateSpec): string {
  return JSON.stringify(canonical(template)) ?? '{}';
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) {
    const items = v.map(canonical).map((x) => (x === undefined ? null : x));
    return items.length > 0 ? items : undefined;
  }
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(v).sort()) {
      const c = canonical((v as Record<string, unknown>)[key]);
      if (c !== undefined) out[key] = c;
    }
    return Object.keys(out).length > 0 ? out : undefined;
  }
  return v === null ? undefined : v;
}

/** A stable digest of the template's canonical form (hex SHA-256). */
export function templateHash(template: RevisionTemplateSpec): string {
  return createHash('sha256').update(canonicalTemplate(template)).digest('hex');
}

/** True when going from `a` to `b` moves the Configuration to a new generation. */
export function templateChanged(a: RevisionTemplateSpec, b: RevisionTemplateSpec): boolean {
  return canonicalTemplate(a) !== canonicalTemplate(b);
}

export interface ConfigurationState {
  readonly generation: number;
  readonly template: RevisionTemplateSpec;
  readonly latestCreatedRevisionName: string;
}

export interface ConfigurationStep {
  readonly generation: number;
  /** The Revision for this generation (the latest created one when nothing changed). */
  readonly revisionName: string;
  readonly createsRevision: boolean;
  /**
   * Set when the template keeps the name of the previous Revision but changes its spec: the
   * name is taken, so Knative creates nothing and marks the Configuration failed with this.
   */
  readonly conflict?: string;
}

/**
 * The Configuration after `template` is applied: generation 1 and a first Revision for a new
 * Configuration; the same generation and Revision when the template did not change; otherwise
 * the next generation and, normally, a new Revision. When a template name repeats the previous
 * Revision's name, Knative's reconciler reuses that Revision if only metadata changed and
 * reports a conflict otherwise. (The webhook rejects such a change beforehand; this covers
 * callers that skip it. Names of older Revisions are not known here.)
 */
export function nextConfigurationState(prev: ConfigurationState | undefined, configName: string, template: RevisionTemplateSpec): ConfigurationStep {
  const templateName = template.metadata?.name;
  if (prev === undefined) return { generation: 1, revisionName: revisionName(configName, 1, templateName), createsRevision: true };
  if (!templateChanged(prev.template, template)) {
    return { generation: prev.generation, revisionName: prev.latestCreatedRevisionName, createsRevision: false };
  }
  const generation = prev.generation + 1;
  const name = revisionName(configName, generation, templateName);
  if (name !== prev.latestCreatedRevisionName) return { generation, revisionName: name, createsRevision: true };
  if (!templateChanged({ spec: prev.template.spec ?? {} }, { spec: template.spec ?? {} })) {
    return { generation, revisionName: name, createsRevision: false };
  }
  return {
    generation,
    revisionName: name,
    createsRevision: false,
    conflict: `Revision creation failed with message: revisions.serving.knative.dev ${JSON.stringify(name)} already exists.`,
  };
}
