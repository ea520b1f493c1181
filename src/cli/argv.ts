/**
 * Clarifai's CLI has single-dash multi-letter aliases (-cc_id, -np_id, -dpl_id, -dpl_usr_id). Argument parsers
 * (ours in args/ too) read a single dash as short flags (`-ojson`), so they are rewritten to the long
 * forms before parsing, in `-cc_id VALUE` and `-cc_id=VALUE` forms.
 */
const ALIASES: Record<string, string> = {
  '-cc_id': '--compute_cluster_id',
  '-np_id': '--nodepool_id',
  '-dpl_id': '--deployment_id',
  '-dpl_usr_id': '--deployment_user_id',
};

export function rewriteAliases(args: readonly string[]): string[] {
  const out: string[] = [];
  let literal = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    // the value of an option is never rewritten (e.g. --bytes "-cc_id")
    if (literal || arg === '--') {
      literal = true;
      out.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg : arg.slice(0, eq);
    const long = ALIASES[name];
    if (long) out.push(eq === -1 ? long : `${long}${arg.slice(eq)}`);
    else out.push(arg);
    if (arg.startsWith('-') && eq === -1 && i + 1 < args.length && VALUE_OPTIONS.has(arg)) {
      out.push(args[++i]!);
    }
  }
  return out;
}

/** Options that take a value, whose next word must be passed through untouched. */
const VALUE_OPTIONS = new Set([
  '--bytes',
  '--config',
  '--model_id',
  '--user_id',
  '--app_id',
  '--model_url',
  '--file_path',
  '--url',
  '--input_id',
  '--input_type',
  '--inference_params',
  '--output_config',
  '--compute_cluster_id',
  '--nodepool_id',
  '--deployment_id',
  '--input_list',
  '--output_file',
  '--annotate',
  '--concurrency',
  '--batch_size',
  '--output',
  '-o',
  '-i',
  '--input',
  '--inputs',
  '--method',
  '--deployment',
  '--deployment_user_id',
]);
