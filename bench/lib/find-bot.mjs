// The real bot of `npm run bench:find`, composed from the compiled dist/ code as src/index.ts composes it: loadConfig,
// the SQLite store under DATA_DIR, the partners file (env/partners.sample.json), createApp, seedPartners with
// app.marketplace.seed, app.start() (the deliverer runs, as in production), restify listening. Started twice on the
// same DATA_DIR by bench/find.mjs:
//
// 1. BENCH_SEED_LISTINGS=<n>: registers n generated partners, each in a tenant of its own with a published listing,
//    through the production path for a partners file (seedPartners: partners.upsert, then marketplace.seed, which
//    validates the listing like the edit card does and saves it, the triggers filling the full-text index), plus the
//    customers' personal chats as conversation capture stores them after a first message (email known, so no roster
//    lookup). Reports and exits: seeding runs in its own process so its garbage and SQLite pages are not in the
//    server's memory.
// 2. Without it: opens that store and serves, like `npm start`. Logs at info level, as in production, to stdout
//    (the orchestrator sends it to a file and counts what was logged during the runs).
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveIpc } from '../child-ipc.mjs';
import { BOT } from '../users.mjs';
import { buildCorpus } from './find-corpus.mjs';

const require = createRequire(import.meta.url);
// BENCH_DIST: another build (a patched copy of dist/, for experiments; see bench/find.mjs).
const dist = resolve(process.env.BENCH_DIST ?? join(dirname(fileURLToPath(import.meta.url)), '../../dist'));
const { TurnContext } = require('botbuilder');
const { systemClock } = require(join(dist, 'src/clock.js'));
const { loadConfig } = require(join(dist, 'src/config.js'));
const { createApp } = require(join(dist, 'src/app.js'));
const { loadCatalog } = require(join(dist, 'src/directory/catalog.js'));
const { readPartnersFile } = require(join(dist, 'src/directory/partners.js'));
const { seedPartners } = require(join(dist, 'src/directory/seed.js'));
const { createLogger } = require(join(dist, 'src/log.js'));
const { openStore } = require(join(dist, 'src/store/open.js'));

const dataDir = process.env.BENCH_DATA_DIR;
const sinkUrl = process.env.BENCH_SINK_URL;
const count = Number(process.env.BENCH_SEED_LISTINGS ?? 0);
if (!dataDir || !sinkUrl) throw new Error('BENCH_DATA_DIR and BENCH_SINK_URL are required (run bench/find.mjs)');

// Only these keys, so nothing from the shell leaks in.
const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: count ? 'warn' : 'info', HOST: '127.0.0.1', PORT: '0' });
const log = createLogger(config.logLevel);
const catalog = loadCatalog(config.catalogFile);
const partners = readPartnersFile(config.partnersFile, catalog);
const store = await openStore(config, log);
const app = createApp({ config, store, catalog, clock: systemClock, log });
await seedPartners(store, partners, app.marketplace.seed);

if (count) {
  const seeded = await seed();
  await store.close();
  process.send({ type: 'ready', ...seeded, dbFile: join(config.dataDir, 'partner-offers.sqlite') }, () => process.exit(0));
} else {
  app.start();
  await new Promise((resolve) => app.server.listen(config.port, config.host, resolve));
  const port = app.server.address().port;
  serveIpc({}, async () => {
    await app.close();
    await store.close();
  });
  process.send({ type: 'ready', port, pid: process.pid });
}

async function seed() {
  const t0 = performance.now();
  const entries = buildCorpus({ count, seed: Number(process.env.BENCH_CORPUS_SEED), serviceIds: catalog.services.map((s) => s.id) });
  const built = performance.now();
  // As the partners file is registered at startup: upsert each partner, then create its listing if it has none.
  await seedPartners(
    store,
    entries.map(({ brand: _b, brandWhere: _w, ...entry }) => entry),
    app.marketplace.seed,
  );
  const listed = performance.now();

  const now = systemClock().toISOString();
  for (const user of JSON.parse(process.env.BENCH_CUSTOMERS ?? '[]')) {
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
      updatedAt: now,
    });
  }
  return { buildMs: Math.round(built - t0), seedMs: Math.round(listed - built) };
}
