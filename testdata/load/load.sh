#!/usr/bin/env bash
# load.sh: sipp load against bin/sipagent (echo agent on UDP loopback).
#
#   make build && ./testdata/load/load.sh          (or: make load / make bench)
#
# Phase A, signalling: testdata/sipp/uac_nomedia.xml (INVITE/200/ACK/BYE, no
#   RTP) at each rate of LOAD_RATES for LOAD_DURATION seconds, a fresh
#   sipagent (log level warn) per rate; INVITE->200 p50/p99 from sipp's
#   *_rtt.csv, sipagent CPU per call from /proc/PID/stat, RSS from
#   /proc/PID/status, RTP sockets still open 1 s after the last BYE.
# Phase B, media: for each N in LOAD_MEDIA_CALLS, N concurrent calls with
#   testdata/load/uac_media_hold.xml, each streaming a looped u-law WAV to the
#   echo agent for LOAD_MEDIA_SECONDS; sipagent CPU per call-second and RSS
#   are read over the window in which all N calls are up. Each N gets a fresh
#   sipagent (log level info, so its per-call "call ended" lines give rtp_in /
#   rtp_out / rtp_lost). As root with nft(8) installed, an nftables table
#   counts the RTP packets sipp sent to sipagent and got back.
#
# CPU is sipagent's own utime+stime, so sipp's share of the two cores is not
# counted; other load on the machine still adds noise (loadavg is printed).
# Every sipp run has -timeout (and coreutils timeout around it); sipagent and
# background sipp are killed and the nftables table is deleted on exit.
# Exit status: 0 if every call of every run succeeded, 1 otherwise.
#
# Knobs (environment):
#   LOAD_RATES="200 500 1000 2000"  calls/s of phase A ("" skips it)
#   LOAD_DURATION=10           seconds per rate
#   LOAD_MEDIA_CALLS="100 300" concurrent calls of phase B ("" skips it)
#   LOAD_MEDIA_SECONDS=20      how long each media call lasts
#   LOAD_MEDIA_RATE=100        calls/s while phase B sets its calls up
#   LOAD_SIP_PORT=35060        sipagent's UDP port (must be free)
#   LOAD_RTP_PORTS=30000-51999 sipagent's media.rtp_ports: 11000 ports; a freed port rests 2 s,
#                              so this allows about 5000 calls/s
#   LOAD_SIPP_PORT=35062       sipp's SIP port (its default, 5060, may be taken)
#   LOAD_SIPP_RTP_PORT=52000   first RTP port of sipp's streams (-mp)
#   LOAD_NFT=auto              auto: count packets if root and nft exists; 0: off; 1: required
#   LOAD_AUTH=0                1: phase A with digest authentication: testdata/load/auth.yaml and
#                              uac_auth_nomedia.xml (INVITE, 401, ACK, INVITE with credentials)
#   LOAD_BRIDGE=0              1: phase B bridges every call (testdata/load/bridge.yaml) to a sipp
#                              target (uas_answer.xml -rtp_echo on LOAD_BRIDGE_PORT=35064, RTP from
#                              LOAD_BRIDGE_RTP_PORT=53000): two legs per call, RTP relayed between them
#   LOAD_OUT=DIR               where logs and sipp traces go (default: a new /tmp dir, kept)
#   LOAD_BIN=bin/sipagent      the binary under test
# The environment reaches sipagent too: GODEBUG=gctrace=1 writes GC traces
# into $LOAD_OUT/sipagent-*.log.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$ROOT/testdata/load
BIN=${LOAD_BIN:-$ROOT/bin/sipagent}
RATES=${LOAD_RATES-200 500 1000 2000}
DURATION=${LOAD_DURATION:-10}
MEDIA_CALLS=${LOAD_MEDIA_CALLS-100 300}
MEDIA_SECONDS=${LOAD_MEDIA_SECONDS:-20}
MEDIA_RATE=${LOAD_MEDIA_RATE:-100}
SIP_PORT=${LOAD_SIP_PORT:-35060}
RTP_PORTS=${LOAD_RTP_PORTS:-30000-51999}
SIPP_PORT=${LOAD_SIPP_PORT:-35062}
SIPP_RTP_PORT=${LOAD_SIPP_RTP_PORT:-52000}
NFT_MODE=${LOAD_NFT:-auto}
OUT=${LOAD_OUT:-$(mktemp -d /tmp/sipagent-load.XXXXXX)}
TARGET=127.0.0.1:$SIP_PORT
CONFIG=$HERE/echo.yaml
SIG_SCENARIO=$ROOT/testdata/sipp/uac_nomedia.xml
SIG_ARGS=()
if [[ ${LOAD_AUTH:-0} == 1 ]]; then
	CONFIG=$HERE/auth.yaml
	SIG_SCENARIO=$HERE/uac_auth_nomedia.xml
	SIG_ARGS=(-au load -ap load-test-password)
fi
BRIDGE=${LOAD_BRIDGE:-0}
BRIDGE_PORT=${LOAD_BRIDGE_PORT:-35064}
BRIDGE_RTP_PORT=${LOAD_BRIDGE_RTP_PORT:-53000}
if [[ $BRIDGE == 1 ]]; then
	CONFIG=$HERE/bridge.yaml
	export LOAD_BRIDGE_FLOW=$HERE/bridge-flow.yaml LOAD_BRIDGE_PORT=$BRIDGE_PORT
fi
CLK_TCK=$(getconf CLK_TCK)
TARGET_PID=""

AGENT_PID=""
SIPP_PID=""
NFT_TABLE=""
FAILED=0
SUMMARY_A=()
SUMMARY_B=()

say() { printf '[load %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { say "ERROR: $*"; exit 2; }

cleanup() {
	local rc=$?
	if [[ -n $SIPP_PID ]] && kill -0 "$SIPP_PID" 2>/dev/null; then
		kill "$SIPP_PID" 2>/dev/null || true
	fi
	if [[ -n $TARGET_PID ]] && kill -0 "$TARGET_PID" 2>/dev/null; then
		kill "$TARGET_PID" 2>/dev/null || true
	fi
	if [[ -n $AGENT_PID ]] && kill -0 "$AGENT_PID" 2>/dev/null; then
		kill -KILL "$AGENT_PID" 2>/dev/null || true
		wait "$AGENT_PID" 2>/dev/null || true
	fi
	if [[ -n $NFT_TABLE ]]; then
		nft delete table inet "$NFT_TABLE" 2>/dev/null || true
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for tool in sipp sox ss awk getconf timeout; do
	command -v "$tool" >/dev/null || die "$tool not found (make deps installs sipp and sox)"
done
[[ -x $BIN ]] || die "$BIN not found: run make build"
mkdir -p "$OUT"

# --- /proc readings ---------------------------------------------------------

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
status_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
threads() { awk '$1 == "Threads:" {print $2}' "/proc/$1/status"; }
# udp_socks PID: UDP sockets the process holds (its SIP socket plus one per
# call's RTP port).
udp_socks() { ss -Huanp 2>/dev/null | grep -c "pid=$1," || true; }
now_ms() { date +%s%3N; }
sleep_until() { sleep "$(awk -v t=$(($1 - $(now_ms))) 'BEGIN {print (t > 0 ? t / 1000 : 0)}')"; }
mb() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }

# stat_field CSV NAME: NAME's value on the last line of a sipp -trace_stat file.
stat_field() {
	awk -F';' -v name="$2" 'NR == 1 {for (i = 1; i <= NF; i++) if ($i == name) c = i; next}
		{v = $c} END {print (c && v != "") ? v + 0 : -1}' "$1"
}

# rtt_pct FILE Q...: percentiles (ms) of the INVITE->200 times in a sipp
# *_rtt.csv (second column).
rtt_pct() {
	local f=$1
	shift
	tail -n +2 "$f" | cut -d';' -f2 | sort -g | awk -v qs="$*" '
		{v[NR] = $1}
		END {
			n = split(qs, q, " ")
			for (i = 1; i <= n; i++) {
				if (NR == 0) { printf "%s-", (i > 1 ? " " : ""); continue }
				k = int(q[i] * NR); if (k < q[i] * NR) k++; if (k < 1) k = 1
				printf "%s%s", (i > 1 ? " " : ""), (v[k] < 1 ? "<1" : sprintf("%d", v[k]))
			}
			print ""
		}'
}

# --- nftables packet counters (optional) ------------------------------------

nft_setup() {
	case $NFT_MODE in
	0) return ;;
	auto) { [[ $(id -u) == 0 ]] && command -v nft >/dev/null; } || { say "nftables counters off (needs root and nft)"; return; } ;;
	1) [[ $(id -u) == 0 ]] && command -v nft >/dev/null || die "LOAD_NFT=1 needs root and nft (apt-get install nftables)" ;;
	*) die "LOAD_NFT must be auto, 0 or 1" ;;
	esac
	# sipp streams every call from its -mp port; the range leaves room in
	# case it opens more. Both ranges lie in the kernel's ephemeral range, so
	# keep them narrow: other programs' loopback traffic would be counted.
	local t=sipagent_load_$$ sipp_ports="$SIPP_RTP_PORT-$((SIPP_RTP_PORT + 99))" agent_ports=$RTP_PORTS
	# Loopback traffic passes the output hook once. @th,72,8 is the second
	# byte of the UDP payload: 200-207 is RTCP, not counted.
	nft -f - <<-EOF || die "could not create nftables table $t"
		table inet $t {
			counter to_agent {}
			counter from_agent {}
			chain out {
				type filter hook output priority 0; policy accept;
				ip saddr 127.0.0.1 udp sport $sipp_ports udp dport $agent_ports @th,72,8 != 200-207 counter name "to_agent"
				ip saddr 127.0.0.1 udp sport $agent_ports udp dport $sipp_ports @th,72,8 != 200-207 counter name "from_agent"
			}
		}
	EOF
	NFT_TABLE=$t
	say "nftables table inet $t counts RTP sipp->sipagent and back"
}
nft_reset() { [[ -z $NFT_TABLE ]] || nft reset counters table inet "$NFT_TABLE" >/dev/null; }
nft_packets() {
	if [[ -z $NFT_TABLE ]]; then echo -; return; fi
	nft list counter inet "$NFT_TABLE" "$1" | awk '/packets/ {for (i = 1; i < NF; i++) if ($i == "packets") print $(i + 1)}'
}

# --- sipagent ---------------------------------------------------------------

probe() {
	local d=$OUT/probe
	mkdir -p "$d"
	(cd "$d" && timeout 5 sipp -sf "$HERE/options.xml" -s echo "$TARGET" -i 127.0.0.1 -p "$SIPP_PORT" -m 1 \
		-nostdin -timeout 3s -timeout_error -recv_timeout 1000 >/dev/null 2>&1)
}

# start_agent NAME LEVEL: a fresh sipagent, logging to $OUT/sipagent-NAME.log.
start_agent() {
	local name=$1 level=$2 i
	if ss -Hlun "sport = :$SIP_PORT" | grep -q .; then
		die "UDP port $SIP_PORT is already in use: set LOAD_SIP_PORT"
	fi
	LOAD_SIP_PORT=$SIP_PORT LOAD_RTP_PORTS=$RTP_PORTS LOAD_LOG_LEVEL=$level \
		"$BIN" --config "$CONFIG" 2>"$OUT/sipagent-$name.log" &
	AGENT_PID=$!
	for i in $(seq 50); do
		kill -0 "$AGENT_PID" 2>/dev/null || { tail -5 "$OUT/sipagent-$name.log" >&2; die "sipagent exited at start"; }
		if probe; then
			# make sure it was our process that answered
			ss -Hlunp "sport = :$SIP_PORT" | grep -q "pid=$AGENT_PID," || die "port $SIP_PORT answered by another process"
			return
		fi
		sleep 0.2
	done
	die "sipagent did not answer OPTIONS on $TARGET"
}

stop_agent() {
	local i
	[[ -n $AGENT_PID ]] || return 0
	kill -TERM "$AGENT_PID" 2>/dev/null || true
	for i in $(seq 150); do
		kill -0 "$AGENT_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$AGENT_PID" 2>/dev/null || true
	wait "$AGENT_PID" 2>/dev/null || true
	AGENT_PID=""
}

check_alive() { kill -0 "$AGENT_PID" 2>/dev/null || die "sipagent died during $1 (see $OUT)"; }

# --- phase A: signalling ----------------------------------------------------

signalling() {
	local rate dir calls t0 t1 rc ok failed retrans cps pct rtt_file us rss hwm left warns log
	say "phase A: $(basename "$SIG_SCENARIO" .xml) at ${RATES// /, } calls/s, ${DURATION}s each, a fresh sipagent per rate"
	for rate in $RATES; do
		dir=$OUT/sig-$rate
		log=$OUT/sipagent-sig-$rate.log
		rm -rf "$dir" && mkdir -p "$dir"
		calls=$((rate * DURATION))
		start_agent "sig-$rate" warn
		t0=$(cpu_ticks "$AGENT_PID")
		rc=0
		(cd "$dir" && exec timeout --kill-after=5 $((DURATION + 40)) sipp -sf "$SIG_SCENARIO" "${SIG_ARGS[@]}" \
			-s echo "$TARGET" -i 127.0.0.1 -p "$SIPP_PORT" -nostdin \
			-r "$rate" -m "$calls" -l $((rate * 5)) \
			-timeout $((DURATION + 30))s -timeout_error -recv_timeout 10000 \
			-trace_stat -stf stat.csv -fd 1 -trace_rtt -rtt_freq 1 -trace_screen -trace_err \
			>/dev/null 2>sipp.stderr) || rc=$?
		t1=$(cpu_ticks "$AGENT_PID")
		check_alive "the $rate calls/s run"
		rss=$(status_kb "$AGENT_PID" VmRSS)
		sleep 1
		hwm=$(status_kb "$AGENT_PID" VmHWM)
		left=$(($(udp_socks "$AGENT_PID") - 1))
		stop_agent
		ok=$(stat_field "$dir/stat.csv" 'SuccessfulCall(C)')
		failed=$(stat_field "$dir/stat.csv" 'FailedCall(C)')
		retrans=$(stat_field "$dir/stat.csv" 'Retransmissions(C)')
		cps=$(stat_field "$dir/stat.csv" 'CallRate(C)')
		rtt_file=$(find "$dir" -name '*_rtt.csv' | head -1)
		if [[ -n $rtt_file ]]; then pct=$(rtt_pct "$rtt_file" 0.5 0.99 0.999); else pct="- - -"; fi
		us=$(awk -v t=$((t1 - t0)) -v hz="$CLK_TCK" -v n="$((ok + failed))" 'BEGIN {printf "%.0f", (n > 0 ? t / hz * 1e6 / n : 0)}')
		warns=$(grep -cE 'level=(WARN|ERROR)' "$log" || true)
		if [[ $rc != 0 || $failed != 0 || $ok != "$calls" ]]; then FAILED=1; fi
		# shellcheck disable=SC2086 # $pct is three columns
		SUMMARY_A+=("$(printf '%6s %8s %7s %6s %7s %5s %5s %6s %7s %7s %7s %5s %6s %3s' \
			"$rate" "$cps" "$ok" "$failed" "$retrans" $pct "$us" "$(mb "$rss")" "$(mb "$hwm")" "$left" "$warns" "$rc")")
		say "rate $rate: ok $ok failed $failed retrans $retrans, INVITE->200 p50/p99/p99.9 $pct ms, $us us CPU/call, RSS $(mb "$rss") MB (peak $(mb "$hwm")), RTP sockets left 1 s after: $left, sipagent warnings: $warns, sipp rc $rc"
	done
}

# --- phase B: media ---------------------------------------------------------

media() {
	local n dir ramp start wa wb ta tb ca cb rc ok failed rss hwm socks thr ms sent back log ended rin rout rlost due short loss after
	nft_setup
	sox -n -r 8000 -c 1 -e u-law "$OUT/audio.wav" synth "$MEDIA_SECONDS" sine 300-3400 tremolo 3 60 vol 0.5 \
		|| die "sox could not make the u-law WAV"
	for n in $MEDIA_CALLS; do
		dir=$OUT/media-$n
		rm -rf "$dir" && mkdir -p "$dir"
		ln -sf "$OUT/audio.wav" "$dir/audio.wav"
		ramp=$(((n + MEDIA_RATE - 1) / MEDIA_RATE))
		wa=$((ramp + 2))       # all calls are up from here...
		wb=$((MEDIA_SECONDS - 2)) # ...until the first hangs up
		if ((wb - wa < 3)); then
			die "LOAD_MEDIA_SECONDS=$MEDIA_SECONDS is too short for $n calls at $MEDIA_RATE/s (need >= $((ramp + 7)))"
		fi
		start_agent "media-$n" info
		if [[ $BRIDGE == 1 ]]; then
			mkdir -p "$dir/target"
			(cd "$dir/target" && exec timeout --kill-after=5 $((MEDIA_SECONDS + ramp + 60)) sipp -sf "$ROOT/testdata/sipp/uas_answer.xml" \
				-key codec 0 -key codecname PCMU -rtp_echo -i 127.0.0.1 -p "$BRIDGE_PORT" -mp "$BRIDGE_RTP_PORT" -nostdin \
				-m "$n" -timeout $((MEDIA_SECONDS + ramp + 50))s -timeout_error \
				-trace_stat -stf stat.csv -fd 1 -trace_err >/dev/null 2>sipp.stderr) &
			TARGET_PID=$!
			say "bridge target: sipp pid $TARGET_PID on 127.0.0.1:$BRIDGE_PORT, echoing RTP"
		fi
		say "phase B: $n echo calls x ${MEDIA_SECONDS}s (set up at $MEDIA_RATE/s), measuring seconds $wa-$wb; sipagent pid $AGENT_PID"
		nft_reset
		start=$(now_ms)
		(cd "$dir" && exec timeout --kill-after=5 $((MEDIA_SECONDS + ramp + 40)) sipp -sf "$HERE/uac_media_hold.xml" \
			-s echo "$TARGET" -i 127.0.0.1 -p "$SIPP_PORT" -nostdin -mp "$SIPP_RTP_PORT" \
			-r "$MEDIA_RATE" -m "$n" -l "$n" -d $((MEDIA_SECONDS * 1000)) \
			-timeout $((MEDIA_SECONDS + ramp + 30))s -timeout_error -recv_timeout 10000 \
			-trace_stat -stf stat.csv -fd 1 -trace_rtt -rtt_freq 1 -trace_screen -trace_err \
			>/dev/null 2>sipp.stderr) &
		SIPP_PID=$!
		sleep_until $((start + wa * 1000))
		ta=$(now_ms) ca=$(cpu_ticks "$AGENT_PID")
		sleep_until $((start + wb * 1000))
		tb=$(now_ms) cb=$(cpu_ticks "$AGENT_PID")
		rss=$(status_kb "$AGENT_PID" VmRSS) socks=$(udp_socks "$AGENT_PID") thr=$(threads "$AGENT_PID")
		rc=0
		wait "$SIPP_PID" || rc=$?
		SIPP_PID=""
		if [[ -n $TARGET_PID ]]; then
			wait "$TARGET_PID" || rc=$?
			TARGET_PID=""
			[[ $(stat_field "$dir/target/stat.csv" 'SuccessfulCall(C)') == "$n" ]] || { say "the bridge target did not complete $n calls"; rc=1; }
		fi
		check_alive "the $n-call media run"
		sleep 1
		hwm=$(status_kb "$AGENT_PID" VmHWM)
		after=$(($(udp_socks "$AGENT_PID") - 1))
		ok=$(stat_field "$dir/stat.csv" 'SuccessfulCall(C)')
		failed=$(stat_field "$dir/stat.csv" 'FailedCall(C)')
		ms=$(awk -v t=$((cb - ca)) -v hz="$CLK_TCK" -v n="$n" -v s=$((tb - ta)) \
			'BEGIN {printf "%.3f", t / hz * 1000 / (n * s / 1000)}')
		sent=$(nft_packets to_agent) back=$(nft_packets from_agent)
		stop_agent
		log=$OUT/sipagent-media-$n.log
		# per call: rtp_in / rtp_out / rtp_lost, and duration * 50 packets/s:
		# the packets a 20 ms sender should have sent
		read -r ended rin rout rlost due < <(awk '/msg="call ended"/ {
				n++
				for (i = 1; i <= NF; i++) {
					split($i, kv, "=")
					if (kv[1] == "rtp_in") a += kv[2]; else if (kv[1] == "rtp_out") b += kv[2]; else if (kv[1] == "rtp_lost") c += kv[2]
					else if (kv[1] == "duration") {
						d = kv[2]; m = 0
						if (d ~ /m/) { m = d; sub(/m.*/, "", m); sub(/^[0-9]+m/, "", d) }
						sub(/s$/, "", d); e += (m * 60 + d) * 50
					}
				}
			} END {printf "%d %d %d %d %.0f\n", n, a, b, c, e}' "$log")
		if [[ $ended != $((n * (BRIDGE + 1))) ]]; then say "sipagent logged $ended 'call ended' lines for $n calls"; fi
		short=$(awk -v o="$rout" -v e="$due" 'BEGIN {printf "%.2f%%", (e > 0 ? (e - o) * 100 / e : 0)}')
		loss=-
		if [[ $sent != - && $sent -gt 0 ]]; then
			# bridged: both legs receive what sipp sent (the target echoes it)
			loss=$(awk -v s="$((sent * (BRIDGE + 1)))" -v r="$rin" 'BEGIN {printf "%.3f%%", (s - r) * 100 / s}')
		fi
		if [[ $rc != 0 || $failed != 0 || $ok != "$n" ]]; then FAILED=1; fi
		SUMMARY_B+=("$(printf '%5s %5s %6s %6s %6s %6s %6s %4s %9s %9s %7s %9s %6s %7s %4s %4s' \
			"$n" "$ok" "$failed" "$ms" "$(mb "$rss")" "$(mb "$hwm")" "$((socks - 1))" "$thr" \
			"$sent" "$rin" "$loss" "$rout" "$short" "$rlost" "$after" "$rc")")
		say "$n calls: ok $ok failed $failed, $ms ms CPU per call-second, RSS $(mb "$rss") MB, RTP sockets $((socks - 1)); sipp sent $sent, sipagent received $rin (loss $loss), sent $rout (nft: $back; $short short of 50/s), jitter-buffer lost $rlost; sockets left 1 s after: $after"
		if grep -qE 'level=(WARN|ERROR)' "$log"; then
			say "sipagent warnings/errors in $log: $(grep -cE 'level=(WARN|ERROR)' "$log")"
		fi
	done
}

# --- main -------------------------------------------------------------------

say "output in $OUT"
say "machine: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo); load average $(cut -d' ' -f1-3 /proc/loadavg)"
[[ -z $RATES ]] || signalling
[[ -z $MEDIA_CALLS ]] || media

{
	echo
	echo "sipagent load summary ($(date -u +%FT%TZ), $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), load average now $(cut -d' ' -f1-3 /proc/loadavg))"
	if ((${#SUMMARY_A[@]})); then
		echo
		echo "A. signalling: $(basename "$SIG_SCENARIO"), ${DURATION}s per rate, fresh sipagent per rate. p50/p99/p99.9 = INVITE->200 in ms (sipp's"
		echo "   resolution is 1 ms); cpu_us = sipagent utime+stime per call; rss/peak in MB at the end; left = RTP sockets 1 s after; warn = WARN/ERROR log lines"
		printf '%6s %8s %7s %6s %7s %5s %5s %6s %7s %7s %7s %5s %6s %3s\n' rate achieved ok failed retrans p50 p99 p99.9 cpu_us rss peak left warn rc
		printf '%s\n' "${SUMMARY_A[@]}"
	fi
	if ((${#SUMMARY_B[@]})); then
		echo
		if [[ $BRIDGE == 1 ]]; then
			echo "B. bridged media: each call bridged to a sipp target echoing RTP, so sipagent carries two legs per call; cpu_ms is per"
			echo "   caller call-second (both legs), rx/tx/jb_lost are summed over both legs, loss compares rx with twice what sipp sent,"
			echo "   and tx_short counts both legs' 50 packets/s."
		fi
		echo "B. media: uac_media_hold.xml, ${MEDIA_SECONDS}s PCMU calls to the echo agent. cpu_ms = sipagent CPU per call-second and rss (MB) = its VmRSS while"
		echo "   all calls are up; rtp_sk = its RTP sockets then; sent = RTP sipp->sipagent (nftables), rx = sipagent's rtp_in, loss = 1 - rx/sent;"
		echo "   tx = sipagent's rtp_out, tx_short = how far tx falls short of 50 packets/s over the calls' durations; jb_lost = its rtp_lost; left = sockets 1 s after"
		printf '%5s %5s %6s %6s %6s %6s %6s %4s %9s %9s %7s %9s %6s %7s %4s %4s\n' calls ok failed cpu_ms rss peak rtp_sk thr sent rx loss tx tx_short jb_lost left rc
		printf '%s\n' "${SUMMARY_B[@]}"
	fi
	echo
	if ((FAILED)); then echo "RESULT: some calls failed (see $OUT)"; else echo "RESULT: all calls succeeded"; fi
} | tee "$OUT/summary.txt"
exit "$FAILED"
