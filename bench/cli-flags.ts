// Command-line flags the benchmarks share. `benchFlags` parses a benchmark's own options plus
// --no-write and --help (it prints the usage, with a line for each of those two, and exits on
// --help, or on a flag it does not know). Benchmarks that measure again when the machine was busy add MAX_NOISE_FLAG; those that
// drive a load generator add LOAD_FLAGS and read them with `loadSettings`.
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { HAVE_WRK, type LoadTool } from './harness.ts';

const COMMON = {
  'no-write': { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies ParseArgsOptionsConfig;

const COMMON_USAGE = `
  --no-write           print only; leave bench/RESULTS.md alone
  -h, --help           this text`;

/** `--max-noise=P`: % of a core that processes outside the benchmark may use (default 20). */
export const MAX_NOISE_FLAG = { 'max-noise': { type: 'string', default: '20' } } as const satisfies ParseArgsOptionsConfig;

/** `--tool=wrk|autocannon` and `--node-args="…"` (extra Node/V8 flags for the process under test). */
export const LOAD_FLAGS = { tool: { type: 'string' }, 'node-args': { type: 'string', default: '' } } as const satisfies ParseArgsOptionsConfig;

/** The usage line of `--tool`. */
export const TOOL_USAGE = '  --tool=wrk|autocannon  force the load generator (default: wrk when on PATH, else autocannon)';

/**
 * Parses the command line: `options` and the common flags. On --help prints `usage` (followed by
 * the common flags' lines) and exits; on an unknown or malformed flag says so with the usage and
 * exits 2.
 */
export function benchFlags<const O extends ParseArgsOptionsConfig>(usage: string, options: O) {
  const parse = () => parseArgs({ options: { ...options, ...COMMON } }).values;
  const text = `${usage}${COMMON_USAGE}\n`;
  let values: ReturnType<typeof parse>;
  try {
    values = parse();
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n${text}`);
    process.exit(2);
  }
  if ((values as { help?: boolean }).help === true) {
    process.stdout.write(text);
    process.exit(0);
  }
  return values;
}

export interface LoadSettings {
  readonly tool: LoadTool;
  readonly nodeArgs: readonly string[];
}

/** The load generator (wrk when on PATH, else autocannon, unless --tool says) and --node-args split. */
export function loadSettings(flags: { readonly tool?: string | undefined; readonly 'node-args': string }): LoadSettings {
  const tool: LoadTool = flags.tool === 'autocannon' || flags.tool === 'wrk' ? flags.tool : HAVE_WRK ? 'wrk' : 'autocannon';
  if (tool === 'wrk' && !HAVE_WRK) throw new Error('--tool=wrk but wrk is not on PATH (apt-get install wrk)');
  return { tool, nodeArgs: flags['node-args'].split(/\s+/).filter(Boolean) };
}
