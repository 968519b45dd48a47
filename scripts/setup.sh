#!/usr/bin/env bash
# Shared set-up for scripts/run, scripts/test and .ci/run: Debian packages (ffmpeg, espeak-ng, mosquitto;
# chromium for browser tests; PostgreSQL and Redis for CI), Python >= 3.12, .venv and the project in it.
# Safe to run again: it reuses what exists.
# Usage: source scripts/setup.sh [--with-browser] [--with-services]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
say() { printf '\033[1m[loa]\033[0m %s\n' "$*" >&2; }
die() { printf '[loa] LỖI: %s\n' "$*" >&2; exit 1; }

find_python() {
  local candidates=(python3.13 python3.12)
  if command -v pyenv >/dev/null 2>&1; then
    local root; root="$(pyenv root)"
    for v in "$root"/versions/3.13* "$root"/versions/3.12*; do
      [ -x "$v/bin/python" ] && candidates+=("$v/bin/python")
    done
  fi
  candidates+=(python3 python)
  for c in "${candidates[@]}"; do
    local path; path="$(command -v "$c" 2>/dev/null || true)"
    [ -n "$path" ] || continue
    if "$path" -c 'import sys, venv; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
      echo "$path"; return 0
    fi
  done
  return 1
}

# Sourced without arguments, "$@" is the caller's: only these two words mean anything here.
with_browser=0 with_services=0
for arg in "$@"; do
  case "$arg" in
    --with-browser) with_browser=1 ;;
    --with-services) with_services=1 ;;
  esac
done

need_debs=()
command -v ffmpeg >/dev/null 2>&1 || need_debs+=(ffmpeg)
command -v espeak-ng >/dev/null 2>&1 || need_debs+=(espeak-ng)
# The MQTT broker of push (Debian keeps it in /sbin paths a user's PATH may lack); only the server.
{ command -v mosquitto || [ -x /usr/sbin/mosquitto ]; } >/dev/null 2>&1 || need_debs+=(mosquitto)
if [ "$with_browser" = 1 ] && [ ! -x /usr/bin/chromium ]; then need_debs+=(chromium); fi
if [ "$with_services" = 1 ]; then
  # What .ci/run starts: a PostgreSQL cluster (pg_ctlcluster, psql, pg_isready) and Redis (server, cli).
  { command -v pg_ctlcluster && command -v psql && command -v pg_isready; } >/dev/null 2>&1 \
    || need_debs+=(postgresql)
  { command -v redis-server && command -v redis-cli; } >/dev/null 2>&1 || need_debs+=(redis-server)
fi
apt_install() {
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "Cài gói Debian: $* …"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null \
      || die "apt-get không cài được $*"
  else
    die "Thiếu $*: hãy cài bằng 'sudo apt-get install $*' rồi chạy lại."
  fi
}
if [ ${#need_debs[@]} -gt 0 ]; then apt_install "${need_debs[@]}"; fi

mkdir -p var
if [ ! -x .venv/bin/python ]; then
  PY="$(find_python)" || die "Cần Python >= 3.12 (ví dụ 'pyenv install 3.12' hoặc 'apt-get install python3.12 python3.12-venv')."
  say "Tạo môi trường ảo .venv bằng $("$PY" --version) …"
  # Debian's own Python ships venv's pip bootstrap separately.
  "$PY" -c 'import ensurepip' 2>/dev/null || apt_install python3-venv
  # A failed venv (Debian without python3-venv: no ensurepip) would leave a .venv without pip that the
  # next run takes for a finished one.
  "$PY" -m venv .venv || { rm -rf .venv; die "Không tạo được .venv bằng $PY (Debian/Ubuntu: cài gói python3-venv)."; }
fi
stamp=".venv/.loa-installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  say "Cài đặt Loa và thư viện (lần đầu mất khoảng một phút) …"
  # pip -q still prints index and build warnings; keep only real errors on screen.
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
  .venv/bin/python -m pip install -q -e ".[dev]" >var/pip-install.log 2>&1 \
    || { tail -20 var/pip-install.log >&2; die "pip install thất bại (xem var/pip-install.log)"; }
  rm -f .venv/.loa-installed-*
  touch "$stamp"
fi
export PATH="$ROOT/.venv/bin:$PATH"
