import { request } from 'node:http';

/**
 * Raw bytes to /api/messages, as an attacker would send them: no client library that could fix up headers or body.
 * Resolves with status 0 (and the reason as text) when the server drops the connection or does not answer in time.
 */
export function rawPost(
  baseUrl: string,
  body: Buffer,
  headers: Record<string, string>,
  timeoutMs = 8_000,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve) => {
    const req = request(
      `${baseUrl}/api/messages`,
      { method: 'POST', headers: { 'content-length': String(body.length), ...headers }, timeout: timeoutMs },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
    req.on('error', (err) => resolve({ status: 0, text: err.message }));
    req.end(body);
  });
}
