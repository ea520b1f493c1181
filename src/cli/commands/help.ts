import type { Command } from '../args/command.js';
import { CliUsageError } from '../errors.js';
import { closest } from '../suggest.js';

/** `clarifai help model predict`: the help of the command the words name, however deep. */
export function run(program: Command, words: string[]): void {
  let cmd = program;
  const path: string[] = [];
  for (const word of words) {
    const next = cmd.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (!next) {
      const names = cmd.commands.map((c) => c.name());
      const near = closest(word, names);
      const where = path.length > 0 ? `clarifai ${path.join(' ')}` : 'clarifai';
      throw new CliUsageError(
        `${where} has no command "${word}"${near.length > 0 ? `; did you mean ${near.join(' or ')}?` : ''} (commands: ${names.join(', ')})`,
      );
    }
    cmd = next;
    path.push(next.name());
  }
  cmd.outputHelp();
}
