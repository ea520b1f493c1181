/**
 * JSON values from a body of one JSON value per line (grpc-gateway's form of a server stream), as
 * the bytes arrive: a line is parsed as soon as its newline is in, however the body was cut.
 */
export async function* ndjsonValues(chunks: AsyncIterable<Uint8Array | string>): AsyncGenerator<unknown> {
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const chunk of chunks) {
    buffered += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (line) yield parseLine(line);
    }
  }
  const rest = (buffered + decoder.decode()).trim();
  if (rest) yield parseLine(rest);
}

function parseLine(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    throw new SyntaxError(`a line of the streamed answer is not JSON: ${line.slice(0, 120)}`);
  }
}
