// The `knts` command line: resolves argv against the discovered command tree, parses flags
// strictly, prints help, and turns usage mistakes into a clear message and exit code 2.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildTree, componentRoot, discoverModules, type CommandNode } from './registry.ts';
import { EXIT_OK, EXIT_USAGE, UsageError, type Command, type CommandIO } from './command.ts';

const defaultIO: CommandIO = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin };

export async function main(argv: readonly string[], io: CommandIO = defaultIO): Promise<number> {
  const tree = buildTree(await discoverModules());
  try {
    return await dispatch(tree, argv, io);
  } catch (err) {
    if (err instanceof UsageError) {
      const where = ['knts', ...err.command].join(' ');
      io.stderr.write(`${where}: ${err.message}\nRun "${where} --help" for usage.\n`);
      return EXIT_USAGE;
    }
    throw err;
  }
}

async function dispatch(tree: CommandNode, argv: readonly string[], io: CommandIO): Promise<number> {
  let node = tree;
  const path: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const word = argv[i] ?? '';
    const next = node.children.get(word);
    if (!next) break;
    node = next;
    path.push(word);
  }
  const rest = argv.slice(i);
  if (node.command) return runCommand(node.command, rest, io);

  const first = rest[0];
  if (first === '--help' || first === '-h' || (first === 'help' && path.length === 0)) {
    io.stdout.write(groupHelp(node, path));
    return EXIT_OK;
  }
  if (path.length === 0 && first === '--version') {
    io.stdout.write(`${version()}\n`);
    return EXIT_OK;
  }
  if (first === undefined) {
    if (path.length === 0) {
      io.stdout.write(groupHelp(node, path));
      return EXIT_OK;
    }
    io.stderr.write(groupHelp(node, path));
    throw new UsageError('missing subcommand', path);
  }
  if (first.startsWith('-')) throw new UsageError(`unknown option ${first}`, path);
  const hint = closest(first, [...node.children.keys()]);
  throw new UsageError(`unknown command "${first}"${hint ? ` (did you mean "${hint}"?)` : ''}`, path);
}

async function runCommand(command: Command, rest: readonly string[], io: CommandIO): Promise<number> {
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(commandHelp(command));
    return EXIT_OK;
  }
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const [name, spec] of Object.entries(command.options ?? {})) {
    options[name] = {
      type: spec.type,
      ...(spec.short ? { short: spec.short } : {}),
      ...(spec.multiple ? { multiple: true } : {}),
      ...(spec.default !== undefined ? { default: spec.default } : {}),
    } as NonNullable<ParseArgsConfig['options']>[string];
  }
  let parsed;
  try {
    parsed = parseArgs({ args: [...rest], options, strict: true, allowPositionals: true });
  } catch (err) {
    throw new UsageError(describeParseError(err), command.path);
  }
  const n = parsed.positionals.length;
  if (command.minPositionals !== undefined && n < command.minPositionals) {
    throw new UsageError(`expected ${command.args ?? 'more arguments'}`, command.path);
  }
  if (command.maxPositionals !== undefined && n > command.maxPositionals) {
    const extra = parsed.positionals[command.maxPositionals] ?? '';
    throw new UsageError(`unexpected argument "${extra}"`, command.path);
  }
  return command.run({ ...io, values: parsed.values, positionals: parsed.positionals });
}

function describeParseError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as NodeJS.ErrnoException).code;
  const option = /'(--?[\w-]+)/.exec(err.message)?.[1] ?? /(--?[\w-]+)/.exec(err.message)?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown option ${option ?? err.message}`;
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    return err.message.includes('argument missing')
      ? `option ${option ?? ''} needs a value`
      : `option ${option ?? ''} does not take a value`;
  }
  return err.message;
}

function commandHelp(command: Command): string {
  const words = ['knts', ...command.path].join(' ');
  const lines = [`Usage: ${words}${command.options ? ' [options]' : ''}${command.args ? ` ${command.args}` : ''}`, ''];
  lines.push(command.description ?? command.summary, '');
  const rows: [string, string][] = [['-h, --help', 'Show this help']];
  for (const [name, spec] of Object.entries(command.options ?? {})) {
    const flag = `${spec.short ? `-${spec.short}, ` : ''}--${name}${spec.type === 'string' ? ` ${spec.value ?? 'VALUE'}` : ''}`;
    const def = spec.default !== undefined && spec.default !== false ? ` (default ${String(spec.default)})` : '';
    rows.push([flag, spec.description + def]);
  }
  lines.push('Options:', ...table(rows), '');
  return lines.join('\n');
}

function groupHelp(node: CommandNode, path: readonly string[]): string {
  const words = ['knts', ...path].join(' ');
  const lines: string[] = [];
  if (path.length === 0) {
    lines.push('knts: the Knative Serving data plane in TypeScript', '');
  } else if (node.summary) {
    lines.push(node.summary, '');
  }
  lines.push(`Usage: ${words} <command> [options]`, '', 'Commands:');
  const rows: [string, string][] = [];
  const walk = (n: CommandNode, prefix: string[]): void => {
    for (const child of [...n.children.values()].sort((a, b) => a.word.localeCompare(b.word))) {
      const words = [...prefix, child.word];
      if (child.command || child.summary) rows.push([words.join(' '), child.summary]);
      walk(child, words);
    }
  };
  walk(node, []);
  lines.push(...table(rows), '', `Run "${words} <command> --help" for a command's options.`, '');
  return lines.join('\n');
}

function table(rows: readonly (readonly [string, string])[]): string[] {
  const width = Math.max(0, ...rows.map(([a]) => a.length)) + 2;
  return rows.map(([a, b]) => `  ${a.padEnd(width)}${b}`.trimEnd());
}

function version(): string {
  // dist/ sits one level deeper than the repository root.
  for (const dir of [componentRoot(), join(componentRoot(), '..')]) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'knts') return `knts ${pkg.version ?? ''}`.trim();
    } catch {
      // not this folder; try the next
    }
  }
  return 'knts';
}

/** The candidate within edit distance 2, to suggest on a typo. */
function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2));
}
