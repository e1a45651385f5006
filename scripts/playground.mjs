#!/usr/bin/env node
// `npm run playground`: starts three Microsoft 365 Agents Playground instances (the local Teams client) against
// the one bot at http://127.0.0.1:${PORT || 3978}/api/messages:
//   partner  tenant (env/playground/partner/.m365agentsplayground.yml)  on PARTNER_PLAYGROUND_PORT  (56150)
//   customer tenant (env/playground/customer/.m365agentsplayground.yml) on CUSTOMER_PLAYGROUND_PORT (56151)
//   second partner  (env/playground/partner2/.m365agentsplayground.yml) on PARTNER2_PLAYGROUND_PORT (56152),
//     so one customer can replace its delegated-admin partner by another
// and the local Microsoft stand-in (stand-in/, from dist: run `npm run build` or `npm start` first) on
// STAND_IN_PORT (default: the port of MICROSOFT_AUTHORITY_HOST in env/local.env, 4100), with the partners file's
// connected partners (a `microsoft` entry: Fabrikam, its secret from FABRIKAM_GRAPH_CLIENT_SECRET as the bot reads it)
// and the customer instance's tenant (Contoso) registered, so Fabrikam's `delegate` creates a real (stand-in) GDAP
// relationship that Megan approves on the stand-in's admin center page. It prints the URLs to open. Ctrl-C stops all.
// Flags (after `npm run playground --`): --partner-port N, --customer-port N, --partner2-port N, --endpoint URL,
// --stand-in-port N, --no-stand-in.
// The bot must run in local mode (no MicrosoftAppId): the Playground sends no JWT.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const standInLib = require('./lib/stand-in.cjs');

function flag(name) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

/** What `npm start` gives the bot: env/local.env, the environment winning (as `node --env-file` does). */
const botEnv = standInLib.botEnvironment(repoRoot);
const botPort = Number(botEnv.PORT || 3978);
const endpoint = flag('endpoint') || process.env.BOT_ENDPOINT || `http://127.0.0.1:${botPort}/api/messages`;
const instances = [
  { name: 'partner', port: Number(flag('partner-port') || process.env.PARTNER_PLAYGROUND_PORT || 56150) },
  { name: 'customer', port: Number(flag('customer-port') || process.env.CUSTOMER_PLAYGROUND_PORT || 56151) },
  { name: 'partner2', port: Number(flag('partner2-port') || process.env.PARTNER2_PLAYGROUND_PORT || 56152) },
].map((i) => ({ ...i, configDir: path.join(repoRoot, 'env', 'playground', i.name) }));
const logDir = path.join(os.tmpdir(), 'm365agentsplayground');

/** The port of an http://127.0.0.1 or http://localhost URL, else undefined. */
function loopbackPort(url) {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' && ['127.0.0.1', 'localhost'].includes(u.hostname) ? Number(u.port || 80) : undefined;
  } catch {
    return undefined;
  }
}

const withStandIn = !process.argv.includes('--no-stand-in');
const standInPort = Number(
  flag('stand-in-port') || process.env.STAND_IN_PORT || loopbackPort(botEnv.MICROSOFT_AUTHORITY_HOST) || standInLib.DEFAULT_STAND_IN_PORT,
);
/** The running stand-in (closed by stopAll). */
let standIn;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function portFree(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, () => srv.close(() => resolve(true)));
  });
}

function httpOk(url) {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

function tcpOpen(host, port) {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.setTimeout(1000);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(false));
  });
}

/** Tenant and current user from the YAML (top-level `tenantId`, `currentUser.name/userPrincipleName`). */
function describe(configFile) {
  const text = fs.readFileSync(configFile, 'utf8');
  const tenant = text.match(/^tenantId:\s*"?([^"\s]+)/m)?.[1] ?? '?';
  const block = text.match(/^currentUser:\n((?:[ \t]+.*\n)+)/m)?.[1] ?? '';
  const userName = block.match(/^\s+name:\s*(.+)$/m)?.[1]?.trim() ?? '?';
  const upn = block.match(/^\s+userPrincipleName:\s*(.+)$/m)?.[1]?.trim() ?? '?';
  return { tenant, userName, upn };
}

function tail(file, lines = 30) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

let stopping = false;
const children = [];

function killGroup(child, signal) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      /* gone */
    }
  }
}

async function stopAll(code) {
  if (stopping) return;
  stopping = true;
  for (const c of children) killGroup(c, 'SIGTERM');
  const deadline = Date.now() + 5000;
  while (children.some((c) => c.exitCode === null && c.signalCode === null) && Date.now() < deadline) await sleep(100);
  for (const c of children) killGroup(c, 'SIGKILL');
  await standIn?.close().catch(() => undefined);
  console.log(`Playground instances${standIn ? ' and the Microsoft stand-in' : ''} stopped.`);
  process.exit(code);
}

process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));
process.on('SIGHUP', () => void stopAll(0));
// Last resort (an uncaught error): never leave a detached Playground behind.
process.on('exit', () => children.forEach((c) => killGroup(c, 'SIGKILL')));

async function start(inst) {
  const configFile = path.join(inst.configDir, '.m365agentsplayground.yml');
  if (!fs.existsSync(configFile)) throw new Error(`missing ${configFile}`);
  if (!(await portFree(inst.port))) {
    throw new Error(`port ${inst.port} (${inst.name}) is in use; stop the other process or pass --${inst.name}-port`);
  }
  fs.mkdirSync(logDir, { recursive: true });
  const logFile = path.join(logDir, `${inst.name}-${inst.port}.log`);
  const cli = require.resolve('@microsoft/m365agentsplayground/cli.js', { paths: [repoRoot] });
  const child = spawn(process.execPath, [cli, '-e', endpoint, '-c', 'msteams', '-p', String(inst.port), '--dt'], {
    cwd: inst.configDir, // the Playground reads .m365agentsplayground.yml from its working directory
    detached: true, // own process group: Ctrl-C reaches this script, which stops the group
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      TEAMSAPPTESTER_BROWSER: 'none',
      M365_AGENTS_PLAYGROUND_CONFIG_PATH: configFile,
      M365_AGENTS_PLAYGROUND_LOGFILE: logFile,
    },
  });
  children.push(child);
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => process.stderr.write(`[${inst.name}] ${d}`));
  child.on('exit', (code, signal) => {
    if (stopping) return;
    console.error(`\n[${inst.name}] Playground exited (code ${code}, signal ${signal}). Last log lines:\n${tail(logFile)}`);
    void stopAll(1);
  });
  const deadline = Date.now() + 60000;
  while (!(out.includes(`Listening on ${inst.port}`) && (await httpOk(`http://127.0.0.1:${inst.port}/`)))) {
    if (Date.now() > deadline) throw new Error(`${inst.name} Playground did not start; see ${logFile}`);
    await sleep(200);
  }
  return { ...inst, ...describe(configFile), logFile, url: `http://localhost:${inst.port}/` };
}

/**
 * The Microsoft stand-in in this process, with the partners file's connected partners and the customer instance's
 * tenant registered (scripts/lib/stand-in.cjs). The secrets are read from the bot's environment, so they match.
 */
async function startStandIn() {
  if (!Number.isInteger(standInPort) || standInPort <= 0 || standInPort > 65535) throw new Error(`not a port: ${standInPort}`);
  if (!(await portFree(standInPort))) {
    throw new Error(`port ${standInPort} (Microsoft stand-in) is in use; stop the other process or pass --stand-in-port`);
  }
  const customer = instances.find((i) => i.name === 'customer');
  const started = await standInLib.startStandIn({
    repoRoot,
    port: standInPort,
    env: botEnv,
    partnersFile: botEnv.PARTNERS_FILE || 'env/partners.sample.json',
    customerConfigFile: path.join(customer.configDir, '.m365agentsplayground.yml'),
  });
  standIn = started.standIn;
  return started;
}

/** Lines telling what the bot must be given if its MICROSOFT_* settings do not point at this stand-in. */
function settingsAdvice(url) {
  const wanted = standInLib.microsoftEnv(url);
  const wrong = Object.entries(wanted).filter(([k, v]) => (botEnv[k] ?? '').replace(/\/+$/, '') !== v);
  if (wrong.length === 0) return [];
  return [
    `  The bot's settings (env/local.env and the environment) do not point at this stand-in: start it with`,
    `    ${wrong.map(([k, v]) => `${k}=${v}`).join(' ')} npm start`,
  ];
}

try {
  const ms = withStandIn ? await startStandIn() : undefined;
  const started = await Promise.all(instances.map(start));
  const bot = new URL(endpoint);
  const botUp = await tcpOpen(bot.hostname, Number(bot.port || 80));
  console.log(
    `\nMicrosoft 365 Agents Playground -> bot ${endpoint}${botUp ? '' : '  (NOT reachable yet: start the bot with `npm start`)'}\n`,
  );
  for (const s of started) {
    console.log(`  ${s.name.padEnd(8)} ${s.url}   tenant ${s.tenant}, signed in as ${s.userName} <${s.upn}>`);
  }
  console.log(`\n  connector serviceUrls: ${started.map((s) => `http://localhost:${s.port}/_connector`).join(', ')}`);
  console.log(`  logs: ${started.map((s) => s.logFile).join(', ')}`);
  if (ms) {
    console.log(`\nMicrosoft stand-in (Entra token endpoint, Graph GDAP, admin center; nothing reaches Microsoft): ${ms.url}`);
    for (const p of ms.partners) {
      console.log(`  partner  ${p.displayName}, tenant ${p.tenantId}${p.clientId ? `, app ${p.clientId}` : ', no app'}`);
    }
    for (const c of ms.customers) console.log(`  customer ${c.displayName}, tenant ${c.tenantId}`);
    console.log(`  admin center (requests waiting for approval): ${ms.url}/AdminPortal/Home`);
    for (const note of ms.notes) console.log(`  note: ${note}`);
    for (const line of settingsAdvice(ms.url)) console.log(line);
    console.log('  It keeps its state in memory: after a restart it knows none of the relationships the bot created before.');
  }
  console.log('\nOpen the customer URL first: the bot learns a chat when its page connects (installationUpdate).');
  console.log("Then type in the partner's Personal Chat, e.g.  trial admin@contoso.com m365-business-premium, teams-essentials");
  if (ms) {
    console.log('Delegated admin through the stand-in:  delegate admin@contoso.com roles Exchange Administrator days 365');
    console.log(
      '  then, in the customer\'s chat, open the card\'s button "Review and approve in the Microsoft 365 admin center" and Approve.',
    );
  }
  console.log(`Ctrl-C stops all instances${ms ? ' and the stand-in' : ''}.\n`);
} catch (err) {
  console.error(`playground: ${err instanceof Error ? err.message : String(err)}`);
  await stopAll(1);
}
