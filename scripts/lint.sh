#!/usr/bin/env bash
# scripts/lint.sh — `make lint`: clang-format check, banned functions, include layering (each
# module includes only the modules below it, per ARCHITECTURE.md), header self-containment.
# Prints each problem with its file and exits 1 if any.
set -u
BUILD=${BUILD:-build}
fail=0
files=$(git ls-files 'src/*.c' 'src/*.h' 'tests/*.c' 'tests/*.h' 'bench/*.c' 2>/dev/null)

# 1. formatting
for f in $files; do
	if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
		echo "lint: $f: not clang-formatted (run clang-format -i $f)"
		fail=1
	fi
done

# 2. banned functions (raw allocation outside the wrapper, unbounded string functions)
banned='(?<![\w.>])(sprintf|vsprintf|strcpy|strcat|strtok|atoi|atol|atoll|gets|malloc|calloc|realloc|free|strdup|strndup)\s*\('
for f in $(echo "$files" | grep -E '^(src|tests|bench)/.*\.c$'); do
	[ "$f" = src/base/mem.c ] && continue
	hits=$(grep -nP "$banned" "$f" | grep -vP '^\d+:\s*(\*|//|/\*)')
	if [ -n "$hits" ]; then
		echo "$hits" | sed "s|^|lint: $f:|; s|\$|  (banned function)|"
		fail=1
	fi
done

# 3. include layering: module -> allowed modules
allowed() {
	case $1 in
	base) echo "base" ;;
	profile | format) echo "base profile format" ;;
	symb | store) echo "base profile format symb store" ;;
	bpf) echo "bpf" ;;
	agent) echo "base profile format bpf symb agent" ;;
	server) echo "base profile format store server" ;;
	cli) echo "base profile format symb store bpf agent server cli" ;;
	*) echo "" ;;
	esac
}
for f in $(echo "$files" | grep '^src/'); do
	mod=$(echo "$f" | cut -d/ -f2)
	ok=$(allowed "$mod")
	for inc in $(grep -oP '^#include "\K[a-z_]+(?=/)' "$f"); do
		case " $ok " in *" $inc "*) ;; *)
			echo "lint: $f: module '$mod' must not include '$inc/'"
			fail=1
			;;
		esac
	done
	if [ "$mod" = profile ] && grep -q '^#include "format/' "$f"; then
		echo "lint: $f: profile must not include format/"
		fail=1
	fi
done

# 4. header self-containment
mkdir -p "$BUILD/lint"
for h in $(echo "$files" | grep '^src/.*\.h$'); do
	printf '#include "%s"\n' "${h#src/}" >"$BUILD/lint/hdr.c"
	if ! ${CC:-cc} -std=c11 -D_GNU_SOURCE -Wall -Wextra -Isrc -fsyntax-only "$BUILD/lint/hdr.c" 2>"$BUILD/lint/err"; then
		echo "lint: $h: not self-contained:"
		sed 's/^/    /' "$BUILD/lint/err" | head -5
		fail=1
	fi
done

if [ $fail -eq 0 ]; then echo "lint: ok"; fi
exit $fail
