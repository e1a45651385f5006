import { GLOBAL_ADMINISTRATOR_ROLE_ID, MAX_DISPLAY_NAME } from '../graph/model';
import { findRole } from '../roles';
import type { Access, GraphLink, Relationship } from '../types';

/*
 * How the bot follows a real GDAP relationship: its name at Microsoft, the roles it asks for, and how often Graph is
 * read. Pure, so the watcher's timing is tested without a clock.
 */

/** Unique among the partner's relationships (our ids are unique) and well inside Graph's 50 characters. */
export function displayNameFor(r: Pick<Relationship, 'id'>): string {
  return `Partner Offers ${r.id}`.slice(0, MAX_DISPLAY_NAME);
}

/**
 * The Entra role template ids to ask Graph for. Full administration is the Global Administrator role: GDAP has no
 * "everything" of its own, and Global Administrator is what the classic delegated admin gave.
 */
export function roleIdsFor(access: Access | undefined): string[] {
  if (!access || access.kind === 'full') return [GLOBAL_ADMINISTRATOR_ROLE_ID];
  return access.roles.map((name) => findRole(name)?.id).filter((id): id is string => !!id);
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** How long one process holds a relationship while it talks to Graph: longer than a slow Graph call or two. */
export const LEASE_MS = 2 * MINUTE;

/** Statuses Graph moves through on its own within seconds to minutes: read again soon. */
const MOVING = new Set(['created', 'approved', 'activating', 'terminationRequested', 'terminating', 'expiring']);

/**
 * When to read Graph next after a successful read. A request waiting for the customer's Global Administrator is read
 * often right after its card went out or was opened (that is when people approve) and less often as it waits; an
 * active relationship is read hourly (ended outside the bot, extended); statuses in motion every few seconds.
 */
export function checkAfterMs(r: Relationship, now: Date): number | undefined {
  const g = r.graph;
  if (!g) return undefined;
  if (!g.id || (g.status && MOVING.has(g.status))) return 10 * SECOND;
  if (r.state === 'terminationRequested') return 10 * SECOND;
  // Just activated (no assignments made yet) or assignments still pending: soon; settled: hourly.
  if (r.state === 'active') {
    const pending = !g.assignments || g.assignments.some((a) => a.status !== 'active' && a.status !== 'error');
    return pending ? 10 * SECOND : HOUR;
  }
  if (g.status === 'approvalPending') {
    if (r.state === 'declined') return HOUR;
    const since = g.attentionAt ? now.getTime() - new Date(g.attentionAt).getTime() : Infinity;
    if (since < 10 * MINUTE) return 15 * SECOND;
    if (since < HOUR) return MINUTE;
    if (since < 24 * HOUR) return 5 * MINUTE;
    return 30 * MINUTE;
  }
  return 10 * SECOND;
}

/** Graph statuses after which nothing more happens to a relationship. */
export const FINAL_STATUSES = new Set(['terminated', 'expired']);

/**
 * The wait after a failure: Microsoft's Retry-After when it gave one, else exponential from 5 s, capped at 15 minutes,
 * with jitter so several processes and partners do not retry in step.
 */
export function retryAfterFailureMs(failures: number, retryAfterMs: number | undefined, random = Math.random): number {
  const exponential = Math.min(15 * MINUTE, 5 * SECOND * 2 ** Math.max(0, failures - 1));
  const jittered = exponential / 2 + random() * (exponential / 2);
  return Math.max(retryAfterMs ?? 0, Math.round(jittered));
}

/** A terminate Graph accepted but never acted on (still `active` this long after) is asked again. */
export const TERMINATE_AGAIN_MS = 10 * MINUTE;

/** A failure only the partner can fix (credentials, permissions): read again rarely, and say so once. */
export const SETUP_PROBLEM_RETRY_MS = 15 * MINUTE;

/** The link is shown only once Graph has the request locked for approval: before that it leads nowhere. */
export const hasApprovalLink = (g: GraphLink | undefined): g is GraphLink & { id: string } => !!g?.id && !!g.cardQueued;
