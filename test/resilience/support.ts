import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../src/config';
import { channelNotice } from '../../src/notifications/channel';
import type { OutboxEntry } from '../../src/notifications/types';
import { applyDecision } from '../../src/offers/rules';
import { OFFER_CHANNEL } from '../../src/offers/service';
import { openStore } from '../../src/store/open';
import type { Store } from '../../src/store/types';
import { startConnectorSink, type ConnectorSink, type SinkRequest } from '../support/connector-sink';
import { freePort } from '../support/free-port';
import { trialOffer } from '../support/fixtures';
import { deliverCard, newResponse, notificationChannel, shortId } from '../store/support/fixtures';
import { channelConversation, sleep } from '../notifications/support';

export const REPO_ROOT = resolve(__dirname, '../..');
export const BOT_ENTRY = join(REPO_ROOT, 'dist/src/index.js');

/** The tests run the built bot, exactly as `npm start` does: without a build there is nothing to test. */
export function requireBuiltBot(): void {
  if (!existsSync(BOT_ENTRY)) throw new Error(`${BOT_ENTRY} is missing: run npm run build first`);
  const built = statSync(BOT_ENTRY).mtimeMs;
  const source = statSync(join(REPO_ROOT, 'src/notifications/deliverer.ts')).mtimeMs;
  if (source > built)
    console.warn('dist/ is older than src/notifications/deliverer.ts: these tests run the build; run npm run build first');
}

/** A bot process: its JSON log lines (stdout), its stderr, and how it ended. */
export interface BotProcess {
  name: string;
  child: ChildProcess;
  pid: number;
  base: string;
  /** Resolves once /healthz answers; rejects if it exits first or takes over 20 s. */
  ready: Promise<void>;
  /** pino lines, parsed, in order. */
  logs: Record<string, unknown>[];
  /** Its stderr and its warning and error log lines, for failure messages. */
  text(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  alive(): boolean;
  /** SIGKILL: no shutdown, no lease given back, the way a crash or `kill -9` ends it. */
  crash(): void;
  /** SIGTERM: the graceful shutdown `npm start` gets. */
  stop(): Promise<void>;
}

/**
 * Starts `node dist/src/index.js` (what `npm start` runs) in local mode on a free port with the store under `dataDir`.
 * Returned at once, because the deliverer starts sending before the server listens; `ready` resolves on /healthz.
 * `env` adds to (or overrides) the defaults below.
 */
export async function startBotProcess(name: string, dataDir: string, env: Record<string, string> = {}): Promise<BotProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--disable-warning=DEP0111', BOT_ENTRY], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'test',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      MicrosoftAppId: '',
      MicrosoftAppPassword: '',
      MONGODB_URI: '',
      PARTNERS_FILE: '',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  const errors: string[] = [];
  let partial = '';
  child.stdout.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (line.startsWith('{')) {
        try {
          logs.push(JSON.parse(line) as Record<string, unknown>);
          continue;
        } catch {
          // not a log line after all
        }
      }
    }
  });
  child.stderr.on('data', (chunk: Buffer) => errors.push(chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((ok) =>
    child.once('exit', (code, signal) => ok({ code, signal })),
  );
  const alive = () => child.exitCode === null && child.signalCode === null;
  // For failure messages: what it wrote to stderr and its warnings and errors (not the local-mode banner).
  const text = () => [...errors, ...logs.filter((l) => Number(l.level) >= 40).map((l) => JSON.stringify(l))].join('\n').slice(-4000);

  const base = `http://127.0.0.1:${port}`;
  const ready = (async () => {
    const started = Date.now();
    for (;;) {
      if (!alive())
        throw new Error(
          `bot ${name} exited with ${child.exitCode ?? child.signalCode} before it was ready (run npm run build first?):\n${text()}`,
        );
      if (
        await fetch(`${base}/healthz`).then(
          (r) => r.ok,
          () => false,
        )
      )
        return;
      if (Date.now() - started > 20_000) throw new Error(`bot ${name} was not ready within 20 s:\n${text()}`);
      await sleep(50);
    }
  })();
  ready.catch(() => undefined);
  return {
    name,
    child,
    pid: child.pid!,
    base,
    ready,
    logs,
    text,
    exited,
    alive,
    crash: () => void child.kill('SIGKILL'),
    async stop() {
      if (alive()) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** A fresh DATA_DIR and the store the bot will open there (same file, same code: `openStore` from the config). */
export async function sharedStore() {
  const dataDir = mkdtempSync(join(tmpdir(), 'resilience-'));
  const config = loadConfig({ DATA_DIR: dataDir, MONGODB_URI: '' });
  const store = await openStore(config, pino({ level: 'silent' }));
  return {
    dataDir,
    store,
    async close() {
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * What each test here runs on: the build checked, a connector sink, a fresh shared store, and the bot processes the
 * test starts (it pushes them to `bots`). `close` ends them all, whatever state the test left them in.
 */
export async function startRig() {
  requireBuiltBot();
  const sink = await startConnectorSink();
  const shared = await sharedStore().catch(async (err: unknown) => {
    await sink.close();
    throw err;
  });
  const bots: BotProcess[] = [];
  return {
    sink,
    store: shared.store,
    dataDir: shared.dataDir,
    bots,
    /** Kills the processes still running (as a crash would), waits for every one to end, then closes sink and store. */
    async close() {
      for (const b of bots) {
        if (b.alive()) b.crash();
        await b.exited;
      }
      await sink.close();
      await shared.close();
    },
  };
}

export type Rig = Awaited<ReturnType<typeof startRig>>;

export interface Seeded {
  offerId: string;
  conversationId: string;
  tenantId: string;
}

/** `tenants` × `perTenant` team channels whose serviceUrl is the sink, stored as the bot stores them. */
export async function seedConversations(store: Store, sink: ConnectorSink, tenants: number, perTenant: number) {
  const conversations = Array.from({ length: tenants * perTenant }, (_, i) => ({
    id: `19:resilience-${i}@thread.tacv2`,
    tenantId: `00000000-0000-4000-8000-${String(1 + (i % tenants)).padStart(12, '0')}`,
  }));
  for (const c of conversations) await store.conversations.upsert(channelConversation(c, sink.url));
  return conversations;
}

/**
 * `count` offers, each created with its card for one of `conversations` (round robin) through the store's real
 * `offers.create`, as the offer service writes them: one transaction per offer, an `offer.card` outbox entry the bot
 * renders from the offer when it sends it.
 */
export async function seedOffers(
  store: Store,
  conversations: { id: string; tenantId: string }[],
  count: number,
  from = 0,
): Promise<Seeded[]> {
  const now = new Date();
  const seeded: Seeded[] = [];
  for (let i = from; i < from + count; i++) {
    const c = conversations[i % conversations.length]!;
    const offer = trialOffer({
      id: shortId('T'),
      pendingKey: undefined,
      createdAt: now.toISOString(),
      deliveredAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + 30 * 86_400_000).toISOString(),
    });
    await store.offers.create(offer, [deliverCard(offer, c.id)]);
    seeded.push({ offerId: offer.id, conversationId: c.id, tenantId: c.tenantId });
  }
  return seeded;
}

/**
 * `partners` partners' notification channels, each a team channel in the partner's own tenant whose serviceUrl is the
 * sink, stored as `notify here` stores them (the conversation record and the partner's chosen channel).
 */
export async function seedPartnerChannels(store: Store, sink: ConnectorSink, partners: number) {
  const channels = Array.from({ length: partners }, (_, i) => ({
    id: `19:resilience-partner-${i}@thread.tacv2`,
    tenantId: `00000000-0000-4000-9000-${String(1 + i).padStart(12, '0')}`,
  }));
  for (const c of channels) {
    await store.conversations.upsert(channelConversation(c, sink.url));
    await store.channels.set(c.tenantId, notificationChannel({ conversationId: c.id, tenantId: c.tenantId, serviceUrl: sink.url }));
  }
  return channels;
}

/**
 * `count` accepted offers, round robin over the partners whose `channels` these are, each accepted through the store's
 * real `offers.decide` with the notice the offer service queues with an acceptance for the partner's chosen channel
 * (`channelNotice`): one `offer.channel` outbox entry per offer, which the bot renders when it sends it.
 */
export async function seedAcceptedOffers(store: Store, channels: { id: string; tenantId: string }[], count: number): Promise<Seeded[]> {
  const now = new Date();
  const seeded: Seeded[] = [];
  for (let i = 0; i < count; i++) {
    const c = channels[i % channels.length]!;
    const offer = trialOffer({
      id: shortId('T'),
      partnerTenantId: c.tenantId,
      pendingKey: undefined,
      createdAt: now.toISOString(),
      deliveredAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + 30 * 86_400_000).toISOString(),
    });
    await store.offers.create(offer, []);
    const notice = await channelNotice(
      store,
      c.tenantId,
      { kind: OFFER_CHANNEL, args: { offerId: offer.id } },
      { kind: 'offer', id: offer.id },
    );
    if (notice.length !== 1) throw new Error(`no channel notice for partner ${c.tenantId}`);
    const result = await store.offers.decide(
      applyDecision(offer, 'accepted', now),
      offer.version,
      newResponse(offer, 'accepted', { at: now.toISOString() }),
      notice,
    );
    if (result.status !== 'recorded') throw new Error(`offer ${offer.id}: the acceptance was not recorded (${result.status})`);
    seeded.push({ offerId: offer.id, conversationId: c.id, tenantId: c.tenantId });
  }
  return seeded;
}

/** The seeded offer a request carried (its card names the offer id), if any. */
export function offerIdOf(r: SinkRequest, ids: Set<string>): string | undefined {
  const found = new Set((JSON.stringify(r.body).match(/\bT-[2-9A-HJ-NP-Z]{6}\b/g) ?? []).filter((id) => ids.has(id)));
  if (found.size > 1) throw new Error(`one request carried several seeded offers: ${[...found].join(', ')}`);
  return [...found][0];
}

/** The outbox entry of each seeded offer (one each), as the store holds it now. */
export async function entriesOf(store: Store, seeded: Seeded[]): Promise<Map<string, OutboxEntry>> {
  const out = new Map<string, OutboxEntry>();
  for (const s of seeded) {
    const entries = await store.outbox.forSubject(s.offerId);
    if (entries.length !== 1) throw new Error(`offer ${s.offerId} has ${entries.length} outbox entries`);
    out.set(s.offerId, entries[0]!);
  }
  return out;
}

/** How many times each offer reached the sink (requests it took), by offer id. */
export function arrivalsByOffer(requests: SinkRequest[], ids: Set<string>): Map<string, SinkRequest[]> {
  const by = new Map<string, SinkRequest[]>();
  for (const r of requests) {
    if (r.method !== 'POST' || !r.accepted) continue;
    const id = offerIdOf(r, ids);
    if (!id) continue;
    let list = by.get(id);
    if (!list) by.set(id, (list = []));
    list.push(r);
  }
  return by;
}
