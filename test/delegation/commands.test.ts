import { parseDelegate, parseRelationshipId } from '../../src/delegation/commands';
import { UserInputError } from '../../src/errors';
import { errorOf } from '../support/errors';

describe('delegate command', () => {
  it('asks for full administration by default: no roles, no duration, no auto-extend', () => {
    expect(parseDelegate('Admin@Contoso.com')).toEqual({ kind: 'request', approverEmail: 'admin@contoso.com', autoExtend: false });
  });

  it('reads roles (names with spaces, comma separated), days and auto-extend', () => {
    expect(parseDelegate('admin@contoso.com roles Exchange Administrator, User Administrator days 365 auto-extend')).toEqual({
      kind: 'request',
      approverEmail: 'admin@contoso.com',
      roles: ['Exchange Administrator', 'User Administrator'],
      days: 365,
      autoExtend: true,
    });
  });

  it('takes the options in any order', () => {
    expect(parseDelegate('admin@contoso.com auto-extend days 30 roles Helpdesk Administrator')).toEqual({
      kind: 'request',
      approverEmail: 'admin@contoso.com',
      roles: ['Helpdesk Administrator'],
      days: 30,
      autoExtend: true,
    });
    expect(parseDelegate('admin@contoso.com days 90')).toMatchObject({ days: 90, autoExtend: false });
  });

  it('reads delegate revoke <id>, in any case', () => {
    expect(parseDelegate('revoke d-4k7p2q')).toEqual({ kind: 'revoke', id: 'D-4K7P2Q' });
    expect(parseDelegate('REVOKE R-4K7P2Q')).toEqual({ kind: 'revoke', id: 'R-4K7P2Q' });
  });

  it.each([
    ['', "Tell me who it is for: the customer approver's email address comes first."],
    ['contoso roles User Administrator', '"contoso" is not an email address. Put the customer approver\'s email first.'],
    ['admin@contoso.com days 0', 'The duration is 1 to 730 days.'],
    ['admin@contoso.com days 731', 'The duration is 1 to 730 days (two years at most).'],
    ['admin@contoso.com days two', '"two" is not a number of days. Write it like "days 365".'],
    ['admin@contoso.com roles', 'Name at least one role after "roles", separated by commas.'],
    ['admin@contoso.com roles , ,', 'Name at least one role after "roles", separated by commas.'],
    [
      'admin@contoso.com please',
      'I don\'t understand "please". After the email come, in any order: roles ‹role›, ‹role›; days ‹1-730›; auto-extend.',
    ],
  ])('refuses %j with a message that says what to fix', (args, message) => {
    const err = errorOf(() => parseDelegate(args));
    expect(err.message).toBe(message);
    expect(err.example).toBe('delegate admin@contoso.com roles Exchange Administrator, User Administrator days 365 auto-extend');
  });

  it.each([
    ['revoke', 'Which relationship? Give its id, like D-4K7P2Q.'],
    ['revoke T-4K7P2Q', '"T-4K7P2Q" is not a delegated-admin id. Those look like D-4K7P2Q (or R-4K7P2Q for partner of record).'],
  ])('refuses %j', (args, message) => {
    const err = errorOf(() => parseDelegate(args));
    expect(err.message).toBe(message);
    expect(err.example).toBe('delegate revoke D-4K7P2Q');
  });

  it('parses relationship ids typed by people', () => {
    expect(parseRelationshipId(' r-4k7p2q ', 'x')).toBe('R-4K7P2Q');
    expect(() => parseRelationshipId('D-0OIL11', 'x')).toThrow(UserInputError);
  });
});
