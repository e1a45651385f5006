'use strict';
/**
 * The one place that finds a Chromium for the end-to-end tests and the dashboard benchmark, so that `npm test` needs
 * nothing but Node. In order: CHROMIUM_PATH; a Chromium or Chrome installed where Linux, macOS and Windows put it; on
 * Linux x64, the Chromium inside the @sparticuz/chromium npm package (a binary in the registry tarball, extracted to
 * the temp folder on first use).
 */
const fs = require('node:fs');
const path = require('node:path');

class BrowserNotFoundError extends Error {
  constructor(message) {
    super(message);
    this.name = 'BrowserNotFoundError';
  }
}

function installed() {
  if (process.platform === 'darwin') {
    return [
      '/Applications/Chromium.app/Contents/MacOS/Chromium',
      '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
      path.join(process.env.HOME ?? '', 'Applications/Google Chrome.app/Contents/MacOS/Google Chrome'),
    ];
  }
  if (process.platform === 'win32') {
    const roots = [process.env.PROGRAMFILES, process.env['PROGRAMFILES(X86)'], process.env.LOCALAPPDATA].filter(Boolean);
    return roots.flatMap((root) => [
      path.join(root, 'Google/Chrome/Application/chrome.exe'),
      path.join(root, 'Chromium/Application/chrome.exe'),
    ]);
  }
  return [
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
    '/usr/bin/google-chrome',
    '/usr/bin/google-chrome-stable',
    '/snap/bin/chromium',
  ];
}

const WHAT_TO_INSTALL =
  'No Chromium found for the end-to-end tests: set CHROMIUM_PATH to a Chromium or Chrome executable, or install one ' +
  '(Debian/Ubuntu: apt-get install chromium; macOS: Google Chrome; Windows: Google Chrome). On Linux x64 `npm ci` ' +
  'provides one through @sparticuz/chromium.';

/** Resolves `{ executablePath, source }` or rejects with one line saying what to install. */
async function findChromium() {
  const configured = process.env.CHROMIUM_PATH;
  if (configured) {
    if (!fs.existsSync(configured)) throw new BrowserNotFoundError(`CHROMIUM_PATH is ${configured}, and there is no file there.`);
    return { executablePath: configured, source: 'CHROMIUM_PATH' };
  }
  const found = installed().find((p) => fs.existsSync(p));
  if (found) return { executablePath: found, source: 'installed' };
  if (process.platform === 'linux' && process.arch === 'x64') {
    let sparticuz;
    try {
      sparticuz = require('@sparticuz/chromium');
    } catch {
      throw new BrowserNotFoundError(WHAT_TO_INSTALL);
    }
    const executablePath = await (sparticuz.default ?? sparticuz).executablePath();
    return { executablePath, source: '@sparticuz/chromium' };
  }
  throw new BrowserNotFoundError(WHAT_TO_INSTALL);
}

module.exports = { findChromium, BrowserNotFoundError };
