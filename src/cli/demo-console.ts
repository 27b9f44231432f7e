// What `partner-gateway demo` says about the staff console (issue 16): its URL, the admin token to
// sign in with, and a read-only auditor token minted for the demo (a day long, audited as minted
// by the bootstrap admin).
import type { Gateway } from '../main.ts';
import { AdminTokens, BOOTSTRAP_TOKEN_ID } from '../auth/admin-tokens.ts';

export async function sayConsole(gw: Gateway, adminUrl: string, adminToken: string, ca: string, say: (s: string) => void): Promise<void> {
  say(`staff console: ${adminUrl}/console/ (your browser must trust the dev CA ${ca}, or accept it for localhost)`);
  say(`  sign in with the admin token: ${adminToken}`);
  try {
    const auditor = await new AdminTokens(gw.deps.redis).mint({ tokenId: BOOTSTRAP_TOKEN_ID, role: 'admin' }, { role: 'auditor', label: 'demo console (read-only)', ttlSeconds: 86_400 });
    say(`  or read-only, as an auditor: ${auditor.token}`);
  } catch (e) {
    say(`  (no auditor token: ${(e as Error).message})`);
  }
}
