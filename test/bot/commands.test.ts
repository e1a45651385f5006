import { createCommandRouter, type CommandContext } from '../../src/bot/commands';
import type { Partner } from '../../src/directory/partners';
import { UserInputError } from '../../src/errors';
import { partnerPerson } from '../support/fixtures';

const partner: Partner = { tenantId: 'p1', name: 'Fabrikam', programs: [], authorizedServices: ['x'], cloud: 'global' };
const ctx = (p: Partner | null): CommandContext => ({ actor: partnerPerson, partner: p, conversationId: 'c' });

function router() {
  const r = createCommandRouter();
  r.register({
    name: 'trial',
    audience: 'partner',
    usage: 'trial <email> <service>',
    description: '',
    run: async (args) => ({ text: `trial(${args})` }),
  });
  r.register({ name: 'offers', audience: 'customer', usage: 'offers', description: '', run: async () => ({ text: 'offers' }) });
  r.register({ name: 'help', audience: 'anyone', usage: 'help', description: '', run: async () => ({ text: 'help' }) });
  return r;
}

const rejection = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (err) {
    if (err instanceof UserInputError) return err;
  }
  throw new Error('expected a UserInputError');
};

describe('command router', () => {
  it('matches the command word case-insensitively and passes the rest on untouched', async () => {
    expect(await router().dispatch('  TRIAL Admin@Contoso.com x ', ctx(partner))).toEqual({ text: 'trial(Admin@Contoso.com x)' });
  });

  it('suggests the closest command for a typo, with its usage as the example', async () => {
    const err = await rejection(router().dispatch('tria admin@contoso.com', ctx(partner)));
    expect(err.message).toBe('I don\'t know "tria". Did you mean trial?');
    expect(err.example).toBe('trial <email> <service>');
  });

  it('explains partner commands to customers and customer commands to partners', async () => {
    expect((await rejection(router().dispatch('trial a@b.c x', ctx(null)))).message).toMatch(
      /^trial is for partner organisations registered with this bot/,
    );
    expect((await rejection(router().dispatch('offers', ctx(partner)))).message).toMatch(/^offers is for customers answering offers/);
  });

  it('lists only the commands a person may use', () => {
    expect(
      router()
        .available({ partner })
        .map((s) => s.name),
    ).toEqual(['trial', 'help']);
    expect(
      router()
        .available({ partner: null })
        .map((s) => s.name),
    ).toEqual(['offers', 'help']);
  });

  it('refuses to register a command twice', () => {
    const r = router();
    expect(() => r.register({ name: 'help', audience: 'anyone', usage: '', description: '', run: async () => ({}) })).toThrow(
      /registered twice/,
    );
  });
});
