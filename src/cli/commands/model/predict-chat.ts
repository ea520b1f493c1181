import { createInterface } from 'node:readline';
import type { Output } from '../../../core/wire.js';
import { ApiError } from '../../../sdk/errors.js';
import { withSession } from '../../connect.js';
import { CliUsageError, isInputError } from '../../errors.js';
import { withModelSuggestions } from '../../suggest.js';
import { openModel } from './predict-model.js';
import { withInputKeys } from './predict-named.js';
import type { PredictPlan } from './predict-options.js';

type Format = 'text' | 'json' | 'jsonl';
type Tokens = Pick<Output, 'prompt_tokens' | 'completion_tokens'>;

/**
 * Follows a generation as it arrives. `text` writes each piece (the spinner goes at the first);
 * `messages` writes each streamed message as one JSON line; `quiet` writes nothing. Returns the
 * whole text and the token counts the last message carries.
 */
export async function printGeneration(
  messages: AsyncIterable<Output[]>,
  mode: 'text' | 'messages' | 'quiet',
  stopProgress: () => void,
): Promise<{ text: string; tokens: Tokens }> {
  let text = '';
  const tokens: Tokens = {};
  for await (const outputs of messages) {
    const out = outputs[0];
    if (out?.prompt_tokens !== undefined) tokens.prompt_tokens = out.prompt_tokens;
    if (out?.completion_tokens !== undefined) tokens.completion_tokens = out.completion_tokens;
    const piece = out?.data.text?.raw ?? '';
    if (mode === 'messages') {
      stopProgress();
      process.stdout.write(`${JSON.stringify({ outputs })}\n`);
    } else if (piece && mode === 'text') {
      stopProgress();
      process.stdout.write(piece);
    }
    text += piece;
  }
  stopProgress();
  if (mode === 'text' && text !== '' && !text.endsWith('\n')) process.stdout.write('\n');
  return { text, tokens };
}

interface Turn {
  user: string;
  assistant: string;
}

/**
 * A model here takes one text input, so earlier turns are folded into it as a transcript, the
 * way the server's /v1/chat/completions folds a messages list: both keep one conversation format.
 */
function withHistory(history: readonly Turn[], text: string): string {
  if (history.length === 0) return text;
  const lines = history.flatMap((t) => [`User: ${t.user}`, `Assistant: ${t.assistant}`]);
  return `Earlier in this conversation:\n${lines.join('\n')}\n\n${text}`;
}

const ENDS = new Set(['exit', 'quit']);

/**
 * `--chat [MESSAGE]`: with MESSAGE, one turn (as Clarifai's current CLI sends one chat message);
 * without, a conversation read from stdin a line at a time until "exit" or end of input, each
 * reply streamed. A terminal gets a "> " prompt on stderr; piped lines work the same, unprompted.
 */
export async function runChat(
  plan: PredictPlan,
  message: string | undefined,
  format: Format,
  env: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  await withSession(
    env,
    async (session) => {
      const ctx = await openModel(session, plan, env, { modelType: true });
      const facts = ctx.facts!;
      if (!facts.methods.includes('generate'))
        throw new CliUsageError(
          `--chat needs a text-generation model (text-to-text or multimodal-to-text); model ${facts.model.id} is ${facts.typeId || 'of no type'}, whose methods are: ${facts.methods.join(', ')}`,
        );
      if (ctx.namedData)
        throw new CliUsageError(
          '--chat takes each turn from MESSAGE or stdin; -i/--inputs may give only inference params with it',
        );
      const history: Turn[] = [];
      const turn = async (text: string): Promise<void> => {
        for (;;) {
          const request = {
            inputs: [{ data: { text: { raw: withHistory(history, text) } } }],
            inferenceParams: ctx.plan.params,
          };
          try {
            const generation = ctx.model.generate(request);
            const reply = await printGeneration(generation, format === 'text' ? 'text' : 'quiet', () => {});
            // an empty reply still ends its line; -o json: a line per turn, as Clarifai's CLI prints a reply
            if (format === 'text' && reply.text === '') process.stdout.write('\n');
            else if (format !== 'text')
              process.stdout.write(`${JSON.stringify({ result: reply.text, ...reply.tokens })}\n`);
            history.push({ user: text, assistant: reply.text.trim() });
            return;
          } catch (err) {
            // a conversation that outgrew the model's context loses its oldest turn and tries again
            if (history.length > 0 && err instanceof ApiError && isInputError(err)) {
              history.shift();
              continue;
            }
            throw withInputKeys(
              await withModelSuggestions(err, ctx.model.client, plan.ref),
              plan.named,
              facts,
            );
          }
        }
      };
      if (message !== undefined) {
        await turn(message);
        return;
      }
      const terminal = process.stdin.isTTY === true;
      const lines = createInterface({
        input: process.stdin,
        ...(terminal ? { output: process.stderr, prompt: '> ' } : {}),
        terminal,
      });
      if (terminal) {
        process.stderr.write(
          `Chatting with ${plan.ref.userId}/${plan.ref.appId}/models/${plan.ref.modelId}; "exit" or Ctrl-D ends.\n`,
        );
        lines.prompt();
      }
      for await (const line of lines) {
        const text = line.trim();
        if (ENDS.has(text.toLowerCase())) break;
        if (text !== '') await turn(text);
        if (terminal) lines.prompt();
      }
      lines.close();
    },
    { preload: plan.ref },
  );
}
