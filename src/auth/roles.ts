// CONTRACT 5: the roles of the control plane. A token carries exactly one; a route names the one it
// needs, and every other role gets 403 (RULES 43: separate control plane, OWASP API5). `metrics`
// is for Prometheus: it reads /metrics on the control-plane listener and nothing else.
export const ROLES = ['admin', 'auditor', 'core_store', 'metrics'] as const;
export type Role = (typeof ROLES)[number];

/** Who made an admin call: the token id and role, never the token itself. */
export interface Actor {
  tokenId: string;
  role: Role;
}

export const isRole = (r: unknown): r is Role => typeof r === 'string' && (ROLES as readonly string[]).includes(r);
