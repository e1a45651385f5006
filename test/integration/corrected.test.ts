import { alex, megan, type TeamsUser } from '../support/people';
import { startTestBot, type TestBot } from '../support/test-bot';

interface Node {
  type?: string;
  text?: string;
  verb?: string;
  data?: Record<string, unknown>;
  [k: string]: unknown;
}

/** Every object in a card, depth first. */
const nodes = (n: unknown): Node[] =>
  Array.isArray(n) ? n.flatMap(nodes) : n && typeof n === 'object' ? [n as Node, ...Object.values(n).flatMap(nodes)] : [];

describe('an error with one certain correction offers to send it corrected', () => {
  let bot: TestBot;

  /** What the last card in the person's chat shows as the corrected command, and its button's verb and data. */
  const lastErrorCard = (as: TeamsUser) => {
    const sent = bot.sink.sentTo(as.conversationId);
    const all = nodes(bot.sink.cards(sent[sent.length - 1]!));
    const button = all.find((n) => n.type === 'Action.Execute' && n.verb === 'command.send');
    return {
      text: bot.lastReply(as),
      shown: all.find((n) => n.type === 'TextRun')?.text,
      button: button && { title: button.title, verb: button.verb!, data: button.data! },
    };
  };
  const pendingOffers = async () => (await bot.store.offers.listByPartner({ partnerTenantId: alex.tenantId, limit: 100 })).length;

  beforeAll(async () => {
    bot = await startTestBot();
    bot.meet(alex, megan);
    for (const u of [alex, megan]) await bot.say('help', u);
  });
  afterAll(() => bot.close());

  it('a misspelled command word: the card shows the whole corrected command, and its button sends it once', async () => {
    await bot.sayLater('trail admin@contoso.com teams-essentials', alex);
    const card = lastErrorCard(alex);
    expect(card.text).toMatch(/Did you mean trial\?/);
    expect(card.shown).toBe('trial admin@contoso.com teams-essentials');
    expect(card.button).toEqual({ title: 'Send it corrected', verb: 'command.send', data: { command: card.shown } });
    const before = await pendingOffers();

    const first = await bot.click(card.button!.verb, card.button!.data, alex);
    expect(first.status).toBe(200);
    expect(first.text).toMatch(/Trial invitation T-\w{6} sent to Megan Bowen/);
    expect(first.text).toMatch(/Microsoft Teams Essentials/);
    expect(await pendingOffers()).toBe(before + 1);

    // The same button again (an older client, a second tap) is the same command typed twice: no second offer.
    const again = await bot.click(card.button!.verb, card.button!.data, alex);
    expect(again.text).toContain(`You already sent this: ${/T-\w{6}/.exec(first.text)![0]}`);
    expect(await pendingOffers()).toBe(before + 1);
  });

  it('an unknown service with one close match: the corrected command names it', async () => {
    await bot.sayLater('trial admin@contoso.com m365-busines-premium', alex);
    const card = lastErrorCard(alex);
    expect(card.text).toMatch(/Did you mean m365-business-premium\?/);
    expect(card.shown).toBe('trial admin@contoso.com m365-business-premium');

    const sent = await bot.click(card.button!.verb, card.button!.data, alex);
    expect(sent.text).toMatch(/Trial invitation T-\w{6} sent to Megan Bowen[\s\S]*Microsoft 365 Business Premium/);
  });

  it.each([
    ['a word close to two commands', 'trifer admin@contoso.com teams-essentials', /I don't know "trifer"/],
    ['a service close to two', 'trial admin@contoso.com m365-e3x', /Did you mean m365-e3 or m365-e5\?/],
  ])('%s: no button, the suggestions stay', async (_what, typed, message) => {
    await bot.sayLater(typed, alex);
    const card = lastErrorCard(alex);
    expect(card.text).toMatch(message);
    expect(card.button).toBeUndefined();
    expect(card.text).not.toMatch(/Send it corrected/);
  });

  it("refuses a customer who presses a partner's Send it corrected, as it refuses them typing the command", async () => {
    await bot.sayLater('trail admin@contoso.com teams-premium', alex);
    const { shown, button } = lastErrorCard(alex);
    const before = await pendingOffers();
    await bot.sayLater(shown!, megan);
    const typed = bot.lastReply(megan).trim();
    expect(typed).toMatch(/^Only for partners/);

    const clicked = await bot.click(button!.verb, button!.data, megan);
    expect(clicked.text).toBe(typed);
    expect(await pendingOffers()).toBe(before);
  });

  it('checks the command at the edge like typed text: none, or longer than a command, is refused', async () => {
    for (const command of ['', ' ', `trial admin@contoso.com ${'x'.repeat(2_000)}`]) {
      const res = await bot.click('command.send', { command }, alex);
      expect(res.status).toBe(400);
      expect(res.text).toMatch(/This card's data is not valid: command/);
    }
  });
});
