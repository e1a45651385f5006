/**
 * End-to-end support: runs Microsoft 365 Agents Playground instances (the local Teams client and
 * Bot Connector stand-in, `@microsoft/m365agentsplayground` 0.2.28) and drives their web UI in
 * headless Chromium through playwright-core.
 *
 * The selectors below were taken from the page Playground 0.2.28 really renders (see test/e2e/README.md):
 * roles and accessible names where the page has them, the Adaptive Cards renderer's own `ac-*` classes
 * for cards, and the `aria-label="Message header"` that every chat message carries. Never the generated
 * Fluent UI class names (`f1abc23`, `___xyz`), which change with every Playground build.
 */
import { spawn, type ChildProcess } from 'child_process';
import fs from 'fs';
import http from 'http';
import net from 'net';
import os from 'os';
import path from 'path';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, chromiumPath } from './browser-args';

/** Repository root (this file lives in test/e2e/support). */
export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
/** Screenshots and Playground logs go here (git-ignored). Override with E2E_ARTIFACTS_DIR. */
export const ARTIFACTS_DIR = process.env.E2E_ARTIFACTS_DIR ?? path.join(REPO_ROOT, 'test', 'e2e', 'artifacts');
/** The Playground configurations shipped with the repository (partner2: Northwind, the second sample partner). */
export const PARTNER_CONFIG_DIR = path.join(REPO_ROOT, 'env', 'playground', 'partner');
export const CUSTOMER_CONFIG_DIR = path.join(REPO_ROOT, 'env', 'playground', 'customer');
export const PARTNER2_CONFIG_DIR = path.join(REPO_ROOT, 'env', 'playground', 'partner2');

const CONFIG_FILE_NAME = '.m365agentsplayground.yml';
const DEFAULT_START_TIMEOUT_MS = 60_000;
/** The Playground UI is a 9 MB bundle; on a 2-CPU machine the first paint takes 8 to 15 s. */
const DEFAULT_PAGE_TIMEOUT_MS = 60_000;
const DEFAULT_WAIT_MS = 15_000;

// ---------------------------------------------------------------------------------------------
// Playground processes
// ---------------------------------------------------------------------------------------------

export interface StartPlaygroundOptions {
  /** Directory holding `.m365agentsplayground.yml`; it becomes the Playground's working directory. */
  configDir: string;
  /** UI (and connector) port. The start fails if the port is taken (the CLI would silently pick a random one). */
  port: number;
  /** The bot's messaging endpoint, e.g. http://127.0.0.1:3978/api/messages. */
  botEndpoint: string;
  /** `msteams` (default). The CLI's own default channel hides the Teams install events. */
  channelId?: string;
  /** How long to wait until the UI serves (default 60 s; it usually takes 2 to 4 s). */
  startTimeoutMs?: number;
  /** Where to write logs; default ARTIFACTS_DIR. */
  logDir?: string;
  /** Name used in the log file names (default `playground-<port>`). */
  name?: string;
}

export interface RunningPlayground {
  /** The web UI, e.g. http://localhost:56150/ */
  url: string;
  port: number;
  /** The Bot Connector URL the Playground puts in every activity's `serviceUrl`. */
  serviceUrl: string;
  pid: number;
  /** The Playground's own log (console output, connector calls, web socket events). */
  logFile: string;
  /** The process's stdout/stderr. */
  outFile: string;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort (e.g. a test run aborted mid-way): never leave a Playground behind.
  process.once('exit', () => {
    for (const child of running) killGroup(child, 'SIGKILL');
  });
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal); // detached => the child leads its own process group
  } catch {
    try {
      child.kill(signal);
    } catch {
      /* already gone */
    }
  }
}

/** Resolves the Playground CLI from the project's node_modules. */
export function playgroundCliPath(): string {
  return require.resolve('@microsoft/m365agentsplayground/cli.js', { paths: [REPO_ROOT] });
}

/** True if nothing listens on `port` (checked the way the Playground CLI checks it). */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, () => srv.close(() => resolve(true)));
  });
}

function httpStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

function tail(file: string, lines = 40): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** True if `promise` settles within `ms`. The timer is cleared either way: a pending one kept jest from exiting. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)));
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Spawns `agentsplayground -e <botEndpoint> -c msteams -p <port> --dt` detached in `configDir`, stdin from
 * /dev/null, stdout/stderr and the Playground log captured under the artifacts dir, and resolves once the UI
 * answers on the port. The bot does not need to be up yet, but the Playground only sends the install
 * events when a browser connects, so start the bot before opening the pages.
 */
export async function startPlayground(options: StartPlaygroundOptions): Promise<RunningPlayground> {
  const { configDir, port, botEndpoint } = options;
  const configFile = path.join(configDir, CONFIG_FILE_NAME);
  if (!fs.existsSync(configFile)) throw new Error(`No ${CONFIG_FILE_NAME} in ${configDir}`);
  if (!(await isPortFree(port))) {
    throw new Error(`Port ${port} is in use (a Playground left running?). The Playground CLI would fall back to a random port.`);
  }

  const logDir = options.logDir ?? ARTIFACTS_DIR;
  fs.mkdirSync(logDir, { recursive: true });
  const name = options.name ?? `playground-${port}`;
  const logFile = path.join(logDir, `${name}.log`);
  const outFile = path.join(logDir, `${name}.out.log`);
  fs.writeFileSync(outFile, '');
  const out = fs.openSync(outFile, 'a');

  const args = [playgroundCliPath(), '-e', botEndpoint, '-c', options.channelId ?? 'msteams', '-p', String(port), '--dt'];
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, args, {
      cwd: configDir,
      detached: true,
      stdio: ['ignore', out, out],
      env: {
        ...process.env,
        TEAMSAPPTESTER_BROWSER: 'none', // do not try to open a desktop browser
        M365_AGENTS_PLAYGROUND_CONFIG_PATH: configFile, // explicit, although the cwd default finds it too
        M365_AGENTS_PLAYGROUND_LOGFILE: logFile, // default would be <cwd>/devTools/m365agentsplayground.log
      },
    });
  } finally {
    fs.closeSync(out);
  }
  child.unref();
  running.add(child);
  installExitHook();

  let exited: string | undefined;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = `exited with code ${String(code)} signal ${String(signal)}`;
      running.delete(child);
      resolve();
    });
  });

  const stop = async (): Promise<void> => {
    if (exited !== undefined) return;
    killGroup(child, 'SIGTERM');
    if (!(await settlesWithin(exitPromise, 5_000))) {
      killGroup(child, 'SIGKILL');
      await settlesWithin(exitPromise, 2_000);
    }
  };

  const url = `http://localhost:${port}/`;
  const deadline = Date.now() + (options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS);
  for (;;) {
    if (exited !== undefined) {
      throw new Error(`Playground (${configDir}, port ${port}) ${exited}\n${tail(outFile)}\n${tail(logFile)}`);
    }
    // "Listening on <port>" is printed to stdout when stdout is not a TTY; it proves the port is ours.
    const listening = fs.readFileSync(outFile, 'utf8').match(/Listening on (\d+)/);
    if (listening) {
      if (Number(listening[1]) !== port) {
        await stop();
        throw new Error(`Playground listened on ${listening[1]} instead of ${port}`);
      }
      if ((await httpStatus(`http://127.0.0.1:${port}/`)) === 200) break;
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`Playground (${configDir}) did not serve on ${port} in time\n${tail(outFile)}\n${tail(logFile)}`);
    }
    await sleep(200);
  }

  return {
    url,
    port,
    serviceUrl: `http://localhost:${port}/_connector`,
    pid: child.pid ?? -1,
    logFile,
    outFile,
    stop,
  };
}

// ---------------------------------------------------------------------------------------------
// Browser
// ---------------------------------------------------------------------------------------------

export { CHROMIUM_ARGS };

export interface LaunchBrowserOptions {
  /** Default: the one the global setup found ($CHROMIUM_PATH). */
  executablePath?: string;
  /** Default true; set E2E_HEADED=1 to watch. */
  headless?: boolean;
  /** Abort every request that is not to localhost/127.0.0.1 (default true; the page asks a CDN for fonts). */
  blockExternalRequests?: boolean;
  /** Default 1400x900. Keep it at least 1280 px wide. */
  viewport?: { width: number; height: number };
}

export interface E2EBrowser {
  context: BrowserContext;
  userDataDir: string;
  /** Opens a Playground UI in a new tab and waits until it is connected to the bot (see openPlayground). */
  open(url: string, options?: OpenPlaygroundOptions): Promise<Page>;
  close(): Promise<void>;
}

const LOCAL_URL = /^(https?|wss?):\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?\//;

/** Chromium with the flags this closed network needs and a fresh user data dir. */
export async function launchBrowser(options: LaunchBrowserOptions = {}): Promise<E2EBrowser> {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: options.executablePath ?? chromiumPath(),
    headless: options.headless ?? process.env.E2E_HEADED !== '1',
    args: [...CHROMIUM_ARGS],
    // The Playground needs a wide window: at 1024 px the chat list is laid out outside the viewport (1280 works).
    viewport: options.viewport ?? { width: 1400, height: 900 },
  });
  if (options.blockExternalRequests ?? true) {
    await context.route(
      (u) => !LOCAL_URL.test(u.toString()),
      (route) => route.abort(),
    );
  }
  let closed = false;
  let blank: Page | undefined = context.pages()[0]; // the persistent context starts with one about:blank tab
  return {
    context,
    userDataDir,
    async open(url: string, openOptions?: OpenPlaygroundOptions): Promise<Page> {
      const page = blank ?? (await context.newPage());
      blank = undefined;
      await openPlayground(page, url, openOptions);
      return page;
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await context.close().catch(() => undefined);
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Page driver
// ---------------------------------------------------------------------------------------------

export interface OpenPlaygroundOptions {
  timeoutMs?: number;
  /** Wait until the page has delivered installationUpdate and conversationUpdate to the bot (default true). */
  waitForInstall?: boolean;
  /** Open the personal chat with the bot (default true). */
  openPersonalChat?: boolean;
}

/**
 * Loads the Playground UI. Every page load opens a web socket, and on each connect the Playground sends the
 * bot an installationUpdate (action "add") and a conversationUpdate (membersAdded: current user and bot)
 * for the personal chat. Chat history lives in the page only: a reload shows an empty chat, but messages
 * the bot sent while no page was connected are delivered when the next page connects.
 */
export async function openPlayground(page: Page, url: string, options: OpenPlaygroundOptions = {}): Promise<void> {
  const timeout = options.timeoutMs ?? DEFAULT_PAGE_TIMEOUT_MS;
  const deadline = Date.now() + timeout;
  const remaining = (): number => Math.max(1_000, deadline - Date.now());
  await page.goto(url, { waitUntil: 'domcontentloaded', timeout });
  for (;;) {
    await personalChatItem(page).waitFor({ state: 'visible', timeout: remaining() });
    if (!(options.waitForInstall ?? true)) break;
    // The log panel starts empty on every load, so the first conversationUpdate entry is this load's.
    // If the bot's endpoint does not answer within 15 s of the page load, the Playground logs
    // "Cannot connect to your app ..." and never retries the install events: reload once the bot is up.
    const installed = logEntries(page, 'conversationUpdate').first();
    const botDown = page.getByText(BOT_NOT_CONNECTED).first();
    await installed.or(botDown).waitFor({ state: 'visible', timeout: remaining() });
    if (await installed.isVisible()) break;
    if (Date.now() + 5_000 > deadline) {
      throw new Error(`The Playground at ${url} could not reach the bot (its endpoint did not answer); start the bot first`);
    }
    await sleep(2_000);
    await page.reload({ waitUntil: 'domcontentloaded', timeout: remaining() });
  }
  if (options.waitForInstall ?? true) {
    const status = await lastLogStatus(page, 'conversationUpdate');
    const installStatus = await lastLogStatus(page, 'installationUpdate');
    if (status === undefined || status >= 400 || installStatus === undefined || installStatus >= 400) {
      throw new Error(
        `The bot answered the Playground's install events with installationUpdate ${String(installStatus)}, conversationUpdate ${String(status)}`,
      );
    }
  }
  if (options.openPersonalChat ?? true) await openPersonalChat(page);
}

/** Log panel warning when the bot's endpoint did not answer the Playground's 15 s wait-on. */
const BOT_NOT_CONNECTED = 'Cannot connect to your app';

/** The "Personal Chat" entry of the chat list (accessible name "Personal Chat"). */
export function personalChatItem(page: Page): Locator {
  return page.getByRole('treeitem', { name: 'Personal Chat', exact: true });
}

/** Selects the 1:1 chat with the bot and waits for the compose box. */
export async function openPersonalChat(page: Page, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
  await personalChatItem(page).click({ timeout: timeoutMs });
  await composeBox(page).waitFor({ state: 'visible', timeout: timeoutMs });
}

/**
 * The compose box: a Lexical contenteditable with role=textbox and no accessible name. (Card inputs are
 * <input> elements, so the div/contenteditable qualifiers keep them out.)
 */
export function composeBox(page: Page): Locator {
  return page.locator('div[role="textbox"][contenteditable="true"]');
}

/** Every chat message in the open conversation (user and bot); each has a child labelled "Message header". */
export function chatMessages(page: Page): Locator {
  return page.locator('div:has(> [aria-label="Message header"])');
}

/** Bot messages only: their header names the author ("Message author"); the user's own messages have none. */
export function botMessages(page: Page): Locator {
  return chatMessages(page).filter({ has: page.locator('[aria-label="Message author"]') });
}

/** Types `text` into the compose box, presses Enter and waits until the message shows in the chat. */
export async function sendMessage(page: Page, text: string, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
  const mine = chatMessages(page).filter({ hasNot: page.locator('[aria-label="Message author"]'), hasText: text });
  const before = await mine.count();
  const box = composeBox(page);
  await box.click({ timeout: timeoutMs });
  await box.fill(text, { timeout: timeoutMs });
  await box.press('Enter', { timeout: timeoutMs });
  await waitForCount(mine, before + 1, timeoutMs);
}

/** Waits for a bot message (plain text or card) containing `text`; returns the newest such message. */
export async function waitForMessageText(page: Page, text: string | RegExp, timeoutMs = DEFAULT_WAIT_MS): Promise<Locator> {
  const message = botMessages(page).filter({ hasText: text }).last();
  await message.waitFor({ state: 'visible', timeout: timeoutMs });
  return message;
}

/**
 * Top-level rendered Adaptive Cards containing `text` (`ac-adaptiveCard` is the class the Adaptive Cards
 * renderer gives every card root; the :not() skips cards nested by Action.ShowCard).
 */
export function cards(page: Page, text?: string | RegExp): Locator {
  const all = page.locator('.ac-adaptiveCard:not(.ac-adaptiveCard .ac-adaptiveCard)');
  return text === undefined ? all : all.filter({ hasText: text });
}

/** Waits for a rendered Adaptive Card containing `text`; returns the newest such card. */
export async function waitForCardText(page: Page, text: string | RegExp, timeoutMs = DEFAULT_WAIT_MS): Promise<Locator> {
  const card = cards(page, text).last();
  await card.waitFor({ state: 'visible', timeout: timeoutMs });
  return card;
}

/** Waits until no rendered card contains `text` any more (e.g. after the bot replaced it). */
export async function waitForCardGone(page: Page, text: string | RegExp, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
  await waitForCount(cards(page, text), 0, timeoutMs, 'exactly');
}

export interface ClickCardButtonOptions {
  timeoutMs?: number;
  /**
   * For Action.Execute: wait until the Playground logged the bot's answer to the invoke and return its HTTP
   * status (default true). Set false for Action.OpenUrl / Action.ShowCard / Action.Submit.
   */
  waitForInvoke?: boolean;
}

/**
 * Clicks the action button titled `buttonTitle` on the newest card containing `cardContainingText`.
 * Returns the HTTP status the bot answered the `adaptiveCard/action` invoke with (from the log panel).
 */
export async function clickCardButton(
  page: Page,
  cardContainingText: string | RegExp,
  buttonTitle: string,
  options: ClickCardButtonOptions = {},
): Promise<number | undefined> {
  const timeout = options.timeoutMs ?? DEFAULT_WAIT_MS;
  const card = await waitForCardText(page, cardContainingText, timeout);
  const invokes = logEntries(page, 'invoke');
  const before = await invokes.count();
  await card.getByRole('button', { name: buttonTitle, exact: true }).click({ timeout });
  if (!(options.waitForInvoke ?? true)) return undefined;
  await waitForCount(invokes, before + 1, timeout);
  return lastLogStatus(page, 'invoke');
}

export interface CardLink {
  /** The URL the button carries. */
  url: string;
  /** The page the Playground opened for it, loaded. */
  page: Page;
}

/**
 * Follows the Action.OpenUrl button titled `buttonTitle` on the newest card containing `cardContainingText`.
 * Playground 0.2.28 renders it as `<button role="link" aria-label="<title>" title="<url>">` and opens the URL in a new
 * window (`window.open`), caught here as a popup of the same browser context (so local-only routing applies too).
 */
export async function openCardLink(
  page: Page,
  cardContainingText: string | RegExp,
  buttonTitle: string,
  timeoutMs = DEFAULT_WAIT_MS,
): Promise<CardLink> {
  const card = await waitForCardText(page, cardContainingText, timeoutMs);
  const link = card.getByRole('link', { name: buttonTitle, exact: true });
  const url = (await link.getAttribute('title', { timeout: timeoutMs })) ?? '';
  const [opened] = await Promise.all([page.waitForEvent('popup', { timeout: timeoutMs }), link.click({ timeout: timeoutMs })]);
  await opened.waitForLoadState('domcontentloaded', { timeout: timeoutMs });
  return { url, page: opened };
}

/**
 * Types into an Input.Text / Input.Number of the newest card containing `cardContainingText`, found by its
 * label (or, for inputs without a label, its placeholder). Uses real key presses: Playwright's fill() sets
 * the DOM value but the card does not pick it up, so the value would be missing from the invoke's data.
 */
export async function fillCardInput(
  page: Page,
  cardContainingText: string | RegExp,
  labelOrPlaceholder: string,
  value: string,
  timeoutMs = DEFAULT_WAIT_MS,
): Promise<void> {
  const card = await waitForCardText(page, cardContainingText, timeoutMs);
  const input = card
    .getByRole('textbox', { name: labelOrPlaceholder, exact: true })
    .or(card.getByRole('spinbutton', { name: labelOrPlaceholder, exact: true }))
    .or(card.getByPlaceholder(labelOrPlaceholder, { exact: true }))
    .first();
  await input.click({ timeout: timeoutMs });
  await input.press('ControlOrMeta+a');
  await input.press('Delete');
  await input.pressSequentially(value, { timeout: timeoutMs });
  const actual = await input.inputValue();
  if (actual !== value) throw new Error(`Card input "${labelOrPlaceholder}" holds "${actual}" instead of "${value}"`);
}

/** Saves a PNG of the page to ARTIFACTS_DIR/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const file = path.join(ARTIFACTS_DIR, `${name.replace(/[^\w.-]+/g, '_')}.png`);
  await page.screenshot({ path: file });
  return file;
}

// ---------------------------------------------------------------------------------------------
// Team channels. The sidebar's "Teams Channel" tree lists each channel of the config's team as a
// treeitem named "<team> - <channel>" (the team always has General, plus the channels the config names).
// A channel view is a list of posts, newest first, under a "Start a new post" composer with a Post button.
// Each post (and the composer) is a Fluent UI Card: `div[role="group"]` with the static class `fui-Card`
// (Fluent's documented `cardClassNames.root`, not a generated one); the post's author is the avatar in
// its `fui-CardHeader` (role=img, accessible name = the author's name). Replies in the post's thread sit
// under the header, each with its own avatar, followed by a reply box ("Type a message...").
// What the bot gets (verified with 0.2.28):
// - first opening of a channel after a page load: installationUpdate (conversationType "channel") and a
//   conversationUpdate (membersAdded: the bot; channelData.eventType "teamMemberAdded", channelData.team);
// - a new post: `message`, text "<at>Bot Name</at> rest" plus a `mention` entity when the post @mentions
//   the bot, conversation { conversationType: "channel", isGroup: true, id: "<channel id>;messageid=<n>" },
//   channelData { channel: { id }, team: { id }, teamsChannelId, teamsTeamId, tenant }; the bot's reply
//   to it lands in that post's thread;
// - a proactive send to the bare channel id (POST /v3/conversations/<channel id>/activities) becomes a new
//   post by the bot at the top of the channel, live; a message with text and attachments becomes two posts
//   (the connector answers 202 then). Posts that arrive while another chat is open are kept in the page.
// ---------------------------------------------------------------------------------------------

/** The sidebar entry of a team channel ("<team> - <channel>"); without `team`, the first channel named `channel`. */
export function channelItem(page: Page, channel: string, team?: string): Locator {
  if (team !== undefined) return page.getByRole('treeitem', { name: `${team} - ${channel}`, exact: true });
  return page.getByRole('treeitem', { name: new RegExp(` - ${escapeRegExp(channel)}$`) }).first();
}

const POST_CARD = 'div[role="group"].fui-Card';

/** The "Start a new post" composer card of the open channel (the card with the Post button). */
function newPostComposer(page: Page): Locator {
  return page.locator(POST_CARD).filter({ has: page.getByRole('button', { name: 'Post', exact: true }) });
}

/** The "Start a new post" box of the open channel (a Lexical contenteditable, like the chat compose box). */
export function newPostBox(page: Page): Locator {
  return newPostComposer(page).locator('div[role="textbox"][contenteditable="true"]');
}

/**
 * The posts of the open channel, newest first; with `author`, only posts that person (or the bot, by its
 * configured name) started, not posts they merely replied to.
 */
export function channelPosts(page: Page, author?: string): Locator {
  const posts = page.locator(POST_CARD).filter({ hasNot: page.getByRole('button', { name: 'Post', exact: true }) });
  if (author === undefined) return posts;
  return posts.filter({ has: page.locator(`:scope > .fui-CardHeader [role="img"][aria-label=${JSON.stringify(author)}]`) });
}

export interface OpenChannelOptions {
  /** The team's name; default: any team with a channel of that name. */
  team?: string;
  timeoutMs?: number;
  /**
   * On the first opening of the channel since the page loaded, wait until the Playground delivered the channel's
   * installationUpdate and conversationUpdate to the bot and fail if the bot answered them with >= 400 (default true).
   */
  waitForInstall?: boolean;
}

/** Opens a team channel from the sidebar and waits for its "Start a new post" box. */
export async function openChannel(page: Page, channel: string, options: OpenChannelOptions = {}): Promise<void> {
  const timeout = options.timeoutMs ?? DEFAULT_WAIT_MS;
  const item = channelItem(page, channel, options.team);
  const key = (await item.getAttribute('aria-label', { timeout })) ?? channel;
  // Remembered in the page itself, so that a reload (which makes the Playground send the install events again) resets it.
  const first = await page.evaluate((k) => {
    const g = globalThis as unknown as { __e2eOpenedChannels?: string[] };
    const seen = (g.__e2eOpenedChannels ??= []);
    if (seen.includes(k)) return false;
    seen.push(k);
    return true;
  }, key);
  const installs = logEntries(page, 'conversationUpdate');
  const before = await installs.count();
  await item.click({ timeout });
  await newPostBox(page).waitFor({ state: 'visible', timeout });
  if (first && (options.waitForInstall ?? true)) {
    await waitForCount(installs, before + 1, timeout);
    const status = await lastLogStatus(page, 'conversationUpdate');
    const installStatus = await lastLogStatus(page, 'installationUpdate');
    if (status === undefined || status >= 400 || installStatus === undefined || installStatus >= 400) {
      throw new Error(
        `The bot answered ${key}'s install events with installationUpdate ${String(installStatus)}, conversationUpdate ${String(status)}`,
      );
    }
  }
}

export interface SendChannelPostOptions {
  /**
   * @mention this member first (e.g. the bot's name): types "@" and the name's first letters, picks the name from
   * the typeahead menu (which makes it a real mention: `<at>name</at>` and a `mention` entity), then the text.
   */
  mention?: string;
  timeoutMs?: number;
}

/**
 * Starts a new post in the open channel (see openChannel) and waits until it shows; returns the post, in whose thread
 * the bot's reply appears. Uses real key presses: the @mention typeahead only opens on typed input.
 */
export async function sendChannelPost(page: Page, text: string, options: SendChannelPostOptions = {}): Promise<Locator> {
  const timeout = options.timeoutMs ?? DEFAULT_WAIT_MS;
  const shown = options.mention === undefined ? text : `${options.mention} ${text}`;
  const mine = channelPosts(page).filter({ hasText: shown });
  const before = await mine.count();
  const box = newPostBox(page);
  await box.click({ timeout });
  if (options.mention !== undefined) {
    await box.pressSequentially(`@${options.mention.slice(0, 4)}`, { timeout });
    // The menu item's accessible name repeats the name (its avatar's label, then its text): match the text only.
    const name = new RegExp(`^\\s*${escapeRegExp(options.mention)}\\s*$`);
    await page.getByRole('menuitem').filter({ hasText: name }).first().click({ timeout });
    await box.pressSequentially(` ${text}`, { timeout });
  } else {
    await box.pressSequentially(text, { timeout });
  }
  await newPostComposer(page).getByRole('button', { name: 'Post', exact: true }).click({ timeout });
  await waitForCount(mine, before + 1, timeout);
  return mine.first();
}

/** Waits for a post in the open channel containing `text` (by `author` if given); returns the newest such post. */
export async function waitForChannelPost(
  page: Page,
  text: string | RegExp,
  options: { author?: string; timeoutMs?: number } = {},
): Promise<Locator> {
  const post = channelPosts(page, options.author).filter({ hasText: text }).first();
  await post.waitFor({ state: 'visible', timeout: options.timeoutMs ?? DEFAULT_WAIT_MS });
  return post;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// ---------------------------------------------------------------------------------------------
// Log panel: "<time> Microsoft 365 Agents Playground -> User Application" followed by a link
// "<activity type> <status>" for each activity sent to the bot, and "User Application -> ..." for
// each connector call the bot made (e.g. "message 201", "getConversationMember 200").
// ---------------------------------------------------------------------------------------------

/** Log panel entries for `kind` (an activity type such as invoke, or a connector call name). */
export function logEntries(page: Page, kind: string): Locator {
  return page.getByText(new RegExp(`^${escapeRegExp(kind)} \\d{3}$`));
}

async function lastLogStatus(page: Page, kind: string): Promise<number | undefined> {
  const entries = logEntries(page, kind);
  const n = await entries.count();
  if (n === 0) return undefined;
  const text = await entries.nth(n - 1).innerText();
  const m = text.match(/(\d{3})\s*$/);
  return m ? Number(m[1]) : undefined;
}

async function waitForCount(locator: Locator, expected: number, timeoutMs: number, mode: 'atLeast' | 'exactly' = 'atLeast'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const n = await locator.count();
    if (mode === 'atLeast' ? n >= expected : n === expected) return;
    if (Date.now() > deadline)
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${mode} ${expected} of ${String(locator)} (have ${n})`);
    await sleep(100);
  }
}
