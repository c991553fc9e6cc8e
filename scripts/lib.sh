# shellcheck shell=bash
# Shared helpers for scripts/*. Sourced, never executed: it sets no shell
# options of its own so that the caller's `set -euo pipefail` stays in charge.

# Repo root = parent of the folder this file lives in, wherever we are called from.
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export REPO_ROOT

# Log to stderr so stdout stays clean for data (and for the server's own output).
log() { printf '[nodes] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# apt-get update is slow and only needed once per script run (a fresh Debian
# machine has empty package lists, so `install` alone would fail).
_NODES_APT_UPDATED=
apt_install() {
  [[ $(id -u) -eq 0 ]] || die "need root to apt-get install $*"
  if [[ -z $_NODES_APT_UPDATED ]]; then
    log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    _NODES_APT_UPDATED=1
  fi
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

# Install the exact pnpm pinned in package.json "packageManager" with npm, because
# corepack's signature check fails on these machines.
ensure_pnpm() {
  local want have
  want="$(node -e 'const pm = require(process.argv[1]).packageManager || "";
    const m = /^pnpm@([^+]+)/.exec(pm); if (!m) process.exit(1); console.log(m[1]);' \
    "$REPO_ROOT/package.json")" || die "package.json has no pnpm@<version> packageManager"
  have="$(pnpm --version 2>/dev/null || true)"
  [[ $have == "$want" ]] && return 0
  log "installing pnpm@$want (found: ${have:-none})"
  # --force on retry: a corepack shim may already own the pnpm bin link.
  npm install -g "pnpm@$want" >&2 || npm install -g --force "pnpm@$want" >&2
  hash -r
  have="$(pnpm --version 2>/dev/null || true)"
  [[ $have == "$want" ]] || die "pnpm is ${have:-missing} after install, wanted $want"
}

# Install dependencies only when the manifests changed since the last install:
# a no-op pnpm install still costs seconds on every start.
ensure_deps() {
  local stamp="$REPO_ROOT/node_modules/.modules.yaml" newer=
  if [[ -f $stamp ]]; then
    newer="$(find "$REPO_ROOT" -name node_modules -prune -o -name .git -prune -o \
      \( -name package.json -o -name pnpm-lock.yaml -o -name pnpm-workspace.yaml \) \
      -newer "$stamp" -print -quit)"
    [[ -z $newer ]] && return 0
  fi
  log "pnpm install --frozen-lockfile${newer:+ ($newer changed)}"
  # confirm-modules-purge=false: without a TTY (CI) pnpm would abort instead of
  # recreating an incompatible node_modules.
  (cd "$REPO_ROOT" && pnpm install --frozen-lockfile --config.confirm-modules-purge=false >&2)
  touch "$stamp" # pnpm may leave it untouched when nothing changed
}

# Compile every TypeScript project (tsc -b); dist/ is what start and ava run.
build() {
  log "pnpm run build"
  (cd "$REPO_ROOT" && pnpm run --silent build >&2)
}
