import { alex, megan, type TeamsUser } from '../support/people';
import { startTestBot, type TestBot } from '../support/test-bot';

/** What Teams does to text it shows: anything that looks like a tag is removed, as Teams removes unknown HTML. */
const asTeamsShowsIt = (text: string) => text.replace(/<[^>]*>/g, '');

describe('commands shown to people keep every word in Teams', () => {
  let bot: TestBot;
  const replyTo = async (text: string, as: TeamsUser) => {
    await bot.sayLater(text, as);
    return bot.lastReply(as);
  };

  beforeAll(async () => {
    bot = await startTestBot();
    bot.meet(alex, megan);
    for (const u of [alex, megan]) await bot.say('help', u);
    await bot.sayLater('trial admin@contoso.com m365-business-premium', alex);
  });
  afterAll(() => bot.close());

  it.each([
    ['help, as a partner', 'help', alex, /trial ‹customer-email› ‹service›/],
    ['help, as a customer', 'help', megan, /find ‹words› \[in ‹country›\] \[language ‹code›\]/],
    ['a typo', 'trail admin@contoso.com', alex, /Did you mean trial\?[\s\S]*trial ‹customer-email›/],
    ['customers', 'customers', alex, /status ‹customer-email›/],
    ['status', 'status', alex, /status ‹id›/],
    ['a delegate the bot cannot read', 'delegate admin@contoso.com please', alex, /roles ‹role›, ‹role›; days ‹1-730›/],
  ])('%s', async (_what, text, as, shown) => {
    const reply = await replyTo(text, as);
    expect(reply).toMatch(shown);
    expect(asTeamsShowsIt(reply)).toBe(reply);
  });
});

describe('a message written as a sentence', () => {
  let bot: TestBot;
  beforeAll(async () => {
    bot = await startTestBot();
    bot.meet(alex, megan);
    for (const u of [alex, megan]) await bot.say('help', u);
  });
  afterAll(() => bot.close());

  it('gets a friendly answer with the closest commands, not an error', async () => {
    await bot.sayLater('Hi, can you send a trial to admin@contoso.com', alex);
    const sent = bot.sink.sentTo(alex.conversationId);
    const reply = bot.sink.textOf(sent[sent.length - 1]!);
    expect(reply).toMatch(/^I work with short commands rather than sentences/);
    expect(reply.split('\n').filter((l) => l.startsWith('- '))[0]).toMatch(/^- trial ‹customer-email›/);
    expect(reply).not.toMatch(/I don't know|didn't understand/);
    expect(bot.sink.cards(sent[sent.length - 1]!)).toHaveLength(0);
  });

  it('still answers a mistyped command with the correction', async () => {
    await bot.sayLater('trail admin@contoso.com teams-essentials', alex);
    expect(bot.lastReply(alex)).toMatch(/Did you mean trial\?/);
  });
});
