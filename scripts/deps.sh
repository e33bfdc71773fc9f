#!/usr/bin/env bash
# scripts/deps.sh — installs every Debian package Ember's build and tests need, idempotently.
# Fast when everything is present (one dpkg-query). Run by the Makefile when its stamp is stale;
# safe to run by hand. Needs root (or sudo) only when something is missing.
set -euo pipefail

debs=(
	gcc make clang llvm libclang-rt-14-dev clang-format pkg-config
	zlib1g-dev libdeflate-dev libpcre2-dev libzstd-dev libyaml-dev libjansson-dev
	libbpf-dev bpftool libelf-dev libdw-dev libiberty-dev libdebuginfod-dev
	libcurl4-openssl-dev libmicrohttpd-dev
	golang-go linux-perf libxml2-utils python3 locales
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
