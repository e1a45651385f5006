// The Bot Connector of `npm run bench:find`: the serviceUrl the bot's replies go to. In a process of its own, like
// ../connector-sink.mjs, so its work does not delay the load generator's clock.
//
// A reply to an activity arrives as POST /v3/conversations/{conversation}/activities/{replyToId}. The sink answers it
// at once, then tells the orchestrator over IPC (`{ type: 'reply', replyToId }`), so the orchestrator can take the
// later of "HTTP response arrived" and "reply reached the connector" as the end of a query. What each reply said is
// kept in summary form (listing ids of the result cards in order, the summary line, whether there was a More results
// button, any other text) and handed over with `records`. GET .../members/{id} answers from BENCH_ROSTER, as
// ../connector-sink.mjs does (capture looks a user up once if their chat has no email yet).
import { createServer } from 'node:http';
import { serveIpc } from '../child-ipc.mjs';

const roster = new Map(
  JSON.parse(process.env.BENCH_ROSTER ?? '[]').map((m) => [
    m.id,
    { ...m, userPrincipalName: m.email, tenantId: m.tenantId, userRole: 'user' },
  ]),
);

/** replyToId -> summaries of the replies to it (one expected). */
const replies = new Map();
const counts = { replies: 0, members: 0, other: 0, unparsable: 0 };
let n = 0;

const textOf = (node) => {
  if (!node || typeof node !== 'object') return [];
  if (Array.isArray(node)) return node.flatMap(textOf);
  const own = [node.text, node.title, node.value].filter((v) => typeof v === 'string');
  return [...own, ...textOf(node.body), ...textOf(node.items), ...textOf(node.facts), ...textOf(node.columns)];
};

/** What a `find` reply says: its listing cards' ids in order, then the closing card's summary and More results. */
function summarize(activity) {
  const out = { listingIds: [], summary: undefined, more: false, moreData: undefined, text: activity.text ?? '', other: [] };
  for (const a of activity.attachments ?? []) {
    const card = a.content ?? {};
    const first = card.body?.[0]?.text ?? '';
    const m = /^PARTNER · (M-[0-9A-Z]{6})$/.exec(first);
    if (m) {
      out.listingIds.push(m[1]);
      continue;
    }
    const more = (card.actions ?? []).find((x) => x.verb === 'find.more');
    if (card.body?.length === 1 && card.body[0].isSubtle) {
      out.summary = first;
      out.more = !!more;
      out.moreData = more?.data;
      continue;
    }
    out.other.push(textOf(card.body).join(' | ').slice(0, 300));
  }
  return out;
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const parts = (req.url ?? '/').split('?')[0].split('/').filter(Boolean).map(decodeURIComponent);
    const json = (status, payload) => {
      const body = JSON.stringify(payload);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    if (req.method === 'GET' && parts[3] === 'members' && parts[4]) {
      counts.members++;
      const member = roster.get(parts[4]);
      return member ? json(200, member) : json(404, { error: { code: 'MemberNotFoundInConversation', message: 'not found' } });
    }
    // POST /v3/conversations/{id}/activities[/{replyToId}]
    if (req.method === 'POST' && parts[1] === 'conversations' && parts[3] === 'activities') {
      const replyToId = parts[4] ?? '';
      json(200, { id: `act-${++n}` });
      counts.replies++;
      process.send({ type: 'reply', replyToId });
      const raw = Buffer.concat(chunks).toString();
      setImmediate(() => {
        let summary;
        try {
          summary = summarize(JSON.parse(raw));
        } catch {
          counts.unparsable++;
          summary = { unparsable: raw.slice(0, 200) };
        }
        const list = replies.get(replyToId) ?? [];
        list.push({ conversationId: parts[2], ...summary });
        replies.set(replyToId, list);
      });
      return;
    }
    counts.other++;
    json(200, {});
  });
});

server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => {
  const url = `http://127.0.0.1:${server.address().port}/`;
  serveIpc(
    {
      stats: async () => ({ ...counts }),
      /** Hands over (and forgets) the summaries so far: { replyToId: [summary, ...] }. */
      records: async () => {
        await new Promise((resolve) => setImmediate(resolve));
        const out = Object.fromEntries(replies);
        replies.clear();
        return out;
      },
    },
    async () => {
      server.closeAllConnections?.();
      server.close();
    },
  );
  process.send({ type: 'ready', url });
});
