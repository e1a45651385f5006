import { possessive } from '../cards/format';
import { createHash } from 'node:crypto';
import { addDays, DAY_MS } from '../clock';
import type { Partner } from '../directory/partners';
import { UserInputError, quoted } from '../errors';
import type { Person } from '../offers/types';
import { findRole, GLOBAL_ADMINISTRATOR, suggestRoles } from './roles';
import type { Access, EndReason, EndRequest, PartnerRef, Relationship, RelationshipKind } from './types';
import { OPEN_REQUEST_STATES } from './types';

/** An unanswered request expires after this long. */
export const REQUEST_VALIDITY_DAYS = 90;
export const MIN_DURATION_DAYS = 1;
export const MAX_DURATION_DAYS = 730;
export const DEFAULT_DURATION_DAYS = 730;
/** What auto-extend adds each time an active relationship reaches its end. */
export const AUTO_EXTEND_DAYS = 180;
/** Both sides hear this many days before an active relationship ends (or is extended). */
export const REMINDER_DAYS = [30, 7, 1] as const;

/** The partner programmes whose members may hold delegated administration. */
export const DELEGATION_PROGRAMS = ['cloud-essentials', 'cloud-accelerate', 'cloud-deployment'] as const;
const PROGRAM_NAMES = 'Cloud Essentials, Cloud Accelerate or Cloud Deployment';

export const isOpen = (r: Relationship): boolean => OPEN_REQUEST_STATES.includes(r.state);

/** A Graph-backed request expires when Graph says so (90 days after it was locked for approval), not by our clock. */
export const isRequestExpired = (r: Relationship, now: Date): boolean =>
  isOpen(r) && !atMicrosoft(r) && now.toISOString() >= r.requestExpiresAt;

/** Delegated administration is for partners in the programmes, and only their admin agents when they name any. */
export function assertCanDelegate(partner: Partner, actor: { email?: string; upn?: string }, example: string): void {
  if (!partner.programs.some((p) => (DELEGATION_PROGRAMS as readonly string[]).includes(p))) {
    throw new UserInputError(
      `Delegated administration needs enrolment in ${PROGRAM_NAMES}, and ${partner.name} is not enrolled in any of them. Ask the people who run this bot to update your partner programmes once you are.`,
      undefined,
      'Not enrolled for delegated administration',
    );
  }
  assertAdminAgent(partner, actor, example);
}

/** When the partner lists admin agents, only they manage delegated administration (asking for it, or ending it). */
export function assertAdminAgent(partner: Partner, actor: { email?: string; upn?: string }, example: string): void {
  const agents = (partner.adminAgents ?? []).map((a) => a.toLowerCase());
  if (agents.length === 0) return;
  const mine = [actor.email, actor.upn].filter((x): x is string => !!x).map((x) => x.toLowerCase());
  if (mine.length === 0) {
    throw new UserInputError(
      `Only ${possessive(partner.name)} admin agents may do this, and Teams has not told me your email address yet, so I cannot check. Send me any message in a 1:1 chat once, then try again.`,
      example,
      'Only for admin agents',
    );
  }
  if (!mine.some((m) => agents.includes(m))) {
    throw new UserInputError(
      `Only ${possessive(partner.name)} admin agents may ask customers for delegated administration, and you are not on that list. Ask one of them, or ask the people who run this bot to add you.`,
      example,
      'Only for admin agents',
    );
  }
}

/**
 * What a request asks for when the partner names no roles and its partners-file entry names no `defaultAdminRoles`:
 * day-to-day Microsoft 365 administration without Global Administrator (Microsoft's advice for GDAP is the least
 * privileged role per task; see learn.microsoft.com "Least privileged roles by task in Microsoft Entra ID" and Partner
 * Center's "GDAP roles by workload"). Read everything, open support requests, reset passwords, manage users and
 * licences; anything more is asked for by name.
 */
export const LEAST_PRIVILEGED_ROLES: readonly string[] = [
  'Global Reader',
  'Service Support Administrator',
  'Helpdesk Administrator',
  'User Administrator',
  'License Administrator',
];

/** The partner's default role set (partners file `defaultAdminRoles`), else the least-privileged one above. */
export const defaultRoles = (partner: Pick<Partner, 'defaultAdminRoles'>): string[] => [
  ...(partner.defaultAdminRoles?.length ? partner.defaultAdminRoles : LEAST_PRIVILEGED_ROLES),
];

/**
 * Role names as typed -> the access to ask for; the partner's default roles when none are named. Full administration
 * (Global Administrator) only when it is named.
 */
export function resolveAccess(roles: string[] | undefined, autoExtend: boolean, example: string, defaults: string[]): Access {
  roles ??= defaults;
  const names: string[] = [];
  for (const typed of roles) {
    const role = findRole(typed);
    if (!role) {
      const close = suggestRoles(typed);
      throw new UserInputError(
        `${quoted(typed)} is not an Entra built-in role I know.${close.length ? ` Did you mean ${close.join(', ')}?` : ''} Use the role's full name, like Exchange Administrator.`,
        example,
        'Unknown role',
      );
    }
    if (!names.includes(role.name)) names.push(role.name);
  }
  if (autoExtend && names.includes(GLOBAL_ADMINISTRATOR)) {
    throw new UserInputError(
      'Auto-extend cannot be combined with Global Administrator. Remove one of them.',
      example,
      'Auto-extend not allowed',
    );
  }
  return { kind: 'roles', roles: names };
}

export type RelationshipDraft = Pick<
  Relationship,
  'kind' | 'partnerTenantId' | 'approverEmail' | 'access' | 'durationDays' | 'autoExtend' | 'offerId'
>;

/** Identical open requests from one partner to one approver share this key; the store keeps it unique. */
export function pendingKey(d: RelationshipDraft): string {
  const access = d.access?.kind === 'roles' ? [...d.access.roles].sort().join(',') : (d.access?.kind ?? '');
  return createHash('sha256')
    .update([d.kind, d.partnerTenantId, d.approverEmail, access, d.durationDays ?? '', d.autoExtend ? 'auto' : ''].join('|'))
    .digest('hex');
}

/**
 * A new request. On its own it is delivered at once when the approver is known, otherwise it waits for them to
 * install the app; attached to an offer it travels on that offer's card and is answerable once the card arrives.
 */
export function newRelationship(
  draft: RelationshipDraft,
  o: { id: string; partnerName: string; issuedBy: Person; approver?: Person; now: Date },
): Relationship {
  const ready = !!o.approver || !!draft.offerId;
  const r: Relationship = {
    ...draft,
    id: o.id,
    state: ready ? 'approvalPending' : 'awaitingDelivery',
    version: 1,
    partnerName: o.partnerName,
    issuedBy: o.issuedBy,
    approver: o.approver,
    customerTenantId: o.approver?.tenantId,
    createdAt: o.now.toISOString(),
    requestExpiresAt: addDays(o.now, REQUEST_VALIDITY_DAYS).toISOString(),
    deliveredAt: o.approver && !draft.offerId ? o.now.toISOString() : undefined,
    // Attached requests ride on the offer's duplicate guard.
    pendingKey: draft.offerId ? undefined : pendingKey(draft),
  };
  return withDue(r);
}

/** The next reminder not yet sent for the current end, as days before it. */
const nextReminder = (r: Relationship): number | undefined => REMINDER_DAYS.find((d) => !(r.remindersSent ?? []).includes(d));

/** When the next reminder is due for an active relationship with an end, if any is left. */
const reminderDue = (r: Relationship): string | undefined => {
  if (r.state !== 'active' || !r.endsAt) return undefined;
  const d = nextReminder(r);
  return d === undefined ? undefined : addDays(new Date(r.endsAt), -d).toISOString();
};

/** Created at Microsoft: its expiry, end and extensions are Graph's to report, not our clock's. */
export const atMicrosoft = (r: Relationship): boolean => !!r.graph?.id;

/**
 * When the sweeper next has something to do with this relationship: its request expiry, reminder or end, and for a
 * Graph-backed one the next time the watcher reads Graph (or a watcher's lease runs out).
 */
export function withDue(r: Relationship): Relationship {
  const times: (string | undefined)[] = [r.graph ? (r.graph.leaseUntil ?? r.graph.nextCheckAt) : undefined];
  if (isOpen(r) && !atMicrosoft(r)) times.push(r.requestExpiresAt);
  else if (r.state === 'active' && r.endsAt) times.push(reminderDue(r) ?? (atMicrosoft(r) ? undefined : r.endsAt));
  const dueAt = times.filter((t): t is string => !!t).sort()[0];
  const { dueAt: _old, ...rest } = r;
  return dueAt ? { ...rest, dueAt } : rest;
}

const settled = (r: Relationship): Relationship => {
  const { pendingKey: _key, ...rest } = r;
  return rest;
};

/** The request as approved: active from now, with its end date (delegation) and what it replaced. */
export function approve(r: Relationship, approver: Person, now: Date, replaced?: PartnerRef): Relationship {
  return withDue({
    ...settled(r),
    state: 'active',
    version: r.version + 1,
    approver,
    customerTenantId: approver.tenantId,
    decidedAt: now.toISOString(),
    activatedAt: now.toISOString(),
    endsAt: r.kind === 'delegation' ? addDays(now, r.durationDays ?? DEFAULT_DURATION_DAYS).toISOString() : undefined,
    remindersSent: [],
    ...(replaced ? { replaced } : {}),
  });
}

export function decline(r: Relationship, approver: Person, now: Date): Relationship {
  return withDue({
    ...settled(r),
    state: 'declined',
    version: r.version + 1,
    approver,
    customerTenantId: approver.tenantId,
    decidedAt: now.toISOString(),
  });
}

/** Ends an active relationship (revoked, replaced, run out) or an open request (expired unanswered). */
export function end(r: Relationship, reason: EndReason, now: Date, replacedBy?: PartnerRef): Relationship {
  return withDue({
    ...settled(r),
    state: reason === 'expired' ? 'expired' : reason === 'withdrawn' ? 'withdrawn' : 'terminated',
    version: r.version + 1,
    endedAt: now.toISOString(),
    endReason: reason,
    ...(replacedBy ? { replacedBy } : {}),
  });
}

/**
 * A relationship at Microsoft that the bot asks Microsoft to end (revoked, or replaced by `by`): it stays in effect
 * until Graph reports it terminating, and the follower sends Graph's terminate request at once.
 */
export function askMicrosoftToEnd(r: Relationship, reason: EndRequest, now: Date, by?: PartnerRef): Relationship {
  return withDue({
    ...r,
    state: 'terminationRequested',
    version: r.version + 1,
    ...(by ? { replacedBy: by } : {}),
    graph: {
      ...r.graph!,
      ending: { reason, requestedAt: now.toISOString(), ...(by ? { by } : {}) },
      nextCheckAt: now.toISOString(),
    },
  });
}

export const refOf = (r: Relationship): PartnerRef => ({
  id: r.id,
  partnerTenantId: r.partnerTenantId,
  partnerName: r.partnerName,
  ...(atMicrosoft(r) ? { atMicrosoft: true } : {}),
});

export type DueEvent = { kind: 'requestExpired' } | { kind: 'ended' } | { kind: 'extended' } | { kind: 'reminder'; daysLeft: number };

/**
 * What the passage of time does to a relationship whose `dueAt` has come: one step, so each step is one
 * compare-and-set write with its notifications. After an outage only the latest reminder that still applies is sent.
 */
export function dueStep(r: Relationship, now: Date): { next: Relationship; event: DueEvent } | undefined {
  const at = now.toISOString();
  if (isOpen(r)) {
    if (atMicrosoft(r)) return undefined;
    return at >= r.requestExpiresAt ? { next: end(r, 'expired', now), event: { kind: 'requestExpired' } } : undefined;
  }
  if (r.state !== 'active' || !r.endsAt) return undefined;
  if (at >= r.endsAt) {
    // Microsoft ends or extends a real relationship, and the watcher records it when Graph reports it.
    if (atMicrosoft(r)) return undefined;
    if (!r.autoExtend) return { next: end(r, 'expired', now), event: { kind: 'ended' } };
    let endsAt = new Date(r.endsAt);
    let extensions = r.extensions ?? 0;
    while (endsAt <= now) {
      endsAt = addDays(endsAt, AUTO_EXTEND_DAYS);
      extensions++;
    }
    return {
      next: withDue({ ...r, version: r.version + 1, endsAt: endsAt.toISOString(), extensions, remindersSent: [] }),
      event: { kind: 'extended' },
    };
  }
  const leftMs = new Date(r.endsAt).getTime() - now.getTime();
  const due = REMINDER_DAYS.filter((d) => leftMs <= d * DAY_MS && !(r.remindersSent ?? []).includes(d));
  if (due.length === 0) return undefined;
  // Reminders that are already behind us (30 days, when 5 are left) are marked sent without being sent.
  const sent = [...new Set([...(r.remindersSent ?? []), ...REMINDER_DAYS.filter((d) => leftMs <= d * DAY_MS)])];
  return {
    next: withDue({ ...r, version: r.version + 1, remindersSent: sent }),
    event: { kind: 'reminder', daysLeft: Math.max(1, Math.ceil(leftMs / DAY_MS)) },
  };
}

export const KIND_NAME: Record<RelationshipKind, string> = { delegation: 'delegated administration', por: 'partner of record' };
