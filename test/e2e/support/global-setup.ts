import path from 'node:path';
import { chromium } from 'playwright-core';
import { startStandIn } from '../../../scripts/lib/stand-in.cjs';
import { CHROMIUM_ARGS } from './browser-args';
import { E2E_PARTNERS_FILE, STAND_IN_ENV, STAND_IN_HANDLE, type E2EStandIn } from './stand-in';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { findChromium } = require('../../../scripts/lib/browser.cjs') as {
  findChromium: () => Promise<{ executablePath: string; source: string }>;
};

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

/**
 * Runs once before any end-to-end suite: finds Chromium and starts it once. Without one that starts, nothing else
 * runs (no bot, no Playground is started) and the run ends with one line that says what to do. Then starts the local
 * Microsoft stand-in (stand-in/, from dist) for the whole run, with the tenants `npm run playground` registers
 * (scripts/lib/stand-in.cjs) and a fresh secret for each connected partner; global-teardown.ts stops it.
 */
export default async function globalSetup(): Promise<void> {
  let found;
  try {
    found = await findChromium();
  } catch (err) {
    console.error(`\n${(err as Error).message}\n`);
    process.exit(1);
  }
  try {
    const browser = await chromium.launch({
      executablePath: found.executablePath,
      headless: true,
      args: [...CHROMIUM_ARGS],
      timeout: 30_000,
    });
    await browser.close();
  } catch (err) {
    console.error(`\nChromium at ${found.executablePath} (${found.source}) could not start: ${launchFailure(err)}\n`);
    process.exit(1);
  }
  // The suites' browsers are launched from this path (workers inherit the environment).
  process.env.CHROMIUM_PATH = found.executablePath;
  console.log(`\nEnd-to-end tests use Chromium at ${found.executablePath} (${found.source}).`);

  let started;
  try {
    started = await startStandIn({
      repoRoot: REPO_ROOT,
      port: 0, // any free port: a `npm run playground` left running keeps 4100
      partnersFile: E2E_PARTNERS_FILE,
      customerConfigFile: path.join('env', 'playground', 'customer', '.m365agentsplayground.yml'),
      secrets: 'generate',
    });
  } catch (err) {
    console.error(`\nThe Microsoft stand-in could not start: ${(err as Error).message}\n`);
    process.exit(1);
  }
  if (started.notes.length > 0) console.warn(`Microsoft stand-in: ${started.notes.join('; ')}`);
  (globalThis as Record<string, unknown>)[STAND_IN_HANDLE] = started.standIn;
  // Read by the suites (support/stand-in.ts): the bot they start gets `botEnv` (MICROSOFT_* and the secrets).
  const shared: E2EStandIn = { url: started.url, botEnv: started.botEnv };
  process.env[STAND_IN_ENV] = JSON.stringify(shared);
  console.log(`Microsoft stand-in at ${started.url} (${started.partners.map((p) => p.displayName).join(', ')}; customer Contoso).`);
}

/** Playwright's launch error is a page of flags and call log; one line of it says what happened. */
function launchFailure(err: unknown): string {
  const text = String((err as Error)?.message ?? err)
    .replaceAll(`${String.fromCharCode(27)}[2m`, '')
    .replaceAll(`${String.fromCharCode(27)}[22m`, '');
  const first = (text.split('\n')[0] ?? '').replace(/^browserType\.launch: /, '');
  const exit = /process did exit: exitCode=(\d+)/.exec(text)?.[1];
  const stderr = /\[err\] (.+)/.exec(text)?.[1];
  return [first, exit ? `it exited with code ${exit}` : '', stderr ?? ''].filter(Boolean).join('; ');
}
