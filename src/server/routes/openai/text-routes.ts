import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { newId } from '../../../core/ids.js';
import type { ServiceContext } from '../../services/context.js';
import {
  collectGeneration,
  startGeneration,
  type GenerationStep,
  type GenerationUsage,
} from '../../services/openai-generate.js';
import { modelForEndpoint } from '../../services/openai-models.js';
import { parseChatRequest, parseCompletionRequest, type TextRequest } from '../../services/openai-text.js';
import { abandonSignal, callerOf } from '../v2/context.js';
import { sendSse } from './sse.js';

/** POST /v1/chat/completions and /v1/completions: one generation each, whole or streamed. */

type Kind = 'chat' | 'completions';

interface Head {
  id: string;
  created: number;
  model: string;
}

export function registerTextRoutes(
  app: FastifyInstance,
  ctx: ServiceContext,
  errorEvent: (err: unknown, reqId: string) => unknown,
): void {
  app.post('/chat/completions', (req, reply) =>
    answer(ctx, req, reply, 'chat', parseChatRequest(req.body), errorEvent),
  );
  app.post('/completions', (req, reply) =>
    answer(ctx, req, reply, 'completions', parseCompletionRequest(req.body), errorEvent),
  );
}

async function answer(
  ctx: ServiceContext,
  req: FastifyRequest,
  reply: FastifyReply,
  kind: Kind,
  parsed: TextRequest,
  errorEvent: (err: unknown, reqId: string) => unknown,
): Promise<unknown> {
  const caller = callerOf(req);
  const endpoint = kind === 'chat' ? 'POST /v1/chat/completions' : 'POST /v1/completions';
  const { ref, name } = await modelForEndpoint(ctx, caller, parsed.model, kind, endpoint);
  const signal = abandonSignal(reply);
  const steps = await startGeneration(
    ctx,
    caller,
    { ref, text: parsed.text, params: parsed.params, ...(parsed.image ? { image: parsed.image } : {}) },
    signal,
  );
  const head: Head = {
    id: `${kind === 'chat' ? 'chatcmpl' : 'cmpl'}-${newId()}`,
    created: Math.floor(Date.now() / 1000),
    model: name,
  };
  if (parsed.stream) {
    const events =
      kind === 'chat'
        ? chatChunks(head, steps, parsed.includeUsage)
        : textChunks(head, steps, parsed.includeUsage);
    return sendSse(reply, events, (err) => errorEvent(err, req.id));
  }
  const out = await collectGeneration(steps);
  if (kind === 'chat') {
    return {
      ...head,
      object: 'chat.completion',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: out.text, refusal: null },
          logprobs: null,
          finish_reason: out.finishReason,
        },
      ],
      usage: out.usage,
    };
  }
  return {
    ...head,
    object: 'text_completion',
    choices: [{ text: out.text, index: 0, logprobs: null, finish_reason: out.finishReason }],
    usage: out.usage,
  };
}

/**
 * chat.completion.chunk events: the role first, then the text pieces, then the finish reason in
 * an empty delta, then (include_usage) a chunk with no choices and the usage, as OpenAI sends them.
 */
async function* chatChunks(
  head: Head,
  steps: AsyncIterable<GenerationStep>,
  includeUsage: boolean,
): AsyncGenerator<unknown> {
  const chunk = (delta: object, finish: string | null) => ({
    ...head,
    object: 'chat.completion.chunk',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    ...(includeUsage ? { usage: null } : {}),
  });
  yield chunk({ role: 'assistant', content: '' }, null);
  let usage: GenerationUsage | undefined;
  for await (const step of steps) {
    if (step.text !== '') yield chunk({ content: step.text }, null);
    if (step.end) {
      yield chunk({}, step.end.finishReason);
      usage = step.end.usage;
    }
  }
  if (includeUsage && usage) yield { ...head, object: 'chat.completion.chunk', choices: [], usage };
}

/** text_completion events: the pieces, the finish reason on the last, then (include_usage) the usage. */
async function* textChunks(
  head: Head,
  steps: AsyncIterable<GenerationStep>,
  includeUsage: boolean,
): AsyncGenerator<unknown> {
  const chunk = (text: string, finish: string | null) => ({
    ...head,
    object: 'text_completion',
    choices: [{ text, index: 0, logprobs: null, finish_reason: finish }],
    ...(includeUsage ? { usage: null } : {}),
  });
  let usage: GenerationUsage | undefined;
  for await (const step of steps) {
    if (step.end) {
      yield chunk(step.text, step.end.finishReason);
      usage = step.end.usage;
    } else if (step.text !== '') yield chunk(step.text, null);
  }
  if (includeUsage && usage) yield { ...head, object: 'text_completion', choices: [], usage };
}
