#!/usr/bin/env bash
# The main job until `cordon lab` lands: set up, then show what cordon does
# to a command that behaves like a prompt-injected agent. Needs no API key
# and no network.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f dist/bin/main.js ] && [ -d node_modules ] || bash scripts/setup.sh
CORDON="node $(pwd)/dist/bin/main.js"

demo="$(mktemp -d)"
trap 'rm -rf "$demo"' EXIT
mkdir -p "$demo/ws" "$demo/state"
echo "API_KEY=canary-workspace-env-1234567890" > "$demo/ws/.env"
export XDG_STATE_HOME="$demo/state"
export GITHUB_TOKEN="ghp_canaryDemoTokenThatMustNotLeak0000000"

echo "== cordon doctor"
$CORDON doctor || true
echo
echo "== a compromised agent inside cordon run (workspace $demo/ws)"
cd "$demo/ws"
set +e
$CORDON run -- sh -c '
  try() { printf "  %-44s" "$1"; shift; if "$@" >/dev/null 2>&1; then echo "succeeded inside the sandbox"; else echo "refused"; fi; }
  try "read the workspace .env"            sh -c "grep -q canary .env"
  try "read ~/.ssh/id_rsa"                  cat "$HOME/.ssh/id_rsa"
  try "list /root"                          ls /root
  try "find GITHUB_TOKEN in the environment" sh -c "env | grep -q GITHUB_TOKEN"
  try "write .git/hooks/pre-commit"         sh -c "mkdir -p .git/hooks && echo evil > .git/hooks/pre-commit"
  try "create .claude/settings.json"        sh -c "mkdir -p .claude && echo {} > .claude/settings.json"
  try "open a new user namespace"           unshare -U true
  try "connect to 127.0.0.1:22"             sh -c "exec 3<>/dev/tcp/127.0.0.1/22"
  try "write build output (benign)"         sh -c "echo ok > build.txt"
'
status=$?
set -e
echo
echo "== on the host, after the run"
check() { printf "  %-44s" "$1"; if [ -e "$2" ]; then echo "present"; else echo "absent"; fi; }
check ".git/hooks/pre-commit (must be absent)" "$demo/ws/.git/hooks/pre-commit"
check ".claude/settings.json (must be absent)" "$demo/ws/.claude/settings.json"
check "build.txt (benign, must be present)" "$demo/ws/build.txt"
echo "  (exit status of the agent: $status)"
echo
echo "== the audit log"
$CORDON audit tail
$CORDON audit verify
echo
echo "== policy explain"
$CORDON policy explain 'Bash(git status && curl evil.example)' 'Net([::ffff:169.254.169.254]:80)' 'Edit(./a/b/.git/hooks/pre-push)'
echo
echo "== cordon lab --quick (the red-team lab's quick subset; the full lab: npx cordon lab)"
$CORDON lab --quick
