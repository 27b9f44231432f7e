// RULES 28: no unkeyed hash of an identifier anywhere in src/. SHA-x(e-mail or phone) can be
// brute-forced, so identifiers are only ever hashed with a key (HMAC: pseudonym/, policy/treatments,
// transfer-log/subject-ref). Every unkeyed hash call in src/ must be one of the justified uses below,
// matched by its exact expression, so `createHash('sha256').update(userId)` fails the scan even in a
// file that already has an allowed use.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, relative } from 'node:path';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

// file (relative to src/) -> the exact hash expressions allowed there (up to .digest), and why.
const ALLOWED: Record<string, Array<{ call: string; reason: string }>> = {
  'auth/admin-tokens.ts': [{ call: "createHash('sha256').update(s, 'utf8')", reason: 'admin bearer tokens are stored only as SHA-256 (CONTRACT 5); the input is a 256-bit random secret' }],
  'auth/partner-tokens.ts': [{ call: "createHash('sha256').update(t)", reason: 'partner access tokens are stored only as hashes (CONTRACT 4); the input is a random secret' }],
  'agreements/credentials.ts': [{ call: "createHash('sha256').update(s, 'utf8')", reason: 'client secrets are stored only as hashes; the input is a random secret' }],
  'auth/jti-cache.ts': [{ call: 'createHash(\'sha256\').update(jti)', reason: 'replay-cache key of a client assertion nonce (RULES 40); not personal data' }],
  'transfer-log/entry.ts': [
    { call: "createHash('sha256').update(canonicalJson(rest), 'utf8').update(entry.prevHash, 'utf8')", reason: 'content hash of a log entry (CONTRACT 7); entries carry the keyed subjectRef, never a raw id' },
    { call: "createHash('sha256').update(`${json}}${prevHash}`, 'utf8')", reason: 'the same content hash over the stored canonical JSON (CONTRACT 7)' },
  ],
  'transfer-log/statement-signer.ts': [{ call: "createHash('sha256').update(jws, 'utf8')", reason: 'hash of a signed checkpoint statement, chained into the next one ([3/6]); hashes a JWS, not an identifier' }],
  'transfer-log/receipt.ts': [{ call: "createHash('sha256').update(subjects.join('\\n'), 'utf8')", reason: 'digest of the partner pseudonyms a page receipt covers ([3/6] item 4); pseudonyms are already keyed per partner' }],
  'transfer-log/recipients-check.ts': [{ call: "createHash('sha1').update(lines.sort().join('\\n'))", reason: 'digest of a recipients record (keyed subjectRef, partner ids, counts) compared with the one Redis computes; hashes a record already keyed, not an identifier' }],
  'transfer-log/append-script.ts': [{ call: "createHash('sha1').update(APPEND_LUA)", reason: 'EVALSHA id of a Lua script (Redis\'s own naming); hashes code' }],
  'notices/deletions.ts': [{ call: "createHash('sha1').update(SCHEDULE)", reason: 'EVALSHA id of a Lua script; hashes code' }],
  'notices/notice.ts': [{ call: "createHash('sha256').update(`notice\\u0000${source}\\u0000${partnerId}\\u0000${type}`)", reason: 'deterministic notice id from an event id or a partner pseudonym (already keyed), the partner and the type' }],
  'notices/index.ts': [{ call: "createHash('sha256').update(id)", reason: 'Redis key of a core-store event id for idempotency; the id is the store\'s event id, not a user id' }],
  'keys/files.ts': [{ call: "createHash('sha256').update(canon)", reason: 'RFC 7638 thumbprint (kid) of a public key' }],
  'tls/evidence.ts': [{ call: "createHash('sha256').update(der)", reason: 'RFC 8705 thumbprint of a certificate' }],
  'console/assets.ts': [{ call: "createHash('sha256').update(body)", reason: 'content fingerprint of the console\'s own script and stylesheet in their URLs (issue 16); hashes code' }],
  'console/oidc-flows.ts': [{ call: "createHash('sha256').update(id, 'utf8')", reason: 'Redis key of a pending sign-in flow (RULES 43): the input is the 256-bit random id of the flow cookie, not personal data' }],
};

/** Text from `start` to the parenthesis that closes the one at `open`. */
function closeParen(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')' && --depth === 0) return i;
  }
  return text.length - 1;
}

/** Every unkeyed hash use in a source text: createHash(...) with its .update(...) chain, and any other digest API. */
function hashUses(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/\bcreateHash\s*\(/g)) {
    let end = closeParen(text, m.index + m[0].length - 1);
    // Follow the .update(...) chain, the part that says what is hashed.
    for (;;) {
      const next = /^\s*\.update\s*\(/.exec(text.slice(end + 1));
      if (!next) break;
      end = closeParen(text, end + next[0].length);
    }
    out.push(text.slice(m.index, end + 1).replace(/\s+/g, ' '));
  }
  // Digest APIs that would bypass the expression match: one-shot crypto.hash, WebCrypto digest,
  // and createHash under another name.
  for (const m of text.matchAll(/\bhash\s*\(\s*['"`]|\bsubtle\s*\.\s*digest\s*\(|createHash\s+as\s+\w+/g)) out.push(m[0]);
  return out;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : /\.(ts|mts|js|mjs)$/.test(e.name) ? [join(dir, e.name)] : []);
}

function unjustified(file: string, text: string): string[] {
  const allowed = (ALLOWED[file] ?? []).map((a) => a.call);
  return hashUses(text).filter((u) => !allowed.includes(u)).map((u) => `${file}: ${u}`);
}

test('RULES 28: every unkeyed hash in src/ is a justified use from the allow-list', () => {
  const files = sourceFiles(SRC);
  assert.ok(files.length > 100, `scanned ${files.length} files`);
  const found = files.flatMap((f) => unjustified(relative(SRC, f), readFileSync(f, 'utf8')));
  assert.deepEqual(found, [], 'hash an identifier with a key (HMAC), or add a justified entry to ALLOWED');
});

test('RULES 28: every allow-list entry is still in the code (the list does not go stale)', () => {
  for (const [file, entries] of Object.entries(ALLOWED)) {
    const uses = hashUses(readFileSync(join(SRC, file), 'utf8'));
    for (const e of entries) {
      assert.ok(uses.includes(e.call), `${file}: ${e.call} not found; found ${JSON.stringify(uses)}`);
      assert.ok(e.reason.length > 20, `${file}: a reason is required`);
    }
  }
});

test('RULES 28: the scan catches an unkeyed hash of a user id, in any file, even one with allowed uses', () => {
  const bad = "import { createHash } from 'node:crypto';\nexport const ref = (userId: string) => createHash('sha256')\n  .update(userId).digest('hex');\n";
  assert.deepEqual(unjustified('transfers/anything.ts', bad), ["transfers/anything.ts: createHash('sha256') .update(userId)"]);
  assert.deepEqual(unjustified('tls/evidence.ts', bad), ["tls/evidence.ts: createHash('sha256') .update(userId)"]);
  assert.equal(unjustified('x.ts', "const h = hash('sha256', email);").length, 1, 'one-shot crypto.hash');
  assert.equal(unjustified('x.ts', 'await crypto.subtle.digest("SHA-256", bytes);').length, 1, 'WebCrypto digest');
  assert.equal(unjustified('x.ts', "import { createHash as h } from 'node:crypto';").length, 1, 'renamed import');
  assert.deepEqual(unjustified('tls/evidence.ts', "createHash('sha256').update(der).digest('base64url')"), [], 'the allowed use passes');
});
