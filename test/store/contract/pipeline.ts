import type { PipelineCursor, PipelineItem, PipelinePage, PipelineQuery } from '../../../src/dashboard/types';
import type { Relationship } from '../../../src/delegation/types';
import type { Offer } from '../../../src/offers/types';
import type { Store } from '../../../src/store/types';
import { T0, TENANT, alex, delivered, deliveredRel, diego, offer, person, plus, plusDays, relationship } from '../support/fixtures';
import type { ContractContext } from './context';

/** `one handle` > `pipeline`: the partner dashboard's pages and summary over offers and relationships. */
export function pipelineContract(ctx: ContractContext): void {
  const { clock, nowIso, approval, revocation } = ctx;
  let store: Store;
  beforeEach(() => (store = ctx.store()));

  describe('pipeline', () => {
    type Owner = { partnerTenantId: string; partnerName: string };
    const FABRIKAM: Owner = { partnerTenantId: TENANT.fabrikam, partnerName: 'Fabrikam Cloud Partners' };
    const NORTHWIND: Owner = { partnerTenantId: TENANT.northwind, partnerName: 'Northwind Traders' };
    const isaiah = person({ name: 'Isaiah Langer', tenantId: TENANT.fabrikam, email: 'isaiahl@fabrikam.com' });
    const at = (minutes: number) => plus(T0, minutes);
    const idOf = (i: PipelineItem) => (i.type === 'offer' ? i.offer.id : i.relationship.id);
    const itemOf = (x: Offer | Relationship): PipelineItem =>
      'lines' in x ? { type: 'offer', offer: x } : { type: 'relationship', relationship: x };
    const page = (q: Partial<PipelineQuery> = {}) => store.pipeline.page({ partnerTenantId: TENANT.fabrikam, limit: 50, ...q });
    /** The page holds exactly these rows, in this order, and nothing follows. */
    const expectRows = (p: PipelinePage, rows: Array<Offer | Relationship>) => {
      expect(p.items.map(idOf)).toEqual(rows.map((r) => r.id));
      expect(p.items).toEqual(rows.map(itemOf));
      expect(p.total).toBe(rows.length);
      expect(p.next).toBeUndefined();
    };
    const create = async <T extends Offer | Relationship>(row: T): Promise<T> => {
      if ('lines' in row) expect((await store.offers.create(row, [])).created).toBe(true);
      else expect((await store.relationships.create(row, [])).created).toBe(true);
      return row;
    };
    /** Every page from the first with this limit: the rows in order, checking each page's next and total on the way. */
    const allPages = async (q: Partial<PipelineQuery>, limit: number, total: number) => {
      const seen: PipelineItem[] = [];
      let after: PipelineCursor | undefined;
      for (let n = 0; n < 100; n++) {
        const p = await page({ ...q, limit, after });
        expect(p.total).toBe(total);
        seen.push(...p.items);
        if (!p.next) {
          expect(p.items.length).toBeLessThanOrEqual(limit);
          return seen;
        }
        expect(p.items).toHaveLength(limit);
        const last = p.items[p.items.length - 1]!;
        const position = last.type === 'offer' ? last.offer : last.relationship;
        expect(p.next).toEqual({ createdAt: position.createdAt, id: position.id });
        after = p.next;
      }
      throw new Error('pagination did not end');
    };

    /**
     * One partner's rows: offers and relationships of every kind, in many states, at times that tie across the two
     * (minute 30: a trial, a purchase and a delegation; minute 50: a trial and a partner-of-record request). The
     * other partner's copy has rows at the same times that match every filter the tests use, and must never show.
     */
    const corpus = (owner: Owner, n: number) => {
      const mine = owner === FABRIKAM;
      // At most one active relationship per (customer, kind), whoever the partner: the copy's are other customers'.
      const customer = (tenantId: string, kind: string) => (mine ? tenantId : `${tenantId.slice(0, 8)}-elsewhere-${kind}-${n}`);
      const rows = {
        withdrawnTrial: offer({ ...owner, kind: 'trial', state: 'withdrawn', approverEmail: 'lee.gu@contoso.com', createdAt: at(50) }),
        awaitingPor: relationship({ ...owner, kind: 'por', approverEmail: 'new.admin@tailspin.com', createdAt: at(50) }),
        declinedDelegation: relationship({ ...owner, state: 'declined', issuedBy: isaiah, createdAt: at(40) }),
        declinedTrial: offer({ ...owner, kind: 'trial', state: 'declined', createdAt: at(30) }),
        backup: offer({
          ...owner,
          state: 'awaitingDelivery',
          approverEmail: 'lee.gu@contoso.com',
          issuedBy: isaiah,
          lines: [{ serviceId: 'backup-pro', serviceName: 'Backup 100% Plus_Pro .* (EU)', quantity: 3, unitPriceCents: 500 }],
          createdAt: at(30),
        }),
        rolesDelegation: relationship({
          ...owner,
          state: 'active',
          approverEmail: 'diego@litware.com',
          approver: diego,
          customerTenantId: customer(TENANT.litware, 'delegation'),
          access: { kind: 'roles', roles: ['Helpdesk Administrator', 'User Administrator'] },
          createdAt: at(30),
        }),
        activePor: relationship({
          ...owner,
          kind: 'por',
          state: 'active',
          customerTenantId: customer(TENANT.contoso, 'por'),
          createdAt: at(25),
        }),
        acceptedPurchase: offer({ ...owner, state: 'accepted', approverEmail: 'diego@litware.com', approver: diego, createdAt: at(20) }),
        pendingDelegation: relationship({ ...owner, state: 'approvalPending', createdAt: at(15) }),
        sentTrial: offer({ ...owner, kind: 'trial', state: 'sent', createdAt: at(10) }),
        expiredPurchase: offer({ ...owner, state: 'expired', approverEmail: 'diego@litware.com', approver: diego, createdAt: at(5) }),
      };
      return rows;
    };
    type Corpus = ReturnType<typeof corpus>;
    /** Newest first; ties (minutes 50 and 30) by id descending: T- before R- before P- before D-. */
    const ordered = (c: Corpus) => [
      c.withdrawnTrial,
      c.awaitingPor,
      c.declinedDelegation,
      c.declinedTrial,
      c.backup,
      c.rolesDelegation,
      c.activePor,
      c.acceptedPurchase,
      c.pendingDelegation,
      c.sentTrial,
      c.expiredPurchase,
    ];
    /** Both partners' rows, the other partner's interleaved (created first, so insertion order helps no one). */
    const seed = async () => {
      const theirs = corpus(NORTHWIND, 1);
      const mine = corpus(FABRIKAM, 0);
      const a = Object.values(theirs);
      const b = Object.values(mine).reverse();
      for (let i = 0; i < a.length; i++) {
        await create(a[i]!);
        await create(b[i]!);
      }
      return { mine, theirs };
    };

    it("lists only the partner's rows: offers and relationships merged newest first, ties on createdAt to the higher id", async () => {
      const { mine, theirs } = await seed();
      expectRows(await page(), ordered(mine));
      expectRows(await page({ partnerTenantId: TENANT.northwind }), ordered(theirs));
      expectRows(await page({ partnerTenantId: TENANT.litware }), []);
    });

    it('breaks ties by id descending within each source and across them, whatever the insertion order', async () => {
      const t = at(60);
      const rows = [
        offer({ id: 'P-22222B', state: 'accepted', createdAt: t }),
        relationship({ id: 'D-22222A', state: 'declined', createdAt: t }),
        offer({ id: 'P-22222A', state: 'accepted', createdAt: t }),
        relationship({ id: 'R-22222A', kind: 'por', state: 'declined', createdAt: t }),
        offer({ id: 'P-22222C', state: 'accepted', createdAt: t }),
        relationship({ id: 'D-22222B', state: 'declined', createdAt: t }),
        offer({ id: 'P-22222D', state: 'accepted', createdAt: at(59) }),
        relationship({ id: 'D-22222C', state: 'declined', createdAt: at(61) }),
      ];
      for (const r of rows) await create(r);
      const order = ['D-22222C', 'R-22222A', 'P-22222C', 'P-22222B', 'P-22222A', 'D-22222B', 'D-22222A', 'P-22222D'];
      expect((await page()).items.map(idOf)).toEqual(order);
      for (const limit of [1, 2, 3, 4, 7, 8]) expect((await allPages({}, limit, 8)).map(idOf)).toEqual(order);
      // Strictly after the cursor: not the row it names; a cursor between two rows of one instant works as well.
      const after = async (id: string, createdAt = t) => (await page({ after: { createdAt, id } })).items.map(idOf);
      expect(await after('P-22222B')).toEqual(['P-22222A', 'D-22222B', 'D-22222A', 'P-22222D']);
      expect(await after('P-22222BZ')).toEqual(['P-22222B', 'P-22222A', 'D-22222B', 'D-22222A', 'P-22222D']);
      expect(await after('A')).toEqual(['P-22222D']);
      expect(await after('Z', at(59))).toEqual(['P-22222D']);
      expect(await after('P-22222D', at(59))).toEqual([]);
      expect((await page({ after: { createdAt: at(60), id: 'P-22222A' } })).total).toBe(8);
    });

    it('pages with any limit visit every row exactly once, in order; next only while rows follow; total ignores after', async () => {
      const { mine } = await seed();
      const all = ordered(mine).map(itemOf);
      for (const limit of [1, 2, 3, 4, 5, 10, 11, 12, 50]) expect(await allPages({}, limit, 11)).toEqual(all);
      // A page that ends exactly at the last row says nothing follows.
      const whole = await page({ limit: 11 });
      expect(whole.items).toHaveLength(11);
      expect(whole.next).toBeUndefined();
      const first = await page({ limit: 10 });
      expect(first.next).toEqual({ createdAt: mine.sentTrial.createdAt, id: mine.sentTrial.id });
      expect(await page({ limit: 10, after: first.next })).toEqual({ items: [itemOf(mine.expiredPurchase)], total: 11 });
      // Filtered: the same, over the matching rows only.
      const trialsAndDelegations = all.filter((i) =>
        i.type === 'offer' ? i.offer.kind === 'trial' : i.relationship.kind === 'delegation',
      );
      expect(trialsAndDelegations).toHaveLength(6);
      for (const limit of [1, 2, 4, 5, 6])
        expect(await allPages({ kinds: ['trial', 'delegation'] }, limit, 6)).toEqual(trialsAndDelegations);
    });

    it('filters by kind: only those kinds; a filter naming no offer kind (or no relationship kind) leaves that source out', async () => {
      const { mine: c } = await seed();
      expectRows(await page({ kinds: ['trial'] }), [c.withdrawnTrial, c.declinedTrial, c.sentTrial]);
      expectRows(await page({ kinds: ['purchase'] }), [c.backup, c.acceptedPurchase, c.expiredPurchase]);
      expectRows(
        await page({ kinds: ['trial', 'purchase'] }),
        ordered(c).filter((r) => 'lines' in r),
      );
      expectRows(await page({ kinds: ['delegation'] }), [c.declinedDelegation, c.rolesDelegation, c.pendingDelegation]);
      expectRows(await page({ kinds: ['por'] }), [c.awaitingPor, c.activePor]);
      expectRows(await page({ kinds: ['purchase', 'por'] }), [c.awaitingPor, c.backup, c.activePor, c.acceptedPurchase, c.expiredPurchase]);
      expectRows(await page({ kinds: ['trial', 'purchase', 'delegation', 'por'] }), ordered(c));
      expectRows(await page({ kinds: [] }), []);
    });

    it('filters by state (the raw states of either source)', async () => {
      const { mine: c } = await seed();
      expectRows(await page({ states: ['sent', 'approvalPending'] }), [c.pendingDelegation, c.sentTrial]);
      expectRows(await page({ states: ['active'] }), [c.rolesDelegation, c.activePor]);
      expectRows(await page({ states: ['accepted'] }), [c.acceptedPurchase]);
      expectRows(await page({ states: ['declined'] }), [c.declinedDelegation, c.declinedTrial]);
      expectRows(await page({ states: ['awaitingDelivery'] }), [c.awaitingPor, c.backup]);
      expectRows(await page({ states: ['expired', 'withdrawn', 'terminated'] }), [c.withdrawnTrial, c.expiredPurchase]);
      expectRows(await page({ states: [] }), []);
    });

    it("filters by customer: the approver's whole address, any case", async () => {
      const { mine: c } = await seed();
      const contosoAdmin = [c.declinedDelegation, c.declinedTrial, c.activePor, c.pendingDelegation, c.sentTrial];
      expectRows(await page({ customer: 'admin@contoso.com' }), contosoAdmin);
      expectRows(await page({ customer: 'Admin@CONTOSO.com' }), contosoAdmin);
      expectRows(await page({ customer: 'diego@litware.com' }), [c.rolesDelegation, c.acceptedPurchase, c.expiredPurchase]);
      for (const part of ['admin@contoso', 'contoso.com', 'min@contoso.com', '%', 'admin@contoso.co_'])
        expectRows(await page({ customer: part }), []);
    });

    it('searches ids, customer addresses and tenants, issuer names, service names and what a relationship grants', async () => {
      const { mine: c } = await seed();
      const search = (words: string) => page({ search: words });
      // Service names (every line), and every word must occur.
      const trials = [c.withdrawnTrial, c.declinedTrial, c.sentTrial];
      expectRows(await search('teams essentials'), trials);
      expectRows(await search('ESSENTIALS'), trials);
      expectRows(await search('premium'), [c.withdrawnTrial, c.declinedTrial, c.acceptedPurchase, c.sentTrial, c.expiredPurchase]);
      // Role names; full access and partner of record by their labels.
      expectRows(await search('helpdesk'), [c.rolesDelegation]);
      expectRows(await search('user administrator'), [c.rolesDelegation]);
      expectRows(await search('administration'), [c.declinedDelegation, c.pendingDelegation]);
      expectRows(await search('Full Administration'), [c.declinedDelegation, c.pendingDelegation]);
      expectRows(await search('record'), [c.awaitingPor, c.activePor]);
      expectRows(await search('partner of record'), [c.awaitingPor, c.activePor]);
      // Issuer names.
      expectRows(await search('langer'), [c.declinedDelegation, c.backup]);
      expectRows(await search('Isaiah LANGER'), [c.declinedDelegation, c.backup]);
      expectRows(await search('isaiah wilber'), []);
      expect((await search('alex')).total).toBe(9);
      // Customer addresses and tenants (the offer's approver's, the relationship's customer).
      expectRows(await search('lee.gu'), [c.withdrawnTrial, c.backup]);
      expectRows(await search('tailspin'), [c.awaitingPor]);
      expectRows(await search(TENANT.litware.slice(0, 8).toUpperCase()), [c.rolesDelegation, c.acceptedPurchase, c.expiredPurchase]);
      expectRows(await search(TENANT.litware), [c.rolesDelegation, c.acceptedPurchase, c.expiredPurchase]);
      expectRows(await search('alex litware'), [c.rolesDelegation, c.acceptedPurchase, c.expiredPurchase]);
      // Ids, whole or in part, any case.
      expectRows(await search(c.backup.id.toLowerCase()), [c.backup]);
      expectRows(await search(c.activePor.id.slice(2)), [c.activePor]);
      expectRows(await search(`  ${c.sentTrial.id}\t${c.sentTrial.id.slice(2).toLowerCase()} `), [c.sentTrial]);
      // A word never spans two fields (the backup offer's address is followed by its issuer's name).
      expectRows(await search('contoso.comisaiah'), []);
      // Not searched: states, kinds' names, partner names.
      for (const words of ['declined', 'trial', 'fabrikam cloud']) expectRows(await search(words), []);
      // Whitespace only: no search.
      expectRows(await search(' \t '), ordered(c));
    });

    it('takes search words literally: no LIKE wildcards, no regular expressions, no operators', async () => {
      const { mine: c } = await seed();
      const search = (words: string) => page({ search: words });
      // Each of these is in one service name only ("Backup 100% Plus_Pro .* (EU)").
      // `(eu` would not even compile as a regular expression.
      for (const words of ['%', '_', '.*', '100%', 'plus_pro', '(eu)', '(eu', 'pro .* (EU)']) expectRows(await search(words), [c.backup]);
      // As patterns these would match other rows (`%`/`_` as LIKE wildcards, `.`, `*`, `[...]`, `|` in a regex);
      // as text they occur nowhere. None of them may fail either.
      for (const words of [
        'p%o',
        'a_m',
        'adm_n',
        'b.ckup',
        'e.*n',
        'con[a-z]oso',
        'alex|lee',
        '[',
        ']',
        '\\',
        '^admin',
        'premium$',
        '{"$ne":null}',
        '$where',
        '(xx',
      ]) {
        const found = await search(words);
        expect({ words, found: found.items.map(idOf), total: found.total }).toEqual({ words, found: [], total: 0 });
      }
    });

    it('combines filters: every one narrows, the cursor included', async () => {
      const { mine: c } = await seed();
      const q: Partial<PipelineQuery> = {
        kinds: ['trial', 'purchase', 'delegation'],
        states: ['declined', 'accepted', 'active', 'sent', 'approvalPending'],
        customer: 'Diego@Litware.com',
        search: 'ALEX',
      };
      expectRows(await page(q), [c.rolesDelegation, c.acceptedPurchase]);
      const first = await page({ ...q, limit: 1 });
      expect(first).toEqual({
        items: [itemOf(c.rolesDelegation)],
        total: 2,
        next: { createdAt: c.rolesDelegation.createdAt, id: c.rolesDelegation.id },
      });
      expect(await page({ ...q, limit: 1, after: first.next })).toEqual({ items: [itemOf(c.acceptedPurchase)], total: 2 });
      expectRows(await page({ ...q, kinds: ['delegation'] }), [c.rolesDelegation]);
      expectRows(await page({ ...q, states: ['accepted'] }), [c.acceptedPurchase]);
      expectRows(await page({ ...q, search: 'alex helpdesk' }), [c.rolesDelegation]);
      // Alex's to the Contoso admin: not the declined delegation (Isaiah's), nor the partner of record (kinds).
      expectRows(await page({ ...q, customer: 'admin@contoso.com' }), [c.declinedTrial, c.pendingDelegation, c.sentTrial]);
      expectRows(await page({ ...q, customer: 'lee.gu@contoso.com' }), []);
      expectRows(await page({ kinds: ['trial'], states: ['declined', 'sent'], search: 'teams' }), [c.declinedTrial, c.sentTrial]);
      expectRows(await page({ kinds: ['por'], states: ['sent'] }), []);
    });

    it('searches what the rows say now: a delivered request is found by its customer tenant, and a change of grant too', async () => {
      const r = await create(relationship({ createdAt: at(1) }));
      const o = await create(offer({ createdAt: at(2) }));
      const tenant = TENANT.litware.slice(0, 8);
      expectRows(await page({ search: tenant }), []);
      const sent = deliveredRel(r, diego, at(3));
      expect(await store.relationships.update(sent, r.version, [])).toBe(true);
      const reached = delivered(o, diego, at(3));
      expect(await store.offers.update(reached, o.version, [])).toBe(true);
      expectRows(await page({ search: tenant }), [reached, sent]);
      const roles = { ...sent, access: { kind: 'roles' as const, roles: ['Exchange Administrator'] }, version: sent.version + 1 };
      expect(await store.relationships.update(roles, sent.version, [])).toBe(true);
      expectRows(await page({ search: 'exchange' }), [roles]);
      expectRows(await page({ search: 'full' }), []);
      expectRows(await page({ states: ['approvalPending'], search: 'exchange' }), [roles]);
    });

    it('refuses filters that are not what the types say, and a limit out of range', async () => {
      await seed();
      const bad = (q: object) => store.pipeline.page({ partnerTenantId: TENANT.fabrikam, limit: 5, ...q });
      await expect(bad({ customer: { $ne: '' } })).rejects.toThrow(/customer/);
      await expect(bad({ search: { $regex: '.*' } })).rejects.toThrow(/search/);
      await expect(bad({ states: [{ $ne: '' }] })).rejects.toThrow(/states/);
      await expect(bad({ kinds: 'trial' })).rejects.toThrow(/kinds/);
      await expect(bad({ after: { createdAt: { $gt: '' }, id: 'x' } })).rejects.toThrow(/after/);
      await expect(bad({ partnerTenantId: { $ne: '' } })).rejects.toThrow(/partnerTenantId/);
      for (const limit of [0, -1, 1.5, 100_000]) await expect(bad({ limit })).rejects.toThrow(/limit/);
      await expect(store.pipeline.summary({ $ne: '' } as unknown as string, T0)).rejects.toThrow(/partnerTenantId/);
      await expect(store.pipeline.summary(TENANT.fabrikam, 'soon')).rejects.toThrow(/now/);
    });

    describe('monthlyValue', () => {
      const line = (quantity: number, unitPriceCents: number) => ({
        serviceId: 'm365-business-premium',
        serviceName: 'Microsoft 365 Business Premium',
        quantity,
        unitPriceCents,
      });
      const value = (partner: string = TENANT.fabrikam, currency = 'USD', since = '2026-09') =>
        store.pipeline.monthlyValue(partner, currency, since);

      it('sums quantity × monthly list price of accepted offers by decision month and pending ones by creation month', async () => {
        const rows = [
          // Pending, made in November: two lines, annual billing counts its monthly share all the same.
          offer({ state: 'sent', billing: 'annual', lines: [line(25, 2_200), line(10, 300)], createdAt: '2026-11-02T10:00:00.000Z' }),
          offer({ state: 'awaitingDelivery', lines: [line(4, 1_000)], createdAt: '2026-11-30T23:59:59.000Z' }),
          // Accepted: counted in the month of the decision, not the month it was sent.
          offer({
            state: 'accepted',
            lines: [line(10, 2_200)],
            createdAt: '2026-10-28T09:00:00.000Z',
            decidedAt: '2026-11-03T09:00:00.000Z',
          }),
          offer({
            state: 'accepted',
            lines: [line(3, 600)],
            createdAt: '2026-10-01T00:00:00.000Z',
            decidedAt: '2026-10-05T00:00:00.000Z',
          }),
          // Pending since September.
          offer({ state: 'sent', lines: [line(1, 500)], createdAt: '2026-09-30T23:59:59.999Z' }),
          // Before `since`: left out, whichever date counts.
          offer({ state: 'accepted', lines: [line(7, 100)], createdAt: '2026-08-01T00:00:00.000Z', decidedAt: '2026-08-31T23:59:59.000Z' }),
          offer({ state: 'sent', lines: [line(7, 100)], createdAt: '2026-08-31T23:59:59.999Z' }),
          // Counted nowhere: trials, answered or closed without a sale, another currency, another partner.
          offer({ kind: 'trial', state: 'accepted', createdAt: '2026-11-01T00:00:00.000Z', decidedAt: '2026-11-02T00:00:00.000Z' }),
          offer({ state: 'declined', lines: [line(50, 2_200)], createdAt: '2026-11-01T00:00:00.000Z' }),
          offer({ state: 'expired', lines: [line(50, 2_200)], createdAt: '2026-10-01T00:00:00.000Z' }),
          offer({ state: 'withdrawn', lines: [line(50, 2_200)], createdAt: '2026-10-01T00:00:00.000Z' }),
          offer({ state: 'sent', currency: 'EUR', lines: [line(2, 1_000)], createdAt: '2026-11-01T00:00:00.000Z' }),
          offer({ ...NORTHWIND, state: 'sent', lines: [line(9, 9_000)], createdAt: '2026-11-01T00:00:00.000Z' }),
          offer({
            ...NORTHWIND,
            state: 'accepted',
            lines: [line(9, 9_000)],
            createdAt: '2026-11-01T00:00:00.000Z',
            decidedAt: '2026-11-01T00:00:00.000Z',
          }),
        ];
        for (const row of rows) await create(row);

        expect(await value()).toEqual([
          { month: '2026-09', accepted: 0, pending: 500 },
          { month: '2026-10', accepted: 1_800, pending: 0 },
          { month: '2026-11', accepted: 22_000, pending: 55_000 + 3_000 + 4_000 },
        ]);
        expect(await value(TENANT.fabrikam, 'EUR')).toEqual([{ month: '2026-11', accepted: 0, pending: 2_000 }]);
        expect(await value(TENANT.fabrikam, 'USD', '2026-08')).toEqual([
          { month: '2026-08', accepted: 700, pending: 700 },
          { month: '2026-09', accepted: 0, pending: 500 },
          { month: '2026-10', accepted: 1_800, pending: 0 },
          { month: '2026-11', accepted: 22_000, pending: 62_000 },
        ]);
        expect(await value(TENANT.northwind)).toEqual([{ month: '2026-11', accepted: 81_000, pending: 81_000 }]);
        expect(await value(TENANT.litware)).toEqual([]);
      });

      it('follows decisions: a pending offer accepted moves to the month of the decision', async () => {
        const o = await create(offer({ state: 'sent', lines: [line(10, 2_200)], createdAt: '2026-10-30T09:00:00.000Z' }));
        expect(await value()).toEqual([{ month: '2026-10', accepted: 0, pending: 22_000 }]);
        clock.now = new Date('2026-11-02T09:00:00.000Z');
        const accepted = { ...o, state: 'accepted' as const, version: o.version + 1, decidedAt: nowIso(), pendingKey: undefined };
        expect(await store.offers.update(accepted, o.version, [])).toBe(true);
        expect(await value()).toEqual([{ month: '2026-11', accepted: 22_000, pending: 0 }]);
      });

      it('counts an offer sent before the first month and accepted in it (on its last day) in that month', async () => {
        await create(
          offer({
            state: 'accepted',
            lines: [line(2, 2_200)],
            createdAt: '2026-08-20T09:00:00.000Z',
            expiresAt: '2026-09-19T09:00:00.000Z',
            decidedAt: '2026-09-19T08:59:00.000Z',
          }),
        );
        await create(offer({ state: 'expired', lines: [line(2, 2_200)], createdAt: '2026-08-20T09:00:00.000Z' }));
        expect(await value()).toEqual([{ month: '2026-09', accepted: 4_400, pending: 0 }]);
      });

      it('refuses a query that is not what the types say', async () => {
        await expect(store.pipeline.monthlyValue({ $ne: '' } as unknown as string, 'USD', '2026-01')).rejects.toThrow(/partnerTenantId/);
        await expect(store.pipeline.monthlyValue(TENANT.fabrikam, 'usd', '2026-01')).rejects.toThrow(/currency/);
        await expect(store.pipeline.monthlyValue(TENANT.fabrikam, 'USD', '2026-13')).rejects.toThrow(/since/);
        await expect(store.pipeline.monthlyValue(TENANT.fabrikam, 'USD', { $gt: '' } as unknown as string)).rejects.toThrow(/since/);
      });
    });

    describe('summary', () => {
      const noOffers = { awaitingDelivery: 0, sent: 0, accepted: 0, declined: 0, expired: 0, withdrawn: 0 };
      const noRelationships = {
        awaitingDelivery: 0,
        approvalPending: 0,
        active: 0,
        terminationRequested: 0,
        declined: 0,
        expired: 0,
        terminated: 0,
        withdrawn: 0,
      };

      it('is all zeros, every state present, for a partner with nothing', async () => {
        await seed();
        expect(await store.pipeline.summary(TENANT.litware, T0)).toEqual({
          offers: noOffers,
          relationships: noRelationships,
          expiring: { within1: 0, within7: 0, within30: 0 },
        });
      });

      it("counts the partner's offers and relationships by state, and active delegations by how soon they end", async () => {
        const now = plusDays(T0, 100);
        const later = (minutes: number) => plus(now, minutes);
        const DAY = 24 * 60;
        let customers = 0;
        const active = (o: Partial<Relationship>) => relationship({ state: 'active', customerTenantId: `customer-${++customers}`, ...o });
        const mine = [
          offer({ state: 'sent' }),
          offer({ state: 'sent' }),
          offer({ state: 'sent' }),
          offer({ state: 'accepted' }),
          offer({ state: 'accepted', kind: 'trial' }),
          offer({ state: 'declined' }),
          relationship({ state: 'approvalPending' }),
          relationship({ kind: 'por', state: 'approvalPending' }),
          relationship({ state: 'declined' }),
          // Ended, or not ending: never expiring.
          relationship({ state: 'terminated', endsAt: later(60) }),
          active({ kind: 'por', endsAt: later(2 * DAY) }),
          active({ kind: 'por' }),
          // Active delegations: past, now, within a day (both ends), a week, thirty days, and after.
          active({ endsAt: later(-1) }),
          active({ endsAt: now }),
          active({ endsAt: later(1) }),
          active({ endsAt: later(DAY) }),
          active({ endsAt: later(DAY + 1) }),
          active({ endsAt: later(7 * DAY) }),
          active({ endsAt: later(7 * DAY + 1) }),
          active({ endsAt: later(30 * DAY) }),
          active({ endsAt: later(30 * DAY + 1) }),
        ];
        const theirs = [
          offer({ ...NORTHWIND, state: 'expired' }),
          offer({ ...NORTHWIND, state: 'sent' }),
          relationship({ ...NORTHWIND, state: 'expired' }),
          active({ ...NORTHWIND, endsAt: later(60) }),
        ];
        for (const row of [...theirs, ...mine]) await create(row);

        const summary = await store.pipeline.summary(TENANT.fabrikam, now);
        expect(summary).toEqual({
          offers: { ...noOffers, sent: 3, accepted: 2, declined: 1 },
          relationships: { ...noRelationships, approvalPending: 2, declined: 1, terminated: 1, active: 11 },
          expiring: { within1: 2, within7: 4, within30: 6 },
        });
        expect(Object.keys(summary.offers).sort()).toEqual(Object.keys(noOffers).sort());
        expect(Object.keys(summary.relationships).sort()).toEqual(Object.keys(noRelationships).sort());
        expect((await store.pipeline.summary(TENANT.northwind, now)).expiring).toEqual({ within1: 1, within7: 1, within30: 1 });
        // `now` is the argument's, not the store's clock; any ISO form of it.
        expect((await store.pipeline.summary(TENANT.fabrikam, later(DAY))).expiring).toEqual({ within1: 1, within7: 3, within30: 5 });
        expect((await store.pipeline.summary(TENANT.fabrikam, new Date(now).toISOString().replace('.000Z', 'Z'))).expiring).toEqual({
          within1: 2,
          within7: 4,
          within30: 6,
        });
      });

      it('follows decisions: an approved delegation counts as expiring as its end nears; a revoked one no longer', async () => {
        const r = await create(relationship({ state: 'approvalPending' }));
        clock.now = new Date(plus(T0, 5));
        await store.relationships.decide(approval(r, null));
        const approved = (await store.relationships.get(r.id))!;
        expect(approved.state).toBe('active');
        const before = plusDays(approved.endsAt!, -1);
        expect(await store.pipeline.summary(TENANT.fabrikam, before)).toEqual({
          offers: noOffers,
          relationships: { ...noRelationships, active: 1 },
          expiring: { within1: 1, within7: 1, within30: 1 },
        });
        expect((await store.pipeline.summary(TENANT.fabrikam, nowIso())).expiring).toEqual({ within1: 0, within7: 0, within30: 0 });
        await store.relationships.decide(revocation(approved, alex));
        expect(await store.pipeline.summary(TENANT.fabrikam, before)).toEqual({
          offers: noOffers,
          relationships: { ...noRelationships, terminated: 1 },
          expiring: { within1: 0, within7: 0, within30: 0 },
        });
      });
    });
  });
}
