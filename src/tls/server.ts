// HTTPS listener with the shared TLS floor. There is no plain-HTTP listener anywhere (RULES 37).
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { RequestListener } from 'node:http';
import { adminTlsOptions, serverTlsOptions, type TlsFiles } from './options.ts';

export function createHttpsServer(
  files: TlsFiles & { requestClientCert?: boolean },
  handler: RequestListener,
): https.Server {
  const server = https.createServer(serverTlsOptions(files), handler);
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
export function createAdminHttpsServer(files: TlsFiles & { requireClientCert: boolean }, handler: RequestListener): https.Server {
  return https.createServer(adminTlsOptions(files), handler);
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
