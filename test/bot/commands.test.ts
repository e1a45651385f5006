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

describe('the corrected command an error offers', () => {
  const withService = () => {
    const r = router();
    r.register({
      name: 'offer',
      audience: 'partner',
      usage: 'offer <email> <qty> <service>',
      description: '',
      run: async (args) => {
        throw new UserInputError(`I don't know the service in ${args}.`, undefined, undefined, {
          typed: 'teams  esentials',
          instead: 'teams-essentials',
        });
      },
    });
    return r;
  };

  it('is the whole command with the one close command word, the rest as typed', async () => {
    const err = await rejection(router().dispatch('Trail Admin@Contoso.com x', ctx(partner)));
    expect(err.corrected).toBe('trial Admin@Contoso.com x');
  });

  it('is absent when two commands are as close', async () => {
    const err = await rejection(withService().dispatch('trifer a@b.com 1 x', ctx(partner)));
    expect(err.message).toMatch(/Did you mean/);
    expect(err.corrected).toBeUndefined();
  });

  it("makes a part's correction in the whole command, wherever the part was typed", async () => {
    const err = await rejection(withService().dispatch('offer a@b.com 5 Teams esentials, 2 y monthly', ctx(partner)));
    expect(err.corrected).toBe('offer a@b.com 5 teams-essentials, 2 y monthly');
  });

  it('is absent when the part was typed twice: which one to change is a guess', async () => {
    const err = await rejection(withService().dispatch('offer a@b.com 5 teams esentials, 2 teams esentials monthly', ctx(partner)));
    expect(err.corrected).toBeUndefined();
  });
});
