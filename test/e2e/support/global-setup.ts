import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS } from './browser-args';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { findChromium } = require('../../../scripts/lib/browser.cjs') as {
  findChromium: () => Promise<{ executablePath: string; source: string }>;
};

/**
 * Runs once before any end-to-end suite: finds Chromium and starts it once. Without one that starts, nothing else
 * runs (no bot, no Playground is started) and the run ends with one line that says what to do.
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
