// Reads a YAML stream (one or many `---` documents) into plain values with their line numbers,
// turning syntax errors into precise `file:line:col` messages. Shared by every loader of
// Kubernetes-style YAML (config maps now; services and routes later).
import { LineCounter, parseAllDocuments } from 'yaml';

export interface YamlDocument {
  readonly file: string;
  /** 1-based line where the document starts. */
  readonly line: number;
  readonly value: unknown;
}

export interface YamlProblem {
  readonly file: string;
  readonly line?: number;
  readonly column?: number;
  readonly message: string;
}

export function formatProblem(p: YamlProblem): string {
  const where = p.line === undefined ? p.file : `${p.file}:${p.line}${p.column === undefined ? '' : `:${p.column}`}`;
  return `${where}: ${p.message}`;
}

/** Parses every document; empty documents (a stray `---`) are skipped. */
export function readYamlDocuments(text: string, file: string): { docs: YamlDocument[]; problems: YamlProblem[] } {
  const lineCounter = new LineCounter();
  const docs: YamlDocument[] = [];
  const problems: YamlProblem[] = [];
  for (const doc of parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true })) {
    // The first content line, not the `---` marker before it.
    const start = lineCounter.linePos(doc.contents?.range[0] ?? doc.range[0]).line;
    if (doc.errors.length > 0) {
      for (const err of doc.errors) {
        const pos = lineCounter.linePos(err.pos[0]);
        problems.push({ file, line: pos.line, column: pos.col, message: `invalid YAML: ${err.message.split('\n')[0] ?? err.message}` });
      }
      continue;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      problems.push({ file, line: start, message: `invalid YAML: ${(err as Error).message}` });
      continue;
    }
    if (value === null || value === undefined) continue;
    docs.push({ file, line: start, value });
  }
  return { docs, problems };
}

/** The first line of a YAML syntax error, without the colon that introduces its excerpt. */
export const yamlErrorLine = (err: unknown): string => ((err as Error).message.split('\n')[0] ?? '').replace(/:$/, '');
