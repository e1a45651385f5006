import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Activity, ResourceResponse } from 'botbuilder';
import type { ConnectorClient } from 'botframework-connector';

/**
 * Posts and updates activities through the Bot Connector REST API as plain JSON, signed by the connector client's own
 * credentials (the way botbuilder's skill client posts to a skill). The generated ConnectorClient walks its Activity
 * mapper for every request and again for every answer, inside a pipeline of policies; for a proactive message that
 * costs more CPU than rendering and recording it together (bench/RESULTS.md, notify). The wire format is the same:
 * the connector's Activity mapper serialises exactly the activity's JSON.
 *
 * Behind an outbound proxy (HTTP(S)_PROXY set) use the ConnectorClient itself, which honours the proxy settings.
 */
export interface ActivityPoster {
  send(conversationId: string, activity: Partial<Activity>, signal?: AbortSignal): Promise<ResourceResponse>;
  update(conversationId: string, activityId: string, activity: Partial<Activity>, signal?: AbortSignal): Promise<ResourceResponse>;
}

/** What a connector answered with other than success: the fields the SDK's RestError has and the delivery policy reads. */
export class ConnectorHttpError extends Error {
  readonly statusCode: number;
  /** Teams' error code from the answer's body ({ error: { code, message } }), when it gave one. */
  readonly code?: string;
  readonly body: unknown;
  readonly response: { status: number; headers: { get(name: string): string | undefined } };

  constructor(status: number, headers: IncomingHttpHeaders, body: unknown) {
    const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
    super(typeof error?.message === 'string' && error.message ? error.message : `the connector answered ${status}`);
    this.name = 'ConnectorHttpError';
    this.statusCode = status;
    this.code = typeof error?.code === 'string' && error.code ? error.code : undefined;
    this.body = body;
    const get = (name: string) => {
      const value = headers[name.toLowerCase()];
      return Array.isArray(value) ? value.join(', ') : value;
    };
    this.response = { status, headers: { get } };
  }
}

/** Names of the environment variables an outbound proxy is configured by (as @azure/core-rest-pipeline reads them). */
const PROXY_VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'ALL_PROXY', 'all_proxy'];
export const proxyConfigured = (env: NodeJS.ProcessEnv = process.env) => PROXY_VARIABLES.some((name) => !!env[name]);

/** Answers bigger than this are not Bot Connector answers (a resource id, or a short error): stop reading. */
const MAX_ANSWER_BYTES = 1 << 20;

// One pool of kept-alive connections per process, as the SDK's own HTTP client keeps.
const agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };

interface Signer {
  signRequest(resource: { headers: { set(name: string, value: string): void } }): Promise<unknown>;
}

/**
 * A poster for the connector `client` was built for (its base URI is the conversation's service URL), signing each
 * request with the client's credentials: their token cache, refresh and audience stay the SDK's.
 */
export function activityPoster(client: ConnectorClient): ActivityPoster {
  const context = client as unknown as { baseUri?: string; credentials?: Signer; options?: { userAgent?: string } };
  const base = new URL(context.baseUri ?? '');
  const root = base.pathname.replace(/\/+$/, '');
  const credentials = context.credentials;
  const userAgent = context.options?.userAgent?.trim();

  async function call(method: 'POST' | 'PUT', path: string, activity: Partial<Activity>, signal?: AbortSignal) {
    const body = JSON.stringify(activity);
    const headers: Record<string, string | number> = {
      accept: 'application/json',
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    };
    if (userAgent) headers['user-agent'] = userAgent;
    await credentials?.signRequest({ headers: { set: (name, value) => void (headers[name.toLowerCase()] = value) } });
    const url = new URL(base);
    url.pathname = `${root}${path}`;
    const secure = url.protocol === 'https:';
    const answer = await new Promise<{ res: IncomingMessage; text: string }>((resolve, reject) => {
      const req = (secure ? httpsRequest : httpRequest)(
        url,
        { method, headers, agent: secure ? agents.https : agents.http, signal },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_ANSWER_BYTES) res.destroy(new Error(`the connector's answer exceeded ${MAX_ANSWER_BYTES} bytes`));
            else chunks.push(chunk);
          });
          res.on('error', reject);
          res.on('end', () => resolve({ res, text: Buffer.concat(chunks).toString('utf8') }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    const status = answer.res.statusCode ?? 0;
    let parsed: unknown;
    try {
      parsed = answer.text ? JSON.parse(answer.text) : undefined;
    } catch {
      parsed = answer.text;
    }
    if (status < 200 || status >= 300) throw new ConnectorHttpError(status, answer.res.headers, parsed);
    return (parsed && typeof parsed === 'object' ? parsed : {}) as ResourceResponse;
  }

  const conversation = (id: string) => `/v3/conversations/${encodeURIComponent(id)}/activities`;
  return {
    send: (conversationId, activity, signal) => call('POST', conversation(conversationId), activity, signal),
    update: (conversationId, activityId, activity, signal) =>
      call('PUT', `${conversation(conversationId)}/${encodeURIComponent(activityId)}`, activity, signal),
  };
}

/** The same two calls through the ConnectorClient and its pipeline (used behind a proxy). */
export function clientPoster(client: ConnectorClient): ActivityPoster {
  return {
    send: (conversationId, activity, signal) => client.conversations.sendToConversation(conversationId, activity, { abortSignal: signal }),
    update: (conversationId, activityId, activity, signal) =>
      client.conversations.updateActivity(conversationId, activityId, activity, { abortSignal: signal }),
  };
}
