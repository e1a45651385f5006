/**
 * How a relationship moves on its own, as the Graph resource doc describes its status values
 * (https://learn.microsoft.com/en-us/graph/api/resources/delegatedadminrelationship, "delegatedAdminRelationshipStatus"):
 *
 *   created --lockForApproval--> approvalPending --approve--> approved --> activating --> active
 *   approvalPending --(90 days, GDAP FAQ https://learn.microsoft.com/partner-center/dap-faq)--> expired
 *   active --(endDateTime, autoExtendDuration P180D)--> active with endDateTime + 180 days
 *   active --(endDateTime, no auto-extension)--> expiring --> expired
 *   active --terminate--> terminationRequested --> terminating --> terminated
 *
 * Nothing runs in the background: each request (and each control call) first brings every relationship up to the
 * stand-in clock's "now", step by step at the instant each step was due, so "advance the clock by a year" replays
 * every auto-extension and expiry in order. `settle` finishes the processing steps (not the calendar ones) at once.
 */
import { DAY_MS } from './clock';
import { newEtag } from './http';
import type { AccessAssignment, Relationship, World } from './world';

/** "GDAP relationship requests expire after 90 days" (Partner Center GDAP FAQ, learn.microsoft.com/partner-center/dap-faq). */
export const APPROVAL_WINDOW_MS = 90 * DAY_MS;
/** autoExtendDuration P180D: "It rolls forward by six months" (Partner Center, expiring GDAP relationships and auto-extend). */
export const AUTO_EXTEND_MS = 180 * DAY_MS;

interface Step {
  at: number;
  /** A provisioning step (finished by `settle`), as opposed to a calendar event (expiry, auto-extension). */
  processing: boolean;
  apply: (at: number) => void;
}

export function touch(rel: Relationship, at: number): void {
  rel.lastModifiedMs = at;
  rel.etag = newEtag();
}

export function setStatus(rel: Relationship, status: Relationship['status'], at: number): void {
  rel.status = status;
  rel.statusSinceMs = at;
  touch(rel, at);
}

function completeRequests(rel: Relationship, action: 'lockForApproval' | 'terminate', at: number): void {
  for (const r of rel.requests) {
    if (r.action === action && (r.status === 'created' || r.status === 'pending')) {
      r.status = 'succeeded';
      r.lastModifiedMs = at;
    }
  }
}

function endAssignments(rel: Relationship, at: number): void {
  for (const a of rel.assignments) {
    if (a.status !== 'deleted') setAssignmentStatus(a, 'deleted', at);
  }
}

export function setAssignmentStatus(a: AccessAssignment, status: AccessAssignment['status'], at: number): void {
  a.status = status;
  a.statusSinceMs = at;
  a.lastModifiedMs = at;
  a.etag = newEtag();
}

function nextStep(world: World, rel: Relationship): Step | undefined {
  const d = world.delays;
  switch (rel.status) {
    case 'created':
      if (rel.lockRequestedMs === null) return undefined;
      return {
        at: rel.lockRequestedMs + d.lockForApproval,
        processing: true,
        apply: (at) => {
          setStatus(rel, 'approvalPending', at);
          rel.approvalPendingSinceMs = at;
          completeRequests(rel, 'lockForApproval', at);
        },
      };
    case 'approvalPending':
      return {
        at: (rel.approvalPendingSinceMs ?? rel.statusSinceMs) + APPROVAL_WINDOW_MS,
        processing: false,
        apply: (at) => setStatus(rel, 'expired', at),
      };
    case 'approved':
      return { at: rel.statusSinceMs + d.approvedToActivating, processing: true, apply: (at) => setStatus(rel, 'activating', at) };
    case 'activating':
      return {
        at: rel.statusSinceMs + d.activatingToActive,
        processing: true,
        apply: (at) => {
          rel.activatedMs = at;
          // "endDateTime = activatedDateTime + duration" (delegatedAdminRelationship resource, endDateTime).
          rel.endMs = at + rel.durationMs;
          setStatus(rel, 'active', at);
        },
      };
    case 'active': {
      const end = rel.endMs;
      if (end === null) return undefined;
      return {
        at: end,
        processing: false,
        apply: (at) => {
          if (rel.autoExtendDuration === 'P180D' && !rel.forceExpiry) {
            rel.endMs = end + AUTO_EXTEND_MS;
            touch(rel, at);
          } else setStatus(rel, 'expiring', at);
        },
      };
    }
    case 'expiring':
      return {
        at: rel.statusSinceMs + d.expiringToExpired,
        processing: true,
        apply: (at) => {
          setStatus(rel, 'expired', at);
          endAssignments(rel, at);
        },
      };
    case 'terminationRequested':
      return {
        at: rel.statusSinceMs + d.terminationRequestedToTerminating,
        processing: true,
        apply: (at) => setStatus(rel, 'terminating', at),
      };
    case 'terminating':
      return {
        at: rel.statusSinceMs + d.terminatingToTerminated,
        processing: true,
        apply: (at) => {
          setStatus(rel, 'terminated', at);
          completeRequests(rel, 'terminate', at);
          endAssignments(rel, at);
        },
      };
    default:
      return undefined;
  }
}

/** Apply every step of one relationship (and its assignments and operations) due by `now`; `settle` also finishes processing steps. */
export function progress(world: World, rel: Relationship, now: number, settle = false): void {
  for (let guard = 0; guard < 100_000; guard++) {
    const step = nextStep(world, rel);
    if (!step) break;
    if (step.at <= now) step.apply(step.at);
    else if (settle && step.processing) step.apply(now);
    else break;
  }
  for (const a of rel.assignments) {
    const d = world.delays.accessAssignment;
    if (a.status === 'pending' || a.status === 'deleting') {
      const due = a.statusSinceMs + d;
      if (due <= now || settle) setAssignmentStatus(a, a.status === 'pending' ? 'active' : 'deleted', Math.min(due, now));
    }
  }
  for (const op of rel.operations) {
    if (op.status === 'notStarted' || op.status === 'running') {
      const due = op.createdMs + world.delays.operation;
      if (due <= now || settle) {
        const at = Math.min(due, now);
        op.complete(at);
        op.status = 'succeeded';
        op.lastModifiedMs = at;
        op.etag = newEtag();
      } else if (op.status === 'notStarted' && now > op.createdMs) {
        op.status = 'running';
        op.lastModifiedMs = now;
      }
    }
  }
}

export function progressAll(world: World, settle = false): void {
  const now = world.clock.ms();
  for (const rel of world.relationships.values()) progress(world, rel, now, settle);
}
