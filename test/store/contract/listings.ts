import type { Listing, ListingQuery } from '../../../src/marketplace/types';
import type { Store } from '../../../src/store/types';
import { T0, TENANT, alex, edited, listing, listingCorpus, plus, type CorpusKey } from '../support/fixtures';
import type { ContractContext } from './context';

/** `one handle` > `listings`: the marketplace listings and their search. */
export function listingsContract(ctx: ContractContext): void {
  let store: Store;
  beforeEach(() => (store = ctx.store()));

  describe('listings', () => {
    const save = async (l: Listing, expectedVersion = l.version - 1) => {
      expect(await store.listings.save(l, expectedVersion)).toBe(true);
      return l;
    };
    const search = (words: string[], o: Partial<ListingQuery> = {}) => store.listings.search({ words, limit: 20, offset: 0, ...o });
    const ids = async (words: string[], o: Partial<ListingQuery> = {}) => (await search(words, o)).map((r) => r.listing.id);

    it('save inserts with expectedVersion 0; get (by partner) and getById return it; a second insert for the partner or the id is false; unknown is null', async () => {
      const l = listing({ expertise: ['exchange'], contact: { name: alex.name, email: alex.email!, person: alex } });
      expect(await store.listings.save(l, 0)).toBe(true);
      expect(await store.listings.get(l.partnerTenantId)).toEqual(l);
      expect(await store.listings.getById(l.id)).toEqual(l);

      const samePartner = listing({ partnerTenantId: l.partnerTenantId, headline: 'A second listing' });
      expect(await store.listings.save(samePartner, 0)).toBe(false);
      expect(await store.listings.getById(samePartner.id)).toBeNull();
      const sameId = listing({ id: l.id, headline: 'Another partner, the same id' });
      expect(await store.listings.save(sameId, 0)).toBe(false);
      expect(await store.listings.get(sameId.partnerTenantId)).toBeNull();
      expect(await store.listings.get(l.partnerTenantId)).toEqual(l);

      expect(await store.listings.get(TENANT.northwind)).toBeNull();
      expect(await store.listings.getById('M-NQPE23')).toBeNull();
      expect(await ids([])).toEqual([l.id]);
    });

    it('save replaces by compare-and-set on version: a stale or unknown one is false and changes nothing, the search index included', async () => {
      const l = await save(listing({ headline: 'Security reviews' }));
      const v2 = edited(l, { headline: 'Identity reviews', countries: ['DE'] });
      expect(await store.listings.save(v2, 1)).toBe(true);
      expect(await store.listings.get(l.partnerTenantId)).toEqual(v2);

      const stale = edited(l, { headline: 'Stale edit about voice' });
      expect(stale.version).toBe(2);
      expect(await store.listings.save(stale, 1)).toBe(false);
      expect(await store.listings.getById(l.id)).toEqual(v2);
      expect(await ids(['voice'])).toEqual([]);
      expect(await ids(['identity'])).toEqual([l.id]);
      expect(await ids(['security'])).toEqual([]);

      const v3 = edited(v2, { headline: 'Identity and voice reviews' });
      expect(await store.listings.save(v3, 2)).toBe(true);
      expect(await store.listings.getById(l.id)).toEqual(v3);
      expect(await ids(['voice'])).toEqual([l.id]);

      // Never saved: nothing to compare with.
      const unknown = listing();
      expect(await store.listings.save(edited(unknown, {}), 1)).toBe(false);
      expect(await store.listings.get(unknown.partnerTenantId)).toBeNull();
      // The partner and the id are the listing's identity: an update naming another partner matches nothing.
      expect(await store.listings.save({ ...edited(v3, {}), partnerTenantId: TENANT.northwind }, 3)).toBe(false);
      expect(await store.listings.getById(l.id)).toEqual(v3);
    });

    it('refuses a save whose version is not expectedVersion + 1 (a caller bug), writing nothing', async () => {
      const l = listing();
      await expect(store.listings.save(l, 1)).rejects.toThrow(/version/);
      await expect(store.listings.save({ ...l, version: 2 }, 0)).rejects.toThrow(/version/);
      expect(await store.listings.get(l.partnerTenantId)).toBeNull();
      await save(l);
      await expect(store.listings.save(l, 1)).rejects.toThrow(/version/);
      expect(await store.listings.getById(l.id)).toEqual(l);
    });

    it('only published listings are found: publish and unpublish take effect at once, and an edit re-indexes the text', async () => {
      const other = await save(listing({ headline: 'Backup and recovery', updatedAt: plus(T0, -60) }));
      const draft = await save(listing({ headline: 'Power Platform dashboards', published: false }));
      expect(await ids(['dashboards'])).toEqual([]);
      expect(await ids([])).toEqual([other.id]);

      const published = await save(edited(draft, { published: true }));
      expect(await search(['dashboards'])).toEqual([{ listing: published, score: expect.any(Number) }]);
      expect(await ids([])).toEqual([published.id, other.id]);

      const renamed = await save(edited(published, { headline: 'Power BI reports' }));
      expect(await ids(['dashboards'])).toEqual([]);
      expect(await ids(['reports'])).toEqual([renamed.id]);

      const hidden = await save(edited(renamed, { published: false }));
      expect(await ids(['reports'])).toEqual([]);
      expect(await ids([])).toEqual([other.id]);
      expect(await store.listings.get(hidden.partnerTenantId)).toEqual(hidden);

      const again = await save(edited(hidden, { published: true }));
      expect(await ids(['reports'])).toEqual([again.id]);
      expect(await ids(['recovery', 'reports'])).toHaveLength(2);
    });

    it('equal scores: the most recently updated first, then by id', async () => {
      const text = { headline: 'Power BI dashboards', description: 'Reports for finance teams.', expertise: ['analytics'] };
      const older = await save(listing({ ...text, id: 'M-22222A', updatedAt: plus(T0, 1) }));
      const newerB = await save(listing({ ...text, id: 'M-22222C', updatedAt: plus(T0, 2) }));
      const newerA = await save(listing({ ...text, id: 'M-22222B', updatedAt: plus(T0, 2) }));
      const results = await search(['dashboards']);
      expect(results.map((r) => r.listing.id)).toEqual([newerA.id, newerB.id, older.id]);
      expect(new Set(results.map((r) => r.score)).size).toBe(1);
      expect(results[0]!.score).toBeGreaterThan(0);
      expect(await ids([])).toEqual([newerA.id, newerB.id, older.id]);
    });

    // MongoDB's $text splits only on dashes, hyphens, pattern syntax, quotes, terminal punctuation and white space,
    // so on the fields themselves `plus_pro` and `defender™` stay one word; SQLite's unicode61 splits them.
    it('finds words joined by `_` or a symbol by each word they join, in text and in list fields', async () => {
      const l = await save(
        listing({
          headline: 'Microsoft Defender™ rollouts',
          expertise: ['Plus_Pro licensing'],
          description: 'Tenant_wide audits, one site@a time.',
        }),
      );
      await save(listing({ headline: 'Backup and recovery', expertise: ['archiving'], description: 'Nightly copies of every mailbox.' }));
      for (const word of ['defender', 'DEFENDER', 'plus', 'pro', 'tenant', 'wide', 'site', 'plus_pro', 'Defender™']) {
        expect([word, await ids([word])]).toEqual([word, [l.id]]);
      }
      expect(await ids(['rollouts', 'recovery'])).toHaveLength(2);
    });

    describe('search on a fixed corpus', () => {
      let corpus: Record<CorpusKey, Listing>;
      const idsOf = (...keys: CorpusKey[]) => keys.map((k) => corpus[k].id);
      beforeEach(async () => {
        corpus = listingCorpus();
        for (const l of Object.values(corpus)) await save(l);
      });

      it('a headline hit outranks a description-only hit; scores are positive, best first; the unpublished listing is never found', async () => {
        const results = await search(['security']);
        expect(results.map((r) => r.listing)).toEqual([corpus.A, corpus.B]);
        expect(results[0]!.score).toBeGreaterThan(results[1]!.score);
        expect(results[1]!.score).toBeGreaterThan(0);
      });

      it('a services hit (by catalog name) outranks an expertise hit, which outranks a description hit', async () => {
        const results = await search(['exchange']);
        expect(results.map((r) => r.listing.id)).toEqual(idsOf('C', 'D', 'E'));
        expect(results[0]!.score).toBeGreaterThan(results[1]!.score);
        expect(results[1]!.score).toBeGreaterThan(results[2]!.score);
        // By the service's catalog id too.
        expect(await ids(['online'])).toEqual(idsOf('C'));
      });

      it('words are OR-ed: a listing matching both words outranks one matching one of them', async () => {
        expect(await ids(['teams', 'voice'])).toEqual(idsOf('F', 'G'));
        expect(await ids(['voice'])).toEqual(idsOf('F'));
        expect(new Set(await ids(['security', 'exchange']))).toEqual(new Set(idsOf('A', 'B', 'C', 'D', 'E')));
      });

      it('words are prefixes on SQLite ("secur" finds "security"); MongoDB $text matches whole words only', async () => {
        if (store.kind === 'sqlite') {
          expect(await ids(['secur'])).toEqual(idsOf('A', 'B'));
          expect(await ids(['exch', 'voi'])).toEqual(expect.arrayContaining(idsOf('C', 'D', 'E', 'F')));
        } else {
          // $text has no prefix matching (documented in the store README): only whole words are found.
          expect(await ids(['secur'])).toEqual([]);
        }
        expect(await ids(['security'])).toEqual(idsOf('A', 'B'));
      });

      it('filters by country and by language inside the query, with words and without', async () => {
        expect(await ids(['exchange'], { country: 'DE' })).toEqual(idsOf('C', 'D'));
        expect(await ids(['exchange'], { language: 'fr' })).toEqual(idsOf('D', 'E'));
        expect(await ids(['exchange'], { country: 'DE', language: 'de' })).toEqual(idsOf('C', 'D'));
        expect(await ids(['exchange'], { country: 'FR', language: 'de' })).toEqual([]);
        expect(await ids(['exchange'], { country: 'GB' })).toEqual([]);
        expect(await ids(['security'], { country: 'AT' })).toEqual(idsOf('A'));
        expect(await ids([], { country: 'US' })).toEqual(idsOf('B', 'H', 'F'));
        expect(await ids([], { language: 'fr' })).toEqual(idsOf('E', 'D', 'H'));
        expect(await ids([], { country: 'CA', language: 'fr' })).toEqual(idsOf('H'));
        // The unpublished listing is in DE and speaks de: still never found.
        expect(await ids([], { country: 'DE' })).toEqual(idsOf('D', 'A', 'C'));
      });

      it('no words: every published listing, most recently updated first, score 0', async () => {
        const results = await search([]);
        expect(results.map((r) => r.listing)).toEqual(['E', 'B', 'G', 'D', 'H', 'A', 'F', 'C'].map((k) => corpus[k as CorpusKey]));
        expect(results.every((r) => r.score === 0)).toBe(true);
      });

      it('pages with limit and offset: pages are stable and add up to the whole list', async () => {
        const all = await ids([]);
        const pages: string[] = [];
        for (let offset = 0; offset < 10; offset += 3) pages.push(...(await ids([], { limit: 3, offset })));
        expect(pages).toEqual(all);
        expect(await ids([], { limit: 3, offset: 3 })).toEqual(all.slice(3, 6));
        expect(await ids([], { limit: 3, offset: 3 })).toEqual(all.slice(3, 6));

        const ranked = await ids(['security', 'exchange']);
        expect(ranked).toHaveLength(5);
        expect([
          ...(await ids(['security', 'exchange'], { limit: 2 })),
          ...(await ids(['security', 'exchange'], { limit: 2, offset: 2 })),
          ...(await ids(['security', 'exchange'], { limit: 2, offset: 4 })),
        ]).toEqual(ranked);
        expect(await ids(['exchange'], { limit: 2, offset: 1 })).toEqual(idsOf('D', 'E'));
        expect(await ids(['exchange'], { offset: 3 })).toEqual([]);
        expect(await ids(['exchange'], { limit: 0 })).toEqual([]);
      });

      it('query syntax in the words is harmless: quotes, *, NEAR, -, :, parentheses, ^ and braces only separate words', async () => {
        const nasty = [
          '"security',
          'exch*',
          'NEAR(voice',
          'teams)',
          '-description:',
          'headline:exchange',
          '^teams',
          '{headline}',
          'AND',
          'OR',
          'NOT',
          '"',
          '*',
          '(',
          ')',
          ':',
          '-',
          "'",
          '\\',
        ];
        const clean = ['security', 'exch', 'near', 'voice', 'teams', 'description', 'headline', 'exchange', 'and', 'or', 'not'];
        const found = await search(nasty);
        expect(found).toEqual(await search(clean));
        // Every listing that has one of the words, whatever the syntax around it (`exch` is a whole word only on MongoDB).
        expect(found.map((r) => r.listing.id)).toEqual(expect.arrayContaining(idsOf('A', 'B', 'C', 'D', 'E', 'F', 'G')));
        // Punctuation alone is no word at all: the same as no words.
        expect(await ids(['"', '*', '(', ')', '-', ':'])).toEqual(await ids([]));
        expect(await ids(['exchange"', 'OR', '"security'], { country: 'FR' })).toEqual(idsOf('E'));
      });
    });
  });
}
