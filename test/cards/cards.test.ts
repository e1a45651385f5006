import { createCardRenderer, MAX_CARD_BYTES, type CardJson } from '../../src/cards/render';
import { createCommandRouter } from '../../src/bot/commands';
import { errorCard, registerGeneral } from '../../src/bot/general';
import { createVerbTable, messageResponse } from '../../src/bot/verbs';
import { UserInputError } from '../../src/errors';
import { createMessageRegistry } from '../../src/notifications/messages';
import { registerOffers } from '../../src/offers';
import { createOfferMessages } from '../../src/offers/messages';
import type { OfferService } from '../../src/offers/service';
import type { Offer, OfferState } from '../../src/offers/types';
import { cardText } from '../support/connector-sink';
import { purchaseOffer, trialOffer } from '../support/fixtures';

// The ESM build of adaptivecards does not load in Node; the UMD bundle does (see PLATFORM-NOTES).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const AC = require('adaptivecards/dist/adaptivecards.js') as typeof import('adaptivecards');

/** Schema problems the Adaptive Cards SDK finds: unknown elements, invalid values, duplicate ids. */
function schemaProblems(json: CardJson): string[] {
  const card = new AC.AdaptiveCard();
  const context = new AC.SerializationContext();
  card.parse(json, context);
  const problems: string[] = [];
  for (let i = 0; i < context.eventCount; i++) problems.push(context.getEventAt(i).message);
  for (const e of card.validateProperties().validationEvents) problems.push(e.message);
  return problems;
}

const cards = createCardRenderer();
const offerCards = createOfferMessages(cards);
const STATES: OfferState[] = ['awaitingDelivery', 'sent', 'accepted', 'declined', 'expired', 'withdrawn'];
const decided = (o: Offer, state: OfferState): Offer => ({ ...o, state, decidedAt: '2026-11-26T10:00:00.000Z', trialEndsAt: '2026-12-26T10:00:00.000Z' });

/** Every card the bot can send, rendered through the same functions the handlers use. */
const rendered: { name: string; template: string; json: CardJson }[] = [];
const add = (name: string, template: string, json: CardJson) => rendered.push({ name, template, json });
const content = (a: { content?: unknown }) => a.content as CardJson;

for (const base of [trialOffer(), purchaseOffer(), purchaseOffer({ billing: 'monthly', id: 'P-9M3N5R' })]) {
  const label = `${base.kind}${base.billing ? ` ${base.billing}` : ''}`;
  for (const state of STATES) {
    add(`offer ${label} ${state}`, 'offer', offerCards.offerCardJson(decided(base, state)));
    add(`status ${label} ${state}`, 'offer-summary', content(offerCards.status(decided(base, state), [])));
  }
  add(`issued ${label}`, 'offer-summary', content(offerCards.issued(base, 'https://teams.microsoft.com/l/app/x')));
  add(`waiting ${label}`, 'offer-summary', content(offerCards.issued({ ...base, state: 'awaitingDelivery', approver: undefined }, 'https://teams.microsoft.com/l/app/x')));
  add(`duplicate ${label}`, 'offer-summary', content(offerCards.duplicate(base)));
  add(`withdrawn ${label}`, 'offer-summary', content(offerCards.withdrawn(decided(base, 'withdrawn'))));
  for (const event of ['accepted', 'declined', 'expired', 'delivered'] as const) {
    add(`notice ${label} ${event}`, 'offer-summary', content(offerCards.partnerNotice(decided(base, event === 'delivered' ? 'sent' : event), event, 'too expensive').attachments![0]!));
  }
}
add('list', 'offer-list', content(offerCards.list('Recent offers', [trialOffer(), purchaseOffer()], { empty: 'none', hint: 'Type status <id>' })));
add('list empty', 'offer-list', content(offerCards.list('Recent offers', [], { empty: 'No offers yet', forCustomer: true })));
add('customers', 'customers', content(offerCards.customers([{ approverEmail: 'admin@contoso.com', offers: 3, pending: 1, accepted: 1, lastActivityAt: '2026-11-25T09:00:00.000Z' }])));
add('customers empty', 'customers', content(offerCards.customers([])));
add('error', 'error', content(errorCard(cards)(new UserInputError('That is wrong.', 'trial admin@contoso.com teams-essentials'))));
add('help', 'help', cards.render('help', { title: 'Partner Offers', intro: 'Type a command:', commands: [{ usage: 'help', description: 'This.' }] }));
add('support', 'support', cards.render('support', {}));

/** Verbs of every Action.Execute (and refresh) in a card, including inside ShowCard and fallbacks. */
function verbsIn(node: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(node)) node.forEach((n) => verbsIn(n, out));
  else if (node && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    if (o.type === 'Action.Execute' && typeof o.verb === 'string') out.add(o.verb);
    if (o.type === 'Action.Submit' && typeof (o.data as { verb?: unknown })?.verb === 'string') out.add((o.data as { verb: string }).verb);
    Object.values(o).forEach((v) => verbsIn(v, out));
  }
  return out;
}

describe('card templates', () => {
  it('renders every template in cards/ at least once here', () => {
    expect(new Set(rendered.map((r) => r.template))).toEqual(new Set(cards.names()));
  });

  it.each(rendered.map((r) => [r.name, r] as const))('%s is valid Adaptive Card 1.5 for Teams, under 80 KB, fully expanded', (_name, r) => {
    expect(schemaProblems(r.json)).toEqual([]);
    expect(r.json.version).toBe('1.5');
    const serialized = JSON.stringify(r.json);
    expect(Buffer.byteLength(serialized)).toBeLessThan(MAX_CARD_BYTES);
    // A template expression left unexpanded would show "${...}" to a person.
    expect(serialized).not.toMatch(/\$\{/);
  });

  it('catches a card that Teams would not render (the validator really runs)', () => {
    expect(schemaProblems({ type: 'AdaptiveCard', version: '1.5', body: [{ type: 'TextBlok', text: 'x' }] })).toEqual([
      expect.stringContaining('Unknown element type "TextBlok"'),
    ]);
  });

  it('refuses to render a card over the size limit', () => {
    const huge = 'x'.repeat(MAX_CARD_BYTES);
    expect(() => cards.render('error', { title: 'big', message: huge, example: '' })).toThrow(/over the 81920-byte limit/);
  });

  it('gives every verb used by a card exactly one registered handler', () => {
    const verbs = createVerbTable();
    const router = createCommandRouter();
    registerGeneral(router, cards);
    registerOffers(router, verbs, createMessageRegistry(), { service: {} as OfferService, cards: offerCards, installLink: 'x' });
    const used = new Set(rendered.flatMap((r) => [...verbsIn(r.json)]));
    expect([...used].sort()).toEqual(['offer.accept', 'offer.decline', 'offer.view']);
    for (const verb of used) expect(verbs.verbs().filter((v) => v === verb)).toHaveLength(1);
    expect(() => verbs.register('offer.accept', { schema: {} as never, handle: async () => messageResponse('x') })).toThrow(/registered twice/);
  });

  it('shows the approver Accept and Decline only while the offer is pending, and refreshes only for the approver', () => {
    const pending = offerCards.offerCardJson(trialOffer());
    expect(cardText(pending)).toMatch(/\[Accept\][\s\S]*\[Decline\]/);
    expect(pending.refresh).toMatchObject({ userIds: ['29:megan'], action: { verb: 'offer.view', data: { offerId: 'T-4K7P2Q' } } });
    expect(cardText(offerCards.offerCardJson(decided(trialOffer(), 'accepted')))).not.toMatch(/\[Accept\]|\[Decline\]/);
  });

  it('carries only ids in card action data, never state', () => {
    for (const r of rendered) {
      const visit = (n: unknown): void => {
        if (Array.isArray(n)) return n.forEach(visit);
        if (!n || typeof n !== 'object') return;
        const o = n as Record<string, unknown>;
        if ((o.type === 'Action.Execute' || o.type === 'Action.Submit') && o.data) {
          expect(Object.keys(o.data as object).sort()).toEqual(o.type === 'Action.Submit' ? ['offerId', 'verb'] : ['offerId']);
        }
        Object.values(o).forEach(visit);
      };
      visit(r.json);
    }
  });
});
