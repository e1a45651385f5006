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
  it('parses quantities, services and billing', () => {
    expect(parsePurchase('admin@contoso.com 25 m365-business-premium, 10 exchange-online-p1 annual')).toEqual({
      kind: 'purchase',
      approverEmail: 'admin@contoso.com',
      lines: [
        { quantity: 25, service: 'm365-business-premium' },
        { quantity: 10, service: 'exchange-online-p1' },
      ],
      billing: 'annual',
      withAdmin: false,
      asPartnerOfRecord: false,
    });
    expect(parsePurchase('admin@contoso.com 3 Microsoft Teams Essentials MONTHLY').billing).toBe('monthly');
    expect(parsePurchase('admin@contoso.com 3 teams-essentials annual with admin as the partner of record')).toMatchObject({
      billing: 'annual',
      lines: [{ quantity: 3, service: 'teams-essentials' }],
      withAdmin: true,
      asPartnerOfRecord: true,
    });
  });

  it.each([
    [
      'admin@contoso.com 25 m365-business-premium',
      'Say how the customer pays: end the offer with monthly or annual (then with admin or as partner of record, if you want those).',
    ],
    [
      'admin@contoso.com 25 m365-business-premium with admin',
      'Say how the customer pays: end the offer with monthly or annual (then with admin or as partner of record, if you want those).',
    ],
    [
      'admin@contoso.com m365-business-premium annual',
      'Each line starts with a quantity, then the service: "m365-business-premium" does not. Write it like "25 m365-business-premium".',
    ],
    [
      'admin@contoso.com twenty m365-business-premium annual',
      'Each line starts with a quantity, then the service: "twenty m365-business-premium" does not. Write it like "25 m365-business-premium".',
    ],
    ['admin@contoso.com 0 m365-business-premium annual', 'Quantities start at 1.'],
    ['admin@contoso.com annual', 'Name at least one service with its quantity, like "25 m365-business-premium".'],
    ['nobody 25 m365-business-premium annual', '"nobody" is not an email address. Put the customer approver\'s email first.'],
    ['', "Tell me who it is for: the customer approver's email address comes first."],
  ])('refuses %j with a message that says what to fix', (args, message) => {
    const err = errorOf(() => parsePurchase(args));
    expect(err.message).toBe(message);
    expect(err.example).toBe('offer admin@contoso.com 25 m365-business-premium, 10 exchange-online-p1 annual');
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
