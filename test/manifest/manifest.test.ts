import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { inflateSync } from 'node:zlib';
import AdmZip from 'adm-zip';
import * as appPackage from '../../scripts/lib/app-package.cjs';

// @microsoft/app-manifest requires strip-bom, which is an ES module. Plain Node (>= 20.19,
// as `npm run package` runs) loads it through require(esm); jest's CommonJS module registry
// on Node 20 cannot. The validator never calls it for a manifest passed as an object, so
// jest gets a CommonJS stand-in. The CLI tests below run the real thing in a child process.
jest.mock('strip-bom', () => (s: string) => (s.charCodeAt(0) === 0xfeff ? s.slice(1) : s));

jest.setTimeout(60_000);

const root = path.resolve(__dirname, '..', '..');
const manifestDir = path.join(root, 'manifest');
const templatePath = path.join(manifestDir, 'manifest.json');
const packageScript = path.join(root, 'scripts', 'package-app.mjs');
const template = fs.readFileSync(templatePath, 'utf8');

const APP_ID = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
const BOT_ID = '9b2d1c4e-7a55-4e0f-8c1d-2f6a3b4c5d6e';
const TAB_ENDPOINT = 'https://partner-offers.example.com';
const TAB_DOMAIN = 'partner-offers.example.com';
const CLIENT_ID = '5d7c1f2a-3b4e-4c6d-9e8f-0a1b2c3d4e5f';
const VALUES = { TEAMS_APP_ID: APP_ID, BOT_ID, TAB_ENDPOINT, TAB_DOMAIN, AAD_APP_CLIENT_ID: CLIENT_ID };
/** The settings that feed the placeholders, none of which the tests may inherit from the process. */
const SETTINGS = ['TEAMS_APP_ID', 'BOT_ID', 'MicrosoftAppId', 'TAB_ENDPOINT', 'TAB_DOMAIN', 'AAD_APP_CLIENT_ID', 'AAD_APP_ID_URI'];

type Json = Record<string, unknown>;
interface Command {
  title: string;
  description?: string;
}
interface CommandList {
  scopes: string[];
  commands: Command[];
}
interface StaticTab {
  entityId: string;
  name?: string;
  contentUrl?: string;
  websiteUrl?: string;
  scopes: string[];
}
interface Bot {
  botId: string;
  scopes: string[];
  supportsFiles?: boolean;
  isNotificationOnly?: boolean;
  commandLists: CommandList[];
}

function substituted(values: Record<string, string> = VALUES): Json {
  return JSON.parse(appPackage.substitutePlaceholders(template, values)) as Json;
}

function botOf(manifest: Json): Bot {
  const bots = manifest.bots as Bot[];
  expect(bots).toHaveLength(1);
  return bots[0] as Bot;
}

function staticTab(manifest: Json, entityId: string): StaticTab {
  const tabs = (manifest.staticTabs ?? []) as StaticTab[];
  const matching = tabs.filter((t) => t.entityId === entityId);
  expect(matching).toHaveLength(1);
  return matching[0] as StaticTab;
}

function webApplicationInfo(manifest: Json): { id: string; resource: string } {
  return manifest.webApplicationInfo as { id: string; resource: string };
}

/** The settings a non-local environment needs, plus `extra`. */
function prodSettings(extra: Record<string, string> = {}): Record<string, string> {
  return { TEAMS_APP_ID: APP_ID, BOT_ID, TAB_ENDPOINT, ...extra };
}

function resolveError(options: Parameters<typeof appPackage.resolvePlaceholderValues>[0]): InstanceType<typeof appPackage.AppPackageError> {
  try {
    appPackage.resolvePlaceholderValues(options);
  } catch (e) {
    expect(e).toBeInstanceOf(appPackage.AppPackageError);
    return e as InstanceType<typeof appPackage.AppPackageError>;
  }
  throw new Error('resolvePlaceholderValues did not throw');
}

const tmpDirs: string[] = [];
function tmpDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'app-package-test-'));
  tmpDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tmpDirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** Runs `node scripts/package-app.mjs ...` with no ids or tab settings inherited from this process. */
function runPackageScript(args: string[], extraEnv: Record<string, string> = {}) {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extraEnv };
  for (const key of [...SETTINGS, 'TEAMSFX_ENV']) {
    if (!(key in extraEnv)) delete env[key];
  }
  return spawnSync(process.execPath, [packageScript, ...args], { cwd: root, env, encoding: 'utf8' });
}

/** IHDR of a PNG, read by hand: width, height, bit depth, colour type. */
function ihdr(png: Buffer) {
  expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  expect(png.toString('latin1', 12, 16)).toBe('IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20), bitDepth: png[24], colorType: png[25] };
}

/** RGBA pixels of a non-interlaced 8-bit RGBA PNG (all five scanline filters). */
function rgbaPixels(png: Buffer): Buffer {
  const { width, height, bitDepth, colorType } = ihdr(png);
  expect([bitDepth, colorType, png[28]]).toEqual([8, 6, 0]);
  const idat: Buffer[] = [];
  for (let off = 8; off < png.length;) {
    const len = png.readUInt32BE(off);
    if (png.toString('latin1', off + 4, off + 8) === 'IDAT') idat.push(png.subarray(off + 8, off + 8 + len));
    off += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * 4;
  const out = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    for (let x = 0; x < stride; x++) {
      const v = raw[y * (stride + 1) + 1 + x] ?? 0;
      const a = x >= 4 ? (out[y * stride + x - 4] ?? 0) : 0;
      const b = y > 0 ? (out[(y - 1) * stride + x] ?? 0) : 0;
      const c = x >= 4 && y > 0 ? (out[(y - 1) * stride + x - 4] ?? 0) : 0;
      let pred = 0;
      if (filter === 1) pred = a;
      else if (filter === 2) pred = b;
      else if (filter === 3) pred = (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      out[y * stride + x] = (v + pred) & 0xff;
    }
  }
  return out;
}

describe('manifest/manifest.json', () => {
  it('uses the v1.30 schema, with $schema and manifestVersion agreeing', () => {
    const manifest = JSON.parse(template) as Json;
    expect(manifest.$schema).toBe('https://developer.microsoft.com/json-schemas/teams/v1.30/MicrosoftTeams.schema.json');
    expect(manifest.manifestVersion).toBe('1.30');
    // the schema is the copy shipped by @microsoft/app-manifest, not a download
    expect(fs.existsSync(appPackage.shippedSchemaPath(manifest.$schema as string))).toBe(true);
  });

  it('has exactly the BOT_ID, TEAMS_APP_ID, TAB_ENDPOINT, TAB_DOMAIN and AAD_APP_CLIENT_ID placeholders', () => {
    expect(appPackage.listPlaceholders(template).sort()).toEqual([
      'AAD_APP_CLIENT_ID',
      'BOT_ID',
      'TAB_DOMAIN',
      'TAB_ENDPOINT',
      'TEAMS_APP_ID',
    ]);
    const raw = JSON.parse(template) as Json;
    expect(raw.id).toBe('${{TEAMS_APP_ID}}');
    expect(botOf(raw).botId).toBe('${{BOT_ID}}');
    expect(staticTab(raw, 'offers-dashboard')).toMatchObject({
      contentUrl: '${{TAB_ENDPOINT}}/tab/index.html',
      websiteUrl: '${{TAB_ENDPOINT}}/tab/index.html',
    });
    expect(raw.webApplicationInfo).toEqual({ id: '${{AAD_APP_CLIENT_ID}}', resource: 'api://${{TAB_DOMAIN}}/${{AAD_APP_CLIENT_ID}}' });
    expect(raw.validDomains).toEqual(['${{TAB_DOMAIN}}']);
    const manifest = substituted();
    expect(manifest.id).toBe(APP_ID);
    expect(botOf(manifest).botId).toBe(BOT_ID);
    expect(JSON.stringify(manifest)).not.toContain('${{');
  });

  it("validates against Microsoft's published schema once the placeholders are substituted", async () => {
    await expect(appPackage.validateManifest(substituted())).resolves.toEqual([]);
    // with the values the package script works out, for local (development defaults) and for another environment
    const local = appPackage.resolvePlaceholderValues({ env: {}, envName: 'local' }).values;
    await expect(appPackage.validateManifest(substituted(local))).resolves.toEqual([]);
    const dev = appPackage.resolvePlaceholderValues({
      env: {},
      fileVars: { TEAMS_APP_ID: APP_ID, MicrosoftAppId: BOT_ID, TAB_ENDPOINT: 'https://abc123-3978.euw.devtunnels.ms' },
      envName: 'dev',
    }).values;
    await expect(appPackage.validateManifest(substituted(dev))).resolves.toEqual([]);
  });

  it('fails validation when broken, proving the validator runs', async () => {
    const badScope = substituted();
    botOf(badScope).scopes.push('nonsense');
    const scopeErrors = await appPackage.validateManifest(badScope);
    expect(scopeErrors.some((e) => e.includes('/bots/0/scopes/3') && e.includes('allowed values'))).toBe(true);

    const noName = substituted();
    delete noName.name;
    const nameErrors = await appPackage.validateManifest(noName);
    expect(nameErrors.some((e) => e.includes("required property 'name'"))).toBe(true);

    // the raw template is not a valid manifest: ${{TEAMS_APP_ID}} is not a GUID
    const unsubstituted = await appPackage.validateManifest(JSON.parse(template) as Json);
    expect(unsubstituted.some((e) => e.startsWith('/id ') && e.includes('pattern'))).toBe(true);
  });

  it('names the app and its developer as required', () => {
    const manifest = substituted();
    expect(manifest.name).toEqual({ short: 'Partner Offers', full: 'Partner Offers for Microsoft cloud partners' });
    const developer = manifest.developer as Record<string, string>;
    for (const key of ['websiteUrl', 'privacyUrl', 'termsOfUseUrl']) {
      expect(developer[key]).toMatch(/^https:\/\//);
    }
    expect(manifest.icons).toEqual({ color: 'color.png', outline: 'outline.png' });
    const full = (manifest.description as Record<string, string>).full;
    expect(full).toMatch(/Offers tab/);
    expect(full).toMatch(/dashboard/);
    expect(full).toMatch(/delegated-admin relationships/);
  });

  it('has the Offers dashboard as a personal static tab at <TAB_ENDPOINT>/tab/index.html, next to the bot chat', () => {
    const manifest = substituted();
    const tabs = manifest.staticTabs as StaticTab[];
    expect(new Set(tabs.map((t) => t.entityId)).size).toBe(tabs.length);
    expect(staticTab(manifest, 'offers-dashboard')).toEqual({
      entityId: 'offers-dashboard',
      name: 'Offers',
      contentUrl: `${TAB_ENDPOINT}/tab/index.html`,
      websiteUrl: `${TAB_ENDPOINT}/tab/index.html`,
      scopes: ['personal'],
    });
    // the reserved "conversations" entity keeps the personal bot chat as a tab of the personal app;
    // listed first, the chat stays where the app opens (customers use the app too, and the dashboard is for partners)
    expect(staticTab(manifest, 'conversations')).toEqual({ entityId: 'conversations', scopes: ['personal'] });
    expect(tabs.map((t) => t.entityId)).toEqual(['conversations', 'offers-dashboard']);
    expect(botOf(manifest).scopes).toContain('personal');
  });

  it('enables Teams SSO for the tab: webApplicationInfo names api://<TAB_DOMAIN>/<client id>, a valid domain', () => {
    const manifest = substituted();
    expect(webApplicationInfo(manifest)).toEqual({ id: CLIENT_ID, resource: `api://${TAB_DOMAIN}/${CLIENT_ID}` });
    expect(manifest.validDomains).toEqual([TAB_DOMAIN]);
    // the tab's content and the SSO resource are on the one valid domain
    const resource = /^api:\/\/([^/]+)\/([^/]+)$/.exec(webApplicationInfo(manifest).resource);
    expect(resource?.[1]).toBe((manifest.validDomains as string[])[0]);
    expect(resource?.[2]).toBe(webApplicationInfo(manifest).id);
    expect(new URL(staticTab(manifest, 'offers-dashboard').contentUrl ?? '').host).toBe(TAB_DOMAIN);
  });

  it('declares one conversational bot for personal, team and group chat', () => {
    const bot = botOf(substituted());
    expect([...bot.scopes].sort()).toEqual(['groupChat', 'personal', 'team']);
    expect(bot.supportsFiles).toBe(false);
    expect(bot.isNotificationOnly).toBe(false);
  });

  it('lists the commands for each scope, each with a usage hint', () => {
    const { commandLists } = botOf(substituted());
    const listFor = (scope: string) => {
      const lists = commandLists.filter((l) => l.scopes.includes(scope));
      expect(lists).toHaveLength(1);
      return lists[0] as CommandList;
    };
    const titles = (l: CommandList) => l.commands.map((c) => c.title);

    const personal = listFor('personal');
    expect(personal.scopes).toEqual(['personal']);
    expect(titles(personal)).toEqual([
      'help',
      'trial',
      'offer',
      'delegate',
      'status',
      'withdraw',
      'customers',
      'offers',
      'partners',
      'support',
    ]);

    const shared = listFor('team');
    expect(listFor('groupChat')).toBe(shared);
    expect([...shared.scopes].sort()).toEqual(['groupChat', 'team']);
    expect(titles(shared)).toEqual(['help', 'trial', 'offer', 'delegate', 'status', 'withdraw', 'customers']);

    for (const list of commandLists) {
      expect(list.commands.length).toBeLessThanOrEqual(10);
      for (const c of list.commands) expect(c.description?.trim()).toBeTruthy();
    }
    // Teams drops anything shaped like an HTML tag from text it shows, so `<customer-email>` would read as nothing.
    for (const list of commandLists)
      for (const c of list.commands) expect([c.title, c.description]).toEqual([c.title, expect.not.stringMatching(/[<>]/)]);
    const descriptions = Object.fromEntries(personal.commands.map((c) => [c.title, c.description]));
    expect(descriptions).toEqual({
      help: 'What this bot can do',
      trial: 'trial ‹customer-email› ‹service›[, ‹service›...] [with admin]',
      offer: 'offer ‹customer-email› ‹qty› ‹service›[, ...] monthly|annual [with admin] [as partner of record]',
      delegate: 'delegate ‹customer-email› [roles ‹role›, ...] [days ‹1-730›] [auto-extend]',
      status: 'status [‹id›|‹customer-email›]',
      withdraw: 'withdraw ‹id›',
      customers: 'Your customers and their offers',
      offers: 'Offers and requests waiting for your answer',
      partners: 'Your delegated-admin partner and partner of record',
      support: 'How to reach Microsoft support directly',
    });
    for (const c of shared.commands) expect(c.description).toBe(descriptions[c.title]);
  });

  it('ships icons of the required sizes: colour 192x192, outline 32x32 white on transparent', () => {
    const color = fs.readFileSync(path.join(manifestDir, 'color.png'));
    expect(ihdr(color)).toMatchObject({ width: 192, height: 192 });
    expect(appPackage.readPngSize(color)).toEqual({ width: 192, height: 192 });

    const outline = fs.readFileSync(path.join(manifestDir, 'outline.png'));
    expect(ihdr(outline)).toMatchObject({ width: 32, height: 32, colorType: 6 });
    const px = rgbaPixels(outline);
    let transparent = 0;
    let opaque = 0;
    for (let i = 0; i < px.length; i += 4) {
      const alpha = px[i + 3] ?? 0;
      if (alpha === 0) transparent++;
      else {
        if (alpha === 255) opaque++;
        expect([px[i], px[i + 1], px[i + 2]]).toEqual([255, 255, 255]);
      }
    }
    expect(transparent).toBeGreaterThan(0);
    expect(opaque).toBeGreaterThan(0);
  });
});

describe('placeholder values', () => {
  it('takes TEAMS_APP_ID and BOT_ID, falling back to MicrosoftAppId, environment over file', () => {
    const fileVars = appPackage.parseEnvFile(`# ids\nTEAMS_APP_ID=${APP_ID}\nMicrosoftAppId="${BOT_ID}"\nTAB_ENDPOINT=${TAB_ENDPOINT}\n`);
    expect(appPackage.resolvePlaceholderValues({ env: {}, fileVars, envName: 'dev' }).values).toMatchObject({
      TEAMS_APP_ID: APP_ID,
      BOT_ID,
    });
    const other = '0f0f0f0f-1111-4222-8333-444444444444';
    const { values, warnings } = appPackage.resolvePlaceholderValues({
      env: { TEAMS_APP_ID: other, BOT_ID: other },
      fileVars,
      envName: 'dev',
    });
    expect(values).toMatchObject({ TEAMS_APP_ID: other, BOT_ID: other });
    expect(warnings).toEqual([]);
  });

  it('uses the development ids with a warning for local only', () => {
    const local = appPackage.resolvePlaceholderValues({ env: {}, envName: 'local' });
    expect(local.values).toMatchObject(appPackage.DEV_IDS);
    expect(local.warnings.filter((w) => /^(TEAMS_APP_ID|BOT_ID) is not set/.test(w))).toHaveLength(2);
    expect(() => appPackage.resolvePlaceholderValues({ env: {}, envName: 'prod' })).toThrow(/TEAMS_APP_ID is not set/);
  });

  it("takes TAB_DOMAIN from TAB_ENDPOINT's host, port included, and normalises TAB_ENDPOINT", () => {
    const resolve = (endpoint: string) =>
      appPackage.resolvePlaceholderValues({ env: prodSettings({ TAB_ENDPOINT: endpoint }), envName: 'prod' });
    const plain = resolve(TAB_ENDPOINT);
    expect(plain.values).toMatchObject({ TAB_ENDPOINT, TAB_DOMAIN });
    expect(plain.warnings).toEqual([]);
    expect(resolve('https://localhost:53000').values).toMatchObject({
      TAB_ENDPOINT: 'https://localhost:53000',
      TAB_DOMAIN: 'localhost:53000',
    });
    // a trailing slash, upper case and the default port are tidied away, so the tab URL has no "//"
    expect(resolve('https://Partner-Offers.Example.com:443/').values).toMatchObject({ TAB_ENDPOINT, TAB_DOMAIN });
    const manifest = substituted(resolve('https://Partner-Offers.Example.com/').values);
    expect(staticTab(manifest, 'offers-dashboard').contentUrl).toBe(`${TAB_ENDPOINT}/tab/index.html`);
    expect(manifest.validDomains).toEqual([TAB_DOMAIN]);
  });

  it("accepts a TAB_DOMAIN that is TAB_ENDPOINT's host, and refuses any other", () => {
    const values = (extra: Record<string, string>) =>
      appPackage.resolvePlaceholderValues({ env: prodSettings(extra), envName: 'prod' }).values;
    expect(values({ TAB_DOMAIN }).TAB_DOMAIN).toBe(TAB_DOMAIN);
    expect(values({ TAB_ENDPOINT: 'https://localhost:53000', TAB_DOMAIN: 'localhost:53000' }).TAB_DOMAIN).toBe('localhost:53000');

    const other = resolveError({ env: prodSettings({ TAB_DOMAIN: 'other.example.com' }), envName: 'prod' });
    expect(other.message).toMatch(/TAB_DOMAIN \(other\.example\.com\) is not the host of TAB_ENDPOINT \(partner-offers\.example\.com\)/);
    const withScheme = resolveError({ env: prodSettings({ TAB_DOMAIN: TAB_ENDPOINT }), envName: 'prod' });
    expect(withScheme.message).toMatch(/TAB_DOMAIN must be a host name with an optional port, without scheme or path/);
  });

  it('uses BOT_ID (or MicrosoftAppId) as AAD_APP_CLIENT_ID unless that is set', () => {
    const botOnly = appPackage.resolvePlaceholderValues({ env: prodSettings(), envName: 'prod' }).values;
    expect(botOnly.AAD_APP_CLIENT_ID).toBe(BOT_ID);
    expect(webApplicationInfo(substituted(botOnly))).toEqual({ id: BOT_ID, resource: `api://${TAB_DOMAIN}/${BOT_ID}` });

    const fromMicrosoftAppId = appPackage.resolvePlaceholderValues({
      env: {},
      fileVars: { TEAMS_APP_ID: APP_ID, MicrosoftAppId: BOT_ID, TAB_ENDPOINT },
      envName: 'prod',
    }).values;
    expect(fromMicrosoftAppId.AAD_APP_CLIENT_ID).toBe(BOT_ID);

    const own = appPackage.resolvePlaceholderValues({
      env: { AAD_APP_CLIENT_ID: CLIENT_ID },
      fileVars: prodSettings({ AAD_APP_CLIENT_ID: APP_ID }),
      envName: 'prod',
    }).values;
    expect(own).toMatchObject({ BOT_ID, AAD_APP_CLIENT_ID: CLIENT_ID }); // environment over file, as for the ids
    const manifest = substituted(own);
    expect(botOf(manifest).botId).toBe(BOT_ID);
    expect(webApplicationInfo(manifest)).toEqual({ id: CLIENT_ID, resource: `api://${TAB_DOMAIN}/${CLIENT_ID}` });

    const local = appPackage.resolvePlaceholderValues({ env: {}, envName: 'local' }).values;
    expect(local.AAD_APP_CLIENT_ID).toBe(appPackage.DEV_IDS.BOT_ID);
  });

  it("checks AAD_APP_ID_URI, the bot server's SSO audience, against the manifest's resource when it is set", () => {
    const ok = appPackage.resolvePlaceholderValues({
      env: prodSettings({ AAD_APP_CLIENT_ID: CLIENT_ID, AAD_APP_ID_URI: `api://${TAB_DOMAIN}/${CLIENT_ID}` }),
      envName: 'prod',
    });
    expect(ok.values.AAD_APP_CLIENT_ID).toBe(CLIENT_ID);
    const wrong = resolveError({
      env: prodSettings({ AAD_APP_CLIENT_ID: CLIENT_ID, AAD_APP_ID_URI: `api://old-tunnel.example.com/${CLIENT_ID}` }),
      envName: 'prod',
    });
    expect(wrong.message).toContain(
      `AAD_APP_ID_URI (api://old-tunnel.example.com/${CLIENT_ID}) is not api://<TAB_DOMAIN>/<AAD_APP_CLIENT_ID> = api://${TAB_DOMAIN}/${CLIENT_ID}`,
    );
  });

  it('uses https://localhost:3978 for the tab with a warning when TAB_ENDPOINT is unset for local', () => {
    const local = appPackage.resolvePlaceholderValues({ env: { TEAMS_APP_ID: APP_ID, BOT_ID }, envName: 'local' });
    expect(local.values).toMatchObject({ TAB_ENDPOINT: 'https://localhost:3978', TAB_DOMAIN: 'localhost:3978' });
    expect(local.warnings).toHaveLength(1);
    expect(local.warnings[0]).toMatch(/^TAB_ENDPOINT is not set; using the development address https:\/\/localhost:3978/);
    expect(local.warnings[0]).toMatch(/public https address/);
    // all three development defaults at once
    expect(appPackage.resolvePlaceholderValues({ env: {}, envName: 'local' }).warnings).toHaveLength(3);
    // a TAB_ENDPOINT that is set is used for local too, without a warning
    const tunnel = appPackage.resolvePlaceholderValues({
      env: { TEAMS_APP_ID: APP_ID, BOT_ID, TAB_ENDPOINT: 'https://abc123-3978.euw.devtunnels.ms' },
      envName: 'local',
    });
    expect(tunnel.values.TAB_DOMAIN).toBe('abc123-3978.euw.devtunnels.ms');
    expect(tunnel.warnings).toEqual([]);
  });

  it('refuses a missing TAB_ENDPOINT outside local, listed with any missing ids', () => {
    const noTab = resolveError({ env: { TEAMS_APP_ID: APP_ID, BOT_ID }, envName: 'prod' });
    expect(noTab.message).toMatch(/^Missing settings for environment "prod"/);
    expect(noTab.details).toEqual([expect.stringMatching(/^TAB_ENDPOINT is not set/)]);
    const nothing = resolveError({ env: {}, fileVars: { TAB_ENDPOINT: '' }, envName: 'prod' });
    expect(nothing.details).toHaveLength(3);
    expect(nothing.details[2]).toMatch(/^TAB_ENDPOINT is not set/);
  });

  it('refuses a TAB_ENDPOINT that is not https, or has a path, with a clear message', () => {
    for (const envName of ['prod', 'local']) {
      const http = resolveError({ env: prodSettings({ TAB_ENDPOINT: 'http://partner-offers.example.com' }), envName });
      expect(http.message).toMatch(/^Invalid settings for environment/);
      expect(http.details).toEqual([
        expect.stringContaining(
          'TAB_ENDPOINT must be an https URL, got "http://partner-offers.example.com": Teams only loads tab content over https',
        ),
      ]);
    }
    for (const bad of [`${TAB_ENDPOINT}/tab`, `${TAB_ENDPOINT}/tab/index.html`, `${TAB_ENDPOINT}?x=1`, `${TAB_ENDPOINT}#top`]) {
      const err = resolveError({ env: prodSettings({ TAB_ENDPOINT: bad }), envName: 'prod' });
      expect(err.details).toEqual([expect.stringContaining('TAB_ENDPOINT must be just scheme, host and optional port, with no path')]);
    }
    const notUrl = resolveError({ env: prodSettings({ TAB_ENDPOINT: TAB_DOMAIN }), envName: 'prod' });
    expect(notUrl.details).toEqual([expect.stringContaining(`TAB_ENDPOINT is not a URL: "${TAB_DOMAIN}"`)]);
  });

  it('refuses to leave a placeholder without a value', () => {
    expect(() => appPackage.substitutePlaceholders(template, { TEAMS_APP_ID: APP_ID })).toThrow(/\$\{\{BOT_ID\}\}/);
  });
});

describe('npm run package (scripts/package-app.mjs)', () => {
  it('writes build/appPackage.<env>.zip with exactly manifest.json, color.png and outline.png', () => {
    const dir = tmpDir();
    const envFile = path.join(dir, '.env.test');
    fs.writeFileSync(envFile, `TEAMSFX_ENV=test\nTEAMS_APP_ID=${APP_ID}\nBOT_ID=${BOT_ID}\nTAB_ENDPOINT=${TAB_ENDPOINT}\n`);
    const out = path.join(dir, 'out');

    const run = runPackageScript(['--env', envFile, '--out', out]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);

    const zipFile = path.join(out, 'appPackage.test.zip');
    const zip = new AdmZip(zipFile);
    expect(
      zip
        .getEntries()
        .map((e) => e.entryName)
        .sort(),
    ).toEqual(['color.png', 'manifest.json', 'outline.png']);

    const manifestText = zip.readAsText('manifest.json');
    expect(manifestText).not.toContain('${{');
    const manifest = JSON.parse(manifestText) as Json;
    expect(manifest.id).toBe(APP_ID);
    expect(botOf(manifest).botId).toBe(BOT_ID);
    expect(staticTab(manifest, 'offers-dashboard').contentUrl).toBe(`${TAB_ENDPOINT}/tab/index.html`);
    expect(webApplicationInfo(manifest)).toEqual({ id: BOT_ID, resource: `api://${TAB_DOMAIN}/${BOT_ID}` });
    expect(manifest.validDomains).toEqual([TAB_DOMAIN]);

    const color = zip.readFile('color.png');
    const outline = zip.readFile('outline.png');
    if (!color || !outline) throw new Error('icons missing from the package');
    expect(ihdr(color)).toMatchObject({ width: 192, height: 192 });
    expect(ihdr(outline)).toMatchObject({ width: 32, height: 32 });
  });

  it('packages for local with the development ids and a warning when no ids are set', () => {
    const out = path.join(tmpDir(), 'out');
    const run = runPackageScript(['--out', out]);
    expect(run.status).toBe(0);
    expect(run.stderr).toMatch(/warning: TEAMS_APP_ID is not set/);
    expect(run.stderr).toMatch(/warning: BOT_ID is not set/);
    expect(run.stderr).toMatch(/warning: TAB_ENDPOINT is not set; using the development address https:\/\/localhost:3978/);
    const manifest = JSON.parse(new AdmZip(path.join(out, 'appPackage.local.zip')).readAsText('manifest.json')) as Json;
    expect(manifest.id).toBe(appPackage.DEV_IDS.TEAMS_APP_ID);
    expect(botOf(manifest).botId).toBe(appPackage.DEV_IDS.BOT_ID);
    expect(staticTab(manifest, 'offers-dashboard').contentUrl).toBe('https://localhost:3978/tab/index.html');
    expect(webApplicationInfo(manifest).id).toBe(appPackage.DEV_IDS.BOT_ID);
    expect(manifest.validDomains).toEqual(['localhost:3978']);
  });

  it('exits non-zero with a readable message, and writes nothing, when the manifest is invalid', () => {
    const dir = tmpDir();
    const broken = JSON.parse(template) as Json;
    botOf(broken).scopes.push('nonsense');
    fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(broken, null, 2));
    for (const icon of ['color.png', 'outline.png']) fs.copyFileSync(path.join(manifestDir, icon), path.join(dir, icon));
    const out = path.join(dir, 'out');

    const run = runPackageScript(['--manifest', path.join(dir, 'manifest.json'), '--out', out], {
      TEAMS_APP_ID: APP_ID,
      MicrosoftAppId: BOT_ID,
    });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('does not validate against https://developer.microsoft.com/json-schemas/teams/v1.30/');
    expect(run.stderr).toMatch(/\/bots\/0\/scopes\/3 must be equal to one of the allowed values/);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('exits non-zero when an id is missing outside local', () => {
    const dir = tmpDir();
    const envFile = path.join(dir, '.env.prod');
    fs.writeFileSync(envFile, `TEAMS_APP_ID=${APP_ID}\nBOT_ID=\nTAB_ENDPOINT=${TAB_ENDPOINT}\n`);
    const run = runPackageScript(['--env', envFile, '--out', path.join(dir, 'out')]);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/BOT_ID \(or MicrosoftAppId\) is not set/);
    expect(run.stderr).not.toMatch(/TAB_ENDPOINT/);
  });

  it('exits non-zero, and writes nothing, without TAB_ENDPOINT outside local or with an http one', () => {
    const dir = tmpDir();
    const envFile = path.join(dir, '.env.prod');
    const out = path.join(dir, 'out');
    fs.writeFileSync(envFile, `TEAMS_APP_ID=${APP_ID}\nBOT_ID=${BOT_ID}\n`);
    const missing = runPackageScript(['--env', envFile, '--out', out]);
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toMatch(/Missing settings for environment "prod"[^]*TAB_ENDPOINT is not set/);

    const http = runPackageScript(['--env', envFile, '--out', out], { TAB_ENDPOINT: 'http://partner-offers.example.com' });
    expect(http.status).not.toBe(0);
    expect(http.stderr).toMatch(/TAB_ENDPOINT must be an https URL, got "http:\/\/partner-offers\.example\.com"/);
    expect(fs.existsSync(out)).toBe(false);
  });
});
