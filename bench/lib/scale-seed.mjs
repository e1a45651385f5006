// bench:scale's large store, seeded in its own process (its garbage and pages stay out of the server's figures):
// 500 partners (Fabrikam of env/partners.sample.json and 499 more in the registry), 200,000 offers, 50,000
// delegated-admin and partner-of-record relationships (10,000 active, each with its first end-of-term reminder due a
// day from now), 500,000 response records and 1,000,000 sent outbox entries, spread evenly over the partners, each
// partner with 40 customers of its own.
//
// Everything but the outbox's final state is written through the store API from dist/, as the services write it:
// offers.create, offers.decide (with the fulfilment job of an accepted offer), fulfilments.update (the order placed at
// Partner Center, with its `order` and `subscriptions` records), relationships.create and .decide, each with the outbox
// entries the services pass. To be fast, thousands of calls share one transaction: the store's own transactions nest
// inside it as savepoints, which needs the store's connection (see `captureDb`).
//
// The outbox is then made what a week of delivery leaves: the entries those calls wrote, topped up to exactly
// 1,000,000 with card updates written by the adapter's own insert function (the one every decision calls), are set to
// exactly what `markSent` writes (state sent, lease cleared, one attempt counted, the sent time 2 s after the entry
// was written) in one UPDATE. Claiming and marking a million entries one by one would take the deliverer's path for an
// hour and produce the same rows. The entries are written over the last 4 days (the store's clock is moved as the
// seed goes), so with the default 7-day retention nothing is due for deletion until the bench moves the clock.
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const dist = join(import.meta.dirname, '../../dist/src');
const { loadConfig } = require(join(dist, 'config.js'));
const { loadCatalog } = require(join(dist, 'directory/catalog.js'));
const { readPartnersFile } = require(join(dist, 'directory/partners.js'));
const sqliteDb = require(join(dist, 'store/sqlite/db.js'));
const { openSqliteStore } = require(join(dist, 'store/sqlite/index.js'));
const { sqliteOutboxInsert } = require(join(dist, 'store/sqlite/outbox.js'));
const { newShortId, newId } = require(join(dist, 'ids.js'));
const { newOffer, applyDecision, close, trialLines, purchaseLines } = require(join(dist, 'offers/rules.js'));
const { newRelationship, approve, decline, end } = require(join(dist, 'delegation/rules.js'));
const { userTarget } = require(join(dist, 'notifications/types.js'));

/** BENCH_SCALE_FACTOR (development only: RESULTS.md is written at 1) shrinks every count but the partners'. */
export const FACTOR = Number(process.env.BENCH_SCALE_FACTOR ?? 1);
const scaled = (n) => Math.round(n * FACTOR);
export const SCALE = {
  // BENCH_SCALE_PARTNERS: development only (one partner's share alone, say).
  partners: Number(process.env.BENCH_SCALE_PARTNERS ?? 500),
  customersPerPartner: 40,
  offers: scaled(200_000),
  relationships: scaled(50_000),
  activeRelationships: scaled(10_000),
  responses: scaled(500_000),
  sentOutbox: scaled(1_000_000),
};
const DAY = 86_400_000;
const BATCH = 5_000;

/** A small deterministic generator, so every run seeds the same data. */
function prng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The store's connection, so the seed can group calls in big transactions: the SQLite adapter opens its file through
 * db.js's `openDb`, looked up on the module at call time, so wrapping it while the store opens hands the connection
 * back. Nothing else changes.
 */
function openSeedingStore(file, now) {
  const original = sqliteDb.openDb;
  let db;
  sqliteDb.openDb = (...args) => {
    const opened = original(...args);
    db = opened.db;
    return opened;
  };
  try {
    const store = openSqliteStore(file, now);
    if (!db) throw new Error('scale seed: could not reach the store connection (did the SQLite adapter stop using openDb?)');
    return { store, db };
  } finally {
    sqliteDb.openDb = original;
  }
}

/**
 * The offer mix (of 200,000): 150,000 accepted (each with its order placed at Partner Center: 3 records), 30,000
 * declined (1 record), 10,000 expired, 4,000 withdrawn, 4,000 sent and 2,000 awaiting delivery (none). Relationships
 * (of 50,000): 10,000 active, 5,000 declined, 2,500 terminated (2 records), 25,000 expired requests, 5,000 waiting
 * for approval, 2,500 waiting for delivery: 20,000 records. 450,000 + 30,000 + 20,000 = 500,000.
 */
const OFFER_PLAN = [
  ['accepted', scaled(150_000)],
  ['declined', scaled(30_000)],
  ['expired', scaled(10_000)],
  ['withdrawn', scaled(4_000)],
  ['sent', scaled(4_000)],
  ['awaitingDelivery', scaled(2_000)],
];
const RELATIONSHIP_PLAN = [
  ['active', scaled(10_000)],
  ['declined', scaled(5_000)],
  ['terminated', scaled(2_500)],
  ['expired', scaled(25_000)],
  ['approvalPending', scaled(5_000)],
  ['awaitingDelivery', scaled(2_500)],
];

/** Spreads a plan over n items in a fixed interleaved order, so every partner gets each state in proportion. */
function planned(plan, n) {
  const out = [];
  for (const [state, count] of plan) for (let i = 0; i < count; i++) out.push(state);
  if (out.length !== n) throw new Error(`scale seed: plan adds up to ${out.length}, not ${n}`);
  const random = prng(n);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

export async function seedScale({ dataDir, now = new Date(), log = () => undefined }) {
  const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
  const catalog = loadCatalog(config.catalogFile);
  const sample = readPartnersFile(config.partnersFile, catalog);
  const fabrikam = sample.find((p) => p.name === 'Fabrikam Cloud Partners');
  if (!fabrikam) throw new Error('env/partners.sample.json has no Fabrikam Cloud Partners');

  // The store's clock: when outbox entries are written. Moved over the last 4 days as the seed goes, so the bench can
  // move the app's clock 2 days (reminders due) with nothing yet past a 7-day retention, then past it.
  let clock = new Date(now.getTime() - 4 * DAY);
  const { store, db } = openSeedingStore(join(config.dataDir, 'partner-offers.sqlite'), () => clock);
  // This connection only: the indexes of a million rows stay in memory while the seed writes (the app keeps 4 MB), and
  // a power cut during a seed needs no durability. The server opens the file with the app's own settings.
  db.pragma('cache_size = -262144');
  db.pragma('synchronous = OFF');
  const outboxWindowStart = now.getTime() - 4 * DAY;
  const outboxWindow = 4 * DAY - 60_000;

  // Registry: Fabrikam (the bench's partner, as the server's start writes it) and 499 more like it.
  const { listing: _l, ...fabrikamEntry } = fabrikam;
  const partners = [fabrikamEntry];
  for (let i = 1; i < SCALE.partners; i++) {
    const { microsoft: _m, partnerCenter: _pc, ...rest } = fabrikamEntry;
    partners.push({ ...rest, tenantId: `5ca1e000-0000-4000-8000-${String(i).padStart(12, '0')}`, name: `Scale Partner ${i}` });
  }
  for (const p of sample) {
    const { listing: _x, ...entry } = p;
    await store.partners.upsert(entry);
  }
  for (const p of partners.slice(1)) await store.partners.upsert(p);

  const random = prng(42);
  const pick = (list) => list[Math.floor(random() * list.length)];
  const issuersOf = (p, index) =>
    Array.from({ length: 4 }, (_, k) => ({
      aadObjectId: `${String(index).padStart(8, '0')}-0000-4000-8000-${String(k).padStart(12, '0')}`,
      userId: `29:issuer-${index}-${k}`,
      name: `Issuer ${k} of ${p.name}`,
      tenantId: p.tenantId,
      email: `issuer${k}@partner${index}.example`,
      serviceUrl: 'https://smba.trafficmanager.net/emea/',
    }));
  const customerOf = (partnerIndex, k) => {
    const n = partnerIndex * SCALE.customersPerPartner + k;
    const hex = String(n).padStart(12, '0');
    return {
      email: `admin@customer${n}.example`,
      person: {
        aadObjectId: `a0000000-0000-4000-8000-${hex}`,
        userId: `29:customer-${n}`,
        name: `Customer Admin ${n}`,
        tenantId: `c0000000-0000-4000-8000-${hex}`,
        email: `admin@customer${n}.example`,
        serviceUrl: 'https://smba.trafficmanager.net/emea/',
      },
    };
  };

  const used = new Set();
  const uniqueId = (prefix) => {
    let id;
    do id = newShortId(prefix);
    while (used.has(id));
    used.add(id);
    return id;
  };

  /** Runs `fn(i)` for i < n, BATCH calls to a transaction, moving the outbox clock through its window. */
  let written = 0;
  const totalCalls = SCALE.offers + SCALE.relationships;
  async function inBatches(n, what, fn) {
    for (let start = 0; start < n; start += BATCH) {
      db.exec('BEGIN IMMEDIATE');
      try {
        for (let i = start; i < Math.min(n, start + BATCH); i++) {
          clock = new Date(outboxWindowStart + (outboxWindow * written++) / totalCalls);
          await fn(i);
        }
        db.exec('COMMIT');
      } catch (err) {
        db.exec('ROLLBACK');
        throw err;
      }
      if ((start / BATCH) % 10 === 0) log(`${what}: ${Math.min(n, start + BATCH).toLocaleString('en-US')} of ${n.toLocaleString('en-US')}`);
    }
  }

  const issuers = partners.map(issuersOf);
  const services = fabrikam.authorizedServices;
  const counts = { offers: 0, relationships: 0, responses: 0, outboxByCalls: 0, fulfilments: 0 };
  const cardPlace = (id, customer) => ({ conversationId: `a:personal-${customer.person.userId}`, activityId: `card-${id}` });
  const cardUpdate = (o) => ({
    target: { kind: 'conversation', conversationId: o.card.conversationId },
    action: { kind: 'update', activityId: o.card.activityId, message: { kind: 'offer.card', args: { offerId: o.id } } },
    subject: { kind: 'offer', id: o.id },
    partnerTenantId: o.partnerTenantId,
  });
  const offerNotice = (o, event) => ({
    target: userTarget(o.issuedBy),
    action: { kind: 'send', message: { kind: 'offer.notice', args: { offerId: o.id, event } } },
    subject: { kind: 'offer', id: o.id },
    partnerTenantId: o.partnerTenantId,
  });
  const relCard = (r) => ({
    target: { kind: 'conversation', conversationId: `a:personal-${r.approver?.userId ?? 'none'}` },
    action: { kind: 'send', message: { kind: 'delegation.card', args: { relationshipId: r.id } } },
    subject: { kind: r.kind, id: r.id },
    partnerTenantId: r.partnerTenantId,
  });
  const relNotice = (r, event) => ({
    target: userTarget(r.issuedBy),
    action: { kind: 'send', message: { kind: 'delegation.notice', args: { relationshipId: r.id, event } } },
    subject: { kind: r.kind, id: r.id },
    partnerTenantId: r.partnerTenantId,
  });
  const by = (person) => ({ aadObjectId: person.aadObjectId, name: person.name, upn: person.email, tenantId: person.tenantId });

  // --- offers ---
  const offerStates = planned(OFFER_PLAN, SCALE.offers);
  await inBatches(SCALE.offers, 'offers', async (i) => {
    const pi = i % SCALE.partners;
    const partner = partners[pi];
    const customer = customerOf(pi, Math.floor(random() * SCALE.customersPerPartner));
    const state = offerStates[i];
    const pending = state === 'sent' || state === 'awaitingDelivery';
    // Settled offers over the last two years; pending ones from the last ten days (none expires while the bench runs).
    const created = new Date(now.getTime() - (pending ? random() * 10 * DAY : 11 * DAY + random() * 720 * DAY));
    const trial = random() < 0.3;
    for (let attempt = 0; ; attempt++) {
      const billing = trial ? undefined : i % 3 ? 'monthly' : 'annual';
      const lines = trial
        ? trialLines({ services: [pick(services)] }, catalog, partner, '')
        : purchaseLines(
            { lines: [{ quantity: 1 + ((i + attempt * 7919) % 300), service: pick(services) }], term: 'P1Y', billing },
            catalog,
            partner,
            '',
          );
      const id = uniqueId(trial ? 'T' : 'P');
      const offer = {
        ...newOffer(
          {
            kind: trial ? 'trial' : 'purchase',
            partnerTenantId: partner.tenantId,
            approverEmail: customer.email,
            lines,
            ...(trial ? {} : { term: 'P1Y', billing }),
          },
          {
            id,
            partnerName: partner.name,
            issuedBy: issuers[pi][i % 4],
            approver: state === 'awaitingDelivery' ? undefined : customer.person,
            currency: catalog.currency,
            now: created,
          },
        ),
        ...(state === 'awaitingDelivery' ? {} : { card: cardPlace(id, customer) }),
      };
      const delivered = state === 'awaitingDelivery' ? [] : [cardUpdate(offer)];
      if (state === 'expired' || state === 'withdrawn') {
        const closed = close(offer, state, new Date(created.getTime() + 30 * DAY));
        if (!(await store.offers.create(closed, delivered)).created) continue;
        counts.outboxByCalls += delivered.length;
        break;
      }
      const made = await store.offers.create(offer, delivered);
      if (!made.created) continue; // the same pending offer exists already: another quantity
      counts.outboxByCalls += delivered.length;
      if (state === 'accepted' || state === 'declined') {
        const at = new Date(created.getTime() + random() * 20 * DAY);
        const next = applyDecision(offer, state, at);
        const where = offer.card;
        const fulfilment =
          state === 'accepted'
            ? {
                id: offer.id,
                version: 1,
                partnerTenantId: partner.tenantId,
                customerTenantId: customer.person.tenantId,
                kind: offer.kind,
                state: 'ordering',
                valueCentsPerMonth: 1000 * offer.lines.length,
                currency: catalog.currency,
                lines: [],
                correlationId: newId(),
                cartRequestId: newId(),
                attempts: 0,
                createdAt: at.toISOString(),
                updatedAt: at.toISOString(),
              }
            : undefined;
        const decided = await store.offers.decide(
          next,
          offer.version,
          {
            id: `${offer.id}/offer`,
            subjectKind: 'offer',
            subjectId: offer.id,
            slot: 'offer',
            decision: state,
            by: by(customer.person),
            at: at.toISOString(),
            conversationId: where.conversationId,
            activityId: where.activityId,
            customerTenantId: customer.person.tenantId,
          },
          [cardUpdate(next), offerNotice(next, state)],
          fulfilment,
        );
        if (decided.status !== 'recorded') throw new Error(`scale seed: decision on ${offer.id} was ${decided.status}`);
        counts.responses++;
        counts.outboxByCalls += 2;
        if (fulfilment) {
          const placedAt = new Date(at.getTime() + 60_000).toISOString();
          const orderId = newId();
          const confirmation = (status, subscriptionIds) => ({
            api: 'partnerCenter',
            cartId: `cart-${offer.id}`,
            orderIds: [orderId],
            subscriptionIds,
            status,
            reportedAt: placedAt,
          });
          const record = (slot, decision, microsoft) => ({
            id: `${offer.id}/${slot}`,
            subjectKind: 'offer',
            subjectId: offer.id,
            slot,
            decision,
            by: by(issuers[pi][0]),
            at: placedAt,
            conversationId: where.conversationId,
            activityId: where.activityId,
            customerTenantId: customer.person.tenantId,
            microsoft,
          });
          const placed = {
            ...fulfilment,
            version: 2,
            state: 'placed',
            cartId: `cart-${offer.id}`,
            placedAt,
            orders: [{ id: orderId, status: 'completed', lines: [] }],
            updatedAt: placedAt,
          };
          const ok = await store.fulfilments.update(
            placed,
            1,
            [offerNotice(next, 'orderPlaced')],
            [
              record('order', 'placed', confirmation('pending', [])),
              record('subscriptions', 'provisioned', confirmation('completed', [newId()])),
            ],
          );
          if (!ok) throw new Error(`scale seed: the order of ${offer.id} was not placed`);
          counts.fulfilments++;
          counts.responses += 2;
          counts.outboxByCalls += 1;
        }
      }
      break;
    }
    counts.offers++;
  });

  // --- relationships ---
  const relStates = planned(RELATIONSHIP_PLAN, SCALE.relationships);
  const activeCount = new Map(); // per partner: its active relationships take its customers in turn (one each)
  await inBatches(SCALE.relationships, 'relationships', async (i) => {
    const pi = i % SCALE.partners;
    const partner = partners[pi];
    const state = relStates[i];
    let customer;
    if (state === 'active') {
      const k = activeCount.get(pi) ?? 0;
      if (k >= SCALE.customersPerPartner) throw new Error('scale seed: more active relationships than customers for a partner');
      activeCount.set(pi, k + 1);
      customer = customerOf(pi, k);
    } else customer = customerOf(pi, Math.floor(random() * SCALE.customersPerPartner));
    // Active ones are delegations of 90 days activated 59 days ago: the 30-day reminder is due a day from now.
    // Terminated ones are partner-of-record relationships (approved, then revoked), so no approval meets an active one.
    const kind = state === 'active' ? 'delegation' : state === 'terminated' ? 'por' : i % 5 ? 'delegation' : 'por';
    const open = state === 'approvalPending' || state === 'awaitingDelivery';
    const created =
      state === 'active'
        ? new Date(now.getTime() - 60 * DAY)
        : new Date(now.getTime() - (open ? random() * 10 * DAY : 100 * DAY + random() * 600 * DAY));
    const draft = {
      kind,
      partnerTenantId: partner.tenantId,
      approverEmail: customer.email,
      // 90 days for the active ones (their reminder timing), 180 for the rest: an open request's duplicate guard (its
      // pendingKey includes the duration) never meets the request of an active one.
      ...(kind === 'delegation'
        ? { access: { kind: 'roles', roles: ['Exchange Administrator'] }, durationDays: state === 'active' ? 90 : 180 }
        : {}),
    };
    const request = () =>
      newRelationship(draft, {
        id: uniqueId(kind === 'por' ? 'R' : 'D'),
        partnerName: partner.name,
        issuedBy: issuers[pi][i % 4],
        approver: state === 'awaitingDelivery' ? undefined : customer.person,
        now: created,
      });
    let r = request();
    const record = (subject, slot, decision, at, actor) => ({
      id: `${subject.id}/${slot}`,
      subjectKind: subject.kind,
      subjectId: subject.id,
      slot,
      decision,
      by: by(actor),
      at: at.toISOString(),
      conversationId: `a:personal-${customer.person.userId}`,
      activityId: `card-${r.id}`,
      customerTenantId: customer.person.tenantId,
    });
    if (state === 'expired') {
      const ended = end(r, 'expired', new Date(created.getTime() + 90 * DAY));
      if (!(await store.relationships.create(ended, [relCard(r)])).created) throw new Error(`scale seed: ${r.id} not created`);
      counts.outboxByCalls += 1;
      counts.relationships++;
      return;
    }
    // A request like one the customer has open already is not created twice (the duplicate guard): another customer
    // gets it.
    for (let k = 1; !(await store.relationships.create(r, state === 'awaitingDelivery' ? [] : [relCard(r)])).created; k++) {
      // An active delegation's request is like no open one (its own duration): another customer would have one active.
      if (state === 'active') throw new Error(`scale seed: ${r.id} (${state}) met an open request like it`);
      if (k > SCALE.customersPerPartner) throw new Error(`scale seed: no customer of ${partner.name} without this request open`);
      customer = customerOf(pi, (Math.floor(random() * SCALE.customersPerPartner) + k) % SCALE.customersPerPartner);
      draft.approverEmail = customer.email;
      r = request();
    }
    counts.outboxByCalls += state === 'awaitingDelivery' ? 0 : 1;
    counts.relationships++;
    if (open) return;
    const decidedAt = new Date(created.getTime() + DAY);
    const next = state === 'declined' ? decline(r, customer.person, decidedAt) : approve(r, customer.person, decidedAt);
    const decided = await store.relationships.decide({
      next,
      expectedVersion: r.version,
      ...(next.state === 'active' ? { replaces: { expectedActiveId: null } } : {}),
      responses: [record(r, kind, state === 'declined' ? 'declined' : 'approved', decidedAt, customer.person)],
      outbox: [relCard(next), relNotice(next, state === 'declined' ? 'declined' : 'approved')],
    });
    if (decided.status !== 'recorded') throw new Error(`scale seed: decision on ${r.id} was ${decided.status}`);
    counts.responses++;
    counts.outboxByCalls += 2;
    if (state === 'terminated') {
      const endedAt = new Date(decidedAt.getTime() + 30 * DAY);
      const ended = end(next, 'revoked', endedAt);
      const revoked = await store.relationships.decide({
        next: ended,
        expectedVersion: next.version,
        responses: [record(r, 'termination', 'revoked', endedAt, customer.person)],
        outbox: [relCard(ended), relNotice(ended, 'revokedByCustomer')],
      });
      if (revoked.status !== 'recorded') throw new Error(`scale seed: revoking ${r.id} was ${revoked.status}`);
      counts.responses++;
      counts.outboxByCalls += 2;
    }
  });

  // --- the outbox: topped up to exactly 1,000,000 with card updates, then all of it as markSent leaves it ---
  const insert = sqliteOutboxInsert(db, () => clock);
  const topUp = SCALE.sentOutbox - counts.outboxByCalls;
  if (topUp < 0) throw new Error(`scale seed: the calls wrote ${counts.outboxByCalls} outbox entries, more than ${SCALE.sentOutbox}`);
  const accepted = db.prepare(`SELECT id, partner_tenant_id AS partner, doc FROM offers WHERE state = 'accepted' LIMIT ?`).all(topUp);
  for (let start = 0; start < topUp; start += 20_000) {
    db.exec('BEGIN IMMEDIATE');
    for (let i = start; i < Math.min(topUp, start + 20_000); i++) {
      clock = new Date(outboxWindowStart + (outboxWindow * i) / topUp);
      const o = JSON.parse(accepted[i % accepted.length].doc);
      insert([cardUpdate(o)]);
    }
    db.exec('COMMIT');
  }
  log(
    `outbox: ${counts.outboxByCalls.toLocaleString('en-US')} entries from the calls, ${topUp.toLocaleString('en-US')} card updates added`,
  );
  // What markSent writes (src/store/sqlite/outbox.ts), the sent time 2 s after the entry was written.
  const sent = db
    .prepare(
      `UPDATE outbox SET state = 'sent', lease_owner = NULL, lease_until = NULL,
         sent_at = strftime('%Y-%m-%dT%H:%M:%fZ', julianday(created_at) + 2.0 / 86400),
         doc = json_set(doc, '$.attempts', json_extract(doc, '$.attempts') + 1)
       WHERE state = 'pending'`,
    )
    .run().changes;
  const tally = (sql) => db.prepare(sql).pluck().get();
  const result = {
    partners: tally('SELECT count(*) FROM partners'),
    offers: tally('SELECT count(*) FROM offers'),
    relationships: tally('SELECT count(*) FROM relationships'),
    activeRelationships: tally(`SELECT count(*) FROM relationships WHERE state = 'active'`),
    responses: tally('SELECT count(*) FROM responses'),
    fulfilments: tally('SELECT count(*) FROM fulfilments'),
    sentOutbox: tally(`SELECT count(*) FROM outbox WHERE state = 'sent'`),
    markedSent: sent,
    outboxWrittenFrom: tally('SELECT min(created_at) FROM outbox'),
    outboxWrittenTo: tally('SELECT max(created_at) FROM outbox'),
  };
  db.pragma('wal_checkpoint(TRUNCATE)');
  await store.close();
  return result;
}

// Run as a child of bench/scale.mjs: seed BENCH_DATA_DIR, report, exit.
if (process.send && process.env.BENCH_SCALE_SEED === '1') {
  const started = performance.now();
  const log = (s) => console.log(`[scale-seed ${new Date().toISOString().slice(11, 19)}] ${s}`);
  const result = await seedScale({ dataDir: process.env.BENCH_DATA_DIR, now: new Date(Number(process.env.BENCH_NOW)), log });
  process.send({ type: 'ready', ...result, seedMs: Math.round(performance.now() - started) }, () => process.exit(0));
}
