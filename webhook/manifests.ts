// Reads Kubernetes YAML for the offline commands (`knts validate`, `knts routes`): every
// document of every file ("-" is stdin) with its file:line, the `config-*` ConfigMaps among
// them turned into the effective configuration (as the cluster's maps would configure the
// webhook; other ConfigMaps are the apps' own and are skipped), and the serving.knative.dev
// documents handed on. Other kinds are skipped with a warning; unreadable files, YAML errors
// and bad config maps are errors. Also what both commands do next: admit each document as
// on CREATE (parse, default, validate) and print the warnings and errors.
import type { CommandIO } from '../cli/command.ts';
import { asConfigMap, effectiveConfig, formatDocumentProblem, type ConfigMapDocument, type EffectiveConfig } from '../config/configmaps.ts';
import { readYamlFile } from '../config/load-files.ts';
import type { ServingSemantics } from './admission.ts';
import type { FieldError } from './field-error.ts';
import { SERVING_GROUP, SERVING_KINDS, type ServingResource } from './types.ts';

export interface ManifestDocument {
  /** `file:line` where the document starts. */
  readonly origin: string;
  readonly value: unknown;
}

export interface Manifests {
  readonly config: EffectiveConfig;
  /** Documents of the serving.knative.dev group (or a Serving kind), in file order. */
  readonly resources: readonly ManifestDocument[];
  readonly errors: readonly string[];
  readonly warnings: readonly string[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

export async function readManifests(files: readonly string[], stdin: NodeJS.ReadableStream, clusterDomain: string): Promise<Manifests> {
  const errors: string[] = [];
  const warnings: string[] = [];
  const maps: ConfigMapDocument[] = [];
  const resources: ManifestDocument[] = [];
  for (const file of files) {
    const { docs, errors: fileErrors } = await readYamlFile(file, stdin);
    errors.push(...fileErrors);
    for (const doc of docs) {
      const origin = `${doc.file}:${doc.line}`;
      const v = doc.value;
      if (!isRecord(v)) {
        errors.push(`${origin}: document is not a YAML map: expected a Kubernetes object`);
        continue;
      }
      const apiVersion = typeof v['apiVersion'] === 'string' ? v['apiVersion'] : '';
      const kind = typeof v['kind'] === 'string' ? v['kind'] : '';
      if (kind === 'ConfigMap') {
        const { map, problems: p } = asConfigMap(v, origin);
        errors.push(...p.map(formatDocumentProblem));
        // An application's own ConfigMaps travel with its manifests; only `config-*` names are
        // Knative's (and a misspelt one is still caught as an unknown config map).
        if (map && !map.name.startsWith('config-')) warnings.push(`${origin}: ConfigMap ${map.name} is not a Knative config map; skipped`);
        else if (map) maps.push(map);
      } else if (apiVersion.startsWith(`${SERVING_GROUP}/`) || (SERVING_KINDS as readonly string[]).includes(kind)) {
        resources.push({ origin, value: v });
      } else if (kind === '' || apiVersion === '') {
        errors.push(`${origin}: document has no ${kind === '' ? 'kind' : 'apiVersion'}: expected a Kubernetes object`);
      } else {
        warnings.push(`${origin}: ${apiVersion} ${kind} is not a Knative Serving resource; skipped`);
      }
    }
  }
  const result = effectiveConfig(maps, clusterDomain);
  errors.push(...result.errors);
  warnings.push(...result.warnings);
  return { config: result.config, resources, errors, warnings };
}

/** `Service/hello` for messages, from whatever the document holds. */
export function describeResource(value: unknown): string {
  const v = isRecord(value) ? value : {};
  const meta = isRecord(v['metadata']) ? v['metadata'] : {};
  const kind = typeof v['kind'] === 'string' && v['kind'] !== '' ? v['kind'] : '(no kind)';
  const name = typeof meta['name'] === 'string' && meta['name'] !== '' ? meta['name'] : typeof meta['generateName'] === 'string' ? `${meta['generateName']}*` : '(no name)';
  return `${kind}/${name}`;
}

export interface AdmittedResource {
  /** `file:line: Kind/name`, to start messages about the document. */
  readonly what: string;
  /** Defaulted. */
  readonly resource: ServingResource;
  /** The validation's errors and warnings, if any. */
  readonly result: FieldError | undefined;
}

/**
 * The serving documents as the cluster admits them on CREATE, in file order: parsed, defaulted
 * (the mutating webhook runs before the validating one), then validated. A document that is not
 * a resource gets its error pushed to `errors` in its turn instead. Nothing when the manifests
 * have errors: a broken config map would make every verdict a guess.
 */
export function* admitOnCreate(m: Manifests, semantics: ServingSemantics, errors: string[]): Generator<AdmittedResource> {
  if (m.errors.length > 0) return;
  for (const doc of m.resources) {
    const what = `${doc.origin}: ${describeResource(doc.value)}`;
    const parsed = semantics.parse(doc.value);
    if (!parsed.ok) {
      errors.push(`${what}: ${parsed.error}`);
      continue;
    }
    const resource = semantics.setDefaults(parsed.resource, m.config);
    yield { what, resource, result: semantics.validate(resource, m.config, { operation: 'CREATE' }) };
  }
}

/** One resource's validation errors as one error entry: `what:` then every line, indented. */
export function invalidResourceError(what: string, errors: FieldError): string {
  return [`${what}:`, ...errors.lines().map((l) => `  ${l}`)].join('\n');
}

/** Prints the warnings, then the errors and their count, on stderr; the exit code (1 on errors). */
export function reportProblems(io: CommandIO, errors: readonly string[], warnings: readonly string[]): number {
  for (const w of warnings) io.stderr.write(`warning: ${w}\n`);
  for (const e of errors) io.stderr.write(`error: ${e}\n`);
  if (errors.length === 0) return 0;
  io.stderr.write(`${errors.length} error${errors.length === 1 ? '' : 's'}\n`);
  return 1;
}
