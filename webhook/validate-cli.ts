// `knts validate FILE...`: the webhook offline. Every Service, Configuration, Revision and
// Route in the files is defaulted and then validated as the cluster would on CREATE (the
// mutating webhook runs before the validating one), with the files' ConfigMaps as the
// config-* maps. Valid resources are printed defaulted, as a YAML stream; invalid ones get
// their file:line, Kind/name and every FieldError line on stderr, and the exit code is 1.
// Warnings are printed but do not fail.
import { stringify } from 'yaml';
import type { CommandIO } from '../cli/command.ts';
import type { ServingSemantics } from './admission.ts';
import { admitOnCreate, invalidResourceError, readManifests, reportProblems } from './manifests.ts';

export interface ValidateOptions {
  readonly clusterDomain: string;
  readonly semantics: ServingSemantics;
}

export async function runValidate(files: readonly string[], io: CommandIO, o: ValidateOptions): Promise<number> {
  const m = await readManifests(files, io.stdin, o.clusterDomain);
  const errors = [...m.errors];
  const warnings = [...m.warnings];
  const valid: string[] = [];
  // Nothing is admitted when a config map is broken: every verdict would be a guess.
  for (const { what, resource: defaulted, result } of admitOnCreate(m, o.semantics, errors)) {
    for (const line of result?.warnings?.lines() ?? []) warnings.push(`${what}: ${line}`);
    const invalid = result?.errors;
    if (invalid) errors.push(invalidResourceError(what, invalid));
    else valid.push(stringify(defaulted, { lineWidth: 0 }));
  }
  io.stdout.write(valid.join('---\n'));
  return reportProblems(io, errors, warnings);
}
