#!/usr/bin/env bash
# record_burn.sh — `ember record -- CMD` on workloads built here with -O2 -fomit-frame-pointer
# whose true CPU distribution is known (tests/workloads/burn.c measures its own per-call CPU
# time): attribution of the three recursive leaves and of the qsort callback within 2
# percentage points, >= 99% of samples unwound to _start/clone, >= 60 recursive frames
# visible, the qsort comparator reached through libc; `perf record --call-graph dwarf` on the
# same workload agrees; a syscall-heavy workload shows kernel frames ("_[k]") after its user
# frames. The stacks must come unwound by the kernel (the default; >= 90% of samples), and the
# --user-unwind fallback mode must give complete stacks too. Needs root and a loadable BPF
# program; prints SKIP otherwise.
source "$(dirname "$0")/lib/common.bash"

EMBER_REC=${EMBER_RECORD_BIN:-$EMBER}
WL=$(cd "$INTEG_DIR/../workloads" && pwd)

if [ "$(id -u)" -ne 0 ]; then
	skip record "not root (the eBPF sampler needs root)"
	exit 0
fi
if ! "$EMBER_REC" record --help >/dev/null 2>&1; then
	skip record "this ember has no 'record' command (not in main.c's table yet)"
	exit 0
fi
cc -O2 -fomit-frame-pointer -pthread -o "$T/burn" "$WL/burn.c" || {
	fail record/build "cannot build burn.c"
	exit 1
}
cc -O2 -fomit-frame-pointer -o "$T/syscalls" "$WL/syscalls.c" || {
	fail record/build "cannot build syscalls.c"
	exit 1
}

# 1. The burn workload, two threads, 3 s at 999 Hz (a few thousand samples: the sampling error
# of a 40% share is then about 1 percentage point).
BURN_OUT=$T/truth.txt "$EMBER_REC" record --kernel-unwind -F 999 -o "$T/burn.folded" -- "$T/burn" 3 2 \
	>"$T/rec.out" 2>"$T/rec.err"
rc=$?
if [ $rc -ne 0 ] && grep -q "cannot load the BPF sampler" "$T/rec.err"; then
	skip record "BPF cannot load here: $(head -c 200 "$T/rec.err")"
	exit 0
fi
if [ $rc -ne 0 ] || [ ! -s "$T/burn.folded" ]; then
	fail record/burn_runs "exit $rc: $(head -c 300 "$T/rec.err")"
	exit 1
fi
pass record/burn_runs
echo "    $(tail -n 1 "$T/rec.err")"

# The user stacks were unwound in the kernel (only a process's first samples, before its
# mappings and tables are loaded, come to user space as stack copies).
kern=$(sed -nE 's/.*: ([0-9]+) samples \([0-9]+ lost, ([0-9]+) unwound in the kernel\).*/\1 \2/p' "$T/rec.err" | tail -n 1)
set -- $kern
if [ -n "${2:-}" ] && [ "$1" -gt 0 ] && [ $(($2 * 100)) -ge $(($1 * 90)) ]; then
	pass record/unwound_in_kernel
else
	fail record/unwound_in_kernel "samples, unwound in the kernel: ${kern:-none}: $(tail -n 1 "$T/rec.err")"
fi

# Sampled share of stacks holding FRAME (anywhere), in percent.
share() {
	awk -v f="$1" '{ n = $NF; total += n; line = ";" $1 ";"; if (index(line, ";" f ";")) hit += n }
		END { printf "%.2f", total ? 100 * hit / total : 0 }' "$T/burn.folded"
}
truth() {
	awk -v k="$1" '$1 == k { v = $2 } $1 == "total" { t = $2 } END { printf "%.2f", 100 * v / t }' \
		"$T/truth.txt"
}
for pair in leaf_a:recurse_a leaf_b:recurse_b leaf_c:recurse_c sort_work:sort_work; do
	frame=${pair%%:*} key=${pair##*:}
	got=$(share "$frame")
	want=$(truth "$key")
	if awk -v g="$got" -v w="$want" 'BEGIN { d = g - w; exit !(d <= 2 && d >= -2) }'; then
		pass "record/attribution_$frame"
	else
		fail "record/attribution_$frame" "sampled $got%, true $want% (more than 2 points apart)"
	fi
	echo "    $frame: sampled $got%, true $want%"
done

complete=$(awk '{ n = $NF; total += n; split($1, f, ";");
		if (f[1] == "_start" || f[1] == "__clone3" || f[1] == "clone" || f[1] == "clone3") ok += n }
	END { printf "%.2f", total ? 100 * ok / total : 0 }' "$T/burn.folded")
echo "    stacks unwound to _start/clone: $complete%"
if awk -v c="$complete" 'BEGIN { exit !(c >= 99) }'; then
	pass record/complete_stacks
else
	fail record/complete_stacks "only $complete% of samples unwind to _start/clone"
fi

depth=$(awk '{ n = gsub(/;recurse;/, ";recurse;x;"); if (n > m) m = n } END { print m + 0 }' \
	<(sed 's/;/;;/g' "$T/burn.folded"))
if [ "$depth" -ge 60 ]; then
	pass record/deep_recursion
else
	fail record/deep_recursion "deepest run of recurse frames is $depth, want >= 60"
fi

# The comparator is called back from libc: its stacks must go on through qsort to sort_work.
cb=$(awk '$1 ~ /;cmp_ints$/ { n = $NF; all += n; if ($1 ~ /;sort_work;.*;cmp_ints$/ && $1 ~ /^(_start|__clone3);/) ok += n }
	END { printf "%d %d", all, ok }' "$T/burn.folded")
set -- $cb
if [ "$1" -gt 0 ] && [ $(($2 * 100)) -ge $(($1 * 99)) ]; then
	pass record/qsort_callback
else
	fail record/qsort_callback "cmp_ints stacks: $1, complete through libc: $2"
fi

# 2. perf with DWARF unwinding on the same workload agrees on the leaves (self shares).
if command -v perf >/dev/null 2>&1 &&
	BURN_OUT=$T/truth_perf.txt perf record -q -F 499 --call-graph dwarf -o "$T/perf.data" -- "$T/burn" 2 1 \
		>/dev/null 2>"$T/perf.err"; then
	perf report -i "$T/perf.data" --stdio --no-children --sort sym -q 2>/dev/null |
		awk '{ gsub("%", "", $1); print $NF, $1 }' >"$T/perf.self"
	self() {
		awk -v f="$1" '{ n = $NF; total += n; k = split($1, s, ";"); if (s[k] == f) hit += n }
			END { printf "%.2f", total ? 100 * hit / total : 0 }' "$T/burn.folded"
	}
	# The two runs of the workload split their time a little differently, so compare each
	# tool's error against its own run's true shares: the errors must agree within 4 points.
	ok=1
	for f in leaf_a leaf_b leaf_c; do
		p=$(awk -v f="$f" '$1 == f { print $2 }' "$T/perf.self")
		e=$(self "$f")
		key=recurse_${f#leaf_}
		te=$(truth "$key")
		tp=$(awk -v k="$key" '$1 == k { v = $2 } $1 == "total" { t = $2 }
			END { printf "%.2f", t ? 100 * v / t : 0 }' "$T/truth_perf.txt" 2>/dev/null)
		echo "    $f self: ember $e% (true $te%), perf --call-graph dwarf ${p:-?}% (true ${tp:-?}%)"
		awk -v a="$e" -v ta="$te" -v b="${p:-1000}" -v tb="${tp:-0}" \
			'BEGIN { d = (a - ta) - (b - tb); exit !(d <= 4 && d >= -4) }' || ok=0
	done
	if [ $ok -eq 1 ]; then
		pass record/agrees_with_perf
	else
		fail record/agrees_with_perf "leaf shares differ from perf's by more than 4 points"
	fi
else
	skip record/agrees_with_perf "perf record --call-graph dwarf does not run here"
fi

# 3. Kernel frames: a syscall-heavy loop, folded root-first: user frames, then kernel "_[k]".
if "$EMBER_REC" record -F 499 -o "$T/sys.folded" -- "$T/syscalls" 1.5 >/dev/null 2>"$T/sys.err"; then
	kshare=$(awk '{ n = $NF; total += n; if ($1 ~ /_\[k\]/) k += n } END { printf "%d", total ? 100 * k / total : 0 }' "$T/sys.folded")
	order=$(awk '$1 ~ /^_start;.*;copy_loop;[^;]*;[^;]*_\[k\]/ { n += $NF } END { print n + 0 }' "$T/sys.folded")
	if [ "$kshare" -ge 50 ] && [ "$order" -gt 0 ]; then
		pass record/kernel_frames
	else
		fail record/kernel_frames "kernel frames in $kshare% of samples, user-then-kernel stacks: $order"
	fi
else
	fail record/kernel_frames "record failed: $(head -c 200 "$T/sys.err")"
fi

# 4. The fallback mode: every stack copied to user space and unwound there.
if BURN_OUT=$T/truth_u.txt "$EMBER_REC" record --user-unwind -F 499 -o "$T/user.folded" -- "$T/burn" 2 1 \
	>/dev/null 2>"$T/user.err"; then
	uc=$(awk '{ n = $NF; total += n; split($1, f, ";");
		if (f[1] == "_start" || f[1] == "__clone3" || f[1] == "clone" || f[1] == "clone3" ||
			f[1] ~ /^ld-linux/) ok += n }
		END { printf "%.2f", total ? 100 * ok / total : 0 }' "$T/user.folded")
	echo "    --user-unwind: $uc% complete; $(tail -n 1 "$T/user.err")"
	if grep -q ' 0 unwound in the kernel' "$T/user.err" && awk -v c="$uc" 'BEGIN { exit !(c >= 99) }'; then
		pass record/user_unwind_mode
	else
		fail record/user_unwind_mode "$uc% complete: $(tail -n 1 "$T/user.err")"
	fi
else
	fail record/user_unwind_mode "record --user-unwind failed: $(head -c 200 "$T/user.err")"
fi

# 5. Usage errors.
if "$EMBER_REC" record >/dev/null 2>&1; then
	fail record/usage "no command accepted"
else
	pass record/usage
fi
finish
