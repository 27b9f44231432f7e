#!/bin/sh
# One-shot (the compose service "init"): copies the certificates and keys made on the host
# (deploy/README.md) into the volumes each service mounts, owned by the user its image runs as
# (redis: 999, node: 1000) with private keys mode 0600, whatever uid made them on the host.
# The CA's private key (certs/ca.key) is never copied into any container.
set -eu
cd /in/certs
for f in ca.crt redis.crt redis.key gateway.crt gateway.key core-store.crt core-store.key gateway-client.crt gateway-client.key; do
  [ -f "$f" ] || { echo "init: certs/$f is missing; run partner-gateway certs as deploy/README.md says" >&2; exit 1; }
done
for f in pseudonym-master.key transfer-log.key signing.jwk.json; do
  [ -f "/in/keys/$f" ] || { echo "init: keys/$f is missing; run partner-gateway keys init as deploy/README.md says" >&2; exit 1; }
done
install -o 999 -g 999 -m 0644 ca.crt redis.crt /out/redis-tls/
install -o 999 -g 999 -m 0600 redis.key /out/redis-tls/
install -o 1000 -g 1000 -m 0644 ca.crt gateway.crt core-store.crt gateway-client.crt /out/app-certs/
install -o 1000 -g 1000 -m 0600 gateway.key core-store.key gateway-client.key /out/app-certs/
install -o 1000 -g 1000 -m 0600 /in/keys/pseudonym-master.key /in/keys/transfer-log.key /in/keys/signing.jwk.json /out/app-keys/
[ ! -f /in/keys/signing-retired.jwks.json ] || install -o 1000 -g 1000 -m 0600 /in/keys/signing-retired.jwks.json /out/app-keys/
chown 1000:1000 /out/gateway-a-data /out/gateway-b-data
echo "init: certificates and keys in place"
