import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SinkRequest {
  method: string;
  path: string;
  conversationId: string;
  /** The activity id in the path: the message replied to (POST) or updated (PUT). */
  activityId?: string;
  body: Record<string, unknown>;
}

export interface RosterMember {
  id: string;
  name: string;
  aadObjectId: string;
  email: string;
  userPrincipalName: string;
}

/**
 * A local Bot Connector: the `serviceUrl` the bot writes back to. It records every send, reply, update and
 * conversation it is asked to create, and answers roster lookups from `roster`.
 */
export async function startConnectorSink() {
  const requests: SinkRequest[] = [];
  const roster = new Map<string, RosterMember>();
  let n = 0;

  const readBody = (req: IncomingMessage) =>
    new Promise<Record<string, unknown>>((resolve) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => resolve(raw ? (JSON.parse(raw) as Record<string, unknown>) : {}));
    });

  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://sink');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const body = await readBody(req);
    const json = (status: number, payload: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(payload));
    };
    // /v3/conversations/{id}/members/{memberId}
    if (req.method === 'GET' && parts[3] === 'members' && parts[4]) {
      const member = roster.get(parts[4]);
      return member ? json(200, { ...member, tenantId: 'x', userRole: 'user' }) : json(404, { error: { code: 'MemberNotFoundInConversation', message: 'not found' } });
    }
    if (req.method === 'POST' && parts.length === 2) {
      const id = `created-${++n}`;
      requests.push({ method: 'CREATE', path: url.pathname, conversationId: id, body });
      return json(201, { id, activityId: `act-${n}` });
    }
    const conversationId = parts[2] ?? '';
    const activityId = parts[4];
    requests.push({ method: req.method ?? '', path: url.pathname, conversationId, activityId, body });
    json(200, { id: req.method === 'PUT' ? activityId : `act-${++n}` });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

  const cards = (r: SinkRequest) =>
    ((r.body.attachments as { contentType: string; content: Record<string, unknown> }[] | undefined) ?? [])
      .filter((a) => a.contentType === 'application/vnd.microsoft.card.adaptive')
      .map((a) => a.content);

  return {
    url,
    requests,
    roster,
    /** Messages sent or replied into a conversation (not updates). */
    sentTo: (conversationId: string) => requests.filter((r) => r.method === 'POST' && r.conversationId === conversationId),
    updatesIn: (conversationId: string) => requests.filter((r) => r.method === 'PUT' && r.conversationId === conversationId),
    cards,
    /** All visible text of a request: its text plus every TextBlock/fact in its cards. */
    textOf: (r: SinkRequest) => [String(r.body.text ?? ''), ...cards(r).map(cardText)].join('\n'),
    clear: () => void requests.splice(0),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export type ConnectorSink = Awaited<ReturnType<typeof startConnectorSink>>;

/** Text a person would read on a card: TextBlocks, facts and button titles, in order. */
export function cardText(node: unknown): string {
  const out: string[] = [];
  const walk = (n: unknown) => {
    if (Array.isArray(n)) return n.forEach(walk);
    if (!n || typeof n !== 'object') return;
    const o = n as Record<string, unknown>;
    if (o.type === 'TextBlock' && typeof o.text === 'string') out.push(o.text);
    if (typeof o.title === 'string' && typeof o.value === 'string') out.push(`${o.title}: ${o.value}`);
    if (typeof o.type === 'string' && o.type.startsWith('Action.') && typeof o.title === 'string') out.push(`[${o.title}]`);
    for (const [k, v] of Object.entries(o)) if (k !== 'refresh' && k !== 'fallback') walk(v);
  };
  walk(node);
  return out.join('\n');
}
