export { run, COMMANDS, HELP } from './run.ts';
export { CliError, EXIT, type ExitCode } from './errors.ts';
export type { CliIO } from './context.ts';
export { money } from './format.ts';
