// config-network (knative/networking, spec §4.4): ingress and certificate classes, the domain
// and tag templates, TLS modes, HTTP protocol handling and rollout duration.
import { parse as parseYaml } from 'yaml';
import { yamlErrorLine } from './yaml-documents.ts';
import { boolField, stringField } from './fields.ts';
import { parseTemplate, TemplateError } from './go-template.ts';
import { labelSetProblem } from './k8s-names.ts';
import { fieldMap, type Field } from './schema.ts';
import { fail, ok, parseInt64, type Parsed } from './values.ts';

export type HttpProtocol = 'enabled' | 'disabled' | 'redirected';
export type TlsMode = 'enabled' | 'disabled';
export type MeshCompatibilityMode = 'enabled' | 'disabled' | 'auto';

export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly { key: string; operator: string; values?: string[] }[];
}

export interface NetworkConfig {
  readonly ingressClass: string;
  readonly certificateClass: string;
  readonly domainTemplate: string;
  readonly tagTemplate: string;
  readonly rolloutDurationSeconds: number;
  readonly autocreateClusterDomainClaims: boolean;
  readonly enableMeshPodAddressability: boolean;
  readonly meshCompatibilityMode: MeshCompatibilityMode;
  readonly defaultExternalScheme: string;
  readonly namespaceWildcardCertSelector: LabelSelector | undefined;
  readonly externalDomainTls: boolean;
  readonly clusterLocalDomainTls: TlsMode;
  readonly systemInternalTls: TlsMode;
  /** Deprecated spelling of systemInternalTls: enabled. */
  readonly internalEncryption: boolean;
  readonly httpProtocol: HttpProtocol;
}

export const DEFAULT_DOMAIN_TEMPLATE = '{{.Name}}.{{.Namespace}}.{{.Domain}}';
export const DEFAULT_TAG_TEMPLATE = '{{.Tag}}-{{.Name}}';

/** Data for the domain template: Name, Namespace, Domain, Annotations and Labels. */
export function domainTemplateData(v: {
  name: string;
  namespace: string;
  domain: string;
  annotations?: Readonly<Record<string, string>>;
  labels?: Readonly<Record<string, string>>;
}): Record<string, unknown> {
  return {
    Name: v.name,
    Namespace: v.namespace,
    Domain: v.domain,
    Annotations: new Map(Object.entries(v.annotations ?? {})),
    Labels: new Map(Object.entries(v.labels ?? {})),
  };
}

function templateProblem(raw: string, name: string, data: Record<string, unknown>): { out?: string; problem?: string } {
  try {
    return { out: parseTemplate(raw, name).execute(data) };
  } catch (err) {
    if (err instanceof TemplateError) return { problem: `is not a valid template: ${err.message}` };
    throw err;
  }
}

/** Go's url.URL.Hostname() for "https://" + rest: the authority without userinfo, port and brackets. */
function goHostname(rest: string): string {
  const authority = /^[^/?#]*/.exec(rest)?.[0] ?? '';
  let host = authority.slice(authority.lastIndexOf('@') + 1);
  const colon = host.lastIndexOf(':');
  if (colon >= 0 && /^[0-9]*$/.test(host.slice(colon + 1))) host = host.slice(0, colon);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return host;
}

/** The template must run on a sample route and give a bare hostname, as Knative checks. */
function parseDomainTemplate(raw: string): Parsed<string> {
  const { out, problem } = templateProblem(raw, 'domain-template', domainTemplateData({ name: 'foo', namespace: 'bar', domain: 'baz.com' }));
  if (problem) return fail(problem);
  // Go's url.Parse accepts an empty host ("https://", "https:///x", "https://:80") and Knative
  // then reports "empty hostname"; WHATWG URL throws or reads the path as the host, so the
  // host part is checked by hand first.
  if (goHostname(out ?? '') === '') return fail('gives an empty hostname for a sample route');
  let url: URL;
  try {
    url = new URL(`https://${out ?? ''}`);
  } catch {
    return fail(`gives ${JSON.stringify(out)} for a sample route, which is not a valid hostname`);
  }
  if (url.hostname === '') return fail('gives an empty hostname for a sample route');
  if (url.pathname + url.search !== '/') return fail(`gives a URL path (${url.pathname + url.search}) for a sample route; it must give a hostname only`);
  return ok(raw);
}

function parseTagTemplate(raw: string): Parsed<string> {
  const { problem } = templateProblem(raw, 'tag-template', { Name: 'foo', Tag: 'v2' });
  return problem ? fail(problem) : ok(raw);
}

const lowerEnum = <W extends string>(words: readonly W[], emptyMeans: W) => (raw: string): Parsed<W> => {
  const lower = raw.toLowerCase();
  if (lower === '') return ok(emptyMeans);
  const hit = words.find((w) => w === lower);
  return hit ? ok(hit) : fail(`must be one of ${words.join(', ')}`);
};

function parseSelector(raw: string): Parsed<LabelSelector | undefined> {
  if (raw === '') return ok(undefined);
  let doc: unknown;
  try {
    doc = parseYaml(raw);
  } catch (err) {
    return fail(`is not valid YAML: ${yamlErrorLine(err)}`);
  }
  // Knative unmarshals into a *LabelSelector: a document with no content leaves it nil.
  if (doc === null || doc === undefined) return ok(undefined);
  if (typeof doc !== 'object' || Array.isArray(doc)) return fail('must be a label selector ({matchLabels: …, matchExpressions: […]})');
  const sel = doc as { matchLabels?: unknown; matchExpressions?: unknown };
  const problem = labelSetProblem(sel.matchLabels);
  if (problem) return fail(`has invalid matchLabels: ${problem}`);
  // An empty `matchExpressions:` (YAML null) is an empty list to Go's unmarshaller.
  if (sel.matchExpressions !== undefined && sel.matchExpressions !== null) {
    if (!Array.isArray(sel.matchExpressions)) return fail('has matchExpressions that is not a list');
    for (const e of sel.matchExpressions as { key?: unknown; operator?: unknown; values?: unknown }[]) {
      if (typeof e?.key !== 'string' || !['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(String(e.operator))) {
        return fail('has a matchExpression without a key or with an operator other than In, NotIn, Exists, DoesNotExist');
      }
    }
  }
  // Only the two selector fields, with YAML nulls dropped (other keys are ignored, as in Go).
  return ok({
    ...(sel.matchLabels !== undefined && sel.matchLabels !== null ? { matchLabels: sel.matchLabels as Record<string, string> } : {}),
    ...(sel.matchExpressions !== undefined && sel.matchExpressions !== null
      ? { matchExpressions: sel.matchExpressions as NonNullable<LabelSelector['matchExpressions']> }
      : {}),
  });
}

const field = <T>(key: string, def: T, parse: (raw: string) => Parsed<T>, aliases?: readonly string[]): Field<T> => ({
  key,
  default: def,
  parse,
  ...(aliases ? { aliases } : {}),
});

export const networkConfigMap = fieldMap<NetworkConfig>(
  'config-network',
  {
    ingressClass: stringField('ingress-class', 'istio.ingress.networking.knative.dev', { aliases: ['ingress.class'] }),
    certificateClass: stringField('certificate-class', 'cert-manager.certificate.networking.knative.dev', { aliases: ['certificate.class'] }),
    domainTemplate: field('domain-template', DEFAULT_DOMAIN_TEMPLATE, parseDomainTemplate, ['domainTemplate']),
    tagTemplate: field('tag-template', DEFAULT_TAG_TEMPLATE, parseTagTemplate, ['tagTemplate']),
    rolloutDurationSeconds: field(
      'rollout-duration',
      0,
      (raw) => {
        const p = parseInt64(raw);
        return p.ok && p.value < 0 ? fail('must be a whole number of seconds, at least 0') : p;
      },
      ['rolloutDuration'],
    ),
    autocreateClusterDomainClaims: boolField('autocreate-cluster-domain-claims', false, { aliases: ['autocreateClusterDomainClaims'] }),
    enableMeshPodAddressability: boolField('enable-mesh-pod-addressability', false),
    meshCompatibilityMode: field<MeshCompatibilityMode>('mesh-compatibility-mode', 'auto', (raw) => {
      const hit = (['enabled', 'disabled', 'auto'] as const).find((w) => w === raw.toLowerCase());
      // Knative ignores an unknown mode and keeps auto.
      return hit ? ok(hit) : { ok: true, value: 'auto', warning: 'is not one of enabled, disabled, auto; auto applies' };
    }),
    defaultExternalScheme: stringField('default-external-scheme', 'http', { aliases: ['defaultExternalScheme'] }),
    namespaceWildcardCertSelector: field<LabelSelector | undefined>('namespace-wildcard-cert-selector', undefined, parseSelector),
    // Any text other than "enabled" (in any case) turns it off, never an error.
    externalDomainTls: field('external-domain-tls', false, (raw) => ok(raw.toLowerCase() === 'enabled'), ['auto-tls', 'autoTLS']),
    clusterLocalDomainTls: field<TlsMode>('cluster-local-domain-tls', 'disabled', lowerEnum<TlsMode>(['enabled', 'disabled'], 'disabled')),
    systemInternalTls: field<TlsMode>('system-internal-tls', 'disabled', lowerEnum<TlsMode>(['enabled', 'disabled'], 'disabled')),
    internalEncryption: boolField('internal-encryption', false),
    httpProtocol: field<HttpProtocol>('http-protocol', 'enabled', lowerEnum<HttpProtocol>(['enabled', 'disabled', 'redirected'], 'enabled'), ['httpProtocol']),
  },
  {
    // The deprecated internal-encryption: "true" switches system-internal-tls on whatever it says,
    // and system-internal-tls: enabled sets internal-encryption for older readers (as Knative does).
    complete: (c) =>
      c.internalEncryption || c.systemInternalTls === 'enabled' ? { ...c, systemInternalTls: 'enabled', internalEncryption: true } : c,
  },
);
