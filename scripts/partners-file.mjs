#!/usr/bin/env node
// `node scripts/partners-file.mjs --out <file> --tenant <tenant id> [--name <organisation name>]`
// Writes a partners file (PARTNERS_FILE) that registers one tenant as a partner, for F5 in Teams and a first
// deployment: the Agents Toolkit runs it with the tenant you signed in with (TEAMS_APP_TENANT_ID), so partner commands
// work in your own Teams, and customers are every other tenant. The partner is in Cloud Essentials (so it may ask for
// delegated administration), authorized for every service of the built-in catalog, record-only (no `microsoft`
// entry: nothing is created at Microsoft) and has no marketplace listing.
// An existing file is never changed: once you edit it (or point PARTNERS_FILE at your real registry) it is yours. If it
// does not register the tenant, that is said on stderr, and the exit status is still 0.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function flag(name) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 1 ? process.argv[i + 1] : undefined;
}

function fail(message) {
  console.error(`partners-file: ${message}`);
  process.exit(1);
}

const out = flag('out');
const tenantId = flag('tenant')?.trim();
const name = flag('name')?.trim() || 'My partner organisation';
if (!out) fail('--out <file> is required (the PARTNERS_FILE to write)');
if (!tenantId || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(tenantId)) {
  fail(`--tenant must be an Entra tenant id (a GUID), got ${JSON.stringify(tenantId ?? '')}`);
}

const file = path.resolve(out);
if (fs.existsSync(file)) {
  let registered = false;
  try {
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
    registered = (parsed?.partners ?? []).some((p) => String(p?.tenantId).toLowerCase() === tenantId.toLowerCase());
  } catch {
    // Not ours to judge: the bot reports an unreadable partners file at startup, with the reason.
  }
  if (registered) console.log(`partners-file: ${out} already registers tenant ${tenantId}; left as it is.`);
  else console.error(`partners-file: ${out} exists and does not register tenant ${tenantId}; left as it is.`);
  process.exit(0);
}

const catalog = JSON.parse(fs.readFileSync(path.join(repoRoot, 'src', 'directory', 'default-catalog.json'), 'utf8'));
const partners = {
  partners: [
    {
      tenantId: tenantId.toLowerCase(),
      name,
      programs: ['cloud-essentials'],
      authorizedServices: catalog.services.map((s) => s.id),
    },
  ],
};
fs.mkdirSync(path.dirname(file), { recursive: true });
fs.writeFileSync(file, `${JSON.stringify(partners, null, 2)}\n`);
console.log(`partners-file: wrote ${out}, registering tenant ${tenantId} as the partner "${name}".`);
