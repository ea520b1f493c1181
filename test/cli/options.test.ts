import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { rewriteAliases } from '../../src/cli/argv.js';
import {
  contextValues,
  readConfig,
  removeContext,
  resolveConnection,
  saveContext,
} from '../../src/cli/config.js';
import { CliUsageError } from '../../src/cli/errors.js';
import { UsageError } from '../../src/sdk/errors.js';
import { mergeFlags, planPredict, readPredictConfig } from '../../src/cli/commands/model/predict-options.js';

const URL_ = 'https://clarifai.com/clarifai/main/models/general-image-recognition';

describe('rewriteAliases', () => {
  it('rewrites -cc_id, -np_id and -dpl_id in both forms', () => {
    assert.deepEqual(rewriteAliases(['model', 'predict', '-cc_id', 'c1', '-np_id=n1', '-dpl_id', 'd']), [
      'model',
      'predict',
      '--compute_cluster_id',
      'c1',
      '--nodepool_id=n1',
      '--deployment_id',
      'd',
    ]);
  });

  it('never rewrites the value of an option', () => {
    assert.deepEqual(rewriteAliases(['--bytes', '-cc_id']), ['--bytes', '-cc_id']);
  });
});

describe('planPredict', () => {
  const usage = (f: Record<string, unknown>, wordsOrPattern: string[] | RegExp, maybe?: RegExp) => {
    const [words, pattern] = Array.isArray(wordsOrPattern) ? [wordsOrPattern, maybe!] : [[], wordsOrPattern];
    assert.throws(
      () => planPredict(f, words),
      (e: unknown) => (e instanceof CliUsageError || e instanceof UsageError) && pattern.test(e.message),
    );
  };

  it('takes a model URL and literal bytes', () => {
    const plan = planPredict({ model_url: URL_, bytes: 'a\\nb', input_type: 'text' });
    assert.deepEqual(plan.ref, { userId: 'clarifai', appId: 'main', modelId: 'general-image-recognition' });
    assert.deepEqual(plan.sources, [{ kind: 'bytes', value: 'a\\nb' }]);
    assert.deepEqual(plan.params, {});
    assert.deepEqual(plan.outputConfig, {});
  });

  it('needs all three ids or the URL, not both', () => {
    usage({ model_id: 'm', user_id: 'u', bytes: 'x' }, /missing --app_id/);
    usage({ model_url: URL_, model_id: 'm', bytes: 'x' }, /not both/);
    usage({ bytes: 'x' }, /--model_url/);
    usage({ model_url: 'https://clarifai.com/oops', bytes: 'x' }, /invalid model URL/);
  });

  it('takes --bytes or --input_id alone, files and URLs many times, the model first among positional words', () => {
    assert.deepEqual(planPredict({ model_url: URL_ }).sources, []);
    usage({ model_url: URL_, bytes: 'x', url: 'http://h/x' }, /--url and --bytes/);
    const many = planPredict({ model_url: URL_, file_path: ['a.jpg', 'b.jpg'], url: ['http://h/c.jpg'] });
    assert.deepEqual(
      many.sources.map((s) => s.value),
      ['a.jpg', 'b.jpg', 'http://h/c.jpg'],
    );
    const positional = planPredict({}, ['clarifai/main/models/general-image-recognition', 'a.jpg', '-']);
    assert.deepEqual(positional.ref, {
      userId: 'clarifai',
      appId: 'main',
      modelId: 'general-image-recognition',
    });
    assert.deepEqual(positional.words, ['a.jpg', '-']);
    assert.deepEqual(planPredict({ model_url: URL_ }, ['a.jpg']).words, ['a.jpg']);
    usage({}, ['photo.jpg'] as never, /"photo.jpg" is not a model/);
    usage({ model_url: URL_, bytes: 'x' }, ['a.jpg'] as never, /--bytes and --input_id cannot be combined/);
  });

  it('checks input type, JSON options and runner rules', () => {
    usage({ model_url: URL_, bytes: 'x', input_type: 'pdf' }, /text, image, video, audio/);
    usage({ model_url: URL_, bytes: 'x', inference_params: '{bad' }, /not valid JSON/);
    usage({ model_url: URL_, bytes: 'x', output_config: '[1]' }, /must be a JSON object/);
    usage({ model_url: URL_, bytes: 'x', compute_cluster_id: 'c' }, /go together/);
    usage(
      { model_url: URL_, bytes: 'x', deployment_id: 'd', nodepool_id: 'n', compute_cluster_id: 'c' },
      /not both/,
    );
    const plan = planPredict({
      model_url: URL_,
      bytes: 'x',
      compute_cluster_id: 'c',
      nodepool_id: 'n',
      output_config: '{"max_concepts":3}',
    });
    assert.deepEqual(plan.runner, { computeClusterId: 'c', nodepoolId: 'n' });
    assert.deepEqual(plan.outputConfig, { max_concepts: 3 });
  });

  it('reads --config YAML, with command-line flags winning', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sibyl-opt-'));
    const file = join(dir, 'predict.yaml');
    writeFileSync(
      file,
      `model_url: "${URL_}"\nbytes: "Human: hi\\nAssistant:"\ninput_type: "text"\noutput_config:\n  max_concepts: 2\n`,
    );
    const fromFile = await readPredictConfig(file);
    const plan = planPredict(mergeFlags(fromFile, { input_type: 'image', bytes: undefined }));
    assert.equal(plan.inputType, 'image');
    assert.deepEqual(plan.sources, [{ kind: 'bytes', value: 'Human: hi\nAssistant:' }]);
    assert.deepEqual(plan.outputConfig, { max_concepts: 2 });
    const swapped = planPredict(
      mergeFlags(fromFile, { file_path: '/tmp/x.txt', model_id: 'm', user_id: 'u', app_id: 'a' }),
    );
    assert.deepEqual(swapped.sources, [{ kind: 'file_path', value: '/tmp/x.txt' }]);
    assert.deepEqual(swapped.ref, { userId: 'u', appId: 'a', modelId: 'm' });
    writeFileSync(file, 'model_urll: x\n');
    await assert.rejects(readPredictConfig(file), /unknown key model_urll; allowed: model_id/);
    await assert.rejects(readPredictConfig(join(dir, 'missing.yaml')), /no such file/);
  });
});

describe('contexts file', () => {
  it('saves 0600, keeps unknown keys, resolves env over context, logs out to embedded', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sibyl-cfg-'));
    const env = { XDG_CONFIG_HOME: dir, SIBYL_HOME: join(dir, 'data') };
    const path = join(dir, 'clarifai', 'config');
    assert.deepEqual(await resolveConnection(env), { kind: 'embedded', dataDir: join(dir, 'data') });

    await saveContext(
      path,
      'default',
      {
        CLARIFAI_API_BASE: 'http://127.0.0.1:1',
        CLARIFAI_PAT: 'p1',
        CLARIFAI_USER_ID: 'u1',
      },
      env,
    );
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const doc = await readConfig(path);
    writeFileSync(path, readFileSync(path, 'utf8') + 'custom_key: kept\n');
    assert.equal(doc.current_context, 'default');
    assert.deepEqual(await resolveConnection(env), {
      kind: 'remote',
      base: 'http://127.0.0.1:1',
      pat: 'p1',
      userId: 'u1',
      context: 'default',
      via: `context "default" in ${path}`,
    });
    const over = await resolveConnection({ ...env, CLARIFAI_PAT: 'p2', CLARIFAI_API_BASE: 'http://x:2/' });
    assert.equal(over.kind === 'remote' && over.pat, 'p2');
    assert.equal(over.kind === 'remote' && over.base, 'http://x:2');

    assert.equal(await removeContext(path), 'default');
    assert.equal((await readConfig(path)).custom_key, 'kept');
    assert.equal((await resolveConnection(env)).kind, 'embedded');
  });

  it('login into an existing nested context keeps its layout, unknown keys and ENVVAR', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sibyl-cfg-'));
    const path = join(dir, 'config');
    writeFileSync(
      path,
      'current_context: srv\ncontexts:\n  srv:\n    env:\n      CLARIFAI_PAT: ENVVAR\n      OTHER: x\n',
    );
    await saveContext(
      path,
      'srv',
      { CLARIFAI_API_BASE: 'http://h:1', CLARIFAI_PAT: 'secret', CLARIFAI_USER_ID: 'u' },
      { CLARIFAI_PAT: 'secret' },
    );
    const doc = await readConfig(path);
    assert.deepEqual(doc.contexts?.srv, {
      env: { CLARIFAI_PAT: 'ENVVAR', OTHER: 'x', CLARIFAI_API_BASE: 'http://h:1', CLARIFAI_USER_ID: 'u' },
    });
    assert.doesNotMatch(readFileSync(path, 'utf8'), /secret/);
  });

  it('reads the nested env: layout and ENVVAR values', () => {
    const doc = { contexts: { c: { env: { CLARIFAI_PAT: 'ENVVAR', CLARIFAI_USER_ID: 'u' } } } };
    assert.deepEqual(contextValues(doc, 'c', { CLARIFAI_PAT: 'from-env' }), {
      CLARIFAI_PAT: 'from-env',
      CLARIFAI_USER_ID: 'u',
    });
  });
});
