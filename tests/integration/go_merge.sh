#!/usr/bin/env bash
# go_merge.sh — `ember merge` of five Go CPU profiles agrees with `go tool pprof -proto` of the
# same five: for every sample type, every function's flat and cum in Ember's merged file equal
# those in pprof's merged file (read by ember top and by go tool pprof), the totals equal the
# sums of the inputs' totals, and merging heap profiles (four sample types) agrees the same way.
source "$(dirname "$0")/lib/common.bash"

if reason=$(go_missing_reason); then
	skip go_merge "$reason"
	exit 0
fi
if ! P=$(go_profiles); then
	fail go_merge "profgen failed to build or run"
	exit 1
fi

merge_case() { # name files...
	local name=$1 ok=1
	shift
	if ! "$EMBER" merge -o "$T/ember.pb.gz" "$@" 2>"$T/err"; then
		fail "$name" "ember merge: $(head -c 200 "$T/err")"
		return
	fi
	if ! go tool pprof "${PPROF_FLAGS[@]}" -proto "$@" >"$T/go.pb.gz" 2>"$T/goerr"; then
		fail "$name" "go tool pprof -proto: $(head -c 200 "$T/goerr")"
		return
	fi
	for tu in $(pprof_sample_types "$T/go.pb.gz"); do
		local ty=${tu%%/*} unit=${tu#*/} sum=0 t
		ember_top "$ty" "$T/go.pb.gz" >"$T/want"
		ember_top "$ty" "$T/ember.pb.gz" >"$T/got"
		compare_rows "$name/$ty/ember_top" "$T/want" "$T/got" || ok=0
		pprof_top "$T/go.pb.gz" "$ty" "$unit" >"$T/want"
		pprof_top "$T/ember.pb.gz" "$ty" "$unit" >"$T/got"
		compare_rows "$name/$ty/pprof_top" "$T/want" "$T/got" || ok=0
		for f in "$@"; do
			t=$("$EMBER" top --raw -n 1 -t "$ty" "$f" | top_total)
			sum=$((sum + t))
		done
		t=$("$EMBER" top --raw -n 1 -t "$ty" "$T/ember.pb.gz" | top_total)
		if [ "$t" != "$sum" ]; then
			fail "$name/$ty/total" "merged total $t, sum of inputs $sum"
			ok=0
		fi
	done
	[ $ok -eq 1 ] && pass "$name"
}

merge_case go_merge/cpu5 "$P/cpu.pb.gz" "$P/cpu1.pb.gz" "$P/cpu2.pb.gz" "$P/cpu3.pb.gz" "$P/cpu4.pb.gz"
merge_case go_merge/heap_twice "$P/heap.pb.gz" "$P/heap.pb.gz"
merge_case go_merge/cpu_and_labels "$P/cpu1.pb.gz" "$P/labels.pb.gz"

finish
