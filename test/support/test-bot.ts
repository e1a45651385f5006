import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, type App } from '../../src/app';
import { loadConfig } from '../../src/config';
import { loadCatalog } from '../../src/directory/catalog';
import { microsoftApps, partnerCenterApps, readPartnersFile } from '../../src/directory/partners';
import { seedPartners } from '../../src/directory/seed';
import { createLogger, type Logger } from '../../src/log';
import { openSqliteStore } from '../../src/store/sqlite';
import type { Store } from '../../src/store/types';
import { cardAction, message } from './activities';
import { cardText, startConnectorSink, type ConnectorSink, type RosterMember } from './connector-sink';
import type { TeamsUser } from './people';
import type { MicrosoftStandIn } from '../../stand-in';

/** The bot's ids: a letter (T, P, D, R, M, C), a dash, and six characters without look-alikes (no I, L, O, 0, 1). */
const idPattern = (prefix: string) => `\\b${prefix}-[2-9A-HJKMNP-Z]{6}\\b`;

/** The first id with this prefix (a letter, or a class like `[TP]`) in `text`. */
export const idIn = (prefix: string, text: string) => new RegExp(idPattern(prefix)).exec(text)?.[0];

/**
 * What the bot answers a card action with (Teams' invoke response): a card, a message, or an error. The bot types
 * `value` as an object whatever it holds (a message is a string); read `Click.text` for what a person sees.
 */
export interface InvokeBody {
  statusCode: number;
  type: string;
  value: { code?: string; message?: string } & Record<string, unknown>;
}

export interface Click {
  status: number;
  body: InvokeBody;
  /** What the person reads: the card's text, the message, or the error's message. */
  text: string;
}

/** What a person reads in an invoke answer: a message as it is, an error's message, a card's text. */
function readInvoke(body: InvokeBody): string {
  const value: unknown = body.value;
  if (typeof value === 'string') return value;
  if (body.type === 'application/vnd.microsoft.error') return body.value.message ?? '';
  return cardText(value);
}

/** A chat, a user's personal chat or a channel thread, by its conversation id. */
type Chat = Pick<TeamsUser, 'conversationId'>;

export interface TestBot {
  url: string;
  app: App;
  store: Store;
  sink: ConnectorSink;
  /** The test's clock: move it to make time pass. */
  clock: { now: Date };
  /** Posts an activity as Teams would; resolves with the HTTP status and parsed body. */
  post(activity: object, headers?: Record<string, string>): Promise<{ status: number; body: unknown }>;
  /**
   * Sends `text` as `as`, a minute after the previous message on the test's clock: tables that order by creation
   * time see the order it was typed in.
   */
  sayLater(text: string, as: TeamsUser): Promise<{ status: number; body: unknown }>;
  /** Sends `text` as `as` from their personal chat, at the test clock's time. */
  say(text: string, as: TeamsUser): Promise<{ status: number; body: unknown }>;
  /** Presses a card button (`Action.Execute` with this verb and data) as `as`. */
  click(
    verb: string,
    data: Record<string, unknown>,
    as: TeamsUser,
    o?: { replyToId?: string; trigger?: 'manual' | 'automatic' },
  ): Promise<Click>;
  /** The text of the last message the bot sent into a chat ('' if none). */
  lastReply(chat: Chat): string;
  /** How many messages the bot has sent into a chat: pass it to `repliesSince` later. */
  replyCount(chat: Chat): number;
  /** The text of each message the bot sent into a chat after the first `n`. */
  repliesSince(chat: Chat, n: number): string[];
  /** The text of the latest message in a chat that mentions `id` (a card the bot sent about it). */
  cardFor(chat: Chat, id: string): string;
  /** The newest id with this prefix (T, P, D, R...) in what the bot sent to that user's chat. */
  lastIdSentTo(prefix: string, as: TeamsUser): string;
  /** Waits until every queued notification has been handed to the connector sink. */
  drain(): Promise<void>;
  meet(...users: TeamsUser[]): void;
  close(): Promise<void>;
}

/** The real app (config, SQLite file, adapter, restify) on port 0, talking to a local connector sink. */
export async function startTestBot(
  o: {
    env?: Record<string, string>;
    start?: Date;
    log?: Logger;
    turnSendTimeoutMs?: number;
    /**
     * Connects the partners file's partners that name an Entra app to this Microsoft stand-in, with these secrets
     * (variable name -> value). Without it every partner is record-only, whatever the file says.
     */
    microsoft?: { standIn: MicrosoftStandIn; secrets: Record<string, string>; timeoutMs?: number };
    partnersFile?: string;
    /** A catalog file other than the built-in one (CATALOG_FILE). */
    catalogFile?: string;
    /** Reuse this data folder (a restart): the caller removes it. */
    dataDir?: string;
  } = {},
): Promise<TestBot> {
  const dir = o.dataDir ?? mkdtempSync(join(tmpdir(), 'partner-offers-'));
  const ms = o.microsoft?.standIn;
  const config = loadConfig({
    DATA_DIR: dir,
    LOG_LEVEL: 'silent',
    ...(ms
      ? {
          MICROSOFT_AUTHORITY_HOST: ms.url,
          MICROSOFT_GRAPH_BASE_URL: ms.graphBaseUrl,
          MICROSOFT_ADMIN_CENTER_URL: ms.url,
          PARTNER_CENTER_BASE_URL: ms.partnerCenterBaseUrl,
        }
      : {}),
    ...o.env,
  });
  const clock = { now: o.start ?? new Date('2026-11-25T09:00:00.000Z') };
  const store = openSqliteStore(join(dir, 'test.sqlite'), () => clock.now);
  const catalog = loadCatalog(o.catalogFile);
  const sink = await startConnectorSink();
  const partners = readPartnersFile(o.partnersFile ?? 'env/partners.sample.json', catalog);
  const app = createApp({
    config,
    store,
    catalog,
    clock: () => clock.now,
    log: o.log ?? createLogger('silent'),
    delivery: { enabled: false },
    sweeper: { enabled: false },
    turnSendTimeoutMs: o.turnSendTimeoutMs,
    ...(o.microsoft
      ? {
          microsoft: {
            apps: microsoftApps(partners),
            partnerCenterApps: partnerCenterApps(partners),
            sources: { env: o.microsoft.secrets, readFile: (p) => readFileSync(p, 'utf8') },
            ...(o.microsoft.timeoutMs ? { timeoutMs: o.microsoft.timeoutMs } : {}),
          },
        }
      : {}),
  });
  await seedPartners(store, partners, app.marketplace.seed);
  await new Promise<void>((resolve) => app.server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${app.server.address().port}`;

  const texts = (chat: Chat) => sink.sentTo(chat.conversationId).map((r) => sink.textOf(r));

  const post: TestBot['post'] = async (activity, headers = {}) => {
    const res = await fetch(`${url}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(activity),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON: keep the text */
    }
    return { status: res.status, body };
  };

  return {
    url,
    app,
    store,
    sink,
    clock,
    post,
    sayLater(text, as) {
      clock.now = new Date(clock.now.getTime() + 60_000);
      return post(message(text, as, sink.url));
    },
    say: (text, as) => post(message(text, as, sink.url)),
    async click(verb, data, as, o = {}) {
      const res = await post(cardAction(verb, data, as, sink.url, o));
      const body = res.body as InvokeBody;
      return { status: res.status, body, text: readInvoke(body) };
    },
    lastReply(chat) {
      const last = sink.sentTo(chat.conversationId).at(-1);
      return last ? sink.textOf(last) : '';
    },
    replyCount: (chat) => sink.sentTo(chat.conversationId).length,
    repliesSince: (chat, n) => texts(chat).slice(n),
    cardFor: (chat, id) =>
      texts(chat)
        .filter((t) => t.includes(id))
        .at(-1) ?? '',
    lastIdSentTo(prefix, as) {
      const ids = [
        ...texts(as)
          .join('\n')
          .matchAll(new RegExp(idPattern(prefix), 'g')),
      ];
      const last = ids[ids.length - 1];
      if (!last) throw new Error(`the bot sent ${as.name} no ${prefix}- id`);
      return last[0];
    },
    async drain() {
      await app.deliverer.drain();
    },
    meet(...users) {
      for (const u of users) {
        const member: RosterMember = { id: u.id, name: u.name, aadObjectId: u.aadObjectId, email: u.email, userPrincipalName: u.email };
        sink.roster.set(u.id, member);
      }
    },
    async close() {
      await app.close();
      await store.close();
      await sink.close();
      if (!o.dataDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
