// Renders v2 outputs as DOM. Everything a server or model sent is set as textContent or as a
// single attribute value, never parsed as HTML (no innerHTML anywhere in the page).
/* global document */

const SVG_NS = 'http://www.w3.org/2000/svg';

/** el('div', { class: 'x', text: 'hi', data: { concept: 'dog' } }, child, ...) */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = String(value);
    else if (key === 'data') for (const [k, v] of Object.entries(value)) node.dataset[k] = String(v);
    else if (key === 'style') Object.assign(node.style, value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof globalThis.Node ? child : String(child));
  }
  return node;
}

const PALETTE = [
  '#e4572e',
  '#2e86ab',
  '#17a67a',
  '#a23b72',
  '#f1a208',
  '#5b5f97',
  '#c0392b',
  '#1b998b',
  '#8e6c8a',
  '#3d5a80',
];

/** One colour per concept name, the same on every render. */
export function colourOf(name) {
  let h = 0;
  for (const ch of String(name)) h = (h * 31 + ch.codePointAt(0)) >>> 0;
  return PALETTE[h % PALETTE.length];
}

const fmt = (v, digits = 3) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '–');
const pct = (v) => `${Math.max(0, Math.min(1, Number(v) || 0)) * 100}%`;
const conceptName = (c) => c?.name || c?.id || '(unnamed)';

/** The request's status line: code, description, timing, request id. */
export function renderStatus(node, { status, httpStatus, ms, message, stopped }) {
  node.replaceChildren();
  node.hidden = false;
  const code = status?.code;
  const kind = stopped ? 'stopped' : code === 10000 ? 'ok' : code === 10010 ? 'mixed' : 'failed';
  node.className = `status status-${kind}`;
  node.append(
    el('span', { class: 'status-code', text: stopped ? 'stopped' : (code ?? `HTTP ${httpStatus ?? '?'}`) }),
    el('span', { class: 'status-text', text: message ?? status?.description ?? 'Failed' }),
  );
  if (kind === 'mixed') {
    node.append(
      el('span', { class: 'status-note', text: 'Some inputs failed: each output shows its own status.' }),
    );
  }
  const meta = [];
  if (ms !== undefined) meta.push(`${Math.round(ms)} ms`);
  if (httpStatus !== undefined) meta.push(`HTTP ${httpStatus}`);
  if (status?.req_id) meta.push(`req_id ${status.req_id}`);
  if (meta.length > 0) node.append(el('span', { class: 'status-meta', text: meta.join(' · ') }));
}

/**
 * One card per output, in input order. `sent[i]` describes input i as the page sent it:
 * `{ label, previewUrl?, mediaType }`, so regions can be drawn over the picked image.
 */
export function renderOutputs(container, outputs, sent) {
  container.replaceChildren();
  if (!Array.isArray(outputs) || outputs.length === 0) {
    container.append(el('p', { class: 'empty', text: 'The response has no outputs.' }));
    return;
  }
  outputs.forEach((output, i) => container.append(outputCard(output, sent[i] ?? {}, i)));
}

function outputCard(output, input, i) {
  const status = output?.status ?? {};
  const ok = status.code === 10000;
  const card = el('article', { class: `output ${ok ? '' : 'output-failed'}`, data: { index: i } });
  card.append(
    el(
      'header',
      { class: 'output-head' },
      el('span', { class: 'output-title', text: `Input ${i + 1}` }),
      input.label ? el('span', { class: 'output-label', text: input.label }) : null,
      el('span', {
        class: `pill ${ok ? 'pill-ok' : 'pill-failed'}`,
        text: ok ? 'OK' : `${status.code ?? '?'} ${status.description ?? 'Failed'}`,
      }),
    ),
  );
  if (!ok) {
    card.append(
      el(
        'div',
        { class: 'output-error', role: 'alert' },
        el('strong', { text: status.description ?? 'This input failed' }),
        status.details ? el('span', { text: status.details }) : null,
      ),
    );
  }
  if (ok || hasData(output?.data))
    card.append(renderData(output?.data ?? {}, input, output?.model?.model_type_id));
  return card;
}

function hasData(data) {
  return data && typeof data === 'object' && Object.keys(data).length > 0;
}

/** The known parts of a v2 `data`, each in its own block; unknown fields are named (see JSON). */
export function renderData(data, input = {}, modelType = '') {
  const body = el('div', { class: 'output-body' });
  const known = new Set();
  const take = (key) => {
    known.add(key);
    return data[key];
  };
  const regions = take('regions');
  const concepts = take('concepts');
  const text = take('text');
  const embeddings = take('embeddings');
  const image = take('image');
  const frames = take('frames');

  // a picked recording plays above what the model made of it (a transcript, say)
  if (input.previewUrl && (input.mediaType === 'audio' || input.mediaType === 'video'))
    body.append(preview(input));
  if (Array.isArray(regions)) {
    body.append(regionsBlock(regions, input));
  } else if (modelType.endsWith('detector') && !regions) {
    body.append(regionsBlock([], input));
  }
  if (Array.isArray(concepts)) {
    const bars = conceptBars(concepts);
    if (input.previewUrl && input.mediaType === 'image' && !regions) {
      body.append(el('div', { class: 'split' }, preview(input), bars));
    } else {
      body.append(bars);
    }
  }
  if (text && typeof text === 'object' && typeof text.raw === 'string') {
    body.append(
      el(
        'div',
        { class: 'block' },
        el('h4', { text: 'Text' }),
        el('pre', { class: 'text-out', text: text.raw }),
      ),
    );
  }
  if (Array.isArray(embeddings))
    embeddings.forEach((e, i) => body.append(embeddingBlock(e, i, embeddings.length)));
  if (image && typeof image === 'object' && typeof image.base64 === 'string' && image.base64.length > 0) {
    body.append(generatedImage(image.base64));
  }
  if (Array.isArray(frames)) body.append(framesBlock(frames, modelType));

  const rest = Object.keys(data).filter((k) => !known.has(k));
  if (rest.length > 0) {
    body.append(
      el('p', { class: 'muted', text: `Also in this output: ${rest.join(', ')} (see the JSON view).` }),
    );
  }
  if (body.childElementCount === 0) {
    body.append(el('p', { class: 'muted', text: 'No data for this input (nothing above the thresholds).' }));
  }
  return body;
}

function preview(input) {
  if (input.mediaType === 'audio') return el('audio', { controls: true, src: input.previewUrl });
  if (input.mediaType === 'video')
    return el('video', { controls: true, src: input.previewUrl, class: 'thumb' });
  return el('img', { class: 'thumb', src: input.previewUrl, alt: input.label ?? 'input image' });
}

function conceptBars(concepts) {
  const list = el('ol', { class: 'bars', 'aria-label': 'Concepts' });
  if (concepts.length === 0) list.append(el('li', { class: 'muted', text: 'No concepts above min_value.' }));
  for (const c of concepts) {
    const name = conceptName(c);
    const fill = el('span', {
      class: 'bar-fill',
      style: { width: pct(c?.value), background: colourOf(name) },
    });
    list.append(
      el(
        'li',
        { class: 'bar', data: { concept: name } },
        el('span', {
          class: 'bar-name',
          text: name,
          title: c?.id && c.id !== name ? `id: ${c.id}` : undefined,
        }),
        el(
          'span',
          {
            class: 'bar-track',
            role: 'meter',
            'aria-valuemin': 0,
            'aria-valuemax': 1,
            'aria-valuenow': fmt(c?.value),
          },
          fill,
        ),
        el('span', { class: 'bar-value', text: fmt(c?.value) }),
      ),
    );
  }
  return list;
}

/** The picked image with a box per region (bounding boxes are fractions of width and height). */
function regionsBlock(regions, input) {
  const block = el('div', { class: 'block regions' });
  const figure = el('div', { class: 'figure' });
  if (input.previewUrl && input.mediaType === 'image') {
    figure.append(el('img', { src: input.previewUrl, alt: input.label ?? 'input image' }));
  } else {
    figure.classList.add('figure-blank');
  }
  const rows = [];
  regions.forEach((region, i) => {
    const box = region?.region_info?.bounding_box;
    const concept = region?.data?.concepts?.[0];
    const name = conceptName(concept);
    const value = concept?.value ?? region?.value;
    const colour = colourOf(name);
    if (box) {
      const top = Number(box.top_row) || 0;
      const left = Number(box.left_col) || 0;
      const bottom = Number(box.bottom_row) || 0;
      const right = Number(box.right_col) || 0;
      figure.append(
        el(
          'div',
          {
            class: 'box',
            data: { concept: name, index: i },
            style: {
              top: pct(top),
              left: pct(left),
              width: pct(right - left),
              height: pct(bottom - top),
              borderColor: colour,
            },
          },
          el('span', { class: 'box-label', style: { background: colour }, text: `${name} ${fmt(value, 2)}` }),
        ),
      );
    }
    rows.push(
      el(
        'tr',
        { data: { index: i } },
        el('td', {}, el('span', { class: 'swatch', style: { background: colour } })),
        el('td', { text: name }),
        el('td', { class: 'num', text: fmt(value) }),
        el('td', {
          class: 'num muted',
          text: box
            ? [box.top_row, box.left_col, box.bottom_row, box.right_col]
                .map((v) => fmt(Number(v), 3))
                .join(', ')
            : '–',
        }),
      ),
    );
  });
  block.append(figure);
  if (figure.classList.contains('figure-blank')) {
    block.append(
      el('p', {
        class: 'figure-note',
        text: 'The image is not shown: this page loads nothing from other sites.',
      }),
    );
  }
  if (regions.length === 0) {
    block.append(el('p', { class: 'muted', text: 'No regions found (try a lower min_score).' }));
  } else {
    block.append(
      el(
        'table',
        { class: 'region-table' },
        el(
          'thead',
          {},
          el(
            'tr',
            {},
            el('th'),
            el('th', { text: 'concept' }),
            el('th', { class: 'num', text: 'score' }),
            el('th', { class: 'num', text: 'top, left, bottom, right' }),
          ),
        ),
        el('tbody', {}, rows),
      ),
    );
  }
  // hovering a row lights its box up
  block.addEventListener('mouseover', (ev) => {
    const row = ev.target.closest?.('tr[data-index]');
    for (const b of figure.querySelectorAll('.box'))
      b.classList.toggle('box-dim', !!row && b.dataset.index !== row.dataset.index);
  });
  block.addEventListener('mouseleave', () =>
    figure.querySelectorAll('.box').forEach((b) => b.classList.remove('box-dim')),
  );
  return block;
}

/** An embedding as numbers worth reading: size, norm, range, the first values and a strip chart. */
function embeddingBlock(embedding, i, count) {
  const vector = Array.isArray(embedding?.vector) ? embedding.vector.map(Number) : [];
  const dims = embedding?.num_dimensions ?? vector.length;
  const norm = Math.sqrt(vector.reduce((s, v) => s + v * v, 0));
  const min = vector.length ? Math.min(...vector) : NaN;
  const max = vector.length ? Math.max(...vector) : NaN;
  const block = el('div', { class: 'block embedding', data: { dimensions: dims } });
  block.append(el('h4', { text: count > 1 ? `Embedding ${i + 1}` : 'Embedding' }));
  block.append(
    el(
      'dl',
      { class: 'facts' },
      el('dt', { text: 'dimensions' }),
      el('dd', { text: dims }),
      el('dt', { text: 'L2 norm' }),
      el('dd', { text: fmt(norm, 4) }),
      el('dt', { text: 'min / max' }),
      el('dd', { text: `${fmt(min, 4)} / ${fmt(max, 4)}` }),
    ),
  );
  block.append(strip(vector.slice(0, 256)));
  const head = vector.slice(0, 8).map((v) => fmt(v, 4));
  block.append(
    el('code', {
      class: 'vector',
      text: `[${head.join(', ')}${vector.length > 8 ? `, … ${vector.length - 8} more` : ''}]`,
    }),
  );
  return block;
}

function strip(values) {
  const n = Math.max(values.length, 1);
  const peak = Math.max(1e-9, ...values.map(Math.abs));
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('class', 'strip');
  svg.setAttribute('viewBox', `0 0 ${n} 2`);
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `the first ${values.length} values`);
  values.forEach((v, x) => {
    const h = Math.abs(v) / peak;
    const rect = document.createElementNS(SVG_NS, 'rect');
    rect.setAttribute('x', String(x + 0.1));
    rect.setAttribute('width', '0.8');
    rect.setAttribute('y', String(v >= 0 ? 1 - h : 1));
    rect.setAttribute('height', String(Math.max(h, 0.01)));
    rect.setAttribute('class', v >= 0 ? 'pos' : 'neg');
    svg.append(rect);
  });
  return svg;
}

function generatedImage(base64) {
  if (!/^[A-Za-z0-9+/=\s]+$/.test(base64))
    return el('p', { class: 'muted', text: 'An image that is not valid base64.' });
  return el(
    'div',
    { class: 'block' },
    el('h4', { text: 'Image' }),
    el('img', { class: 'thumb', src: `data:image/png;base64,${base64}`, alt: 'image output' }),
  );
}

function framesBlock(frames, modelType) {
  const block = el('div', { class: 'block frames' }, el('h4', { text: `Frames (${frames.length})` }));
  for (const frame of frames) {
    const time = frame?.frame_info?.time;
    block.append(
      el(
        'div',
        { class: 'frame' },
        el('span', {
          class: 'frame-time',
          text:
            time !== undefined
              ? `${(Number(time) / 1000).toFixed(2)} s`
              : `frame ${frame?.frame_info?.index ?? ''}`,
        }),
        renderData(frame?.data ?? {}, {}, modelType),
      ),
    );
  }
  return block;
}

/**
 * The card a streamed generation writes into: `append(piece)` adds the new text to one Text node
 * (text, never markup), `finish(...)` puts the token counts and speed under it (`seconds` runs
 * from the first piece to the end), `fail(status)` shows an error that came mid-stream, `stop()`
 * marks it stopped by the user.
 */
export function streamCard(container, input = {}) {
  container.replaceChildren();
  const pill = el('span', { class: 'pill pill-busy', text: 'Generating…' });
  const textNode = document.createTextNode('');
  const pre = el('pre', { class: 'text-out streaming' }, textNode);
  const stats = el('dl', { class: 'facts generation-stats', hidden: true });
  const body = el('div', { class: 'output-body' });
  if (input.previewUrl && input.mediaType === 'image') body.append(preview(input));
  body.append(el('div', { class: 'block' }, el('h4', { text: 'Text' }), pre, stats));
  const card = el(
    'article',
    { class: 'output', data: { index: 0 } },
    el(
      'header',
      { class: 'output-head' },
      el('span', { class: 'output-title', text: 'Input 1' }),
      input.label ? el('span', { class: 'output-label', text: input.label }) : null,
      pill,
    ),
    body,
  );
  container.append(card);
  const settle = (cls, text) => {
    pre.classList.remove('streaming');
    pill.className = `pill ${cls}`;
    pill.textContent = text;
  };
  return {
    append(piece) {
      if (piece) textNode.appendData(piece);
    },
    text: () => textNode.data,
    finish({ promptTokens, completionTokens, pieces, seconds, firstSeconds }) {
      settle('pill-ok', 'OK');
      const facts = [
        ['prompt tokens', promptTokens ?? '–'],
        ['completion tokens', completionTokens ?? '–'],
        // the first piece's token is left out: it came with the prompt's reading, timed apart
        [
          'tokens/s',
          completionTokens > 1 && seconds > 0 ? ((completionTokens - 1) / seconds).toFixed(1) : '–',
        ],
        ['first piece', firstSeconds !== undefined ? `${(firstSeconds * 1000).toFixed(0)} ms` : '–'],
        ['pieces', pieces],
      ];
      stats.replaceChildren(
        ...facts.flatMap(([k, v]) => [
          el('dt', { text: k }),
          el('dd', { text: v, data: { stat: k.replace(/[^a-z]+/g, '-') } }),
        ]),
      );
      stats.hidden = false;
    },
    stop(pieces) {
      settle('pill-stopped', 'Stopped');
      stats.replaceChildren(el('dt', { text: 'pieces' }), el('dd', { text: pieces }));
      stats.hidden = false;
    },
    fail(status) {
      settle('pill-failed', `${status?.code ?? '?'} ${status?.description ?? 'Failed'}`);
      card.classList.add('output-failed');
      body.prepend(
        el(
          'div',
          { class: 'output-error', role: 'alert' },
          el('strong', { text: status?.description ?? 'The generation failed' }),
          status?.details ? el('span', { text: status.details }) : null,
        ),
      );
    },
  };
}
