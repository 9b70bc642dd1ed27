#!/usr/bin/env bash
# The whole benchmark suite in one command: the peers on this machine
# (underthesea for extraction, NATS JetStream for durable ingest), then
# `cargo bench --bench service`, which prints one table with the ratios.
#
#   bench/run.sh                 # every section
#   bench/run.sh extract ingest  # some sections (names as in benches/service.rs)
#
# Peers need: pip install underthesea nats-py; apt-get install -y nats-server.
# A missing peer is reported and its column says "not run".
# Settings: see benches/service.rs (BENCH_ROUNDS, BENCH_SECONDS, BENCH_CATCHUP_EVENTS, ...).
set -euo pipefail
cd "$(dirname "$0")/.."

sections=("$@")
wants() {
  [[ ${#sections[@]} -eq 0 ]] && return 0
  local section
  for section in "${sections[@]}"; do
    [[ "$section" == "$1" || "$section" == all ]] && return 0
  done
  return 1
}

peers="$(mktemp "${TMPDIR:-/tmp}/dialogwatch-bench-peers.XXXXXX")"
trap 'rm -f "$peers"' EXIT

if wants extract; then
  if python3 -c 'import underthesea' 2>/dev/null; then
    echo "[run.sh] underthesea peer: python3 bench/underthesea_peer.py" >&2
    python3 bench/underthesea_peer.py >> "$peers"
  else
    echo "[run.sh] underthesea not installed (pip install underthesea): extraction peer skipped" >&2
  fi
fi

if wants ingest; then
  if command -v nats-server > /dev/null && python3 -c 'import nats' 2>/dev/null; then
    echo "[run.sh] JetStream peer: bench/jetstream_peer.sh" >&2
    bash bench/jetstream_peer.sh >> "$peers"
  else
    echo "[run.sh] nats-server or nats-py missing (apt-get install -y nats-server; pip install nats-py): JetStream peer skipped" >&2
  fi
fi

echo "[run.sh] peers:" >&2
cat "$peers" >&2
DIALOGWATCH_BENCH_PEERS="$peers" cargo bench --bench service -- "${sections[@]}"
