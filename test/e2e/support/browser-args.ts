/** Flags this closed network needs: without the background-networking ones Chromium keeps calling Google's hosts. */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The Chromium the global setup found and started once (see global-setup.ts). */
export function chromiumPath(): string {
  const found = process.env.CHROMIUM_PATH;
  if (!found)
    throw new Error('CHROMIUM_PATH is not set: run the end-to-end tests through jest.e2e.config.js, whose global setup finds Chromium');
  return found;
}
