// The real bot for `npm run bench:notify`, composed as src/index.ts composes it (config, SQLite store under DATA_DIR,
// partners, createApp, app.start()), from the compiled dist/ code; started by bench/notify.mjs. Its deliverer is the
// one createApp builds and starts (createDeliverer with createBotSender, the offer message builders, the instance
// share from config), running all along as in production: a run's backlog is queued at once and the deliverer kicked.
//
// IPC requests (besides memory, cpu and exit from ../child-ipc.mjs):
//   seed { run, tenants, conversations, perConversation, orderSeed, sinkUrl, offerIds }
//       stores `tenants x conversations` customer approvers, each with the personal chat conversation capture stores
//       after their first message; then issues `perConversation` offers to each through the offer service (the
//       production path: offers.issue finds the approver by email and queues the offer card for their chat in the
//       offer's own transaction), in a seeded shuffled order across conversations, as customers' offers would
//       arrive; then kicks the deliverer, as a turn that queued something does. Issuing runs in one macrotask (the
//       SQLite store is synchronous), so no poll or claim can start before the whole backlog is queued; the reply says
//       whether any entry was leased before the kick. The offer ids are the ones the orchestrator chose (`offerIds`,
//       by logical key; valid ids of the usual shape), so the sink knows every entry before its first request: the id
//       generator the offer service calls is swapped for one that hands out the chosen id while seeding.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveIpc } from '../child-ipc.mjs';
import { alex, BOT } from '../users.mjs';
import { logicalKey } from './notify-faults.mjs';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
const dist = resolve(process.env.BENCH_DIST ?? join(here, '../../dist'));
const { TurnContext } = require('botbuilder');
const { systemClock } = require(join(dist, 'src/clock.js'));
const { loadConfig } = require(join(dist, 'src/config.js'));
const { createApp } = require(join(dist, 'src/app.js'));
const { loadCatalog } = require(join(dist, 'src/directory/catalog.js'));
const { readPartnersFile } = require(join(dist, 'src/directory/partners.js'));
const { createLogger } = require(join(dist, 'src/log.js'));
const { openStore } = require(join(dist, 'src/store/open.js'));
const ids = require(join(dist, 'src/ids.js'));

// While seeding, offers get the ids the orchestrator chose (see above); otherwise ids are generated as usual.
const generateId = ids.newShortId;
let chosenId;
ids.newShortId = (prefix) => chosenId ?? generateId(prefix);

const dataDir = process.env.BENCH_DATA_DIR;
if (!dataDir) throw new Error('BENCH_DATA_DIR is required (run bench/notify.mjs)');

// As src/index.ts: loadConfig, then everything from config. Info-level logs, as in production (one line per entry
// delivered or retried); the orchestrator sends this process's stdout to a file and reads the retry waits from it.
const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'info', HOST: '127.0.0.1', PORT: '0' });
const log = createLogger(config.logLevel);
const catalog = loadCatalog(config.catalogFile);
const partners = readPartnersFile(config.partnersFile, catalog);
const store = await openStore(config, log);
for (const partner of partners) await store.partners.upsert(partner);
const partner = partners.find((p) => p.tenantId === alex.tenantId);
if (!partner) throw new Error(`env/partners.sample.json has no partner in tenant ${alex.tenantId}`);

// BENCH_POLL_MS is for experiments only (the production poll is createApp's default); notify.mjs does not write
// RESULTS.md when it is set.
const pollMs = process.env.BENCH_POLL_MS ? Number(process.env.BENCH_POLL_MS) : undefined;
const app = createApp({ config, store, catalog, clock: systemClock, log, delivery: pollMs ? { pollMs } : undefined });
app.start();

/** Machine-wide busy CPU ms from /proc/stat (Linux), so the orchestrator can tell other load from ours. */
function machineBusyMs() {
  try {
    const [, ...f] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = f;
    return ((user + nice + system + irq + softirq + steal) * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return NaN;
  }
}

/** A small seeded PRNG (mulberry32), for the order offers are issued in. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const hex = (n, width) => n.toString(16).padStart(width, '0');

async function seed({ run, tenants, conversations, perConversation, orderSeed, sinkUrl, offerIds }) {
  const t0 = performance.now();
  const now = systemClock().toISOString();
  const runNo = Number(String(run).replace(/\D/g, '') || 0);
  const runTag = `${String(run).replace(/\W/g, '')}`;
  const convs = [];
  for (let t = 0; t < tenants; t++) {
    const tenantId = `7a1c5e2b-${hex(runNo, 4)}-4000-8000-${hex(t + 1, 12)}`;
    for (let c = 0; c < conversations; c++) {
      const user = {
        aadObjectId: `c0000000-${hex(runNo, 4)}-4000-8${hex(t, 3)}-${hex(c + 1, 12)}`,
        id: `29:bench-${runTag}-t${t}-c${c}`,
        name: `Approver ${c + 1} of customer ${t + 1}`,
        email: `approver${c + 1}@customer${t + 1}-${runTag}.example.com`,
      };
      const conversationId = `a:bench-${runTag}-t${t}-c${c}`;
      // The personal chat as conversation capture stores it after the user's first message (roster lookup done).
      const activity = {
        type: 'message',
        id: `seed-${user.id}`,
        channelId: 'msteams',
        serviceUrl: sinkUrl,
        from: { id: user.id, name: user.name, aadObjectId: user.aadObjectId },
        recipient: BOT,
        conversation: { id: conversationId, conversationType: 'personal', tenantId },
        channelData: { tenant: { id: tenantId } },
      };
      await store.conversations.upsert({
        id: conversationId,
        tenantId,
        kind: 'personal',
        user: { aadObjectId: user.aadObjectId, userId: user.id, name: user.name, email: user.email, upn: user.email },
        reference: TurnContext.getConversationReference(activity),
        active: true,
        updatedAt: now,
      });
      convs.push({ t, c, tenantId, conversationId, email: user.email, issued: 0 });
    }
  }

  // Every conversation gets `perConversation` offers; the order across conversations is a seeded shuffle.
  const slots = convs.flatMap((conv) => Array.from({ length: perConversation }, () => conv));
  const random = prng(orderSeed);
  for (let i = slots.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [slots[i], slots[j]] = [slots[j], slots[i]];
  }

  const issuer = {
    aadObjectId: alex.aadObjectId,
    userId: alex.id,
    name: alex.name,
    tenantId: alex.tenantId,
    email: alex.email,
    serviceUrl: sinkUrl,
  };
  const big = catalog.services.filter((s) => s.maxQuantity >= 1_000 && partner.authorizedServices.includes(s.id)).map((s) => s.id);
  const trialable = partner.authorizedServices;
  // From here to the kick nothing yields to the event loop: every await below settles synchronously.
  const issueStarted = performance.now();
  const entries = [];
  for (const conv of slots) {
    const n = conv.issued++;
    const key = logicalKey(conv.t, conv.c, n);
    // Mostly two-line purchase offers; every fifth a trial invitation (one service, a different one each time).
    const cmd =
      n % 5 === 0
        ? {
            kind: 'trial',
            approverEmail: conv.email,
            withAdmin: false,
            asPartnerOfRecord: false,
            services: [trialable[(n / 5 + conv.c) % trialable.length]],
          }
        : {
            kind: 'purchase',
            approverEmail: conv.email,
            withAdmin: false,
            asPartnerOfRecord: false,
            lines: [
              { quantity: 5 + n * 7, service: big[conv.t % big.length] },
              { quantity: 1 + conv.c, service: big[(conv.t + 1 + (n % (big.length - 1))) % big.length] },
            ],
            // A 1-year term is sold billed either way (a purchase offer names its term since the terms change).
            term: 'P1Y',
            billing: n % 3 === 0 ? 'annual' : 'monthly',
          };
    chosenId = offerIds[key];
    if (!chosenId) throw new Error(`seeding: no offer id for ${key}`);
    let result;
    try {
      result = await app.offers.issue(cmd, partner, issuer);
    } finally {
      chosenId = undefined;
    }
    const { offer, duplicate } = result;
    if (duplicate) throw new Error(`seeding: offer ${key} was taken for a duplicate of ${offer.id}`);
    if (offer.id !== offerIds[key]) throw new Error(`seeding: offer ${key} got id ${offer.id}, not ${offerIds[key]}`);
    if (offer.state !== 'sent') throw new Error(`seeding: offer ${offer.id} is ${offer.state}, not sent (approver not found?)`);
    entries.push({ offerId: offer.id, key, t: conv.t, c: conv.c, n, conversationId: conv.conversationId, tenantId: conv.tenantId });
  }
  const issueMs = performance.now() - issueStarted;
  let leasedBeforeKick = 0;
  let queued = 0;
  for (const e of entries) {
    for (const o of await store.outbox.forSubject(e.offerId)) {
      queued++;
      if (o.lease || o.state !== 'pending' || o.attempts) leasedBeforeKick++;
    }
  }
  globalThis.gc?.();
  const cpu = process.cpuUsage();
  const kick = {
    at: performance.timeOrigin + performance.now(),
    us: Number(process.hrtime.bigint() / 1000n),
    cpuMs: (cpu.user + cpu.system) / 1000,
    machineMs: machineBusyMs(),
    // After the collection above: the bot idle with the whole backlog queued, the larger run's RSS baseline.
    rssMb: process.memoryUsage.rss() / 2 ** 20,
  };
  app.deliverer.kick();
  return { entries, seedMs: Math.round(performance.now() - t0), issueMs: Math.round(issueMs), queued, leasedBeforeKick, kick };
}

async function states({ offerIds }) {
  const counts = { pending: 0, sent: 0, failed: 0, missing: 0, extra: 0 };
  let attempts = 0;
  const notSent = [];
  const byOffer = {};
  for (const offerId of offerIds) {
    const entries = await store.outbox.forSubject(offerId);
    if (entries.length === 0) counts.missing++;
    if (entries.length > 1) counts.extra += entries.length - 1;
    for (const e of entries) {
      counts[e.state]++;
      attempts += e.attempts;
      byOffer[offerId] = e.state;
      if (e.state !== 'sent' && notSent.length < 20)
        notSent.push({ offerId, state: e.state, attempts: e.attempts, lastError: e.lastError });
    }
  }
  return { counts, attempts, notSent, byOffer };
}

serveIpc(
  {
    seed: (msg) => seed(msg),
    states: (msg) => states(msg),
    gc: async () => {
      globalThis.gc?.();
      return true;
    },
  },
  async () => {
    await app.close();
    await store.close();
  },
);
process.send({
  type: 'ready',
  pid: process.pid,
  store: store.kind,
  instances: config.delivery.instances,
  leaseMs: config.delivery.leaseMs,
});
