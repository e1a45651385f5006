// The real bot for the bench, composed as src/index.ts composes it (config, SQLite store under DATA_DIR, partners,
// createApp, deliverer started, restify listening), from the compiled dist/ code. Started by bench/card-action.mjs,
// twice on the same DATA_DIR:
//
// 1. BENCH_SEED=<n>: seeds the store through the store API with n distinct offers in state 'sent', at production
//    shape: addressed to BENCH_APPROVERS approvers in BENCH_TENANTS customer tenants (offer i to approver i mod
//    approvers), issued by BENCH_STAFF partner users spread over the partners of env/partners.sample.json (an issuer
//    belongs to the offer's partner). Every approver and partner user has installed the app: their personal chats are
//    stored with their email, so conversation capture needs no roster lookup and the partner notice goes to the
//    issuer's chat. Each offer's card is known (as after delivery), so an Accept queues a card update in the
//    approver's chat plus the partner's notice. Reports the offer ids with their approver and exits. Seeding runs in
//    its own process so its garbage and SQLite pages are not in the server's RSS.
// 2. Without BENCH_SEED: opens that store and serves, like `npm start`.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { serveIpc } from './child-ipc.mjs';
import { approvers, partnerStaff, BOT } from './users.mjs';

const require = createRequire(import.meta.url);
const { TurnContext } = require('botbuilder');
const { systemClock } = require('../dist/src/clock.js');
const { loadConfig } = require('../dist/src/config.js');
const { createApp } = require('../dist/src/app.js');
const { loadCatalog } = require('../dist/src/directory/catalog.js');
const { readPartnersFile } = require('../dist/src/directory/partners.js');
const { createLogger } = require('../dist/src/log.js');
const { openStore } = require('../dist/src/store/open.js');
const { newShortId } = require('../dist/src/ids.js');
const { trialLines, purchaseLines, pendingKey, newOffer } = require('../dist/src/offers/rules.js');

const sinkUrl = process.env.BENCH_SINK_URL;
const dataDir = process.env.BENCH_DATA_DIR;
const count = Number(process.env.BENCH_SEED ?? 0);
const shape = {
  approvers: Number(process.env.BENCH_APPROVERS ?? 2_000),
  tenants: Number(process.env.BENCH_TENANTS ?? 200),
  staff: Number(process.env.BENCH_STAFF ?? 20),
};
if (!sinkUrl || !dataDir) throw new Error('BENCH_SINK_URL and BENCH_DATA_DIR are required (run bench/card-action.mjs)');

// As src/index.ts: loadConfig, then everything from config. Only these keys are set, so nothing from the shell leaks in.
const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent', HOST: '127.0.0.1', PORT: '0' });
const log = createLogger(config.logLevel);
const catalog = loadCatalog(config.catalogFile);
const partners = readPartnersFile(config.partnersFile, catalog);
const store = await openStore(config, log);
for (const { listing: _listing, ...partner } of partners) await store.partners.upsert(partner);

if (count) {
  const seeded = await seed(count);
  await store.close();
  process.send({ type: 'ready', ...seeded, dbFile: join(config.dataDir, 'partner-offers.sqlite') }, () => process.exit(0));
} else {
  await serve();
}

// --- seed ------------------------------------------------------------------------------------------------------
async function seed(count) {
  const seedStarted = performance.now();
  const now = systemClock();
  const staff = partnerStaff(
    partners.map((p) => p.tenantId),
    shape.staff,
  );
  const buyers = approvers(shape.approvers, shape.tenants);

  /** A personal chat as conversation capture stores it after the user's first message (roster lookup done). */
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
      updatedAt: now.toISOString(),
    });
  }
  for (const u of [...staff, ...buyers]) await personalChat(u);

  const person = (u) => ({
    aadObjectId: u.aadObjectId,
    userId: u.id,
    name: u.name,
    tenantId: u.tenantId,
    email: u.email,
    serviceUrl: sinkUrl,
  });

  // Per partner: the services an offer may carry, and every distinct trial set (mixed in while they last).
  const forPartner = new Map(
    partners.map((partner) => {
      const bigServices = catalog.services
        .filter((s) => s.maxQuantity >= 10_000 && partner.authorizedServices.includes(s.id))
        .map((s) => s.id);
      const trialServices = partner.authorizedServices;
      const trialSets = [];
      for (let a = 0; a < trialServices.length; a++) {
        trialSets.push([trialServices[a]]);
        for (let b = a + 1; b < trialServices.length; b++) trialSets.push([trialServices[a], trialServices[b]]);
      }
      return [partner.tenantId, { partner, bigServices, trialSets, nextTrial: 0 }];
    }),
  );

  // Realistic offers: mostly purchase offers of two lines (quantities vary, so each has its own duplicate key), with
  // trial invitations mixed in. Offer i goes to approver i mod approvers from staff member i mod staff, so consecutive
  // Accepts land in different customers' chats and tell different partner users.
  const offers = [];
  const ids = new Set();
  const keys = new Set();
  for (let i = 0; offers.length < count; i++) {
    const n = offers.length;
    const buyer = buyers[n % buyers.length];
    const issuerUser = staff[n % staff.length];
    const p = forPartner.get(issuerUser.tenantId);
    const { partner, bigServices } = p;
    const trial = i % 10 === 0 && p.nextTrial < p.trialSets.length;
    const lines = trial
      ? trialLines({ kind: 'trial', approverEmail: buyer.email, services: p.trialSets[p.nextTrial++] }, catalog, partner, '')
      : purchaseLines(
          {
            kind: 'purchase',
            approverEmail: buyer.email,
            lines: [
              { quantity: 1 + (i % 9_000), service: bigServices[0] },
              { quantity: 1 + Math.floor(i / 9_000), service: bigServices[1 + (i % (bigServices.length - 1))] },
            ],
            billing: i % 3 === 0 ? 'annual' : 'monthly',
            term: 'P1Y',
          },
          catalog,
          partner,
          '',
        );
    const draft = {
      kind: trial ? 'trial' : 'purchase',
      partnerTenantId: partner.tenantId,
      approverEmail: buyer.email,
      lines,
      ...(trial ? {} : { billing: i % 3 === 0 ? 'annual' : 'monthly', term: 'P1Y' }),
    };
    const key = pendingKey(draft);
    if (keys.has(key)) continue;
    let id;
    do id = newShortId(trial ? 'T' : 'P');
    while (ids.has(id));
    const offer = {
      ...newOffer(draft, {
        id,
        partnerName: partner.name,
        issuedBy: person(issuerUser),
        approver: person(buyer),
        currency: catalog.currency,
        now,
      }),
      // Where the delivered card landed (the deliverer's setCard after sending it).
      card: { conversationId: buyer.conversationId, activityId: `card-${id}` },
    };
    const result = await store.offers.create(offer, []);
    if (!result.created) throw new Error(`seeding: offer ${id} collided with ${result.offer.id}`);
    ids.add(id);
    keys.add(key);
    offers.push([id, n % buyers.length, n % staff.length]);
  }
  return { offers, shape, seedMs: Math.round(performance.now() - seedStarted) };
}

// --- serve, as src/index.ts does ---------------------------------------------------------------------------------
async function serve() {
  const app = createApp({ config, store, catalog, clock: systemClock, log });
  app.start();
  await new Promise((resolve) => app.server.listen(config.port, config.host, resolve));
  const port = app.server.address().port;
  console.log(`bot-server: real bot listening on http://${config.host}:${port}/api/messages (store ${store.kind} in ${config.dataDir})`);

  serveIpc({}, async () => {
    await app.close();
    await store.close();
  });
  process.send({ type: 'ready', port });
}
