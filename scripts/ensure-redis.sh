#!/usr/bin/env bash
# Installs Debian's redis-server (TLS-enabled) when it is missing. Used by `npm test` (pretest),
# `partner-gateway demo` and .ci/run, so a fresh Debian machine needs nothing by hand.
set -euo pipefail
command -v redis-server >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "redis-server not found: installing it with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq redis-server >/dev/null
  exit 0
fi
echo "redis-server not found. Install it (Debian/Ubuntu: sudo apt-get install -y redis-server) and retry." >&2
exit 1
