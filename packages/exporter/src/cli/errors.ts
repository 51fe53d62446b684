/**
 * The CLI's exit codes, in one place. Scripts may rely on them; README repeats this table.
 *
 *   0  ok
 *   1  internal error (a bug: please report it with the message)
 *   2  usage: unknown command or flag, bad flag value
 *   3  config: unreadable config or prices file, invalid setting
 *   4  network / store: cannot open or reach the store or the server, port in use, data dir locked
 *   5  data: the store answered but the data is not what was expected (missing tables, bad rows)
 */
export const EXIT = {
  OK: 0,
  INTERNAL: 1,
  USAGE: 2,
  CONFIG: 3,
  STORE: 4,
  DATA: 5,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error the CLI expects: its message goes to stderr as is, and `code` becomes the exit code. */
export class CliError extends Error {
  override name = 'CliError';
  readonly exitCode: ExitCode;
  /** Printed after the message, e.g. "run `spendtrace report --help`". */
  readonly hint: string | undefined;

  constructor(exitCode: ExitCode, message: string, options: { cause?: unknown; hint?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.exitCode = exitCode;
    this.hint = options.hint;
  }
}

export const usageError = (message: string, command?: string) =>
  new CliError(EXIT.USAGE, message, { hint: `run \`spendtrace ${command ? `${command} ` : ''}--help\` for usage` });
