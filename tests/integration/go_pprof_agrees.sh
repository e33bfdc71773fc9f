#!/usr/bin/env bash
# go_pprof_agrees.sh — every pprof file Ember writes reads the same in `go tool pprof` as in
# Ember, and conversions keep the numbers. For each output and each of its sample types, the
# table of `go tool pprof -top` (all nodes, no trimming, exact base units) equals the table of
# `ember top --raw -n 0` row for row (function, flat, cum):
#   - convert pprof -> pprof of each Go runtime profile (also equal to pprof's table of the
#     original);
#   - convert folded -> pprof of a generated folded file (names with spaces and C++ symbols,
#     recursion, shared prefixes) and of Ember's folded output of a Go CPU profile;
#   - merge of two folded files.
# Round trip pprof -> folded -> pprof keeps every function's flat and cum (per sample type, as
# folded holds one type), judged by go tool pprof and by ember.
source "$(dirname "$0")/lib/common.bash"

if reason=$(go_missing_reason); then
	skip go_pprof_agrees "$reason"
	exit 0
fi
if ! P=$(go_profiles); then
	fail go_pprof_agrees "profgen failed to build or run"
	exit 1
fi

# check_file NAME FILE [ORIGINAL]: pprof's table == ember's table for every sample type of FILE
# (and == pprof's table of ORIGINAL when given).
check_file() {
	local name=$1 f=$2 orig=${3:-} types ok=1
	types=$(pprof_sample_types "$f")
	if [ -z "$types" ]; then
		fail "$name" "go tool pprof cannot read it: $(go tool pprof -raw "$f" 2>&1 | head -2 | tr '\n' ' ')"
		return
	fi
	for tu in $types; do
		local ty=${tu%%/*} unit=${tu#*/}
		pprof_top "$f" "$ty" "$unit" >"$T/want"
		ember_top "$ty" "$f" >"$T/got" 2>"$T/err"
		compare_rows "$name/$ty" "$T/want" "$T/got" || ok=0
		if [ -n "$orig" ]; then
			pprof_top "$orig" "$ty" "$unit" >"$T/orig"
			compare_rows "$name/$ty/same_as_original" "$T/orig" "$T/want" || ok=0
		fi
	done
	[ $ok -eq 1 ] && pass "$name"
}

# 1. pprof -> pprof
for prof in cpu labels heap goroutine block mutex; do
	out=$T/conv_$prof.pb.gz
	if "$EMBER" convert "$P/$prof.pb.gz" -o "$out" 2>"$T/err"; then
		check_file "go_pprof_agrees/convert_pprof/$prof" "$out" "$P/$prof.pb.gz"
	else
		fail "go_pprof_agrees/convert_pprof/$prof" "ember convert: $(head -c 200 "$T/err")"
	fi
done

# 2. folded -> pprof: a generated file with awkward names.
gen_folded() { # seed
	awk -v seed="$1" 'BEGIN {
		srand(seed)
		n = split("main|std::vector<int>::push_back(int const&)|func with space|[unknown]|" \
			"runtime.mallocgc|a.b/c.(*T).Method|parse|eval|eval|render|_start|x;y", f, "|")
		for (i = 1; i <= 300; i++) {
			d = 1 + int(rand() * 12)
			s = "root"
			for (j = 0; j < d; j++) {
				k = 1 + int(rand() * (n - 1))  # the last name (with ";") is never used
				s = s ";" f[k]
			}
			print s " " (1 + int(rand() * 1000))
		}
	}'
}
gen_folded 7 >"$T/a.folded"
gen_folded 11 >"$T/b.folded"
if "$EMBER" convert "$T/a.folded" -o "$T/a.pb.gz" 2>"$T/err"; then
	check_file go_pprof_agrees/convert_folded/generated "$T/a.pb.gz"
	# The folded file's own totals: sum of counts.
	want=$(awk '{ s += $NF } END { printf "%.0f", s }' "$T/a.folded")
	got=$("$EMBER" top --raw "$T/a.pb.gz" | top_total)
	if [ "$got" = "$want" ]; then
		pass go_pprof_agrees/convert_folded/total
	else
		fail go_pprof_agrees/convert_folded/total "folded sum $want, ember total $got"
	fi
else
	fail go_pprof_agrees/convert_folded/generated "ember convert: $(head -c 200 "$T/err")"
fi

# 3. merge of folded files
if "$EMBER" merge -o "$T/ab.pb.gz" "$T/a.folded" "$T/b.folded" 2>"$T/err"; then
	check_file go_pprof_agrees/merge_folded "$T/ab.pb.gz"
else
	fail go_pprof_agrees/merge_folded "ember merge: $(head -c 200 "$T/err")"
fi

# 4. Round trip pprof -> folded -> pprof, per sample type.
roundtrip() { # name file
	local name=$1 f=$2 types ok=1
	types=$(pprof_sample_types "$f")
	for tu in $types; do
		local ty=${tu%%/*} unit=${tu#*/}
		if ! "$EMBER" convert "$f" -t "$ty" -o "$T/rt.folded" 2>"$T/err" ||
			! "$EMBER" convert "$T/rt.folded" -o "$T/rt.pb.gz" 2>>"$T/err"; then
			fail "$name/$ty" "ember convert: $(head -c 200 "$T/err")"
			ok=0
			continue
		fi
		# go tool pprof: the original in base units vs the round trip (unit "count").
		pprof_top "$f" "$ty" "$unit" >"$T/want"
		pprof_top "$T/rt.pb.gz" samples count >"$T/got"
		compare_rows "$name/$ty/pprof" "$T/want" "$T/got" || ok=0
		ember_top "$ty" "$f" >"$T/want"
		ember_top samples "$T/rt.pb.gz" >"$T/got"
		compare_rows "$name/$ty/ember" "$T/want" "$T/got" || ok=0
	done
	[ $ok -eq 1 ] && pass "$name"
}
roundtrip go_pprof_agrees/roundtrip_folded/cpu "$P/cpu.pb.gz"
roundtrip go_pprof_agrees/roundtrip_folded/heap "$P/heap.pb.gz"
roundtrip go_pprof_agrees/roundtrip_folded/labels "$P/labels.pb.gz"

finish
