import { parseFind } from '../../src/marketplace/commands';
import { errorOf } from '../support/errors';
import { toCountry, toLanguage } from '../../src/marketplace/geo';

describe('find command', () => {
  it('splits words and reads a country code at the end', () => {
    expect(parseFind('security exchange in DE')).toEqual({
      words: ['security', 'exchange'],
      country: 'DE',
      language: undefined,
      text: 'security exchange in DE',
    });
  });

  it('reads a language code or name, and a country by name', () => {
    expect(parseFind('teams voice language fr')).toMatchObject({ words: ['teams', 'voice'], language: 'fr', country: undefined });
    expect(parseFind('Intune in united kingdom language German')).toMatchObject({ words: ['intune'], country: 'GB', language: 'de' });
    expect(parseFind('teams language fr in de')).toMatchObject({ words: ['teams'], country: 'DE', language: 'fr' });
  });

  it('keeps "in" as part of the search when what follows is not a country', () => {
    expect(parseFind('experts in intune')).toMatchObject({ words: ['experts', 'in', 'intune'], country: undefined });
  });

  it('reduces input to plain words: no search syntax gets through, duplicates and filler words go', () => {
    expect(parseFind('"security" OR exch* NEAR(teams) -voice: security partner for me').words).toEqual([
      'security',
      'exch',
      'near',
      'teams',
      'voice',
    ]);
  });

  it('accepts filters alone', () => {
    expect(parseFind('in FR')).toMatchObject({ words: [], country: 'FR' });
  });

  it.each([
    ['', 'Tell me what you are looking for: a service, a skill or both, optionally with a country.'],
    ['security in ZZ', '"ZZ" is not a country code. Use a two-letter ISO code like DE or GB, or the country\'s name.'],
    ['security in UK', '"UK" is not a country code. Use a two-letter ISO code like DE or GB, or the country\'s name.'],
    ['teams language klingon', '"klingon" is not a language I know. Use a two-letter code like fr or de, or a name like French.'],
    ['a b c d e f g h i j k l', 'That is 11 words; use at most 10.'],
  ])('refuses %j with a message that says what to fix', (args, message) => {
    expect(errorOf(() => parseFind(args)).message).toBe(message);
  });
});

describe('countries and languages', () => {
  it('knows ISO 3166-1 alpha-2 codes only, by code or English name', () => {
    expect(toCountry('de')).toBe('DE');
    expect(toCountry('Germany')).toBe('DE');
    for (const notIso of ['EU', 'UK', 'XK', 'ZZ', 'DY']) expect(toCountry(notIso)).toBeUndefined();
  });
  it('knows two-letter language codes and English names', () => {
    expect(toLanguage('FR')).toBe('fr');
    expect(toLanguage('german')).toBe('de');
    expect(toLanguage('xx')).toBeUndefined();
  });
});
