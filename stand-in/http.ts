/**
 * HTTP helpers shared by the stand-in's routes: bodies, JSON answers, and the two error shapes Microsoft uses
 * (Graph's `{ error: { code, message, innerError } }` and Entra's OAuth `{ error, error_description, ... }`).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

const MAX_BODY = 1024 * 1024;

export class BodyTooLarge extends Error {}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new BodyTooLarge('Request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    ...(body === undefined ? {} : { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(Buffer.byteLength(text)) }),
    ...headers,
  });
  res.end(text);
}

export function sendHtml(res: ServerResponse, status: number, html: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': String(Buffer.byteLength(html)), ...headers });
  res.end(html);
}

export const newGuid = (): string => randomUUID();

/** Graph's weak ETag form, e.g. `W/"JyIxODAwZTY4My0wMDAwLTAyMDAtMDAwMC02MTU0OWFmMDAwMDAiJw=="` (a quoted base64 value). */
export function newEtag(): string {
  return `W/"${Buffer.from(`'"${randomBytes(12).toString('hex')}"'`).toString('base64')}"`;
}

/** An opaque token, as unguessable as a real one; the stand-in looks it up, nobody parses it. */
export const newOpaqueToken = (): string => randomBytes(32).toString('base64url');

/** Graph's request-id / client-request-id pair: the client's id is echoed back when it sent one. */
export function requestIds(req: IncomingMessage): { requestId: string; clientRequestId: string } {
  const requestId = randomUUID();
  const sent = req.headers['client-request-id'];
  return { requestId, clientRequestId: typeof sent === 'string' && sent ? sent : requestId };
}

/** Graph error JSON per https://learn.microsoft.com/en-us/graph/errors (concepts/errors.md). */
export function graphErrorBody(
  code: string,
  message: string,
  ids: { requestId: string; clientRequestId: string },
  now: Date,
  innerCode?: string,
): { error: { code: string; message: string; innerError: Record<string, string> } } {
  return {
    error: {
      code,
      message,
      innerError: {
        ...(innerCode ? { code: innerCode } : {}),
        date: now.toISOString().replace(/\.\d{3}Z$/, ''),
        'request-id': ids.requestId,
        'client-request-id': ids.clientRequestId,
      },
    },
  };
}

/**
 * Entra's OAuth error JSON, as in the client credentials flow doc's error example
 * (https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow#error-response).
 */
export function entraErrorBody(
  error: string,
  code: number,
  description: string,
  now: Date,
): { error: string; error_description: string; error_codes: number[]; timestamp: string; trace_id: string; correlation_id: string } {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = now
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, 'Z');
  return {
    error,
    error_description: `AADSTS${code}: ${description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
    error_codes: [code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
  };
}

export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}
