import type * as NodeLlamaCppModule from 'node-llama-cpp';
import type {
  ChatHistoryItem,
  LlamaContextSequence,
  LlamaModel,
  Token,
  BuiltInChatWrapperType,
} from 'node-llama-cpp';
import { InvalidArgumentError } from '../../core/errors.js';
import { StatusCode } from '../../core/status.js';
import type { InferenceParams } from '../../core/wire.js';
import type { GenerateChunk } from '../types.js';

/** The package as `import('node-llama-cpp')` gives it: loaded only once a GGUF model is used. */
export type NodeLlamaCpp = typeof NodeLlamaCppModule;

/** When a request leaves temperature out: varied but coherent, as most chat front-ends default. */
export const DEFAULT_TEMPERATURE = 0.7;
/** node-llama-cpp's own defaults, stated here so the runtime's behaviour does not drift with it. */
const DEFAULT_TOP_K = 40;
const DEFAULT_TOP_P = 0.95;
/** Tokens of context given to the detokenizer, so a piece's leading space comes out right. */
const DETOKENIZE_CONTEXT = 8;

/** What the prompt became: its tokens, and stops the chat template adds (its end-of-turn marker). */
/** The chat template's wrapper node-llama-cpp resolves from a GGUF (parsing it takes 0.1-0.4 s). */
export type ChatWrapper = BuiltInChatWrapperType;

export interface Prompt {
  tokens: Token[];
  stopTexts: string[];
  stopTokens: Set<Token>;
}

/**
 * The prompt for one input. With `prompt_template` the text is sent as given (raw completion);
 * otherwise the model's chat template wraps a single user turn, after `system_prompt` if any.
 */
export function buildPrompt(
  chatWrapper: () => ChatWrapper,
  model: LlamaModel,
  text: string,
  params: InferenceParams,
): Prompt {
  const system = typeof params.system_prompt === 'string' ? params.system_prompt : undefined;
  const template = typeof params.prompt_template === 'string' ? params.prompt_template : undefined;
  if (template !== undefined) {
    // A replacer function, so "$&" or "$1" in the input are not read as replacement patterns.
    const filled = template.replace(/\{\{prompt\}\}|\{prompt\}/g, () => text);
    const body = system ? `${system}\n\n${filled}` : filled;
    const bos = model.tokens.bos;
    const tokens = model.tokenize(body, false);
    return {
      tokens: model.tokens.shouldPrependBosToken && bos !== null ? [bos, ...tokens] : tokens,
      stopTexts: [],
      stopTokens: new Set(),
    };
  }
  const wrapper = chatWrapper();
  const history: ChatHistoryItem[] = [
    ...(system ? [{ type: 'system' as const, text: system }] : []),
    { type: 'user', text },
    { type: 'model', response: [] },
  ];
  const state = wrapper.generateContextState({ chatHistory: history });
  const stopTexts: string[] = [];
  const stopTokens = new Set<Token>();
  for (const trigger of state.stopGenerationTriggers) {
    if (trigger.values.every((v) => typeof v === 'string')) stopTexts.push(trigger.values.join(''));
    else {
      const tokens = trigger.tokenize(model.tokenizer);
      if (tokens.length === 1) stopTokens.add(tokens[0]!);
    }
  }
  return { tokens: state.contextText.tokenize(model.tokenizer), stopTexts, stopTokens };
}

/** Refused rather than cut: silently dropping the start of a prompt changes what is asked. */
export function checkFits(promptTokens: number, contextSize: number): void {
  if (promptTokens >= contextSize) {
    throw new InvalidArgumentError(
      `the prompt is ${promptTokens} tokens, but this model's context holds ${contextSize} ` +
        '(prompt and answer together); shorten the input',
      StatusCode.INPUT_INVALID_ARGUMENT,
      'Invalid input argument',
    );
  }
}

/**
 * Samples tokens after the prompt and streams their text. Ends at `max_tokens` (or the context's
 * end) with "length", at an end-of-generation token or a stop text with "stop", and quietly when
 * the signal fires. The sequence must be empty; the caller owns and clears it.
 */
/** A context sequence held for one generation; `release` disposes it and lets the next one in. */
export interface SequenceLease {
  sequence: LlamaContextSequence;
  release(): void;
}

export async function* sample(
  model: LlamaModel,
  lease: () => Promise<SequenceLease>,
  prompt: Prompt,
  params: InferenceParams,
  signal?: AbortSignal,
): AsyncGenerator<GenerateChunk> {
  const held = await lease();
  const sequence = held.sequence;
  try {
    if (signal?.aborted) return;
    const maxTokens = Math.min(num(params.max_tokens) ?? 256, sequence.contextSize - prompt.tokens.length);
    const stops = new StopMatcher([...prompt.stopTexts, ...strings(params.stop)]);
    const generated: Token[] = [];
    let decoded = 0;
    const usage = () => ({ promptTokens: prompt.tokens.length, completionTokens: generated.length });
    const chunk = (raw: string): GenerateChunk => ({ data: { text: { raw } } });

    const tokens = sequence.evaluate(prompt.tokens, {
      temperature: num(params.temperature) ?? DEFAULT_TEMPERATURE,
      topK: num(params.top_k) ?? DEFAULT_TOP_K,
      topP: num(params.top_p) ?? DEFAULT_TOP_P,
      ...(num(params.seed) !== undefined ? { seed: num(params.seed) } : {}),
      yieldEogToken: true,
    });
    let textTokens = 0;
    let stopped = false;
    /** Decodes the tokens not yet decoded; `final` flushes a character still missing bytes. */
    const decode = (final: boolean): string | undefined => {
      if (decoded === textTokens) return undefined;
      const before = generated.slice(Math.max(0, decoded - DETOKENIZE_CONTEXT), decoded);
      const piece = model.detokenize(generated.slice(decoded, textTokens), false, before);
      // A character split across byte tokens waits for its last byte.
      if (piece.endsWith('\uFFFD') && !final) return undefined;
      decoded = textTokens;
      return piece;
    };
    for await (const token of tokens) {
      if (signal?.aborted) return;
      generated.push(token);
      if (model.isEogToken(token) || prompt.stopTokens.has(token)) break;
      textTokens = generated.length;
      const piece = decode(generated.length >= maxTokens);
      if (piece !== undefined) {
        const out = stops.push(piece);
        if (out.text !== '') yield chunk(out.text);
        if ((stopped = out.stopped)) break;
      }
      if (generated.length >= maxTokens) break;
    }
    if (signal?.aborted) return;
    let rest = '';
    if (!stopped) {
      const out = stops.push(decode(true) ?? '');
      stopped = out.stopped;
      rest = out.text + (stopped ? '' : stops.flush());
    }
    // Ended by max_tokens or the context's end only if the last token was an ordinary one.
    const finishReason = stopped || textTokens < generated.length ? 'stop' : 'length';
    yield { ...chunk(rest), usage: usage(), finishReason };
  } finally {
    held.release();
  }
}

/**
 * Finds stop texts across pieces: text that could still begin a stop text is held back, so what
 * was sent never has to be taken back.
 */
class StopMatcher {
  private held = '';

  constructor(private readonly stops: string[]) {}

  push(piece: string): { text: string; stopped: boolean } {
    this.held += piece;
    let first = -1;
    for (const stop of this.stops) {
      const at = this.held.indexOf(stop);
      if (at >= 0 && (first < 0 || at < first)) first = at;
    }
    if (first >= 0) {
      const text = this.held.slice(0, first);
      this.held = '';
      return { text, stopped: true };
    }
    const keep = this.heldBack();
    const text = this.held.slice(0, this.held.length - keep);
    this.held = this.held.slice(this.held.length - keep);
    return { text, stopped: false };
  }

  flush(): string {
    const text = this.held;
    this.held = '';
    return text;
  }

  /** The longest end of the held text that is the start of some stop text. */
  private heldBack(): number {
    let keep = 0;
    for (const stop of this.stops) {
      for (let n = Math.min(stop.length - 1, this.held.length); n > keep; n--) {
        if (this.held.endsWith(stop.slice(0, n))) {
          keep = n;
          break;
        }
      }
    }
    return keep;
  }
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' ? value : undefined;
}

function strings(value: unknown): string[] {
  if (typeof value === 'string') return value === '' ? [] : [value];
  return Array.isArray(value) ? value.filter((s): s is string => typeof s === 'string' && s !== '') : [];
}
