// What the partner hop negotiated (RULES 35, 38): protocol, cipher and the client certificate's
// RFC 8705 thumbprint, read from the live TLS socket, never from a header (RULES 39).
import { createHash } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { Socket } from 'node:net';

export interface TlsEvidence {
  protocol: string | null;
  cipher: string | null;
  clientCertThumbprint: string | null;
}

export const thumbprint = (der: Buffer) => createHash('sha256').update(der).digest('base64url');

/** RULES 38: the thumbprint of this connection's verified client certificate, or null. */
export function clientCertThumbprint(socket: Socket | TLSSocket): string | null {
  const s = socket as TLSSocket;
  if (typeof s.getPeerCertificate !== 'function' || !s.authorized) return null;
  const peer = s.getPeerCertificate();
  return peer && 'raw' in peer && peer.raw ? thumbprint(peer.raw) : null;
}

export function tlsEvidence(socket: Socket | TLSSocket): TlsEvidence {
  const s = socket as TLSSocket;
  if (typeof s.getProtocol !== 'function') return { protocol: null, cipher: null, clientCertThumbprint: null };
  const peer = s.getPeerCertificate?.();
  // Only a certificate that verified against the configured CA counts as presented.
  const raw = s.authorized && peer && 'raw' in peer ? peer.raw : undefined;
  return {
    protocol: s.getProtocol(),
    cipher: s.getCipher()?.name ?? null,
    clientCertThumbprint: raw ? thumbprint(raw) : null,
  };
}

/** RULES 35: anything but TLS 1.2/1.3 on the partner hop aborts the send. */
export const acceptableProtocol = (e: TlsEvidence) => e.protocol === 'TLSv1.2' || e.protocol === 'TLSv1.3';
