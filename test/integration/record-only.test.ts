import { addDays } from '../../src/clock';
import { channelMessage, installationUpdate, SALES } from '../support/activities';
import { alex, megan, nestor } from '../support/people';
import { idIn, startTestBot, type TestBot } from '../support/test-bot';

/**
 * Claims a card may make only once Microsoft confirmed them. No partner here has Microsoft credentials, so the bot
 * records answers and creates or ends nothing at Microsoft: none of these may appear anywhere.
 */
const CLAIMS: RegExp[] = [
  /\bha(s|ve)\b[^.\n]*\buntil\b/i, // "Fabrikam Cloud Partners has Exchange Administrator until 4 Dec 2027"
  /\blos(e|es|t)\b/i, // "loses its delegated administration"
  /\bat once\b/i,
  /\bactive\b/i,
  /\baccess (was |is |has been )?(granted|ended)\b/i,
  /\bno longer (has|holds)\b/i,
  /\badministers\b/i,
  /\bis (now )?your (delegated-admin partner|delegated admin|partner of record)\b/i,
  /\byou are now their\b/i,
  /\b(relationship|delegated administration|access)\b[^.\n]*\b(ended|terminated)\b/i,
  /\b[DR]-[2-9A-HJKMNP-Z]{6} ended\b/, // "so D-4K7P2Q ended then"
  /\bterminated\b/i,
];

const claimsIn = (text: string) => CLAIMS.filter((c) => c.test(text)).map((c) => `${String(c)} in: ${text}`);

/**
 * The record-only story over HTTP, from both sides and the partner's channel: a delegated-admin request approved, a
 * partner of record designated, a second partner replacing the first, revoked by the customer and by a partner. Every
 * sentence is true: the bot recorded answers, the partner still creates the relationship and sends Microsoft's link,
 * only the customer's Global Administrator approves it, and ending it at Microsoft is done in the admin centers.
 */
describe('without Microsoft credentials, every card says what was recorded and nothing more', () => {
  let bot: TestBot;
  /** What the customer saw in answer to her own clicks (the card as it became). */
  const clicked: string[] = [];
  const channelPosts = () => bot.sink.sentTo(SALES.id).map((r) => bot.sink.textOf(r));
  const click = async (...args: Parameters<TestBot['click']>) => {
    const res = await bot.click(...args);
    clicked.push(res.text);
    return res.text;
  };
  let fabrikamD: string;
  let northwindD: string;

  beforeAll(async () => {
    bot = await startTestBot();
    bot.meet(alex, megan, nestor);
    for (const u of [alex, megan, nestor]) await bot.post(installationUpdate('add', u, bot.sink.url));
    await bot.post(channelMessage('notify here', alex, bot.sink.url, SALES));
  });
  afterAll(() => bot.close());

  it('the list of claims catches what the cards used to say', () => {
    const before = [
      'Fabrikam Cloud Partners has Exchange Administrator until 4 Dec 2027.',
      'You have full administration until 24 Nov 2028.',
      'Northwind Managed Services loses its delegated administration (Helpdesk Administrator) at once and is told.',
      'They chose Northwind Managed Services on 26 Nov 2026, so D-4K7P2Q ended then.',
      'Your delegated administration ended on 26 Nov 2026.',
      'Fabrikam Cloud Partners no longer has admin access to your organisation since 26 Nov 2026 (D-4K7P2Q).',
      'Fabrikam Cloud Partners (D-4K7P2Q) administers your organisation with Exchange Administrator.',
      'Fabrikam Cloud Partners is your delegated-admin partner now (since 25 Nov 2026).',
      'You are now their partner of record.',
      'Status: Active',
      'D-4K7P2Q is terminated, so there is nothing to revoke.',
    ];
    expect(before.filter((text) => claimsIn(text).length === 0)).toEqual([]);
  });

  it("the request says approving records consent, and that Microsoft's approval link and a Global Administrator follow", async () => {
    await bot.say('delegate admin@contoso.com roles Exchange Administrator days 365', alex);
    fabrikamD = idIn('D', bot.lastReply(alex))!;
    await bot.drain();
    const card = bot.cardFor(megan, fabrikamD);
    expect(card).toContain('Approving here records your consent; it gives Fabrikam Cloud Partners no access by itself.');
    expect(card).toContain(
      "Fabrikam Cloud Partners then sends you Microsoft's approval link, and only a Global Administrator of your organisation can approve it, in the Microsoft 365 admin center.",
    );
    expect(card).toContain("remove Fabrikam Cloud Partners' roles in the Microsoft 365 admin center (Settings > Partner relationships)");
  });

  it('approved: the card says the consent is recorded and nothing changed yet, and who does what next', async () => {
    const text = await click('delegation.approve', { relationshipId: fabrikamD, replaces: '' }, megan);
    expect(text).toContain('Approved on 25 Nov 2026: your consent is recorded');
    expect(text).toContain('Nothing has changed in your organisation yet.');
    expect(text).toContain(
      "Fabrikam Cloud Partners will create the delegated admin relationship in Partner Center and send you Microsoft's approval link; only a Global Administrator of your organisation can approve it, in the Microsoft 365 admin center.",
    );
    expect(text).toContain('Type revoke admin to withdraw your consent.');
  });

  it('the partner hears it 1:1 and in its channel: recorded, no access yet, create it in Partner Center and send the link', async () => {
    await bot.drain();
    const next =
      "Create the delegated admin relationship in Partner Center (or through Microsoft Graph) with Exchange Administrator for 365 days, then send its approval link to a Global Administrator of the customer's organisation: only they can approve it, in the Microsoft 365 admin center.";
    const note = bot.lastReply(alex);
    expect(note).toContain(`Megan Bowen approved ${fabrikamD}`);
    expect(note).toContain('Their consent is recorded here; it gives you no access yet.');
    expect(note).toContain(next);
    const [post] = channelPosts();
    expect(post).toContain('DELEGATED ADMINISTRATION · CONSENT RECORDED');
    expect(post).toContain(`contoso.com approved delegated-admin request ${fabrikamD}`);
    expect(post).toContain(`Nothing exists at Microsoft yet. ${next}`);
  });

  it('status and partners say "recorded", with the dates of the consent', async () => {
    await bot.say(`status ${fabrikamD}`, alex);
    expect(bot.lastReply(alex)).toMatch(new RegExp(`${fabrikamD}: Approved \\(recorded\\)[\\s\\S]*Consent until: 25 Nov 2027`));
    await bot.say('status', alex);
    expect(bot.lastReply(alex)).toContain('Approved (recorded)');
    await bot.say('partners', megan);
    const partners = bot.lastReply(megan);
    expect(partners).toContain(
      `Fabrikam Cloud Partners (${fabrikamD}) is recorded here as your delegated-admin partner, with Exchange Administrator.`,
    );
    expect(partners).toContain(
      'This app records your consent only; which partners have roles in your organisation is shown in Settings > Partner relationships in the Microsoft 365 admin center.',
    );
    expect(partners).toContain('Type revoke admin to withdraw your delegated-admin consent.');
  });

  it('a partner-of-record designation is recorded, not set at Microsoft', async () => {
    await bot.say('trial admin@contoso.com teams-essentials as partner of record', alex);
    const trialId = idIn('T', bot.lastReply(alex))!;
    await bot.drain();
    const porId = idIn('R', bot.cardFor(megan, trialId))!;
    expect(bot.cardFor(megan, porId)).toContain(
      'Designating here records your choice; Fabrikam Cloud Partners will tell you how to make it official at Microsoft.',
    );
    const text = await click('por.accept', { relationshipId: porId, replaces: '' }, megan);
    expect(text).toContain('your choice is recorded');
    expect(text).toContain('Fabrikam Cloud Partners is recorded here as your partner of record. Nothing is set at Microsoft yet');
    await bot.drain();
    expect(bot.lastReply(alex)).toContain(
      'Their choice is recorded here. Nothing is set at Microsoft yet: tell the customer how to name Fabrikam Cloud Partners partner of record there.',
    );
    expect(channelPosts().at(-1)).toContain(`PARTNER OF RECORD · CHOICE RECORDED`);
  });

  it('a replace is recorded; the old partner is told to end its relationship, the customer how to remove its roles', async () => {
    await bot.say('delegate admin@contoso.com roles Helpdesk Administrator days 180', nestor);
    northwindD = idIn('D', bot.lastReply(nestor))!;
    await bot.drain();
    expect(bot.cardFor(megan, northwindD)).toContain(
      'Fabrikam Cloud Partners is recorded here as your delegated-admin partner (since 25 Nov 2026). Approving records Northwind Managed Services instead, and both are told; any roles Fabrikam Cloud Partners holds at Microsoft stay until you remove them.',
    );
    const alexBefore = bot.replyCount(alex);
    const text = await click('delegation.approve', { relationshipId: northwindD, replaces: fabrikamD }, megan);
    expect(text).toContain(
      'In this app it replaces Fabrikam Cloud Partners; any roles Fabrikam Cloud Partners holds stay until you remove them: Microsoft 365 admin center > Settings > Partner relationships, select Fabrikam Cloud Partners, then Remove roles.',
    );
    await bot.drain();
    const [replaced] = bot.repliesSince(alex, alexBefore);
    expect(replaced).toContain('Megan Bowen replaced you as delegated-admin partner');
    expect(replaced).toContain(
      'Nothing changed at Microsoft: end any delegated admin relationship you have with them in Partner Center (Customers > the customer > Admin relationships > the relationship > Terminate relationship).',
    );
    expect(bot.lastReply(nestor)).toContain('This replaces Fabrikam Cloud Partners as their delegated admin in this app only.');
    const oldCard = bot.sink.textOf(bot.sink.updatesIn(megan.conversationId).at(-1)!);
    expect(oldCard).toContain('Replaced on 25 Nov 2026 by Northwind Managed Services: recorded here');
    expect(oldCard).toContain('This ends nothing at Microsoft by itself. Fabrikam Cloud Partners has been told.');
  });

  it("revoke admin records the customer's revocation and says exactly how to end it at Microsoft", async () => {
    await bot.say('revoke admin', megan);
    const confirm = bot.lastReply(megan);
    expect(confirm).toContain('Withdraw your consent to Northwind Managed Services?');
    expect(confirm).toContain(
      "It does not remove Northwind Managed Services' roles at Microsoft; a Global Administrator does that: Microsoft 365 admin center > Settings > Partner relationships, select Northwind Managed Services, then Remove roles.",
    );
    const nestorBefore = bot.replyCount(nestor);
    const text = await click('delegation.revoke', { relationshipId: northwindD }, megan);
    expect(text).toContain('Revoked on 25 Nov 2026: recorded here');
    expect(text).toContain(
      'This ends nothing at Microsoft by itself. Northwind Managed Services has been told. To remove any roles Northwind Managed Services holds: Microsoft 365 admin center > Settings > Partner relationships, select Northwind Managed Services, then Remove roles.',
    );
    await bot.drain();
    const [told] = bot.repliesSince(nestor, nestorBefore);
    expect(told).toContain(`Megan Bowen revoked ${northwindD}`);
    expect(told).toContain('They withdrew their consent on 25 Nov 2026, recorded here. Nothing changed at Microsoft');
    await bot.say(`status ${northwindD}`, nestor);
    expect(bot.lastReply(nestor)).toContain(`${northwindD}: Revoked (recorded)`);
    await bot.say('revoke admin', megan);
    expect(bot.lastReply(megan)).toContain('No delegated-admin consent is recorded in this app, so there is nothing to revoke here.');
  });

  it('a partner revoking its own is recorded; the customer is told how to remove its roles', async () => {
    await bot.say('delegate admin@contoso.com roles User Administrator days 30', alex);
    const d = idIn('D', bot.lastReply(alex))!;
    await click('delegation.approve', { relationshipId: d, replaces: '' }, megan);
    await bot.drain();
    const meganBefore = bot.replyCount(megan);
    await bot.say(`delegate revoke ${d}`, alex);
    expect(bot.lastReply(alex)).toContain('Megan Bowen has been told. This ends nothing at Microsoft');
    await bot.drain();
    const told = bot.repliesSince(megan, meganBefore).join('\n');
    expect(told).toContain(`Fabrikam Cloud Partners revoked ${d}`);
    expect(told).toContain('This ends nothing at Microsoft by itself. To remove any roles Fabrikam Cloud Partners holds:');
    await bot.say(`delegate revoke ${d}`, alex);
    expect(bot.lastReply(alex)).toContain(`${d} is revoked (recorded), so there is nothing to revoke.`);
  });

  it('as time passes, reminders, the extension and the end speak of the recorded consent', async () => {
    await bot.say('delegate admin@contoso.com roles Reports Reader days 40 auto-extend', alex);
    const extended = idIn('D', bot.lastReply(alex))!;
    await bot.say('delegate admin@contoso.com roles Message Center Reader days 40', alex);
    const ending = idIn('D', bot.lastReply(alex))!;
    await bot.drain();
    const start = bot.clock.now;
    await click('delegation.approve', { relationshipId: extended, replaces: '' }, megan);
    const meganBefore = bot.replyCount(megan);
    for (const day of [10, 33, 39, 40]) {
      bot.clock.now = addDays(start, day);
      await bot.app.sweep();
    }
    await bot.drain();
    const heard = bot.repliesSince(megan, meganBefore).join('\n');
    expect(heard).toContain(`${extended}: recorded consent is extended in 30 days`);
    expect(heard).toContain(`${extended}: recorded consent extended`);
    expect(heard).toContain('Nothing changed at Microsoft.');
    // The second one is approved after the first has been extended, so it replaces it, and then runs to its end.
    const text = await click('delegation.approve', { relationshipId: ending, replaces: extended }, megan);
    expect(text).toContain('It replaces your earlier approval');
    bot.clock.now = addDays(bot.clock.now, 41);
    await bot.app.sweep();
    await bot.drain();
    expect(bot.lastReply(megan)).toContain(`${ending}: recorded consent ended`);
    expect(bot.lastReply(megan)).toContain('A delegated admin relationship at Microsoft ends on its own end date');
  });

  it('nothing either side received claims that access was granted, held or ended', () => {
    const received = [
      ...[megan, alex, nestor].flatMap((u) => bot.repliesSince(u, 0)),
      ...bot.sink.updatesIn(megan.conversationId).map((u) => bot.sink.textOf(u)),
      ...channelPosts(),
      ...clicked,
    ];
    expect(received.length).toBeGreaterThan(20);
    expect(received.flatMap(claimsIn)).toEqual([]);
  });
});
