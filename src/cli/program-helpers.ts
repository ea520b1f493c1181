import type { Command } from './args/command.js';

export type { Command };

/** What every command registration in program*.ts shares. */

export type Env = Readonly<Record<string, string | undefined>>;

export const HELP = 'Show this message and exit.';

/** Repeatable options (`--file_path a --file_path b`) collect into a list. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** A subcommand with the house settings: `-h, --help`, and an Examples section in its help. */
export function sub(parent: Command, nameAndArgs: string, description: string, examples: string[]): Command {
  return parent
    .command(nameAndArgs)
    .description(description)
    .helpOption('-h, --help', HELP)
    .addHelpText('after', `\nExamples:\n${examples.map((e) => `  ${e}`).join('\n')}`);
}
