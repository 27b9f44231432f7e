// The admin use cases, built once per app from its dependencies; the admin routers call these and
// never Redis directly (DESIGN: what may import what).
import type { Deps } from '../deps.ts';
import { AdminTokens } from '../auth/admin-tokens.ts';
import { readAudit } from '../auth/admin-audit.ts';
import { Partners } from './partners.ts';
import { Credentials } from './credentials.ts';
import { Agreements } from './agreement-store.ts';
import type { AgreementRules } from './validate-agreement.ts';
import type { Config } from '../config/schema.ts';

export const agreementRules = (config: Config): AgreementRules => ({
  policyVersions: config.policy.versions.map((v) => v.version),
  allowLoopbackWebhooks: config.notices.allowLoopbackWebhooks, // RULES 45: only tests turn it on
});

export function createAdminServices(deps: Pick<Deps, 'redis' | 'config' | 'bootstrapAdminTokenHash' | 'partnerTokenCache'>) {
  return {
    tokens: new AdminTokens(deps.redis, deps.bootstrapAdminTokenHash),
    partners: new Partners(deps.redis),
    // The revoking instance evicts a revoked credential's tokens from its cache at once (RULES 41).
    credentials: new Credentials(deps.redis, deps.partnerTokenCache),
    agreements: new Agreements(deps.redis, agreementRules(deps.config)),
    audit: { read: (limit: number, cursor?: string) => readAudit(deps.redis, limit, cursor) },
  };
}

export type AdminServices = ReturnType<typeof createAdminServices>;
