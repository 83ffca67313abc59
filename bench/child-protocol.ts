// The command channel between a benchmark and its child entry points (bench/activator-child.ts,
// bench/activator-pod.ts): the parent writes `<id> <command> [args]` lines on the child's stdin,
// the child answers each with `KNTS_OK <id> <json>` or `KNTS_ERR <id> <message>` on stdout. Every
// child also answers `clock` with `{now}`, its `clock()`, for the parent's clock check. Times
// that cross processes are `clock()`: performance.timeOrigin + performance.now(), comparable
// between processes on one machine.
import { createInterface } from 'node:readline';
import type { Child } from './harness.ts';

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes. */
export const clock = (): number => performance.timeOrigin + performance.now();

/** A child's commands: the JSON-serializable answer (or a promise of it); a throw answers KNTS_ERR. */
export type CommandHandler = (cmd: string | undefined, args: string[]) => unknown;

/** In a child entry point: answers the parent's commands on stdin with `run` (and `clock` itself). */
export function serveCommands(run: CommandHandler): void {
  createInterface({ input: process.stdin }).on('line', (line) => {
    const [id, cmd, ...args] = line.trim().split(/\s+/);
    if (id === undefined || id === '') return;
    const answer = (): unknown => (cmd === 'clock' ? { now: clock() } : run(cmd, args));
    Promise.resolve()
      .then(answer)
      .then(
        (out) => process.stdout.write(`KNTS_OK ${id} ${JSON.stringify(out)}\n`),
        (err: unknown) => process.stdout.write(`KNTS_ERR ${id} ${JSON.stringify(err instanceof Error ? err.message : String(err))}\n`),
      );
  });
}

let nextId = 0;

/** In the parent: sends `<id> <text>` on a child's stdin and parses its `KNTS_OK <id> <json>` answer. */
export async function command<T>(child: Child, text: string, timeoutMs = 10_000): Promise<T> {
  const id = String(++nextId);
  const answer = child.waitForLine((l) => l.startsWith(`KNTS_OK ${id} `) || l.startsWith(`KNTS_ERR ${id} `), timeoutMs);
  child.proc.stdin?.write(`${id} ${text}\n`);
  const line = await answer;
  if (line.startsWith('KNTS_ERR')) throw new Error(`${text}: ${line}`);
  return JSON.parse(line.slice(`KNTS_OK ${id} `.length)) as T;
}
