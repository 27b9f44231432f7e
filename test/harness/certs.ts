// Each test process makes its own CA and certificates (tests never turn verification off).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeDevCerts, type CertPaths } from '../../src/tls/dev-certs.ts';

let certs: Promise<CertPaths> | undefined;

export function testCerts(): Promise<CertPaths> {
  return (certs ??= writeDevCerts(mkdtempSync(join(tmpdir(), 'pg-certs-'))));
}

export const tmp = (prefix: string) => mkdtempSync(join(tmpdir(), `pg-${prefix}-`));
