#!/usr/bin/env bash
# cli.sh — the behaviour of the `ember` command line, without Go: --help/--version, exit codes
# (0 ok, 1 runtime/input error, 2 usage error), messages that name the file, '-' for stdin and
# stdout, output format from the file extension, well-formed SVG, `ember top` numbers on a
# folded input with known counts, and `ember diff` naming the known biggest change.
source "$(dirname "$0")/lib/common.bash"

# expect_rc NAME WANT_RC [grep PATTERN on stderr+stdout or ""] -- command...
expect() {
	local name=$1 want=$2 pat=$3
	shift 4
	"$@" >"$T/out" 2>"$T/err"
	local rc=$?
	if [ "$rc" -ne "$want" ]; then
		fail "$name" "exit status $rc, want $want; stderr: $(head -c 200 "$T/err")"
	elif [ -n "$pat" ] && ! grep -qE -- "$pat" "$T/out" "$T/err"; then
		fail "$name" "output lacks /$pat/: $(head -c 200 "$T/out" "$T/err" | tr '\n' ' ')"
	else
		pass "$name"
	fi
}

if [ ! -x "$EMBER" ]; then
	fail cli "no ember binary at $EMBER"
	exit 1
fi

# --- help, version, dispatch -------------------------------------------------------------------
expect cli/help 0 'usage: ember' -- "$EMBER" --help
expect cli/help_lists_commands 0 'convert' -- "$EMBER" --help
expect cli/version 0 '^ember [0-9]+\.[0-9]+' -- "$EMBER" --version
expect cli/no_args 2 'usage' -- "$EMBER"
expect cli/unknown_command 2 'not an ember command' -- "$EMBER" frobnicate
expect cli/unknown_global_option 2 'unknown option' -- "$EMBER" --frobnicate
expect cli/help_unknown 2 'not an ember command' -- "$EMBER" help frobnicate
# Every command in `ember --help`'s list (so new commands are covered too).
cmds=$("$EMBER" --help | awk '/^Commands:/ { on = 1; next } on && /^   [a-z]/ { print $1 }')
for c in convert top merge diff; do
	grep -qx "$c" <<<"$cmds" || fail "cli/$c/listed" "'ember --help' does not list $c"
done
for c in $cmds; do
	expect "cli/$c/help" 0 "usage: ember $c" -- "$EMBER" "$c" --help
	expect "cli/$c/help_cmd" 0 "usage: ember $c" -- "$EMBER" help "$c"
	expect "cli/$c/help_exit_codes" 0 'Exit status' -- "$EMBER" "$c" --help
	expect "cli/$c/bad_option" 2 "ember $c" -- "$EMBER" "$c" --no-such-option
done

# --- fixtures with known counts ----------------------------------------------------------------
cat >"$T/base.folded" <<'F'
main;serve;parse 100
main;serve;render 50
main;serve;render;escape 30
main;gc 20
F
cat >"$T/new.folded" <<'F'
main;serve;parse 110
main;serve;render 250
main;serve;render;escape 25
main;gc 20
main;log 5
F
printf 'this is not;a profile\x01\x02\x03' >"$T/corrupt.pb"
printf '\x0a\x05\x08\x01\x10' >"$T/truncated.pb"

# --- usage and input errors --------------------------------------------------------------------
expect cli/top/no_input 2 'no input' -- "$EMBER" top
expect cli/top/bad_n 2 "'-n'" -- "$EMBER" top -n abc "$T/base.folded"
expect cli/convert/no_output 2 'no output' -- "$EMBER" convert "$T/base.folded"
expect cli/convert/stdout_needs_format 2 'format' -- "$EMBER" convert "$T/base.folded" -o -
expect cli/convert/unknown_format 2 'unknown format' -- "$EMBER" convert "$T/base.folded" -o x --format bmp
expect cli/convert/unknown_extension 2 'format' -- "$EMBER" convert "$T/base.folded" -o "$T/x.bmp"
expect cli/merge/no_output 2 'no output' -- "$EMBER" merge "$T/base.folded"
expect cli/diff/one_input 2 'two input' -- "$EMBER" diff "$T/base.folded"
expect cli/top/missing_file 1 "$T/nonexistent.pb" -- "$EMBER" top "$T/nonexistent.pb"
expect cli/convert/missing_file 1 "$T/nonexistent.pb" -- "$EMBER" convert "$T/nonexistent.pb" -o "$T/x.pb"
expect cli/top/corrupt_file 1 "corrupt.pb: " -- "$EMBER" top "$T/corrupt.pb"
expect cli/convert/truncated_file 1 "ember convert: $T/truncated.pb: " -- "$EMBER" convert "$T/truncated.pb" -o "$T/x.pb"
expect cli/merge/corrupt_second 1 "corrupt.pb" -- "$EMBER" merge -o "$T/m.pb" "$T/base.folded" "$T/corrupt.pb"
if [ ! -e "$T/m.pb" ] && [ ! -e "$T/x.pb" ]; then
	pass cli/no_output_on_error
else
	fail cli/no_output_on_error "an output file was left behind after a failed command"
fi
: >"$T/empty"
expect cli/top/empty_file 1 "empty" -- "$EMBER" top "$T/empty"
expect cli/top/unknown_sample_type 1 "no sample type 'nope'" -- "$EMBER" top -t nope "$T/base.folded"
expect cli/top/bad_regex 2 "" -- "$EMBER" top --focus '(' "$T/base.folded"
if [ -w /dev/full ]; then
	expect cli/top/stdout_write_error 1 'error writing' -- \
		sh -c '"$0" top "$1" >/dev/full' "$EMBER" "$T/base.folded"
	expect cli/version/stdout_write_error 1 '' -- sh -c '"$0" --version >/dev/full' "$EMBER"
fi

# --- top on known counts -----------------------------------------------------------------------
"$EMBER" top --raw -n 0 "$T/new.folded" >"$T/top" 2>"$T/err"
rows=$(top_rows <"$T/top" | tr '\t' ' ' | tr '\n' '|')
want='escape 25 25|gc 20 20|log 5 5|main 0 410|parse 110 110|render 250 275|serve 0 385|'
if [ "$rows" = "$want" ] && [ "$(top_total <"$T/top")" = 410 ]; then
	pass cli/top/known_counts
else
	fail cli/top/known_counts "got '$rows' total $(top_total <"$T/top"), want '$want' 410"
fi
first=$("$EMBER" top --raw -n 1 "$T/new.folded" | tail -1)
n=$("$EMBER" top --raw -n 2 "$T/new.folded" | top_rows | wc -l)
if [[ "$first" == *render ]] && [ "$n" = 2 ]; then
	pass cli/top/n_and_order
else
	fail cli/top/n_and_order "first row '$first', $n rows with -n 2"
fi
first=$("$EMBER" top --raw --cum -n 1 "$T/new.folded" | tail -1)
[[ "$first" == *main ]] && pass cli/top/cum || fail cli/top/cum "first row by cum '$first'"
got=$("$EMBER" top --raw --focus '^render$' "$T/new.folded" | top_total)
rows=$("$EMBER" top --raw -n 0 --focus '^render$' "$T/new.folded" | top_rows | tr '\t' ' ' | tr '\n' '|')
case $rows in
*"render 250 275|"*) pass cli/top/focus ;;
*) fail cli/top/focus "rows '$rows' total '$got'" ;;
esac
rows=$("$EMBER" top --raw -n 0 --ignore 'escape' "$T/new.folded" | top_rows | tr '\t' ' ' | tr '\n' '|')
case $rows in
*escape*) fail cli/top/ignore "escape still listed: $rows" ;;
*"render 250 250|"*) pass cli/top/ignore ;;
*) fail cli/top/ignore "rows '$rows'" ;;
esac
"$EMBER" top "$T/new.folded" >"$T/top_scaled"
if grep -qE '^ *flat +flat% +sum% +cum +cum%$' "$T/top_scaled" && grep -q '60.98%' "$T/top_scaled"; then
	pass cli/top/table_format
else
	fail cli/top/table_format "$(head -c 300 "$T/top_scaled" | tr '\n' '|')"
fi
# Two files are merged.
got=$("$EMBER" top --raw "$T/base.folded" "$T/new.folded" | top_total)
[ "$got" = 610 ] && pass cli/top/merges_files || fail cli/top/merges_files "total $got, want 610"

# --- stdin / stdout ----------------------------------------------------------------------------
got=$("$EMBER" top --raw - <"$T/new.folded" 2>&1 | top_total)
[ "$got" = 410 ] && pass cli/top/stdin || fail cli/top/stdin "total '$got'"
"$EMBER" convert "$T/new.folded" -o - --format pprof >"$T/stdout.pb.gz" 2>"$T/err"
if [ "$(head -c 2 "$T/stdout.pb.gz" | od -An -tx1 | tr -d ' ')" = 1f8b ]; then
	pass cli/convert/stdout_pprof_gzip
else
	fail cli/convert/stdout_pprof_gzip "no gzip magic on stdout ($(head -c 200 "$T/err"))"
fi
"$EMBER" convert - -o - --format folded <"$T/stdout.pb.gz" >"$T/rt.folded" 2>"$T/err"
if [ "$(LC_ALL=C sort "$T/rt.folded")" = "$(LC_ALL=C sort "$T/new.folded")" ]; then
	pass cli/convert/stdin_stdout_roundtrip
else
	fail cli/convert/stdin_stdout_roundtrip "$(diff <(LC_ALL=C sort "$T/new.folded") <(LC_ALL=C sort "$T/rt.folded") | head -4 | tr '\n' '|')"
fi
"$EMBER" merge -o - "$T/base.folded" - <"$T/new.folded" >"$T/m_stdout.pb.gz" 2>"$T/err"
got=$("$EMBER" top --raw "$T/m_stdout.pb.gz" 2>&1 | top_total)
[ "$got" = 610 ] && pass cli/merge/stdin_stdout || fail cli/merge/stdin_stdout "total '$got' ($(head -c 200 "$T/err"))"

# --- format from extension ---------------------------------------------------------------------
is_xml() {
	if command -v python3 >/dev/null 2>&1; then
		python3 -c 'import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); sys.exit(0 if r.tag.endswith("svg") else 1)' "$1"
	elif command -v xmllint >/dev/null 2>&1; then
		xmllint --noout "$1"
	else
		grep -q '<svg' "$1" && tail -c 100 "$1" | grep -q '</svg>'
	fi
}
is_json() {
	if command -v python3 >/dev/null 2>&1; then
		python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$1"
	else
		head -c 1 "$1" | grep -q '{'
	fi
}
for ext in pb pb.gz pprof folded txt speedscope.json json svg; do
	out=$T/ext_test.$ext
	if ! "$EMBER" convert "$T/new.folded" -o "$out" 2>"$T/err"; then
		fail "cli/convert/ext_$ext" "$(head -c 200 "$T/err")"
		continue
	fi
	case $ext in
	pb | pb.gz | pprof)
		[ "$(head -c 2 "$out" | od -An -tx1 | tr -d ' ')" = 1f8b ] &&
			[ "$("$EMBER" top --raw "$out" | top_total)" = 410 ] ;;
	folded | txt) [ "$(LC_ALL=C sort "$out")" = "$(LC_ALL=C sort "$T/new.folded")" ] ;;
	speedscope.json) is_json "$out" && grep -q 'speedscope' "$out" && grep -q '"sampled"' "$out" ;;
	json) is_json "$out" && grep -q '"flamebearer"' "$out" && grep -q '"levels"' "$out" ;;
	svg) is_xml "$out" && grep -q 'render' "$out" ;;
	esac
	if [ $? -eq 0 ]; then pass "cli/convert/ext_$ext"; else fail "cli/convert/ext_$ext" "wrong content"; fi
done
"$EMBER" convert "$T/new.folded" -o "$T/forced.svg" --format folded 2>/dev/null
if grep -q '^main;serve;render 250$' "$T/forced.svg"; then
	pass cli/convert/format_overrides_extension
else
	fail cli/convert/format_overrides_extension "--format folded not honoured"
fi

# --- diff --------------------------------------------------------------------------------------
"$EMBER" diff --raw "$T/base.folded" "$T/new.folded" >"$T/diff" 2>"$T/err"
rc=$?
row=$(awk '/^ *base +new +delta/ { getline; print; exit }' "$T/diff")
read -r b n d p name <<<"$row"
if [ $rc -eq 0 ] && [ "$name" = render ] && [ "$b" = 50 ] && [ "$n" = 250 ] && [ "$d" = +200 ] &&
	[ "$p" = +400.00% ]; then
	pass cli/diff/biggest_change
else
	fail cli/diff/biggest_change "rc $rc, first row '$row'"
fi
if grep -qE '^ +0 +5 +\+5 +new +log$' "$T/diff" && grep -qE ' -5 +-16.67% +escape$' "$T/diff" &&
	! grep -qE ' gc$' "$T/diff"; then
	pass cli/diff/rows
else
	fail cli/diff/rows "$(tr '\n' '|' <"$T/diff")"
fi
n=$("$EMBER" diff --raw -n 2 "$T/base.folded" "$T/new.folded" | awk '/^ *base +new/ { on = 1; next } on' | wc -l)
[ "$n" = 2 ] && pass cli/diff/n || fail cli/diff/n "$n rows with -n 2"
if "$EMBER" diff "$T/base.folded" "$T/new.folded" -o "$T/diff.svg" >/dev/null 2>"$T/err" && is_xml "$T/diff.svg"; then
	pass cli/diff/svg
else
	fail cli/diff/svg "$(head -c 200 "$T/err")"
fi
if "$EMBER" diff "$T/base.folded" "$T/new.folded" -o "$T/diff.json" >/dev/null 2>"$T/err" &&
	is_json "$T/diff.json" && grep -q 'leftTicks' "$T/diff.json"; then
	pass cli/diff/json
else
	fail cli/diff/json "$(head -c 200 "$T/err")"
fi
expect cli/diff/bad_extension 2 'svg' -- "$EMBER" diff "$T/base.folded" "$T/new.folded" -o "$T/d.pb"
expect cli/diff/missing_base 1 'nope.folded' -- "$EMBER" diff "$T/nope.folded" "$T/new.folded"

finish
