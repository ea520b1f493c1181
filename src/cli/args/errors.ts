/**
 * A command line the parser refuses: an unknown option or command, a missing or extra argument,
 * an option without its value, a value outside its choices. `main` prints `message` as one line
 * (`error: ... (see --help)`) and exits with EXIT_USAGE. A command group named without one of its
 * commands carries its `help` instead, printed in full to stderr.
 */
export class ArgsError extends Error {
  constructor(
    message: string,
    readonly help?: string,
  ) {
    super(message);
    this.name = 'ArgsError';
  }
}
