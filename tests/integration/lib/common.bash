# tests/integration/lib/common.bash — sourced by the integration scripts (not run on its own;
# tests/run.sh runs only tests/integration/*.sh). Gives: pass/fail/skip reporting, a temp dir
# removed on exit ($T), the Go toolchain set up to write only under $BUILD/tests/go, the cached
# profgen program and its profiles, and parsers that turn `go tool pprof -top` and
# `ember top --raw` tables into comparable "name<TAB>flat<TAB>cum" lines.
set -u

: "${BUILD:=build}"
BUILD_ABS=$(cd "$BUILD" && pwd)
: "${EMBER:=$BUILD_ABS/ember}"
INTEG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

T=$(mktemp -d "${TMPDIR:-/tmp}/ember-integ.XXXXXX")
trap 'rm -rf "$T"' EXIT

n_fail=0
pass() { echo "PASS $1"; }
fail() {
	echo "FAIL $1: $2"
	n_fail=$((n_fail + 1))
}
skip() { echo "SKIP $1: $2"; }

# --- Go ----------------------------------------------------------------------------------------
GO_DIR=$BUILD_ABS/tests/go
export GOCACHE=$GO_DIR/cache GOPATH=$GO_DIR/path GO111MODULE=off GOTOOLCHAIN=local GOPROXY=off
export GOFLAGS= GOTELEMETRY=off PPROF_TMPDIR=$T/pprof-tmp
# go tool pprof must not try to symbolize against binaries or the network.
PPROF_FLAGS=(-symbolize=none)

go_missing_reason() {
	if ! command -v go >/dev/null 2>&1; then
		echo "go is not installed (scripts/deps.sh installs golang-go)"
		return 0
	fi
	if ! go tool pprof -h >/dev/null 2>&1; then
		echo "'go tool pprof' does not run"
		return 0
	fi
	return 1
}

# Builds profgen once (again when its source changes) and writes its profiles once into
# $GO_DIR/profiles. Echoes the profile directory.
go_profiles() {
	local src=$INTEG_DIR/go/profgen/main.go bin=$GO_DIR/profgen dir=$GO_DIR/profiles
	mkdir -p "$GO_DIR"
	if [ ! -x "$bin" ] || [ "$src" -nt "$bin" ]; then
		go build -o "$bin.tmp" "$src" >&2 || return 1
		mv "$bin.tmp" "$bin"
	fi
	if [ ! -f "$dir/.done" ] || [ "$bin" -nt "$dir/.done" ]; then
		rm -rf "$dir" "$dir.tmp"
		"$bin" "$dir.tmp" 1.0 >&2 || return 1
		touch "$dir.tmp/.done"
		mv "$dir.tmp" "$dir"
	fi
	echo "$dir"
}

# Sample types of a pprof file as "type/unit" lines, from `go tool pprof -raw`.
pprof_sample_types() {
	go tool pprof "${PPROF_FLAGS[@]}" -raw "$1" 2>/dev/null |
		awk '/^Samples:/ { getline; for (i = 1; i <= NF; i++) print $i; exit }'
}

# -unit flag that makes go tool pprof print exact integers for a unit.
pprof_unit_flag() {
	case $1 in
	nanoseconds) echo "-unit=ns" ;;
	bytes) echo "-unit=B" ;;
	*) ;; # counts print as plain integers
	esac
}

# Turns a top table (pprof's or ember's) into sorted "name\tflat\tcum" lines: rows after the
# column header, unit suffixes and pprof's "(inline)" markers removed, rows summed by name
# (pprof keeps same-named functions from different files apart), all-zero rows dropped.
top_rows() {
	awk '
	/^ *flat +flat% +sum% +cum +cum%/ { on = 1; next }
	on && match($0, /^ *[^ ]+ +[^ ]+ +[^ ]+ +[^ ]+ +[^ ]+  /) {
		name = substr($0, RLENGTH + 1)
		split(substr($0, 1, RLENGTH), f, " ")
		sub(/ \((partial-)?inline\)$/, "", name)
		fl = f[1]; cu = f[4]
		gsub(/[^0-9.-]/, "", fl); gsub(/[^0-9.-]/, "", cu)
		flat[name] += fl; cum[name] += cu
	}
	END {
		for (n in flat)
			if (flat[n] != 0 || cum[n] != 0)
				printf "%s\t%.0f\t%.0f\n", n, flat[n], cum[n]
	}' | LC_ALL=C sort
}

# pprof_top FILE TYPE UNIT [extra pprof flags...]
pprof_top() {
	local f=$1 ty=$2 unit=$3
	shift 3
	local uf
	uf=$(pprof_unit_flag "$unit")
	go tool pprof "${PPROF_FLAGS[@]}" -top -nodecount=1000000 -nodefraction=0 -edgefraction=0 \
		-sample_index="$ty" ${uf:+"$uf"} "$@" "$f" 2>/dev/null | top_rows
}

# ember_top TYPE FILE... (more ember options may precede the files). A failure is reported on
# stderr with the exit status, so that callers' 2>file captures it.
ember_top() {
	local ty=$1 rc
	shift
	"$EMBER" top --raw -n 0 -t "$ty" "$@" >"$T/ember_top.out"
	rc=$?
	[ $rc -eq 0 ] || echo "ember top exited with status $rc" >&2
	top_rows <"$T/ember_top.out"
}

# The total from a top table header "Showing nodes accounting for X, P of T total".
top_total() {
	sed -nE 's/.* of ([-0-9.]+)[a-zA-Z]* total$/\1/p' | head -1
}

# compare_tops NAME FILE_A FILE_B: report the first differing rows.
compare_rows() {
	local name=$1 a=$2 b=$3
	if [ ! -s "$a" ]; then
		fail "$name" "no rows parsed from $(basename "$a")"
		return 1
	fi
	if ! cmp -s "$a" "$b"; then
		local why=""
		[ -s "$T/err" ] && why=" (stderr: $(head -c 300 "$T/err" | tr '\n' ' '))"
		fail "$name" "tables differ: $(diff "$a" "$b" | head -6 | tr '\n' '|')$why"
		return 1
	fi
	return 0
}

finish() {
	[ "$n_fail" -eq 0 ]
}
