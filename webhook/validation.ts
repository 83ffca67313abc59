// Validation of serving resources, as Knative's validating webhook does it (spec §5.3, its
// *_validation.go): metadata, the revision template (pod spec, timeouts, container
// concurrency, annotations, its own name), traffic, and the rules that apply on update (an
// immutable Revision spec, a template that changes only with a new name, the creator and
// lastModifier annotations). Every problem is reported at once with Knative's paths and
// messages, warnings included (level "warning"); render with FieldError.toString().
//
// The resource is expected to be defaulted first (setDefaults), as the API server runs the
// mutating webhook before the validating one.
import type { EffectiveConfig } from '../config/configmaps.ts';
import { validatePodSpec } from './container-validation.ts';
import { also, errOutOfBoundsValue, FieldError } from './field-error.ts';
import { asObj, isPresent, type Obj } from './field-masks.ts';
import { jsonEqual, shortDiff } from './json-diff.ts';
import {
  autoscalingAnnotationErrors,
  noAutoscalingAnnotations,
  progressDeadlineErrors,
  queueSidecarAnnotationErrors,
  rolloutDurationErrors,
  validateCreatorAndModifier,
  validateObjectName,
  validateRevisionName,
  verifyLabelOwnerRef,
} from './metadata-validation.ts';
import { validateTraffic } from './route-validation.ts';
import { CONFIGURATION_LABEL, SERVICE_LABEL, type Configuration, type ObjectMeta, type Revision, type RevisionTemplateSpec, type Route, type Service, type ServingResource } from './types.ts';

export interface ValidateOptions {
  /** CREATE when absent. */
  readonly operation?: 'CREATE' | 'UPDATE';
  /** The stored object, on update: the update rules compare against it. */
  readonly old?: ServingResource;
}

/** Every problem with the resource, or undefined when there is none. */
export function validateResource(resource: ServingResource, config: EffectiveConfig, opts: ValidateOptions = {}): FieldError | undefined {
  const update = opts.operation === 'UPDATE';
  switch (resource.kind) {
    case 'Service':
      return validateService(resource, config, update ? sameKind(opts.old, 'Service') : undefined);
    case 'Configuration':
      return validateConfiguration(resource, config, update ? sameKind(opts.old, 'Configuration') : undefined);
    case 'Revision':
      return validateRevision(resource, config, update, update ? sameKind(opts.old, 'Revision') : undefined);
    case 'Route':
      return validateRoute(resource, update ? sameKind(opts.old, 'Route') : undefined);
  }
}

function sameKind<K extends ServingResource['kind']>(old: ServingResource | undefined, kind: K): Extract<ServingResource, { kind: K }> | undefined {
  return old?.kind === kind ? (old as Extract<ServingResource, { kind: K }>) : undefined;
}

const annotationsOf = (meta: ObjectMeta | undefined): Record<string, string> => meta?.annotations ?? {};

function validateService(svc: Service, config: EffectiveConfig, old: Service | undefined): FieldError | undefined {
  const meta = svc.metadata ?? {};
  const annotations = annotationsOf(meta);
  let errs = also(
    validateObjectName(meta),
    noAutoscalingAnnotations(annotations)?.viaField('annotations'),
    rolloutDurationErrors(annotations)?.viaField('annotations'),
  )?.viaField('metadata');
  const spec = svc.spec ?? {};
  // A Service's traffic defaults to its own configuration, which it may not name.
  errs = also(errs, also(validateTemplate(spec.template, config, meta)?.viaField('template'), validateTraffic(spec.traffic, { inService: true }))?.viaField('spec'));
  if (old !== undefined) {
    errs = also(
      errs,
      validateCreatorAndModifier(jsonEqual(old.spec, svc.spec), annotationsOf(old.metadata), annotations)?.viaField('metadata.annotations'),
      verifyNameChange(spec.template, old.spec?.template)?.viaField('spec.template'),
    );
  }
  return errs;
}

function validateConfiguration(cfg: Configuration, config: EffectiveConfig, old: Configuration | undefined): FieldError | undefined {
  const meta = cfg.metadata ?? {};
  const annotations = annotationsOf(meta);
  let errs = serviceChildMetadataErrors(meta)?.viaField('metadata');
  errs = also(errs, validateTemplate(cfg.spec?.template, config, meta)?.viaField('spec.template'));
  if (old !== undefined) {
    // A Service's Configuration carries the Service's annotations; only a standalone one is checked.
    if (!isPresent(meta.ownerReferences)) {
      errs = also(errs, validateCreatorAndModifier(jsonEqual(old.spec, cfg.spec), annotationsOf(old.metadata), annotations)?.viaField('metadata.annotations'));
    }
    errs = also(errs, verifyNameChange(cfg.spec?.template, old.spec?.template)?.viaField('spec.template'));
  }
  return errs;
}

/**
 * The metadata of what a Service may own, a Configuration or a Route (paths relative to it): its
 * name, no autoscaling annotations, and a Service label only with that Service as its owner.
 */
function serviceChildMetadataErrors(meta: ObjectMeta): FieldError | undefined {
  const serviceLabel = meta.labels?.[SERVICE_LABEL];
  return also(
    validateObjectName(meta),
    noAutoscalingAnnotations(annotationsOf(meta))?.viaField('annotations'),
    serviceLabel === undefined ? undefined : verifyLabelOwnerRef(serviceLabel, SERVICE_LABEL, 'Service', meta.ownerReferences)?.viaField('labels'),
  );
}

function validateRevision(rev: Revision, config: EffectiveConfig, update: boolean, old: Revision | undefined): FieldError | undefined {
  const meta = rev.metadata ?? {};
  const configurationLabel = meta.labels?.[CONFIGURATION_LABEL];
  const errs = also(
    validateObjectName(meta),
    autoscalingAnnotationErrors(annotationsOf(meta), config.autoscaler)?.viaField('annotations'),
    configurationLabel === undefined
      ? undefined
      : verifyLabelOwnerRef(configurationLabel, CONFIGURATION_LABEL, 'Configuration', meta.ownerReferences)?.viaField('labels'),
  )?.viaField('metadata');
  if (update) {
    // The spec never changes; a change is the only thing reported then.
    const diff = old === undefined ? '' : shortDiff(old.spec, rev.spec, '{v1.RevisionSpec}');
    return diff === '' ? errs : FieldError.of('Immutable fields changed (-old +new)', ['spec'], diff);
  }
  return also(errs, validateRevisionSpec((rev.spec ?? {}) as Obj, config)?.viaField('spec'));
}

function validateRoute(route: Route, old: Route | undefined): FieldError | undefined {
  const meta = route.metadata ?? {};
  const annotations = annotationsOf(meta);
  let errs = also(serviceChildMetadataErrors(meta), rolloutDurationErrors(annotations)?.viaField('annotations'))?.viaField('metadata');
  errs = also(errs, validateTraffic(route.spec?.traffic, { inService: false })?.viaField('spec'));
  if (old !== undefined && !isPresent(meta.ownerReferences)) {
    errs = also(errs, validateCreatorAndModifier(jsonEqual(old.spec, route.spec), annotationsOf(old.metadata), annotations)?.viaField('metadata.annotations'));
  }
  return errs;
}

/**
 * A revision template (paths relative to it): its spec, its annotations, and a name of its own
 * that must extend the parent's.
 */
function validateTemplate(template: RevisionTemplateSpec | undefined, config: EffectiveConfig, parent: ObjectMeta): FieldError | undefined {
  const meta = template?.metadata ?? {};
  const annotations = annotationsOf(meta);
  return also(
    validateRevisionSpec((template?.spec ?? {}) as Obj, config)?.viaField('spec'),
    autoscalingAnnotationErrors(annotations, config.autoscaler)?.viaField('metadata.annotations'),
    validateRevisionName(meta, parent),
    queueSidecarAnnotationErrors(annotations)?.viaField('metadata.annotations'),
    progressDeadlineErrors(annotations)?.viaField('metadata.annotations'),
  );
}

/** A revision spec: the pod part, then Knative's timeout and concurrency bounds. */
function validateRevisionSpec(spec: Obj, config: EffectiveConfig): FieldError | undefined {
  const d = config.defaults;
  let errs = validatePodSpec(spec, config.features);
  const timeout = spec['timeoutSeconds'];
  // 0 means "the default"; anything else must fit under the cluster's maximum.
  if (typeof timeout === 'number' && timeout !== 0 && (timeout < 0 || timeout > d.maxRevisionTimeoutSeconds)) {
    errs = also(errs, errOutOfBoundsValue(timeout, 0, d.maxRevisionTimeoutSeconds, 'timeoutSeconds'));
  }
  const cc = spec['containerConcurrency'];
  if (typeof cc === 'number') {
    const min = d.allowContainerConcurrencyZero ? 0 : 1;
    if (cc < min || cc > d.containerConcurrencyMaxLimit) errs = also(errs, errOutOfBoundsValue(cc, min, d.containerConcurrencyMaxLimit, 'containerConcurrency'));
  }
  return errs;
}

/**
 * A template that keeps its own name may not change: the name is the revision's, and a
 * revision never changes. Paths relative to the template.
 */
function verifyNameChange(next: RevisionTemplateSpec | undefined, prev: RevisionTemplateSpec | undefined): FieldError | undefined {
  const name = next?.metadata?.name ?? '';
  if (name === '' || name !== (prev?.metadata?.name ?? '')) return undefined;
  const diff = shortDiff(asObj(prev) ?? {}, asObj(next) ?? {}, '{*v1.RevisionTemplateSpec}');
  return diff === '' ? undefined : FieldError.of('Saw the following changes without a name change (-old +new)', ['metadata.name'], diff);
}
