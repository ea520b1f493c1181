// The request on screen as shell commands: curl against this server and `clarifai model predict`.
// The key is always `$CLARIFAI_PAT`, never the one the page holds.

/** A word for a POSIX shell: bare when safe, else single-quoted (a ' becomes '\''). */
export function shellQuote(s) {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** https://clarifai.com/{user}/{app}/models/{model}: the CLI sends it to its login's server, not this host. */
export function modelUrl(model) {
  return `https://clarifai.com/${model.user_id}/${model.app_id}/models/${model.id}`;
}

const FILE_MARK = (i) => `@@sibyl-file-${i}@@`;

/**
 * `inputs`: what the page sent, each `{ kind: 'file', name, type }` (bytes sent as base64),
 * `{ kind: 'file-text', name, text }` (a text file sent as raw text), `{ kind: 'text', text }` or
 * `{ kind: 'url', url, type }`. File bytes are not pasted into the command: `base64 -w0 FILE`
 * writes them into the body, which goes to curl on stdin (a photo's base64 is longer than one
 * command-line argument may be).
 */
export function curlCommand(origin, path, inputs, modelPart) {
  const wireInputs = inputs.map((input, i) => {
    if (input.kind === 'file') return { data: { [input.type]: { base64: FILE_MARK(i) } } };
    if (input.kind === 'file-text' || input.kind === 'text') return { data: { text: { raw: input.text } } };
    return { data: { [input.type]: { url: input.url } } };
  });
  const json = JSON.stringify({ inputs: wireInputs, ...(modelPart ? { model: modelPart } : {}) });
  const request = [
    `curl -sS -X POST ${shellQuote(origin + path)} \\`,
    `  -H "Authorization: Key $CLARIFAI_PAT" \\`,
    `  -H 'Content-Type: application/json' \\`,
  ];
  if (!inputs.some((input) => input.kind === 'file'))
    return [...request, `  -d ${shellQuote(json)}`].join('\n');
  const body = ['{'];
  let rest = json;
  inputs.forEach((input, i) => {
    if (input.kind !== 'file') return;
    const [before, after] = rest.split(FILE_MARK(i));
    body.push(`  printf '%s' ${shellQuote(before)}`, `  base64 -w0 ${shellQuote(input.name)}`);
    rest = after;
  });
  body.push(`  printf '%s' ${shellQuote(rest)}`);
  request[0] = `} | ${request[0]}`;
  return [...body, ...request, '  --data-binary @-'].join('\n');
}

/** The same request as the clarifai CLI types it, pointed at this server by CLARIFAI_API_BASE. */
export function cliCommand(origin, model, inputs, outputConfig, params) {
  const lines = [`CLARIFAI_API_BASE=${shellQuote(origin)} clarifai model predict \\`];
  lines.push(`  --model_url ${shellQuote(modelUrl(model))} \\`);
  const flags = inputs.map((input) => {
    if (input.kind === 'file' || input.kind === 'file-text') return `--file_path ${shellQuote(input.name)}`;
    if (input.kind === 'text') return `--bytes ${shellQuote(input.text)}`;
    return `--url ${shellQuote(input.url)}`;
  });
  const types = new Set(
    inputs.map((input) => (input.kind === 'text' || input.kind === 'file-text' ? 'text' : input.type)),
  );
  if (types.size === 1) flags.push(`--input_type ${[...types][0]}`);
  if (outputConfig) flags.push(`--output_config ${shellQuote(JSON.stringify(outputConfig))}`);
  if (params) flags.push(`--inference_params ${shellQuote(JSON.stringify(params))}`);
  flags.forEach((flag, i) => lines.push(`  ${flag}${i < flags.length - 1 ? ' \\' : ''}`));
  return lines.join('\n');
}
