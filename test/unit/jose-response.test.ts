// CONTRACT 4 / issue 6 must-show 6: JWE interop — an independent JOSE implementation (`jose`)
// decrypts the gateway's response and verifies the gateway's signature.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPair, exportJWK, compactDecrypt, compactVerify, importJWK, decodeProtectedHeader } from 'jose';
import { JoseSealer, pickEncryptionKey } from '../../src/transfers/jose-response.ts';
import { newSigningJwk } from '../../src/keys/files.ts';

const signing = newSigningJwk();
const { d: _d, ...signingPublic } = signing;

for (const [kty, alg] of [['EC', 'ECDH-ES+A256KW'], ['RSA', 'RSA-OAEP-256']] as const) {
  test(`a ${kty} partner key (${alg}) decrypts, and the gateway signature verifies`, async () => {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, ...(kty === 'RSA' ? { modulusLength: 2048 } : {}) });
    const encJwk = { ...(await exportJWK(publicKey)), kty, kid: `enc-${kty}`, use: 'enc', alg };
    const picked = pickEncryptionKey({ keys: [{ kty: 'EC', kid: 'sig', use: 'sig' }, encJwk] });
    assert.equal(picked?.kid, encJwk.kid);
    const body = { subject: 'v1.abc', data: { gender: 'female' } };
    const jwe = await new JoseSealer(signing).seal(body, picked!);
    assert.equal(jwe.split('.').length, 5, 'compact JWE');
    const hdr = decodeProtectedHeader(jwe);
    assert.equal(hdr.alg, alg);
    assert.equal(hdr.enc, 'A256GCM');
    const { plaintext } = await compactDecrypt(jwe, privateKey);
    const jws = new TextDecoder().decode(plaintext);
    const verified = await compactVerify(jws, await importJWK(signingPublic, 'ES256'));
    assert.equal(verified.protectedHeader.kid, signing.kid);
    assert.deepEqual(JSON.parse(new TextDecoder().decode(verified.payload)), body);
  });
}

test('no encryption key registered → nothing to seal to', () => {
  assert.equal(pickEncryptionKey({ keys: [{ kty: 'EC', kid: 's', use: 'sig' }] }), undefined);
  assert.equal(pickEncryptionKey(undefined), undefined);
});
