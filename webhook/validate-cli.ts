// `knts validate FILE...`: the webhook offline. Every Service, Configuration, Revision and
// Route in the files is defaulted and then validated as the cluster would on CREATE (the
// mutating webhook runs before the validating one), with the files' ConfigMaps as the
// config-* maps. Valid resources are printed defaulted, as a YAML stream; invalid ones get
// their file:line, Kind/name and every FieldError line on stderr, and the exit code is 1.
// Warnings are printed but do not fail.
import { stringify } from 'yaml';
import type { CommandIO } from '../cli/command.ts';
import type { ServingSemantics } from './admission.ts';
import { describeResource, readManifests } from './manifests.ts';

export interface ValidateOptions {
  readonly clusterDomain: string;
  readonly semantics: ServingSemantics;
}

export async function runValidate(files: readonly string[], io: CommandIO, o: ValidateOptions): Promise<number> {
  const m = await readManifests(files, io.stdin, o.clusterDomain);
  const errors = [...m.errors];
  const warnings = [...m.warnings];
  const valid: string[] = [];
  // A broken config map would make every verdict below a guess: stop at its errors.
  if (errors.length === 0) {
    for (const doc of m.resources) {
      const what = `${doc.origin}: ${describeResource(doc.value)}`;
      const parsed = o.semantics.parse(doc.value);
      if (!parsed.ok) {
        errors.push(`${what}: ${parsed.error}`);
        continue;
      }
      const defaulted = o.semantics.setDefaults(parsed.resource, m.config);
      const result = o.semantics.validate(defaulted, m.config, { operation: 'CREATE' });
      for (const line of lines(result?.warnings?.toString())) warnings.push(`${what}: ${line}`);
      const invalid = result?.errors;
      if (invalid) errors.push(`${what}:\n${lines(invalid.toString()).map((l) => `  ${l}`).join('\n')}`);
      else valid.push(stringify(defaulted, { lineWidth: 0 }));
    }
  }
  io.stdout.write(valid.join('---\n'));
  for (const w of warnings) io.stderr.write(`warning: ${w}\n`);
  for (const e of errors) io.stderr.write(`error: ${e}\n`);
  if (errors.length === 0) return 0;
  io.stderr.write(`${errors.length} error${errors.length === 1 ? '' : 's'}\n`);
  return 1;
}

const lines = (text: string | undefined): string[] => (text === undefined ? [] : text.split('\n').filter((l) => l !== ''));
