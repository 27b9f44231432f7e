// Raw TLS and TCP probes: what a client of a given vintage gets from a server.
import tls from 'node:tls';
import net from 'node:net';
import https from 'node:https';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';

export interface Handshake { ok: boolean; protocol?: string | null; cipher?: string; error?: string }

export function handshake(port: number, ca: string, opts: tls.ConnectionOptions = {}): Promise<Handshake> {
  return new Promise((resolve) => {
    const sock = tls.connect({ host: 'localhost', port, ca: readFileSync(ca), servername: 'localhost', ...opts });
    sock.setTimeout(5000, () => sock.destroy(new Error('timeout')));
    sock.once('secureConnect', () => {
      const r = { ok: true, protocol: sock.getProtocol(), cipher: sock.getCipher().name };
      sock.end();
      resolve(r);
    });
    sock.once('error', (e) => resolve({ ok: false, error: e.message }));
  });
}

/** Legacy clients need SECLEVEL=0 to offer TLS 1.0/1.1 at all with OpenSSL 3. */
export const legacyClient = (version: 'TLSv1' | 'TLSv1.1'): tls.ConnectionOptions => ({
  minVersion: version, maxVersion: version, ciphers: 'ALL@SECLEVEL=0',
});

/** A deliberately permissive server (TLS 1.0+, every suite) so refusal tests can fail. */
export function permissiveServer(cert: string, key: string): Promise<{ port: number; close(): Promise<void> }> {
  const server = https.createServer(
    { cert: readFileSync(cert), key: readFileSync(key), minVersion: 'TLSv1', maxVersion: 'TLSv1.3', ciphers: 'ALL@SECLEVEL=0' },
    (_req, res) => res.end('ok'),
  );
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  })));
}

export function plainHttpServer(): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((_req, res) => res.end('ok'));
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  })));
}

/** Send a plain-text HTTP request over raw TCP and return whatever comes back before close. */
export function rawHttp(port: number): Promise<string> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1', () => sock.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'));
    let got = '';
    sock.setTimeout(3000, () => sock.destroy());
    sock.on('data', (d) => { got += d.toString('latin1'); });
    sock.on('close', () => resolve(got));
    sock.on('error', () => undefined);
  });
}
