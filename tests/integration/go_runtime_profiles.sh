#!/usr/bin/env bash
# go_runtime_profiles.sh — Ember reads real Go runtime profiles the way `go tool pprof` does.
# profgen (tests/integration/go/profgen) writes CPU, labelled CPU, heap, goroutine, block and
# mutex profiles with runtime/pprof. For every profile and every sample type:
#   - the total `ember top --raw` reports equals the sum of that column in `go tool pprof -raw`;
#   - every function's flat and cum equal those of `go tool pprof -top` (exact, base units).
# For the labelled profile: `--tagfocus worker=alpha` selects the same total as pprof's
# -tagfocus, and the labels survive `ember convert` to pprof (`go tool pprof -tags` identical).
# Also checks the known shape of the CPU profile (hotA, hotB, hotC have flat time, hotA > hotC).
source "$(dirname "$0")/lib/common.bash"

if reason=$(go_missing_reason); then
	skip go_runtime_profiles "$reason"
	exit 0
fi
if ! P=$(go_profiles); then
	fail go_runtime_profiles "profgen failed to build or run"
	exit 1
fi

# Column sums of the Samples section of `go tool pprof -raw`, one per sample type.
raw_totals() {
	go tool pprof "${PPROF_FLAGS[@]}" -raw "$1" 2>/dev/null | awk '
		/^Samples:/ { on = 1; getline; n = NF; next }
		/^Locations/ { on = 0 }
		on && /:/ && $0 !~ /^ +[a-zA-Z_]+:\[/ {
			split($0, parts, ":"); m = split(parts[1], v, " ")
			for (i = 1; i <= m; i++) s[i] += v[i]
		}
		END { for (i = 1; i <= n; i++) printf "%.0f\n", s[i] }'
}

for prof in cpu labels heap goroutine block mutex; do
	f=$P/$prof.pb.gz
	name=go_runtime_profiles/$prof
	types=$(pprof_sample_types "$f")
	if [ -z "$types" ]; then
		fail "$name" "go tool pprof cannot read $f"
		continue
	fi
	mapfile -t totals < <(raw_totals "$f")
	i=0
	ok=1
	for tu in $types; do
		ty=${tu%%/*}
		unit=${tu#*/}
		want=${totals[$i]}
		got=$("$EMBER" top --raw -n 1 -t "$ty" "$f" 2>"$T/err" | top_total)
		if [ "$got" != "$want" ]; then
			fail "$name/$ty/total" "ember total '$got', go tool pprof -raw total '$want' ($(head -c 200 "$T/err"))"
			ok=0
		fi
		pprof_top "$f" "$ty" "$unit" >"$T/want"
		ember_top "$ty" "$f" >"$T/got" 2>"$T/err"
		compare_rows "$name/$ty/top" "$T/want" "$T/got" || ok=0
		i=$((i + 1))
	done
	[ $ok -eq 1 ] && pass "$name"
done

# Known shape of the CPU profile (work ratio 4:2:1): hotA, hotB, hotC all have flat time and
# hotA's is larger than hotC's (a loose check: sampling on a shared machine is noisy).
"$EMBER" top --raw -n 0 -t cpu "$P/cpu.pb.gz" | top_rows >"$T/cpu"
a=$(awk -F'\t' '$1 == "main.hotA" { print $2 }' "$T/cpu")
b=$(awk -F'\t' '$1 == "main.hotB" { print $2 }' "$T/cpu")
c=$(awk -F'\t' '$1 == "main.hotC" { print $2 }' "$T/cpu")
if [ -n "$a" ] && [ -n "$b" ] && [ -n "$c" ] && [ "$a" -gt "$c" ] && [ "$b" -gt 0 ] &&
	[ "$c" -gt 0 ]; then
	pass go_runtime_profiles/cpu_shape
else
	fail go_runtime_profiles/cpu_shape "expected flat hotA > hotC > 0 and hotB > 0, got '$a' '$b' '$c'"
fi

# Labels: a label filter selects what pprof's -tagfocus selects.
L=$P/labels.pb.gz
for sel in worker=alpha worker=beta phase=one; do
	want=$(go tool pprof "${PPROF_FLAGS[@]}" -top -unit=ns -sample_index=cpu -tagfocus="$sel" "$L" \
		2>/dev/null | top_total)
	got=$("$EMBER" top --raw -t cpu --tagfocus "$sel" "$L" 2>"$T/err" | top_total)
	if [ -n "$want" ] && [ "$got" = "$want" ]; then
		pass "go_runtime_profiles/labels/tagfocus_$sel"
	else
		fail "go_runtime_profiles/labels/tagfocus_$sel" "ember '$got', go tool pprof '$want' ($(head -c 200 "$T/err"))"
	fi
done
sel_alpha=$("$EMBER" top --raw -n 0 -t cpu --tagfocus worker=alpha "$L" | top_rows)
if grep -q 'main.alphaWork' <<<"$sel_alpha" && ! grep -q 'main.betaWork' <<<"$sel_alpha"; then
	pass go_runtime_profiles/labels/alpha_only
else
	fail go_runtime_profiles/labels/alpha_only "worker=alpha should keep alphaWork and drop betaWork"
fi

# Labels survive conversion to pprof.
if "$EMBER" convert "$L" -o "$T/labels.pb.gz" 2>"$T/err"; then
	go tool pprof "${PPROF_FLAGS[@]}" -tags -unit=ns "$L" 2>/dev/null >"$T/tags.want"
	go tool pprof "${PPROF_FLAGS[@]}" -tags -unit=ns "$T/labels.pb.gz" 2>/dev/null >"$T/tags.got"
	if [ -s "$T/tags.want" ] && grep -q alpha "$T/tags.want" && cmp -s "$T/tags.want" "$T/tags.got"; then
		pass go_runtime_profiles/labels/convert_keeps_labels
	else
		fail go_runtime_profiles/labels/convert_keeps_labels "go tool pprof -tags differs: $(diff "$T/tags.want" "$T/tags.got" | head -4 | tr '\n' '|')"
	fi
else
	fail go_runtime_profiles/labels/convert_keeps_labels "ember convert failed: $(head -c 200 "$T/err")"
fi

finish
