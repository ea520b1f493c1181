/**
 * The forms of Clarifai's current CLI (clarifai/cli/model.py, `predict`): the model and its input
 * as arguments, named inputs (`-i KEY=VALUE`, `--inputs JSON`), `--method`, `--info` and `--chat`,
 * typed as a user types them, on the embedded engine: built-in models for text and images, and
 * the tiny GGUF (test/helpers/gguf.ts) for generation and chat.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CliResult } from '../helpers/cli.js';
import { conceptNames, isolatedEnv, PHOTOS, ROOT, runCli } from '../helpers/cli.js';
import { ggufModelFolder } from '../helpers/llm-folders.js';

const LANG = 'clarifai/main/models/language-identification';
const RECOGNITION = 'clarifai/main/models/general-image-recognition';
const DETECTION = 'clarifai/main/models/general-image-detection';
const LLM = 'meta/Llama-2/models/llama2-7b-chat';
const DOGS = join(PHOTOS, 'dogs.jpg');
const FRENCH = 'Bonjour tout le monde, comment allez-vous aujourd’hui ?';
const GERMAN = 'Guten Morgen, wie geht es Ihnen heute?';

/** The CLI with `input` written to its stdin, then closed: piped lines, as a script sends them. */
function withStdin(args: string[], env: Record<string, string>, input: string): CliResult {
  const res = spawnSync(process.execPath, [join(ROOT, 'bin/clarifai.js'), ...args], {
    env,
    cwd: ROOT,
    input,
  });
  return { code: res.status ?? -1, stdout: res.stdout.toString(), stderr: res.stderr.toString() };
}

function ok(res: CliResult): string {
  assert.equal(res.code, 0, res.stderr);
  return res.stdout;
}

function refused(res: CliResult, pattern: RegExp): void {
  assert.equal(res.code, 2, `${res.stdout}\n${res.stderr}`);
  assert.match(res.stderr, pattern);
  assert.equal(res.stderr.trim().split('\n').length, 1, res.stderr);
}

describe("Clarifai's current predict forms on the built-in models", () => {
  const env = isolatedEnv();
  const predict = (...args: string[]) => runCli(['model', 'predict', ...args], env);

  it('takes the model and a photo as arguments', async () => {
    assert.equal(conceptNames(ok(await predict(RECOGNITION, DOGS)))[0], 'dog');
  });

  it('takes the text as -i text=, --inputs JSON ("prompt") or --inputs plain text', async () => {
    assert.equal(conceptNames(ok(await predict(LANG, '-i', `text=${FRENCH}`)))[0], 'fr');
    assert.equal(
      conceptNames(ok(await predict(LANG, '--inputs', JSON.stringify({ prompt: GERMAN }))))[0],
      'de',
    );
    assert.equal(conceptNames(ok(await predict(LANG, '--inputs', FRENCH)))[0], 'fr');
    // clarifai-python 11 read `inputs` from the --config YAML too
    const yaml = join(mkdtempSync(join(tmpdir(), 'sibyl-current-yaml-')), 'predict.yaml');
    writeFileSync(yaml, `model_url: https://clarifai.com/${LANG}\ninputs: {prompt: "${GERMAN}"}\n`);
    assert.equal(conceptNames(ok(await predict('--config', yaml)))[0], 'de');
  });

  it('takes an image as -i image=FILE, and other keys as inference params', async () => {
    assert.equal(conceptNames(ok(await predict(RECOGNITION, '-i', `image=${DOGS}`)))[0], 'dog');
    const all = JSON.parse(
      ok(await predict(DETECTION, '--inputs', JSON.stringify({ image: DOGS }), '-o', 'json')),
    );
    const one = JSON.parse(
      ok(await predict(DETECTION, '-i', `image_url=${DOGS}`, '-i', 'max_detections=1', '-o', 'json')),
    );
    type Regions = { outputs: { data: { regions: { data: { concepts: { name: string }[] } }[] } }[] };
    const regions = (r: Regions) => r.outputs[0]!.data.regions;
    assert.ok(regions(all).length > 1);
    assert.equal(regions(one).length, 1);
    assert.equal(regions(one)[0]!.data.concepts[0]!.name, regions(all)[0]!.data.concepts[0]!.name);
  });

  it('--info prints the methods and params without predicting (text and JSON)', async () => {
    const text = ok(await predict(LANG, '--info'));
    assert.match(text, /^Model: language-identification \(clarifai\/main\), version \w+$/m);
    assert.match(text, /^ {2}def predict\(text: str\) -> list\[Concept\]:$/m);
    assert.doesNotMatch(text, /def generate/);
    const info = JSON.parse(ok(await predict(DETECTION, '--info', '-o', 'json'))) as {
      methods: { name: string }[];
      params: { name: string; type: string; default: unknown; allowed?: string; description?: string }[];
    };
    assert.deepEqual(
      info.methods.map((m) => m.name),
      ['predict'],
    );
    // typed from the server's output_info.params_specs: a whole number, ranges and descriptions
    const param = (name: string) => info.params.find((p) => p.name === name);
    assert.deepEqual(
      { ...param('min_score'), description: undefined },
      { name: 'min_score', type: 'float', default: 0.3, allowed: '0..1', description: undefined },
    );
    assert.match(param('min_score')!.description ?? '', /Regions scoring below this are not returned/);
    assert.equal(param('max_detections')!.type, 'int');
    assert.equal(param('max_detections')!.allowed, '1..100');
  });

  it('refuses, in one line each, what the model cannot take', async () => {
    refused(
      await predict(LANG, '-i', `image=${DOGS}`),
      /"image" is not one of its inputs; input keys: prompt \(or text\)/,
    );
    refused(await predict(LANG, '-i', 'hello'), /-i takes KEY=VALUE/);
    refused(await predict(LANG, '--inputs', '{"prompt": '), /--inputs is not valid JSON/);
    refused(
      await predict(LANG, '-i', `text=${FRENCH}`, '-i', 'foo=1'),
      /got "foo" \(in -i\/--inputs, input keys: prompt/,
    );
    refused(
      await predict(DETECTION, '-i', `image=${DOGS}`, '-i', 'max_detections=many'),
      /max_detections is/,
    );
    refused(
      await predict(RECOGNITION, DOGS, '--method', 'generate'),
      /has no method "generate"; its methods: predict/,
    );
    refused(await predict(RECOGNITION, '--chat', 'hello'), /--chat needs a text-generation model/);
  });
});

describe("Clarifai's current predict forms on a generating model", () => {
  const dir = mkdtempSync(join(tmpdir(), 'sibyl-current-cli-'));
  const env = isolatedEnv();
  const predict = (...args: string[]) => runCli(['model', 'predict', LLM, ...args], env);
  const GREEDY = ['-i', 'temperature=0', '-i', 'max_tokens=6'];
  before(async () => {
    await ggufModelFolder(join(dir, 'llama2'), { userId: 'meta', appId: 'Llama-2', id: 'llama2-7b-chat' });
    ok(await runCli(['model', 'upload', join(dir, 'llama2')], env));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('--info shows predict and generate with the generation params', async () => {
    const text = ok(await predict('--info'));
    assert.match(
      text,
      /^ {2}def predict\(prompt: str, temperature: float = None, max_tokens: int = 256,.*\) -> str:$/m,
    );
    assert.match(text, /^ {2}def generate\(prompt: str, .*\) -> Iterator\[str\]:$/m);
    assert.match(text, /^ {2}max_tokens +int +256 +1\.\.131072 /m);
  });

  it('--method generate streams the text --method predict and the documented flags give whole', async () => {
    const streamed = ok(await predict('-i', 'prompt=Write a haiku', ...GREEDY, '--method', 'generate'));
    const whole = ok(
      await predict(
        '--inputs',
        '{"prompt": "Write a haiku", "max_tokens": 6, "temperature": 0}',
        '--method',
        'predict',
      ),
    );
    const documented = ok(
      await runCli(
        [
          'model',
          'predict',
          '--model_url',
          `https://clarifai.com/${LLM}`,
          '--bytes',
          'Write a haiku',
          '--inference_params',
          '{"temperature":0,"max_tokens":6}',
        ],
        env,
      ),
    );
    assert.ok(streamed.trim().length > 0);
    assert.equal(streamed.trimEnd(), whole.trimEnd());
    assert.equal(whole, documented);
    const messages = ok(
      await predict('-i', 'prompt=Write a haiku', ...GREEDY, '--method', 'generate', '-o', 'json'),
    )
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as { outputs: { data: { text?: { raw: string } }; completion_tokens?: number }[] },
      );
    assert.equal(messages.at(-1)!.outputs[0]!.completion_tokens, 6);
    assert.equal(messages.map((m) => m.outputs[0]!.data.text?.raw ?? '').join(''), streamed.trimEnd());
  });

  it('--chat MESSAGE is one turn: the same reply as predicting that prompt', async () => {
    const chat = ok(await predict('--chat', 'hello there', ...GREEDY));
    assert.equal(chat.trimEnd(), ok(await predict('hello there', ...GREEDY)).trimEnd());
  });

  it('--chat reads turns from stdin until "exit", with the conversation so far in each prompt', async () => {
    const res = withStdin(
      ['model', 'predict', LLM, '--chat', ...GREEDY, '-o', 'json'],
      env,
      'hello there\nhow are you\nexit\nnever sent\n',
    );
    const turns = ok(res)
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { result: string; prompt_tokens: number; completion_tokens: number });
    assert.equal(turns.length, 2);
    assert.ok(turns.every((t) => t.completion_tokens === 6 && t.result.length > 0));
    // the second prompt carries the first exchange
    assert.ok(turns[1]!.prompt_tokens > turns[0]!.prompt_tokens + 6, JSON.stringify(turns));
    const first = ok(await predict('--chat', 'hello there', ...GREEDY, '-o', 'json'));
    assert.equal((JSON.parse(first) as { result: string }).result, turns[0]!.result);
    // end of input ends the conversation too; text mode prints each reply on its own line
    const eof = ok(withStdin(['model', 'predict', LLM, '--chat', ...GREEDY], env, 'hello there\n'));
    assert.equal(eof.trimEnd(), turns[0]!.result.trimEnd());
    assert.equal(eof.trim().split('\n').length, 1);
  });

  it('--chat drops the oldest turns when the conversation outgrows the context', async () => {
    const long = 'the cat sat on the mat and '.repeat(20).trim();
    const res = withStdin(
      ['model', 'predict', LLM, '--chat', '-i', 'max_tokens=4', '-i', 'temperature=0', '-o', 'json'],
      env,
      `${long}\n`.repeat(5),
    );
    const turns = ok(res)
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { prompt_tokens: number });
    assert.equal(turns.length, 5);
    // the tiny model's context holds 512 tokens: about two of these turns
    assert.ok(turns[1]!.prompt_tokens > turns[0]!.prompt_tokens);
    assert.ok(turns.every((t) => t.prompt_tokens < 512));
  });
});
