#!/usr/bin/env bash
# merge_many.sh — `ember merge` of several inputs, where a reader thread reads and gunzips the
# next input while the previous one is parsed and merged: the result equals merging the same
# inputs one call at a time (raw, gzipped and folded inputs mixed), and an input that fails —
# truncated, empty, missing, bad gzip, gzip of a gzip, other sample types — anywhere in the list
# gives exit status 1 and the same message naming that file as `ember merge` of that file alone
# would, with no output.
source "$(dirname "$0")/lib/common.bash"

if [ ! -x "$EMBER" ]; then
	fail merge_many "no ember binary at $EMBER"
	exit 1
fi

# expect_fail NAME PATTERN FILE...: merge fails with status 1, a message matching PATTERN, no output.
expect_fail() {
	local name=$1 pat=$2
	shift 2
	rm -f "$T/out.pb.gz"
	"$EMBER" merge -o "$T/out.pb.gz" "$@" >"$T/out" 2>"$T/err"
	local rc=$?
	if [ "$rc" -ne 1 ]; then
		fail "$name" "exit status $rc, want 1; stderr: $(head -c 200 "$T/err")"
	elif ! grep -qE -- "$pat" "$T/err"; then
		fail "$name" "stderr lacks /$pat/: $(head -c 300 "$T/err" | tr '\n' ' ')"
	elif [ -e "$T/out.pb.gz" ]; then
		fail "$name" "an output file was written"
	else
		pass "$name"
	fi
}

# Inputs: two-type pprof (cpu + samples) from folded text via convert, gzipped and raw.
for i in 1 2 3 4 5 6; do
	{
		echo "main;serve;parse $((10 * i))"
		echo "main;serve;render;escape $((i + 3))"
		echo "main;gc $i"
		echo "main;f$i;g$i $((100 + i))"
	} >"$T/in$i.folded"
done
for i in 1 2 3; do
	"$EMBER" convert "$T/in$i.folded" -o "$T/in$i.pb.gz" || fail merge_many/setup "convert $i"
done
"$EMBER" convert "$T/in4.folded" -o "$T/in4.pb.gz"
gzip -dc "$T/in4.pb.gz" >"$T/in4.pb"
gzip -c "$T/in5.folded" >"$T/in5.folded.gz"

# One input at a time, accumulated: the reference.
cp "$T/in1.pb.gz" "$T/ref.pb.gz"
for f in "$T/in2.pb.gz" "$T/in3.pb.gz" "$T/in4.pb" "$T/in5.folded.gz" "$T/in6.folded"; do
	"$EMBER" merge -o "$T/ref2.pb.gz" "$T/ref.pb.gz" "$f" 2>"$T/err" ||
		fail merge_many/reference "$(head -c 200 "$T/err")"
	mv "$T/ref2.pb.gz" "$T/ref.pb.gz"
done
"$EMBER" top --raw -n 0 "$T/ref.pb.gz" >"$T/ref.top"
rows=$(grep -c . "$T/ref.top")

"$EMBER" merge -o "$T/all.pb.gz" "$T/in1.pb.gz" "$T/in2.pb.gz" "$T/in3.pb.gz" "$T/in4.pb" \
	"$T/in5.folded.gz" "$T/in6.folded" 2>"$T/err"
rc=$?
"$EMBER" top --raw -n 0 "$T/all.pb.gz" >"$T/all.top" 2>>"$T/err"
if [ $rc -eq 0 ] && [ "$rows" -gt 5 ] && cmp -s "$T/ref.top" "$T/all.top"; then
	pass merge_many/mixed_inputs_equal_one_at_a_time
else
	fail merge_many/mixed_inputs_equal_one_at_a_time \
		"rc $rc, $rows rows: $(diff "$T/ref.top" "$T/all.top" | head -4 | tr '\n' '|') $(head -c 200 "$T/err")"
fi
want=$(( (10 + 20 + 30 + 40 + 50 + 60) + (4 + 5 + 6 + 7 + 8 + 9) + 21 + (101 + 102 + 103 + 104 + 105 + 106) ))
got=$("$EMBER" top --raw "$T/all.pb.gz" | top_total)
[ "$got" = "$want" ] && pass merge_many/total || fail merge_many/total "total '$got', want $want"

# The same twelve inputs twice over: more inputs than the reader's slots.
many=()
for k in 1 2; do
	many+=("$T/in1.pb.gz" "$T/in2.pb.gz" "$T/in3.pb.gz" "$T/in4.pb" "$T/in5.folded.gz" "$T/in6.folded")
done
"$EMBER" merge -o "$T/many.pb.gz" "${many[@]}" 2>"$T/err"
got=$("$EMBER" top --raw "$T/many.pb.gz" 2>&1 | top_total)
[ "$got" = "$((2 * want))" ] && pass merge_many/twelve_inputs || fail merge_many/twelve_inputs "total '$got', want $((2 * want)) ($(head -c 200 "$T/err"))"

# Failures anywhere in the list name the file.
head -c 40 "$T/in4.pb" >"$T/trunc.pb"
head -c 30 "$T/in1.pb.gz" >"$T/trunc.pb.gz"
: >"$T/empty.pb"
"$EMBER" merge -o "$T/alone.pb.gz" "$T/trunc.pb" 2>"$T/alone.err"
alone=$(sed 's/^ember merge: //' "$T/alone.err")
expect_fail merge_many/truncated_third "trunc\.pb: pprof: .*byte" "$T/in1.pb.gz" "$T/in4.pb" "$T/trunc.pb" "$T/in3.pb.gz"
if grep -qF -- "$alone" "$T/err"; then
	pass merge_many/truncated_same_message_as_alone
else
	fail merge_many/truncated_same_message_as_alone "'$(cat "$T/err")' vs alone '$alone'"
fi
expect_fail merge_many/bad_gzip_last "trunc\.pb\.gz: gzip: " "$T/in1.pb.gz" "$T/in2.pb.gz" "$T/in3.pb.gz" "$T/trunc.pb.gz"
expect_fail merge_many/empty_second "empty\.pb: empty file" "$T/in1.pb.gz" "$T/empty.pb" "$T/in2.pb.gz"
expect_fail merge_many/missing_second "nope\.pb: No such file" "$T/in1.pb.gz" "$T/nope.pb" "$T/in2.pb.gz"
# Gunzipped once, a gzip of a gzip is gzip bytes: not a profile (pprof does not unwrap twice).
gzip -c "$T/in1.pb.gz" >"$T/twice.pb.gz"
"$EMBER" merge -o "$T/alone.pb.gz" "$T/twice.pb.gz" 2>"$T/alone.err"
alone=$(sed 's/^ember merge: //' "$T/alone.err")
expect_fail merge_many/gzip_of_gzip "twice\.pb\.gz: " "$T/in1.pb.gz" "$T/twice.pb.gz" "$T/in2.pb.gz"
if [ -n "$alone" ] && grep -qF -- "$alone" "$T/err"; then
	pass merge_many/gzip_of_gzip_same_message_as_alone
else
	fail merge_many/gzip_of_gzip_same_message_as_alone "'$(cat "$T/err")' vs alone '$alone'"
fi
# A hand-made pprof whose one sample type is alloc/bytes (the inputs have samples/count).
printf '\x0a\x04\x08\x01\x10\x02\x32\x00\x32\x05alloc\x32\x05bytes' >"$T/alloc.pb"
expect_fail merge_many/types_differ "alloc\.pb: pprof: sample types differ: alloc/bytes" \
	"$T/in1.pb.gz" "$T/in2.pb.gz" "$T/alloc.pb" "$T/in3.pb.gz"
expect_fail merge_many/types_differ_first "in2\.pb\.gz: pprof: sample types differ: samples/count" \
	"$T/alloc.pb" "$T/in2.pb.gz" "$T/in3.pb.gz"
finish
