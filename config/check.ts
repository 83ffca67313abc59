// `knts config check`: reads ConfigMap YAML files (or stdin), prints the effective
// configuration as JSON, or every error with exit code 1.
import type { CommandIO } from '../cli/command.ts';
import { clusterDomain as detectClusterDomain } from './cluster-domain.ts';
import { asConfigMap, effectiveConfig, formatDocumentProblem, showEffectiveConfig, type ConfigMapDocument } from './configmaps.ts';
import { readYamlFile } from './load-files.ts';

export interface CheckOptions {
  readonly clusterDomain?: string;
}

export async function checkConfigFiles(files: readonly string[], io: CommandIO, options: CheckOptions = {}): Promise<number> {
  const errors: string[] = [];
  const maps: ConfigMapDocument[] = [];
  for (const file of files) {
    const { docs, errors: fileErrors } = await readYamlFile(file, io.stdin, 'expected one or more ConfigMaps');
    errors.push(...fileErrors);
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
