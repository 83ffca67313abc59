// The folder `knts serve` runs: every `.yaml`/`.yml`/`.json` file in it (recursively), read into
// documents with their file and line, and watched for changes. Each file keeps its last good
// content: a file that stops parsing is reported and its previous documents keep serving, as a
// rejected `kubectl apply` leaves the cluster as it was.
import { watch, type FSWatcher } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { formatProblem, readYamlDocuments, type YamlDocument } from '../config/yaml-documents.ts';

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);
/** Editors write files in bursts (truncate, write, rename): act once they settle. */
const DEBOUNCE_MS = 150;

export interface FileDocuments {
  readonly file: string;
  readonly docs: readonly YamlDocument[];
}

export type FileRead = { readonly ok: true; readonly docs: YamlDocument[] } | { readonly ok: false; readonly errors: string[] };

/** Every manifest file under `dir`, sorted, skipping dot-folders and node_modules. */
export async function listManifests(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    const entries = await readdir(d, { withFileTypes: true });
    for (const e of entries) {
      if (e.name.startsWith('.') || e.name === 'node_modules') continue;
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (MANIFEST_EXTENSIONS.has(extname(e.name))) out.push(p);
    }
  };
  await walk(dir);
  return out.sort();
}

export async function readManifest(file: string): Promise<FileRead> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return { ok: false, errors: [`${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`] };
  }
  const { docs, problems } = readYamlDocuments(text, file);
  return problems.length > 0 ? { ok: false, errors: problems.map(formatProblem) } : { ok: true, docs };
}

/** Calls `onChange` (debounced) whenever a manifest under `dir` may have changed. */
export function watchManifests(dir: string, onChange: () => void): FSWatcher {
  let timer: NodeJS.Timeout | undefined;
  const w = watch(dir, { recursive: true }, (_event, name) => {
    if (name !== null && !MANIFEST_EXTENSIONS.has(extname(String(name)))) return;
    clearTimeout(timer);
    timer = setTimeout(onChange, DEBOUNCE_MS);
  });
  w.on('error', () => undefined);
  w.on('close', () => clearTimeout(timer));
  return w;
}
