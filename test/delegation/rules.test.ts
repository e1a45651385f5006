import { addDays } from '../../src/clock';
import type { Partner } from '../../src/directory/partners';
import { ENTRA_ROLES, findRole, suggestRoles } from '../../src/delegation/roles';
import {
  approve,
  assertCanDelegate,
  decline,
  dueStep,
  end,
  isRequestExpired,
  newRelationship,
  pendingKey,
  resolveAccess,
  defaultRoles,
  LEAST_PRIVILEGED_ROLES,
  withDue,
} from '../../src/delegation/rules';
import type { Relationship } from '../../src/delegation/types';
import { errorOf } from '../support/errors';
import { approverPerson, delegation, partnerPerson } from '../support/fixtures';

/** The message of the UserInputError `fn` throws. */
const message = (fn: () => unknown): string => errorOf(fn).message;

const partner: Partner = {
  tenantId: 'p1',
  name: 'Fabrikam Cloud Partners',
  programs: ['cloud-essentials'],
  authorizedServices: ['teams-essentials'],
  cloud: 'global',
};
const T0 = new Date('2026-11-25T09:00:00.000Z');
const days = (n: number) => addDays(T0, n);

describe('who may ask for delegated administration', () => {
  it('needs Cloud Essentials, Cloud Accelerate or Cloud Deployment', () => {
    expect(message(() => assertCanDelegate({ ...partner, programs: [] }, {}, 'ex'))).toBe(
      'Delegated administration needs enrolment in Cloud Essentials, Cloud Accelerate or Cloud Deployment, and Fabrikam Cloud Partners is not enrolled in any of them. Ask the people who run this bot to update your partner programmes once you are.',
    );
    for (const program of ['cloud-essentials', 'cloud-accelerate', 'cloud-deployment'] as const) {
      expect(() => assertCanDelegate({ ...partner, programs: [program] }, {}, 'ex')).not.toThrow();
    }
  });

  it('when the partner lists admin agents, only they may (by email or UPN, any case)', () => {
    const withAgents = { ...partner, adminAgents: ['Agent@Fabrikam.example'] };
    expect(message(() => assertCanDelegate(withAgents, { email: 'someone@fabrikam.example' }, 'ex'))).toBe(
      "Only Fabrikam Cloud Partners' admin agents may ask customers for delegated administration, and you are not on that list. Ask one of them, or ask the people who run this bot to add you.",
    );
    expect(() => assertCanDelegate(withAgents, { email: 'x@y.z', upn: 'agent@fabrikam.example' }, 'ex')).not.toThrow();
    expect(() => assertCanDelegate(partner, { email: 'anyone@fabrikam.example' }, 'ex')).not.toThrow();
  });
});

describe('roles and duration', () => {
  it('has a built-in list of Entra roles, each with a template id and plain words', () => {
    expect(ENTRA_ROLES.length).toBeGreaterThanOrEqual(30);
    expect(findRole('  global   ADMINISTRATOR ')).toMatchObject({
      id: '62e90394-69f5-4237-9190-012177145e10',
      name: 'Global Administrator',
    });
    expect(new Set(ENTRA_ROLES.map((r) => r.id)).size).toBe(ENTRA_ROLES.length);
  });

  it("asks for the partner's default roles when none are named, else the least-privileged set: never Global Administrator unless named", () => {
    expect(resolveAccess(undefined, false, 'ex', defaultRoles({}))).toEqual({ kind: 'roles', roles: [...LEAST_PRIVILEGED_ROLES] });
    expect(LEAST_PRIVILEGED_ROLES).not.toContain('Global Administrator');
    expect(resolveAccess(undefined, true, 'ex', defaultRoles({ defaultAdminRoles: ['Exchange Administrator'] }))).toEqual({
      kind: 'roles',
      roles: ['Exchange Administrator'],
    });
  });

  it('resolves names in any case, once each, in the order given', () => {
    expect(resolveAccess(['exchange administrator', 'User Administrator', 'Exchange Administrator'], true, 'ex', [])).toEqual({
      kind: 'roles',
      roles: ['Exchange Administrator', 'User Administrator'],
    });
  });

  it('suggests the closest role names for an unknown one', () => {
    expect(message(() => resolveAccess(['Exchange Admin'], false, 'ex', []))).toBe(
      '"Exchange Admin" is not an Entra built-in role I know. Did you mean Exchange Administrator? Use the role\'s full name, like Exchange Administrator.',
    );
    expect(suggestRoles('Usr Administrator')).toContain('User Administrator');
    expect(suggestRoles('exchange')).toEqual(expect.arrayContaining(['Exchange Administrator', 'Exchange Recipient Administrator']));
  });

  it('refuses auto-extend with Global Administrator, named or in the default roles', () => {
    expect(message(() => resolveAccess(['Global Administrator', 'User Administrator'], true, 'ex', []))).toBe(
      'Auto-extend cannot be combined with Global Administrator. Remove one of them.',
    );
    expect(message(() => resolveAccess(undefined, true, 'ex', ['Global Administrator']))).toBe(
      'Auto-extend cannot be combined with Global Administrator. Remove one of them.',
    );
    expect(resolveAccess(['Global Administrator'], false, 'ex', [])).toEqual({ kind: 'roles', roles: ['Global Administrator'] });
  });
});

describe('requests', () => {
  const draft = {
    kind: 'delegation' as const,
    partnerTenantId: 'p1',
    approverEmail: 'admin@contoso.com',
    access: { kind: 'full' as const },
    durationDays: 730,
    autoExtend: false,
  };

  it('is open for 90 days; delivered at once when the approver is known, else waits for the install', () => {
    const sent = newRelationship(draft, { id: 'D-2', partnerName: 'F', issuedBy: partnerPerson, approver: approverPerson, now: T0 });
    expect(sent).toMatchObject({
      state: 'approvalPending',
      customerTenantId: approverPerson.tenantId,
      requestExpiresAt: days(90).toISOString(),
      dueAt: days(90).toISOString(),
    });
    const waiting = newRelationship(draft, { id: 'D-3', partnerName: 'F', issuedBy: partnerPerson, now: T0 });
    expect(waiting.state).toBe('awaitingDelivery');
    expect(waiting.pendingKey).toBe(pendingKey(draft));
    expect(isRequestExpired(waiting, days(89.9))).toBe(false);
    expect(isRequestExpired(waiting, days(90))).toBe(true);
  });

  it('attached to an offer it is answerable on that card and has no duplicate key of its own', () => {
    const attached = newRelationship({ ...draft, offerId: 'T-2' }, { id: 'D-4', partnerName: 'F', issuedBy: partnerPerson, now: T0 });
    expect(attached.state).toBe('approvalPending');
    expect(attached.pendingKey).toBeUndefined();
  });

  it('identical requests share a duplicate key; different roles, duration or auto-extend do not', () => {
    const roles = { ...draft, access: { kind: 'roles' as const, roles: ['User Administrator', 'Exchange Administrator'] } };
    expect(pendingKey(roles)).toBe(
      pendingKey({ ...roles, access: { kind: 'roles', roles: ['Exchange Administrator', 'User Administrator'] } }),
    );
    expect(pendingKey(roles)).not.toBe(pendingKey(draft));
    expect(pendingKey(draft)).not.toBe(pendingKey({ ...draft, durationDays: 365 }));
    expect(pendingKey(roles)).not.toBe(pendingKey({ ...roles, autoExtend: true }));
  });

  it('approve: active with its end date, what it replaced, and the first reminder due 30 days before the end', () => {
    const r = approve(delegation({ durationDays: 365 }), approverPerson, T0, {
      id: 'D-OLD',
      partnerTenantId: 'p2',
      partnerName: 'Northwind',
    });
    expect(r).toMatchObject({
      state: 'active',
      version: 3,
      activatedAt: T0.toISOString(),
      endsAt: days(365).toISOString(),
      replaced: { partnerName: 'Northwind' },
    });
    expect(r.pendingKey).toBeUndefined();
    expect(r.dueAt).toBe(days(335).toISOString());
  });

  it('a partner of record has no end date and nothing due once designated', () => {
    const r = approve(delegation({ kind: 'por', id: 'R-2' }), approverPerson, T0);
    expect(r.endsAt).toBeUndefined();
    expect(r.dueAt).toBeUndefined();
  });

  it('decline and end leave nothing due', () => {
    expect(decline(delegation(), approverPerson, T0)).toMatchObject({ state: 'declined', decidedAt: T0.toISOString() });
    expect(decline(delegation(), approverPerson, T0).dueAt).toBeUndefined();
    const replaced = end(active(365), 'replaced', T0, { id: 'D-NEW', partnerTenantId: 'p2', partnerName: 'Northwind' });
    expect(replaced).toMatchObject({ state: 'terminated', endReason: 'replaced', replacedBy: { id: 'D-NEW' } });
    expect(replaced.dueAt).toBeUndefined();
    expect(end(delegation(), 'expired', T0).state).toBe('expired');
  });
});

/** An active relationship approved at T0 for `n` days. */
const active = (n: number, over: Partial<Relationship> = {}) =>
  approve(delegation({ durationDays: n, autoExtend: false, ...over }), approverPerson, T0);

describe('time', () => {
  it('an unanswered request expires after 90 days, not before', () => {
    expect(dueStep(delegation({ requestExpiresAt: days(90).toISOString() }), days(89))).toBeUndefined();
    expect(dueStep(delegation({ requestExpiresAt: days(90).toISOString() }), days(90))).toMatchObject({
      next: { state: 'expired', endReason: 'expired' },
      event: { kind: 'requestExpired' },
    });
  });

  it('reminds 30, 7 and 1 days before the end, once each, then ends it', () => {
    let r = active(100);
    const events: string[] = [];
    for (let d = 0; d <= 101; d += 0.5) {
      const step = dueStep(r, days(d));
      if (!step) continue;
      events.push(`${d}:${step.event.kind}${step.event.kind === 'reminder' ? step.event.daysLeft : ''}`);
      r = step.next;
      expect(dueStep(r, days(d))).toBeUndefined();
    }
    expect(events).toEqual(['70:reminder30', '93:reminder7', '99:reminder1', '100:ended']);
    expect(r).toMatchObject({ state: 'expired', endReason: 'expired' });
    expect(r.dueAt).toBeUndefined();
  });

  it('after an outage sends only the reminder that still applies', () => {
    const step = dueStep(active(100), days(95))!;
    expect(step.event).toEqual({ kind: 'reminder', daysLeft: 5 });
    expect(step.next.remindersSent?.sort()).toEqual([30, 7]);
    expect(step.next.dueAt).toBe(days(99).toISOString());
  });

  it('auto-extend adds 180 days at the end, as often as needed, and the reminders start again', () => {
    const r = active(100, { autoExtend: true });
    const step = dueStep({ ...r, remindersSent: [30, 7, 1] }, days(100))!;
    expect(step.event).toEqual({ kind: 'extended' });
    expect(step.next).toMatchObject({ state: 'active', endsAt: days(280).toISOString(), extensions: 1, remindersSent: [] });
    expect(step.next.dueAt).toBe(days(250).toISOString());
    const late = dueStep({ ...r, remindersSent: [30, 7, 1] }, days(500))!;
    expect(late.next).toMatchObject({ endsAt: days(640).toISOString(), extensions: 3 });
  });

  it('withDue clears the due time of a relationship that has nothing left to happen', () => {
    expect(withDue({ ...delegation(), state: 'declined' }).dueAt).toBeUndefined();
  });
});
