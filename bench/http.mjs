// The benchmarks' HTTP client: one request on a keep-alive agent, the answer read whole.
import http from 'node:http';

/** Sends `body` (a JSON Buffer, optional) and resolves with the status and the answer's text. */
export function request(agent, url, method, headers, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method,
        agent,
        headers: body
          ? { ...headers, 'content-type': 'application/json', 'content-length': body.length }
          : headers,
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
