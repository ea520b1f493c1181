// Renders deploy/'s kustomization and checks every Kubernetes document in deploy/ against the
// Kubernetes API's own schemas, offline. `node scripts/validate-deploy.mjs [DIR]` prints each
// problem as `FILE: KIND NAME: FIELD: what is wrong` and exits 1, or prints a summary and exits 0.
//
// Two checks, both from the Kubernetes OpenAPI spec as packaged by kubernetes-models:
// - its JSON Schema validators (ajv): types, required fields, enums, formats;
// - unknown fields, which those schemas let through (Kubernetes itself refuses them under
//   kubectl's default strict field validation): each object's keys are compared with the fields
//   of its type in kubernetes-models' declarations, as the TypeScript checker resolves them.
// kustomize itself is a Go program; the part of it deploy/ uses (resources, namespace, images) is
// rendered here, and any other kustomization key is refused rather than silently ignored.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

const require = createRequire(import.meta.url);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const KUSTOMIZATION_KEYS = ['apiVersion', 'kind', 'namespace', 'resources', 'images'];
/** Kinds kustomize leaves without a namespace. */
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'PersistentVolume',
  'StorageClass',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'PriorityClass',
  'IngressClass',
]);

/** Every document of a YAML file, each with the file it came from (relative to `base`). */
function readDocuments(path, base) {
  const file = relative(base, path) || basename(path);
  return parseAllDocuments(readFileSync(path, 'utf8')).flatMap((d) => {
    if (d.errors.length > 0) throw new Error(`${file}: not valid YAML: ${d.errors[0].message}`);
    const doc = d.toJS();
    return doc === null || doc === undefined ? [] : [{ file, doc }];
  });
}

function isMapping(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * The documents `kubectl apply -k DIR` would send, with the files they came from. A resource that
 * is a folder is rendered as a kustomization of its own.
 */
export function renderKustomization(dir, base = dir) {
  const kfile = join(dir, 'kustomization.yaml');
  const where = relative(base, kfile) || 'kustomization.yaml';
  const k = readDocuments(kfile, base)[0]?.doc;
  if (!isMapping(k)) throw new Error(`${where}: must be a mapping with resources:`);
  for (const key of Object.keys(k)) {
    if (!KUSTOMIZATION_KEYS.includes(key))
      throw new Error(
        `${where}: "${key}" is not rendered by scripts/validate-deploy.mjs; it renders: ${KUSTOMIZATION_KEYS.join(', ')}`,
      );
  }
  if (!Array.isArray(k.resources) || !k.resources.every((r) => typeof r === 'string'))
    throw new Error(`${where}: resources must be a list of file or folder paths`);
  const out = [];
  for (const r of k.resources) {
    const path = resolve(dir, r);
    if (!existsSync(path)) throw new Error(`${where}: resource ${r} does not exist`);
    out.push(...(statSync(path).isDirectory() ? renderKustomization(path, base) : readDocuments(path, base)));
  }
  if (k.namespace !== undefined) {
    if (typeof k.namespace !== 'string') throw new Error(`${where}: namespace must be a name`);
    for (const { doc } of out) {
      if (isMapping(doc) && !CLUSTER_SCOPED.has(doc.kind) && isMapping(doc.metadata))
        doc.metadata.namespace = k.namespace;
    }
  }
  for (const image of k.images ?? []) {
    if (!isMapping(image) || typeof image.name !== 'string')
      throw new Error(`${where}: each of images: needs a name (the image name the manifests use)`);
    for (const { doc } of out) for (const c of containersOf(doc)) c.image = retag(c.image, image);
  }
  return out;
}

/** The containers of a workload's pod template (or of a Pod), for the images: override. */
function containersOf(doc) {
  if (!isMapping(doc)) return [];
  const spec =
    doc.kind === 'Pod'
      ? doc.spec
      : doc.kind === 'CronJob'
        ? doc.spec?.jobTemplate?.spec?.template?.spec
        : doc.spec?.template?.spec;
  if (!isMapping(spec)) return [];
  return [...(spec.initContainers ?? []), ...(spec.containers ?? [])].filter(isMapping);
}

/** kustomize's images: rule: an image whose name (without tag or digest) matches is renamed and retagged. */
function retag(ref, image) {
  if (typeof ref !== 'string') return ref;
  const at = ref.indexOf('@');
  const noDigest = at < 0 ? ref : ref.slice(0, at);
  const colon = noDigest.lastIndexOf(':');
  const hasTag = colon > noDigest.lastIndexOf('/');
  const name = hasTag ? noDigest.slice(0, colon) : noDigest;
  if (name !== image.name) return ref;
  const suffix =
    image.digest !== undefined
      ? `@${image.digest}`
      : image.newTag !== undefined
        ? `:${image.newTag}`
        : ref.slice(name.length);
  return `${image.newName ?? name}${suffix}`;
}

/** `spec.template.spec.containers[0].name` from ajv's `/spec/template/spec/containers/0/name`. */
function fieldPath(segments) {
  return segments.map((s, i) => (/^\d+$/.test(String(s)) ? `[${s}]` : `${i === 0 ? '' : '.'}${s}`)).join('');
}

function modelPath(doc) {
  return `kubernetes-models/${doc.apiVersion}/${doc.kind}`;
}

/** What one ajv error says, in words, with the field it is about. */
function describe(error) {
  const at = error.instancePath.split('/').slice(1).map(decodeURIComponent);
  const p = error.params ?? {};
  switch (error.keyword) {
    case 'required':
      return { field: fieldPath([...at, p.missingProperty]), message: 'required field missing' };
    case 'type':
      return {
        field: fieldPath(at),
        message: `must be ${p.type === 'integer' ? 'a whole number' : `of type ${p.type}`}`,
      };
    case 'enum':
      return { field: fieldPath(at), message: `must be one of ${p.allowedValues.join(', ')}` };
    default:
      return { field: fieldPath(at), message: error.message ?? error.keyword };
  }
}

/** The schema check of one document: its kind's JSON Schema, compiled by kubernetes-models. */
function schemaProblems(doc) {
  let Model;
  try {
    Model = require(modelPath(doc))[doc.kind];
  } catch (error) {
    // a kind or version the package has no file for; any other failure (a dependency of the
    // package missing) is not the manifest's fault and is thrown as it is
    const missing =
      error.code === 'ERR_PACKAGE_PATH_NOT_EXPORTED' ||
      (error.code === 'MODULE_NOT_FOUND' && error.message.includes(modelPath(doc)));
    if (!missing) throw error;
  }
  if (typeof Model !== 'function')
    return [
      {
        field: 'kind',
        message: `no Kubernetes schema for apiVersion ${doc.apiVersion}, kind ${doc.kind} (a misspelt kind or version, or a custom resource)`,
      },
    ];
  try {
    new Model(doc).validate();
    return [];
  } catch (error) {
    if (!Array.isArray(error.errors)) throw error;
    const seen = new Set();
    return error.errors.map(describe).filter((d) => {
      const key = `${d.field}: ${d.message}`;
      return !seen.has(key) && seen.add(key);
    });
  }
}

/**
 * Unknown fields in every document at once: each document becomes `const dN: IKind = <its JSON>`
 * in one in-memory TypeScript file, and each object literal's keys are compared with the
 * properties of the type the checker expects there. Maps (labels, data) have index signatures and
 * take any key; the value of a key that is itself unknown is not looked into.
 */
function unknownFields(entries) {
  const ts = require('typescript');
  const models = dirname(require.resolve('kubernetes-models'));
  // the in-memory file sits beside the node_modules that holds kubernetes-models, so its imports resolve
  const probe = join(dirname(dirname(models)), '__validate_deploy__.ts');
  const source = entries
    .map(({ doc }, i) =>
      [
        `import type { I${doc.kind} as T${i} } from '${modelPath(doc)}';`,
        `export const d${i}: T${i} = ${JSON.stringify(doc)};`,
      ].join('\n'),
    )
    .join('\n');
  const options = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ['lib.es2022.d.ts'],
    types: [],
    skipLibCheck: true,
    noEmit: true,
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, version) =>
    name === probe ? ts.createSourceFile(name, source, version) : getSourceFile(name, version);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === probe || fileExists(name);
  const program = ts.createProgram([probe], options, host);
  const checker = program.getTypeChecker();
  const problems = [];
  const visit = (node, entry, path) => {
    if (ts.isObjectLiteralExpression(node)) {
      const expected = checker.getContextualType(node);
      const type = expected && checker.getNonNullableType(expected);
      const open = !type || checker.getIndexInfosOfType(type).length > 0 || type.flags & ts.TypeFlags.Any;
      const known = open ? [] : checker.getPropertiesOfType(type).map((s) => s.getName());
      for (const prop of node.properties) {
        const key = prop.name.text;
        if (!open && known.length > 0 && !known.includes(key)) {
          const near = closest(key, known);
          problems.push({
            entry,
            field: fieldPath([...path, key]),
            message: `unknown field${near ? ` (did you mean ${near}?)` : ''}; ${typeName(checker, type)} has: ${known.join(', ')}`,
          });
          continue;
        }
        visit(prop.initializer, entry, [...path, key]);
      }
    } else if (ts.isArrayLiteralExpression(node)) {
      node.elements.forEach((e, i) => visit(e, entry, [...path, i]));
    }
  };
  const file = program.getSourceFile(probe);
  let i = 0;
  for (const statement of file.statements) {
    if (!ts.isVariableStatement(statement)) continue;
    const entry = entries[i++];
    visit(statement.declarationList.declarations[0].initializer, entry, []);
  }
  return problems;
}

function typeName(checker, type) {
  // IIoK8sApiCoreV1Probe and IProbe are both Kubernetes' Probe
  return checker
    .typeToString(type)
    .replace(/^I(?:IoK8s(?:Api|Apimachinery)\w*?V\d+(?:(?:alpha|beta)\d+)?(?=[A-Z]))?/, '');
}

/** The known name nearest to a misspelt one, when it is near enough to be what was meant. */
function closest(word, names) {
  let best;
  let bestCost = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const name of names) {
    const cost = distance(word.toLowerCase(), name.toLowerCase());
    if (cost < bestCost) [best, bestCost] = [name, cost];
  }
  return best;
}

function distance(a, b) {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length];
}

/**
 * Every document deploy/ holds: the kustomization rendered, and each other YAML file in the folder
 * (applied on its own: postgres-trial.yaml, secrets.example.yaml, api-hpa.yaml) as it is.
 */
export function collectDocuments(dir) {
  const rendered = renderKustomization(dir);
  const used = new Set(rendered.map((e) => e.file));
  const standalone = readdirSync(dir)
    .filter((n) => /\.ya?ml$/.test(n) && n !== 'kustomization.yaml' && !used.has(n))
    .sort()
    .flatMap((n) => readDocuments(join(dir, n), dir));
  return [...rendered, ...standalone];
}

/**
 * Checks every document of `dir`; returns them, and the problems found, each naming its file, kind,
 * name and field.
 */
export function validateDeploy(dir = join(ROOT, 'deploy')) {
  try {
    require.resolve('kubernetes-models');
  } catch {
    throw new Error(
      'the package kubernetes-models (the Kubernetes schemas) is not installed: run `npm ci` in the checkout',
    );
  }
  const entries = collectDocuments(dir);
  const problems = [];
  const typed = [];
  for (const entry of entries) {
    const { doc } = entry;
    const name = isMapping(doc) && isMapping(doc.metadata) ? doc.metadata.name : undefined;
    const where = { file: entry.file, kind: doc?.kind ?? '(no kind)', name: name ?? '(no name)' };
    if (!isMapping(doc) || typeof doc.apiVersion !== 'string' || typeof doc.kind !== 'string') {
      problems.push({ ...where, field: '', message: 'not a Kubernetes object: needs apiVersion and kind' });
      continue;
    }
    const found = schemaProblems(doc);
    problems.push(...found.map((p) => ({ ...where, ...p })));
    if (!found.some((p) => p.field === 'kind')) typed.push({ ...entry, where });
  }
  if (typed.length > 0)
    for (const p of unknownFields(typed))
      problems.push({ ...p.entry.where, field: p.field, message: p.message });
  return { documents: entries, problems };
}

export function formatProblem(p) {
  return `${p.file}: ${p.kind} ${p.name}: ${p.field ? `${p.field}: ` : ''}${p.message}`;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = resolve(process.argv[2] ?? join(ROOT, 'deploy'));
  try {
    const { documents, problems } = validateDeploy(dir);
    for (const p of problems) process.stderr.write(`${formatProblem(p)}\n`);
    if (problems.length > 0) {
      process.stderr.write(`${problems.length} problem(s) in ${documents.length} documents under ${dir}\n`);
      process.exit(1);
    }
    process.stdout.write(`${documents.length} documents under ${dir} match the Kubernetes schemas\n`);
  } catch (error) {
    process.stderr.write(`validate-deploy: ${error.message}\n`);
    process.exit(1);
  }
}
