import { GraphError } from '../../../src/delegation/graph';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import type { Logger } from '../../../src/log';

/** What a tiny server's handler sees of a request. */
export interface Seen {
  method: string;
  url: URL;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  /** JSON unless a string. */
  body?: unknown;
  /** Never answer (a timeout). */
  hang?: boolean;
}

/** A throwaway HTTP server on 127.0.0.1 for shape tests: the handler answers, every request is kept. */
export async function tinyServer(handler: (req: Seen) => Reply | Promise<Reply>) {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s: Seen = {
        method: req.method ?? 'GET',
        url: new URL(req.url ?? '/', 'http://127.0.0.1'),
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      seen.push(s);
      void Promise.resolve(handler(s)).then((reply) => {
        if (reply.hang) return;
        const body = reply.body === undefined ? '' : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
        res.writeHead(reply.status, {
          ...(typeof reply.body === 'object' ? { 'content-type': 'application/json' } : {}),
          ...reply.headers,
        });
        res.end(body);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A pino logger at trace level whose every line is kept, to check what reaches the logs. */
export function capturingLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const log = pino({ level: 'trace' }, { write: (line: string) => void lines.push(line) });
  return { log, lines };
}

/** Entra's token endpoint for client credentials with one valid secret; other secrets get invalid_client. */
export function tokenEndpoint(secret: string, accessToken = () => `eyJ0eXAi.${Math.random().toString(36).slice(2)}.sig`) {
  return (req: Seen): Reply | undefined => {
    if (!/\/oauth2\/v2\.0\/token$/.test(req.url.pathname)) return undefined;
    const form = new URLSearchParams(req.body);
    if (form.get('grant_type') !== 'client_credentials') return { status: 400, body: { error: 'unsupported_grant_type' } };
    if (form.get('client_secret') !== secret && !form.get('client_assertion')) {
      return {
        status: 401,
        headers: { 'x-ms-request-id': 'entra-req-1' },
        body: {
          error: 'invalid_client',
          error_description:
            "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '11111111-1111-1111-1111-111111111111'.",
          error_codes: [7000215],
          trace_id: 't',
          correlation_id: 'c',
        },
      };
    }
    return { status: 200, body: { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: accessToken() } };
  };
}

/** The GraphError a call fails with; anything else (or success) fails the test. */
export async function failure(p: Promise<unknown>): Promise<GraphError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof GraphError) return err;
    throw err;
  }
  throw new Error('expected a GraphError');
}
