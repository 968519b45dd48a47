#!/usr/bin/env bash
# Shared set-up for scripts/run and scripts/test: Debian packages (ffmpeg, espeak-ng, chromium for
# browser tests), Python >= 3.12, .venv and the project in it. Safe to run again: it reuses what exists.
# Usage: source scripts/setup.sh [--with-browser]
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

need_debs=()
command -v ffmpeg >/dev/null 2>&1 || need_debs+=(ffmpeg)
command -v espeak-ng >/dev/null 2>&1 || need_debs+=(espeak-ng)
if [ "${1:-}" = "--with-browser" ] && [ ! -x /usr/bin/chromium ]; then need_debs+=(chromium); fi
if [ ${#need_debs[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "Cài gói Debian: ${need_debs[*]} …"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_debs[@]}" >/dev/null \
      || die "apt-get không cài được ${need_debs[*]}"
  else
    die "Thiếu ${need_debs[*]}: hãy cài bằng 'sudo apt-get install ${need_debs[*]}' rồi chạy lại."
  fi
fi

mkdir -p var
if [ ! -x .venv/bin/python ]; then
  PY="$(find_python)" || die "Cần Python >= 3.12 (ví dụ 'pyenv install 3.12' hoặc 'apt-get install python3.12 python3.12-venv')."
  say "Tạo môi trường ảo .venv bằng $("$PY" --version) …"
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
