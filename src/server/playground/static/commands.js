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
 * `{ kind: 'url', url, type }`; a file or URL may carry `prompt`, the text sent beside it in the same
 * input (multimodal models). `stream`: the generate route, read with `-N`. File bytes are not pasted into the command: `base64 -w0 FILE`
 * writes them into the body, which goes to curl on stdin (a photo's base64 is longer than one
 * command-line argument may be).
 */
export function curlCommand(origin, path, inputs, modelPart, { stream = false } = {}) {
  const wireInputs = inputs.map(wireInput);
  const json = JSON.stringify({ inputs: wireInputs, ...(modelPart ? { model: modelPart } : {}) });
  const request = [
    // -N: print each streamed line as it comes instead of when curl's buffer fills
    `curl -sS${stream ? ' -N' : ''} -X POST ${shellQuote(origin + path)} \\`,
    `  -H "Authorization: Key $CLARIFAI_PAT" \\`,
    `  -H 'Content-Type: application/json' \\`,
  ];
  if (!inputs.some((input) => input.kind === 'file'))
    return [...request, `  -d ${shellQuote(json)}`].join('\n');
  const { lines, rest } = spliceFiles(json, inputs);
  request[0] = `} | ${request[0]}`;
  return ['{', ...lines, `  printf '%s' ${shellQuote(rest)}`, ...request, '  --data-binary @-'].join('\n');
}

/**
 * Input i as v2 JSON, a file's bytes as FILE_MARK(i); `prompt` (a multimodal model's text beside
 * its image) goes in the same input's `data.text`.
 */
function wireInput(input, i) {
  const data =
    input.kind === 'file'
      ? { [input.type]: { base64: FILE_MARK(i) } }
      : input.kind === 'file-text' || input.kind === 'text'
        ? { text: { raw: input.text } }
        : { [input.type]: { url: input.url } };
  if (input.prompt !== undefined) data.text = { raw: input.prompt };
  return { data };
}

/** Shell lines writing `json` with each FILE_MARK replaced by `base64 -w0 FILE`; `rest` is what follows the last. */
function spliceFiles(json, inputs) {
  const lines = [];
  let rest = json;
  inputs.forEach((input, i) => {
    if (input.kind !== 'file') return;
    const [before, after] = rest.split(FILE_MARK(i));
    lines.push(`  printf '%s' ${shellQuote(before)}`, `  base64 -w0 ${shellQuote(input.name)}`);
    rest = after;
  });
  return { lines, rest };
}

/** The same request as the clarifai CLI types it, pointed at this server by CLARIFAI_API_BASE. */
export function cliCommand(origin, model, inputs, outputConfig, params) {
  const lines = [`CLARIFAI_API_BASE=${shellQuote(origin)} clarifai model predict \\`];
  lines.push(`  --model_url ${shellQuote(modelUrl(model))} \\`);
  // An image with a prompt is one input with two parts: no flag says that, a v2 input line in
  // --input_list does (the image's base64 written into it by the shell, as for curl).
  if (inputs.some((input) => input.prompt !== undefined)) {
    const jsonl = inputs.map((input, i) => JSON.stringify(wireInput(input, i))).join('\n');
    const { lines: write, rest } = spliceFiles(jsonl, inputs);
    const flags = ['--input_list input.jsonl'];
    if (outputConfig) flags.push(`--output_config ${shellQuote(JSON.stringify(outputConfig))}`);
    if (params) flags.push(`--inference_params ${shellQuote(JSON.stringify(params))}`);
    flags.forEach((flag, i) => lines.push(`  ${flag}${i < flags.length - 1 ? ' \\' : ''}`));
    return ['{', ...write, `  printf '%s\\n' ${shellQuote(rest)}`, '} > input.jsonl', ...lines].join('\n');
  }
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
