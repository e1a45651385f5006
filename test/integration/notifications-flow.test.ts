import { channelMessage, installationUpdate, SALES } from '../support/activities';
import { alex, megan, PARTNER_TENANT, type TeamsUser } from '../support/people';
import { idIn, startTestBot, type TestBot } from '../support/test-bot';

/** The partner's notification channel and what reaches it, over real HTTP with a connector sink standing in for Teams. */
describe('channel notifications and failed notifications over real HTTP', () => {
  let bot: TestBot;
  const inChannel = (text: string, as: TeamsUser) => bot.post(channelMessage(text, as, bot.sink.url, SALES));
  /** New posts in the channel itself (not replies in a thread). */
  const channelPosts = () => bot.sink.sentTo(SALES.id).map((r) => bot.sink.textOf(r));
  /** The bot's replies in the channel threads it was @mentioned in. */
  const threadReplies = () =>
    bot.sink.requests.filter((r) => r.method === 'POST' && r.conversationId.startsWith(`${SALES.id};`)).map((r) => bot.sink.textOf(r));

  beforeAll(async () => {
    bot = await startTestBot();
    bot.meet(alex, megan);
    for (const u of [alex, megan]) await bot.post(installationUpdate('add', u, bot.sink.url));
  });
  afterAll(() => bot.close());

  it('notify here works only in a team channel, and only for partner staff', async () => {
    await bot.say('notify here', alex);
    expect(bot.lastReply(alex)).toContain('notify here works in a team channel');
    await bot.say('notify here', megan);
    expect(bot.lastReply(megan)).toContain('notify is for partner organisations registered with this bot');
    await bot.say('notify', alex);
    expect(bot.lastReply(alex)).toContain('No notification channel is set');
  });

  it('notify here in a channel makes it the notification channel, confirmed there', async () => {
    await inChannel('notify here', alex);
    expect(threadReplies().at(-1)).toContain('Done: from now on this channel hears when a customer accepts');
    expect(await bot.store.channels.get(PARTNER_TENANT)).toMatchObject({
      conversationId: SALES.id,
      channelName: 'Sales',
      teamName: 'Fabrikam',
    });
    await bot.say('notify', alex);
    expect(bot.lastReply(alex)).toContain('Acceptance notifications go to the Sales channel of Fabrikam, set by Alex Wilber');
  });

  it('an accepted purchase offer posts a card in the channel: customer, what, who and when, and what to do next', async () => {
    await bot.say('offer admin@contoso.com 25 m365-business-premium annual', alex);
    const id = idIn('P', bot.lastReply(alex))!;
    await bot.drain();
    const before = channelPosts().length;
    await bot.click('offer.accept', { offerId: id }, megan);
    await bot.drain();
    const posts = channelPosts().slice(before);
    expect(posts).toHaveLength(1);
    expect(posts[0]).toContain('PURCHASE OFFER ACCEPTED');
    expect(posts[0]).toContain(`contoso.com accepted ${id}`);
    expect(posts[0]).toContain('Accepted by: Megan Bowen (admin@contoso.com)');
    expect(posts[0]).toContain('When: 25 Nov 2026, 09:00 UTC');
    expect(posts[0]).toContain('What: Purchase offer, 1-year term, billed annually');
    expect(posts[0]).toContain('Microsoft 365 Business Premium, 25 × $264.00 per licence per year\n$6,600.00 per year');
    expect(posts[0]).toContain('Place the order for 25 Microsoft 365 Business Premium (1-year term, billed annually) in Partner Center');
    // The partner user who sent it still hears 1:1.
    expect(bot.lastReply(alex)).toContain(`Megan Bowen accepted ${id}`);
  });

  it('a decline goes to the sender only, not to the channel', async () => {
    await bot.say('trial admin@contoso.com teams-essentials', alex);
    const id = idIn('T', bot.lastReply(alex))!;
    await bot.drain();
    const before = channelPosts().length;
    await bot.click('offer.decline', { offerId: id, reason: 'not now' }, megan);
    await bot.drain();
    expect(channelPosts()).toHaveLength(before);
    expect(bot.lastReply(alex)).toContain(`Megan Bowen declined ${id}`);
  });

  it('answers queued while the first notice waits reach the partner as one digest naming every offer, and the channel as one of the acceptances', async () => {
    const ids: string[] = [];
    for (const seats of [3, 4, 5]) {
      await bot.say(`offer admin@contoso.com ${seats} m365-business-premium annual`, alex);
      ids.push(idIn('P', bot.lastReply(alex))!);
    }
    await bot.drain();
    const [toAlex, toChannel] = [bot.replyCount(alex), channelPosts().length];
    // Three answers before the deliverer runs: the first notice is still waiting when the others are queued.
    await bot.click('offer.accept', { offerId: ids[0] }, megan);
    await bot.click('offer.decline', { offerId: ids[1], reason: 'later' }, megan);
    await bot.click('offer.accept', { offerId: ids[2] }, megan);
    await bot.drain();

    const notices = bot.repliesSince(alex, toAlex);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toContain('Your customers answered 3 offers');
    /** Each offer's row: from its id to the next offer's id. */
    const rows = (text: string) =>
      ids.filter((id) => text.includes(id)).map((id) => text.slice(text.indexOf(id) + id.length).split(/\bP-/)[0]);
    expect(rows(notices[0]!)).toEqual([
      expect.stringMatching(/Megan Bowen \(admin@contoso.com\)[\s\S]*Purchase offer: 3 Microsoft 365 Business Premium[\s\S]*Accepted/),
      expect.stringMatching(/Megan Bowen \(admin@contoso.com\)[\s\S]*Purchase offer: 4 Microsoft 365 Business Premium[\s\S]*Declined/),
      expect.stringMatching(/Megan Bowen \(admin@contoso.com\)[\s\S]*Purchase offer: 5 Microsoft 365 Business Premium[\s\S]*Accepted/),
    ]);
    const posts = channelPosts().slice(toChannel);
    expect(posts).toHaveLength(1);
    expect(posts[0]).toContain('2 offers accepted');
    expect(ids.filter((id) => posts[0]!.includes(id))).toEqual([ids[0], ids[2]]);

    // Once the digest is out, the next answer is a notice of its own again, worded as always.
    await bot.say('offer admin@contoso.com 6 m365-business-premium annual', alex);
    const next = idIn('P', bot.lastReply(alex))!;
    await bot.drain();
    await bot.click('offer.accept', { offerId: next }, megan);
    await bot.drain();
    expect(bot.lastReply(alex)).toContain(`Megan Bowen accepted ${next}`);
    expect(channelPosts().at(-1)).toContain(`contoso.com accepted ${next}`);
  });

  it('approved delegated administration and a partner-of-record designation are posted too', async () => {
    await bot.say('trial admin@contoso.com m365-business-premium with admin as partner of record', alex);
    const trial = idIn('T', bot.lastReply(alex))!;
    await bot.drain();
    const card = bot.cardFor(megan, trial);
    const [d, r] = [idIn('D', card)!, idIn('R', card)!];
    const before = channelPosts().length;
    await bot.click('delegation.approve', { relationshipId: d, replaces: '' }, megan);
    await bot.click('por.accept', { relationshipId: r, replaces: '' }, megan);
    await bot.drain();
    const posts = channelPosts().slice(before);
    expect(posts).toEqual([
      expect.stringMatching(
        new RegExp(
          `DELEGATED ADMINISTRATION · CONSENT RECORDED[\\s\\S]*contoso.com approved delegated-admin request ${d}[\\s\\S]*Asked for: Global Reader, Service Support Administrator, Helpdesk Administrator, User Administrator, License Administrator[\\s\\S]*Duration: 730 days[\\s\\S]*Create the delegated admin relationship in Partner Center`,
        ),
      ),
      expect.stringMatching(
        new RegExp(`PARTNER OF RECORD · CHOICE RECORDED[\\s\\S]*contoso.com chose Fabrikam Cloud Partners as partner of record \\(${r}\\)`),
      ),
    ]);
  });

  it('notify off stops channel notifications; the sender still hears', async () => {
    await inChannel('notify off', alex);
    expect(threadReplies().at(-1)).toContain('acceptance notifications no longer go to the Sales channel');
    await bot.say('trial admin@contoso.com exchange-online-p1', alex);
    const id = idIn('T', bot.lastReply(alex))!;
    await bot.drain();
    const before = channelPosts().length;
    await bot.click('offer.accept', { offerId: id }, megan);
    await bot.drain();
    expect(channelPosts()).toHaveLength(before);
    expect(bot.lastReply(alex)).toContain(`Megan Bowen accepted ${id}`);
  });

  it('status shows a notification Teams refused, and Retry after the customer reinstalls delivers it', async () => {
    await bot.say('trial admin@contoso.com teams-premium', alex);
    const id = idIn('T', bot.lastReply(alex))!;
    await bot.drain();
    // Megan removes the app; the partner then withdraws, which must update her card: it cannot be delivered.
    await bot.post(installationUpdate('remove', megan, bot.sink.url));
    await bot.say(`withdraw ${id}`, alex);
    await bot.drain();
    const [failed] = await bot.store.outbox.failedFor(PARTNER_TENANT, 10);
    expect(failed).toMatchObject({ state: 'failed', subject: { id } });

    await bot.say('status', alex);
    const status = bot.sink.sentTo(alex.conversationId).at(-1)!;
    const statusText = bot.sink.textOf(status);
    expect(statusText).toContain('1 notification could not be delivered');
    expect(statusText).toContain(`The card for ${id} → Megan Bowen (admin@contoso.com)`);
    expect(statusText).toContain('Teams no longer knows that chat');
    expect(statusText).toContain('[Retry]');
    const retry = JSON.stringify(bot.sink.cards(status)).match(/"ids":"([^"]+)"/)![1]!;

    await bot.post(installationUpdate('add', megan, bot.sink.url));
    const updatesBefore = bot.sink.updatesIn(megan.conversationId).length;
    const res = await bot.click('notify.retry', { ids: retry }, alex);
    expect(res.text).toContain('Retrying 1 notification');
    await bot.drain();
    const updates = bot.sink.updatesIn(megan.conversationId).slice(updatesBefore);
    expect(updates.map((u) => bot.sink.textOf(u))).toEqual([
      expect.stringContaining('Fabrikam Cloud Partners withdrew this trial invitation'),
    ]);
    expect(await bot.store.outbox.failedFor(PARTNER_TENANT, 10)).toHaveLength(0);
    // A second press changes nothing.
    expect((await bot.click('notify.retry', { ids: retry }, alex)).text).toContain('Nothing to retry');
    // Only partner staff may retry, and only their own.
    expect((await bot.click('notify.retry', { ids: retry }, megan)).body.statusCode).toBe(400);
  });
});
