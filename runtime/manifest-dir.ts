// The folder `knts serve` runs: every `.yaml`/`.yml`/`.json` file in it (recursively, skipping
// dot-files, dot-folders, node_modules, and JSON that is no Kubernetes object, like a
// package.json), read into documents with their file and line, and watched for changes. Each
// file keeps its last good content: a file that stops parsing is reported and its previous
// documents keep serving, as a rejected `kubectl apply` leaves the cluster as it was.
import { watch, type FSWatcher } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { formatProblem, readYamlDocuments, type YamlDocument } from '../config/yaml-documents.ts';

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);
/** Editors write files in bursts (truncate, write, rename): act once they settle. */
const DEBOUNCE_MS = 150;

export type FileRead = { readonly ok: true; readonly docs: YamlDocument[] } | { readonly ok: false; readonly errors: string[] };

const skipped = (name: string): boolean => name.startsWith('.') || name === 'node_modules';

/** Every manifest file under `dir`, sorted. */
export async function listManifests(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    const entries = await readdir(d, { withFileTypes: true });
    for (const e of entries) {
      if (skipped(e.name)) continue;
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
  if (problems.length > 0) return { ok: false, errors: problems.map(formatProblem) };
  // A JSON file with neither apiVersion nor kind is no manifest (package.json next to an app).
  return { ok: true, docs: extname(file) === '.json' ? docs.filter((d) => isManifestLike(d.value)) : docs };
}

function isManifestLike(v: unknown): boolean {
  return v !== null && typeof v === 'object' && ('apiVersion' in v || 'kind' in v);
}

/**
 * Calls `onChange` (debounced) whenever a manifest under `dir` may have changed. Each folder is
 * watched on its own rather than recursively: Node's recursive watch on Linux follows a file's
 * inode, so it goes deaf to a file once an editor saves it by renaming a new file over it.
 */
export function watchManifests(dir: string, onChange: () => void): { close(): void } {
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const watchers = new Map<string, FSWatcher>();
  const changed = (): void => {
    clearTimeout(timer);
    timer = setTimeout(onChange, DEBOUNCE_MS);
  };
  const watchFolder = (d: string): void => {
    const w = watch(d, (_event, name) => {
      if (name !== null && MANIFEST_EXTENSIONS.has(extname(String(name)))) changed();
      // Anything else may be a folder that came or went.
      else void sync();
    });
    w.on('error', () => {
      w.close();
      watchers.delete(d);
    });
    watchers.set(d, w);
  };
  // Watches exactly the folders there are now; a new folder may hold manifests already.
  const sync = async (): Promise<void> => {
    const now = await listFolders(dir);
    if (closed) return;
    let added = false;
    for (const d of now) {
      if (watchers.has(d)) continue;
      try {
        watchFolder(d);
        added = true;
      } catch {
        // Gone again already.
      }
    }
    const removed = [...watchers.keys()].filter((d) => !now.includes(d));
    for (const d of removed) {
      watchers.get(d)?.close();
      watchers.delete(d);
    }
    if (added || removed.length > 0) changed();
  };
  watchFolder(dir);
  void sync();
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      for (const w of watchers.values()) w.close();
      watchers.clear();
    },
  };
}

/** `dir` and every folder under it, skipping dot-folders and node_modules. */
async function listFolders(dir: string): Promise<string[]> {
  const out = [dir];
  const walk = async (d: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory() || skipped(e.name)) continue;
      out.push(join(d, e.name));
      await walk(join(d, e.name));
    }
  };
  await walk(dir);
  return out;
}
