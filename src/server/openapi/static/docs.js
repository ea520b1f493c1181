// The /docs page: renders /openapi.json and sends requests to this server with a key typed here.
// Data only ever reaches the page through textContent, never parsed as HTML.
/* global document, sessionStorage, window, URLSearchParams */

const PAT_KEY = 'sibyl.docs.pat';
/** The key lives in this tab's session storage: gone when the tab closes, never in a URL or cookie. */
const session = {
  get: () => sessionStorage.getItem(PAT_KEY),
  set: (pat) => sessionStorage.setItem(PAT_KEY, pat),
  clear: () => sessionStorage.removeItem(PAT_KEY),
};
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') node.textContent = v;
    else if (k === 'class') node.className = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) if (c) node.append(c);
  return node;
}

let doc;

function resolveRef(ref) {
  const name = ref.replace('#/components/schemas/', '');
  return { name, schema: doc.components.schemas[name] };
}

/** One line naming a schema's type: `clarifai.api.Input[]`, `string | integer`, … */
function typeName(s) {
  if (!s) return 'any';
  if (s.$ref) return resolveRef(s.$ref).name;
  if (s.anyOf) return s.anyOf.map(typeName).join(' | ');
  if (s.type === 'array') return `${typeName(s.items)}[]`;
  if (s.type === 'object' && s.additionalProperties && typeof s.additionalProperties === 'object')
    return `map<string, ${typeName(s.additionalProperties)}>`;
  if (Array.isArray(s.type)) return s.type.join(' | ');
  return s.type ?? 'any';
}

/** A schema as a tree: a message's fields, each nested message opened only when asked (lazily). */
function schemaView(s, depth = 0) {
  const box = el('div', { class: 'schema' });
  let target = s;
  while (target && target.type === 'array') target = target.items;
  if (
    target &&
    target.type === 'object' &&
    target.additionalProperties &&
    typeof target.additionalProperties === 'object'
  )
    target = target.additionalProperties;
  if (target?.$ref) target = resolveRef(target.$ref).schema;
  if (target?.anyOf && target.anyOf[0]?.enum) {
    box.append(el('div', { class: 'muted', text: `one of: ${target.anyOf[0].enum.join(', ')}` }));
    return box;
  }
  if (!target?.properties) return box;
  for (const [name, field] of Object.entries(target.properties)) {
    const label = `${name}: ${typeName(field)}`;
    const nested = hasChildren(field);
    if (nested && depth < 12) {
      const d = el('details', {}, el('summary', { text: label }));
      d.addEventListener('toggle', () => {
        if (d.open && d.childElementCount === 1) d.append(schemaView(field, depth + 1));
      });
      box.append(d);
    } else {
      box.append(el('div', { text: label }));
    }
    if (field.description) box.lastChild.title = field.description;
  }
  return box;
}

function hasChildren(s) {
  while (s && s.type === 'array') s = s.items;
  if (s && s.type === 'object' && typeof s.additionalProperties === 'object') s = s.additionalProperties;
  if (s?.$ref) s = resolveRef(s.$ref).schema;
  return Boolean(s?.properties && Object.keys(s.properties).length) || Boolean(s?.anyOf?.[0]?.enum);
}

function operationView(path, method, op) {
  const summary = el(
    'summary',
    {},
    el('span', { class: `method m-${method}`, text: method.toUpperCase() }),
    el('span', { text: path }),
    el('span', { class: 'summary', text: op.summary ?? '' }),
  );
  const body = el('div');
  if (op.description) body.append(el('p', { text: op.description }));
  if (Array.isArray(op.security) && op.security.length === 0)
    body.append(el('p', { class: 'muted', text: 'No key needed.' }));
  const params = op.parameters ?? [];
  if (params.length) {
    const table = el(
      'table',
      {},
      el('tr', {}, el('th', { text: 'parameter' }), el('th', { text: 'in' }), el('th', { text: 'type' })),
    );
    for (const p of params) {
      table.append(
        el(
          'tr',
          {},
          el('td', { text: p.name + (p.required ? ' *' : '') }),
          el('td', { text: p.in }),
          el('td', { text: typeName(p.schema) + (p.description ? ` (${p.description})` : '') }),
        ),
      );
    }
    body.append(table);
  }
  const content = op.requestBody?.content ?? {};
  const bodyType = Object.keys(content)[0];
  if (bodyType) {
    body.append(el('h4', { text: `Request body (${bodyType}): ${typeName(content[bodyType].schema)}` }));
    body.append(schemaView(content[bodyType].schema));
  }
  const ok = op.responses?.['200']?.content;
  if (ok) {
    const type = Object.keys(ok)[0];
    body.append(el('h4', { text: `Response (${type}): ${typeName(ok[type].schema)}` }));
    body.append(schemaView(ok[type].schema));
  }
  body.append(tryForm(path, method, op, params, bodyType));
  const details = el('details', { class: 'op' }, summary, body);
  return details;
}

function tryForm(path, method, op, params, bodyType) {
  const form = el('form', { class: 'try' });
  form.append(el('h4', { text: 'Try it' }));
  const inputs = new Map();
  for (const p of params.filter((q) => q.in === 'path' || q.in === 'query')) {
    const input = el('input', { type: 'text', name: p.name, placeholder: typeName(p.schema) });
    inputs.set(p, input);
    form.append(el('label', { text: `${p.name} (${p.in})` }), input);
  }
  let textarea;
  if (bodyType === 'multipart/form-data') {
    form.append(el('p', { class: 'muted', text: 'A form upload: send it with curl -F.' }));
  } else if (bodyType) {
    textarea = el('textarea', { name: 'body', spellcheck: 'false' });
    textarea.value = bodyType === 'application/json' ? '{}' : '';
    form.append(el('label', { text: `body (${bodyType})` }), textarea);
  }
  const send = el('button', { type: 'submit', text: 'Send' });
  const status = el('div');
  const out = el('pre', { hidden: '' });
  form.append(send, status, out);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    let url = path;
    const query = new URLSearchParams();
    for (const [p, input] of inputs) {
      if (p.in === 'path')
        url = url.replace(
          `{${p.name}}`,
          p.name === 'model' || p.name === 'path' ? input.value : encodeURIComponent(input.value),
        );
      else if (input.value !== '') query.append(p.name, input.value);
    }
    if ([...query].length) url += `?${query}`;
    const headers = {};
    const pat = session.get();
    const isPublic = Array.isArray(op.security) && op.security.length === 0;
    if (pat && !isPublic) headers.authorization = `Key ${pat}`;
    const init = { method: method.toUpperCase(), headers };
    if (textarea) {
      headers['content-type'] = bodyType;
      init.body = textarea.value;
    }
    send.disabled = true;
    status.textContent = `${init.method} ${url} …`;
    status.className = 'muted';
    try {
      const res = await fetch(url, init);
      const text = await res.text();
      status.textContent = `${res.status} ${res.statusText}`;
      status.className = res.ok ? 'status-ok' : 'status-err';
      let shown = text;
      try {
        shown = JSON.stringify(JSON.parse(text), null, 2);
      } catch {
        // not one JSON value (streams, metrics): shown as it came
      }
      out.textContent = shown;
      out.hidden = false;
    } catch (err) {
      status.textContent = `failed: ${err.message}`;
      status.className = 'status-err';
    } finally {
      send.disabled = false;
    }
  });
  return form;
}

function render() {
  document.getElementById('title').textContent = `${doc.info.title} API`;
  document.getElementById('description').textContent = doc.info.description ?? '';
  const groups = new Map((doc.tags ?? []).map((t) => [t.name, []]));
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const tag = op.tags?.[0] ?? 'other';
      if (!groups.has(tag)) groups.set(tag, []);
      groups.get(tag).push([path, method, op]);
    }
  }
  const main = document.getElementById('routes');
  main.replaceChildren();
  for (const [tag, ops] of groups) {
    if (!ops.length) continue;
    const section = el('section', { 'data-tag': tag }, el('h2', { text: tag }));
    for (const [path, method, op] of ops) section.append(operationView(path, method, op));
    main.append(section);
  }
}

function keyForm() {
  const input = document.getElementById('pat');
  const state = document.getElementById('key-state');
  const show = () => (state.textContent = session.get() ? 'a key is set for this tab' : 'no key set');
  document.getElementById('key-form').addEventListener('submit', (event) => {
    event.preventDefault();
    if (input.value.trim()) session.set(input.value.trim());
    input.value = '';
    show();
  });
  document.getElementById('forget').addEventListener('click', () => {
    session.clear();
    show();
  });
  show();
}

async function main() {
  keyForm();
  try {
    const res = await fetch('/openapi.json');
    doc = await res.json();
    render();
  } catch (err) {
    document
      .getElementById('routes')
      .replaceChildren(
        el('p', { class: 'status-err', text: `could not load /openapi.json: ${err.message}` }),
      );
  }
}

window.addEventListener('DOMContentLoaded', main);
