// The dashboard bench's data: one partner (Fabrikam, the Playground's tenant) with `offers` offers and
// `relationships` delegations and partner-of-record requests over the past year, in the mix of states a busy
// partner has, plus as many rows again for a second partner (Northwind), so every query has to keep partners apart.
// Written through the store API from dist/ into a SQLite file, before the server starts.
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const dist = join(import.meta.dirname, '../../dist/src');
const { loadConfig } = require(join(dist, 'config.js'));
const { loadCatalog } = require(join(dist, 'directory/catalog.js'));
const { readPartnersFile } = require(join(dist, 'directory/partners.js'));
const { createLogger } = require(join(dist, 'log.js'));
const { openStore } = require(join(dist, 'store/open.js'));
const { newShortId } = require(join(dist, 'ids.js'));
const { newOffer, applyDecision, trialLines, purchaseLines } = require(join(dist, 'offers/rules.js'));
const { newRelationship, approve, decline } = require(join(dist, 'delegation/rules.js'));

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

const DAY = 86_400_000;
const OFFER_MIX = [
  ['accepted', 0.45],
  ['declined', 0.15],
  ['expired', 0.15],
  ['sent', 0.15],
  ['awaitingDelivery', 0.05],
  ['withdrawn', 0.05],
];
const ROLE_SETS = [
  ['Exchange Administrator'],
  ['User Administrator', 'Helpdesk Administrator'],
  ['Security Reader'],
  ['Teams Administrator'],
  ['SharePoint Administrator', 'Groups Administrator'],
];

export async function seedDashboard({ dataDir, offers, relationships, now = new Date() }) {
  const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
  const catalog = loadCatalog(config.catalogFile);
  const partners = readPartnersFile(config.partnersFile, catalog);
  const store = await openStore(config, createLogger('silent'));
  for (const { listing: _l, ...p } of partners) await store.partners.upsert(p);
  const counts = {};
  for (const tenantId of ['00000000-0000-0000-0000-0000000000001', '00000000-0000-0000-0000-0000000000003']) {
    const partner = partners.find((p) => p.tenantId === tenantId);
    if (!partner) throw new Error(`env/partners.sample.json has no partner ${tenantId}`);
    counts[partner.name] = await seedPartner(store, catalog, partner, {
      offers,
      relationships,
      now,
      random: prng(tenantId.length + offers + partner.name.length),
    });
  }
  await store.close();
  return counts;
}

/** Ids as the bot makes them, never one twice (random 6-character ids collide now and then across 22,000). */
const used = new Set();
function uniqueId(prefix) {
  let id;
  do id = newShortId(prefix);
  while (used.has(id));
  used.add(id);
  return id;
}

async function seedPartner(store, catalog, partner, { offers, relationships, now, random }) {
  const pick = (list) => list[Math.floor(random() * list.length)];
  const issuers = ['Alex Wilber', 'Diego Siciliani', 'Isaiah Langer', 'Johanna Lorenz'].map((name, i) => ({
    aadObjectId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    userId: `29:issuer-${i}`,
    name,
    tenantId: partner.tenantId,
    email: `${name.split(' ')[0].toLowerCase()}@${partner.name.split(' ')[0].toLowerCase()}.example`,
    serviceUrl: 'https://smba.trafficmanager.net/emea/',
  }));
  const customers = Array.from({ length: 1500 }, (_, i) => ({
    email: `admin${i}@customer${i}.example`,
    person: {
      aadObjectId: `c${String(i).padStart(7, '0')}-0000-4000-8000-000000000001`,
      userId: `29:customer-${i}`,
      name: `Customer Admin ${i}`,
      tenantId: `c${String(i).padStart(7, '0')}-1111-4000-8000-${partner.tenantId.slice(-12)}`,
      email: `admin${i}@customer${i}.example`,
      serviceUrl: 'https://smba.trafficmanager.net/emea/',
    },
  }));
  const services = partner.authorizedServices;
  const stateOf = () => {
    let r = random();
    for (const [state, share] of OFFER_MIX) if ((r -= share) < 0) return state;
    return 'accepted';
  };

  let made = 0;
  for (let i = 0; made < offers; i++) {
    const created = new Date(now.getTime() - ((offers - made) / offers) * 365 * DAY - random() * DAY);
    const customer = pick(customers);
    const trial = random() < 0.3;
    // A 1-year term, billed monthly or annually (every built-in service is sold on it).
    const billing = i % 3 ? 'monthly' : 'annual';
    const lines = trial
      ? trialLines({ services: [pick(services)] }, catalog, partner, '')
      : purchaseLines({ lines: [{ quantity: 1 + (i % 300), service: pick(services) }], term: 'P1Y', billing }, catalog, partner, '');
    const draft = {
      kind: trial ? 'trial' : 'purchase',
      partnerTenantId: partner.tenantId,
      approverEmail: customer.email,
      lines,
      ...(trial ? {} : { term: 'P1Y', billing }),
    };
    const state = stateOf();
    let offer = newOffer(draft, {
      id: uniqueId(trial ? 'T' : 'P'),
      partnerName: partner.name,
      issuedBy: pick(issuers),
      approver: state === 'awaitingDelivery' ? undefined : customer.person,
      currency: catalog.currency,
      now: created,
    });
    const decidedAt = new Date(created.getTime() + random() * 20 * DAY);
    if (state === 'accepted' || state === 'declined') offer = applyDecision(offer, state, decidedAt);
    else if (state === 'expired' || state === 'withdrawn') {
      const { pendingKey: _k, ...rest } = offer;
      offer = { ...rest, state, version: 2, ...(state === 'withdrawn' ? { withdrawnAt: decidedAt.toISOString() } : {}) };
    }
    const result = await store.offers.create(offer, []);
    if (result.created) made++;
  }

  let rels = 0;
  for (let i = 0; rels < relationships; i++) {
    const created = new Date(now.getTime() - ((relationships - rels) / relationships) * 365 * DAY);
    const customer = customers[i % customers.length];
    const kind = i % 5 === 4 ? 'por' : 'delegation';
    const draft = {
      kind,
      partnerTenantId: partner.tenantId,
      approverEmail: customer.email,
      ...(kind === 'delegation'
        ? { access: random() < 0.3 ? { kind: 'full' } : { kind: 'roles', roles: pick(ROLE_SETS) }, durationDays: pick([90, 180, 365, 730]) }
        : {}),
    };
    let r = newRelationship(draft, {
      id: uniqueId(kind === 'por' ? 'R' : 'D'),
      partnerName: partner.name,
      issuedBy: pick(issuers),
      approver: customer.person,
      now: created,
    });
    const roll = random();
    // One active relationship per customer and kind (the store enforces it): only the first round of customers.
    if (roll < 0.5 && i < customers.length) r = approve(r, customer.person, new Date(created.getTime() + DAY));
    else if (roll < 0.7) r = decline(r, customer.person, new Date(created.getTime() + DAY));
    const result = await store.relationships.create(r, []);
    if (result.created) rels++;
  }
  return { offers: made, relationships: rels };
}
