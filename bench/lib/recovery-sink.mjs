// The Bot Connector of `npm run bench:recovery`, in a process of its own: it answers every activity the bot sends
// (POST /v3/conversations/{id}/activities) with 200 and an id, and records each request with its arrival time (wall
// clock: performance.timeOrigin + performance.now(), taken when its headers arrived), conversation, tenant (the
// activity's conversation.tenantId) and the offer ids its card names. It also kills the bot: armed with a pid and a
// count, it sends SIGKILL the moment that many requests have arrived, so the kill lands mid-delivery exactly where the
// bench wants it, without a round trip to the orchestrator.
//
// IPC (besides cpu and exit): arm { pid, after } (forgets earlier records; kills pid once `after` requests arrived);
// watch { pid } (forgets nothing; stops killing); progress; records.
import { createServer } from 'node:http';
import { serveIpc } from '../child-ipc.mjs';

const OFFER_ID = /\b[TP]-[2-9A-HJ-NP-Z]{6}\b/g;
const wall = () => performance.timeOrigin + performance.now();

let records = [];
let kill;
let killedAt;
let n = 0;

const server = createServer((req, res) => {
  const at = wall();
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
    const isActivity = parts[0] === 'v3' && parts[1] === 'conversations' && parts[3] === 'activities' && req.method === 'POST';
    let tenant;
    try {
      tenant = JSON.parse(raw)?.conversation?.tenantId;
    } catch {
      // recorded without a tenant
    }
    records.push({
      at,
      method: req.method,
      conversation: parts[2],
      tenant,
      offerIds: [...new Set(raw.match(OFFER_ID) ?? [])],
      activity: isActivity,
    });
    if (kill && records.length >= kill.after) {
      try {
        process.kill(kill.pid, 'SIGKILL');
        killedAt = wall();
      } catch {
        // already gone
      }
      kill = undefined;
    }
    if (!isActivity) return json(404, { error: { code: 'NotFound', message: 'the bench sink only takes new activities' } });
    json(200, { id: `act-${++n}` });
  });
});

server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => {
  const url = `http://127.0.0.1:${server.address().port}/`;
  serveIpc(
    {
      arm: async (msg) => {
        records = [];
        killedAt = undefined;
        kill = { pid: msg.pid, after: msg.after };
        return true;
      },
      progress: async () => ({ arrivals: records.length, killedAt, lastAt: records.at(-1)?.at }),
      records: async () => ({ records, killedAt }),
    },
    async () => {
      server.closeAllConnections?.();
      server.close();
    },
  );
  process.send({ type: 'ready', url, pid: process.pid });
});
