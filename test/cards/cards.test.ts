import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CardData } from '../../src/cards/data';
import { createCardRenderer, defaultCardsDir, MAX_CARD_BYTES, type CardJson } from '../../src/cards/render';
import { createCommandRouter } from '../../src/bot/commands';
import { errorCard, registerGeneral, registerSendCorrected } from '../../src/bot/general';
import { createVerbTable, messageResponse } from '../../src/bot/verbs';
import { UserInputError } from '../../src/errors';
import { createMessageRegistry } from '../../src/notifications/messages';
import { registerOffers } from '../../src/offers';
import { createOfferMessages } from '../../src/offers/messages';
import type { OfferService } from '../../src/offers/service';
import type { Billing, Offer, OfferState, Term } from '../../src/offers/types';
import type { ResponseRecord } from '../../src/responses/types';
import { cardText } from '../support/connector-sink';
import { approverPerson, delegation, partnerOfRecord, purchaseOffer, trialOffer } from '../support/fixtures';
import { registerDelegation } from '../../src/delegation';
import { createDelegationMessages, requestPart } from '../../src/delegation/messages';
import { NOTICE_EVENTS, type DelegationService } from '../../src/delegation/service';
import type { Relationship, RelationshipState } from '../../src/delegation/types';
import { registerNotificationCommands } from '../../src/notifications/channel';
import type { Store } from '../../src/store/types';
import { createLogger } from '../../src/log';
import { createMarketplaceMessages } from '../../src/marketplace/messages';
import { registerMarketplace } from '../../src/marketplace';
import type { MarketplaceService } from '../../src/marketplace/service';
import { loadCatalog } from '../../src/directory/catalog';
import { newFulfilment } from '../../src/orders/fulfil';
import { orderNoticeData, orderView, registerOrders, type Fulfilments } from '../../src/orders';
import type { Fulfilment } from '../../src/orders/types';

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
const decided = (o: Offer, state: OfferState): Offer => ({
  ...o,
  state,
  decidedAt: '2026-11-26T10:00:00.000Z',
  trialEndsAt: '2026-12-26T10:00:00.000Z',
});

/** Every card the bot can send, rendered through the same functions the handlers use. */
const rendered: { name: string; template: string; json: CardJson }[] = [];
const add = (name: string, template: string, json: CardJson) => rendered.push({ name, template, json });
const content = (a: { content?: unknown }) => a.content as CardJson;

/** An offer stored before terms existed: a billing and no term. */
const { term: _term, ...storedBeforeTerms } = purchaseOffer({ billing: 'monthly', id: 'P-7K2M4N' });
for (const base of <Offer[]>[
  trialOffer(),
  purchaseOffer(),
  purchaseOffer({ billing: 'monthly', id: 'P-9M3N5R' }),
  purchaseOffer({ term: 'P1M', billing: 'monthly', id: 'P-9M3N5S' }),
  purchaseOffer({ term: 'P3Y', billing: 'annual', id: 'P-9M3N5T' }),
  storedBeforeTerms,
]) {
  const label = `${base.kind}${base.billing ? ` ${base.term ?? 'no term'} ${base.billing}` : ''}`;
  for (const state of STATES) {
    add(`offer ${label} ${state}`, 'offer', offerCards.offerCardJson(decided(base, state)));
    add(`status ${label} ${state}`, 'offer-summary', content(offerCards.status(decided(base, state), [])));
  }
  add(`issued ${label}`, 'offer-summary', content(offerCards.issued(base, 'https://teams.microsoft.com/l/app/x')));
  add(
    `waiting ${label}`,
    'offer-summary',
    content(offerCards.issued({ ...base, state: 'awaitingDelivery', approver: undefined }, 'https://teams.microsoft.com/l/app/x')),
  );
  add(`duplicate ${label}`, 'offer-summary', content(offerCards.duplicate(base)));
  add(`withdrawn ${label}`, 'offer-summary', content(offerCards.withdrawn(decided(base, 'withdrawn'))));
  for (const event of ['accepted', 'declined', 'expired', 'delivered'] as const) {
    add(
      `notice ${label} ${event}`,
      'offer-summary',
      content(offerCards.partnerNotice(decided(base, event === 'delivered' ? 'sent' : event), event, 'too expensive').attachments![0]!),
    );
  }
}
add(
  'list',
  'offer-list',
  content(offerCards.list('Recent offers', [trialOffer(), purchaseOffer()], { empty: 'none', hint: 'Type status <id>' })),
);
add('list empty', 'offer-list', content(offerCards.list('Recent offers', [], { empty: 'No offers yet', forCustomer: true })));
add(
  'customers',
  'customers',
  content(
    offerCards.customers([
      { approverEmail: 'admin@contoso.com', offers: 3, pending: 1, accepted: 1, lastActivityAt: '2026-11-25T09:00:00.000Z' },
    ]),
  ),
);
add('customers empty', 'customers', content(offerCards.customers([])));
const declinedAdmin: ResponseRecord = {
  id: 'resp-1',
  subjectKind: 'delegation',
  subjectId: 'D-4K7P2Q',
  slot: 'delegation',
  decision: 'declined',
  comment: 'Not now',
  by: { aadObjectId: 'megan', name: 'Megan Bowen', upn: 'admin@contoso.com', tenantId: 'contoso' },
  at: '2026-11-26T10:00:00.000Z',
  conversationId: 'c',
  activityId: 'a',
  customerTenantId: 'contoso',
  seq: 1,
  prevHash: '',
  hash: 'h',
};
add(
  'status with attached requests',
  'offer-summary',
  content(
    offerCards.status(
      decided(trialOffer(), 'accepted'),
      [],
      [
        { kind: 'Delegated administration', id: 'D-4K7P2Q', state: 'Declined', responses: [declinedAdmin] },
        { kind: 'Partner of record', id: 'R-4K7P2Q', state: 'Waiting for an answer', responses: [] },
      ],
    ),
  ),
);
const delegationCards = createDelegationMessages(cards);
const REL_STATES: RelationshipState[] = ['awaitingDelivery', 'approvalPending', 'active', 'declined', 'expired', 'terminated'];
const at = (r: Relationship, state: RelationshipState): Relationship => ({
  ...r,
  state,
  ...(state === 'active' || state === 'terminated' ? { activatedAt: '2026-11-26T10:00:00.000Z', endsAt: '2027-11-26T10:00:00.000Z' } : {}),
  ...(state === 'declined' ? { decidedAt: '2026-11-26T10:00:00.000Z' } : {}),
  ...(state === 'terminated' || state === 'expired'
    ? {
        endedAt: '2026-12-01T10:00:00.000Z',
        endReason: state === 'expired' ? 'expired' : 'replaced',
        replacedBy: { id: 'D-9Z9Z9Z', partnerTenantId: 'p2', partnerName: 'Northwind Managed Services' },
      }
    : {}),
});
const northwind = delegation({
  id: 'D-9Z9Z9Z',
  partnerTenantId: 'northwind-tenant',
  partnerName: 'Northwind Managed Services',
  state: 'active',
  activatedAt: '2026-10-01T00:00:00.000Z',
});
for (const base of [delegation(), delegation({ access: { kind: 'full' }, autoExtend: false }), partnerOfRecord()]) {
  const label = base.kind === 'por' ? 'por' : base.access?.kind === 'full' ? 'delegation full' : 'delegation roles';
  for (const state of REL_STATES) {
    add(`request ${label} ${state}`, 'delegation-request', delegationCards.requestCardJson(at(base, state), null));
    add(`relationship status ${label} ${state}`, 'relationship-summary', content(delegationCards.status(at(base, state), [])));
  }
  add(`request ${label} replacing`, 'delegation-request', delegationCards.requestCardJson(base, northwind));
  add(`issued ${label}`, 'relationship-summary', content(delegationCards.issued(base, 'https://teams.microsoft.com/l/app/x')));
  add(
    `waiting ${label}`,
    'relationship-summary',
    content(delegationCards.issued({ ...base, state: 'awaitingDelivery', approver: undefined }, 'https://teams.microsoft.com/l/app/x')),
  );
  add(`duplicate ${label}`, 'relationship-summary', content(delegationCards.duplicate(base)));
  for (const event of NOTICE_EVENTS) {
    for (const audience of ['partner', 'customer'] as const) {
      add(
        `notice ${label} ${event} ${audience}`,
        'relationship-summary',
        content(delegationCards.notice(at(base, 'active'), audience, event, { daysLeft: 7, comment: 'not now' }).attachments![0]!),
      );
    }
  }
}
add(
  'offer with attached requests',
  'offer',
  offerCards.offerCardJson(trialOffer({ attachments: { delegationId: 'D-4K7P2Q', porId: 'R-4K7P2Q' } }), [
    requestPart(delegation({ access: { kind: 'full' }, autoExtend: false, offerId: 'T-4K7P2Q' }), northwind),
    requestPart(partnerOfRecord({ offerId: 'T-4K7P2Q' }), null),
  ]),
);
add('relationship list', 'offer-list', content(delegationCards.list([delegation(), partnerOfRecord()])));
add(
  'partners',
  'partners',
  content(delegationCards.partners({ delegation: at(delegation(), 'active'), por: at(partnerOfRecord(), 'active') })),
);
add('partners none', 'partners', content(delegationCards.partners({ delegation: null, por: null })));
add('revoke confirm', 'revoke-confirm', delegationCards.revokeConfirmJson(at(delegation(), 'active')));
add('revoked', 'revoke-confirm', delegationCards.revokeConfirmJson({ ...at(delegation(), 'terminated'), endReason: 'revokedByCustomer' }));
add('kept', 'revoke-confirm', delegationCards.keptJson(at(delegation(), 'active')));
add(
  'channel notice trial',
  'channel-notice',
  content(offerCards.channelNotice(decided(trialOffer(), 'accepted'), undefined).attachments![0]!),
);
add(
  'channel notice purchase',
  'channel-notice',
  content(offerCards.channelNotice(decided(purchaseOffer(), 'accepted'), undefined).attachments![0]!),
);
add(
  'channel notice delegation',
  'channel-notice',
  content(
    delegationCards.channelNotice(
      at(delegation({ replaced: { id: 'D-9Z9Z9Z', partnerTenantId: 'x', partnerName: 'Northwind' } }), 'active'),
      undefined,
    ).attachments![0]!,
  ),
);
add(
  'channel notice por',
  'channel-notice',
  content(delegationCards.channelNotice(at(partnerOfRecord(), 'active'), undefined).attachments![0]!),
);
add(
  'failed notifications',
  'failed-notifications',
  cards.render('failed-notifications', {
    headline: '2 notifications could not be delivered',
    detail: 'Ask them to add the app again, then press Retry.',
    style: 'warning',
    rows: [{ what: 'The card for T-4K7P2Q → Megan Bowen', reason: 'Teams says the bot is no longer in that chat.' }],
    ids: '0b6a3c1e-8f7d-4c2b-9a1e-3d5f7b9c1a2e,1c7b4d2f-9e8a-4d3c-8b2f-4e6a8c0d2b3f',
  }),
);
// Orders at Partner Center: the customer's card with the reseller invitation, and the partner's notices.
const orderOffer = decided(purchaseOffer(), 'accepted');
const orderJob = (o: Partial<Fulfilment>): Fulfilment => ({
  ...newFulfilment(orderOffer, new Date('2026-11-26T10:00:00Z')),
  lines: [
    {
      serviceId: 'm365-business-premium',
      serviceName: 'Microsoft 365 Business Premium',
      quantity: 25,
      productId: 'CFQ7TTC0LCHC',
      skuId: '0002',
      termDuration: 'P1Y',
      billingCycle: 'monthly',
      catalogItemId: 'CFQ7TTC0LCHC:0002:CFQ7TTC0K5T9',
    },
  ],
  ...o,
});
const waiting = orderJob({
  state: 'waitingForCustomer',
  invitationLink:
    'https://admin.microsoft.com/Adminportal/Home?invType=ResellerRelationship&partnerId=p1&DAP=false#/BillingAccounts/partner-invitation',
});
const placed = orderJob({
  state: 'placed',
  cartId: 'c1',
  placedAt: '2026-11-26T10:00:05Z',
  orders: [
    {
      id: 'fa1b2c3d4e5f',
      status: 'completed',
      createdAt: '2026-11-26T10:00:05Z',
      lines: [{ catalogItemId: 'x', quantity: 25, subscriptionId: 'sub-1' }],
    },
  ],
});
const stopped = orderJob({
  state: 'failed',
  failure: { stage: 'checkout', reason: 'The partner has exceeded its credit limit.', code: '900121', at: '2026-11-26T10:00:05Z' },
});
add(
  'offer waiting for reseller',
  'offer',
  content(offerCards.offerCard(orderOffer, [], orderView(orderOffer, waiting).customer).attachments![0]!),
);
add('offer order placed', 'offer', content(offerCards.offerCard(orderOffer, [], orderView(orderOffer, placed).customer).attachments![0]!));
for (const [name, job, event] of [
  ['order waiting', waiting, 'waitingForCustomer'],
  ['order placed', placed, 'placed'],
  ['order failed', stopped, 'failed'],
  ['order retrying', orderJob({ retrying: { reason: 'HTTP 503', at: '2026-11-26T10:00:05Z' } }), 'retrying'],
] as const) {
  add(name, 'order-notice', cards.render('order-notice', orderNoticeData(orderOffer, job, event)));
}
add(
  'order channel notice',
  'channel-notice',
  content(offerCards.channelNotice(orderOffer, undefined, orderView(orderOffer, placed)).attachments![0]!),
);

const marketCards = createMarketplaceMessages(cards, loadCatalog());
const fabrikam = {
  tenantId: 'p1',
  name: 'Fabrikam Cloud Partners',
  programs: ['cloud-essentials' as const],
  authorizedServices: ['m365-business-premium', 'teams-essentials'],
  cloud: 'global' as const,
};
const listing = {
  id: 'M-4K7P2Q',
  partnerTenantId: 'p1',
  partnerName: 'Fabrikam Cloud Partners',
  headline: 'Security and migrations',
  description: 'We move you.',
  services: ['m365-business-premium'],
  serviceNames: ['Microsoft 365 Business Premium'],
  expertise: ['security'],
  countries: ['DE', 'GB'],
  languages: ['de', 'en'],
  contact: { name: 'Alex Wilber', email: 'alexw@example.com' },
  canDelegate: true,
  published: true,
  version: 2,
  updatedAt: '2026-11-25T09:00:00.000Z',
  updatedBy: { aadObjectId: 'a', name: 'Alex Wilber' },
};
const lead = {
  id: 'C-4K7P2Q',
  listingId: 'M-4K7P2Q',
  partnerTenantId: 'p1',
  partnerName: 'Fabrikam Cloud Partners',
  requester: { ...approverPerson, email: 'admin@contoso.com' },
  note: 'About 40 users',
  createdAt: '2026-11-25T09:00:00.000Z',
};
add('listing own published', 'listing', marketCards.listingCardJson(listing, { own: true, hint: 'x' }));
add('listing own unpublished', 'listing', marketCards.listingCardJson({ ...listing, published: false }, { own: true }));
add('listing result', 'listing', marketCards.listingCardJson(listing, { result: true }));
add('listing asked', 'listing', marketCards.listingCardJson(listing, { outcomeTitle: 'Asked', outcomeDetail: 'They will contact you.' }));
add('no listing', 'listing', content(marketCards.noListing(fabrikam)));
add('listing edit', 'listing-edit', marketCards.editCardJson(fabrikam, listing));
add(
  'listing edit errors',
  'listing-edit',
  marketCards.editCardJson(fabrikam, null, {
    form: { headline: '' },
    errors: { headline: 'Give your listing a headline.', countries: '"UK" is not an ISO country code.' },
  }),
);
add('lead', 'lead', marketCards.leadCardJson(lead, listing));
add('lead trial sent', 'lead', marketCards.leadCardJson(lead, listing, { offerId: 'T-4K7P2Q', state: 'sent' }));
add('find more', 'find-more', cards.render('find-more', { text: 'Results 1–5', more: true, q: 'security in DE', page: '1' }));
add('error', 'error', content(errorCard(cards)(new UserInputError('That is wrong.', 'trial admin@contoso.com teams-essentials'))));
add(
  'help',
  'help',
  cards.render('help', { title: 'Partner Offers', intro: 'Type a command:', commands: [{ usage: 'help', description: 'This.' }] }),
);
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

/** Every template CardData types; the compiler refuses this object if a name is missing from it or not in CardData. */
const TYPED: Record<keyof CardData, true> = {
  'channel-notice': true,
  customers: true,
  'delegation-request': true,
  error: true,
  'failed-notifications': true,
  'find-more': true,
  help: true,
  lead: true,
  'listing-edit': true,
  listing: true,
  'offer-list': true,
  'offer-summary': true,
  offer: true,
  'order-notice': true,
  partners: true,
  'relationship-summary': true,
  'revoke-confirm': true,
  support: true,
};

const template = (name: string) =>
  JSON.parse(readFileSync(join(defaultCardsDir(), `${name}.json`), 'utf8')) as { body: Array<Record<string, unknown>> };

describe('card templates', () => {
  it('renders every template in cards/ at least once here', () => {
    expect(new Set(rendered.map((r) => r.template))).toEqual(new Set(cards.names()));
  });

  it('types the data of every template in cards/, and of no other', () => {
    const files = readdirSync(defaultCardsDir())
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -'.json'.length));
    expect(Object.keys(TYPED).sort()).toEqual(files.sort());
  });

  it('refuses, at compile time, data a template does not bind or data missing what it binds', () => {
    // @ts-expect-error: help binds no footer
    expect(() => cards.render('help', { title: 'x', intro: 'y', commands: [], footer: 'z' })).not.toThrow();
    // @ts-expect-error: error binds example
    expect(() => cards.render('error', { title: 'x', message: 'y' })).not.toThrow();
    // @ts-expect-error: no such template
    expect(() => cards.render('nothing', {})).toThrow('No card template cards/nothing.json');
  });

  it('shows a request on its own card exactly as it shows one attached to an offer', () => {
    const { $data, ...attached } = template('offer').body.find((e) => e.$data === '${parts}')!;
    expect($data).toBe('${parts}');
    expect(template('delegation-request').body).toContainEqual(attached);
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
    expect(() => cards.render('error', { title: 'big', message: huge, example: '', corrected: '' })).toThrow(/over the 81920-byte limit/);
  });

  it('gives every verb used by a card exactly one registered handler', () => {
    const verbs = createVerbTable();
    const router = createCommandRouter();
    registerGeneral(router, cards);
    const messages = createMessageRegistry();
    registerOffers(router, verbs, messages, { service: {} as OfferService, cards: offerCards, installLink: 'x' });
    registerDelegation(router, verbs, messages, {
      service: {} as DelegationService,
      cards: delegationCards,
      installLink: 'x',
      clock: () => new Date(),
      offerCardJson: async () => ({}),
    });
    registerNotificationCommands(router, verbs, {
      store: {} as Store,
      cards,
      clock: () => new Date(),
      log: createLogger('silent'),
      describe: () => '',
    });
    registerMarketplace(router, verbs, messages, { service: {} as MarketplaceService, cards: marketCards, renderer: cards });
    registerOrders(verbs, messages, { fulfilments: {} as Fulfilments, store: {} as Store, cards });
    const used = new Set(rendered.flatMap((r) => [...verbsIn(r.json)]));
    expect([...used].sort()).toEqual([
      'delegation.approve',
      'delegation.decline',
      'delegation.keep',
      'delegation.revoke',
      'delegation.view',
      'find.more',
      'lead.contacted',
      'lead.lost',
      'lead.request',
      'lead.trial',
      'lead.won',
      'listing.edit',
      'listing.publish',
      'listing.save',
      'listing.unpublish',
      'notify.retry',
      'offer.accept',
      'offer.decline',
      'offer.view',
      'order.retry',
      'por.accept',
      'por.decline',
      'por.view',
    ]);
    for (const verb of used) expect(verbs.verbs().filter((v) => v === verb)).toHaveLength(1);
    expect(() => verbs.register('offer.accept', { schema: {} as never, handle: async () => messageResponse('x') })).toThrow(
      /registered twice/,
    );
  });

  it('gives an offer card rendered again from the same state as a card of its own, equal to the first; another state, another card', () => {
    const accepted = decided(trialOffer(), 'accepted');
    const first = offerCards.offerCardJson(accepted);
    const again = offerCards.offerCardJson(accepted);
    expect(again).toEqual(first);
    expect(again).not.toBe(first);
    // Whoever changes the card they got changes no one else's.
    (first.body as unknown[]).length = 0;
    first.refresh = 'changed';
    expect(offerCards.offerCardJson(accepted)).toEqual(again);
    expect(cardText(again)).toContain('Accepted on');
    expect(cardText(offerCards.offerCardJson(decided(trialOffer(), 'declined')))).not.toContain('Accepted on');
  });

  it('shows the approver Accept and Decline only while the offer is pending, and refreshes only for the approver', () => {
    const pending = offerCards.offerCardJson(trialOffer());
    expect(cardText(pending)).toMatch(/\[Accept\][\s\S]*\[Decline\]/);
    expect(pending.refresh).toMatchObject({ userIds: ['29:megan'], action: { verb: 'offer.view', data: { offerId: 'T-4K7P2Q' } } });
    expect(cardText(offerCards.offerCardJson(decided(trialOffer(), 'accepted')))).not.toMatch(/\[Accept\]|\[Decline\]/);
  });

  it('asks for delegated administration in plain words: each role with what it allows, the term, and Microsoft support', () => {
    const text = cardText(delegationCards.requestCardJson(delegation(), null));
    expect(text).toContain('Fabrikam Cloud Partners asks for delegated administration');
    expect(text).toMatch(/\*\*Exchange Administrator\*\*: .*mail/i);
    expect(text).toMatch(/\*\*User Administrator\*\*: /);
    expect(text).toContain('365 days from approval');
    expect(text).toContain('Extended by 180 days each time, unless you revoke it');
    expect(text).toContain('You can always contact Microsoft support directly');
    expect(text).toMatch(/\[Approve\][\s\S]*\[Decline\]/);
    const full = cardText(delegationCards.requestCardJson(delegation({ access: { kind: 'full' }, autoExtend: false }), null));
    expect(full).toContain('**Full administration**: Everything a Global Administrator can do');
    expect(full).toContain('Access ends; Fabrikam Cloud Partners has to ask again');
  });

  it('names the partner an approval replaces, on the button and in a warning', () => {
    const json = delegationCards.requestCardJson(delegation(), northwind);
    expect(cardText(json)).toContain('[Replace Northwind Managed Services]');
    expect(cardText(json)).toContain('Northwind Managed Services is recorded here as your delegated-admin partner');
    expect(JSON.stringify(json)).toContain('"replaces":"D-9Z9Z9Z"');
  });

  it('a new request from the current partner is a renewal, not a replace of itself', () => {
    const current = delegation({ id: 'D-8Y8Y8Y', state: 'active', activatedAt: '2026-10-01T00:00:00.000Z' });
    const text = cardText(delegationCards.requestCardJson(delegation(), current));
    expect(text).toContain('Approving replaces that relationship with this one.');
    expect(text).toContain('[Approve]');
    expect(text).not.toContain('[Replace');
  });

  it('shows no buttons on a request that is not open, and says why an expired one cannot be answered', () => {
    const expired = cardText(delegationCards.requestCardJson(at(delegation(), 'expired'), null));
    expect(expired).not.toMatch(/\[Approve\]|\[Decline\]/);
    expect(cardText(delegationCards.requestCardJson({ ...delegation(), state: 'expired', endReason: 'expired' }, null))).toContain(
      'It was not answered within 90 days',
    );
  });

  it('puts each attached request on the offer card with its own buttons and its own decline reason', () => {
    const json = offerCards.offerCardJson(trialOffer({ attachments: { delegationId: 'D-4K7P2Q', porId: 'R-4K7P2Q' } }), [
      requestPart(delegation({ offerId: 'T-4K7P2Q' }), null),
      requestPart(partnerOfRecord({ offerId: 'T-4K7P2Q' }), null),
    ]);
    const text = cardText(json);
    expect(text).toMatch(
      /\[Accept\][\s\S]*Delegated administration · D-4K7P2Q[\s\S]*\[Approve\][\s\S]*Partner of record · R-4K7P2Q[\s\S]*\[Designate Fabrikam Cloud Partners\]/,
    );
    const serialized = JSON.stringify(json);
    expect(serialized).toContain('"id":"reason_delegation"');
    expect(serialized).toContain('"id":"reason_por"');
  });

  it('gives the service name of a price line the width and keeps the amount beside it short and unwrapped', () => {
    const offer = purchaseOffer({
      lines: [
        { serviceId: 'm365-business-premium', serviceName: 'Microsoft 365 Business Premium', quantity: 25, unitPriceCents: 2200 },
        { serviceId: 'defender-o365-p2', serviceName: 'Microsoft Defender for Office 365 (Plan 2)', quantity: 300, unitPriceCents: 500 },
        { serviceId: 'teams-essentials', serviceName: 'Microsoft Teams Essentials', quantity: 10, unitPriceCents: 400 },
      ],
    });
    type Node = { type?: string; width?: string; text?: string; wrap?: boolean; items?: Node[]; columns?: Node[] };
    const columnSets = (n: unknown): Node[] =>
      Array.isArray(n)
        ? n.flatMap(columnSets)
        : n && typeof n === 'object'
          ? [...((n as Node).type === 'ColumnSet' ? [n as Node] : []), ...Object.values(n).flatMap(columnSets)]
          : [];
    const customer = offerCards.offerCardJson(offer);
    const partner = content(offerCards.status(offer, []));
    for (const json of [customer, partner]) {
      const rows = columnSets(json).filter((c) => offer.lines.some((l) => c.columns?.[0]?.items?.[0]?.text === l.serviceName));
      expect(rows).toHaveLength(3);
      for (const row of rows) {
        const [name, amount] = row.columns!;
        expect(name).toMatchObject({ width: 'stretch', items: [{ wrap: true }, { wrap: true }, { wrap: true }] });
        expect(amount!.width).toBe('auto');
        for (const block of amount!.items!) {
          expect(block.wrap).toBe(false);
          expect(block.text!.length).toBeLessThanOrEqual(20);
        }
      }
      // Every figure is still there: quantity × price per licence and the term under the name, the amount beside it.
      expect(cardText(json)).toMatch(
        /Microsoft Defender for Office 365 \(Plan 2\)\n300 × \$60\.00 per licence per year\n1-year term, billed annually\n\$18,000\.00 per year/,
      );
    }
    expect(cardText(customer)).toMatch(/Total per year\n\$25,080\.00/);
  });

  it('carries only ids in card action data, never state', () => {
    for (const r of rendered) {
      const visit = (n: unknown): void => {
        if (Array.isArray(n)) return n.forEach(visit);
        if (!n || typeof n !== 'object') return;
        const o = n as Record<string, unknown>;
        if ((o.type === 'Action.Execute' || o.type === 'Action.Submit') && o.data) {
          const keys = Object.keys(o.data).filter((k) => k !== 'verb' || o.type === 'Action.Submit');
          expect(keys.length).toBeGreaterThan(0);
          for (const k of keys)
            expect(['offerId', 'relationshipId', 'replaces', 'ids', 'listingId', 'leadId', 'q', 'page', 'verb']).toContain(k);
          for (const [k, v] of Object.entries(o.data)) {
            if (k === 'ids') expect(v).toMatch(/^[0-9a-f-]{36}(,[0-9a-f-]{36})*$/);
            else if (k === 'q' || k === 'page')
              continue; // "More results" repeats the typed query: form input, not state
            else if (k !== 'verb') expect(v).toMatch(/^([TPDRMC]-[0-9A-Z]{6}|new)?$/);
          }
        }
        Object.values(o).forEach(visit);
      };
      visit(r.json);
    }
  });
});

describe('a purchase offer card says the term, the billing and what is paid each billing period', () => {
  /** 12 Business Premium, 5 E3 and 40 Teams Essentials at the default catalog's list prices for a term. */
  const offerOn = (term: Term, billing: Billing, [bp, e3, te]: [number, number, number]) =>
    purchaseOffer({
      term,
      billing,
      lines: [
        { serviceId: 'm365-business-premium', serviceName: 'Microsoft 365 Business Premium', quantity: 12, unitPriceCents: bp },
        { serviceId: 'm365-e3', serviceName: 'Microsoft 365 E3', quantity: 5, unitPriceCents: e3 },
        { serviceId: 'teams-essentials', serviceName: 'Microsoft Teams Essentials', quantity: 40, unitPriceCents: te },
      ],
    });

  it.each([
    [
      'P1M',
      'monthly',
      [2640, 4320, 480],
      'runs month to month (a 1-month term, billed monthly)',
      ['12 × $26.40 per licence per month', '5 × $43.20 per licence per month', '40 × $4.80 per licence per month'],
      ['$316.80 per month', '$216.00 per month', '$192.00 per month'],
      'Total per month\n$724.80',
      '',
    ],
    [
      'P1Y',
      'monthly',
      [2200, 3600, 400],
      'commits you for 1 year (a 1-year term, billed monthly)',
      ['12 × $22.00 per licence per month', '5 × $36.00 per licence per month', '40 × $4.00 per licence per month'],
      ['$264.00 per month', '$180.00 per month', '$160.00 per month'],
      'Total per month\n$604.00',
      'Over the whole 1-year term: $7,248.00.',
    ],
    [
      'P1Y',
      'annual',
      [2200, 3600, 400],
      'commits you for 1 year (a 1-year term, billed annually)',
      ['12 × $264.00 per licence per year', '5 × $432.00 per licence per year', '40 × $48.00 per licence per year'],
      ['$3,168.00 per year', '$2,160.00 per year', '$1,920.00 per year'],
      'Total per year\n$7,248.00',
      '',
    ],
    [
      'P3Y',
      'monthly',
      [2200, 3600, 400],
      'commits you for 3 years (a 3-year term, billed monthly)',
      ['12 × $22.00 per licence per month', '5 × $36.00 per licence per month', '40 × $4.00 per licence per month'],
      ['$264.00 per month', '$180.00 per month', '$160.00 per month'],
      'Total per month\n$604.00',
      'Over the whole 3-year term: $21,744.00.',
    ],
    [
      'P3Y',
      'annual',
      [2200, 3600, 400],
      'commits you for 3 years (a 3-year term, billed annually)',
      ['12 × $264.00 per licence per year', '5 × $432.00 per licence per year', '40 × $48.00 per licence per year'],
      ['$3,168.00 per year', '$2,160.00 per year', '$1,920.00 per year'],
      'Total per year\n$7,248.00',
      'Over the whole 3-year term: $21,744.00.',
    ],
  ] as const)(
    "%s billed %s: the customer's card and the partner's copy",
    (term, billing, prices, intro, perLicence, amounts, total, whole) => {
      const offer = offerOn(term, billing, [...prices]);
      const words = `${term === 'P1M' ? '1-month' : term === 'P1Y' ? '1-year' : '3-year'} term, billed ${billing === 'annual' ? 'annually' : 'monthly'}`;
      const names = ['Microsoft 365 Business Premium', 'Microsoft 365 E3', 'Microsoft Teams Essentials'];
      const customer = cardText(offerCards.offerCardJson(offer));
      expect(customer).toContain(`Hello Megan Bowen, this offer ${intro}:`);
      names.forEach((name, i) => expect(customer).toContain(`${name}\n${perLicence[i]}\n${words}\n${amounts[i]}`));
      expect(customer).toContain(total);
      if (whole) expect(customer).toContain(`List prices in USD, before tax. ${whole} Accepting records your intent to buy`);
      else expect(customer).not.toContain('Over the whole');

      const partner = cardText(content(offerCards.status(offer, [])));
      expect(partner).toContain(`Kind: Purchase offer (${words})`);
      names.forEach((name, i) => expect(partner).toContain(`${name}\n${perLicence[i]}\n${words}\n${amounts[i]}`));
      expect(partner).toContain(total.replace('\n', ': '));

      const channel = cardText(content(offerCards.channelNotice(decided(offer, 'accepted'), undefined).attachments![0]!));
      expect(channel).toContain(`What: Purchase offer, ${words}`);
      expect(channel).toContain(`(${words}) in Partner Center`);
    },
  );

  it('shows an offer stored before terms existed on the term its billing meant, at its stored prices', () => {
    const text = cardText(offerCards.offerCardJson(storedBeforeTerms));
    expect(text).toContain('runs month to month (a 1-month term, billed monthly)');
    expect(text).toContain(
      'Microsoft 365 Business Premium\n25 × $22.00 per licence per month\n1-month term, billed monthly\n$550.00 per month',
    );
    expect(text).toContain('Total per month\n$590.00');
  });

  it('shows a trial without a price or a term: each service with its trial length', () => {
    const text = cardText(offerCards.offerCardJson(trialOffer()));
    expect(text).toContain('Microsoft 365 Business Premium\n30-day free trial');
    expect(text).not.toMatch(/term|\$|per licence/);
  });
});

describe('the error card with a correction', () => {
  const error = new UserInputError('I don\'t know "trail". Did you mean trial?', 'trial ‹customer-email› ‹service›');
  error.corrected = 'trial admin@contoso.com m365_business_premium *now*';
  const json = content(errorCard(cards)(error));

  it('shows the corrected command as literal text, with a Send it corrected button whose verb has one handler', () => {
    expect(schemaProblems(json)).toEqual([]);
    const text = JSON.stringify(json);
    // A TextRun is never read as Markdown: the underscores and stars show as typed, as they will be sent.
    expect(text).toContain('{"type":"TextRun","text":"trial admin@contoso.com m365_business_premium *now*"');
    expect(text).toContain('"verb":"command.send","data":{"command":"trial admin@contoso.com m365_business_premium *now*"}');
    expect(text).toContain(
      '"type":"Action.Submit","title":"Send it corrected","data":{"verb":"command.send","command":"trial admin@contoso.com',
    );
    const verbs = createVerbTable();
    registerSendCorrected(verbs);
    expect(verbs.verbs()).toEqual(['command.send']);
  });

  it('has no button without a correction', () => {
    expect(cardText(content(errorCard(cards)(new UserInputError('That is wrong.'))))).not.toMatch(/Send it corrected/);
  });
});
