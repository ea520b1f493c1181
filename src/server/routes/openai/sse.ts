import { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';

/**
 * Server-sent events as OpenAI streams them: one `data: <json>` event per chunk, then
 * `data: [DONE]`. An error after the stream has begun (the status is already sent) becomes a last
 * `data: {"error": ...}` event, which OpenAI's clients raise as an API error.
 */
export function sendSse(
  reply: FastifyReply,
  events: AsyncIterable<unknown>,
  errorEvent: (err: unknown) => unknown,
): FastifyReply {
  async function* lines(): AsyncGenerator<string> {
    try {
      for await (const event of events) yield `data: ${JSON.stringify(event)}\n\n`;
      yield 'data: [DONE]\n\n';
    } catch (err) {
      yield `data: ${JSON.stringify(errorEvent(err))}\n\n`;
    }
  }
  void reply
    .header('content-type', 'text/event-stream; charset=utf-8')
    .header('cache-control', 'no-cache')
    // proxies such as nginx would otherwise hold the tokens back until a buffer fills
    .header('x-accel-buffering', 'no');
  // a client that goes away destroys the stream, which ends the generator and so the generation
  return reply.send(Readable.from(lines(), { objectMode: false }));
}
