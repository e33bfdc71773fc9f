#!/usr/bin/env bash
# record_symbols.sh — symbolization in `ember record` beyond symbol tables:
# 1. DWARF: a workload built here with -O2 -g whose hot loop is an inlined function; the
#    profile's locations carry the inline frames innermost first with file:line
#    (`go tool pprof -lines -top` shows "mix wl.c:LINE (inline)" and the caller at the call's
#    line) and folded output has the inlined function under its caller.
# 2. MiniDebugInfo: the same workload without -g, stripped, with a .gnu_debugdata section made
#    the way Fedora does it (objcopy, xz): its static (local) function is named, and it is not
#    when the section is absent (the control).
# 3. debuginfod: the same workload stripped of every symbol table, its debug file only on a
#    real debuginfod server (Debian's, started here on loopback, indexing a directory):
#    with DEBUGINFOD_URLS the static function is named, without it it is not.
# 4. Another mount namespace: the workload run from a tmpfs mounted only in its own namespace
#    (unshare -m), so its path means nothing outside; it is read through /proc/PID/root.
# Needs root and a loadable BPF program, and cc/objcopy/xz/nm/strip for part 2, debuginfod for
# part 3, unshare for part 4; prints SKIP otherwise.
source "$(dirname "$0")/lib/common.bash"

EMBER_REC=${EMBER_RECORD_BIN:-$EMBER}

if [ "$(id -u)" -ne 0 ]; then
	skip record_symbols "not root (the eBPF sampler needs root)"
	exit 0
fi
if ! "$EMBER_REC" record --help >/dev/null 2>&1; then
	skip record_symbols "this ember has no 'record' command"
	exit 0
fi

cat >"$T/wl.c" <<'C'
#include <stdlib.h>
#include <time.h>
static volatile unsigned long sink;
static inline __attribute__((always_inline)) unsigned long mix(unsigned long x)
{
	for (int i = 0; i < 64; i++)
		x = x * 6364136223846793005UL + 1442695040888963407UL; /* MIX_LINE */
	return x;
}
__attribute__((noinline, noclone)) static void hot_outer(unsigned long n)
{
	unsigned long x = n;
	for (unsigned long i = 0; i < n; i++)
		x = mix(x) ^ i; /* CALL_LINE */
	sink = x;
}
int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 1;
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		hot_outer(20000);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9 < secs);
	return 0;
}
C
mix_line=$(grep -n 'MIX_LINE' "$T/wl.c" | cut -d: -f1)
call_line=$(grep -n 'CALL_LINE' "$T/wl.c" | cut -d: -f1)

# Share (percent) of folded samples whose stack holds the consecutive frames PATTERN.
share() {
	awk -v f="$2" '{ n = $NF; total += n; line = ";" $1 ";"; if (index(line, ";" f ";")) hit += n }
		END { printf "%.0f", total ? 100 * hit / total : 0 }' "$1"
}

# --- 1. DWARF lines and inline frames ---------------------------------------------------------
cc -O2 -g -fomit-frame-pointer -o "$T/wl_g" "$T/wl.c" || {
	fail record_symbols/build "cannot build the workload"
	exit 1
}
"$EMBER_REC" record -F 499 -o "$T/g.pb.gz" -- "$T/wl_g" 1.5 >/dev/null 2>"$T/g.err"
rc=$?
if [ $rc -ne 0 ] && grep -q "cannot load the BPF sampler" "$T/g.err"; then
	skip record_symbols "BPF cannot load here: $(head -c 200 "$T/g.err")"
	exit 0
fi
if [ $rc -ne 0 ] || [ ! -s "$T/g.pb.gz" ]; then
	fail record_symbols/dwarf_runs "exit $rc: $(head -c 300 "$T/g.err")"
	exit 1
fi
"$EMBER_REC" record -F 499 -o "$T/g.folded" -- "$T/wl_g" 1 >/dev/null 2>"$T/g2.err"
s=$(share "$T/g.folded" "hot_outer;mix")
if [ "${s:-0}" -ge 50 ]; then
	pass record_symbols/folded_inline_frames
else
	fail record_symbols/folded_inline_frames "hot_outer;mix in $s% of samples: $(sort -k2 -nr "$T/g.folded" | head -3 | tr '\n' '|')"
fi
echo "    folded: hot_outer;mix in $s% of samples"

if reason=$(go_missing_reason); then
	skip record_symbols/pprof_lines "$reason"
else
	go tool pprof "${PPROF_FLAGS[@]}" -lines -top -nodecount=50 "$T/g.pb.gz" >"$T/g.top" 2>"$T/g.top.err"
	# A row "... mix .../wl.c:MIX_LINE (inline)" and one "hot_outer .../wl.c:CALL_LINE".
	if grep -qE " mix [^ ]*wl\.c:$mix_line \(inline\)" "$T/g.top" &&
		grep -qE " hot_outer [^ ]*wl\.c:$call_line( |$)" "$T/g.top"; then
		pass record_symbols/pprof_lines
	else
		fail record_symbols/pprof_lines "want mix wl.c:$mix_line (inline) and hot_outer wl.c:$call_line in: $(grep -E 'mix|hot_outer' "$T/g.top" | head -4 | tr '\n' '|') $(head -c 200 "$T/g.top.err")"
	fi
	grep -E " (mix|hot_outer) " "$T/g.top" | head -3 | sed 's/^/    /'
fi

# --- 2. MiniDebugInfo ---------------------------------------------------------------------
for t in objcopy xz nm strip comm; do
	if ! command -v $t >/dev/null 2>&1; then
		skip record_symbols/minidebuginfo "$t is not installed (binutils, xz-utils)"
		finish
		exit
	fi
done
(
	set -e
	cd "$T"
	cc -O2 -fomit-frame-pointer -o wl wl.c
	nm -D --format=posix --defined-only wl | awk '{ print $1 }' | sort >dynsyms
	nm --format=posix --defined-only wl | awk '$2 ~ /^[Tt]$/ { print $1 }' | sort >funcsyms
	comm -13 dynsyms funcsyms >keep
	objcopy --only-keep-debug wl mini.full
	objcopy -S --remove-section .gdb_index --remove-section .comment --keep-symbols=keep \
		mini.full mini
	xz -f mini
	strip --strip-all -o wl.stripped wl
	objcopy --add-section .gnu_debugdata=mini.xz wl.stripped wl.mini
) >"$T/mini.log" 2>&1 || {
	fail record_symbols/minidebuginfo_build "$(tail -n 3 "$T/mini.log" | tr '\n' '|')"
	finish
	exit
}
if nm "$T/wl.mini" 2>/dev/null | grep -q hot_outer; then
	fail record_symbols/minidebuginfo_build "wl.mini still has a .symtab naming hot_outer"
fi
"$EMBER_REC" record -F 499 -o "$T/mini.folded" -- "$T/wl.mini" 1 >/dev/null 2>"$T/mini.err"
"$EMBER_REC" record -F 499 -o "$T/strip.folded" -- "$T/wl.stripped" 1 >/dev/null 2>"$T/strip.err"
sm=$(share "$T/mini.folded" "hot_outer")
ss=$(share "$T/strip.folded" "hot_outer")
if [ "${sm:-0}" -ge 50 ] && [ "${ss:-0}" -eq 0 ]; then
	pass record_symbols/minidebuginfo
else
	fail record_symbols/minidebuginfo "hot_outer in $sm% of samples with .gnu_debugdata, $ss% without: $(sort -k2 -nr "$T/mini.folded" | head -2 | tr '\n' '|')"
fi
echo "    hot_outer: $sm% of samples with .gnu_debugdata, $ss% without"

# --- 3. debuginfod ----------------------------------------------------------------------------
if ! command -v debuginfod >/dev/null 2>&1 || ! command -v curl >/dev/null 2>&1; then
	skip record_symbols/debuginfod "debuginfod or curl is not installed (scripts/deps.sh)"
else
	mkdir -p "$T/dbg"
	objcopy --only-keep-debug "$T/wl_g" "$T/dbg/wl.debug" && strip --strip-all -o "$T/wl.bare" "$T/wl_g"
	bid=$(readelf -n "$T/wl.bare" 2>/dev/null | awk '/Build ID/ { print $3 }')
	dport=$((20000 + ($$ * 11 + RANDOM) % 20000))
	debuginfod -p "$dport" -F -d "$T/dbg.sqlite" -t 0 "$T/dbg" >"$T/dbgd.log" 2>&1 &
	dpid=$!
	code=
	for i in $(seq 1 100); do
		code=$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$dport/buildid/$bid/debuginfo")
		[ "$code" = 200 ] && break
		sleep 0.2
	done
	if [ "$code" != 200 ]; then
		fail record_symbols/debuginfod_server "the server did not serve $bid (HTTP $code): $(tail -c 300 "$T/dbgd.log")"
	else
		DEBUGINFOD_URLS="http://127.0.0.1:$dport" DEBUGINFOD_CACHE_PATH="$T/dcache" \
			"$EMBER_REC" record -F 499 -o "$T/di.folded" -- "$T/wl.bare" 1 >/dev/null 2>"$T/di.err"
		env -u DEBUGINFOD_URLS DEBUGINFOD_CACHE_PATH="$T/dcache2" \
			"$EMBER_REC" record -F 499 -o "$T/nodi.folded" -- "$T/wl.bare" 1 >/dev/null 2>&1
		sd=$(share "$T/di.folded" "hot_outer")
		sn=$(share "$T/nodi.folded" "hot_outer")
		echo "    hot_outer: $sd% of samples with DEBUGINFOD_URLS, $sn% without"
		if [ "${sd:-0}" -ge 50 ] && [ "${sn:-0}" -eq 0 ]; then
			pass record_symbols/debuginfod
		else
			fail record_symbols/debuginfod "hot_outer in $sd% with, $sn% without: $(sort -k2 -nr "$T/di.folded" | head -2 | tr '\n' '|') $(head -c 200 "$T/di.err")"
		fi
	fi
	kill "$dpid" 2>/dev/null
	wait "$dpid" 2>/dev/null
fi

# --- 4. a process in another mount namespace --------------------------------------------------
if ! command -v unshare >/dev/null 2>&1; then
	skip record_symbols/mount_namespace "unshare is not installed (util-linux)"
else
	mkdir -p "$T/ns"
	"$EMBER_REC" record -F 499 -o "$T/ns.folded" -- unshare --mount --propagation private \
		sh -c "mount -t tmpfs tmpfs '$T/ns' && cp '$T/wl_g' '$T/ns/wl_ns' && exec '$T/ns/wl_ns' 1" \
		>/dev/null 2>"$T/ns.err"
	rc=$?
	sns=$(share "$T/ns.folded" "hot_outer")
	echo "    mount namespace: hot_outer in $sns% of samples; $T/ns/wl_ns outside it: $([ -e "$T/ns/wl_ns" ] && echo exists || echo absent)"
	if [ $rc -eq 0 ] && [ ! -e "$T/ns/wl_ns" ] && [ "${sns:-0}" -ge 50 ]; then
		pass record_symbols/mount_namespace
	else
		fail record_symbols/mount_namespace "exit $rc, hot_outer in $sns%: $(sort -k2 -nr "$T/ns.folded" | head -2 | tr '\n' '|') $(head -c 200 "$T/ns.err")"
	fi
fi
finish
