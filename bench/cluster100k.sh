#!/usr/bin/env bash
# bench/cluster100k.sh: issue 9's cluster target, "100,000 connections on
# this box as five nodes sharing NATS or Redis, with one broadcast reaching
# all 100k". It builds cmd/ssehub and cmd/ssehub-load, starts NODES ssehub
# nodes on one broker, spreads N streams over them with ssehub-load (WORKERS
# client processes, connection i on node i % NODES), publishes EVENTS
# broadcasts to the first node, checks that every stream got every one, and
# stops everything. About 1–2 minutes; every step is bounded (the load run by
# --max-duration, the whole script by a watchdog of LIMIT seconds).
#
#   bench/cluster100k.sh                  5 nodes, NATS, N=99,920
#   N=100000 NODES=6 bench/cluster100k.sh 100k on six nodes
#   BROKER=redis bench/cluster100k.sh     the same on Redis
#
# Why 99,920 and not 100,000 by default: a node holds one file per stream,
# and a process may open at most `ulimit -Hn` files (20,000 on the machine
# of docs/benchmarks.md). A node on NATS keeps 12 files of its own (stdio,
# listener, NATS, two epolls, runtime), on Redis 14, and the first node one
# more for the publisher: five nodes hold at most 5 × 19,988 − 1 = 99,939
# streams on NATS. ssehub-load keeps 16 files of margin per node and refuses
# more; 100,000 needs six nodes (see docs/benchmarks.md, "100,000
# connections on five nodes").
#
# Environment (defaults in brackets):
#   NODES [5] N [99920] WORKERS [6] BROKER [nats|redis] RATE [0.5]
#   EVENTS [5] WARMUP [1] PORT [18100: nodes on PORT+1 … PORT+NODES]
#   STREAM [BENCH100K] (NATS stream; deleted before and after the run)
#   PREFIX [bench100k] (Redis key prefix; its keys deleted before and after)
#   OUT [/tmp/ssehub-cluster100k]: result.json (the ssehub-load JSON line),
#       load.log, node<k>.log, samples.txt (fds and RSS of each node, every 3 s)
#   LIMIT [300]: seconds before the watchdog stops everything
set -euo pipefail
cd "$(dirname "$0")/.."

NODES=${NODES:-5}
N=${N:-99920}
WORKERS=${WORKERS:-6}
BROKER=${BROKER:-nats}
RATE=${RATE:-0.5}
EVENTS=${EVENTS:-5}
WARMUP=${WARMUP:-1}
PORT=${PORT:-18100}
STREAM=${STREAM:-BENCH100K}
PREFIX=${PREFIX:-bench100k}
OUT=${OUT:-/tmp/ssehub-cluster100k}
LIMIT=${LIMIT:-300}
SECRET=bench-only-secret-0123456789abcdef0123 # any string of 32 bytes or more
NATS_URL=nats://127.0.0.1:4222

case $BROKER in
nats) BROKER_URL="$NATS_URL?stream=$STREAM&storage=memory" ;;
redis) BROKER_URL="redis://127.0.0.1:6379/0?prefix=$PREFIX" ;;
*) echo "BROKER=$BROKER: want nats or redis" >&2 && exit 2 ;;
esac

# Every process of this script (nodes, load tool, its workers) may open as
# many files as the system allows this user.
ulimit -n "$(ulimit -Hn)"

mkdir -p "$OUT/bin"
rm -f "$OUT"/*.log "$OUT"/result.json "$OUT"/samples.txt
log() { echo "cluster100k: $*" >&2; }

log "building into $OUT/bin"
go build -o "$OUT/bin/ssehub" ./cmd/ssehub
go build -o "$OUT/bin/ssehub-load" ./cmd/ssehub-load
# A NATS stream deleter (no nats CLI needed), built with this module's
# nats.go.
mkdir -p "$OUT/natsdel"
cat >"$OUT/natsdel/main.go" <<'EOF'
// natsdel deletes the JetStream streams named on its command line.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func main() {
	nc, err := nats.Connect(os.Args[1], nats.Timeout(3*time.Second))
	if err != nil {
		fmt.Fprintln(os.Stderr, "natsdel:", err)
		os.Exit(1)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, s := range os.Args[2:] {
		switch err := js.DeleteStream(ctx, s); {
		case err == nil:
			fmt.Fprintf(os.Stderr, "natsdel: stream %s deleted\n", s)
		case errors.Is(err, jetstream.ErrStreamNotFound):
		default:
			fmt.Fprintf(os.Stderr, "natsdel: stream %s: %v\n", s, err)
		}
	}
}
EOF
go build -o "$OUT/bin/natsdel" "$OUT/natsdel/main.go"

clean_broker() {
	case $BROKER in
	nats) timeout 10 "$OUT/bin/natsdel" "$NATS_URL" "$STREAM" || true ;;
	redis)
		timeout 20 redis-cli -h 127.0.0.1 -p 6379 --scan --pattern "$PREFIX:*" |
			xargs -r -n 500 timeout 10 redis-cli -h 127.0.0.1 -p 6379 del >/dev/null || true
		;;
	esac
}

PIDS=()
LOAD_PID=
SAMPLER_PID=
WATCHDOG_PID=
# stop PID: ends a background subshell of this script and its children.
stop() {
	pkill -P "$1" 2>/dev/null || true
	kill "$1" 2>/dev/null || true
}
# stop_nodes: SIGTERM, up to 10 s for a graceful stop, then SIGKILL.
stop_nodes() {
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for _ in $(seq 100); do
		local alive=0
		for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
		((alive)) || break
		sleep 0.1
	done
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
	PIDS=()
}
cleanup() {
	local code=$?
	set +e
	trap - EXIT INT TERM
	[[ -n $WATCHDOG_PID ]] && stop "$WATCHDOG_PID"
	[[ -n $SAMPLER_PID ]] && stop "$SAMPLER_PID"
	[[ -n $LOAD_PID ]] && kill -TERM "$LOAD_PID" 2>/dev/null && sleep 1
	stop_nodes
	clean_broker
	exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# The watchdog: past LIMIT seconds, stop the script (the trap cleans up).
(exec 3>&2 2>/dev/null && sleep "$LIMIT" && echo "cluster100k: over ${LIMIT}s, stopping" >&3 && kill -TERM $$) &
WATCHDOG_PID=$!
disown "$WATCHDOG_PID"

clean_broker # a stream or keys left by an interrupted run

# The nodes.
URLS=
for k in $(seq "$NODES"); do
	addr=127.0.0.1:$((PORT + k))
	if curl -s -o /dev/null --max-time 1 "http://$addr/healthz"; then
		log "something already listens on $addr" && exit 2
	fi
	"$OUT/bin/ssehub" --addr "$addr" --jwt-secret "$SECRET" --broker "$BROKER_URL" \
		--max-conns -1 --max-conns-per-user -1 --log-level warn --publisher-rate -1 \
		--node-id "n$k" >"$OUT/node$k.log" 2>&1 &
	PIDS+=($!)
	URLS+=${URLS:+,}http://$addr
done
for k in $(seq "$NODES"); do
	addr=127.0.0.1:$((PORT + k))
	for i in $(seq 200); do # 20 s
		curl -sf -o /dev/null --max-time 1 "http://$addr/readyz" && break
		kill -0 "${PIDS[k - 1]}" 2>/dev/null || { log "node n$k exited: $(tail -3 "$OUT/node$k.log")" && exit 1; }
		((i < 200)) || { log "node n$k not ready after 20s" && exit 1; }
		sleep 0.1
	done
done
PIDLIST=$(
	IFS=,
	echo "${PIDS[*]}"
)
log "$NODES nodes ready on $BROKER ($URLS), pids $PIDLIST; files: $(ulimit -n) per process"

# One line every 3 s: open files and RSS of each node, sockets in the system.
(
	while :; do
		line="$(date +%T)"
		for k in $(seq "$NODES"); do
			p=${PIDS[k - 1]}
			fds=$(ls -U /proc/"$p"/fd 2>/dev/null | wc -l)
			rss=$(awk '/VmRSS/ {print int($2/1024)}' /proc/"$p"/status 2>/dev/null)
			line+=" n$k fds=$fds rss=${rss}MiB"
		done
		line+=" | $(grep -m1 '^TCP:' /proc/net/sockstat)"
		echo "$line"
		sleep 3
	done
) >"$OUT/samples.txt" 2>/dev/null &
SAMPLER_PID=$!
disown "$SAMPLER_PID"

# The load: N streams over the nodes, WARMUP then EVENTS broadcasts at RATE.
LOAD=("$OUT/bin/ssehub-load" --url "$URLS" --server-pid "$PIDLIST" --jwt-secret "$SECRET"
	--label "cluster-$BROKER-${NODES}x" --n "$N" --workers "$WORKERS" --inflight 256
	--rate "$RATE" --warmup "$WARMUP" --events "$EVENTS" --duration 60s
	--settle 5s --drain-idle 15s --max-duration 3m)
log "load: ${LOAD[*]/$SECRET/\$SECRET}"
set +e
"${LOAD[@]}" >"$OUT/result.json" 2>"$OUT/load.log" &
LOAD_PID=$!
wait "$LOAD_PID"
code=$?
LOAD_PID=
set -e
stop "$SAMPLER_PID"
SAMPLER_PID=
stop_nodes
[[ -s $OUT/result.json ]] || tail -n 5 "$OUT/load.log" >&2

# What the nodes logged (at warn and above) until they stopped, by message
# (and kind, for the cluster's control messages).
for k in $(seq "$NODES"); do
	n=$(grep -c . "$OUT/node$k.log" || true)
	log "node n$k: $n log lines$( ((n)) && echo ':' && sed -E 's/^time=[^ ]+ //; s/ (broker|stream|node_id)=[^ ]+//g; s/(msg="[^"]*")( kind=[^ ]+)?.*/\1\2/; s/retrying in [0-9a-z]+/retrying/' "$OUT/node$k.log" | sort | uniq -c | sort -rn | head -6)"
done
log "peak per node: $(awk '{for (i = 2; i <= NF; i++) if ($i ~ /^fds=/) {split($i, a, "="); if (a[2] > m) m = a[2]}} END {print m " files"}' "$OUT/samples.txt")"

cat "$OUT/result.json"
if command -v jq >/dev/null && [[ -s $OUT/result.json ]]; then
	jq -r '
		"connected \(.connected) of \(.n) (failed \(.connect_failed)) in \(.connect_secs)s, \(.connect_rate)/s; connect p50 \(.connect_us.p50/1000) ms, p99 \(.connect_us.p99/1000) ms",
		"server RSS per stream \(.server_rss_per_conn/1024 | .*10 | round/10) KiB (all nodes); per node: \([(.nodes // [])[] | "\(.connected) streams \((.server_rss_per_conn // 0)/1024 | .*10 | round/10) KiB"] | join(", "))",
		"published \(.published) (incl. \(.warmup) warm-up), failed \(.publish_failed); publish p50 \(.publish_us.p50/1000) ms, p99 \(.publish_us.p99/1000) ms, max \(.publish_us.max/1000) ms",
		"deliveries \(.deliveries) of \(.expected) expected; lost \(.lost) in \(.conns_with_loss) streams, gaps \(.gaps), dupes \(.dupes), closed early \(.closed_early)",
		"emit→receive p50 \(.latency_us.p50/1000) ms, p90 \(.latency_us.p90/1000) ms, p99 \(.latency_us.p99/1000) ms, max \(.latency_us.max/1000) ms",
		"server CPU \(.server_cpu_secs)s, \(.server_cpu_per_delivery_us) µs per delivery; client \(.client_cpu_per_delivery_us) µs per delivery",
		"ok \(.ok)\(if .aborted then "; aborted: \(.aborted)" else "" end)\(if .errors then "; errors: \(.errors)" else "" end)"
	' "$OUT/result.json" >&2
fi
log "results in $OUT (exit $code)"
exit "$code"
