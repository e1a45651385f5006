import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

export interface SinkRequest {
  /** POST (send or reply), PUT (update), DELETE, or CREATE (a new conversation). */
  method: string;
  path: string;
  conversationId: string;
  /** The activity id in the path: the message replied to (POST) or updated (PUT). */
  activityId?: string;
  /** The id the sink gave a message it took (POST): what the bot updates it by later. */
  sentId?: string;
  body: Record<string, unknown>;
  /** The request's headers (Authorization, User-Agent, Content-Type), as Node lower-cases them. */
  headers: Record<string, string | string[] | undefined>;
  /** When it arrived, in `performance.now()` milliseconds (the same clock as the deliverer's in one process). */
  at: number;
  /** The tenant the bot named: the activity's conversation.tenantId, else channelData.tenant.id (or a CREATE's tenantId). */
  tenantId?: string;
  /** Whether the sink took it as posted: false for injected errors and resets; true for late or missing answers. */
  accepted: boolean;
  /** The status answered, once answered (never, for a hang or a reset). */
  status?: number;
  answeredAt?: number;
}

/**
 * What the sink does with a request instead of answering 200/201 at once:
 * - `status`: answers that error, with Teams' error body ({ error: { code, message } }) and `Retry-After` if given;
 * - `delayMs`: takes the request, then answers normally (or with `then`) after that long;
 * - `hang`: takes the request and never answers (the connection is dropped when the sink closes);
 * - `reset`: drops the connection without an answer (a network error; the request is not taken).
 */
export type SinkFault =
  | { status: number; code?: string; message?: string; retryAfter?: number | string }
  | { delayMs: number; then?: SinkFault }
  | { hang: true }
  | { reset: true };

export interface FaultMatch {
  conversationId?: string;
  /** POST, PUT, DELETE or CREATE. */
  method?: string;
  /** How many matching requests get the fault (default 1). */
  times?: number;
}

/** Requests that count against Teams' rate limits: messages posted or updated in a conversation. */
export const isSend = (r: SinkRequest) => r.method === 'POST' || r.method === 'PUT';

/**
 * The most requests that arrived within any `windowMs` for one key, and which key. `toleranceMs` shortens the window
 * by that much: arrivals planned exactly one window apart can land a little closer through scheduling jitter.
 */
export function peakRate(
  requests: SinkRequest[],
  keyOf: (r: SinkRequest) => string | undefined,
  windowMs: number,
  toleranceMs = 0,
): { key?: string; count: number } {
  const byKey = new Map<string, number[]>();
  for (const r of requests) {
    const key = keyOf(r);
    if (key === undefined) continue;
    let times = byKey.get(key);
    if (!times) byKey.set(key, (times = []));
    times.push(r.at);
  }
  let best: { key?: string; count: number } = { count: 0 };
  for (const [key, times] of byKey) {
    times.sort((a, b) => a - b);
    for (let i = 0, j = 0; i < times.length; i++) {
      while (j < times.length && times[j]! < times[i]! + windowMs - toleranceMs) j++;
      if (j - i > best.count) best = { key, count: j - i };
    }
  }
  return best;
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
 * conversation it is asked to create, with when it arrived and how it was answered, and answers roster lookups from
 * `roster`. Faults can be scripted (`inject`, first matching rule first) or decided per request (`onRequest`).
 */
export async function startConnectorSink() {
  const requests: SinkRequest[] = [];
  const roster = new Map<string, RosterMember>();
  const rules: (FaultMatch & { fault: SinkFault; times: number })[] = [];
  let hook: ((r: SinkRequest) => SinkFault | undefined) | undefined;
  let inFlight = 0;
  let peakInFlight = 0;
  let n = 0;

  const tenantOf = (method: string, body: Record<string, unknown>): string | undefined => {
    const b = body as { tenantId?: string; conversation?: { tenantId?: string }; channelData?: { tenant?: { id?: string } } };
    return (method === 'CREATE' ? b.tenantId : undefined) ?? b.conversation?.tenantId ?? b.channelData?.tenant?.id;
  };

  const faultFor = (r: SinkRequest): SinkFault | undefined => {
    const hooked = hook?.(r);
    if (hooked) return hooked;
    const i = rules.findIndex(
      (rule) => (!rule.conversationId || rule.conversationId === r.conversationId) && (!rule.method || rule.method === r.method),
    );
    if (i < 0) return undefined;
    const rule = rules[i]!;
    if (--rule.times <= 0) rules.splice(i, 1);
    return rule.fault;
  };

  const readBody = (req: IncomingMessage) =>
    new Promise<Record<string, unknown>>((resolve) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => resolve(raw ? (JSON.parse(raw) as Record<string, unknown>) : {}));
    });

  // Node's server does not wait for a handler's promise: a bug in here shows as a request the deliverer never gets
  // an answer to, which the tests that use the sink report as a timeout.
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const at = performance.now();
    const url = new URL(req.url ?? '/', 'http://sink');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const body = await readBody(req);
    const json = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(payload));
    };
    // /v3/conversations/{id}/members/{memberId}
    if (req.method === 'GET' && parts[3] === 'members' && parts[4]) {
      const member = roster.get(parts[4]);
      return member
        ? json(200, { ...member, tenantId: 'x', userRole: 'user' })
        : json(404, { error: { code: 'MemberNotFoundInConversation', message: 'not found' } });
    }
    const create = req.method === 'POST' && parts.length === 2;
    const method = create ? 'CREATE' : (req.method ?? '');
    const record: SinkRequest = {
      method,
      path: url.pathname,
      conversationId: create ? `created-${++n}` : (parts[2] ?? ''),
      activityId: create ? undefined : parts[4],
      body,
      headers: req.headers,
      at,
      tenantId: tenantOf(method, body),
      accepted: true,
    };
    requests.push(record);
    inFlight++;
    peakInFlight = Math.max(peakInFlight, inFlight);
    let open = true;
    const finish = () => {
      if (!open) return;
      open = false;
      inFlight--;
    };
    res.on('close', finish);

    const answer = (fault: SinkFault | undefined): void => {
      if (fault && 'delayMs' in fault) {
        setTimeout(() => answer(fault.then), fault.delayMs);
        return;
      }
      if (fault && 'hang' in fault) return;
      if (fault && 'reset' in fault) {
        record.accepted = false;
        req.socket.destroy();
        return;
      }
      record.answeredAt = performance.now();
      if (fault) {
        record.accepted = false;
        record.status = fault.status;
        const headers: Record<string, string> = fault.retryAfter === undefined ? {} : { 'retry-after': String(fault.retryAfter) };
        return json(
          fault.status,
          { error: { ...(fault.code ? { code: fault.code } : {}), message: fault.message ?? `injected ${fault.status}` } },
          headers,
        );
      }
      record.status = create ? 201 : 200;
      if (create) return json(201, { id: record.conversationId, activityId: `act-${++n}` });
      if (req.method !== 'PUT') record.sentId = `act-${++n}`;
      json(200, { id: req.method === 'PUT' ? record.activityId : record.sentId });
    };
    answer(faultFor(record));
  };
  const server: Server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

  const cards = (r: SinkRequest) =>
    ((r.body.attachments as { contentType: string; content: Record<string, unknown> }[] | undefined) ?? [])
      .filter((a) => a.contentType === 'application/vnd.microsoft.card.adaptive')
      .map((a) => a.content);

  return {
    url,
    /** Every request that arrived, answered or not, in order of arrival. */
    requests,
    roster,
    /** Messages sent or replied into a conversation (not updates) that the sink took. */
    sentTo: (conversationId: string) => requests.filter((r) => r.method === 'POST' && r.conversationId === conversationId && r.accepted),
    updatesIn: (conversationId: string) => requests.filter((r) => r.method === 'PUT' && r.conversationId === conversationId && r.accepted),
    cards,
    /** All visible text of a request: its text plus every TextBlock/fact in its cards. */
    textOf: (r: SinkRequest) => [typeof r.body.text === 'string' ? r.body.text : '', ...cards(r).map(cardText)].join('\n'),
    /** Scripts a fault for the next matching request(s); rules apply in the order they were added. */
    inject(fault: SinkFault, match: FaultMatch = {}) {
      rules.push({ ...match, fault, times: match.times ?? 1 });
    },
    /** Decides a fault per request (before the scripted ones); undefined answers normally. Pass nothing to remove it. */
    onRequest(decide?: (r: SinkRequest) => SinkFault | undefined) {
      hook = decide;
    },
    /** The most requests that were ever unanswered at once. */
    peakInFlight: () => peakInFlight,
    /** Highest count of sends in any `windowMs` to one conversation / one tenant (see `peakRate`). */
    peakPerConversation: (windowMs: number, toleranceMs = 0) =>
      peakRate(requests.filter(isSend), (r) => r.conversationId, windowMs, toleranceMs),
    peakPerTenant: (windowMs: number, toleranceMs = 0) => peakRate(requests.filter(isSend), (r) => r.tenantId, windowMs, toleranceMs),
    /** Forgets the requests seen so far (scripted faults stay). */
    clear: () => {
      requests.splice(0);
      peakInFlight = inFlight;
    },
    clearFaults: () => {
      rules.splice(0);
      hook = undefined;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Hung requests would keep close() waiting for ever.
        server.closeAllConnections();
      }),
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
