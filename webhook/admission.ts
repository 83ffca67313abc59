// The admission webhook's decisions, without HTTP: reading an `admission.k8s.io/v1`
// AdmissionReview, and answering it for Knative's three admission paths (cmd/webhook):
// `/defaulting` (a JSON Patch to the defaulted object, creator/lastModifier included),
// `/resource-validation` (deny with the FieldError text, warnings apart) and
// `/config-validation` (the config package's parse of the `config-*` ConfigMaps). Denials are
// shaped as knative/pkg's MakeErrorStatus: a 400 BadRequest Status whose message starts with
// the phase that failed ("mutation failed: ", "validation failed: ", "decoding request
// failed: "). Pure: the caller supplies the configuration and the Serving semantics.
import { crc32 } from 'node:zlib';
import { configMapSpecs, asConfigMap, type EffectiveConfig } from '../config/configmaps.ts';
import { formatIssue, EXAMPLE_KEY, type ConfigMapSpec } from '../config/schema.ts';
import type { FieldError } from './field-error.ts';
import { createPatch } from './json-patch.ts';
import { SERVING_GROUP, SERVING_KINDS, type ServingKind, type ServingResource } from './types.ts';

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';
/** v1beta1 has the same shape; like knative/pkg, answer in the version that was asked. */
const ADMISSION_API_VERSIONS: readonly string[] = [ADMISSION_API_VERSION, 'admission.k8s.io/v1beta1'];

/** knative.dev/pkg configmap.ExampleChecksumAnnotation. */
export const EXAMPLE_CHECKSUM_ANNOTATION = 'knative.dev/example-checksum';

// ---------------------------------------------------------------------------------------------
// The review.

export interface GroupVersionKind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

export interface AdmissionRequest {
  readonly uid: string;
  readonly kind: GroupVersionKind;
  readonly operation: string;
  readonly name?: string;
  readonly namespace?: string;
  readonly subResource?: string;
  readonly userInfo?: { readonly username?: string };
  readonly object?: unknown;
  readonly oldObject?: unknown;
  readonly dryRun?: boolean;
}

/** metav1.Status as apierrors.NewBadRequest(...).Status() renders it. */
export interface AdmissionStatus {
  readonly metadata: Record<string, never>;
  readonly status: 'Failure';
  readonly message: string;
  readonly reason: 'BadRequest' | 'InternalError';
  readonly code: 400 | 500;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  patchType?: 'JSONPatch';
  /** Base64 of the JSON Patch text. */
  patch?: string;
  status?: AdmissionStatus;
  warnings?: string[];
}

export interface AdmissionReviewResponse {
  readonly apiVersion: string;
  readonly kind: 'AdmissionReview';
  readonly response: AdmissionResponse;
}

export type ParsedReview = { readonly ok: true; readonly apiVersion: string; readonly request: AdmissionRequest } | { readonly ok: false; readonly error: string };

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const optString = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Checks the envelope: an AdmissionReview of a known version with a request that has a uid. */
export function parseAdmissionReview(body: unknown): ParsedReview {
  const fail = (error: string): ParsedReview => ({ ok: false, error });
  if (!isRecord(body)) return fail('the body is not a JSON object: expected an AdmissionReview');
  if (body['kind'] !== 'AdmissionReview') return fail(`kind is ${JSON.stringify(body['kind'] ?? null)}: expected "AdmissionReview"`);
  const apiVersion = body['apiVersion'];
  if (typeof apiVersion !== 'string' || !ADMISSION_API_VERSIONS.includes(apiVersion)) {
    return fail(`apiVersion is ${JSON.stringify(apiVersion ?? null)}: expected "${ADMISSION_API_VERSION}"`);
  }
  const req = body['request'];
  if (!isRecord(req)) return fail('the AdmissionReview has no request');
  const uid = req['uid'];
  if (typeof uid !== 'string' || uid === '') return fail('request.uid is missing');
  const kind = req['kind'];
  if (!isRecord(kind) || typeof kind['kind'] !== 'string') return fail('request.kind is missing: expected {group, version, kind}');
  const operation = req['operation'];
  if (typeof operation !== 'string') return fail('request.operation is missing');
  const userInfo = isRecord(req['userInfo']) ? optString(req['userInfo']['username']) : undefined;
  const opt = <K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } => (value === undefined ? {} : ({ [key]: value } as { [P in K]: V }));
  const request: AdmissionRequest = {
    uid,
    kind: { group: optString(kind['group']) ?? '', version: optString(kind['version']) ?? '', kind: kind['kind'] },
    operation,
    ...opt('name', optString(req['name'])),
    ...opt('namespace', optString(req['namespace'])),
    ...opt('subResource', optString(req['subResource'])),
    ...(userInfo === undefined ? {} : { userInfo: { username: userInfo } }),
    // null and absent both mean "no object" (DELETE has no new object, CREATE no old one).
    ...opt('object', req['object'] ?? undefined),
    ...opt('oldObject', req['oldObject'] ?? undefined),
    ...opt('dryRun', typeof req['dryRun'] === 'boolean' ? req['dryRun'] : undefined),
  };
  return { ok: true, apiVersion, request };
}

export function reviewResponse(apiVersion: string, response: AdmissionResponse): AdmissionReviewResponse {
  return { apiVersion, kind: 'AdmissionReview', response };
}

const allow = (uid: string): AdmissionResponse => ({ uid, allowed: true });

/** knative/pkg MakeErrorStatus: a denial carrying a 400 BadRequest Status. */
export function deny(uid: string, message: string): AdmissionResponse {
  return { uid, allowed: false, status: { metadata: {}, status: 'Failure', message, reason: 'BadRequest', code: 400 } };
}

// ---------------------------------------------------------------------------------------------
// What the paths need.

/** The Serving resource semantics the webhook applies (parse.ts, defaults.ts, validation.ts). */
export interface ServingSemantics {
  parse(doc: unknown): { ok: true; resource: ServingResource } | { ok: false; error: string };
  setDefaults<T extends ServingResource>(resource: T, config: EffectiveConfig, opts?: { operation?: 'CREATE' | 'UPDATE'; old?: ServingResource; username?: string }): T;
  validate(resource: ServingResource, config: EffectiveConfig, opts: { operation: 'CREATE' | 'UPDATE'; old?: ServingResource }): FieldError | undefined;
}

export interface AdmissionContext {
  readonly config: EffectiveConfig;
  readonly semantics: ServingSemantics;
  /** For config-domain's default; see config/cluster-domain.ts. */
  readonly clusterDomain: string;
}

export type AdmissionPath = '/defaulting' | '/resource-validation' | '/config-validation';
export const ADMISSION_PATHS: readonly AdmissionPath[] = ['/defaulting', '/resource-validation', '/config-validation'];

/** serving.knative.dev/v1 Service, Configuration, Revision or Route; other kinds pass unchanged. */
export function isServingKind(kind: GroupVersionKind): kind is GroupVersionKind & { kind: ServingKind } {
  return kind.group === SERVING_GROUP && kind.version === 'v1' && (SERVING_KINDS as readonly string[]).includes(kind.kind);
}

const isCreateOrUpdate = (op: string): op is 'CREATE' | 'UPDATE' => op === 'CREATE' || op === 'UPDATE';

/**
 * A controller writing status: the spec cannot change through the status subresource, so
 * Knative's Validate skips it (a config change must not block status updates) and defaulting
 * has nothing the API server would keep.
 */
const isStatusUpdate = (req: AdmissionRequest): boolean => req.subResource === 'status';

/**
 * Answers one request on one path. A failure inside the semantics (a bug, or input nobody
 * foresaw) becomes a denial with a 500 InternalError status rather than an exception.
 */
export function admit(path: AdmissionPath, request: AdmissionRequest, ctx: AdmissionContext): AdmissionResponse {
  try {
    switch (path) {
      case '/defaulting':
        return admitDefaulting(request, ctx);
      case '/resource-validation':
        return admitValidation(request, ctx);
      case '/config-validation':
        return admitConfigMap(request, ctx);
    }
  } catch (err) {
    const message = `internal error: ${(err as Error).message}`;
    return { uid: request.uid, allowed: false, status: { metadata: {}, status: 'Failure', message, reason: 'InternalError', code: 500 } };
  }
}

/**
 * The request's object and old object as serving resources, or the denial knative/pkg gives
 * when one is missing or does not decode (`decodePhase` starts the decode message, `nilPhase`
 * the missing-object one).
 */
function decodeObjects(
  req: AdmissionRequest,
  ctx: AdmissionContext,
  decodePhase: string,
  nilPhase = decodePhase,
): { resource: ServingResource; old: ServingResource | undefined } | { denied: AdmissionResponse } {
  if (req.object === undefined) return { denied: deny(req.uid, `${nilPhase}: the new object may not be nil`) };
  const parsed = ctx.semantics.parse(req.object);
  if (!parsed.ok) return { denied: deny(req.uid, `${decodePhase}: cannot decode incoming new object: ${parsed.error}`) };
  if (req.oldObject === undefined) return { resource: parsed.resource, old: undefined };
  const old = ctx.semantics.parse(req.oldObject);
  if (!old.ok) return { denied: deny(req.uid, `${decodePhase}: cannot decode incoming old object: ${old.error}`) };
  return { resource: parsed.resource, old: old.resource };
}

// ---------------------------------------------------------------------------------------------
// /defaulting

export function admitDefaulting(req: AdmissionRequest, ctx: AdmissionContext): AdmissionResponse {
  // Like knative/pkg: only CREATE and UPDATE are defaulted; the rest pass without a patch.
  if (!isCreateOrUpdate(req.operation) || !isServingKind(req.kind) || isStatusUpdate(req)) return allow(req.uid);
  const decoded = decodeObjects(req, ctx, 'mutation failed');
  if ('denied' in decoded) return decoded.denied;
  const { resource, old } = decoded;
  // Defaulting also records the requesting user (serving.knative.dev/creator on CREATE,
  // lastModifier when the spec changes).
  const username = req.userInfo?.username;
  const defaulted = ctx.semantics.setDefaults(resource, ctx.config, {
    operation: req.operation,
    ...(old === undefined ? {} : { old }),
    ...(username === undefined || username === '' ? {} : { username }),
  });
  // The patch starts from the object exactly as sent, so it also carries any normalisation
  // the parser made (knative/pkg's round-trip patch).
  const patch = createPatch(req.object, defaulted);
  return { uid: req.uid, allowed: true, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(patch)).toString('base64') };
}

// ---------------------------------------------------------------------------------------------
// /resource-validation

export function admitValidation(req: AdmissionRequest, ctx: AdmissionContext): AdmissionResponse {
  // DELETE and CONNECT have nothing to validate (knative/pkg lets them through).
  if (!isCreateOrUpdate(req.operation) || !isServingKind(req.kind) || isStatusUpdate(req)) return allow(req.uid);
  const decoded = decodeObjects(req, ctx, 'decoding request failed', 'validation failed');
  if ('denied' in decoded) return decoded.denied;
  const { resource, old } = decoded;
  const result = ctx.semantics.validate(resource, ctx.config, { operation: req.operation, ...(old === undefined ? {} : { old }) });
  const errors = result?.errors;
  const warnings = result?.warnings?.lines() ?? [];
  const response = errors ? deny(req.uid, `validation failed: ${errors.toString()}`) : allow(req.uid);
  // Warnings go with the answer either way, one line each: the API server drops a warning
  // that holds a control character such as a newline.
  if (warnings.length > 0) response.warnings = warnings;
  return response;
}

// ---------------------------------------------------------------------------------------------
// /config-validation

export function admitConfigMap(req: AdmissionRequest, ctx: AdmissionContext): AdmissionResponse {
  if (!isCreateOrUpdate(req.operation)) return allow(req.uid);
  const { group, version, kind } = req.kind;
  if (group !== '' || version !== 'v1' || kind !== 'ConfigMap') return allow(req.uid);
  if (req.object === undefined) return allow(req.uid);
  const origin = `ConfigMap ${req.namespace ? `${req.namespace}/` : ''}${req.name ?? ''}`.trimEnd();
  const { map, problems } = asConfigMap(req.object, origin);
  if (!map || problems.length > 0) {
    return deny(req.uid, `validation failed: cannot decode incoming new object: ${problems.map((p) => p.message).join('; ')}`);
  }
  // Only the maps knts reads are checked, as knative/pkg checks only its registered names.
  const spec = Object.values(configMapSpecs(ctx.clusterDomain)).find((s: ConfigMapSpec<unknown>) => s.name === map.name);
  if (spec === undefined) return allow(req.uid);

  const example = map.data[EXAMPLE_KEY];
  const checksum = annotationsOf(req.object)[EXAMPLE_CHECKSUM_ANNOTATION];
  if (example !== undefined && checksum !== undefined && checksum !== exampleChecksum(example)) {
    return deny(
      req.uid,
      `validation failed: the update modifies a key in "${EXAMPLE_KEY}" which is probably not what you want. ` +
        'Instead, copy the respective setting to the top-level of the ConfigMap, directly below "data"',
    );
  }
  const result = spec.parse(map.data);
  const response = result.ok ? allow(req.uid) : deny(req.uid, `validation failed: ${result.errors.map(formatIssue).join('\n')}`);
  if (result.warnings.length > 0) response.warnings = result.warnings.map(formatIssue);
  return response;
}

/**
 * knative.dev/pkg configmap.Checksum: CRC-32 (IEEE) of the trimmed text, 8 hex digits, after
 * every run of line breaks became the two characters `\n` (Go's raw string there), so that
 * blank lines and CRLF do not count.
 */
function exampleChecksum(value: string): string {
  return crc32(value.trim().replace(/(?:\r?\n)+/g, '\\n')).toString(16).padStart(8, '0');
}

function annotationsOf(obj: unknown): Record<string, string> {
  const meta = isRecord(obj) ? obj['metadata'] : undefined;
  const annotations = isRecord(meta) ? meta['annotations'] : undefined;
  if (!isRecord(annotations)) return {};
  return Object.fromEntries(Object.entries(annotations).filter((e): e is [string, string] => typeof e[1] === 'string'));
}
