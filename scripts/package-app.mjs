#!/usr/bin/env node
// npm run package [-- --env env/.env.dev] [--manifest manifest/manifest.json] [--out build]
//
// Builds the Teams app package build/appPackage.<env>.zip: manifest/manifest.json with
// ${{TEAMS_APP_ID}}, ${{BOT_ID}}, ${{TAB_ENDPOINT}}, ${{TAB_DOMAIN}} and ${{AAD_APP_CLIENT_ID}}
// substituted, validated against the schema named in its $schema (the copy shipped by
// @microsoft/app-manifest), plus its icons.
import { createRequire } from 'node:module';
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const lib = require('./lib/app-package.cjs');

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const usage = `Usage: npm run package -- [--env <file>] [--manifest <manifest.json>] [--out <dir>]

  --env <file>       KEY=VALUE file (e.g. env/.env.dev) with the variables below; the
                     environment name is taken from its name. Variables already set
                     in the environment win over the file.
  --manifest <file>  manifest template (default: manifest/manifest.json); the icons
                     it names are read from the same folder.
  --out <dir>        output folder (default: build/)

Variables:
  TEAMS_APP_ID       the Teams app id (a GUID)
  BOT_ID             the bot's Microsoft App ID (falls back to MicrosoftAppId)
  TAB_ENDPOINT       public https address of the bot's server, no path (e.g. a dev
                     tunnel); the Offers tab is <TAB_ENDPOINT>/tab/index.html
  TAB_DOMAIN         optional; TAB_ENDPOINT's host[:port], which it must equal if set
  AAD_APP_CLIENT_ID  optional; the tab's Entra app (client) id for Teams SSO
                     (default: BOT_ID)
  AAD_APP_ID_URI     optional; if set, checked to be api://<TAB_DOMAIN>/<AAD_APP_CLIENT_ID>

Without --env the environment is "local" (or $TEAMSFX_ENV); for "local" missing ids
fall back to fixed development GUIDs and a missing TAB_ENDPOINT to
https://localhost:3978, with a warning. Elsewhere they are required.`;

async function main() {
  let args;
  try {
    ({ values: args } = parseArgs({
      options: {
        env: { type: 'string' },
        manifest: { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    throw new lib.AppPackageError(`${e instanceof Error ? e.message : String(e)}\n\n${usage}`);
  }
  if (args.help) {
    console.log(usage);
    return;
  }

  /** @type {Record<string, string>} */
  let fileVars = {};
  let envName;
  if (args.env) {
    const envFile = path.resolve(args.env);
    if (!existsSync(envFile)) throw new lib.AppPackageError(`--env file not found: ${envFile}`);
    fileVars = lib.parseEnvFile(readFileSync(envFile, 'utf8'));
    envName = lib.envNameFromFile(envFile, fileVars);
  } else {
    envName = lib.sanitizeEnvName(process.env.TEAMSFX_ENV || 'local');
  }

  const { values, warnings } = lib.resolvePlaceholderValues({ env: process.env, fileVars, envName });
  for (const w of warnings) console.warn(`warning: ${w}`);

  const manifestPath = path.resolve(args.manifest ?? path.join(root, 'manifest', 'manifest.json'));
  const outFile = path.join(path.resolve(args.out ?? path.join(root, 'build')), `appPackage.${envName}.zip`);
  const result = await lib.buildAppPackage({ manifestPath, values, outFile });

  console.log(
    `Wrote ${path.relative(process.cwd(), result.outFile) || result.outFile} ` +
      `(environment "${envName}", manifest ${String(result.manifest.manifestVersion)}, ` +
      `app id ${values.TEAMS_APP_ID}, bot id ${values.BOT_ID}, tab ${values.TAB_ENDPOINT}/tab/index.html, ` +
      `SSO client id ${values.AAD_APP_CLIENT_ID}): ${result.entries.join(', ')}`,
  );
}

main().catch((e) => {
  if (e instanceof lib.AppPackageError) {
    console.error(`package-app: ${e.message}`);
  } else {
    console.error('package-app: unexpected error');
    console.error(e);
  }
  process.exitCode = 1;
});
