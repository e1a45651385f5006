import { createCardRenderer, MAX_CARD_BYTES } from '../../src/cards/render';
import { parseDelegate } from '../../src/delegation/commands';
import rolesFile from '../../src/delegation/entra-roles.json';
import { createDelegationMessages } from '../../src/delegation/messages';
import { ENTRA_ROLES, findRole, suggestRoles } from '../../src/delegation/roles';
import { resolveAccess } from '../../src/delegation/rules';
import { errorOf } from '../support/errors';
import { delegation } from '../support/fixtures';

/** The roles a partner's `delegate` command would ask for, as the bot reads and resolves it. */
function requested(command: string) {
  const parsed = parseDelegate(command);
  if (parsed.kind !== 'request') throw new Error(`not a request: ${command}`);
  return resolveAccess(parsed.roles, parsed.autoExtend, 'ex', []);
}

describe('the Entra built-in roles a partner can ask for', () => {
  it.each([
    ['Hybrid Identity Administrator', '8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2'],
    ['Global Secure Access Administrator', 'ac434307-12b9-4fa1-a708-88bf58caabc1'],
    ['Teams Telephony Administrator', 'aa38014f-0993-46e9-9b45-30501a20909d'],
    ['Attack Simulation Administrator', 'c430b396-e693-46cc-96f3-db01bf8bb62a'],
    ['Windows 365 Administrator', '11451d60-acb2-45eb-a7d6-43d0f0125c13'],
  ])('accepts "delegate ... roles %s" with template id %s', (name, id) => {
    expect(requested(`admin@contoso.com roles ${name.toLowerCase()}, User Administrator days 90`)).toEqual({
      kind: 'roles',
      roles: [name, 'User Administrator'],
    });
    expect(findRole(name)?.id).toBe(id);
  });

  it('refuses the roles Microsoft says not to use, which GDAP cannot grant', () => {
    for (const name of [
      'Partner Tier1 Support',
      'Partner Tier2 Support',
      'Directory Synchronization Accounts',
      'Microsoft 365 Support Engineer',
    ]) {
      expect(errorOf(() => requested(`admin@contoso.com roles ${name}`)).message).toContain(
        `"${name}" is not an Entra built-in role I know.`,
      );
    }
  });

  it('names where the list comes from and when it was taken', () => {
    expect(rolesFile.source).toBe('https://learn.microsoft.com/entra/identity/role-based-access-control/permissions-reference');
    expect(rolesFile.retrieved).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(rolesFile.note).toContain('Partner Tier2 Support');
  });

  it('gives every role a template GUID, a unique name and id, and one plain sentence', () => {
    expect(ENTRA_ROLES.length).toBeGreaterThanOrEqual(100);
    for (const role of ENTRA_ROLES) {
      expect(role.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      // One sentence: a capital, a full stop at the end, and no full stop, question or exclamation mark before it.
      expect(role.allows).toMatch(/^[A-Z][^.!?]*\.$/);
    }
    expect(new Set(ENTRA_ROLES.map((r) => r.id)).size).toBe(ENTRA_ROLES.length);
    expect(new Set(ENTRA_ROLES.map((r) => r.name.toLowerCase())).size).toBe(ENTRA_ROLES.length);
  });

  it('matches a short role name only as a whole word when suggesting', () => {
    expect(suggestRoles('Mail Admin')).not.toContain('AI Administrator');
    expect(suggestRoles('ai')).toContain('AI Administrator');
  });

  it('fits a request for every role on one card, for the customer and the partner', () => {
    const messages = createDelegationMessages(createCardRenderer());
    const everyRole = delegation({ access: { kind: 'roles', roles: ENTRA_ROLES.map((r) => r.name) } });
    // render throws over the limit; the byte count shows how much room is left.
    const card = messages.requestCardJson(everyRole, null);
    expect(Buffer.byteLength(JSON.stringify(card))).toBeLessThan(MAX_CARD_BYTES);
    expect(JSON.stringify(card)).toContain('Hybrid Identity Administrator');
    expect(() => messages.issued(everyRole, 'https://teams.microsoft.com/l/app/x')).not.toThrow();
  });
});
