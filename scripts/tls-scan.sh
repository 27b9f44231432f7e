#!/usr/bin/env bash
# TLS scan of BOTH listeners (RULES 32, 33, 37, 43) with Debian's testssl.sh, offline.
# Starts `partner-gateway demo` on free ports (partner listener and control plane), waits for
# /readyz over verified TLS, scans each port, stops the demo, and exits non-zero when a listener:
#   - offers any protocol below TLS 1.2 (SSLv2, SSLv3, TLS 1.0, TLS 1.1)       RULES 32
#   - offers any cipher suite that is not AEAD (GCM, CCM, ChaCha20-Poly1305)   RULES 33
#   - has any finding rated HIGH or CRITICAL (or the scan itself failed)
#   - sends no Strict-Transport-Security header of two years with subdomains  RULES 37
# Usage: scripts/tls-scan.sh            (needs testssl, jq, curl, redis-server; `npm ci` done)
# Env:   TLS_SCAN_OUT=dir  keeps the JSON reports there (default: a temp dir, removed).
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in testssl jq curl node; do
  command -v "$tool" >/dev/null 2>&1 || { echo "tls-scan: $tool is required (apt-get install -y testssl.sh jq curl)" >&2; exit 2; }
done

free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
PARTNER_PORT=$(free_port)
ADMIN_PORT=$(free_port)
STORE_PORT=$(free_port)
while [ "$ADMIN_PORT" = "$PARTNER_PORT" ]; do ADMIN_PORT=$(free_port); done

OUT=${TLS_SCAN_OUT:-$(mktemp -d)}
mkdir -p "$OUT"
DEMO_LOG="$OUT/demo.log"
DEMO_PID=

cleanup() {
  if [ -n "$DEMO_PID" ] && kill -0 "$DEMO_PID" 2>/dev/null; then
    kill -TERM "$DEMO_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$DEMO_PID" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$DEMO_PID" 2>/dev/null || true
  fi
  [ -n "${TLS_SCAN_OUT:-}" ] || rm -rf "$OUT"
}
trap cleanup EXIT

echo "tls-scan: starting the demo gateway (partner :$PARTNER_PORT, control plane :$ADMIN_PORT)"
GATEWAY_PORT=$PARTNER_PORT GATEWAY_ADMIN_PORT=$ADMIN_PORT CORE_STORE_PORT=$STORE_PORT \
  UPSTREAM_URL=https://localhost:$STORE_PORT LOG_LEVEL=warn \
  node bin/partner-gateway.js demo >"$DEMO_LOG" 2>&1 &
DEMO_PID=$!

CA=certs/dev/ca.crt
ready=
for _ in $(seq 1 120); do
  if ! kill -0 "$DEMO_PID" 2>/dev/null; then break; fi
  if [ -f "$CA" ] \
    && curl -fsS --cacert "$CA" "https://localhost:$PARTNER_PORT/readyz" >/dev/null 2>&1 \
    && curl -fsS --cacert "$CA" "https://localhost:$ADMIN_PORT/readyz" >/dev/null 2>&1; then
    ready=1
    break
  fi
  sleep 0.5
done
if [ -z "$ready" ]; then
  echo "tls-scan: the gateway did not become ready; its output:" >&2
  cat "$DEMO_LOG" >&2
  exit 1
fi

# Protocols, the cipher list per protocol, the vulnerability checks (all run against the target
# alone; no OCSP/CRL fetches without --phone-out), and the HTTP headers. No DNS: localhost only.
scan() {
  local name=$1 port=$2 json="$OUT/$1.json"
  echo "tls-scan: scanning the $name listener (localhost:$port)"
  testssl --quiet --color 0 --warnings off --nodns none --ip 127.0.0.1 \
    --connect-timeout 5 --openssl-timeout 5 --add-ca "$CA" \
    --protocols --cipher-per-proto --vulnerable --headers \
    --jsonfile "$json" "localhost:$port" >"$OUT/$name.txt" 2>&1 || true
  [ -s "$json" ] || { echo "tls-scan: $name: testssl wrote no report" >&2; cat "$OUT/$name.txt" >&2; return 1; }
}

# One line per problem; an empty answer means the listener passed.
check() {
  jq -r '
    def problems:
      (map(select(.id | test("^(SSLv2|SSLv3|TLS1|TLS1_1)$"))) | map(select(.finding | test("^offered"))) | map("protocol below TLS 1.2 offered: \(.id)")),
      (map(select(.id | startswith("cipher-"))) | map(select(.finding | test("AESGCM|AESCCM|ChaCha20|POLY1305|GCM|CCM"; "i") | not)) | map("non-AEAD suite offered: \(.finding | gsub("\\s+"; " "))")),
      (map(select(.severity == "HIGH" or .severity == "CRITICAL")) | map("\(.severity): \(.id): \(.finding)")),
      (map(select(.severity == "FATAL" or .id == "scanProblem")) | map("scan problem: \(.id): \(.finding)")),
      (if any(.[]; .id == "TLS1_2" or .id == "TLS1_3") then [] else ["no protocol results: the scan did not run"] end),
      # testssl 3.0 reports a present header as HSTS_time/HSTS_subdomains, a missing one as HSTS.
      (map(select(.id == "HSTS" and .severity != "OK")) | map("HSTS: \(.finding)")),
      (map(select(.id == "HSTS_time")) | if length == 0 then ["no Strict-Transport-Security header"]
        else map(select((.finding | capture("=(?<s>[0-9]+) seconds") | .s | tonumber) < 63072000)) | map("HSTS max-age below two years: \(.finding)") end),
      (if any(.[]; .id == "HSTS_subdomains" and .severity == "OK") then [] else ["HSTS without includeSubDomains"] end);
    [problems] | add | .[]' "$1"
}

summary() {
  jq -r '
    (map(select(.id | test("^(SSLv2|SSLv3|TLS1|TLS1_1|TLS1_2|TLS1_3)$"))) | map("\(.id)=\(.finding)") | join(", ")) as $p
    | (map(select(.id | startswith("cipher-"))) | map(.finding | gsub("\\s+"; " ") | split(" ") | .[3]) | unique | join(" ")) as $c
    | (map(select(.id | startswith("HSTS"))) | map(.finding) | join("; ")) as $h
    | (group_by(.severity) | map("\(.[0].severity) \(length)") | join(", ")) as $s
    | "  protocols: \($p)\n  suites: \($c)\n  HSTS: \($h)\n  findings by severity: \($s)"' "$1"
}

status=0
for listener in "partner:$PARTNER_PORT" "admin:$ADMIN_PORT"; do
  name=${listener%%:*}
  port=${listener##*:}
  if ! scan "$name" "$port"; then status=1; continue; fi
  echo "tls-scan: $name listener (:$port)"
  summary "$OUT/$name.json"
  problems=$(check "$OUT/$name.json")
  if [ -n "$problems" ]; then
    status=1
    echo "$problems" | sed "s/^/  FAIL $name: /"
  else
    echo "  PASS"
  fi
done

[ "$status" = 0 ] && echo "tls-scan: both listeners pass" || echo "tls-scan: FAILED" >&2
exit "$status"
