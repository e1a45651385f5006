/** Microsoft Graph's GDAP endpoints with each partner's own Entra app (issue 13). */
export { approvalLink, createGraphClient, relationshipBody, type GdapClient, type GraphClient, type GraphClientOptions } from './client';
export { secretSources, type CredentialSources } from './credentials';
export { GraphError, isGraphError, parseRetryAfter, type GraphErrorDetails, type GraphProblem, type GraphProblemKind } from './errors';
export {
  AUTO_EXTEND_DURATION,
  GLOBAL_ADMINISTRATOR_ROLE_ID,
  NO_AUTO_EXTEND,
  type AccessAssignmentInput,
  type CreateRelationshipInput,
  type GdapAccessAssignment,
  type GdapRelationship,
  type GdapRelationshipRequest,
  type RelationshipStatus,
  type TenantInformation,
} from './model';
