// A local Bot Connector for the card-action bench: the serviceUrl the real bot's deliverer writes to.
// Runs in its own child process so its work does not delay the load generator's clock.
// Answers like test/support/connector-sink.ts: POST/PUT /v3/conversations/... with {id}, GET .../members/{id} with a member.
//
// It counts what each offer got, so the bench can check that every Accept's card update and partner notice arrived
// exactly once: a card update is a PUT of activity `card-<offerId>`; a partner notice is a POST into a partner user's
// chat (BENCH_PARTNER_CHATS), which names the offer, or (a digest of answers coalesced while Teams' limits held the
// first back) several offers. It records every activity's arrival time per conversation and per tenant (the
// activity's conversation.tenantId), so the bench can check Teams' limits (TEAMS_RATE_LIMITS) were never exceeded.
import { createServer } from 'node:http';
import { serveIpc } from './child-ipc.mjs';

const partnerChats = new Set(JSON.parse(process.env.BENCH_PARTNER_CHATS ?? '[]'));
/** Offer ids as the bot makes them (src/ids.ts): a letter, a dash, six characters without look-alikes. */
const OFFER_IDS = /\b[TP]-[2-9A-HJKMNP-Z]{6}\b/g;

const counts = { sends: 0, updates: 0, creates: 0, members: 0, other: 0, updatesShowingAccepted: 0, notices: 0, digests: 0, otherSends: 0 };
/** Per offer id: card updates received, and partner messages naming it. */
const updated = new Map();
const noticed = new Map();
/** Arrival times (ms, epoch with sub-ms precision) of every activity, per conversation and per tenant. */
const byConversation = new Map();
const byTenant = new Map();
/** When the latest card update or partner notice arrived (ms since the epoch). */
let lastDeliveryAt = 0;
let n = 0;

const nowMs = () => performance.timeOrigin + performance.now();
const bump = (map, key) => map.set(key, (map.get(key) ?? 0) + 1);
const push = (map, key, at) => {
  const list = map.get(key);
  if (list) list.push(at);
  else map.set(key, [at]);
};

const server = createServer((req, res) => {
  const at = nowMs();
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
    // /v3/conversations/{id}/members/{memberId}: nobody is looked up (every chat is stored with its email).
    if (req.method === 'GET' && parts[3] === 'members' && parts[4]) {
      counts.members++;
      return json(404, { error: { code: 'MemberNotFoundInConversation', message: 'not found' } });
    }
    // POST /v3/conversations: open a 1:1 chat.
    if (req.method === 'POST' && parts.length === 2) {
      counts.creates++;
      n++;
      return json(201, { id: `created-${n}`, activityId: `act-${n}` });
    }
    const conversationId = parts[2] ?? '';
    let tenant;
    try {
      tenant = JSON.parse(raw)?.conversation?.tenantId;
    } catch {
      // counted without a tenant
    }
    push(byConversation, conversationId, at);
    if (tenant) push(byTenant, tenant, at);
    if (req.method === 'PUT') {
      counts.updates++;
      const activityId = parts[4] ?? '';
      if (activityId.startsWith('card-')) bump(updated, activityId.slice('card-'.length));
      if (raw.includes('Accepted on')) counts.updatesShowingAccepted++;
      lastDeliveryAt = at;
      return json(200, { id: activityId });
    }
    if (req.method === 'POST') {
      counts.sends++;
      if (partnerChats.has(conversationId)) {
        const offers = new Set(raw.match(OFFER_IDS) ?? []);
        counts.notices++;
        if (offers.size > 1) counts.digests++;
        for (const id of offers) bump(noticed, id);
        lastDeliveryAt = at;
      } else counts.otherSends++;
      return json(200, { id: `act-${++n}` });
    }
    counts.other++;
    json(200, {});
  });
});

/** The most sends in any window of `windowMs` over the run, per key, where it exceeds `limit`. */
function overLimits(times, windows) {
  const over = [];
  for (const [key, list] of times) {
    const sorted = Float64Array.from(list).sort();
    for (const { limit, windowMs } of windows) {
      if (sorted.length <= limit) continue;
      let worst = 0;
      for (let i = 0, j = 0; j < sorted.length; j++) {
        while (sorted[j] - sorted[i] >= windowMs) i++;
        worst = Math.max(worst, j - i + 1);
      }
      if (worst > limit) over.push({ key, limit, windowMs, worst });
    }
  }
  return over;
}

/** For the offers given: how many got exactly one card update / notice, none, or more than one. */
function tally(map, ids) {
  const t = { once: 0, missing: 0, more: 0, examples: [] };
  for (const id of ids) {
    const c = map.get(id) ?? 0;
    if (c === 1) t.once++;
    else if (c === 0) t.missing++;
    else t.more++;
    if (c !== 1 && t.examples.length < 3) t.examples.push(`${id}: ${c}`);
  }
  return t;
}

server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => {
  const url = `http://127.0.0.1:${server.address().port}/`;
  serveIpc(
    {
      stats: async () => ({ ...counts, updatedOffers: updated.size, noticedOffers: noticed.size, lastDeliveryAt }),
      /** Whether every offer in `ids` got one card update and one partner notice, and how busy the busiest chats were. */
      check: async ({ ids, limits }) => {
        const known = new Set(ids);
        return {
          updates: tally(updated, ids),
          notices: tally(noticed, ids),
          unexpectedUpdates: [...updated.keys()].filter((id) => !known.has(id)).length,
          unexpectedNotices: [...noticed.keys()].filter((id) => !known.has(id)).length,
          overConversation: overLimits(byConversation, limits.conversation),
          overTenant: overLimits(byTenant, limits.tenant),
          conversations: byConversation.size,
          tenants: byTenant.size,
          busiestConversation: Math.max(0, ...[...byConversation.values()].map((l) => l.length)),
        };
      },
    },
    async () => {
      server.closeAllConnections?.();
      server.close();
    },
  );
  process.send({ type: 'ready', url });
});
