// Reads ConfigMap YAML files (`config-*`) into the effective configuration, as the
// `knts autoscaler` and `knts activator` processes take them on the command line.
import { readFile } from 'node:fs/promises';
import { asConfigMap, effectiveConfig, formatDocumentProblem, type ConfigMapDocument, type EffectiveConfig } from './configmaps.ts';
import { formatProblem, readYamlDocuments } from './yaml-documents.ts';

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
