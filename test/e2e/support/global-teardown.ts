import { STAND_IN_HANDLE } from './stand-in';

/** Runs once after every end-to-end suite: stops the Microsoft stand-in the global setup started. */
export default async function globalTeardown(): Promise<void> {
  const g = globalThis as Record<string, unknown>;
  const standIn = g[STAND_IN_HANDLE] as { close(): Promise<void> } | undefined;
  delete g[STAND_IN_HANDLE];
  await standIn?.close();
}
