import { z } from 'zod';

/**
 * Microsoft Graph's answers for GDAP, as documented (learn.microsoft.com/graph/api/resources/delegatedadminrelationship,
 * delegatedadminrelationshiprequest, delegatedadminaccessassignment, tenantinformation). Only what the bot reads is
 * checked; other properties pass. Not-yet-set dates come as "", null or not at all (the docs' own examples differ).
 */

/** A Graph date-time, or null while not set ("" and absent too). */
const GraphDate = z
  .union([z.string(), z.null()])
  .optional()
  .transform((v) => (v ? v : null))
  .refine((v) => v === null || !Number.isNaN(Date.parse(v)), 'must be an ISO 8601 date-time');

/** Unknown values (Graph adds members over time, `unknownFutureValue`) read as `unknownFutureValue`. */
const evolvable = <const T extends readonly [string, ...string[]]>(values: T) =>
  z
    .string()
    .transform((s): T[number] | 'unknownFutureValue' =>
      (values as readonly string[]).includes(s) ? (s as T[number]) : 'unknownFutureValue',
    );

export const RELATIONSHIP_STATUSES = [
  'created',
  'approvalPending',
  'approved',
  'activating',
  'active',
  'expiring',
  'expired',
  'terminationRequested',
  'terminating',
  'terminated',
] as const;
export type RelationshipStatus = (typeof RELATIONSHIP_STATUSES)[number] | 'unknownFutureValue';

const UnifiedRoles = z.object({ unifiedRoles: z.array(z.object({ roleDefinitionId: z.string() })).default([]) });

export const RelationshipSchema = z.object({
  '@odata.etag': z.string().optional(),
  /** Two GUIDs joined by "-" (73 characters), not a GUID. */
  id: z.string().min(1),
  displayName: z.string(),
  duration: z.string(),
  status: evolvable(RELATIONSHIP_STATUSES),
  autoExtendDuration: z.string().nullish(),
  customer: z.object({ tenantId: z.string().nullish(), displayName: z.string().nullish() }).nullish(),
  accessDetails: UnifiedRoles.nullish(),
  createdDateTime: GraphDate,
  lastModifiedDateTime: GraphDate,
  activatedDateTime: GraphDate,
  endDateTime: GraphDate,
});
export type RelationshipResponse = z.infer<typeof RelationshipSchema>;

export const REQUEST_STATUSES = ['created', 'pending', 'succeeded', 'failed'] as const;

export const RelationshipRequestSchema = z.object({
  id: z.string().min(1),
  action: z.string(),
  status: evolvable(REQUEST_STATUSES),
  createdDateTime: GraphDate,
  lastModifiedDateTime: GraphDate,
});

export const ASSIGNMENT_STATUSES = ['pending', 'active', 'deleting', 'deleted', 'error'] as const;

export const AccessAssignmentSchema = z.object({
  '@odata.etag': z.string().optional(),
  id: z.string().min(1),
  status: evolvable(ASSIGNMENT_STATUSES),
  accessContainer: z.object({ accessContainerId: z.string(), accessContainerType: z.string().optional() }),
  accessDetails: UnifiedRoles.nullish(),
  createdDateTime: GraphDate,
  lastModifiedDateTime: GraphDate,
});

export const TenantInformationSchema = z.object({
  tenantId: z.string().nullish(),
  displayName: z.string().nullish(),
  defaultDomainName: z.string().nullish(),
  federationBrandName: z.string().nullish(),
});

/** A page of a collection: `value`, and `@odata.nextLink` while there is more. */
export const pageOf = <T extends z.ZodType>(item: T) => z.object({ value: z.array(item), '@odata.nextLink': z.string().nullish() });

/** Graph's error body: `{ error: { code, message, innerError } }`. */
export const GraphErrorBodySchema = z.object({
  error: z.object({
    code: z.string().optional(),
    message: z.string().optional(),
    innerError: z.object({ code: z.string().optional(), 'request-id': z.string().optional() }).passthrough().optional(),
  }),
});
