/**
 * Generation from the CLI on the embedded engine: a GGUF folder uploaded with `clarifai model
 * upload` (under Clarifai's ids for llama2, as the data directory's admin), predicted with the
 * documented flags. At a terminal (a pseudo-terminal from util-linux's `script`) the text is printed
 * as it is generated; piped it is printed whole, and both are the same text.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isolatedEnv, ROOT, runCli } from '../helpers/cli.js';
import { ggufModelFolder } from '../helpers/llm-folders.js';

const ARGS = [
  'model',
  'predict',
  '--model_id',
  'llama2-7b-chat',
  '--user_id',
  'meta',
  '--app_id',
  'Llama-2',
  '--bytes',
  'Human: Write a tweet on future of AI\\nAssistant:',
  '--input_type',
  'text',
  '--inference_params',
  '{"temperature":0,"seed":3,"max_tokens":24}',
];

/** Runs the CLI under a pseudo-terminal, so its stdout is a TTY; resolves with what it wrote. */
function atTerminal(args: string[], env: Record<string, string>): Promise<{ code: number; out: string }> {
  const quoted = [process.execPath, join(ROOT, 'bin/clarifai.js'), ...args]
    .map((a) => `'${a.replace(/'/g, `'\\''`)}'`)
    .join(' ');
  return new Promise((resolve) => {
    const child = spawn('script', ['-qec', quoted, '/dev/null'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, out }));
  });
}

describe('clarifai model predict on a generating model', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sibyl-generate-cli-'));
  const env = isolatedEnv();
  before(async () => {
    await ggufModelFolder(join(dir, 'llama2'), { userId: 'meta', appId: 'Llama-2', id: 'llama2-7b-chat' });
    const up = await runCli(['model', 'upload', join(dir, 'llama2')], env);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /Uploaded meta\/Llama-2\/llama2-7b-chat version \w+ \(text-to-text/);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('prints the same text streamed at a terminal and whole when piped', async () => {
    const piped = await runCli(ARGS, env);
    assert.equal(piped.code, 0, piped.stderr);
    const text = piped.stdout.trimEnd();
    assert.ok(text.length > 0);
    const tty = await atTerminal(ARGS, env);
    assert.equal(tty.code, 0, tty.out);
    // what the terminal shows once the spinner line is erased (it may not have appeared at all)
    const shown = tty.out.split('\x1b[2K').pop()!.replace(/\r/g, '').trimEnd();
    assert.equal(shown, text);
  });

  it('-o json carries the token counts', async () => {
    const res = await runCli([...ARGS, '-o', 'json'], env);
    assert.equal(res.code, 0, res.stderr);
    const out = (
      JSON.parse(res.stdout) as { outputs: { prompt_tokens: number; completion_tokens: number }[] }
    ).outputs[0]!;
    assert.equal(out.completion_tokens, 24);
    assert.ok(out.prompt_tokens > 0);
  });

  it('an unknown param and an over-long prompt are refused in one line each', async () => {
    const typo = await runCli([...ARGS.slice(0, -1), '{"max_token":5}'], env);
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /no inference param "max_token"; allowed: .*max_tokens/);
    const long = await runCli([...ARGS.slice(0, 9), 'the '.repeat(3000), '--input_type', 'text'], env);
    assert.equal(long.code, 2);
    assert.match(long.stderr, /the prompt is \d+ tokens, but this model's context holds 512/);
    assert.equal(long.stderr.trim().split('\n').length, 1);
  });
});
