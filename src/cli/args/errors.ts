/** A mistyped option or command name, and the names it may have meant. */
export interface Typo {
  word: string;
  candidates: readonly string[];
  /** Said instead when no candidate is close, e.g. the list of commands. */
  otherwise?: string;
}

/**
 * A command line the parser refuses: an unknown option or command, a missing or extra argument,
 * an option without its value, a value outside its choices. `main` prints `message` as one line
 * (`error: ... (see --help)`) and exits with EXIT_USAGE. A command group named without one of its
 * commands carries its `help` instead, printed in full to stderr.
 */
export class ArgsError extends Error {
  readonly help?: string;
  readonly typo?: Typo;

  constructor(message: string, more: { help?: string; typo?: Typo } = {}) {
    super(message);
    this.name = 'ArgsError';
    if (more.help !== undefined) this.help = more.help;
    if (more.typo) this.typo = more.typo;
  }
}

/**
 * The error with its typo's nearest candidates added: `unknown option '--file_pat' (did you mean
 * --file_path?)`. The edit distance is loaded here, only once a word is wrong, so that a good
 * command line (and `--help`) never loads it.
 */
export async function withSuggestion(err: ArgsError): Promise<ArgsError> {
  if (!err.typo) return err;
  const { closest } = await import('../suggest.js');
  const near = closest(err.typo.word, err.typo.candidates);
  if (near.length > 0) return new ArgsError(`${err.message} (did you mean ${near.join(' or ')}?)`);
  return new ArgsError(err.typo.otherwise ? `${err.message} (${err.typo.otherwise})` : err.message);
}
