// A local Bot Connector for the bench: the serviceUrl the real bot's deliverer writes to.
// Runs in its own child process so its work does not delay the load generator's clock.
// Answers like test/support/connector-sink.ts: POST/PUT /v3/conversations/... with {id}, GET .../members/{id} with a member.
import { createServer } from 'node:http';
import { serveIpc } from './child-ipc.mjs';

const roster = new Map(
  JSON.parse(process.env.BENCH_ROSTER ?? '[]').map((m) => [
    m.id,
    { ...m, userPrincipalName: m.email, tenantId: m.tenantId, userRole: 'user' },
  ]),
);

const counts = { sends: 0, updates: 0, creates: 0, members: 0, other: 0, updatesShowingAccepted: 0, sendsShowingAccepted: 0 };
const byConversation = new Map();
let n = 0;

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const raw = Buffer.concat(chunks).toString();
    const parts = (req.url ?? '/').split('?')[0].split('/').filter(Boolean).map(decodeURIComponent);
    const json = (status, payload) => {
      const body = JSON.stringify(payload);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    // /v3/conversations/{id}/members/{memberId}
    if (req.method === 'GET' && parts[3] === 'members' && parts[4]) {
      counts.members++;
      const member = roster.get(parts[4]);
      return member ? json(200, member) : json(404, { error: { code: 'MemberNotFoundInConversation', message: 'not found' } });
    }
    // POST /v3/conversations: open a 1:1 chat.
    if (req.method === 'POST' && parts.length === 2) {
      counts.creates++;
      n++;
      return json(201, { id: `created-${n}`, activityId: `act-${n}` });
    }
    const conversationId = parts[2] ?? '';
    const key = `${req.method} ${conversationId}`;
    byConversation.set(key, (byConversation.get(key) ?? 0) + 1);
    if (req.method === 'PUT') {
      counts.updates++;
      if (raw.includes('Accepted on')) counts.updatesShowingAccepted++;
      return json(200, { id: parts[4] });
    }
    if (req.method === 'POST') {
      counts.sends++;
      if (raw.includes(' accepted ')) counts.sendsShowingAccepted++;
      return json(200, { id: `act-${++n}` });
    }
    counts.other++;
    json(200, {});
  });
});

server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => {
  const url = `http://127.0.0.1:${server.address().port}/`;
  serveIpc({ stats: async () => ({ ...counts, byConversation: Object.fromEntries(byConversation) }) }, async () => {
    server.closeAllConnections?.();
    server.close();
  });
  process.send({ type: 'ready', url });
});
