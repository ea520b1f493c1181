import type { Command } from './command.js';
import type { Argument, Option } from './option.js';

/** How a command's help differs from the default: the term shown for an option. */
export interface HelpConfig {
  optionTerm?: (option: Option) => string;
}

/** Below this many columns for descriptions, they are left unwrapped (as commander does). */
const MIN_WIDTH_TO_WRAP = 40;
const INDENT = 2;
const SPACER = 2;

/** The columns to wrap help to: the terminal's, else 80. */
export function helpWidth(stream: { isTTY?: boolean; columns?: number }): number {
  return stream.isTTY && stream.columns ? stream.columns : 80;
}

/**
 * A command's help, laid out as commander lays it out (scripts and the tests read it): the usage
 * line, the description, then Arguments, Options and Commands with their descriptions aligned and
 * wrapped to `width`, then the text added after (the Examples).
 */
export function formatHelp(cmd: Command, width: number): string {
  const optionTerm = cmd.helpConfig.optionTerm ?? ((o: Option) => o.flags);
  const args = cmd.registeredArguments.filter((a) => a.description);
  const options = [...cmd.options.filter((o) => !o.hidden), cmd.helpFlag];
  const sections: [string, [string, string][]][] = [
    ['Arguments:', args.map((a) => [a.name(), a.description])],
    ['Options:', options.map((o) => [optionTerm(o), optionDescription(o)])],
    ['Commands:', cmd.commands.map((c) => [commandTerm(c), c.description()])],
  ];
  const termWidth = Math.max(0, ...sections.flatMap(([, items]) => items.map(([term]) => term.length)));

  const names = cmd.path();
  // the first alias goes with the name: `config get-contexts|list-contexts`
  const alias = cmd.aliases()[0];
  if (alias) names.push(`${names.pop()!}|${alias}`);
  const out = [`Usage: ${names.join(' ')} ${cmd.usage()}`, ''];
  if (cmd.description()) out.push(wrap(cmd.description(), width), '');
  for (const [heading, items] of sections) {
    if (items.length === 0) continue;
    out.push(heading, ...items.map(([term, text]) => formatItem(term, text, termWidth, width)), '');
  }
  return out.join('\n') + cmd.afterHelp.map((text) => `${text}\n`).join('');
}

/** `predict [options] [MODEL_AND_INPUTS...]`, `use-context|use <name>`. */
function commandTerm(cmd: Command): string {
  const alias = cmd.aliases()[0];
  return [
    cmd.name() + (alias ? `|${alias}` : ''),
    ...(cmd.options.length > 0 ? ['[options]'] : []),
    ...cmd.registeredArguments.map((a: Argument) => a.usage()),
  ].join(' ');
}

/** The description with its choices and default, e.g. `(default: "8080")`. */
function optionDescription(option: Option): string {
  const extra: string[] = [];
  if (option.argChoices) extra.push(`choices: ${option.argChoices.map((c) => JSON.stringify(c)).join(', ')}`);
  const showDefault =
    option.defaultValue !== undefined && (!option.isBoolean() || typeof option.defaultValue === 'boolean');
  if (showDefault) extra.push(`default: ${JSON.stringify(option.defaultValue)}`);
  if (extra.length === 0) return option.description;
  return option.description ? `${option.description} (${extra.join(', ')})` : `(${extra.join(', ')})`;
}

function formatItem(term: string, description: string, termWidth: number, width: number): string {
  const indent = ' '.repeat(INDENT);
  if (!description) return indent + term;
  const room = width - termWidth - SPACER - INDENT;
  // a description with its own indented lines is laid out already
  const text =
    room < MIN_WIDTH_TO_WRAP || /\n[^\S\r\n]/.test(description)
      ? description
      : wrap(description, room).replace(/\n/g, `\n${' '.repeat(termWidth + SPACER)}`);
  return indent + term.padEnd(termWidth) + ' '.repeat(SPACER) + text.replace(/\n/g, `\n${indent}`);
}

/** Word-wraps each line of `text` to `width` columns; a word longer than that stands alone. */
export function wrap(text: string, width: number): string {
  if (width < MIN_WIDTH_TO_WRAP) return text;
  return text
    .split(/\r\n|\n/)
    .map((line) => {
      const chunks = line.match(/\s*\S+/g);
      if (!chunks) return '';
      const lines: string[] = [];
      let current = chunks[0]!;
      for (const chunk of chunks.slice(1)) {
        if (current.length + chunk.length <= width) {
          current += chunk;
        } else {
          lines.push(current);
          current = chunk.trimStart();
        }
      }
      lines.push(current);
      return lines.join('\n');
    })
    .join('\n');
}
