#!/usr/bin/env bash
# Makes sure the local servers the tests and benchmarks use are up, starting any that is down (the commands
# the machine image uses). Idempotent. The embedded transport needs none of them.
set -uo pipefail

up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {
  for _ in $(seq 1 60); do up "$1" && return 0; sleep 0.5; done
  echo "!! $2 did not come up on port $1" >&2
  return 1
}

ensure() {
  local name=$1 port=$2
  shift 2
  if up "$port"; then
    echo "== $name up on $port"
    return 0
  fi
  echo "== starting $name"
  "$@" >/dev/null 2>&1 || true
  wait_port "$port" "$name"
}

ensure redis 6379 redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
  --dir /var/lib/redis --logfile /var/log/redis/ci.log
ensure nats 4222 start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
  -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
ensure postgresql 5432 bash -c 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start'

# RabbitMQ: an open port is not a working broker. One that is still booting, or stalled (hundreds of leftover
# quorum queues did that to 3.10), accepts TCP and never completes the AMQP handshake, and every test then times
# out. So the check is a handshake (amqplib from the repository's node_modules, else rabbitmq-diagnostics), and a
# broker that stays stuck is stopped (killed if `rabbitmqctl stop` hangs) and started again.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
AMQP_URL=${HERALD_RABBITMQ_URL:-amqp://guest:guest@127.0.0.1:5672}

amqp_handshake() {
  if command -v node >/dev/null && [ -d "$ROOT/node_modules/amqplib" ]; then
    timeout 15 node -e '
      const amqp = require(process.argv[1]);
      amqp.connect(process.argv[2], { timeout: 5000 })
        .then(async (c) => { await (await c.createChannel()).close(); await c.close(); })
        .then(() => process.exit(0), (e) => { console.error(e.message); process.exit(1); });
    ' "$ROOT/node_modules/amqplib" "$AMQP_URL" >/dev/null 2>&1
  else
    timeout 20 rabbitmq-diagnostics -q check_running >/dev/null 2>&1
  fi
}

# Waits up to $1 seconds for a handshake.
wait_handshake() {
  local deadline=$((SECONDS + $1))
  while [ $SECONDS -lt $deadline ]; do
    amqp_handshake && return 0
    sleep 1
  done
  return 1
}

start_rabbitmq() {
  (ulimit -n 20000; rabbitmq-server -detached) >/dev/null 2>&1 || true
}

# The Erlang VM of the RabbitMQ node, by pid (never by a broad pattern kill).
beam_pids() { pgrep -u rabbitmq -f 'beam.*-s rabbit( |$)' || true; }

restart_rabbitmq() {
  echo "== rabbitmq is stuck (port open, no AMQP handshake): restarting it"
  timeout 60 rabbitmqctl stop >/dev/null 2>&1 || true
  for _ in $(seq 1 20); do [ -z "$(beam_pids)" ] && break; sleep 0.5; done
  for pid in $(beam_pids); do
    echo "== killing the stuck RabbitMQ VM (pid $pid)"
    kill -9 "$pid" 2>/dev/null || true
  done
  for _ in $(seq 1 20); do up 5672 || break; sleep 0.5; done
  start_rabbitmq
}

ensure_rabbitmq() {
  if up 5672; then
    # Booting or briefly busy: a minute before calling it stuck.
    if wait_handshake 60; then
      echo "== rabbitmq up on 5672 (AMQP handshake)"
      return 0
    fi
    restart_rabbitmq
  else
    echo "== starting rabbitmq"
    start_rabbitmq
  fi
  if wait_handshake 120; then
    echo "== rabbitmq up on 5672 (AMQP handshake)"
    return 0
  fi
  echo "!! rabbitmq does not complete an AMQP handshake on 5672" >&2
  return 1
}

ensure_rabbitmq
