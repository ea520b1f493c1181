import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InvalidArgumentError } from '../../src/core/errors.js';
import type { InferenceParams } from '../../src/core/wire.js';
import { LlamaCppRuntime, type OutputsWithUsage } from '../../src/engine/runtimes/llama-cpp.js';
import { NO_BATCHING, type ModelSpec } from '../../src/engine/spec.js';
import type { GenerateChunk, LoadedModel } from '../../src/engine/types.js';
import { writeTinyGguf, writeTruncatedGguf } from '../helpers/gguf.js';

const CONTEXT = 256;
let root: string;
let model: LoadedModel;
const runtime = new LlamaCppRuntime();

function spec(runtimeSettings: Record<string, unknown>): ModelSpec {
  return {
    userId: 'me',
    appId: 'app',
    id: 'tiny',
    versionId: 'v1',
    name: 'tiny',
    modelTypeId: 'text-to-text',
    description: '',
    inputType: 'text',
    params: {},
    runtime: { kind: 'llama-cpp', ...runtimeSettings },
    batching: NO_BATCHING,
    folder: root,
  };
}

interface Run {
  text: string;
  pieces: string[];
  last: GenerateChunk;
}

async function run(text: string, params: InferenceParams, signal?: AbortSignal): Promise<Run> {
  const chunks: GenerateChunk[] = [];
  for await (const chunk of model.generate!({ type: 'text', text }, params, signal)) chunks.push(chunk);
  const pieces = chunks.map((c) => c.data.text?.raw ?? '');
  return { text: pieces.join(''), pieces: pieces.filter((p) => p !== ''), last: chunks.at(-1)! };
}

before(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'sibyl-llama-'));
  await writeTinyGguf(path.join(root, 'tiny.gguf'), { seed: 7, contextLength: CONTEXT });
  const checked = await runtime.validate(spec({ file: 'tiny.gguf' }));
  model = await runtime.load(checked, { warmUp: true });
});

after(async () => {
  await model?.unload();
  await rm(root, { recursive: true, force: true });
});

describe('llama-cpp runtime on a tiny GGUF', () => {
  it('generates exactly max_tokens tokens and says it stopped for length', async () => {
    const out = await run('the cat', { max_tokens: 12, temperature: 0 });
    assert.deepEqual(out.last.usage?.completionTokens, 12);
    assert.equal(out.last.finishReason, 'length');
    assert.ok(out.last.usage!.promptTokens > 2, 'the chat template adds tokens around the input');
    // every streamed piece is the text of at least one new token
    assert.ok(out.pieces.length >= 1 && out.pieces.length <= 12, `${out.pieces.length} pieces`);
    assert.notEqual(out.text.trim(), '');
  });

  it('repeats itself at temperature 0 with a fixed seed, and the seed changes sampling at 1', async () => {
    const greedy = { max_tokens: 10, temperature: 0, seed: 5 };
    assert.equal((await run('a tree', greedy)).text, (await run('a tree', greedy)).text);
    const texts = new Set<string>();
    for (const seed of [1, 2, 3, 4])
      texts.add((await run('a tree', { max_tokens: 10, temperature: 1, seed })).text);
    assert.ok(texts.size >= 2, `four seeds gave ${texts.size} text(s)`);
    const same = { max_tokens: 10, temperature: 1, seed: 9 };
    assert.equal((await run('a tree', same)).text, (await run('a tree', same)).text);
  });

  it('cuts the output before a stop text', async () => {
    // sampled with a fixed seed, so the text is varied and the same on both runs
    const params = { max_tokens: 20, temperature: 1, seed: 3 };
    const first = await run('the river', params);
    const words = first.text.trim().split(/\s+/);
    assert.ok(words.length >= 4, first.text);
    const stop = ` ${words[3]}`;
    const cut = await run('the river', { ...params, stop: [stop] });
    assert.equal(cut.text, first.text.slice(0, first.text.indexOf(stop)));
    assert.equal(cut.last.finishReason, 'stop');
    assert.ok(cut.last.usage!.completionTokens < 20);
  });

  it('gives predict the same text as the joined stream, with the usage beside it', async () => {
    const params = { max_tokens: 8, temperature: 0, system_prompt: 'Answer briefly.' };
    const streamed = await run('the sun', params);
    const outputs = (await model.predict!([{ type: 'text', text: 'the sun' }], params)) as OutputsWithUsage;
    assert.deepEqual(outputs, Object.assign([{ text: { raw: streamed.text } }], { usage: outputs.usage }));
    assert.deepEqual(outputs.usage, [streamed.last.usage]);
  });

  it('completes a raw prompt_template without the chat template', async () => {
    const chat = await run('the dog', { max_tokens: 4, temperature: 0 });
    const raw = await run('the dog', { max_tokens: 4, temperature: 0, prompt_template: 'Q: {{prompt}} A:' });
    assert.ok(raw.last.usage!.promptTokens < chat.last.usage!.promptTokens);
    assert.equal(raw.last.usage!.completionTokens, 4);
  });

  it('stops when aborted and answers the next request', async () => {
    const abort = new AbortController();
    let pieces = 0;
    for await (const chunk of model.generate!(
      { type: 'text', text: 'the moon' },
      { max_tokens: 200 },
      abort.signal,
    )) {
      if (chunk.data.text?.raw) pieces++;
      if (pieces === 2) abort.abort();
      assert.equal(chunk.usage, undefined, 'an aborted generation does not finish');
    }
    assert.equal(pieces, 2);
    const next = await run('the moon', { max_tokens: 3, temperature: 0 });
    assert.equal(next.last.usage?.completionTokens, 3);
  });

  it("stops for length at the context's end", async () => {
    const params = { max_tokens: 100, temperature: 0, prompt_template: '{prompt}' };
    const out = await run('the '.repeat(CONTEXT - 6), params);
    assert.equal(out.last.finishReason, 'length');
    assert.equal(out.last.usage!.completionTokens, CONTEXT - out.last.usage!.promptTokens);
  });

  it('refuses a prompt longer than the context, with both numbers', async () => {
    const long = 'the '.repeat(CONTEXT * 2);
    await assert.rejects(run(long, { max_tokens: 4 }), (error: Error) => {
      assert.ok(error instanceof InvalidArgumentError);
      assert.match(error.message, new RegExp(`prompt is \\d{3,} tokens.*context holds ${CONTEXT}`));
      return true;
    });
  });
});

describe('llama-cpp runtime refuses wrong files by name', () => {
  it('a truncated GGUF, a file that is not GGUF, a missing file, an absolute path', async () => {
    await writeTruncatedGguf(path.join(root, 'broken.gguf'), path.join(root, 'tiny.gguf'));
    await writeFile(path.join(root, 'notes.gguf'), 'hello, not a model');
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ file: 'broken.gguf' }, /broken\.gguf does not load as a GGUF model: \S/],
      [{ file: 'notes.gguf' }, /notes\.gguf is not a GGUF file/],
      [{ file: 'missing.gguf' }, /missing\.gguf/],
      [{ file: path.join(root, 'tiny.gguf') }, /must be a path inside the model folder/],
      [{ file: 'tiny.gguf', context_size: 100000 }, /context_size is 100000.*at most 256/],
      [{ file: 'tiny.gguf', gpu: true }, /unknown key runtime\.gpu/],
    ];
    for (const [settings, message] of cases) {
      await assert.rejects(runtime.validate(spec(settings)), (error: Error) => {
        assert.ok(error instanceof InvalidArgumentError, `${String(error)}`);
        assert.match(error.message, message);
        assert.doesNotMatch(error.message, /\n\s+at /, 'no stack trace in the message');
        return true;
      });
    }
  });
});
