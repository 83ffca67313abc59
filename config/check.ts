// `knts config check`: reads ConfigMap YAML files (or stdin), prints the effective
// configuration as JSON, or every error with exit code 1.
import { readFile } from 'node:fs/promises';
import { text } from 'node:stream/consumers';
import type { CommandIO } from '../cli/command.ts';
import { clusterDomain as detectClusterDomain } from './cluster-domain.ts';
import { asConfigMap, effectiveConfig, formatDocumentProblem, showEffectiveConfig, type ConfigMapDocument } from './configmaps.ts';
import { formatProblem, readYamlDocuments } from './yaml-documents.ts';

export interface CheckOptions {
  readonly clusterDomain?: string;
}

export async function checkConfigFiles(files: readonly string[], io: CommandIO, options: CheckOptions = {}): Promise<number> {
  const errors: string[] = [];
  const maps: ConfigMapDocument[] = [];
  for (const file of files) {
    let source: string;
    try {
      source = file === '-' ? await text(io.stdin) : await readFile(file, 'utf8');
    } catch (err) {
      errors.push(`${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      continue;
    }
    const name = file === '-' ? '<stdin>' : file;
    const { docs, problems } = readYamlDocuments(source, name);
    errors.push(...problems.map(formatProblem));
    if (docs.length === 0 && problems.length === 0) errors.push(`${name}: no YAML documents: expected one or more ConfigMaps`);
    for (const doc of docs) {
      const { map, problems: docProblems } = asConfigMap(doc.value, `${doc.file}:${doc.line}`);
      errors.push(...docProblems.map(formatDocumentProblem));
      if (map) maps.push(map);
    }
  }
  const domain = options.clusterDomain ?? detectClusterDomain();
  const result = effectiveConfig(maps, domain);
  for (const w of result.warnings) io.stderr.write(`warning: ${w}\n`);
  errors.push(...result.errors);
  if (errors.length > 0) {
    for (const e of errors) io.stderr.write(`error: ${e}\n`);
    io.stderr.write(`${errors.length} error${errors.length === 1 ? '' : 's'}\n`);
    return 1;
  }
  io.stdout.write(JSON.stringify(showEffectiveConfig(result.config, domain), null, 2) + '\n');
  return 0;
}
