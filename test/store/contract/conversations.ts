import type { Store } from '../../../src/store/types';
import { T0, TENANT, conversation, lee, megan, plus } from '../support/fixtures';
import type { ContractContext } from './context';

/** `one handle` > `conversations`: where the bot can reach a person. */
export function conversationsContract(ctx: ContractContext): void {
  let store: Store;
  beforeEach(() => (store = ctx.store()));

  /** Megan's chat, her email and UPN stored in the case Teams gave them. */
  const withMixedCaseAddresses = () =>
    conversation(megan, {
      user: {
        aadObjectId: megan.aadObjectId,
        userId: megan.userId,
        name: megan.name,
        email: 'Megan.Bowen@Contoso.com',
        upn: 'MeganB@Contoso.onmicrosoft.com',
      },
    });

  describe('conversations', () => {
    it('upsert then get returns the record as given, email and UPN in their original case; upsert replaces', async () => {
      const c = withMixedCaseAddresses();
      await store.conversations.upsert(c);
      expect(await store.conversations.get(c.id)).toEqual(c);

      const later = { ...c, updatedAt: plus(T0, 5), reference: { ...c.reference, activityId: 'f:later' } };
      await store.conversations.upsert(later);
      expect(await store.conversations.get(c.id)).toEqual(later);
      expect(await store.conversations.get('a:1unknown')).toBeNull();
    });

    it('findPersonal returns the most recently updated active personal chat of that user, never an inactive one or a channel', async () => {
      const older = conversation(megan, { updatedAt: plus(T0, -60) });
      const newer = conversation(megan, { updatedAt: plus(T0, -10) });
      const newestInactive = conversation(megan, { updatedAt: plus(T0, -1), active: false, inactiveReason: 'uninstalled' });
      const channel = { ...conversation(megan, { updatedAt: T0 }), kind: 'channel' as const, id: '19:general@thread.tacv2' };
      for (const c of [newer, older, newestInactive, channel]) await store.conversations.upsert(c);

      expect(await store.conversations.findPersonal(TENANT.contoso, megan.aadObjectId)).toEqual(newer);
      expect(await store.conversations.findPersonal(TENANT.litware, megan.aadObjectId)).toBeNull();
      expect(await store.conversations.findPersonal(TENANT.contoso, lee.aadObjectId)).toBeNull();
    });

    it('findPersonalByEmail matches email and UPN in any case', async () => {
      const c = withMixedCaseAddresses();
      await store.conversations.upsert(c);
      await store.conversations.upsert(conversation(lee));

      expect(await store.conversations.findPersonalByEmail('megan.bowen@contoso.com')).toEqual(c);
      expect(await store.conversations.findPersonalByEmail('MEGAN.BOWEN@CONTOSO.COM')).toEqual(c);
      expect(await store.conversations.findPersonalByEmail('meganb@contoso.onmicrosoft.com')).toEqual(c);
      expect(await store.conversations.findPersonalByEmail('MeganB@CONTOSO.onmicrosoft.COM')).toEqual(c);
      expect(await store.conversations.findPersonalByEmail('megan@contoso.com')).toBeNull();
    });

    it('findPersonalByEmail returns the most recently updated active chat and skips inactive ones', async () => {
      const first = conversation(megan, { updatedAt: plus(T0, -30) });
      const second = conversation(megan, { updatedAt: plus(T0, -20) });
      const third = conversation(megan, { updatedAt: plus(T0, -10), active: false, inactiveReason: 'ConversationBlockedByUser' });
      const group = { ...conversation(megan, { updatedAt: T0 }), kind: 'groupChat' as const, id: '19:meeting_abc@thread.v2' };
      for (const c of [second, third, first, group]) await store.conversations.upsert(c);
      expect(await store.conversations.findPersonalByEmail(megan.email!)).toEqual(second);

      await store.conversations.upsert({ ...first, updatedAt: plus(T0, -5) });
      expect((await store.conversations.findPersonalByEmail(megan.email!))?.id).toBe(first.id);
    });

    it('deactivate marks the record inactive with its reason and time, and lookups stop finding it', async () => {
      const c = conversation(megan);
      await store.conversations.upsert(c);
      const at = plus(T0, 15);
      await store.conversations.deactivate(c.id, 'BotNotInConversationRoster', at);

      expect(await store.conversations.get(c.id)).toEqual({
        ...c,
        active: false,
        inactiveReason: 'BotNotInConversationRoster',
        updatedAt: at,
      });
      expect(await store.conversations.findPersonal(TENANT.contoso, megan.aadObjectId)).toBeNull();
      expect(await store.conversations.findPersonalByEmail(megan.email!)).toBeNull();

      // Installing again makes it active (the bot upserts the full record).
      await store.conversations.upsert({ ...c, updatedAt: plus(T0, 30) });
      expect((await store.conversations.findPersonal(TENANT.contoso, megan.aadObjectId))?.id).toBe(c.id);
    });
  });
}
