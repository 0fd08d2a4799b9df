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
ensure rabbitmq 5672 rabbitmq-server -detached
