// The Bot Connector of `npm run bench:notify`, in a process of its own so the bot's work cannot delay its clock.
// It answers sends (POST /v3/conversations/{id}/activities) and updates (PUT .../activities/{activityId}) like
// Teams: 200 with an activity id, or the fault the plan (./notify-faults.mjs) gives that attempt of that entry:
// 429 with Retry-After, or 503, each with Teams' error body. The entry is recognised by the offer id its card
// carries (the orchestrator tells the sink which logical key each offer id has), the attempt by counting that entry's
// requests so far (an entry's attempts never overlap: the deliverer sends one at a time per conversation).
//
// Every request is recorded with its arrival time (performance.now() of this process, taken when its headers
// arrived), conversation, tenant (the activity's conversation.tenantId), entry, attempt and answer.
//
// IPC (besides cpu and exit): plan { seed, keys: { offerId: key } } starts a phase (forgets earlier records and
// attempt counts); progress returns counts so far; records returns every record of the phase.
import { createServer } from 'node:http';
import { serveIpc } from '../child-ipc.mjs';
import { outcomeOf, RETRY_AFTER_S } from './notify-faults.mjs';

let seed = 0;
let keys = new Map();
let attempts = new Map();
let records = [];
let delivered = new Set();
let okAnswers = 0;
let lastAt = 0;
let n = 0;

const OFFER_ID = /"offerId":"([A-Z]-[0-9A-Z]+)"/;

const server = createServer((req, res) => {
  const at = performance.now();
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const raw = Buffer.concat(chunks).toString();
    const parts = (req.url ?? '/').split('?')[0].split('/').filter(Boolean).map(decodeURIComponent);
    const json = (status, payload, headers = {}) => {
      const body = JSON.stringify(payload);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
      res.end(body);
    };
    const isActivity =
      parts[0] === 'v3' && parts[1] === 'conversations' && parts[3] === 'activities' && (req.method === 'POST' || req.method === 'PUT');
    if (!isActivity) {
      records.push({ at, method: req.method, path: parts.join('/'), other: true, status: 404 });
      return json(404, { error: { code: 'NotFound', message: 'the bench sink only takes activities' } });
    }
    let tenant;
    try {
      tenant = JSON.parse(raw)?.conversation?.tenantId;
    } catch {
      // recorded without a tenant
    }
    const offerId = OFFER_ID.exec(raw)?.[1];
    const key = offerId ? keys.get(offerId) : undefined;
    const attempt = key === undefined ? 0 : (attempts.get(key) ?? 0);
    if (key !== undefined) attempts.set(key, attempt + 1);
    const outcome = key === undefined ? 'ok' : outcomeOf(seed, key, attempt);
    const record = { at, method: req.method, conversation: parts[2], tenant, offerId, key, attempt, outcome, status: 0 };
    records.push(record);
    lastAt = at;
    if (outcome === '429') {
      record.status = 429;
      return json(
        429,
        { error: { code: 'Throttled', message: 'injected 429: too many requests' } },
        { 'retry-after': String(RETRY_AFTER_S) },
      );
    }
    if (outcome === '503') {
      record.status = 503;
      return json(503, { error: { code: 'ServiceUnavailable', message: 'injected 503' } });
    }
    record.status = 200;
    okAnswers++;
    if (key !== undefined) delivered.add(key);
    json(200, { id: req.method === 'PUT' ? parts[4] : `act-${++n}` });
  });
});

server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => {
  const url = `http://127.0.0.1:${server.address().port}/`;
  serveIpc(
    {
      plan: async (msg) => {
        seed = msg.seed;
        keys = new Map(Object.entries(msg.keys));
        attempts = new Map();
        records = [];
        delivered = new Set();
        okAnswers = 0;
        lastAt = 0;
        return true;
      },
      progress: async () => ({ arrivals: records.length, delivered: delivered.size, okAnswers, lastAt, now: performance.now() }),
      records: async () => ({ records, timeOrigin: performance.timeOrigin }),
    },
    async () => {
      server.closeAllConnections?.();
      server.close();
    },
  );
  process.send({ type: 'ready', url, pid: process.pid });
});
