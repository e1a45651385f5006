/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The callback passed to evaluateAll() runs in the browser.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../support/free-port';
import { playgroundTenantId } from '../../scripts/lib/stand-in.cjs';
import {
  CUSTOMER_CONFIG_DIR,
  PARTNER2_CONFIG_DIR,
  PARTNER_CONFIG_DIR,
  REPO_ROOT,
  clickCardButton,
  fillCardInput,
  launchBrowser,
  openCardLink,
  openChannel,
  openPersonalChat,
  screenshot,
  sendChannelPost,
  sendMessage,
  startPlayground,
  waitForCardText,
  waitForChannelPost,
  type E2EBrowser,
  type RunningPlayground,
} from './support/playground';
import { E2E_PARTNERS_FILE, microsoftStandIn, standInRelationship } from './support/stand-in';
import type { Locator, Page } from 'playwright-core';

/**
 * How a card's text blocks that read exactly one of `texts` are laid out: the lines each word takes (a word on two
 * lines is broken mid-word) and whether the block is cut off (an unwrapped block too wide for its column).
 */
function layoutOf(card: Locator, texts: string[]) {
  return card.locator('.ac-textBlock').evaluateAll((blocks, wanted) => {
    return blocks
      .filter((b) => wanted.includes((b.textContent ?? '').trim()))
      .map((b) => {
        const node = b.querySelector('p') ?? b;
        const text = node.firstChild as Text;
        const words: Record<string, number> = {};
        for (const m of (text.textContent ?? '').matchAll(/\S+/g)) {
          const range = document.createRange();
          range.setStart(text, m.index);
          range.setEnd(text, m.index + m[0].length);
          words[m[0]] = new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
        }
        return {
          text: (b.textContent ?? '').trim(),
          words,
          cut: Math.max(b.scrollWidth - b.clientWidth, node.scrollWidth - node.clientWidth) > 1,
        };
      });
  }, texts);
}

/** Every service name and amount of a price card is on the card, no word broken across lines, no amount cut off. */
async function expectPriceLinesReadable(card: Locator, names: string[], amounts: string[]): Promise<void> {
  const layout = await layoutOf(card, [...names, ...amounts]);
  expect(layout.map((b) => b.text).sort()).toEqual([...names, ...amounts].sort());
  for (const block of layout) {
    expect({ text: block.text, words: block.words, cut: block.cut }).toEqual({
      text: block.text,
      words: Object.fromEntries(Object.keys(block.words).map((w) => [w, 1])),
      cut: false,
    });
  }
}

/** The title of the green Action.OpenUrl button on a connected partner's delegated-admin request. */
const APPROVE_AT_MICROSOFT = 'Review and approve in admin center';

/**
 * The built bot (`npm run build` output), started the way `npm start` starts it, on a fresh SQLite folder, with
 * Microsoft's endpoints at the stand-in the global setup started and the connected partners' secrets it registered.
 */
async function startBot(): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'partner-offers-e2e-'));
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, ['dist/src/index.js'], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      ...microsoftStandIn().botEnv,
      PARTNERS_FILE: E2E_PARTNERS_FILE,
      PORT: String(port),
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      MicrosoftAppId: '',
      MONGODB_URI: '',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`the bot exited with ${child.exitCode}; run npm run build first`);
    if (
      await fetch(`${base}/healthz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    if (i > 100) throw new Error('the bot did not start within 20 s');
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    endpoint: `${base}/api/messages`,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

describe('end to end in the Microsoft 365 Agents Playground: two partner tenants and a customer tenant', () => {
  let bot: Awaited<ReturnType<typeof startBot>>;
  let partner: RunningPlayground;
  let customer: RunningPlayground;
  let partner2: RunningPlayground;
  let browser: E2EBrowser;
  /** Opened once: each page load installs the app again, and the later test continues the same chats. */
  let customerPage: Page;
  let partnerPage: Page;
  /** Northwind's (Nestor's) page, opened by the first test that needs it. */
  let northwindPage: Page;
  /** Northwind's recorded delegated-admin relationship, which Fabrikam's replaces. */
  let northwindId: string;

  beforeAll(async () => {
    bot = await startBot();
    [partner, customer, partner2] = await Promise.all([
      startPlayground({ configDir: PARTNER_CONFIG_DIR, port: 56150, botEndpoint: bot.endpoint, name: 'partner' }),
      startPlayground({ configDir: CUSTOMER_CONFIG_DIR, port: 56151, botEndpoint: bot.endpoint, name: 'customer' }),
      startPlayground({ configDir: PARTNER2_CONFIG_DIR, port: 56152, botEndpoint: bot.endpoint, name: 'partner2' }),
    ]);
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await Promise.all([partner?.stop(), customer?.stop(), partner2?.stop()]);
    await bot?.stop();
  });

  it('the partner sends a trial, the customer accepts it in the rendered card, and the partner sees the outcome', async () => {
    // The customer's page first: opening it installs the app, which gives the bot Megan's personal chat.
    customerPage = await browser.open(customer.url);
    partnerPage = await browser.open(partner.url);

    await sendMessage(partnerPage, 'trial admin@contoso.com m365-business-premium, teams-essentials');
    const confirmation = await waitForCardText(partnerPage, /Trial invitation T-\w{6} sent to Megan Bowen/);
    const offerId = /T-\w{6}/.exec(await confirmation.innerText())![0];
    await screenshot(partnerPage, '1-partner-sends-trial');

    const offerCard = await waitForCardText(customerPage, new RegExp(`${offerId}[\\s\\S]*Fabrikam Cloud Partners invites you`), 30_000);
    await expect(offerCard.innerText()).resolves.toMatch(/Microsoft 365 Business Premium[\s\S]*Microsoft Teams Essentials/);
    await screenshot(customerPage, '2-customer-receives-trial');

    expect(await clickCardButton(customerPage, /Fabrikam Cloud Partners invites you/, 'Accept')).toBe(200);
    await waitForCardText(customerPage, /Accepted on/);
    await screenshot(customerPage, '3-customer-accepted');

    await waitForCardText(partnerPage, new RegExp(`Megan Bowen accepted ${offerId}`), 30_000);
    await screenshot(partnerPage, '4-partner-sees-outcome');
  });

  it('the partner chooses a team channel with notify here, and a customer acceptance posts the notification card there', async () => {
    // In the channel the bot only hears posts that @mention it; the Playground's typeahead makes the mention.
    await openChannel(partnerPage, 'Announcements', { team: 'Partner Team' });
    const post = await sendChannelPost(partnerPage, 'notify here', { mention: 'Partner Offers' });
    await post.getByText(/Done: from now on this channel hears when a customer accepts/).waitFor({ timeout: 15_000 });
    await screenshot(partnerPage, '9-partner-notify-here');

    // A service the earlier tests did not offer, so the duplicate guard cannot answer instead.
    await openPersonalChat(partnerPage);
    await sendMessage(partnerPage, 'trial admin@contoso.com teams-premium');
    const confirmation = await waitForCardText(partnerPage, /Trial invitation T-\w{6} sent to Megan Bowen/);
    const offerId = /T-\w{6}/.exec(await confirmation.innerText())![0];

    // Watch the channel while the customer answers: the notification is a proactive post, shown live.
    await openChannel(partnerPage, 'Announcements', { team: 'Partner Team' });
    const offer = new RegExp(`${offerId}[\\s\\S]*Fabrikam Cloud Partners invites you`);
    await waitForCardText(customerPage, offer, 30_000);
    expect(await clickCardButton(customerPage, offer, 'Accept')).toBe(200);
    await waitForCardText(customerPage, new RegExp(`${offerId}[\\s\\S]*Accepted on`));

    const notice = await waitForChannelPost(
      partnerPage,
      new RegExp(`TRIAL INVITATION ACCEPTED[\\s\\S]*contoso\\.com accepted ${offerId}`),
      {
        author: 'Partner Offers',
        timeoutMs: 30_000,
      },
    );
    await expect(notice.locator('.ac-adaptiveCard').first().innerText()).resolves.toMatch(/Microsoft Teams Premium[\s\S]*Partner Center/);
    await screenshot(partnerPage, '10-channel-notification');

    // The issuing partner user still hears it 1:1.
    await openPersonalChat(partnerPage);
    await waitForCardText(partnerPage, new RegExp(`Megan Bowen accepted ${offerId}`), 30_000);
  });

  it('a customer finds the sample partner and asks to be contacted, and the partner sees the lead in its notification channel', async () => {
    // The earlier test made Announcements the partner's notification channel, so the lead is posted there.
    await openChannel(partnerPage, 'Announcements', { team: 'Partner Team' });

    await sendMessage(customerPage, 'find security exchange in DE');
    const result = /PARTNER · M-[\s\S]*Microsoft 365 for small businesses[\s\S]*Fabrikam Cloud Partners/;
    await waitForCardText(customerPage, result, 30_000);
    await screenshot(customerPage, '11-customer-finds-partner');

    await clickCardButton(customerPage, result, 'Ask to be contacted', { waitForInvoke: false });
    const note = 'We are 40 people moving from on-premises Exchange; please call us.';
    await fillCardInput(customerPage, result, 'A note for Fabrikam Cloud Partners (optional)', note);
    expect(await clickCardButton(customerPage, result, 'Send')).toBe(200);
    const asked = await waitForCardText(customerPage, /Fabrikam Cloud Partners has been asked to get in touch \(C-\w{6}\)/);
    const leadId = /C-\w{6}/.exec(await asked.innerText())![0];
    await screenshot(customerPage, '12-customer-asked');

    const lead = await waitForChannelPost(
      partnerPage,
      new RegExp(`NEW LEAD · ${leadId}[\\s\\S]*Megan Bowen asks Fabrikam Cloud Partners to get in touch`),
      {
        author: 'Partner Offers',
        timeoutMs: 30_000,
      },
    );
    await expect(lead.locator('.ac-adaptiveCard').first().innerText()).resolves.toContain(note);
    await screenshot(partnerPage, '13-partner-sees-lead');
  });
  it('a partner without Microsoft credentials (Northwind) asks for delegated administration, the customer approves it in the card, and it is recorded', async () => {
    // Northwind has no `microsoft` entry in the partners file: its requests stay record-only, answered in the chat.
    northwindPage = await browser.open(partner2.url);
    await sendMessage(northwindPage, 'delegate admin@contoso.com roles Exchange Administrator, User Administrator days 365');
    const confirmation = await waitForCardText(northwindPage, /Delegated-admin request D-\w{6} sent to Megan Bowen/);
    const id = (northwindId = /D-\w{6}/.exec(await confirmation.innerText())![0]);
    await screenshot(northwindPage, '5-partner-asks-for-delegated-admin');

    const asks = new RegExp(`${id}[\\s\\S]*Northwind Managed Services asks for delegated administration`);
    const request = await waitForCardText(customerPage, asks, 30_000);
    await expect(request.innerText()).resolves.toMatch(
      /Exchange Administrator[\s\S]*User Administrator[\s\S]*365 days from approval[\s\S]*contact Microsoft support directly/,
    );
    await screenshot(customerPage, '6-customer-receives-delegated-admin-request');

    expect(await clickCardButton(customerPage, asks, 'Approve')).toBe(200);
    await waitForCardText(
      customerPage,
      new RegExp(`${id}[\\s\\S]*Approved on[\\s\\S]*your consent is recorded[\\s\\S]*Microsoft's approval link`),
    );
    await screenshot(customerPage, '7-customer-approved-delegated-admin');

    await waitForCardText(northwindPage, new RegExp(`Megan Bowen approved ${id}`), 30_000);
    await screenshot(northwindPage, '8-partner-sees-approval');
  });

  it("a connected partner (Fabrikam) asks for delegated administration, the customer approves it in the Microsoft 365 admin center, the card turns active and the partner's channel hears it", async () => {
    // Fabrikam's entry in the partners file names its Entra app: the bot creates a real GDAP relationship at
    // Microsoft (here the stand-in), locks it for approval, and only then sends Megan the card with Microsoft's link.
    const standIn = microsoftStandIn();
    await openPersonalChat(partnerPage);
    await sendMessage(partnerPage, 'delegate admin@contoso.com roles Exchange Administrator days 365');
    const confirmation = await waitForCardText(
      partnerPage,
      /Delegated-admin request D-\w{6} created at Microsoft and sent to Megan Bowen/,
      30_000,
    );
    const confirmed = await confirmation.innerText();
    const id = /D-\w{6}/.exec(confirmed)![0];
    const graphId = /Microsoft has it as ([0-9a-f-]{73})/.exec(confirmed)![1]!;
    expect(await standInRelationship(graphId)).toMatchObject({
      status: 'approvalPending',
      partnerTenantId: '00000000-0000-0000-0000-0000000000001',
      // The customer's tenant is the one its Playground sends (a GUID, or Graph refuses the relationship).
      graph: {
        displayName: `Partner Offers ${id}`,
        customer: { tenantId: playgroundTenantId(join(CUSTOMER_CONFIG_DIR, '.m365agentsplayground.yml')) },
      },
    });
    await screenshot(partnerPage, '18-partner-creates-gdap-request');

    const asks = new RegExp(`${id}[\\s\\S]*Fabrikam Cloud Partners asks for delegated administration`);
    const request = await waitForCardText(customerPage, asks, 30_000);
    await expect(request.innerText()).resolves.toMatch(
      /Exchange Administrator[\s\S]*365 days from approval[\s\S]*Only a Global Administrator of your organisation can approve this, in the Microsoft 365 admin center/,
    );
    // Megan's recorded delegated-admin partner is Northwind (the test above): the card says this one replaces it.
    await expect(request.innerText()).resolves.toMatch(/Northwind Managed Services is recorded here as your delegated-admin partner/);
    await request.getByRole('link', { name: APPROVE_AT_MICROSOFT, exact: true }).scrollIntoViewIfNeeded();
    await screenshot(customerPage, '19-customer-receives-gdap-request');

    // Watch the partner's notification channel (chosen with notify here above): the approval notice is a proactive post.
    await openChannel(partnerPage, 'Announcements', { team: 'Partner Team' });

    // The card's green button is an Action.OpenUrl to Microsoft's approval link: the admin center, here the stand-in's.
    const link = await openCardLink(customerPage, asks, APPROVE_AT_MICROSOFT);
    expect(link.url).toBe(`${standIn.url}/AdminPortal/Home#/partners/invitation/granularAdminRelationships/${graphId}`);
    const admin = link.page;
    try {
      await admin.getByRole('heading', { name: 'Partner relationship request' }).waitFor({ timeout: 15_000 });
      expect(admin.url()).toBe(`${standIn.url}/admin/partners/invitation/granularAdminRelationships/${graphId}`);
      await expect(admin.locator('main').innerText()).resolves.toMatch(
        new RegExp(`Fabrikam Cloud Partners[\\s\\S]*Partner Offers ${id}[\\s\\S]*Contoso[\\s\\S]*365 days[\\s\\S]*Exchange Administrator`),
      );
      await screenshot(admin, '20-admin-center-approval-page');
      await admin.getByRole('button', { name: 'Approve', exact: true }).click();
      await admin.getByRole('status').filter({ hasText: 'You approved this request' }).waitFor({ timeout: 15_000 });
    } finally {
      await admin.close();
    }

    // The bot reads Graph every 15 s after the card went out (its sweep runs every 5 s): active within a minute.
    const active = await waitForCardText(
      customerPage,
      new RegExp(`${id}[\\s\\S]*Active since \\d{1,2} \\w{3} \\d{4} until \\d{1,2} \\w{3} \\d{4}`),
      60_000,
    );
    await expect(active.innerText()).resolves.toContain('Microsoft reports this relationship active');
    expect((await standInRelationship(graphId)).status).toBe('active');
    await active.scrollIntoViewIfNeeded();
    await screenshot(customerPage, '21-customer-gdap-active');

    await waitForChannelPost(partnerPage, new RegExp(`approved delegated-admin relationship ${id} at Microsoft`), {
      author: 'Partner Offers',
      timeoutMs: 30_000,
    });
    await screenshot(partnerPage, '22-channel-gdap-active');

    // The partner user who sent it hears it 1:1 too.
    await openPersonalChat(partnerPage);
    await waitForCardText(partnerPage, new RegExp(`Contoso approved ${id} at Microsoft`), 30_000);
    await screenshot(partnerPage, '23-partner-sees-gdap-active');

    // Northwind's recorded consent is replaced here, and Nestor is told.
    await waitForCardText(northwindPage, new RegExp(`replaced you as delegated-admin partner[\\s\\S]*${northwindId}`), 30_000);
    await screenshot(northwindPage, '24-northwind-replaced');
  });

  it("the partner's help card lists every partner command with its placeholders as Teams shows them", async () => {
    await openPersonalChat(partnerPage);
    await sendMessage(partnerPage, 'help');
    const help = await waitForCardText(partnerPage, /Partner Offers for Fabrikam Cloud Partners/);
    const text = await help.innerText();
    // ‹…› placeholders survive Teams' rendering, where <customer-email> would be stripped as an HTML tag.
    for (const usage of [
      'trial ‹customer-email› ‹service›[, ‹service›...]',
      'offer ‹customer-email› ‹qty› ‹service›[, ‹qty› ‹service›...] term ‹1 month|1 year|3 years› billing ‹monthly|annual›',
      'delegate ‹customer-email› [roles ‹role›, ‹role›] [days ‹1-730›] [auto-extend]',
      'status [‹id›|‹customer-email›]',
      'withdraw ‹id›',
      'find ‹words› [in ‹country›] [language ‹code›]',
    ]) {
      expect(text).toContain(usage);
    }
    expect(text).not.toMatch(/<[a-z-]+>/);
    // The whole card in one picture: a window tall enough for it, then back.
    const wide = partnerPage.viewportSize()!;
    await partnerPage.setViewportSize({ width: wide.width, height: 1500 });
    try {
      await help.scrollIntoViewIfNeeded();
      await screenshot(partnerPage, '26-partner-help');
    } finally {
      await partnerPage.setViewportSize(wide);
    }
  });

  it('a purchase offer of several services reads line by line, at the Playground width and at a phone width', async () => {
    await openPersonalChat(partnerPage);
    await sendMessage(partnerPage, 'offer admin@contoso.com 25 m365-business-premium, 10 defender-business, 10 teams-essentials annual');
    const confirmation = await waitForCardText(partnerPage, /Purchase offer P-\w{6} sent to Megan Bowen/);
    const offerId = /P-\w{6}/.exec(await confirmation.innerText())![0];
    const names = ['Microsoft 365 Business Premium', 'Microsoft Defender for Business', 'Microsoft Teams Essentials'];
    const amounts = ['$6,600.00 per year', '$360.00 per year', '$480.00 per year'];
    await expectPriceLinesReadable(confirmation, names, amounts);

    const offer = await waitForCardText(customerPage, new RegExp(`${offerId}[\\s\\S]*Fabrikam Cloud Partners offers you`), 30_000);
    await expect(offer.innerText()).resolves.toMatch(
      /25 × \$264\.00 per licence per year\s+1-year term, billed annually[\s\S]*Total per year\s+\$7,440\.00/,
    );
    await expectPriceLinesReadable(offer, names, [...amounts, '$7,440.00']);
    await offer.scrollIntoViewIfNeeded();
    await screenshot(customerPage, '16-customer-receives-purchase-offer');

    const wide = customerPage.viewportSize()!;
    await customerPage.setViewportSize({ width: 480, height: 900 });
    // The Playground keeps a card as wide at 480 px as at 1400 px, so the card itself is narrowed to about its width
    // in Teams on a phone.
    await offer.evaluate((card) => (card.style.width = '320px'));
    try {
      await offer.scrollIntoViewIfNeeded();
      await expectPriceLinesReadable(offer, names, [...amounts, '$7,440.00']);
      await screenshot(customerPage, '17-customer-receives-purchase-offer-narrow');
    } finally {
      await offer.evaluate((card) => card.style.removeProperty('width'));
      await customerPage.setViewportSize(wide);
    }
  });
  it('the customer accepts a purchase offer; once Partner Center placed it, both sides read the order number', async () => {
    await openPersonalChat(partnerPage);
    await sendMessage(partnerPage, 'offer admin@contoso.com 25 m365-business-standard term annual billing monthly');
    const confirmation = await waitForCardText(partnerPage, /Purchase offer P-\w{6} sent to Megan Bowen/);
    const offerId = /P-\w{6}/.exec(await confirmation.innerText())![0];

    const offer = new RegExp(`${offerId}[\\s\\S]*Fabrikam Cloud Partners offers you`);
    await waitForCardText(customerPage, offer, 30_000);
    expect(await clickCardButton(customerPage, offer, 'Accept')).toBe(200);
    // The bot's sweep places it through Partner Center (the stand-in); only then does the card say so.
    const placed = await waitForCardText(customerPage, new RegExp(`${offerId}[\\s\\S]*Microsoft confirmed order \\S+:`), 60_000);
    const text = await placed.innerText();
    const orderId = /Microsoft confirmed order (\S+?):/.exec(text)![1]!;
    expect(text).toMatch(/Order placed on/);
    expect(text).toContain('25 × Microsoft 365 Business Standard, 1-year term, billed monthly');
    const partnerCenter = (await (await fetch(`${microsoftStandIn().url}/_control/partner-center`)).json()) as {
      orders: { id: string; lineItems: { quantity: number }[] }[];
    };
    expect(partnerCenter.orders.filter((o) => o.id === orderId)).toEqual([
      expect.objectContaining({ lineItems: [expect.objectContaining({ quantity: 25 })] }),
    ]);
    await placed.scrollIntoViewIfNeeded();
    await screenshot(customerPage, '27-customer-order-placed');

    const notice = await waitForCardText(partnerPage, new RegExp(`Partner Center placed order ${orderId}`), 60_000);
    await notice.scrollIntoViewIfNeeded();
    await screenshot(partnerPage, '28-partner-order-placed');
  });
});
