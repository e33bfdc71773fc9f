#!/usr/bin/env bash
# record_workloads.sh — `ember record` on the harder cases, each built here with -O2
# -fomit-frame-pointer: a library dlopen'd after start (the maps are re-read, its frames are
# named and complete), JIT code in anonymous memory named by /tmp/perf-PID.map (unwound by its
# frame pointer), a storm of short-lived child processes (followed through fork and exec), and
# `record -p PID -d SECONDS` on a running process. Needs root and a loadable BPF program.
source "$(dirname "$0")/lib/common.bash"

EMBER_REC=${EMBER_RECORD_BIN:-$EMBER}
WL=$(cd "$INTEG_DIR/../workloads" && pwd)

if [ "$(id -u)" -ne 0 ]; then
	skip record_workloads "not root (the eBPF sampler needs root)"
	exit 0
fi
if ! "$EMBER_REC" record --help >/dev/null 2>&1; then
	skip record_workloads "this ember has no 'record' command"
	exit 0
fi
CF="-O2 -fomit-frame-pointer"
cc $CF -o "$T/burn" "$WL/burn.c" -pthread &&
	cc $CF -shared -fPIC -o "$T/libdl_burn.so" "$WL/dl_lib.c" &&
	cc $CF -o "$T/dl_main" "$WL/dl_main.c" &&
	cc $CF -o "$T/jit" "$WL/jit.c" || {
	fail record_workloads/build "cannot build the workloads"
	exit 1
}

# share FILE PATTERN: percent of samples whose stack matches the awk regex PATTERN.
share() {
	awk -v re="$2" '{ n = $NF; t += n; if ($1 ~ re) h += n } END { printf "%d", t ? 100 * h / t : 0 }' "$1"
}
# complete FILE PATTERN: percent of the matching samples rooted at _start or clone.
complete() {
	awk -v re="$2" '$1 ~ re { n = $NF; t += n; if ($1 ~ /^(_start|__clone3|clone);/) c += n }
		END { printf "%d", t ? 100 * c / t : 0 }' "$1"
}

if ! "$EMBER_REC" record -F 999 -o "$T/dl.folded" -- "$T/dl_main" 1.2 "$T/libdl_burn.so" \
	>/dev/null 2>"$T/err"; then
	if grep -q "cannot load the BPF sampler" "$T/err"; then
		skip record_workloads "BPF cannot load here: $(head -c 200 "$T/err")"
		exit 0
	fi
	fail record_workloads/dlopen "record failed: $(head -c 200 "$T/err")"
else
	s=$(share "$T/dl.folded" ';dl_burn;dl_inner$')
	c=$(complete "$T/dl.folded" ';dl_inner$')
	echo "    dlopen: dl_burn;dl_inner in $s% of samples, $c% of them complete"
	if [ "$s" -ge 50 ] && [ "$c" -ge 99 ]; then
		pass record_workloads/dlopen
	else
		fail record_workloads/dlopen "dl_inner share $s%, complete $c%"
	fi
fi

if "$EMBER_REC" record -F 999 -o "$T/jit.folded" -- "$T/jit" 1.2 >/dev/null 2>"$T/err"; then
	s=$(share "$T/jit.folded" ';run_jit[^;]*;jit_spin$')
	c=$(complete "$T/jit.folded" ';jit_spin$')
	echo "    perf map: jit_spin in $s% of samples, $c% of them complete"
	if [ "$s" -ge 20 ] && [ "$c" -ge 95 ]; then
		pass record_workloads/perf_map
	else
		fail record_workloads/perf_map "jit_spin share $s%, complete $c%"
	fi
else
	fail record_workloads/perf_map "record failed: $(head -c 200 "$T/err")"
fi

# 40 short-lived processes of 30 ms CPU each, started by a shell.
if "$EMBER_REC" record -F 999 -o "$T/storm.folded" -- sh -c \
	"i=0; while [ \$i -lt 40 ]; do $T/burn 0.03 1 >/dev/null; i=\$((i + 1)); done" \
	>/dev/null 2>"$T/err"; then
	n=$(awk '$1 ~ /;leaf_[abc]$/ { n += $NF } END { print n + 0 }' "$T/storm.folded")
	c=$(complete "$T/storm.folded" ';leaf_[abc]$')
	echo "    storm: $n samples in the children's leaves, $c% complete"
	if [ "$n" -ge 800 ] && [ "$c" -ge 95 ]; then
		pass record_workloads/process_storm
	else
		fail record_workloads/process_storm "$n leaf samples (want >= 800 of ~1200), $c% complete"
	fi
else
	fail record_workloads/process_storm "record failed: $(head -c 200 "$T/err")"
fi

# -p PID -d SECONDS on a running two-thread process.
"$T/burn" 3 2 >/dev/null &
bp=$!
sleep 0.3
if "$EMBER_REC" record -p $bp -d 1 -F 999 -o "$T/pid.folded" >/dev/null 2>"$T/err"; then
	s=$(share "$T/pid.folded" ';leaf_[abc]$')
	c=$(complete "$T/pid.folded" '.')
	threads=$(awk '$1 ~ /^__clone3;/ { n += $NF } END { print n + 0 }' "$T/pid.folded")
	echo "    -p: leaves in $s% of samples, $c% complete, $threads samples from the second thread"
	if [ "$s" -ge 80 ] && [ "$c" -ge 99 ] && [ "$threads" -gt 0 ] && kill -0 $bp 2>/dev/null; then
		pass record_workloads/pid
	else
		fail record_workloads/pid "leaf share $s%, complete $c%, thread samples $threads"
	fi
else
	fail record_workloads/pid "record -p failed: $(head -c 200 "$T/err")"
fi
kill $bp 2>/dev/null
wait $bp 2>/dev/null
finish
