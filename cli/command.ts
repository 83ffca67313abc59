// The contract between the `knts` CLI and the components: a component contributes commands by
// exporting `commands` (and optionally `groups`) from its own `commands.ts`. The CLI finds them
// by convention, so adding a component never edits a central switch.

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly multiple?: boolean;
  readonly default?: string | boolean;
  /** Placeholder shown in help, e.g. `PORT`. */
  readonly value?: string;
  readonly description: string;
}

export interface CommandIO {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly stdin: NodeJS.ReadableStream;
}

export interface CommandArgs extends CommandIO {
  readonly values: Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>;
  readonly positionals: readonly string[];
}

export interface Command {
  /** Words that select the command, e.g. `['config', 'check']`. */
  readonly path: readonly string[];
  readonly summary: string;
  /** Positional synopsis for help, e.g. `FILE...`. */
  readonly args?: string;
  readonly description?: string;
  readonly options?: Readonly<Record<string, OptionSpec>>;
  readonly minPositionals?: number;
  readonly maxPositionals?: number;
  /** Resolves to the process exit code. */
  run(args: CommandArgs): Promise<number>;
}

export interface CommandGroup {
  readonly path: readonly string[];
  readonly summary: string;
}

/** What a component's `commands.ts` exports. */
export interface CommandModule {
  readonly commands?: readonly Command[];
  readonly groups?: readonly CommandGroup[];
}

/** A mistake in how the CLI was called: reported with a hint and exit code 2. */
export class UsageError extends Error {
  readonly command: readonly string[];
  constructor(message: string, command: readonly string[] = []) {
    super(message);
    this.name = 'UsageError';
    this.command = command;
  }
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
