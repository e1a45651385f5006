'use strict';
// Builds the Teams app package (manifest.json + icons in a zip) for Partner Offers.
//
// The reusable part of `npm run package` (scripts/package-app.mjs): placeholder
// substitution, validation against Microsoft's published manifest schema (the copy
// that @microsoft/app-manifest ships, never fetched over the network), icon size
// checks and writing the zip. CommonJS so the jest tests can require it; types for
// TypeScript callers are in app-package.d.cts next to this file.

const fs = require('node:fs');
const path = require('node:path');

/**
 * Fixed ids used when packaging for the `local` environment without real ids.
 * They are valid GUIDs so the manifest validates, but no Entra app or Azure Bot
 * has them: a package built with them can be inspected, not used in Teams.
 */
const DEV_IDS = Object.freeze({
  TEAMS_APP_ID: '00000000-0000-4000-8000-00000000a991',
  BOT_ID: '00000000-0000-4000-8000-00000000b071',
});

/** Pixel size Teams requires for each kind of icon named in `icons`. */
const ICON_SIZES = Object.freeze({ color: 192, outline: 32, color32x32: 32 });

/** Teams Toolkit style placeholder: ${{NAME}}. */
const PLACEHOLDER = /\$\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/** An error whose `details` are meant to be printed one per line. */
class AppPackageError extends Error {
  /**
   * @param {string} message
   * @param {string[]} [details]
   */
  constructor(message, details = []) {
    super(details.length ? `${message}\n  - ${details.join('\n  - ')}` : message);
    this.name = 'AppPackageError';
    /** @type {string[]} */
    this.details = details;
  }
}

/**
 * Parses a `.env` style file: KEY=VALUE lines, `#` comments, blank lines,
 * an optional `export ` prefix and optional single or double quotes around VALUE.
 * @param {string} text
 * @returns {Record<string, string>}
 */
function parseEnvFile(text) {
  /** @type {Record<string, string>} */
  const vars = {};
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    const key = /** @type {string} */ (m[1]);
    let value = /** @type {string} */ (m[2]);
    const quoted = /^(["'])(.*)\1$/.exec(value);
    if (quoted) {
      value = /** @type {string} */ (quoted[2]);
    } else {
      value = value.replace(/\s+#.*$/, '').trim();
    }
    vars[key] = value;
  }
  return vars;
}

/**
 * The environment name an env file stands for: `env/.env.dev` -> `dev`.
 * Falls back to TEAMSFX_ENV inside the file, then to the file's base name.
 * @param {string} envFile
 * @param {Record<string, string>} [fileVars]
 * @returns {string}
 */
function envNameFromFile(envFile, fileVars = {}) {
  const base = path.basename(envFile);
  const m = /^\.env\.([^.]+)$/.exec(base);
  const name = (m && m[1]) || fileVars.TEAMSFX_ENV || base.replace(/^\.+/, '').replace(/\.env$/, '');
  return sanitizeEnvName(name);
}

/**
 * @param {string} name
 * @returns {string}
 */
function sanitizeEnvName(name) {
  const clean = name.replace(/[^A-Za-z0-9_-]/g, '');
  if (!clean) throw new AppPackageError(`Invalid environment name: ${JSON.stringify(name)}`);
  return clean;
}

/**
 * Where the tab is said to be when packaging for the `local` environment without
 * TAB_ENDPOINT: the bot server's default port. The server itself speaks plain http,
 * so Teams cannot load the tab from here; the package can be inspected, not used.
 */
const DEV_TAB_ENDPOINT = 'https://localhost:3978';

/** A host name with an optional port, as TAB_DOMAIN must be: no scheme, path or wildcard. */
const HOST_AND_PORT = /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*(?::\d{1,5})?$/i;

/**
 * Checks TAB_ENDPOINT: an https origin (scheme, host, optional port) with no path,
 * query or fragment; one trailing slash is tolerated. Returns it normalised
 * (lower-case host, no default port, no trailing slash) and its host[:port].
 * @param {string} raw
 * @returns {{ endpoint: string, host: string } | { error: string }}
 */
function parseTabEndpoint(raw) {
  const example = 'e.g. https://partner-offers.example.com or https://abc123-3978.euw.devtunnels.ms';
  let url;
  try {
    url = new URL(raw);
  } catch {
    return { error: `TAB_ENDPOINT is not a URL: ${JSON.stringify(raw)} (${example})` };
  }
  if (url.protocol !== 'https:') {
    return {
      error:
        `TAB_ENDPOINT must be an https URL, got ${JSON.stringify(raw)}: Teams only loads tab content over https. ` +
        `Use the public https address of the bot's server (${example}); for local testing put an https tunnel in front of it.`,
    };
  }
  if (
    url.username ||
    url.password ||
    (url.pathname !== '/' && url.pathname !== '') ||
    url.search ||
    url.hash ||
    raw.includes('?') ||
    raw.includes('#')
  ) {
    return {
      error:
        `TAB_ENDPOINT must be just scheme, host and optional port, with no path, query or trailing parts, got ${JSON.stringify(raw)}: ` +
        `the tab is served at <TAB_ENDPOINT>/tab/index.html (${example}).`,
    };
  }
  return { endpoint: url.origin, host: url.host };
}

/**
 * Works out the placeholder values. `env` (the process environment) wins over
 * `fileVars` (the --env file), as with dotenv. Empty values count as unset.
 * - TEAMS_APP_ID, and BOT_ID falling back to MicrosoftAppId. For the `local`
 *   environment missing ids fall back to DEV_IDS with a warning; for any other
 *   environment they are an error.
 * - TAB_ENDPOINT: the public https origin of the bot's server, which serves the
 *   tab at /tab/index.html. For `local` it falls back to DEV_TAB_ENDPOINT with a
 *   warning; elsewhere it is required. It must be https with no path.
 * - TAB_DOMAIN: TAB_ENDPOINT's host[:port]. If set, it must be that host.
 * - AAD_APP_CLIENT_ID: the tab's Entra app (client) id, defaulting to BOT_ID
 *   (one app registration for both bot and tab). If AAD_APP_ID_URI (the bot
 *   server's setting) is set, it must be api://<TAB_DOMAIN>/<AAD_APP_CLIENT_ID>,
 *   the manifest's webApplicationInfo.resource.
 * @param {{ env?: Record<string, string | undefined>, fileVars?: Record<string, string>, envName?: string }} [options]
 * @returns {{ values: Record<string, string>, warnings: string[] }}
 */
function resolvePlaceholderValues(options = {}) {
  const { env = process.env, fileVars = {}, envName = 'local' } = options;
  /** @param {string} key */
  const get = (key) => {
    const v = env[key] !== undefined && env[key] !== '' ? env[key] : fileVars[key];
    return v === undefined || v === '' ? undefined : v.trim();
  };
  /** @type {Record<string, string>} */
  const values = {};
  for (const [key, v] of Object.entries(fileVars)) if (v !== '') values[key] = v;
  for (const [key, v] of Object.entries(env)) if (v !== undefined && v !== '') values[key] = v;

  const warnings = [];
  const missing = [];
  const ids = {
    TEAMS_APP_ID: get('TEAMS_APP_ID'),
    BOT_ID: get('BOT_ID') ?? get('MicrosoftAppId'),
  };
  for (const key of /** @type {const} */ (['TEAMS_APP_ID', 'BOT_ID'])) {
    const v = ids[key];
    if (v !== undefined) {
      values[key] = v;
    } else if (envName === 'local') {
      values[key] = DEV_IDS[key];
      warnings.push(
        `${key} is not set; using the development id ${DEV_IDS[key]}. ` + 'This package will not work in Teams until real ids are set.',
      );
    } else {
      missing.push(key === 'BOT_ID' ? 'BOT_ID (or MicrosoftAppId) is not set' : 'TEAMS_APP_ID is not set');
    }
  }

  let tabEndpoint = get('TAB_ENDPOINT');
  if (tabEndpoint === undefined) {
    if (envName === 'local') {
      tabEndpoint = DEV_TAB_ENDPOINT;
      warnings.push(
        `TAB_ENDPOINT is not set; using the development address ${DEV_TAB_ENDPOINT} for the Offers tab. ` +
          "Teams cannot load the tab from there: set TAB_ENDPOINT to the bot server's public https address (e.g. a dev tunnel).",
      );
    } else {
      missing.push("TAB_ENDPOINT is not set (the public https address of the bot's server, which serves the Offers tab)");
    }
  }
  if (missing.length) {
    throw new AppPackageError(`Missing settings for environment "${envName}" (set them in the --env file or the environment):`, missing);
  }

  const invalid = [];
  const tab = parseTabEndpoint(/** @type {string} */ (tabEndpoint));
  if ('error' in tab) {
    invalid.push(tab.error);
  } else {
    values.TAB_ENDPOINT = tab.endpoint;
    values.TAB_DOMAIN = tab.host;
    const domain = get('TAB_DOMAIN');
    if (domain !== undefined) {
      if (!HOST_AND_PORT.test(domain)) {
        invalid.push(
          `TAB_DOMAIN must be a host name with an optional port, without scheme or path (like ${tab.host}), got ${JSON.stringify(domain)}`,
        );
      } else if (new URL(`https://${domain}`).host !== tab.host) {
        invalid.push(
          `TAB_DOMAIN (${domain}) is not the host of TAB_ENDPOINT (${tab.host}): Teams loads the tab from TAB_ENDPOINT and ` +
            "gives SSO tokens only for the domain in api://<TAB_DOMAIN>/<client id>. Unset TAB_DOMAIN to use TAB_ENDPOINT's host.",
        );
      }
    }
  }
  const clientId = get('AAD_APP_CLIENT_ID') ?? values.BOT_ID;
  if (clientId !== undefined) values.AAD_APP_CLIENT_ID = clientId;
  const idUri = get('AAD_APP_ID_URI');
  if (idUri !== undefined && values.TAB_DOMAIN !== undefined && clientId !== undefined) {
    const resource = `api://${values.TAB_DOMAIN}/${clientId}`;
    if (idUri.replace(/\/+$/, '').toLowerCase() !== resource.toLowerCase()) {
      invalid.push(
        `AAD_APP_ID_URI (${idUri}) is not api://<TAB_DOMAIN>/<AAD_APP_CLIENT_ID> = ${resource}, the manifest's ` +
          'webApplicationInfo.resource: Teams SSO needs them to be the same Application ID URI.',
      );
    }
  }
  if (invalid.length) {
    throw new AppPackageError(`Invalid settings for environment "${envName}":`, invalid);
  }
  return { values, warnings };
}

/**
 * Names of the ${{NAME}} placeholders in `text`, in order of first appearance.
 * @param {string} text
 * @returns {string[]}
 */
function listPlaceholders(text) {
  const names = new Set();
  for (const m of text.matchAll(PLACEHOLDER)) names.add(m[1]);
  return [...names];
}

/**
 * Replaces every ${{NAME}} in a JSON text with values[NAME], escaped for use
 * inside a JSON string. Throws listing the placeholders that have no value.
 * @param {string} text
 * @param {Record<string, string>} values
 * @returns {string}
 */
function substitutePlaceholders(text, values) {
  const missing = listPlaceholders(text).filter((n) => values[n] === undefined);
  if (missing.length) {
    throw new AppPackageError(
      'No value for these manifest placeholders:',
      missing.map((n) => '${{' + n + '}}'),
    );
  }
  return text.replace(PLACEHOLDER, (_m, name) => JSON.stringify(/** @type {string} */ (values[name])).slice(1, -1));
}

/** @returns {typeof import('@microsoft/app-manifest')} */
function appManifestModule() {
  return require('@microsoft/app-manifest');
}

/** Root folder of the installed @microsoft/app-manifest package. */
function appManifestPackageDir() {
  return path.dirname(require.resolve('@microsoft/app-manifest/package.json'));
}

/**
 * Path of the copy of `schemaUrl` shipped by @microsoft/app-manifest. Throws if
 * the URL is not a Teams manifest schema, or if the package does not ship that
 * version (the package would otherwise try to download it).
 * @param {string} schemaUrl
 * @returns {string}
 */
function shippedSchemaPath(schemaUrl) {
  let url;
  try {
    url = new URL(schemaUrl);
  } catch {
    throw new AppPackageError(`$schema is not a URL: ${JSON.stringify(schemaUrl)}`);
  }
  // developer.microsoft.com/en-us/json-schemas/... is the same file as /json-schemas/...
  const m = /^\/(?:[a-z]{2}(?:-[a-z]{2})?\/)?(json-schemas\/teams\/[^?#]+)$/i.exec(url.pathname);
  if (url.protocol !== 'https:' || url.hostname !== 'developer.microsoft.com' || !m) {
    throw new AppPackageError(
      `$schema must be a Teams manifest schema under https://developer.microsoft.com/json-schemas/teams/, got ${schemaUrl}`,
    );
  }
  const rel = /** @type {string} */ (m[1]);
  const root = path.join(appManifestPackageDir(), 'build');
  const file = path.join(root, ...rel.split('/'));
  if (!file.startsWith(root + path.sep) || !fs.existsSync(file)) {
    const teamsDir = path.join(root, 'json-schemas', 'teams');
    const shipped = fs.existsSync(teamsDir) ? fs.readdirSync(teamsDir).join(', ') : 'none';
    throw new AppPackageError(`@microsoft/app-manifest does not ship the schema ${schemaUrl} (it ships: ${shipped}).`);
  }
  return file;
}

/**
 * Validates a manifest object against the schema named in its `$schema`, using
 * @microsoft/app-manifest (AppManifestUtils.fetchSchema, which reads the copy the
 * package ships, and AppManifestUtils.validateAgainstSchema, which runs ajv the way
 * Teams Toolkit does). Resolves to the list of errors, empty when valid.
 * @param {Record<string, unknown>} manifest
 * @returns {Promise<string[]>}
 */
async function validateManifest(manifest) {
  const schemaUrl = manifest.$schema;
  if (typeof schemaUrl !== 'string' || !schemaUrl) {
    return ['/ must have a "$schema" naming the Teams manifest schema version'];
  }
  shippedSchemaPath(schemaUrl); // refuse anything that would be fetched over the network
  const { AppManifestUtils } = appManifestModule();
  const schema = await AppManifestUtils.fetchSchema(schemaUrl);
  return AppManifestUtils.validateAgainstSchema(
    /** @type {import('@microsoft/app-manifest').AppManifest} */ (/** @type {unknown} */ (manifest)),
    schema,
  );
}

/**
 * Width and height from a PNG's IHDR chunk. Throws if `buf` is not a PNG.
 * @param {Buffer} buf
 * @returns {{ width: number, height: number }}
 */
function readPngSize(buf) {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (buf.length < 24 || !buf.subarray(0, 8).equals(signature) || buf.toString('latin1', 12, 16) !== 'IHDR') {
    throw new AppPackageError('not a PNG file');
  }
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

/**
 * Reads the icon files named in `manifest.icons` (relative to `dir`) and checks
 * that each is a PNG of the size Teams requires.
 * @param {Record<string, unknown>} manifest
 * @param {string} dir
 * @returns {{ files: Array<{ name: string, data: Buffer }>, errors: string[] }}
 */
function readIcons(manifest, dir) {
  const icons = /** @type {Record<string, unknown>} */ (manifest.icons ?? {});
  /** @type {Array<{ name: string, data: Buffer }>} */
  const files = [];
  /** @type {string[]} */
  const errors = [];
  for (const [kind, rel] of Object.entries(icons)) {
    if (typeof rel !== 'string') continue;
    const name = path.posix.normalize(rel.replace(/\\/g, '/'));
    if (name.includes('/') || name.startsWith('.')) {
      errors.push(`icons.${kind}: "${rel}" must be a file next to manifest.json`);
      continue;
    }
    const file = path.join(dir, name);
    if (!fs.existsSync(file)) {
      errors.push(`icons.${kind}: ${file} does not exist`);
      continue;
    }
    const data = fs.readFileSync(file);
    const want = ICON_SIZES[/** @type {keyof typeof ICON_SIZES} */ (kind)];
    try {
      const { width, height } = readPngSize(data);
      if (want !== undefined && (width !== want || height !== want)) {
        errors.push(`icons.${kind}: ${name} is ${width}x${height}, Teams requires ${want}x${want}`);
      }
    } catch {
      errors.push(`icons.${kind}: ${name} is not a PNG file`);
    }
    if (!files.some((f) => f.name === name)) files.push({ name, data });
  }
  return { files, errors };
}

/**
 * Substitutes placeholders in the manifest at `manifestPath`, validates it
 * against its schema, checks the icons and writes `outFile`: a zip with
 * manifest.json and the icons at its root. Throws AppPackageError (with one
 * detail per problem) when anything is wrong; nothing is written then.
 * @param {{ manifestPath: string, values: Record<string, string>, outFile: string }} options
 * @returns {Promise<{ outFile: string, entries: string[], manifest: Record<string, unknown> }>}
 */
async function buildAppPackage({ manifestPath, values, outFile }) {
  const text = substitutePlaceholders(fs.readFileSync(manifestPath, 'utf8').replace(/^\uFEFF/, ''), values);
  /** @type {Record<string, unknown>} */
  let manifest;
  try {
    manifest = JSON.parse(text);
  } catch (e) {
    throw new AppPackageError(`${manifestPath} is not valid JSON after substitution: ${/** @type {Error} */ (e).message}`);
  }
  const schemaErrors = await validateManifest(manifest);
  if (schemaErrors.length) {
    throw new AppPackageError(
      `${manifestPath} does not validate against ${String(manifest.$schema)}:`,
      schemaErrors.map((e) => (e.startsWith(' ') ? `(root)${e}` : e)),
    );
  }
  const { files, errors } = readIcons(manifest, path.dirname(manifestPath));
  if (errors.length) throw new AppPackageError('Icon problems:', errors);

  const AdmZip = require('adm-zip');
  const zip = new AdmZip();
  zip.addFile('manifest.json', Buffer.from(text, 'utf8'));
  for (const f of files) zip.addFile(f.name, f.data);
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  zip.writeZip(outFile);
  return { outFile, entries: zip.getEntries().map((e) => e.entryName), manifest };
}

module.exports = {
  AppPackageError,
  DEV_IDS,
  DEV_TAB_ENDPOINT,
  ICON_SIZES,
  parseEnvFile,
  envNameFromFile,
  sanitizeEnvName,
  resolvePlaceholderValues,
  listPlaceholders,
  substitutePlaceholders,
  shippedSchemaPath,
  validateManifest,
  readPngSize,
  readIcons,
  buildAppPackage,
};
