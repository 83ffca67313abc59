// Finds the commands that components contribute and arranges them as a tree of words.
// Discovery is by convention: every top-level folder with a `commands.ts` (or `commands.js`
// in dist/) is imported. Groups such as `simulate` can collect commands from several folders.
import { readdir, access } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Command, CommandGroup, CommandModule } from './command.ts';

export interface CommandNode {
  readonly word: string;
  summary: string;
  command?: Command;
  readonly children: Map<string, CommandNode>;
}

const SKIP = new Set(['node_modules', 'dist', 'test', 'bench', 'cli', 'examples']);

/** The folder that holds the component folders: the repo root, or dist/ when compiled. */
export function componentRoot(): string {
  return dirname(dirname(fileURLToPath(import.meta.url)));
}

export async function discoverModules(root = componentRoot()): Promise<CommandModule[]> {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const entries = await readdir(root, { withFileTypes: true });
  const dirs = entries
    .filter((e) => e.isDirectory() && !e.name.startsWith('.') && !SKIP.has(e.name))
    .map((e) => e.name)
    .sort();
  const modules: CommandModule[] = [];
  for (const dir of dirs) {
    const file = join(root, dir, `commands${ext}`);
    try {
      await access(file);
    } catch {
      continue;
    }
    modules.push((await import(pathToFileURL(file).href)) as CommandModule);
  }
  return modules;
}

export function buildTree(modules: readonly CommandModule[]): CommandNode {
  const root: CommandNode = { word: 'knts', summary: '', children: new Map() };
  const nodeFor = (path: readonly string[]): CommandNode => {
    let node = root;
    for (const word of path) {
      let next = node.children.get(word);
      if (!next) {
        next = { word, summary: '', children: new Map() };
        node.children.set(word, next);
      }
      node = next;
    }
    return node;
  };
  for (const mod of modules) {
    for (const group of mod.groups ?? ([] as CommandGroup[])) nodeFor(group.path).summary ||= group.summary;
    for (const command of mod.commands ?? []) {
      const node = nodeFor(command.path);
      if (node.command) throw new Error(`knts: two components define the command "${command.path.join(' ')}"`);
      node.command = command;
      node.summary = command.summary;
    }
  }
  return root;
}
