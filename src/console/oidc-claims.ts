// Who an IdP sign-in makes of its user (RULES 43: staff SSO with MFA). Pure: the verified ID token's
// claims (plus userinfo's, for the name and groups) in, a console identity or a refusal out. Deny by
// default: no required MFA evidence, or no group mapped to a role, is a refusal that says which.
import type { ConsoleRole, Staff } from './sessions.ts';

export interface OidcPolicy {
  requireAmr: readonly string[];
  requireAcr: readonly string[];
  rolesClaim: string;
  roles: Readonly<Record<string, ConsoleRole>>;
}

export type Refusal = { refused: 'mfa_required' | 'no_role'; message: string };
export type Decision = { staff: Staff } | Refusal;

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : []);

/** RULES 43: every required amr value present, and the acr one of those allowed (when any are). */
export function checkMfa(claims: Record<string, unknown>, p: Pick<OidcPolicy, 'requireAmr' | 'requireAcr'>): boolean {
  const amr = strings(claims.amr);
  if (!p.requireAmr.every((v) => amr.includes(v))) return false;
  return p.requireAcr.length === 0 || (typeof claims.acr === 'string' && p.requireAcr.includes(claims.acr));
}

/** The role the groups claim maps to; admin wins when a user is in both kinds of group. */
export function mapRole(claims: Record<string, unknown>, p: Pick<OidcPolicy, 'rolesClaim' | 'roles'>): ConsoleRole | null {
  const mapped = strings(claims[p.rolesClaim]).map((g) => (Object.hasOwn(p.roles, g) ? p.roles[g]! : null));
  return mapped.includes('admin') ? 'admin' : mapped.includes('auditor') ? 'auditor' : null;
}

export function decideStaff(claims: Record<string, unknown>, p: OidcPolicy): Decision {
  if (!checkMfa(claims, p)) {
    const need = [p.requireAmr.length ? `the authentication method ${p.requireAmr.map((v) => `"${v}"`).join(' and ')} (amr)` : '', p.requireAcr.length ? `an authentication level (acr) of ${p.requireAcr.map((v) => `"${v}"`).join(' or ')}` : ''].filter(Boolean).join(' and ');
    return { refused: 'mfa_required', message: `Your sign-in did not use multi-factor authentication (MFA). The console needs ${need}. Sign in again with your second factor, or ask your identity team to enrol one.` };
  }
  const role = mapRole(claims, p);
  if (!role) {
    return { refused: 'no_role', message: `Your account has no console role: none of your groups (the "${p.rolesClaim}" claim) is mapped to admin or auditor. Ask a gateway administrator to add you to a console group.` };
  }
  const sub = String(claims.sub);
  const name = [claims.name, claims.preferred_username, claims.email].find((v): v is string => typeof v === 'string' && v.length > 0) ?? sub;
  return { staff: { id: sub, name: name.slice(0, 120), role, via: 'oidc' } };
}
