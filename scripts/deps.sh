#!/usr/bin/env bash
# scripts/deps.sh — installs every Debian package Ember's build and tests need, idempotently.
# Fast when everything is present (one dpkg-query). Run by the Makefile when its stamp is stale;
# safe to run by hand. Needs root (or sudo) only when something is missing.
set -euo pipefail

debs=(
	gcc make clang llvm libclang-rt-14-dev clang-format pkg-config
	zlib1g-dev libdeflate-dev libpcre2-dev libzstd-dev libyaml-dev libjansson-dev
	libbpf-dev bpftool libelf-dev libdw-dev libiberty-dev libdebuginfod-dev liblzma-dev
	libcurl4-openssl-dev libmicrohttpd-dev clickhouse-server debuginfod
	golang-go linux-perf libxml2-utils python3 locales openssl
	nodejs chromium wrk
)

missing=()
for p in "${debs[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}"
	sudo=""
	if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq
	$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm is part of nodesource's nodejs but a separate Debian package.
if ! command -v npm >/dev/null 2>&1; then
	sudo=""
	if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends npm >/dev/null
fi

# npm packages (package.json / package-lock.json at the top of the tree): the UI's libraries and
# the test clients. Reinstalled when the lock file changes; no browser download (Debian's chromium).
root=$(cd "$(dirname "$0")/.." && pwd)
lock_sum=$(sha256sum "$root/package-lock.json" | cut -d' ' -f1)
if [ "$(cat "$root/node_modules/.ember-lock" 2>/dev/null)" != "$lock_sum" ]; then
	echo "deps: npm ci"
	(cd "$root" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error) 2>&1 |
		grep -v 'Unknown user config' || true
	[ -d "$root/node_modules/playwright-core" ] || { echo "deps: npm ci failed" >&2; exit 1; }
	echo "$lock_sum" >"$root/node_modules/.ember-lock"
fi
