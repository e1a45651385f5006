// bench:scale's server: the real bot from dist/, composed as src/index.ts composes it (config, SQLite store under
// BENCH_DATA_DIR, partners file upserted, createApp, restify listening), with two differences the measures need: the
// sweep runs when the orchestrator asks (`sweep`, timed here in CPU and wall time) instead of on its timer, and the
// deliverer is off (delivery is bench:notify's; here every Accept's notifications stay pending in both stores alike).
// The app's clock is the system clock plus an offset the orchestrator moves (`advance`) to make reminders and
// retention due.
//
// At start it adds what the measured operations need, in whatever store it finds (empty or seeded): Alex's and
// Megan's personal chats and BENCH_OFFERS offers from Alex (Fabrikam) to Megan, sent and with their cards delivered.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { serveIpc } from '../child-ipc.mjs';
import { alex, megan, BOT } from '../users.mjs';

const require = createRequire(import.meta.url);
const dist = join(import.meta.dirname, '../../dist/src');
const { TurnContext } = require('botbuilder');
const { loadConfig } = require(join(dist, 'config.js'));
const { createApp } = require(join(dist, 'app.js'));
const { loadCatalog } = require(join(dist, 'directory/catalog.js'));
const { readPartnersFile } = require(join(dist, 'directory/partners.js'));
const { createLogger } = require(join(dist, 'log.js'));
const { openStore } = require(join(dist, 'store/open.js'));
const { newShortId } = require(join(dist, 'ids.js'));
const { purchaseLines, newOffer } = require(join(dist, 'offers/rules.js'));
const { verifyChain } = require(join(dist, 'store/chain.js'));
const { RETENTION_BATCH, RETENTION_BATCHES_PER_SWEEP } = require(join(dist, 'notifications/retention.js'));

/**
 * How long the event loop was blocked while retention ran (a request arriving then waits that long): the wall time of
 * a batch also counts the checkpoint it waits for in the checkpointer's thread, during which requests are served.
 */
function loopBlocked() {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  return {
    stop() {
      h.disable();
      return { p99Ms: h.percentile(99) / 1e6, maxMs: h.max / 1e6 };
    },
  };
}

const dataDir = process.env.BENCH_DATA_DIR;
const sinkUrl = process.env.BENCH_SINK_URL;
const offerCount = Number(process.env.BENCH_OFFERS ?? 0);
if (!dataDir || !sinkUrl) throw new Error('BENCH_DATA_DIR and BENCH_SINK_URL are required (run bench/scale.mjs)');

let offsetMs = 0;
const clock = () => new Date(Date.now() + offsetMs);
const config = loadConfig({
  DATA_DIR: dataDir,
  LOG_LEVEL: 'silent',
  HOST: '127.0.0.1',
  PORT: '0',
  AAD_APP_CLIENT_ID: process.env.AAD_APP_CLIENT_ID,
  AAD_APP_ID_URI: process.env.AAD_APP_ID_URI,
  AAD_JWKS_URI: process.env.AAD_JWKS_URI,
});
const log = createLogger(config.logLevel);
const catalog = loadCatalog(config.catalogFile);
const partners = readPartnersFile(config.partnersFile, catalog);
const store = await openStore(config, log);
for (const { listing: _listing, ...partner } of partners) await store.partners.upsert(partner);
const dbFile = join(config.dataDir, 'partner-offers.sqlite');

// --- what the measured operations need ---
const person = (u) => ({
  aadObjectId: u.aadObjectId,
  userId: u.id,
  name: u.name,
  tenantId: u.tenantId,
  email: u.email,
  serviceUrl: sinkUrl,
});
async function personalChat(user) {
  const activity = {
    type: 'message',
    id: `seed-${user.id}`,
    channelId: 'msteams',
    serviceUrl: sinkUrl,
    from: { id: user.id, name: user.name, aadObjectId: user.aadObjectId },
    recipient: BOT,
    conversation: { id: user.conversationId, conversationType: 'personal', tenantId: user.tenantId },
    channelData: { tenant: { id: user.tenantId } },
  };
  await store.conversations.upsert({
    id: user.conversationId,
    tenantId: user.tenantId,
    kind: 'personal',
    user: { aadObjectId: user.aadObjectId, userId: user.id, name: user.name, email: user.email, upn: user.email },
    reference: TurnContext.getConversationReference(activity),
    active: true,
    updatedAt: clock().toISOString(),
  });
}
await personalChat(alex);
await personalChat(megan);
const partner = partners.find((p) => p.tenantId === alex.tenantId);
const services = catalog.services.filter((s) => s.maxQuantity >= 10_000 && partner.authorizedServices.includes(s.id)).map((s) => s.id);
const offerIds = [];
for (let i = 0; offerIds.length < offerCount; i++) {
  const billing = i % 3 === 0 ? 'annual' : 'monthly';
  const draft = {
    kind: 'purchase',
    partnerTenantId: partner.tenantId,
    approverEmail: megan.email,
    lines: purchaseLines(
      { lines: [{ quantity: 1 + i, service: services[i % services.length] }], term: 'P1Y', billing },
      catalog,
      partner,
      '',
    ),
    term: 'P1Y',
    billing,
  };
  // Six characters of 31: among the large store's 200,000 offers a fresh id is taken about once in 7,000 draws, as
  // the offer service's withFreshIds knows (a run of 1,050 hit one).
  let id;
  do id = newShortId('P');
  while (await store.offers.get(id));
  const offer = {
    ...newOffer(draft, {
      id,
      partnerName: partner.name,
      issuedBy: person(alex),
      approver: person(megan),
      currency: catalog.currency,
      now: clock(),
    }),
    card: { conversationId: megan.conversationId, activityId: `card-${id}` },
  };
  if ((await store.offers.create(offer, [])).created) offerIds.push(id);
}

// --- serve ---
const app = createApp({ config, store, catalog, clock, log, delivery: { enabled: false }, sweeper: { enabled: false } });
await new Promise((resolve) => app.server.listen(config.port, config.host, resolve));
const port = app.server.address().port;

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
/** A read-only look at the file (sizes, free pages) beside the store's own connection. */
function fileStats() {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    const pageSize = db.pragma('page_size', { simple: true });
    return {
      pageSize,
      pages: db.pragma('page_count', { simple: true }),
      freePages: db.pragma('freelist_count', { simple: true }),
      outboxSent: db.prepare(`SELECT count(*) FROM outbox WHERE state = 'sent'`).pluck().get(),
      outboxPending: db.prepare(`SELECT count(*) FROM outbox WHERE state = 'pending'`).pluck().get(),
    };
  } finally {
    db.close();
  }
}

serveIpc(
  {
    advance: async ({ ms }) => {
      offsetMs += ms;
      return clock().toISOString();
    },
    /** One sweep as the timer runs it, with its CPU (this process, all threads) and wall time. */
    sweep: async () => {
      const c0 = cpuMs();
      const t0 = performance.now();
      const handled = await app.sweep();
      return { handled, wallMs: performance.now() - t0, cpuMs: cpuMs() - c0 };
    },
    /** The sweep's retention step alone, as the sweep runs it (bounded: RETENTION_BATCHES_PER_SWEEP batches). */
    pruneStep: async () => {
      const loop = loopBlocked();
      const t0 = performance.now();
      const r = await app.pruneOutbox();
      const wallMs = performance.now() - t0;
      return { ...r, wallMs, loop: loop.stop(), batchSize: RETENTION_BATCH, maxBatches: RETENTION_BATCHES_PER_SWEEP };
    },
    /**
     * Works off every sent entry past retention in the sweep's batches (the store call the sweep makes), timing each
     * batch, with a turn of the event loop between batches as the sweep leaves.
     */
    pruneAll: async () => {
      const before = new Date(clock().getTime() - config.outboxRetentionDays * 86_400_000).toISOString();
      const batches = [];
      let deleted = 0;
      const loop = loopBlocked();
      for (;;) {
        const c0 = cpuMs();
        const t0 = performance.now();
        const n = await store.outbox.pruneSent(before, RETENTION_BATCH);
        batches.push({ wallMs: performance.now() - t0, cpuMs: cpuMs() - c0 });
        deleted += n;
        if (n < RETENTION_BATCH) break;
        await new Promise((resolve) => setImmediate(resolve));
      }
      return { deleted, batches, loop: loop.stop() };
    },
    fileStats: async () => fileStats(),
    /** Every Accept recorded once, as accepted, and Megan's tenant's chain verifying; the partner's newest offers. */
    check: async ({ accepted }) => {
      const problems = [];
      for (const id of accepted) {
        const records = await store.responses.forSubject(id);
        const offer = await store.offers.get(id);
        if (records.length !== 1 || records[0].decision !== 'accepted' || offer?.state !== 'accepted')
          problems.push(`${id}: ${records.length} records, offer ${offer?.state}`);
      }
      const chain = await store.responses.chain(megan.tenantId);
      return { problems, chainLength: chain.length, chainVerifies: verifyChain(chain) };
    },
    /** What `status` and `status <customer>` should list: the partner's newest 20 offers, all and Megan's. */
    expectedLists: async () => ({
      all: (await app.offers.list(partner)).map((o) => o.id),
      megan: (await app.offers.list(partner, megan.email)).map((o) => o.id),
    }),
    stats: async () => store.outbox.stats(),
  },
  async () => {
    await app.close();
    await store.close();
  },
);
process.send({ type: 'ready', port, offerIds, dbFile });
