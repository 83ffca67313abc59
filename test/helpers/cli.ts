// Runs the real `knts` CLI as a child process (Node 24, type-stripped sources) and captures
// its output, for black-box CLI tests.
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node <script> ...args` from the repo root, feeding `input` on stdin; `env` adds variables. */
export function runNode(script: string, args: readonly string[], input = '', env: Readonly<Record<string, string>> = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, script), ...args], { cwd: REPO_ROOT, stdio: 'pipe', env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

export const knts = (args: readonly string[], input = '', env: Readonly<Record<string, string>> = {}): Promise<RunResult> => runNode('cli/knts.js', args, input, env);

/** Writes files into a fresh temporary folder and returns their paths. */
export async function tempFiles(files: Readonly<Record<string, string>>): Promise<Record<string, string>> {
  const dir = await mkdtemp(join(tmpdir(), 'knts-test-'));
  const out: Record<string, string> = {};
  for (const [name, text] of Object.entries(files)) {
    out[name] = join(dir, name);
    await writeFile(out[name], text);
  }
  return out;
}
