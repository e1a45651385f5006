import type { Clock } from '../../clock';
import type { MicrosoftApp } from '../../directory/microsoft';
import type { Logger } from '../../log';
import type { NewOutboxEntry } from '../../notifications/types';
import type { NewResponse } from '../../responses/types';
import type { ConversationsStore } from '../../directory/store';
import type { ChannelsStore } from '../../notifications/store';
import type { OffersStore } from '../../offers/store';
import type { ResponsesStore } from '../../responses/store';
import { GraphError, isGraphError } from '../graph/errors';
import type { GdapAccessAssignment, GdapClient, GraphClient } from '../graph';
import type { GdapRelationship } from '../graph/model';
import { relationshipOutbox, type ResponseBy } from '../outbox';
import { addDays } from '../../clock';
import { askMicrosoftToEnd, atMicrosoft, DEFAULT_DURATION_DAYS, end, refOf, REQUEST_VALIDITY_DAYS, withDue } from '../rules';
import type { RelationshipsStore } from '../store';
import type { GraphLink, Relationship } from '../types';
import {
  checkAfterMs,
  displayNameFor,
  FINAL_STATUSES,
  LEASE_MS,
  retryAfterFailureMs,
  roleIdsFor,
  SETUP_PROBLEM_RETRY_MS,
  TERMINATE_AGAIN_MS,
} from './policy';

export type FollowStores = {
  channels: ChannelsStore;
  conversations: ConversationsStore;
  offers: OffersStore;
  relationships: RelationshipsStore;
  responses: ResponsesStore;
};

export interface FollowerDeps {
  store: FollowStores;
  graph: GraphClient;
  /** Partners that connected their Entra app, by partner tenant id. */
  apps: ReadonlyMap<string, MicrosoftApp>;
  clock: Clock;
  log: Logger;
  /** Test seam for the backoff's jitter. */
  random?: () => number;
}

/** What one step wants written: the relationship as it now is, and what goes with it. */
type Step =
  | { kind: 'update'; next: Relationship; outbox: NewOutboxEntry[] }
  | {
      kind: 'decide';
      next: Relationship;
      responses: NewResponse[];
      outbox: NewOutboxEntry[];
      replaces?: { expectedActiveId: string | null; ended?: { next: Relationship; expectedVersion: number } };
    };

/**
 * Follows the real GDAP relationships the bot created, one step per due relationship: create it (or find the one a
 * lost answer created), lock it for approval and queue the customer's card with its approval link, then read Graph
 * until it is active (record it, create the access assignments, update the cards, tell the partner and its channel),
 * ended, or expired. Every step starts from what Graph reports now, so a step that ran twice (a crash between Graph's
 * answer and our write) does nothing twice; a lease keeps other processes off a relationship while one works on it.
 */
export function createGdapFollower({ store, graph, apps, clock, log, random }: FollowerDeps) {
  const out = relationshipOutbox(store);

  const isDue = (r: Relationship, now: Date) => {
    const g = r.graph;
    if (!g) return false;
    const at = g.leaseUntil ?? g.nextCheckAt;
    return !!at && at <= now.toISOString();
  };

  /** Takes the lease: a compare-and-set, so of several processes one gets it. */
  async function claim(r: Relationship, now: Date): Promise<Relationship | null> {
    const leased = withDue({
      ...r,
      version: r.version + 1,
      graph: { ...r.graph!, leaseUntil: new Date(now.getTime() + LEASE_MS).toISOString() },
    });
    return (await store.relationships.update(leased, r.version, [])) ? leased : null;
  }

  /** The link as it should be stored after a step: lease released, next read scheduled (none once final). */
  function settle(r: Relationship, g: GraphLink, now: Date): Relationship {
    const { leaseUntil: _lease, ...rest } = g;
    const next: Relationship = { ...r, graph: rest };
    const after = FINAL_STATUSES.has(rest.status ?? '') ? undefined : checkAfterMs(next, now);
    const { nextCheckAt: _old, ...link } = rest;
    return withDue({
      ...next,
      graph: after === undefined ? link : { ...link, nextCheckAt: new Date(now.getTime() + after).toISOString() },
    });
  }

  /** The "who" of a record that states what Microsoft reported: the customer's Global Administrator acted there. */
  const microsoftBy = (r: Relationship, customerTenantId: string): ResponseBy => ({
    aadObjectId: '',
    name: `A Global Administrator of ${r.customerOrg?.displayName ?? r.approverEmail.split('@')[1] ?? 'the customer'}, at Microsoft (reported by Microsoft Graph)`,
    tenantId: customerTenantId,
  });
  /** The "who" of a record of what Microsoft did on its own word (an end, an expiry). */
  const microsoft = (customerTenantId: string): ResponseBy => ({
    aadObjectId: '',
    name: 'Microsoft (reported by Microsoft Graph)',
    tenantId: customerTenantId,
  });
  const whereOf = (r: Relationship) => ({ conversationId: r.card?.conversationId ?? '', activityId: r.card?.activityId ?? '' });

  /** The customer's name and domain as Microsoft has them; a nicety, so a failure only leaves the email domain shown. */
  async function organisationOf(client: GdapClient, tenantId: string): Promise<Relationship['customerOrg']> {
    try {
      const info = await client.findTenantInformation(tenantId);
      if (!info.displayName) return undefined;
      return { displayName: info.displayName, ...(info.defaultDomainName ? { defaultDomainName: info.defaultDomainName } : {}) };
    } catch (err) {
      log.info({ tenantId, kind: isGraphError(err) ? err.kind : 'unknown' }, 'tenant information not available');
      return undefined;
    }
  }

  async function createAndLock(
    r: Relationship,
    client: GdapClient,
    g: GraphLink,
    created: (id: string) => void,
  ): Promise<GdapRelationship> {
    let rel: GdapRelationship;
    if (!g.id) {
      const { relationship, recovered } = await client.createOrRecover({
        displayName: g.displayName,
        ...(r.customerTenantId ? { customerTenantId: r.customerTenantId } : {}),
        roleIds: roleIdsFor(r.access),
        durationDays: r.durationDays ?? DEFAULT_DURATION_DAYS,
        autoExtend: !!r.autoExtend,
      });
      rel = relationship;
      created(rel.id);
      log.info({ relationshipId: r.id, graphId: rel.id, recovered, status: rel.status }, 'GDAP relationship created at Microsoft');
    } else {
      rel = await client.getRelationship(g.id);
    }
    if (rel.status === 'created') {
      let refused: GraphError | undefined;
      try {
        await client.lockForApproval(rel.id);
      } catch (err) {
        // Locked already by an attempt whose answer was lost: Graph refuses a second lock. Read what it is now.
        if (!isGraphError(err, 'invalid') && !isGraphError(err, 'conflict')) throw err;
        refused = err;
      }
      rel = await client.getRelationship(rel.id);
      // Refused and still not locked: the refusal was real, and it is recorded as a failure like any other.
      if (refused && rel.status === 'created') throw refused;
    }
    return rel;
  }

  /** Creates the access assignments the partners file names and Graph does not have yet; returns them all. */
  async function ensureAssignments(r: Relationship, client: GdapClient, app: MicrosoftApp, rel: GdapRelationship) {
    const granted = new Set(rel.roleIds);
    const wanted = app.securityGroups
      .map((group) => ({ groupId: group.groupId, roleIds: group.roleIds.filter((id) => granted.has(id)) }))
      .filter((group) => group.roleIds.length > 0);
    // One in `error` stays as it is (and `status` shows it): posting another would fail the same way.
    const live = (a: GdapAccessAssignment) => a.status !== 'deleted' && a.status !== 'deleting';
    let existing = (await client.listAccessAssignments(rel.id)).filter(live);
    for (const group of wanted) {
      if (existing.some((a) => a.securityGroupId === group.groupId)) continue;
      const created = await client.createAccessAssignment(rel.id, { securityGroupId: group.groupId, roleIds: group.roleIds });
      log.info({ relationshipId: r.id, graphId: rel.id, assignmentId: created.id, groupId: group.groupId }, 'access assignment created');
      existing = [...existing, created];
    }
    return wanted.map((group) => {
      const a = existing.find((x) => x.securityGroupId === group.groupId);
      return { ...group, ...(a ? { id: a.id, status: a.status } : {}) };
    });
  }

  /** What Graph's report means for our record of it. */
  async function observe(
    r: Relationship,
    g: GraphLink,
    rel: GdapRelationship,
    client: GdapClient,
    app: MicrosoftApp,
    org: Relationship['customerOrg'],
  ): Promise<Step> {
    const now = clock();
    const at = now.toISOString();
    const seen: GraphLink = {
      ...g,
      id: rel.id,
      status: rel.status,
      checkedAt: at,
      failures: 0,
      ...(rel.activatedDateTime ? { activatedDateTime: rel.activatedDateTime } : {}),
      ...(rel.endDateTime ? { endDateTime: rel.endDateTime } : {}),
    };
    delete seen.problem;
    const customer = r.customerTenantId ?? rel.customerTenantId ?? '';
    const confirmation = (status: string, reportedAt: string | null) => ({
      relationshipId: rel.id,
      status,
      reportedAt: reportedAt ?? at,
    });

    switch (rel.status) {
      case 'approvalPending': {
        if ((r.state === 'approvalPending' || r.state === 'awaitingDelivery') && !g.cardQueued) {
          const conversation = r.approver ? await store.conversations.findPersonal(r.approver.tenantId, r.approver.aadObjectId) : null;
          // Microsoft lets a request locked for approval wait 90 days: the card's "Answer by" is that date.
          const locked = rel.lastModifiedDateTime ?? at;
          const next = settle(
            {
              ...r,
              version: r.version + 1,
              requestExpiresAt: addDays(new Date(locked), REQUEST_VALIDITY_DAYS).toISOString(),
              ...(org ? { customerOrg: org } : {}),
            },
            { ...seen, cardQueued: true, attentionAt: at },
            now,
          );
          // A request that waited for the approver to install the app: the partner hears it reached them now.
          const waited = !!r.deliveredAt && r.deliveredAt !== r.createdAt;
          // A request on an offer shows its link in the offer card's section: that card is updated, or rendered later.
          const card = r.offerId ? await out.updateCard(next) : conversation ? [out.deliverCard(next, conversation.id)] : [];
          return { kind: 'update', next, outbox: [...card, ...(waited ? out.notice(next, 'partner', 'delivered') : [])] };
        }
        return { kind: 'update', next: settle({ ...r, version: r.version + 1 }, seen, now), outbox: [] };
      }

      case 'active': {
        if (r.state === 'approvalPending' || r.state === 'declined' || r.state === 'awaitingDelivery') return activate(r, seen, rel, now);
        // Asked, and Graph still says active after a while: the request failed at Microsoft, so it is asked again.
        const askAgain = !!g.ending?.sentAt && now.getTime() - new Date(g.ending.sentAt).getTime() > TERMINATE_AGAIN_MS;
        if (r.state === 'terminationRequested' && (!g.ending?.sentAt || askAgain)) {
          await client.terminate(rel.id);
          log.info({ relationshipId: r.id, graphId: rel.id, reason: g.ending?.reason }, 'asked Microsoft to end the GDAP relationship');
          const after = await client.getRelationship(rel.id);
          const asked: GraphLink = { ...seen, status: after.status, ending: { ...g.ending!, sentAt: at } };
          if (after.status === 'terminating' || after.status === 'terminated') return ended(r, asked, after, now);
          return { kind: 'update', next: settle({ ...r, version: r.version + 1 }, asked, now), outbox: [] };
        }
        if (r.state === 'active') {
          const assignments = await ensureAssignments(r, client, app, rel);
          const extended = !!rel.endDateTime && !!r.endsAt && rel.endDateTime > r.endsAt;
          const next = settle(
            {
              ...r,
              version: r.version + 1,
              ...(rel.endDateTime ? { endsAt: rel.endDateTime } : {}),
              ...(extended ? { extensions: (r.extensions ?? 0) + 1, remindersSent: [] } : {}),
            },
            { ...seen, assignments },
            now,
          );
          return {
            kind: 'update',
            next,
            outbox: extended ? [...out.notice(next, 'partner', 'extended'), ...out.notice(next, 'customer', 'extended')] : [],
          };
        }
        return { kind: 'update', next: settle({ ...r, version: r.version + 1 }, seen, now), outbox: [] };
      }

      case 'terminating':
      case 'terminated':
        if (r.state === 'active' || r.state === 'terminationRequested') return ended(r, seen, rel, now);
        return { kind: 'update', next: settle({ ...r, version: r.version + 1 }, seen, now), outbox: [] };

      case 'expired':
        if (r.state === 'approvalPending') {
          const next = settle(end(r, 'expired', now), seen, now);
          return {
            kind: 'update',
            next: { ...next, requestExpiresAt: at },
            outbox: [...(await out.updateCard(next)), ...out.notice(next, 'partner', 'requestExpired')],
          };
        }
        if (r.state === 'active' || r.state === 'terminationRequested') {
          const next = settle(end(r, 'expired', now), seen, now);
          return {
            kind: 'decide',
            next,
            responses: [
              out.response(r, 'ended', 'expired', microsoft(customer), now, whereOf(r), customer, {
                microsoft: confirmation('expired', rel.lastModifiedDateTime),
              }),
            ],
            outbox: [...(await out.updateCard(next)), ...out.notice(next, 'partner', 'ended'), ...out.notice(next, 'customer', 'ended')],
          };
        }
        return { kind: 'update', next: settle({ ...r, version: r.version + 1 }, seen, now), outbox: [] };

      default:
        // created (lock pending), approved, activating, terminationRequested, expiring: in motion at Microsoft.
        return { kind: 'update', next: settle({ ...r, version: r.version + 1 }, seen, now), outbox: [] };
    }

    /** Graph reports it active: the customer's Global Administrator approved at Microsoft. */
    async function activate(r: Relationship, link: GraphLink, rel: GdapRelationship, now: Date): Promise<Step> {
      const activatedAt = rel.activatedDateTime ?? now.toISOString();
      const current = customer ? await store.relationships.activeFor(customer, 'delegation') : null;
      const other = current && current.id !== r.id ? current : null;
      const { pendingKey: _key, ...settledR } = r;
      const approver = r.approver ?? (r.offerId ? (await store.offers.get(r.offerId))?.approver : undefined);
      const next = settle(
        {
          ...settledR,
          ...(approver ? { approver } : {}),
          state: 'active',
          version: r.version + 1,
          customerTenantId: customer,
          decidedAt: r.decidedAt ?? activatedAt,
          activatedAt,
          ...(rel.endDateTime ? { endsAt: rel.endDateTime } : {}),
          remindersSent: [],
          ...(other ? { replaced: refOf(other) } : {}),
        },
        link,
        now,
      );
      const by = microsoftBy(r, customer);
      let oldNext: Relationship | undefined;
      if (other) {
        // One delegated admin per customer (the seed's rule): the old one is ended at Microsoft when it is real.
        oldNext = atMicrosoft(other) ? askMicrosoftToEnd(other, 'replaced', now, refOf(next)) : end(other, 'replaced', now, refOf(next));
      }
      const responses = [
        out.response(next, 'activation', 'approved', by, activatedAt, whereOf(r), customer, {
          microsoft: confirmation('active', rel.activatedDateTime),
        }),
        ...(oldNext ? [out.response(oldNext, 'termination', 'replaced', by, now, whereOf(r), customer)] : []),
      ];
      return {
        kind: 'decide',
        next,
        responses,
        replaces: {
          expectedActiveId: other?.id ?? null,
          ...(other && oldNext ? { ended: { next: oldNext, expectedVersion: other.version } } : {}),
        },
        outbox: [
          ...(await out.updateCard(next)),
          ...out.notice(next, 'partner', 'approved'),
          ...(await out.channel(next)),
          // A record-only old partner is told now; a real one once Microsoft reports its relationship ended.
          ...(oldNext && oldNext.state === 'terminated' && oldNext.partnerTenantId !== next.partnerTenantId
            ? [...(await out.updateCard(oldNext)), ...out.notice(oldNext, 'partner', 'replaced')]
            : []),
        ],
      };
    }

    /** Graph reports it terminating or terminated: the cards may now say it ended. */
    async function ended(r: Relationship, link: GraphLink, rel: GdapRelationship, now: Date): Promise<Step> {
      const reason = link.ending?.reason ?? 'endedAtMicrosoft';
      const next = settle(end(r, reason, now, link.ending?.by), link, now);
      const by = microsoft(customer);
      // Whoever asked was told "not confirmed yet", so both sides hear Microsoft's confirmation.
      const told =
        reason === 'revokedByCustomer'
          ? [...out.notice(next, 'partner', 'revokedByCustomer'), ...out.notice(next, 'customer', 'revokedByCustomer')]
          : reason === 'revokedByPartner'
            ? [...out.notice(next, 'customer', 'revokedByPartner'), ...out.notice(next, 'partner', 'revokedByPartner')]
            : reason === 'replaced'
              ? // A partner that renewed its own relationship already heard the new one is active.
                next.replacedBy?.partnerTenantId === next.partnerTenantId
                ? []
                : out.notice(next, 'partner', 'replaced')
              : [...out.notice(next, 'partner', 'endedAtMicrosoft'), ...out.notice(next, 'customer', 'endedAtMicrosoft')];
      return {
        kind: 'decide',
        next,
        responses: [
          out.response(r, 'ended', 'terminated', by, now, whereOf(r), customer, {
            microsoft: confirmation(rel.status, rel.lastModifiedDateTime),
          }),
        ],
        outbox: [...(await out.updateCard(next)), ...told],
      };
    }
  }

  /**
   * The relationship as Graph has it. One Graph no longer knows (deleted at Microsoft, which only a relationship that
   * never became active can be) is read as expired: it can never be approved or grant anything.
   */
  async function readOrGone(r: Relationship, client: GdapClient, id: string, now: Date): Promise<GdapRelationship> {
    try {
      return await client.getRelationship(id);
    } catch (err) {
      // Graph deletes only relationships that never became active: for anything that did, a 404 is a fault to retry.
      if (!isGraphError(err, 'notFound') || r.state === 'active' || r.state === 'terminationRequested') throw err;
      log.warn({ graphId: id }, 'GDAP relationship no longer exists at Microsoft');
      const at = now.toISOString();
      return {
        id,
        displayName: '',
        status: 'expired',
        customerTenantId: null,
        customerDisplayName: null,
        roleIds: [],
        duration: '',
        durationDays: null,
        autoExtendDuration: null,
        autoExtends: false,
        createdDateTime: null,
        lastModifiedDateTime: at,
        activatedDateTime: null,
        endDateTime: null,
      };
    }
  }

  /** Records a failure: when to try again, and what the partner's `status` shows. */
  async function failed(r: Relationship, err: unknown, createdId?: string): Promise<void> {
    const now = clock();
    // A relationship created in this step keeps its id, so the next step reads it instead of creating it again.
    const g: GraphLink = createdId && !r.graph!.id ? { ...r.graph!, id: createdId, status: 'created' } : r.graph!;
    const failures = (g.failures ?? 0) + 1;
    const graphErr = err instanceof GraphError ? err : undefined;
    const setup = graphErr?.kind === 'unauthorized';
    const wait = setup ? SETUP_PROBLEM_RETRY_MS : retryAfterFailureMs(failures, graphErr?.retryAfterMs, random);
    const { leaseUntil: _lease, ...rest } = g;
    const problem = { kind: graphErr?.kind ?? 'transient', message: (err as Error).message.slice(0, 300), at: now.toISOString() };
    const next = withDue({
      ...r,
      version: r.version + 1,
      graph: { ...rest, failures, problem, nextCheckAt: new Date(now.getTime() + wait).toISOString() },
    });
    // The partner hears of a setup problem once (until it is fixed): retrying will not fix it.
    const tell = setup && g.problem?.kind !== 'unauthorized' ? out.notice(next, 'partner', 'microsoftProblem') : [];
    await store.relationships.update(next, r.version, tell);
    log.warn(
      { relationshipId: r.id, graphId: g.id, kind: problem.kind, failures, retryInMs: wait, operation: graphErr?.details.operation },
      'Microsoft Graph step failed; will try again',
    );
  }

  /** One step for one relationship, if it is due (or `force`d, for a partner's `status`); false if another process has it. */
  async function follow(id: string, o: { force?: boolean } = {}): Promise<boolean> {
    const r = await store.relationships.get(id);
    const now = clock();
    if (!r?.graph) return false;
    if (!isDue(r, now) && !(o.force && !r.graph.leaseUntil && r.graph.nextCheckAt)) return false;
    const mine = await claim(r, now);
    if (!mine) return false;
    const app = apps.get(mine.partnerTenantId);
    let createdId: string | undefined;
    try {
      if (!app) {
        throw new GraphError(
          { kind: 'unauthorized' },
          `${mine.partnerName} has no Microsoft connection in the partners file any more, so the bot cannot follow this relationship at Microsoft`,
          { operation: 'follow' },
        );
      }
      const client = graph.forPartner(app);
      const g = { ...mine.graph!, displayName: mine.graph!.displayName || displayNameFor(mine) };
      if (!g.id && !(await stillWanted(mine))) {
        // Declined, withdrawn or expired before Microsoft had it: nothing to create, nothing left to follow.
        const { leaseUntil: _lease, nextCheckAt: _next, ...link } = g;
        await store.relationships.update(withDue({ ...mine, version: mine.version + 1, graph: link }), mine.version, []);
        return false;
      }
      const rel =
        !g.id || g.status === 'created'
          ? await createAndLock(mine, client, g, (id) => (createdId = id))
          : await readOrGone(mine, client, g.id, now);
      const org =
        !mine.customerOrg && mine.customerTenantId && !g.cardQueued ? await organisationOf(client, mine.customerTenantId) : undefined;
      const step = await observe(mine, g, rel, client, app, org);
      if (step.kind === 'update') {
        if (!(await store.relationships.update(step.next, mine.version, step.outbox))) return false;
      } else {
        const result = await store.relationships.decide({
          next: step.next,
          expectedVersion: mine.version,
          responses: step.responses,
          outbox: step.outbox,
          ...(step.replaces ? { replaces: step.replaces } : {}),
        });
        if (result.status === 'activeChanged') {
          // Another relationship became the customer's active one between our read and write: read again shortly.
          await store.relationships.update(settle({ ...mine, version: mine.version + 1 }, g, now), mine.version, []);
          return false;
        }
        if (result.status !== 'recorded') return false;
      }
      log.info({ relationshipId: mine.id, graphId: rel.id, status: rel.status }, 'GDAP relationship read');
      return true;
    } catch (err) {
      await failed(mine, err, createdId);
      return false;
    }
  }

  /** Whether a request not yet at Microsoft should still be created there: open, and its offer (if any) too. */
  async function stillWanted(r: Relationship): Promise<boolean> {
    if (r.state !== 'approvalPending' && r.state !== 'awaitingDelivery') return false;
    if (!r.offerId) return true;
    const offer = await store.offers.get(r.offerId);
    return !!offer && offer.state !== 'withdrawn' && offer.state !== 'expired';
  }

  return { follow, isDue };
}

export type GdapFollower = ReturnType<typeof createGdapFollower>;
