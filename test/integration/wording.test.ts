import { cardAction, installationUpdate } from '../support/activities';
import { alex, megan } from '../support/people';
import { cardText } from '../support/connector-sink';
import { startTestBot, type TestBot } from '../support/test-bot';

describe('words a partner and a customer read', () => {
  let bot: TestBot;
  beforeAll(async () => {
    bot = await startTestBot();
    bot.meet(alex, megan);
  });
  afterAll(() => bot.close());

  it("welcomes partner staff with the partner's own words, and a customer with the customer's", async () => {
    await bot.post(installationUpdate('add', alex, bot.sink.url));
    expect(bot.lastReply(alex)).toMatch(/Hi, I'm Partner Offers, here for Fabrikam Cloud Partners\. Send your customers trial invitations/);
    expect(bot.lastReply(alex)).not.toMatch(/Your Microsoft cloud partners send you/);
    await bot.post(installationUpdate('add', megan, bot.sink.url));
    expect(bot.lastReply(megan)).toMatch(/Your Microsoft cloud partners send you trial invitations/);
  });

  it('counts every offer in customers: waiting, accepted and not taken up add up to the whole', async () => {
    await bot.sayLater('trial admin@contoso.com teams-essentials', alex);
    const accepted = bot.lastIdSentTo('T', alex);
    await bot.sayLater('trial admin@contoso.com defender-business', alex);
    const declined = bot.lastIdSentTo('T', alex);
    await bot.sayLater('offer admin@contoso.com 10 m365-business-premium annual', alex);
    await bot.post(cardAction('offer.accept', { offerId: accepted }, megan, bot.sink.url));
    await bot.post(cardAction('offer.decline', { offerId: declined }, megan, bot.sink.url));
    await bot.sayLater('customers', alex);
    expect(bot.lastReply(alex)).toMatch(
      /admin@contoso\.com[\s\S]*3 offers: 1 waiting, 1 accepted, 1 not taken up \(declined, withdrawn or expired\)/,
    );
  });

  it('shows when an answered offer was answered, not when it would have expired', async () => {
    await bot.sayLater('status', alex);
    const id = bot.lastIdSentTo('T', alex);
    await bot.sayLater(`status ${id}`, alex);
    const status = bot.lastReply(alex);
    expect(status).toMatch(/Answered: 25 Nov 2026/);
    expect(status).not.toMatch(/Expires:/);
    await bot.sayLater('offer admin@contoso.com 5 m365-business-premium monthly', alex);
    expect(bot.lastReply(alex)).toMatch(/Expires: /);
  });

  it('shows relationship states as words people read, like the offer states', async () => {
    await bot.sayLater('delegate admin@contoso.com roles Exchange Administrator days 30', alex);
    const id = bot.lastIdSentTo('D', alex);
    await bot.sayLater(`status ${id}`, alex);
    expect(bot.lastReply(alex)).toMatch(new RegExp(`${id}: Waiting for an answer[\\s\\S]*Status: Waiting for an answer`));
    await bot.post(cardAction('delegation.approve', { relationshipId: id, replaces: '' }, megan, bot.sink.url));
    await bot.sayLater(`status ${id}`, alex);
    expect(bot.lastReply(alex)).toMatch(new RegExp(`${id}: Approved \\(recorded\\)[\\s\\S]*Status: Approved \\(recorded\\)`));
  });

  it("tells the partner whose organisation Global Administrator covers; the customer's card says theirs", async () => {
    await bot.sayLater('delegate admin@contoso.com roles Global Administrator', alex);
    const id = bot.lastIdSentTo('D', alex);
    expect(bot.lastReply(alex)).toMatch(/every setting, user, admin role, service and all data in the customer's organisation/);
    expect(bot.lastReply(alex)).not.toMatch(/your organisation/);
    await bot.drain();
    const card = bot.sink
      .sentTo(megan.conversationId)
      .map((r) => bot.sink.textOf(r))
      .find((t) => t.includes(id))!;
    expect(card).toMatch(/every setting, user, admin role, service and all data in your organisation/);
  });

  it('says on the edit form of a published listing that saving changes it at once, not that Publish is still to come', async () => {
    const listing = (await bot.store.listings.get(alex.tenantId))!;
    expect(listing.published).toBe(true);
    const res = await bot.post(cardAction('listing.edit', { listingId: listing.id }, alex, bot.sink.url));
    const text = cardText((res.body as { value: unknown }).value);
    expect(text).toMatch(/Your listing is published: what you save here is what customers and other partners find, at once/);
    expect(text).not.toMatch(/nothing is published until you press Publish/);
  });
});
