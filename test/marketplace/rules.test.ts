import { loadCatalog } from '../../src/directory/catalog';
import type { Partner } from '../../src/directory/partners';
import { validateListing, missingForPublish, type ListingForm } from '../../src/marketplace/rules';

const catalog = loadCatalog();
const partner: Partner = {
  tenantId: 'p1',
  name: 'Fabrikam Cloud Partners',
  programs: ['cloud-essentials'],
  authorizedServices: ['m365-business-premium', 'exchange-online-p1', 'teams-essentials'],
  cloud: 'global',
};
const good: ListingForm = {
  headline: '  Security   and Exchange migrations ',
  description: 'We move small businesses to Microsoft 365.',
  services: 'm365-business-premium,exchange-online-p1',
  expertise: 'security, migrations, security',
  countries: 'de, Austria, GB',
  languages: 'de, English',
  contactName: 'Alex Wilber',
  contactEmail: 'Alex@Fabrikam.example',
};

describe('listing validation', () => {
  it('cleans a good form: trimmed headline, unique tags, ISO codes, lower-case email', () => {
    expect(validateListing(good, partner, catalog)).toEqual({
      ok: true,
      fields: {
        headline: 'Security and Exchange migrations',
        description: 'We move small businesses to Microsoft 365.',
        services: ['m365-business-premium', 'exchange-online-p1'],
        expertise: ['security', 'migrations'],
        countries: ['DE', 'AT', 'GB'],
        languages: ['de', 'en'],
        contact: { name: 'Alex Wilber', email: 'alex@fabrikam.example' },
      },
    });
  });

  it('answers field by field, every problem at once', () => {
    const result = validateListing(
      {
        headline: ' ',
        description: 'x'.repeat(1001),
        services: 'm365-e5,not-a-service',
        expertise: 'a, ' + 'b'.repeat(41),
        countries: 'DE, UK, Germany, Narnia',
        languages: 'en, qq',
        contactName: '',
        contactEmail: 'alex at fabrikam',
      },
      partner,
      catalog,
    );
    expect(result).toEqual({
      ok: false,
      errors: {
        headline: 'Give your listing a headline: what you do, in a line.',
        description: 'The description is 1001 characters; keep it to 1000.',
        services: 'not-a-service is not a service in the catalog.',
        expertise: `"${'b'.repeat(41)}" is too long for a tag; keep each to 40 characters.`,
        countries: '"UK", "Narnia" are not ISO country codes. Use two-letter codes like DE, GB, US.',
        languages: '"qq" is not a language code. Use two-letter codes like en, de, fr.',
        contactName: 'Who should customers hear from? Give a name.',
        contactEmail: '"alex at fabrikam" is not an email address.',
      },
    });
  });

  it('refuses services the partner is not authorized for, and an over-long headline', () => {
    const result = validateListing({ ...good, services: 'm365-e5', headline: 'h'.repeat(101) }, partner, catalog);
    expect(result.ok === false && result.errors).toEqual({
      services: 'Fabrikam Cloud Partners is not authorized to provide m365-e5.',
      headline: 'The headline is 101 characters; keep it to 100.',
    });
  });

  it('needs a service and a country', () => {
    const result = validateListing({ ...good, services: '', countries: '' }, partner, catalog);
    expect(result.ok === false && result.errors).toEqual({
      services: 'Pick at least one service you offer.',
      countries: 'Name at least one country you serve, as ISO codes like DE, GB, US.',
    });
  });

  it('says what a listing still needs before it can be published', () => {
    expect(missingForPublish(null)).toEqual(['a headline', 'the services you offer', 'the countries you serve', 'a contact person']);
  });
});
