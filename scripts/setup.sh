#!/usr/bin/env bash
# Sets up cordon on a fresh Debian/Ubuntu machine: bubblewrap and build tools
# from the distribution, npm packages (and the native relay), and the build (dist/).
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: bubblewrap (the sandbox); curl and git (the lab's agent and the tests use them); chromium (below).
missing=()
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v git >/dev/null 2>&1 || missing+=(git)
# python3, make and g++: npm ci builds the egress proxy's zero-copy relay (native/splice, C) from source with node-gyp;
# without them it is skipped with a warning and the proxy relays in JavaScript (slower). cc (gcc): npm ci builds
# bin/cordon's run front (native/front, C); without it `cordon run` starts node directly (a few ms slower to return).
command -v python3 >/dev/null 2>&1 || missing+=(python3)
command -v make >/dev/null 2>&1 || missing+=(make)
command -v g++ >/dev/null 2>&1 || missing+=(g++)
command -v cc >/dev/null 2>&1 || missing+=(gcc)
# chromium: the dashboard's (cordon ui) browser test drives it with playwright-core.
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]} (Debian packages)"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${missing[@]}"
fi

node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 20 ]; then
  echo "setup: cordon needs Node.js 20.19 or newer (found $(node --version))" >&2
  exit 1
fi

echo "setup: installing npm packages"
npm ci --no-audit --no-fund
echo "setup: building dist/"
npm run build --silent
echo "setup: done; try: npx cordon doctor"
