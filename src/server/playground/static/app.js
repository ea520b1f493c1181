// The playground page: sign in, pick a model, give inputs, predict, show the response four ways.
/* global document, window, navigator, FileReader */
import { call, generate, isGenerating, isKeyError, listModels, outputsPath, session } from './api.js';
import { cliCommand, curlCommand } from './commands.js';
import { el, renderOutputs, renderStatus, streamCard } from './render.js';

const $ = (id) => document.getElementById(id);
const MAX_INPUTS = 128;

const state = {
  pat: null,
  models: [],
  model: null,
  tab: 'file',
  /** Picked files: { file, previewUrl, mediaType } */
  files: [],
  texts: { json: '', curl: '', cli: '' },
  /** The running request: its AbortController while a generation streams. */
  running: null,
};

// ---------------------------------------------------------------- sign in

async function signIn(pat) {
  const error = $('sign-in-error');
  error.hidden = true;
  $('sign-in-button').disabled = true;
  try {
    const { body } = await call(pat, 'GET', '/v2/users/me');
    state.pat = pat;
    session.set(pat);
    $('who-user').textContent = body.user?.id ?? '?';
    $('who-server').textContent = window.location.host;
    $('sign-in').hidden = true;
    $('who').hidden = false;
    $('workspace').hidden = false;
    $('pat').value = '';
    await loadModels();
  } catch (err) {
    session.clear();
    showSignIn(
      isKeyError(err)
        ? `This server refused the key: ${err.message}. Check it, or use the one in the server's bootstrap.yaml.`
        : err.message,
    );
  } finally {
    $('sign-in-button').disabled = false;
  }
}

function showSignIn(message) {
  state.pat = null;
  $('sign-in').hidden = false;
  $('who').hidden = true;
  $('workspace').hidden = true;
  const error = $('sign-in-error');
  error.textContent = message ?? '';
  error.hidden = !message;
  $('pat').focus();
}

function signOut() {
  state.running?.abort();
  session.clear();
  state.models = [];
  state.model = null;
  clearFiles();
  resetResult();
  showSignIn();
}

// ---------------------------------------------------------------- models

async function loadModels() {
  const error = $('models-error');
  error.hidden = true;
  try {
    state.models = await listModels(state.pat);
  } catch (err) {
    if (isKeyError(err)) return showSignIn(`Signed out: ${err.message}`);
    error.textContent = `Could not list models: ${err.message}`;
    error.hidden = false;
    state.models = [];
  }
  $('model-count').textContent = `${state.models.length} available`;
  renderModelList();
  if (!state.model && state.models.length > 0) selectModel(state.models[0]);
}

const modelKey = (m) => `${m.user_id}/${m.app_id}/${m.id}`;

/** Which input a model takes, from its type: visual-detector -> image, text-to-image -> text. */
export function inputTypeOf(model) {
  const first = String(model?.model_type_id ?? '').split('-')[0];
  if (first === 'visual' || first === 'image' || first === 'multimodal') return 'image';
  if (first === 'audio' || first === 'video' || first === 'text') return first;
  return 'image';
}

function renderModelList() {
  const filter = $('model-filter').value.trim().toLowerCase();
  const list = $('model-list');
  list.replaceChildren();
  const shown = state.models.filter((m) =>
    [modelKey(m), m.model_type_id, m.description, m.name].some((s) =>
      String(s ?? '')
        .toLowerCase()
        .includes(filter),
    ),
  );
  for (const m of shown) {
    const selected = state.model && modelKey(state.model) === modelKey(m);
    const option = el(
      'button',
      {
        type: 'button',
        class: 'model',
        role: 'option',
        'aria-selected': selected ? 'true' : 'false',
        data: { model: modelKey(m) },
      },
      el('span', { class: 'model-id', text: m.id }),
      el('span', { class: 'badge', text: m.model_type_id || 'model' }),
      el('span', { class: 'model-owner', text: `${m.user_id}/${m.app_id}` }),
      m.description ? el('span', { class: 'model-desc', text: m.description }) : null,
    );
    option.addEventListener('click', () => selectModel(m));
    list.append(option);
  }
  if (shown.length === 0) {
    list.append(
      el('p', {
        class: 'muted',
        text: state.models.length ? 'No model matches.' : 'This key can use no model.',
      }),
    );
  }
}

function selectModel(model) {
  state.model = model;
  for (const option of $('model-list').querySelectorAll('[role=option]')) {
    option.setAttribute('aria-selected', option.dataset.model === modelKey(model) ? 'true' : 'false');
  }
  $('chosen-model').textContent = `${modelKey(model)} · ${model.model_type_id ?? ''}`;
  $('about-name').textContent = model.name || model.id;
  $('about-text').textContent = model.description || 'No description.';
  $('model-about').hidden = false;
  const defaults = model.model_version?.output_info?.params;
  const generating = isGenerating(model);
  $('gen-options').hidden = !generating;
  $('predict-options').hidden = generating;
  for (const input of $('gen-options').querySelectorAll('[data-param]')) {
    if (input.id === 'gen-prompt-template') continue;
    const d = defaults?.[input.dataset.param];
    input.placeholder = d === undefined ? '' : Array.isArray(d) ? d.join('\n') : String(d);
  }
  if (generating) $('options').open = true;
  if (!state.running) $('predict').textContent = predictLabel();
  $('params').placeholder =
    defaults && Object.keys(defaults).length > 0
      ? `defaults: ${JSON.stringify(defaults)}`
      : '{"temperature": 0.7}';
  const type = inputTypeOf(model);
  $('url-type').value = type;
  selectTab(type === 'text' ? 'text' : 'file');
  updatePredict();
}

const predictLabel = () => (isGenerating(state.model) ? 'Generate' : 'Predict');

/** A multimodal generating model takes a prompt beside its image, in the same input. */
const takesPrompt = () => state.model?.model_type_id === 'multimodal-to-text' && state.tab !== 'text';

// ---------------------------------------------------------------- inputs

function selectTab(tab) {
  state.tab = tab;
  for (const button of document.querySelectorAll('[data-tab]')) {
    button.setAttribute('aria-selected', button.dataset.tab === tab ? 'true' : 'false');
  }
  for (const panel of document.querySelectorAll('[data-panel]')) panel.hidden = panel.dataset.panel !== tab;
  $('prompt-field').hidden = !takesPrompt();
  updatePredict();
}

function mediaTypeOf(file) {
  const major = (file.type || '').split('/')[0];
  if (['image', 'audio', 'video', 'text'].includes(major)) return major;
  if (/\.(txt|md|csv)$/i.test(file.name)) return 'text';
  return inputTypeOf(state.model);
}

function addFiles(fileList) {
  const error = $('input-error');
  error.hidden = true;
  for (const file of fileList) {
    if (state.files.length >= MAX_INPUTS) {
      error.textContent = `At most ${MAX_INPUTS} inputs go in one request; the rest were left out.`;
      error.hidden = false;
      break;
    }
    const mediaType = mediaTypeOf(file);
    state.files.push({
      file,
      mediaType,
      previewUrl: mediaType === 'text' ? null : URL.createObjectURL(file),
    });
  }
  renderFileList();
  selectTab('file');
}

function clearFiles() {
  for (const f of state.files) if (f.previewUrl) URL.revokeObjectURL(f.previewUrl);
  state.files = [];
  renderFileList();
}

function renderFileList() {
  const list = $('file-list');
  list.replaceChildren();
  state.files.forEach((f, i) => {
    const remove = el('button', {
      type: 'button',
      class: 'ghost small',
      'aria-label': `Remove ${f.file.name}`,
      text: '✕',
    });
    remove.addEventListener('click', () => {
      if (f.previewUrl) URL.revokeObjectURL(f.previewUrl);
      state.files.splice(i, 1);
      renderFileList();
    });
    list.append(
      el(
        'li',
        {},
        f.mediaType === 'image'
          ? thumbnail(f.previewUrl)
          : el('span', { class: 'file-kind', text: f.mediaType }),
        el('span', { class: 'file-name', text: f.file.name || 'pasted' }),
        el('span', { class: 'muted', text: sizeOf(f.file.size) }),
        remove,
      ),
    );
  });
  if (state.files.length > 1) {
    const clear = el('button', { type: 'button', class: 'ghost small', text: 'Clear all' });
    clear.addEventListener('click', clearFiles);
    list.append(el('li', { class: 'file-clear' }, clear));
  }
  updatePredict();
}

/** A small preview; a file that is not a picture the browser can show gets a plain tag. */
function thumbnail(url) {
  const img = el('img', { src: url, alt: '' });
  img.addEventListener('error', () => img.replaceWith(el('span', { class: 'file-kind', text: 'image?' })));
  return img;
}

const sizeOf = (n) =>
  n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MB` : `${Math.max(1, Math.round(n / 1024))} kB`;

function updatePredict() {
  const ready =
    state.model &&
    !state.running &&
    ((state.tab === 'file' && state.files.length > 0) ||
      (state.tab === 'text' && $('text-input').value.length > 0) ||
      (state.tab === 'url' && $('url-input').value.trim().length > 0));
  $('predict').disabled = !ready;
}

function readFile(file, as) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(new Error(`Could not read ${file.name}`));
    if (as === 'text') reader.readAsText(file);
    else reader.readAsDataURL(file);
  });
}

/**
 * The inputs as the page will send them: `wire` for the request, `described` for the commands
 * (files by name, not bytes) and `shown` for the output cards (previews).
 */
async function collectInputs() {
  const inputs = await collectPlainInputs();
  const prompt = $('prompt-input').value;
  if (!takesPrompt() || prompt === '') return inputs;
  if (inputs.length !== 1 || inputs[0].described.kind === 'file-text')
    throw new Error('A prompt goes with one image: pick a single image, or clear the prompt.');
  const [input] = inputs;
  return [
    {
      wire: { data: { ...input.wire.data, text: { raw: prompt } } },
      described: { ...input.described, prompt },
      shown: { ...input.shown, label: `${input.shown.label} · ${clip(prompt)}` },
    },
  ];
}

async function collectPlainInputs() {
  if (state.tab === 'text') {
    const text = $('text-input').value;
    return [
      {
        wire: { data: { text: { raw: text } } },
        described: { kind: 'text', text },
        shown: { label: clip(text), mediaType: 'text' },
      },
    ];
  }
  if (state.tab === 'url') {
    const url = $('url-input').value.trim();
    const type = $('url-type').value;
    return [
      {
        wire: { data: { [type]: { url } } },
        described: { kind: 'url', url, type },
        shown: { label: url, mediaType: type },
      },
    ];
  }
  return Promise.all(
    state.files.map(async (f) => {
      const name = f.file.name || 'pasted.png';
      if (f.mediaType === 'text') {
        const text = await readFile(f.file, 'text');
        return {
          wire: { data: { text: { raw: text } } },
          described: { kind: 'file-text', name, text },
          shown: { label: name, mediaType: 'text' },
        };
      }
      const dataUrl = await readFile(f.file, 'dataUrl');
      const base64 = String(dataUrl).slice(String(dataUrl).indexOf(',') + 1);
      return {
        wire: { data: { [f.mediaType]: { base64 } } },
        described: { kind: 'file', name, type: f.mediaType },
        shown: { label: name, mediaType: f.mediaType, previewUrl: f.previewUrl },
      };
    }),
  );
}

const clip = (s) => (s.length > 80 ? `${s.slice(0, 77)}…` : s);

/** output_config and params from the Options; throws a message for a bad value. */
function readOptions() {
  const outputConfig = {};
  const max = $('max-concepts').value.trim();
  if (max !== '') outputConfig.max_concepts = Number(max);
  const min = $('min-value').value.trim();
  if (min !== '') outputConfig.min_value = Number(min);
  let params;
  const raw = $('params').value.trim();
  if (raw !== '') {
    try {
      params = JSON.parse(raw);
    } catch (err) {
      throw new Error(`Inference params are not valid JSON: ${err.message}`, { cause: err });
    }
    if (!params || typeof params !== 'object' || Array.isArray(params)) {
      throw new Error('Inference params must be a JSON object, e.g. {"min_score": 0.5}');
    }
  }
  const generation = isGenerating(state.model) ? readGenerationParams() : {};
  for (const name of Object.keys(generation)) {
    if (params && Object.hasOwn(params, name))
      throw new Error(`${name} is set twice: in its field and in the inference params JSON. Keep one.`);
  }
  if (Object.keys(generation).length > 0) params = { ...generation, ...params };
  const generating = isGenerating(state.model);
  return {
    outputConfig: !generating && Object.keys(outputConfig).length > 0 ? outputConfig : undefined,
    params,
  };
}

/** The generation fields that hold a value, as params: numbers as numbers, stop as a list. */
function readGenerationParams() {
  const params = {};
  for (const input of $('gen-options').querySelectorAll('[data-param]')) {
    const name = input.dataset.param;
    const raw = input.value;
    if (raw.trim() === '') continue;
    if (input.type === 'number') {
      const n = Number(raw);
      if (!Number.isFinite(n)) throw new Error(`${name} must be a number.`);
      params[name] = n;
    } else if (name === 'stop') {
      params.stop = raw.split('\n').filter((s) => s !== '');
    } else {
      params[name] = raw;
    }
  }
  return params;
}

// ---------------------------------------------------------------- predict

async function predict() {
  if ($('predict').disabled || !state.model) return;
  const error = $('input-error');
  error.hidden = true;
  let options;
  let inputs;
  try {
    options = readOptions();
    inputs = await collectInputs();
  } catch (err) {
    error.textContent = err.message;
    error.hidden = false;
    return;
  }
  const model = state.model;
  const outputInfo = {
    ...(options.outputConfig ? { output_config: options.outputConfig } : {}),
    ...(options.params ? { params: options.params } : {}),
  };
  const modelPart =
    Object.keys(outputInfo).length > 0 ? { model_version: { output_info: outputInfo } } : undefined;
  const body = { inputs: inputs.map((i) => i.wire), ...(modelPart ? { model: modelPart } : {}) };
  const path = outputsPath(model);
  const origin = window.location.origin;
  const described = inputs.map((i) => i.described);
  const generating = isGenerating(model);
  setCode(
    generating
      ? curlCommand(origin, `${path}/generate`, described, modelPart, { stream: true })
      : curlCommand(origin, path, described, modelPart),
    cliCommand(origin, model, described, options.outputConfig, options.params),
  );
  if (generating) {
    await generateStream(path, body, inputs[0]?.shown ?? {});
    return;
  }

  $('json-note').textContent = 'The full response';
  const button = $('predict');
  button.disabled = true;
  button.classList.add('busy');
  button.textContent = 'Predicting…';
  const outputs = $('outputs');
  outputs.setAttribute('aria-busy', 'true');
  try {
    const { body: response, httpStatus, ms } = await call(state.pat, 'POST', path, body);
    renderStatus($('status'), { status: response.status, httpStatus, ms });
    renderOutputs(
      outputs,
      response.outputs,
      inputs.map((i) => i.shown),
    );
    setJson(response);
  } catch (err) {
    if (isKeyError(err)) {
      showSignIn(`Signed out: ${err.message}`);
      return;
    }
    renderStatus($('status'), { status: err.status, httpStatus: err.httpStatus, message: err.message });
    outputs.replaceChildren();
    if (Array.isArray(err.body?.outputs) && err.body.outputs.length > 0) {
      renderOutputs(
        outputs,
        err.body.outputs,
        inputs.map((i) => i.shown),
      );
    } else {
      outputs.append(
        el('p', { class: 'empty', text: 'No outputs: the request failed as a whole (details above).' }),
      );
    }
    setJson(err.body ?? { error: err.message });
  } finally {
    outputs.removeAttribute('aria-busy');
    button.classList.remove('busy');
    button.textContent = predictLabel();
    updatePredict();
  }
}

/**
 * A generating model: `.../outputs/generate` read as it streams, each piece appended to the card's
 * text. Stop aborts the fetch; closing the connection is what stops the generation on the server.
 * The JSON view shows the messages joined into one response shaped like POST .../outputs answers
 * (the whole text, the first message's model and input, the last one's status and token counts),
 * so it compares with, and pastes like, a predict response; the message count is noted above it.
 */
async function generateStream(path, body, shown) {
  const button = $('predict');
  const stop = $('stop');
  const controller = new AbortController();
  state.running = controller;
  button.disabled = true;
  button.classList.add('busy');
  button.textContent = 'Generating…';
  stop.hidden = false;
  stop.disabled = false;
  $('status').hidden = true;
  setJson({});
  $('json-note').textContent = 'Generating…';
  const card = streamCard($('outputs'), shown);
  const started = performance.now();
  let first;
  let last;
  let firstAt;
  let count = 0;
  const joined = () => {
    const head = first?.outputs?.[0] ?? {};
    const tail = last?.outputs?.[0] ?? {};
    const output = { ...head, ...tail, status: tail.status ?? head.status };
    output.data = { ...(head.data ?? {}), text: { raw: card.text() } };
    for (const key of ['model', 'input']) if (head[key]) output[key] = head[key];
    return { status: last?.status ?? first?.status, outputs: [output] };
  };
  try {
    const { httpStatus, ms } = await generate(state.pat, path, body, {
      signal: controller.signal,
      onMessage(message) {
        count++;
        first ??= message;
        last = message;
        firstAt ??= performance.now();
        const piece = message.outputs?.[0]?.data?.text?.raw;
        if (typeof piece === 'string') card.append(piece);
      },
    });
    const status = last?.status;
    const output = last?.outputs?.[0] ?? {};
    if (!last) {
      card.fail({ description: 'The stream ended without a message' });
    } else if (status?.code !== 10000) {
      card.fail(output.status ?? status);
    } else {
      card.finish({
        promptTokens: output.prompt_tokens,
        completionTokens: output.completion_tokens,
        pieces: count,
        firstSeconds: firstAt !== undefined ? (firstAt - started) / 1000 : undefined,
        // the speed of writing, after the first piece (which also pays for reading the prompt)
        seconds: firstAt !== undefined ? (performance.now() - firstAt) / 1000 : 0,
      });
    }
    renderStatus($('status'), { status: status ?? { description: 'No message' }, httpStatus, ms });
    setJson(joined());
    $('json-note').textContent = `The ${count} streamed messages joined into one response`;
  } catch (err) {
    if (!state.pat) {
      // signed out while it ran: the aborted request has nothing to show
    } else if (controller.signal.aborted) {
      card.stop(count);
      renderStatus($('status'), {
        stopped: true,
        message: 'Stopped: the connection was closed, which ends the generation on the server.',
        ms: performance.now() - started,
      });
      setJson(joined());
      $('json-note').textContent = `The ${count} messages that came before Stop, joined`;
    } else if (isKeyError(err)) {
      showSignIn(`Signed out: ${err.message}`);
    } else {
      renderStatus($('status'), { status: err.status, httpStatus: err.httpStatus, message: err.message });
      card.fail(err.status ?? { description: err.message });
      setJson(err.body ?? { error: err.message });
      $('json-note').textContent = 'The error response';
    }
  } finally {
    state.running = null;
    stop.hidden = true;
    stop.disabled = true;
    button.classList.remove('busy');
    button.textContent = predictLabel();
    updatePredict();
  }
}

function setJson(response) {
  state.texts.json = JSON.stringify(response, null, 2);
  $('json').textContent = state.texts.json;
}

function setCode(curl, cli) {
  state.texts.curl = curl;
  state.texts.cli = cli;
  $('curl').textContent = curl;
  $('cli').textContent = cli;
}

function resetResult() {
  $('status').hidden = true;
  $('outputs').replaceChildren(
    el('p', { class: 'empty', text: 'Pick a model, give it an input and press Predict.' }),
  );
  state.texts.json = '';
  $('json').textContent = '';
  setCode('', '');
}

function selectView(view) {
  for (const button of document.querySelectorAll('[data-view]')) {
    button.setAttribute('aria-selected', button.dataset.view === view ? 'true' : 'false');
  }
  for (const panel of document.querySelectorAll('[data-view-panel]'))
    panel.hidden = panel.dataset.viewPanel !== view;
}

async function copy(button) {
  const text = state.texts[button.dataset.copy] ?? '';
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = 'Copied';
  } catch {
    // no clipboard permission (plain http on another host): select the text instead
    const pre = $(button.dataset.copy);
    window.getSelection()?.selectAllChildren(pre);
    button.textContent = 'Selected: Ctrl+C';
  }
  window.setTimeout(() => (button.textContent = 'Copy'), 1500);
}

// ---------------------------------------------------------------- wiring

function wire() {
  $('sign-in-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const pat = $('pat').value.trim();
    if (pat) void signIn(pat);
    else showSignIn('Paste a personal access token first.');
  });
  $('sign-out').addEventListener('click', signOut);
  $('model-filter').addEventListener('input', renderModelList);
  for (const b of document.querySelectorAll('[data-tab]'))
    b.addEventListener('click', () => selectTab(b.dataset.tab));
  for (const b of document.querySelectorAll('[data-view]'))
    b.addEventListener('click', () => selectView(b.dataset.view));
  for (const b of document.querySelectorAll('[data-copy]')) b.addEventListener('click', () => void copy(b));
  $('file-input').addEventListener('change', (ev) => {
    addFiles(ev.target.files);
    ev.target.value = '';
  });
  $('text-input').addEventListener('input', updatePredict);
  $('url-input').addEventListener('input', updatePredict);
  $('predict').addEventListener('click', () => void predict());
  $('prompt-input').addEventListener('input', updatePredict);
  $('stop').addEventListener('click', () => state.running?.abort());

  const drop = $('drop');
  drop.addEventListener('dragover', (ev) => {
    ev.preventDefault();
    drop.classList.add('drag');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('drag'));
  drop.addEventListener('drop', (ev) => {
    ev.preventDefault();
    drop.classList.remove('drag');
    if (ev.dataTransfer?.files?.length) addFiles(ev.dataTransfer.files);
  });
  // a file dropped anywhere else must not navigate away from the page
  window.addEventListener('dragover', (ev) => ev.preventDefault());
  window.addEventListener('drop', (ev) => ev.preventDefault());

  // Paste: files (a copied image) become inputs; text outside a text field fills Text or URL.
  document.addEventListener('paste', (ev) => {
    if ($('workspace').hidden) return;
    const files = [...(ev.clipboardData?.files ?? [])];
    if (files.length > 0) {
      ev.preventDefault();
      addFiles(files);
      return;
    }
    const target = ev.target;
    if (target instanceof window.HTMLInputElement || target instanceof window.HTMLTextAreaElement) return;
    const text = ev.clipboardData?.getData('text/plain') ?? '';
    if (!text) return;
    ev.preventDefault();
    if (/^https?:\/\/\S+$/.test(text.trim())) {
      $('url-input').value = text.trim();
      selectTab('url');
    } else {
      $('text-input').value = text;
      selectTab('text');
    }
  });
  document.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey) && !$('workspace').hidden) {
      ev.preventDefault();
      void predict();
    }
  });
}

wire();
const saved = session.get();
if (saved) void signIn(saved);
else showSignIn();
