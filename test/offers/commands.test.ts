import { parseOfferId, parsePurchase, parseTrial } from '../../src/offers/commands';
import { errorOf } from '../support/errors';

describe('trial command', () => {
  it('parses the approver and services, lower-casing the email and trimming names', () => {
    expect(parseTrial('Admin@Contoso.com m365-business-premium,  teams-essentials ')).toEqual({
      kind: 'trial',
      approverEmail: 'admin@contoso.com',
      services: ['m365-business-premium', 'teams-essentials'],
      withAdmin: false,
      asPartnerOfRecord: false,
    });
  });

  it('takes with admin and as partner of record off the end, in either order', () => {
    expect(parseTrial('admin@contoso.com teams-essentials with admin')).toMatchObject({
      services: ['teams-essentials'],
      withAdmin: true,
      asPartnerOfRecord: false,
    });
    expect(parseTrial('admin@contoso.com teams-essentials As Partner Of Record with ADMIN')).toMatchObject({
      services: ['teams-essentials'],
      withAdmin: true,
      asPartnerOfRecord: true,
    });
    // Only at the end: in the middle the words are part of a service name, which the catalog then refuses.
    expect(parseTrial('admin@contoso.com with admin teams-essentials').services).toEqual(['with admin teams-essentials']);
  });

  it('accepts display names with spaces', () => {
    expect(parseTrial('admin@contoso.com Microsoft 365 Business Premium').services).toEqual(['Microsoft 365 Business Premium']);
  });

  it.each([
    ['', "Tell me who it is for: the customer approver's email address comes first."],
    ['contoso m365-business-premium', '"contoso" is not an email address. Put the customer approver\'s email first.'],
    ['admin@contoso.com', 'Name at least one service after the email address, separated by commas.'],
    ['admin@contoso.com , ,', 'Name at least one service after the email address, separated by commas.'],
    [`admin@contoso.com ${Array.from({ length: 11 }, (_, i) => `s${i}`).join(', ')}`, 'A trial invitation can hold at most 10 services.'],
  ])('refuses %j with a message that says what to fix', (args, message) => {
    const err = errorOf(() => parseTrial(args));
    expect(err.message).toBe(message);
    expect(err.example).toBe('trial admin@contoso.com m365-business-premium, teams-essentials');
  });
});

describe('offer command', () => {
  it('parses quantities, services, term and billing', () => {
    expect(parsePurchase('admin@contoso.com 25 m365-business-premium, 10 exchange-online-p1 term 3 years billing monthly')).toEqual({
      kind: 'purchase',
      approverEmail: 'admin@contoso.com',
      lines: [
        { quantity: 25, service: 'm365-business-premium' },
        { quantity: 10, service: 'exchange-online-p1' },
      ],
      term: 'P3Y',
      billing: 'monthly',
      withAdmin: false,
      asPartnerOfRecord: false,
    });
    expect(
      parsePurchase('admin@contoso.com 3 teams-essentials term 1 year billing annual with admin as the partner of record'),
    ).toMatchObject({
      term: 'P1Y',
      billing: 'annual',
      lines: [{ quantity: 3, service: 'teams-essentials' }],
      withAdmin: true,
      asPartnerOfRecord: true,
    });
  });

  it.each([
    ['annual', 'P1Y', 'annual'],
    ['monthly', 'P1M', 'monthly'],
    ['MONTHLY', 'P1M', 'monthly'],
    ['Annual', 'P1Y', 'annual'],
    ['annually', 'P1Y', 'annual'],
  ])('reads the short form %j as a term and its billing', (short, term, billing) => {
    expect(parsePurchase(`admin@contoso.com 3 Microsoft Teams Essentials ${short}`)).toMatchObject({
      lines: [{ quantity: 3, service: 'Microsoft Teams Essentials' }],
      term,
      billing,
    });
  });

  it.each([
    ['monthly', 'P1M'],
    ['1 month', 'P1M'],
    ['1-month', 'P1M'],
    ['one month', 'P1M'],
    ['P1M', 'P1M'],
    ['annual', 'P1Y'],
    ['1 year', 'P1Y'],
    ['1-Year', 'P1Y'],
    ['one year', 'P1Y'],
    ['12 months', 'P1Y'],
    ['p1y', 'P1Y'],
    ['3 years', 'P3Y'],
    ['3 year', 'P3Y'],
    ['3-year', 'P3Y'],
    ['three years', 'P3Y'],
    ['Three Year', 'P3Y'],
    ['36 months', 'P3Y'],
    ['P3Y', 'P3Y'],
  ])('reads term %j as %s', (typed, term) => {
    expect(parsePurchase(`admin@contoso.com 5 m365-business-premium term ${typed} billing monthly`)).toMatchObject({
      lines: [{ quantity: 5, service: 'm365-business-premium' }],
      term,
      billing: 'monthly',
    });
  });

  it.each([
    ['monthly', 'monthly'],
    ['Monthly', 'monthly'],
    ['annual', 'annual'],
    ['annually', 'annual'],
  ])('reads billing %j as %s', (typed, billing) => {
    expect(parsePurchase(`admin@contoso.com 5 m365-business-premium term 3 years billing ${typed}`)).toMatchObject({
      term: 'P3Y',
      billing,
    });
  });

  it('takes billing before term too, and a 1-month term needs no billing: it is billed monthly only', () => {
    expect(parsePurchase('admin@contoso.com 5 m365-business-premium billing annual term 1 year')).toMatchObject({
      term: 'P1Y',
      billing: 'annual',
    });
    expect(parsePurchase('admin@contoso.com 5 m365-business-premium term 1 month')).toMatchObject({ term: 'P1M', billing: 'monthly' });
    expect(parsePurchase('admin@contoso.com 5 m365-business-premium term monthly with admin')).toMatchObject({
      term: 'P1M',
      billing: 'monthly',
      withAdmin: true,
    });
  });

  it('reads the term only after the last line: commas, quantities and names before it stay lines', () => {
    expect(parsePurchase('admin@contoso.com 25 Business Premium, 10 Exchange Online Plan 1 term 1 year billing monthly').lines).toEqual([
      { quantity: 25, service: 'Business Premium' },
      { quantity: 10, service: 'Exchange Online Plan 1' },
    ]);
  });

  const SAY_TERMS =
    'Say the term and how the customer pays: end the offer with monthly (a 1-month term, billed monthly), annual (a 1-year term, billed annually), or a term and billing like term 1 year billing monthly (then with admin or as partner of record, if you want those).';
  const TERMS_EXAMPLE = 'offer admin@contoso.com 25 m365-business-premium term 1 year billing monthly';
  const OFFER_EXAMPLE = 'offer admin@contoso.com 25 m365-business-premium, 10 exchange-online-p1 annual';

  it.each([
    ['admin@contoso.com 25 m365-business-premium', SAY_TERMS],
    ['admin@contoso.com 25 m365-business-premium with admin', SAY_TERMS],
    [
      'admin@contoso.com 25 m365-business-premium term 1 month billing annual',
      'A 1-month term cannot be billed annually: it is billed monthly (write just monthly). To bill annually, choose a longer term: term 1 year billing annual, or term 3 years billing annual.',
    ],
    [
      'admin@contoso.com 25 m365-business-premium term 12 months billing yearly',
      '"yearly" is not a billing frequency. Say billing monthly or billing annual.',
    ],
    [
      'admin@contoso.com 25 m365-business-premium term 1 year',
      'A 1-year term can be billed monthly or annually: add billing monthly or billing annual.',
    ],
    [
      'admin@contoso.com 25 m365-business-premium term 3 years',
      'A 3-year term can be billed monthly or annually: add billing monthly or billing annual.',
    ],
    [
      'admin@contoso.com 25 m365-business-premium billing monthly',
      'Say the term too: term monthly (1 month), term annual (1 year) or term 3 years, then billing monthly.',
    ],
    [
      'admin@contoso.com 25 m365-business-premium billing annual',
      'Say the term too: term monthly (1 month), term annual (1 year) or term 3 years, then billing annual.',
    ],
    [
      'admin@contoso.com 25 m365-business-premium term 2 years billing monthly',
      '"2 years" is not a term Microsoft sells. Say term monthly (1 month), term annual (1 year) or term 3 years.',
    ],
    [
      'admin@contoso.com 25 m365-business-premium term constructor billing monthly',
      '"constructor" is not a term Microsoft sells. Say term monthly (1 month), term annual (1 year) or term 3 years.',
    ],
    [
      'admin@contoso.com 25 m365-business-premium term 1 year billing quarterly',
      '"quarterly" is not a billing frequency. Say billing monthly or billing annual.',
    ],
    [
      'admin@contoso.com 25 m365-business-premium term billing monthly',
      'Say the term after "term": monthly (1 month), annual (1 year) or 3 years.',
    ],
    [
      'admin@contoso.com 25 m365-business-premium term 1 year billing',
      'Say how often the customer pays after "billing": monthly or annual.',
    ],
    [
      'admin@contoso.com 25 m365-business-premium term 1 year billing monthly term 3 years',
      'Say the term once: "term" comes twice at the end of the offer.',
    ],
  ])('refuses %j, saying what the term and billing may be', (args, message) => {
    const err = errorOf(() => parsePurchase(args));
    expect(err.message).toBe(message);
    expect(err.example).toBe(TERMS_EXAMPLE);
  });

  it.each([
    [
      'admin@contoso.com m365-business-premium annual',
      'Each line starts with a quantity, then the service: "m365-business-premium" does not. Write it like "25 m365-business-premium".',
    ],
    [
      'admin@contoso.com twenty m365-business-premium term 1 year billing monthly',
      'Each line starts with a quantity, then the service: "twenty m365-business-premium" does not. Write it like "25 m365-business-premium".',
    ],
    ['admin@contoso.com 0 m365-business-premium annual', 'Quantities start at 1.'],
    ['admin@contoso.com annual', 'Name at least one service with its quantity, like "25 m365-business-premium".'],
    ['admin@contoso.com term 3 years billing annual', 'Name at least one service with its quantity, like "25 m365-business-premium".'],
    ['nobody 25 m365-business-premium annual', '"nobody" is not an email address. Put the customer approver\'s email first.'],
    // The email comes first, then the lines, then the term: the first thing to fix is named first.
    [
      'nobody 25 m365-business-premium term 1 month billing annual',
      '"nobody" is not an email address. Put the customer approver\'s email first.',
    ],
    ['', "Tell me who it is for: the customer approver's email address comes first."],
  ])('refuses %j with a message that says what to fix', (args, message) => {
    const err = errorOf(() => parsePurchase(args));
    expect(err.message).toBe(message);
    expect(err.example).toBe(OFFER_EXAMPLE);
  });
});

describe('offer ids typed by people', () => {
  it('accepts lower case and surrounding space', () => {
    expect(parseOfferId('  t-4k7p2q ', 'x')).toBe('T-4K7P2Q');
  });
  it.each([
    ['', 'Which offer? Give its id.'],
    ['T-0OIL11', '"T-0OIL11" is not an offer id. Offer ids look like T-4K7P2Q (trials) or P-8M3N5R (purchase offers).'],
    ['admin@contoso.com', '"admin@contoso.com" is not an offer id. Offer ids look like T-4K7P2Q (trials) or P-8M3N5R (purchase offers).'],
  ])('refuses %j', (raw, message) => {
    expect(errorOf(() => parseOfferId(raw, 'withdraw T-4K7P2Q')).message).toBe(message);
  });
});
