// A static BackendSource from a file (KNTS_BACKENDS_FILE), for running `knts activator` without
// Kubernetes: YAML or JSON `{revisions: [{namespace, name, containerConcurrency, timeoutSeconds,
// responseStartTimeoutSeconds, idleTimeoutSeconds, protocol, endpoints: {ready, notReady,
// clusterIP, activators}}]}`. Defaults follow config-defaults (cc 0, timeout 300 s). Every
// problem is reported with its path; a bad file changes nothing.
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import type { ActivatorRevision, RevisionEndpoints, StaticBackendSource } from './backends.ts';

export interface BackendsFileEntry {
  readonly revision: ActivatorRevision;
  readonly endpoints: RevisionEndpoints;
}

export type BackendsFile = { ok: true; entries: BackendsFileEntry[] } | { ok: false; errors: string[] };

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

export function parseBackendsFile(text: string, file: string): BackendsFile {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    return { ok: false, errors: [`${file}: ${(err as Error).message.split('\n')[0]}`] };
  }
  const errors: string[] = [];
  const revisions = isRecord(doc) ? doc['revisions'] : undefined;
  if (!Array.isArray(revisions)) return { ok: false, errors: [`${file}: expected a mapping with a "revisions" list`] };
  const entries: BackendsFileEntry[] = [];
  revisions.forEach((raw: unknown, i) => {
    const at = `${file}: revisions[${i}]`;
    if (!isRecord(raw)) {
      errors.push(`${at}: expected a mapping`);
      return;
    }
    const str = (k: string, required: boolean): string => {
      const v = raw[k];
      if (typeof v === 'string' && v !== '') return v;
      if (v !== undefined || required) errors.push(`${at}.${k}: expected a non-empty string`);
      return '';
    };
    const int = (k: string, def: number, min: number): number => {
      const v = raw[k];
      if (v === undefined) return def;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
        errors.push(`${at}.${k}: expected an integer >= ${min}, got ${JSON.stringify(v)}`);
        return def;
      }
      return v;
    };
    const protocol = raw['protocol'] ?? 'http1';
    if (protocol !== 'http1' && protocol !== 'h2c') errors.push(`${at}.protocol: expected "http1" or "h2c"`);
    const ep = raw['endpoints'] ?? {};
    const list = (k: string): string[] => {
      const v = isRecord(ep) ? ep[k] : undefined;
      if (v === undefined) return [];
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
        errors.push(`${at}.endpoints.${k}: expected a list of strings`);
        return [];
      }
      return v as string[];
    };
    if (!isRecord(ep)) errors.push(`${at}.endpoints: expected a mapping`);
    const clusterIP = isRecord(ep) && typeof ep['clusterIP'] === 'string' ? ep['clusterIP'] : undefined;
    const activators = list('activators');
    entries.push({
      revision: {
        namespace: str('namespace', false) || 'default',
        name: str('name', true),
        containerConcurrency: int('containerConcurrency', 0, 0),
        timeoutSeconds: int('timeoutSeconds', 300, 1),
        responseStartTimeoutSeconds: int('responseStartTimeoutSeconds', 0, 0),
        idleTimeoutSeconds: int('idleTimeoutSeconds', 0, 0),
        protocol: protocol === 'h2c' ? 'h2c' : 'http1',
      },
      endpoints: {
        ready: list('ready'),
        notReady: list('notReady'),
        ...(clusterIP === undefined ? {} : { clusterIP }),
        ...(activators.length > 0 ? { activators } : {}),
      },
    });
  });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, entries };
}

export async function readBackendsFile(file: string): Promise<BackendsFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return { ok: false, errors: [`${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`] };
  }
  return parseBackendsFile(text, file);
}

/** Replaces the source's content with the file's entries. */
export function applyBackendsFile(source: StaticBackendSource, entries: readonly BackendsFileEntry[]): void {
  const keep = new Set(entries.map((e) => `${e.revision.namespace}/${e.revision.name}`));
  for (const r of [...source.list()]) if (!keep.has(`${r.namespace}/${r.name}`)) source.deleteRevision(r.namespace, r.name);
  for (const e of entries) {
    source.setRevision(e.revision);
    source.setEndpoints(e.revision.namespace, e.revision.name, e.endpoints);
  }
}
