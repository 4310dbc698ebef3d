#!/usr/bin/env bash
# bench/run.sh: run ssehub and its peers under the same load, one at a time
# (start the server, load it, stop it), profile ssehub under the 10k
# broadcast load, and write the results into docs/benchmarks.md.
#
#   bench/run.sh             the full run (about 7 minutes)
#   QUICK=1 bench/run.sh     N=1000 only, shorter phases (about 2 minutes)
#   DRY=1 bench/run.sh       rewrite commands.txt and the document from the
#                            results already there, running nothing
#
# Results land in bench/results/latest/: runs.jsonl (one ssehub-load result
# per line), commands.txt, the servers' logs, and profile/ (pprof files and
# their -top listings).
set -euo pipefail
cd "$(dirname "$0")"

OUT=results/latest
PPROF_ADDR=${PPROF_ADDR:-127.0.0.1:16061}
SECRET=bench-only-secret-0123456789abcdef0123
PEERS=(ssehub gosse r3labs nethttp floor)

mkdir -p bin "$OUT/profile"
if [[ -z ${DRY:-} ]]; then
	rm -f "$OUT"/*.jsonl "$OUT"/*.log "$OUT"/commands.txt "$OUT"/profile/*
	echo "building…" >&2
	(cd .. && go build -o bench/bin/ssehub-load ./cmd/ssehub-load)
	go build -mod=mod -o bin/ ./cmd/peer-ssehub ./cmd/peer-gosse ./cmd/peer-r3labs ./cmd/peer-nethttp ./cmd/peer-floor
fi

# server_cmd PEER SECRET [EXTRA]: the command that starts PEER.
server_cmd() {
	case $1 in
	ssehub) echo "bin/peer-ssehub --addr {addr} --jwt-secret $2 --max-conns -1 --max-conns-per-user -1 --log-level warn${3:+ $3}" ;;
	*) echo "bin/peer-$1 --addr {addr}" ;;
	esac
}

# load PEER LOGNAME FLAGS…: one ssehub-load run, its result appended to
# runs.jsonl (or to $RUNS). A failed run (losses, errors) is still a result.
load() {
	local peer=$1 log=$2
	shift 2
	local cmd shown
	cmd=$(server_cmd "$peer" "$SECRET" "${EXTRA:-}")
	shown=$(server_cmd "$peer" '$SECRET' "${EXTRA:-}")
	echo "bin/ssehub-load --server-cmd \"$shown\" --jwt-secret \"\$SECRET\" --label \"${LABEL:-$peer}\" --max-duration 2m $*" >>"$OUT/commands.txt"
	[[ -z ${DRY:-} ]] || return 0
	echo "== $peer $*" >&2
	bin/ssehub-load --server-cmd "$cmd" --jwt-secret "$SECRET" --label "${LABEL:-$peer}" --max-duration 2m "$@" \
		>>"$OUT/${RUNS:-runs.jsonl}" 2>"$OUT/$log.log" || echo "   (exit $?: see $OUT/$log.log)" >&2
	tail -n 1 "$OUT/${RUNS:-runs.jsonl}" | cut -c1-300 >&2
}

{
	echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(uname -r), $(go env GOVERSION)"
	echo "# from bench/; each run starts its server on a free loopback port ({addr}), loads it and stops it"
	echo "SECRET=$SECRET  # any string of 32 bytes or more"
	echo "go build -mod=mod -o bin/ ./cmd/peer-ssehub ./cmd/peer-gosse ./cmd/peer-r3labs ./cmd/peer-nethttp ./cmd/peer-floor && (cd .. && go build -o bench/bin/ssehub-load ./cmd/ssehub-load)"
} >"$OUT/commands.txt"

if [[ -n ${QUICK:-} ]]; then
	SIZES=(1000)
	dur() { echo 10s; }
else
	SIZES=(1000 10000)
	dur() { if (($1 >= 10000)); then echo 30s; else echo 20s; fi; }
fi

# 1. Broadcast at 4 events/s, N = 1k and 10k, every server.
for n in "${SIZES[@]}"; do
	for p in "${PEERS[@]}"; do
		load "$p" "$p-$n" --n "$n" --rate 4 --probe-rate 20 --duration "$(dur "$n")"
	done
	# ssehub with as many writers as before (4 x GOMAXPROCS): faster
	# fan-out on this shared box, slower answers during a fan-out.
	EXTRA="--writers 8" LABEL="ssehub --writers 8" load ssehub "ssehub-$n-w8" --n "$n" --rate 4 --probe-rate 20 --duration "$(dur "$n")"
done

# 2. Highest delivery rate, N = 1k, every server.
for p in "${PEERS[@]}"; do
	load "$p" "$p-1000-max" --n 1000 --rate 0 --window 8 --duration 10s
done

if [[ -z ${QUICK:-} ]]; then
	# 3. ssehub alone at 19,500 streams (one node process; two client
	#    processes, as one process may hold at most ~19.9k files).
	load ssehub ssehub-19500 --n 19500 --workers 2 --rate 4 --probe-rate 20 --duration 30s

	# 4. Profile of ssehub under the 10k broadcast load: heap after
	#    connecting, CPU over the publish phase. Not in the tables.
	EXTRA="--pprof $PPROF_ADDR" RUNS=profile.jsonl load ssehub ssehub-10000-profile \
		--n 10000 --rate 4 --duration 30s --pprof "http://$PPROF_ADDR/debug/pprof" --pprof-dir "$OUT/profile"
	[[ -n ${DRY:-} ]] || (
		cd "$OUT/profile"
		go tool pprof -top -nodecount=35 ../../../bin/peer-ssehub cpu.pb.gz >cpu-top.txt 2>/dev/null
		go tool pprof -top -cum -nodecount=35 ../../../bin/peer-ssehub cpu.pb.gz >cpu-top-cum.txt 2>/dev/null
		go tool pprof -top -sample_index=inuse_space -nodecount=35 ../../../bin/peer-ssehub heap.pb.gz >heap-top.txt 2>/dev/null
		grep -E '^# (HeapInuse|HeapAlloc|Stack|Sys|MSpanInuse|GCSys|OtherSys) ' heap.txt >memstats.txt || true
		head -1 goroutine.txt >>memstats.txt
	)
	echo "# profile (not in the tables):" >>"$OUT/commands.txt"
	echo "go tool pprof -top bin/peer-ssehub $OUT/profile/cpu.pb.gz; go tool pprof -top -sample_index=inuse_space bin/peer-ssehub $OUT/profile/heap.pb.gz" >>"$OUT/commands.txt"
fi

go run -mod=mod ./cmd/benchtable -runs "$OUT/runs.jsonl" -commands "$OUT/commands.txt" -doc ../docs/benchmarks.md
echo "wrote docs/benchmarks.md" >&2
