import { installationUpdate } from '../support/activities';
import { alex, megan, nestor } from '../support/people';
import { idIn, startTestBot, type TestBot } from '../support/test-bot';

/**
 * A delegated-admin request's card that `offers` posted again (a copy) changes with the request, as a copy of an
 * offer's card does: once the request is answered, no copy keeps buttons that no longer mean anything.
 */
describe('copies of a request card posted by offers, over real HTTP', () => {
  let bot: TestBot;
  beforeAll(async () => {
    bot = await startTestBot();
    bot.meet(alex, megan, nestor);
    for (const u of [alex, megan, nestor]) await bot.post(installationUpdate('add', u, bot.sink.url));
  });
  afterAll(() => bot.close());

  /** The partner asks; the card reaches Megan; she types `offers` twice: the original card and two copies. */
  async function requestWithCopies(partner: typeof alex, text: string) {
    await bot.say(text, partner);
    const id = idIn('D', bot.lastReply(partner))!;
    await bot.drain();
    expect(bot.cardFor(megan, id)).toContain('[Approve]');
    const copies: string[] = [];
    for (let i = 0; i < 2; i++) {
      const before = bot.replyCount(megan);
      await bot.say('offers', megan);
      expect(bot.repliesSince(megan, before)[0]).toMatch(/1 request is waiting for your answer/);
      // The messages `offers` posted that show the request, as the customer's chat has them.
      const posted = bot.sink
        .sentTo(megan.conversationId)
        .slice(before)
        .filter((m) => bot.sink.textOf(m).includes(id));
      expect(posted).toHaveLength(1);
      expect(bot.sink.textOf(posted[0]!)).toContain('[Approve]');
      copies.push(posted[0]!.sentId!);
    }
    const original = bot.sink.sentTo(megan.conversationId).find((m) => bot.sink.textOf(m).includes(id))!.sentId!;
    expect(copies).not.toContain(original);
    return { id, original, copies };
  }

  /** What Megan now reads in the message with that activity id: its latest update. */
  const shownAt = (activityId: string) => {
    const update = bot.sink
      .updatesIn(megan.conversationId)
      .filter((u) => u.activityId === activityId)
      .at(-1);
    return update ? bot.sink.textOf(update) : undefined;
  };

  it('declined on one copy: the original card and every copy say so, and none has buttons left', async () => {
    const { id, original, copies } = await requestWithCopies(alex, 'delegate admin@contoso.com roles User Administrator days 90');
    const res = await bot.click('delegation.decline', { relationshipId: id, reason_delegation: 'Not now' }, megan, {
      replyToId: copies[0],
    });
    expect(res.text).toContain('Declined on 25 Nov 2026');
    await bot.drain();
    for (const place of [original, ...copies]) {
      const text = shownAt(place);
      expect(text).toContain(id);
      expect(text).toContain('Declined on 25 Nov 2026');
      expect(text).not.toContain('[Approve]');
      expect(text).not.toContain('[Decline]');
    }
  });

  it('approved on the original card: the copies say it is approved, without buttons', async () => {
    const { id, copies } = await requestWithCopies(nestor, 'delegate admin@contoso.com roles Exchange Administrator days 60');
    const res = await bot.click('delegation.approve', { relationshipId: id, replaces: '' }, megan);
    expect(res.text).toContain('Approved on 25 Nov 2026');
    await bot.drain();
    for (const place of copies) {
      const text = shownAt(place);
      expect(text).toContain(id);
      expect(text).toContain('Approved on 25 Nov 2026');
      expect(text).not.toContain('[Approve]');
    }
  });
});
