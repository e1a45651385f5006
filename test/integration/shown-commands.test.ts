import { alex, megan, message, type TeamsUser } from '../support/activities';
import { startTestBot, type TestBot } from '../support/test-bot';

/** What Teams does to text it shows: anything that looks like a tag is removed, as Teams removes unknown HTML. */
const asTeamsShowsIt = (text: string) => text.replace(/<[^>]*>/g, '');

describe('commands shown to people keep every word in Teams', () => {
  let bot: TestBot;
  const replyTo = async (text: string, as: TeamsUser) => {
    await bot.sayLater(text, as);
    const sent = bot.sink.sentTo(as.conversationId);
    return bot.sink.textOf(sent[sent.length - 1]!);
  };

  beforeAll(async () => {
    bot = await startTestBot();
    bot.meet(alex, megan);
    for (const u of [alex, megan]) await bot.post(message('help', u, bot.sink.url));
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
