'use strict';
/**
 * The local Microsoft stand-in (stand-in/, built to dist/stand-in) with the tenants of the local demo, started in this
 * process. Used by `npm run playground` and the end-to-end tests' global setup, so both register the same tenants:
 *
 * - every partner of the partners file that has a `microsoft` entry: its tenant (`microsoft.tenantId`, default the
 *   partner's `tenantId`), its name, and its app (`clientId`) with the client secret read from where the entry says
 *   (`clientSecretEnv`: that variable; `clientSecretFile`: that file), exactly as the bot reads it;
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

/** The three settings that point the bot at a stand-in listening at `url`. */
function microsoftEnv(url) {
  return { MICROSOFT_AUTHORITY_HOST: url, MICROSOFT_GRAPH_BASE_URL: `${url}/v1.0`, MICROSOFT_ADMIN_CENTER_URL: url };
}

/**
 * The stand-in's tenants for a partners file. `secrets: 'environment'` reads each partner's secret as the bot will
 * (from `env`, or the file named); `secrets: 'generate'` makes a fresh one for each `clientSecretEnv` and returns it
 * in `secretEnv`, for a bot started with those variables (the tests). A partner whose secret cannot be had is
 * registered without its app (the bot is then told the app is unknown, as Entra would) and named in `notes`.
 */
function standInTenants({ repoRoot, env = process.env, partnersFile, customerConfigFile, secrets = 'environment' }) {
  const file = path.resolve(repoRoot, partnersFile);
  const registry = JSON.parse(fs.readFileSync(file, 'utf8'));
  const partners = [];
  const secretEnv = {};
  const notes = [];
  for (const p of registry.partners ?? []) {
    const ms = p.microsoft;
    if (!ms) continue;
    const tenant = { tenantId: ms.tenantId ?? p.tenantId, displayName: p.name };
    let clientSecret;
    if (ms.clientSecretEnv && secrets === 'generate') {
      clientSecret = `stand-in-${crypto.randomBytes(12).toString('hex')}`;
      secretEnv[ms.clientSecretEnv] = clientSecret;
    } else if (ms.clientSecretEnv) {
      clientSecret = env[ms.clientSecretEnv]?.trim();
      if (!clientSecret) notes.push(`${p.name}: ${ms.clientSecretEnv} is not set, so its app is not registered at the stand-in`);
    } else if (ms.clientSecretFile) {
      try {
        clientSecret = fs.readFileSync(path.resolve(repoRoot, ms.clientSecretFile), 'utf8').trim();
      } catch {
        notes.push(`${p.name}: cannot read its clientSecretFile ${ms.clientSecretFile}, so its app is not registered at the stand-in`);
      }
    } else {
      notes.push(`${p.name}: only client secrets are registered here (it names a certificate), so its app is not registered`);
    }
    partners.push(clientSecret ? { ...tenant, app: { clientId: ms.clientId, clientSecret } } : tenant);
  }
  const customers = [{ tenantId: playgroundTenantId(path.resolve(repoRoot, customerConfigFile)), ...CONTOSO }];
  return { partners, customers, secretEnv, notes };
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
  const { partners, customers, secretEnv, notes } = standInTenants(options);
  const { startMicrosoftStandIn } = require(built);
  const standIn = await startMicrosoftStandIn({ port, host, partners, customers });
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
