// Reads YAML files named on the command line. `loadConfigFiles`: ConfigMap files (`config-*`)
// into the effective configuration, as the `knts autoscaler`, `knts activator` and `knts webhook`
// processes take them. `readYamlFile`: one file's documents ("-" is stdin) with its errors, for
// the offline commands (`knts config check`, `knts validate`, `knts routes`).
import { readFile } from 'node:fs/promises';
import { text } from 'node:stream/consumers';
import { asConfigMap, effectiveConfig, formatDocumentProblem, type ConfigMapDocument, type EffectiveConfig } from './configmaps.ts';
import { formatProblem, readYamlDocuments, type YamlDocument } from './yaml-documents.ts';

export type Loaded<T> = { readonly ok: true; readonly value: T; readonly warnings: readonly string[] } | { readonly ok: false; readonly errors: readonly string[] };

/** Reads ConfigMap YAML files into the effective configuration, or every error. */
export async function loadConfigFiles(files: readonly string[]): Promise<Loaded<EffectiveConfig>> {
  const errors: string[] = [];
  const maps: ConfigMapDocument[] = [];
  for (const file of files) {
    let source: string;
    try {
      source = await readFile(file, 'utf8');
    } catch (err) {
      errors.push(`${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      continue;
    }
    const { docs, problems } = readYamlDocuments(source, file);
    errors.push(...problems.map(formatProblem));
    for (const doc of docs) {
      const { map, problems: docProblems } = asConfigMap(doc.value, `${doc.file}:${doc.line}`);
      errors.push(...docProblems.map(formatDocumentProblem));
      if (map) maps.push(map);
    }
  }
  const result = effectiveConfig(maps);
  errors.push(...result.errors);
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: result.config, warnings: result.warnings };
}

/**
 * One file's YAML documents ("-" reads `stdin`, named `<stdin>` in messages) and its errors: a
 * file that cannot be read, invalid YAML, or no document at all (`no YAML documents`, followed
 * by `: expected` when given).
 */
export async function readYamlFile(file: string, stdin: NodeJS.ReadableStream, expected?: string): Promise<{ docs: YamlDocument[]; errors: string[] }> {
  let source: string;
  try {
    source = file === '-' ? await text(stdin) : await readFile(file, 'utf8');
  } catch (err) {
    return { docs: [], errors: [`${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`] };
  }
  const name = file === '-' ? '<stdin>' : file;
  const { docs, problems } = readYamlDocuments(source, name);
  const errors = problems.map(formatProblem);
  if (docs.length === 0 && problems.length === 0) errors.push(`${name}: no YAML documents${expected === undefined ? '' : `: ${expected}`}`);
  return { docs, errors };
}
