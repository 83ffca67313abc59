// Turning a parsed YAML/JSON document into a serving resource: it must be an object with
// apiVersion serving.knative.dev/v1 and a kind we model, and the fields defaulting and
// validation read must have the JSON types Kubernetes would decode them into (a string where a
// string goes, an integer for ports, timeouts and thresholds, a list of containers...), as the
// API server's schema check would insist before the webhook ever saw the object. Fields this
// project does not read are left alone; validation reports the disallowed ones.
import { SERVING_API_VERSION, SERVING_KINDS, type ServingKind, type ServingResource } from './types.ts';

export type ParseResult = { ok: true; resource: ServingResource } | { ok: false; error: string };

type Shape =
  | 'string'
  | 'integer'
  | 'boolean'
  | 'intOrString'
  | 'stringMap'
  | 'quantityMap'
  | 'object'
  | { readonly array: Shape }
  | { readonly fields: Readonly<Record<string, Shape>> };

const str: Shape = 'string';
const int: Shape = 'integer';
const bool: Shape = 'boolean';
const arrayOf = (s: Shape): Shape => ({ array: s });
const fields = (f: Record<string, Shape>): Shape => ({ fields: f });

const OBJECT_META = fields({
  name: str,
  generateName: str,
  namespace: str,
  uid: str,
  resourceVersion: str,
  generation: int,
  labels: 'stringMap',
  annotations: 'stringMap',
  ownerReferences: arrayOf(fields({ apiVersion: str, kind: str, name: str, uid: str, controller: bool, blockOwnerDeletion: bool })),
});

const PROBE = fields({
  initialDelaySeconds: int,
  timeoutSeconds: int,
  periodSeconds: int,
  successThreshold: int,
  failureThreshold: int,
  httpGet: fields({ port: 'intOrString', path: str, host: str, scheme: str }),
  tcpSocket: fields({ port: 'intOrString', host: str }),
  exec: fields({ command: arrayOf(str) }),
  grpc: fields({ port: int, service: str }),
});

const CONTAINER = fields({
  name: str,
  image: str,
  workingDir: str,
  imagePullPolicy: str,
  terminationMessagePath: str,
  terminationMessagePolicy: str,
  command: arrayOf(str),
  args: arrayOf(str),
  ports: arrayOf(fields({ containerPort: int, name: str, protocol: str, hostPort: int, hostIP: str })),
  env: arrayOf(fields({ name: str, value: str, valueFrom: 'object' })),
  envFrom: arrayOf(fields({ prefix: str, configMapRef: 'object', secretRef: 'object' })),
  resources: fields({ limits: 'quantityMap', requests: 'quantityMap' }),
  volumeMounts: arrayOf(fields({ name: str, mountPath: str, subPath: str, readOnly: bool })),
  livenessProbe: PROBE,
  readinessProbe: PROBE,
  startupProbe: PROBE,
  securityContext: fields({ runAsUser: int, runAsGroup: int, capabilities: fields({ add: arrayOf(str), drop: arrayOf(str) }) }),
});

const REVISION_SPEC = fields({
  containerConcurrency: int,
  timeoutSeconds: int,
  responseStartTimeoutSeconds: int,
  idleTimeoutSeconds: int,
  containers: arrayOf(CONTAINER),
  initContainers: arrayOf(CONTAINER),
  volumes: arrayOf(fields({ name: str })),
  serviceAccountName: str,
  enableServiceLinks: bool,
  automountServiceAccountToken: bool,
  securityContext: fields({ runAsUser: int, runAsGroup: int, fsGroup: int, supplementalGroups: arrayOf(int) }),
});

const TRAFFIC = arrayOf(fields({ tag: str, revisionName: str, configurationName: str, latestRevision: bool, percent: int, url: str }));
const TEMPLATE = fields({ metadata: OBJECT_META, spec: REVISION_SPEC });

const SPECS: Record<ServingKind, Shape> = {
  Service: fields({ template: TEMPLATE, traffic: TRAFFIC }),
  Configuration: fields({ template: TEMPLATE }),
  Revision: REVISION_SPEC,
  Route: fields({ traffic: TRAFFIC }),
};

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'a map';
  if (typeof v === 'string') return `the string ${JSON.stringify(v)}`;
  return `${typeof v} ${String(v)}`;
}

const WANTED: Record<string, string> = {
  string: 'a string',
  integer: 'an integer',
  boolean: 'true or false',
  intOrString: 'an integer or a string',
  stringMap: 'a map of strings',
  quantityMap: 'a map of quantities',
  object: 'a map',
};

/** Every place where the value does not have the shape's JSON type (null counts as absent). */
function check(v: unknown, shape: Shape, path: string, out: string[]): void {
  if (v === undefined || v === null) return;
  const bad = (): void => {
    out.push(`${path}: expected ${typeof shape === 'string' ? WANTED[shape] : 'array' in shape ? 'a list' : 'a map'}, got ${describe(v)}`);
  };
  if (shape === 'string') {
    if (typeof v !== 'string') bad();
  } else if (shape === 'integer') {
    if (typeof v !== 'number' || !Number.isInteger(v)) bad();
  } else if (shape === 'boolean') {
    if (typeof v !== 'boolean') bad();
  } else if (shape === 'intOrString') {
    if (typeof v !== 'string' && !(typeof v === 'number' && Number.isInteger(v))) bad();
  } else if (shape === 'stringMap' || shape === 'quantityMap') {
    if (!isObject(v)) return bad();
    for (const [k, x] of Object.entries(v)) {
      if (x === null) continue;
      if (typeof x !== 'string' && !(shape === 'quantityMap' && typeof x === 'number')) {
        out.push(`${path}.${k}: expected ${shape === 'stringMap' ? 'a string' : 'a quantity'}, got ${describe(x)}`);
      }
    }
  } else if (shape === 'object') {
    if (!isObject(v)) bad();
  } else if ('array' in shape) {
    if (!Array.isArray(v)) return bad();
    const item = shape.array;
    v.forEach((x, i) => {
      // A list item is never absent: a null where a map goes (a traffic target, a container)
      // is an error here rather than a crash in whatever reads the list.
      if (x === null && typeof item === 'object' && 'fields' in item) out.push(`${path}[${i}]: expected a map, got null`);
      else check(x, item, `${path}[${i}]`, out);
    });
  } else {
    if (!isObject(v)) return bad();
    for (const [k, s] of Object.entries(shape.fields)) check(v[k], s, `${path}.${k}`, out);
  }
}

const KIND_LIST = `${SERVING_KINDS.slice(0, -1).join(', ')} or ${SERVING_KINDS[SERVING_KINDS.length - 1] ?? ''}`;

/** Checks that a document is a serving.knative.dev/v1 resource with well-typed fields. */
export function asServingResource(doc: unknown): ParseResult {
  if (!isObject(doc)) return { ok: false, error: `expected a ${SERVING_API_VERSION} ${KIND_LIST} as a map, got ${describe(doc)}` };
  const { apiVersion, kind } = doc;
  if (typeof kind !== 'string' || !(SERVING_KINDS as readonly string[]).includes(kind)) {
    const what = kind === undefined || kind === null ? 'a document without kind' : `kind ${JSON.stringify(kind)}`;
    const version = typeof apiVersion === 'string' ? ` (apiVersion ${apiVersion})` : '';
    return { ok: false, error: `${what}${version} is not a Knative serving resource: expected a ${SERVING_API_VERSION} ${KIND_LIST}` };
  }
  if (apiVersion !== SERVING_API_VERSION) {
    const what = apiVersion === undefined || apiVersion === null ? 'no apiVersion' : `apiVersion ${JSON.stringify(apiVersion)}`;
    return { ok: false, error: `${kind} has ${what}: expected apiVersion ${SERVING_API_VERSION}` };
  }
  const problems: string[] = [];
  check(doc['metadata'], OBJECT_META, 'metadata', problems);
  check(doc['spec'], SPECS[kind as ServingKind], 'spec', problems);
  check(doc['status'], 'object', 'status', problems);
  if (problems.length > 0) return { ok: false, error: problems.join('\n') };
  return { ok: true, resource: doc as unknown as ServingResource };
}
