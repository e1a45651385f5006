'use strict';
/**
 * The local Microsoft stand-in (stand-in/, built to dist/stand-in) with the tenants of the local demo, started in this
 * process. Used by `npm run playground` and the end-to-end tests' global setup, so both register the same tenants:
 *
 * - every partner of the partners file that has a `microsoft` or `partnerCenter` entry: its tenant (the entry's
 *   `tenantId`, default the partner's `tenantId`), its name, and its apps (`clientId`) with the client secret read
 *   from where the entry says (`clientSecretEnv`: that variable; `clientSecretFile`: that file), as the bot reads it;
 * - for partners with a `partnerCenter` entry, Partner Center's catalog (the bot's catalog services with Partner
 *   Center ids) and a reseller relationship with the customer;
 * - the customer tenant of the Agents Playground's customer instance (its `tenantId`), as Contoso.
 *
 * Nothing here is a Microsoft secret: the stand-in only accepts what it is given.
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const util = require('node:util');

/** Where `npm run playground` starts the stand-in unless told otherwise (env/local.env points the bot here). */
const DEFAULT_STAND_IN_PORT = 4100;

/** The Playground's customer instance (its `tenantId` is read from the config, the rest is the sample's Contoso). */
const CONTOSO = { displayName: 'Contoso', defaultDomainName: 'contoso.onmicrosoft.com' };

/** Keys of an env file (`KEY=value` lines, as `node --env-file` reads them); `{}` if there is no such file. */
function readEnvFile(file) {
  try {
    return util.parseEnv(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    if (err && err.code === 'ENOENT') return {};
    throw err;
  }
}

/** The environment `npm start` gives the bot: env/local.env, with what is already set in the environment winning. */
function botEnvironment(repoRoot, env = process.env) {
  return { ...readEnvFile(path.join(repoRoot, 'env', 'local.env')), ...env };
}

/** The top-level `tenantId` of an Agents Playground config (`.m365agentsplayground.yml`). */
function playgroundTenantId(configFile) {
  const m = /^tenantId:\s*['"]?([^'"\s#]+)/m.exec(fs.readFileSync(configFile, 'utf8'));
  if (!m) throw new Error(`No tenantId in ${configFile}`);
  return m[1];
}

/** The settings that point the bot at a stand-in listening at `url`. */
function microsoftEnv(url) {
  return {
    MICROSOFT_AUTHORITY_HOST: url,
    MICROSOFT_GRAPH_BASE_URL: `${url}/v1.0`,
    MICROSOFT_ADMIN_CENTER_URL: url,
    PARTNER_CENTER_BASE_URL: `${url}/partnercenter/v1`,
  };
}

/** A partner entry's app (`microsoft` or `partnerCenter`) with its client secret, or a note saying why not. */
function appOf(entry, p, { repoRoot, env, secrets, secretEnv, notes }) {
  if (entry.clientSecretEnv && secrets === 'generate') {
    // One variable may serve both entries (one Entra app for Graph and Partner Center): one secret then.
    secretEnv[entry.clientSecretEnv] ??= `stand-in-${crypto.randomBytes(12).toString('hex')}`;
    return { clientId: entry.clientId, clientSecret: secretEnv[entry.clientSecretEnv] };
  }
  if (entry.clientSecretEnv) {
    const clientSecret = env[entry.clientSecretEnv]?.trim();
    if (clientSecret) return { clientId: entry.clientId, clientSecret };
    notes.push(`${p.name}: ${entry.clientSecretEnv} is not set, so its app is not registered at the stand-in`);
    return undefined;
  }
  if (entry.clientSecretFile) {
    try {
      return { clientId: entry.clientId, clientSecret: fs.readFileSync(path.resolve(repoRoot, entry.clientSecretFile), 'utf8').trim() };
    } catch {
      notes.push(`${p.name}: cannot read its clientSecretFile ${entry.clientSecretFile}, so its app is not registered at the stand-in`);
      return undefined;
    }
  }
  notes.push(`${p.name}: only client secrets are registered here (it names a certificate), so its app is not registered`);
  return undefined;
}

/**
 * What Partner Center sells here: every catalog service that carries Partner Center ids (built catalog from dist/,
 * CATALOG_FILE when set), its SKU and its trial SKU, in the countries below.
 */
function partnerCenterProducts(repoRoot, env) {
  const { loadCatalog } = require(path.join(repoRoot, 'dist', 'src', 'directory', 'catalog.js'));
  const catalog = loadCatalog(env.CATALOG_FILE ? path.resolve(repoRoot, env.CATALOG_FILE) : undefined);
  const countries = ['US', 'GB', 'CA', 'AU', 'DE', 'FR', 'NL'];
  return catalog.services
    .filter((s) => s.partnerCenter)
    .map((s) => ({
      id: s.partnerCenter.productId,
      title: s.name,
      skus: [
        { id: s.partnerCenter.skuId, title: s.name, countries },
        ...(s.partnerCenter.trialSkuId ? [{ id: s.partnerCenter.trialSkuId, title: `${s.name} Trial`, isTrial: true, countries }] : []),
      ],
    }));
}

/**
 * The stand-in's tenants for a partners file. `secrets: 'environment'` reads each partner's secret as the bot will
 * (from `env`, or the file named); `secrets: 'generate'` makes a fresh one for each `clientSecretEnv` and returns it
 * in `secretEnv`, for a bot started with those variables (the tests). A partner whose secret cannot be had is
 * registered without its app (the bot is then told the app is unknown, as Entra would) and named in `notes`.
 * Partners with a `partnerCenter` entry already resell to the customer (Contoso buys through them), so an accepted
 * offer is ordered at once; `apps` lists the apps beyond each partner's first.
 */
function standInTenants({ repoRoot, env = process.env, partnersFile, customerConfigFile, secrets = 'environment' }) {
  const file = path.resolve(repoRoot, partnersFile);
  const registry = JSON.parse(fs.readFileSync(file, 'utf8'));
  const partners = [];
  const apps = [];
  const secretEnv = {};
  const notes = [];
  const resellerPartners = [];
  for (const p of registry.partners ?? []) {
    const entries = [p.microsoft, p.partnerCenter].filter(Boolean);
    if (entries.length === 0) continue;
    const tenant = { tenantId: entries[0].tenantId ?? p.tenantId, displayName: p.name };
    const found = [];
    for (const entry of entries) {
      if (found.some((a) => a.clientId === entry.clientId)) continue;
      const app = appOf(entry, p, { repoRoot, env, secrets, secretEnv, notes });
      if (app) found.push(app);
    }
    partners.push(found[0] ? { ...tenant, app: found[0] } : tenant);
    for (const extra of found.slice(1)) apps.push({ tenantId: tenant.tenantId, app: extra });
    if (p.partnerCenter) resellerPartners.push(p.partnerCenter.tenantId ?? p.tenantId);
  }
  const customers = [{ tenantId: playgroundTenantId(path.resolve(repoRoot, customerConfigFile)), ...CONTOSO }];
  const partnerCenter = {
    products: resellerPartners.length ? partnerCenterProducts(repoRoot, env) : [],
    resellers: resellerPartners.flatMap((partnerTenantId) => customers.map((c) => ({ partnerTenantId, customerTenantId: c.tenantId }))),
  };
  return { partners, apps, customers, partnerCenter, secretEnv, notes };
}

/**
 * Starts the stand-in from dist/stand-in (run `npm run build` first) with `standInTenants(options)`. Resolves to the
 * handle (`url`, `close()`, `control`), the tenants registered (apps without their secrets), `notes`, and `botEnv`:
 * the MICROSOFT_* settings for this stand-in plus any generated secrets.
 */
async function startStandIn(options) {
  const { repoRoot, port = 0, host = '127.0.0.1' } = options;
  const built = path.join(repoRoot, 'dist', 'stand-in', 'index.js');
  if (!fs.existsSync(built)) throw new Error(`${built} is missing: run \`npm run build\` first (\`npm start\` does too)`);
  const { partners, apps, customers, partnerCenter, secretEnv, notes } = standInTenants(options);
  const { startMicrosoftStandIn } = require(built);
  const standIn = await startMicrosoftStandIn({ port, host, partners, customers, partnerCenter });
  for (const { tenantId, app } of apps) standIn.control.registerApp(tenantId, app);
  return {
    standIn,
    url: standIn.url,
    partners: partners.map(({ app, ...t }) => ({ ...t, ...(app ? { clientId: app.clientId } : {}) })),
    customers,
    notes,
    botEnv: { ...microsoftEnv(standIn.url), ...secretEnv },
  };
}

module.exports = { DEFAULT_STAND_IN_PORT, botEnvironment, microsoftEnv, playgroundTenantId, readEnvFile, standInTenants, startStandIn };
