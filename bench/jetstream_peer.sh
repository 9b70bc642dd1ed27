#!/usr/bin/env bash
# Starts nats-server with JetStream file storage on a loopback port and a
# temporary store directory on the same disk as the repository (not tmpfs),
# runs jetstream_peer.py against it, and stops the server.
# Needs: nats-server (Debian: apt-get install -y nats-server), nats-py (pip install nats-py).
# Prints the peer's key=value lines on stdout.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
port="${BENCH_NATS_PORT:-14222}"
work="$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/dialogwatch-jetstream.XXXXXX")"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

cat > "$work/nats.conf" <<CONF
listen: 127.0.0.1:$port
jetstream {
  store_dir: "$work/store"
}
CONF
nats-server -c "$work/nats.conf" > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 50); do
  if grep -q "Server is ready" "$work/server.log" 2>/dev/null; then break; fi
  sleep 0.1
done
if ! grep -q "Server is ready" "$work/server.log"; then
  echo "nats-server did not start:" >&2
  cat "$work/server.log" >&2
  exit 1
fi
echo "jetstream_server_version=$(nats-server --version | awk '{print $2}')"
python3 "$here/jetstream_peer.py" "nats://127.0.0.1:$port" "$@"
