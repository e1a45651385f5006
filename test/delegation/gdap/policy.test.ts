import { checkAfterMs, displayNameFor, retryAfterFailureMs, roleIdsFor } from '../../../src/delegation/gdap/policy';
import { dueStep, withDue } from '../../../src/delegation/rules';
import type { GraphLink, Relationship } from '../../../src/delegation/types';
import { delegation } from '../../support/fixtures';

const NOW = new Date('2026-11-25T09:00:00.000Z');
const at = (ms: number) => new Date(NOW.getTime() + ms).toISOString();
const MIN = 60_000;
const linked = (over: Partial<Relationship>, graph: Partial<GraphLink>): Relationship =>
  delegation({ ...over, graph: { displayName: 'Partner Offers D-TEST22', id: 'g-1', ...graph } });

describe('following a relationship at Microsoft', () => {
  it('names it at Microsoft by its request id, well inside 50 characters, and asks for Global Administrator for full administration', () => {
    expect(displayNameFor({ id: 'D-4K7P2Q' })).toBe('Partner Offers D-4K7P2Q');
    expect(roleIdsFor({ kind: 'full' })).toEqual(['62e90394-69f5-4237-9190-012177145e10']);
    expect(roleIdsFor({ kind: 'roles', roles: ['Exchange Administrator', 'Global Reader'] })).toEqual([
      '29232cdf-9323-42fd-ade2-1d097af3e4de',
      'f2ef992c-3afb-46b9-b7cf-a126ee74c451',
    ]);
  });

  it('reads Graph often right after the card went out or was opened, and less as the request waits', () => {
    const pending = (attentionAgoMs: number) =>
      checkAfterMs(
        linked({ state: 'approvalPending' }, { status: 'approvalPending', cardQueued: true, attentionAt: at(-attentionAgoMs) }),
        NOW,
      );
    expect(pending(0)).toBe(15_000);
    expect(pending(9 * MIN)).toBe(15_000);
    expect(pending(11 * MIN)).toBe(MIN);
    expect(pending(2 * 60 * MIN)).toBe(5 * MIN);
    expect(pending(2 * 24 * 60 * MIN)).toBe(30 * MIN);
  });

  it('reads statuses in motion every 10 s, an active one hourly once its assignments are active, a chat-declined one hourly', () => {
    expect(checkAfterMs(linked({ state: 'approvalPending' }, { status: 'created' }), NOW)).toBe(10_000);
    expect(checkAfterMs(linked({ state: 'approvalPending' }, { id: undefined }), NOW)).toBe(10_000);
    expect(checkAfterMs(linked({ state: 'active' }, { status: 'active' }), NOW)).toBe(10_000);
    expect(
      checkAfterMs(linked({ state: 'active' }, { status: 'active', assignments: [{ groupId: 'g', roleIds: [], status: 'pending' }] }), NOW),
    ).toBe(10_000);
    expect(
      checkAfterMs(linked({ state: 'active' }, { status: 'active', assignments: [{ groupId: 'g', roleIds: [], status: 'active' }] }), NOW),
    ).toBe(60 * MIN);
    expect(checkAfterMs(linked({ state: 'declined' }, { status: 'approvalPending', cardQueued: true }), NOW)).toBe(60 * MIN);
    expect(checkAfterMs(linked({ state: 'terminationRequested' }, { status: 'active' }), NOW)).toBe(10_000);
  });

  it("waits after a failure at least as long as Microsoft's Retry-After, else exponentially with jitter, at most 15 minutes", () => {
    const low = () => 0;
    const high = () => 0.999999;
    expect(retryAfterFailureMs(1, undefined, low)).toBe(2_500);
    expect(retryAfterFailureMs(1, undefined, high)).toBe(5_000);
    expect(retryAfterFailureMs(3, undefined, high)).toBe(20_000);
    expect(retryAfterFailureMs(30, undefined, high)).toBe(15 * MIN);
    expect(retryAfterFailureMs(1, 30_000, high)).toBe(30_000);
  });

  it("uses Graph's end date: reminders come from it, but our clock never ends or extends a real relationship", () => {
    const r = withDue(
      linked({ state: 'active', endsAt: at(40 * 24 * 60 * MIN), autoExtend: true, remindersSent: [] }, { status: 'active' }),
    );
    expect(r.dueAt).toBe(at(10 * 24 * 60 * MIN));
    expect(dueStep(r, new Date(at(10 * 24 * 60 * MIN)))?.event).toEqual({ kind: 'reminder', daysLeft: 30 });
    const past = { ...r, remindersSent: [30, 7, 1] };
    expect(dueStep(past, new Date(at(41 * 24 * 60 * MIN)))).toBeUndefined();
    // A request at Microsoft expires when Graph says so, not 90 days after our own clock's start.
    const open = linked({ state: 'approvalPending', requestExpiresAt: at(-1) }, { status: 'approvalPending', nextCheckAt: at(MIN) });
    expect(dueStep(open, NOW)).toBeUndefined();
    expect(withDue(open).dueAt).toBe(at(MIN));
  });
});
