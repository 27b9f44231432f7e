// HTTPS listener with the shared TLS floor. There is no plain-HTTP listener anywhere (RULES 37).
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { RequestListener } from 'node:http';
import { adminTlsOptions, serverTlsOptions, type TlsFiles } from './options.ts';

/** RULES 35, 48: a handshake the listener refused for its TLS floor or cipher list, and the caller's address. */
export type HandshakeRefused = (reason: 'tls_floor' | 'tls_cipher', remoteAddress: string | undefined) => void;

// OpenSSL's codes for a client hello below the floor (RULES 32) and one with no listed suite (RULES 33).
// Other handshake failures (plain HTTP, resets, bad client certificates) are not policy refusals.
const REFUSALS: Record<string, 'tls_floor' | 'tls_cipher'> = {
  ERR_SSL_UNSUPPORTED_PROTOCOL: 'tls_floor',
  ERR_SSL_NO_SHARED_CIPHER: 'tls_cipher',
};

/** Node's `tlsClientError` is the only place a refused handshake is seen; no HTTP request exists for it. */
function watchRefusals(server: https.Server, refused?: HandshakeRefused): https.Server {
  if (!refused) return server;
  server.on('tlsClientError', (err: Error & { code?: string }, socket: TLSSocket) => {
    const reason = REFUSALS[err.code ?? ''];
    if (reason) refused(reason, socket.remoteAddress);
  });
  return server;
}

export function createHttpsServer(
  files: TlsFiles & { requestClientCert?: boolean },
  handler: RequestListener,
  refused?: HandshakeRefused,
): https.Server {
  const server = watchRefusals(https.createServer(serverTlsOptions(files), handler), refused);
  // Optional mTLS: a certificate is not required, but one that is presented must verify
  // against the configured CA; otherwise the connection is dropped before any HTTP.
  server.on('secureConnection', (socket: TLSSocket) => {
    if (!files.requestClientCert) return;
    const peer = socket.getPeerCertificate();
    const presented = peer && Object.keys(peer).length > 0;
    if (presented && !socket.authorized) socket.destroy();
  });
  return server;
}

/** The control-plane listener (RULES 43); with requireClientCert the handshake itself refuses clients without a staff certificate. */
export function createAdminHttpsServer(files: TlsFiles & { requireClientCert: boolean }, handler: RequestListener, refused?: HandshakeRefused): https.Server {
  return watchRefusals(https.createServer(adminTlsOptions(files), handler), refused);
}

/** Listen and resolve with the bound port (port 0 picks a free one). */
export function listen(server: https.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    });
  });
}
