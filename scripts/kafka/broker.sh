#!/usr/bin/env bash
# A real single-node Apache Kafka broker (KRaft, broker + controller in one JVM) on loopback, for tests,
# benchmarks and the shop's kafka mode. No Docker, no Apache download site: the broker is the published
# `org.apache.kafka:kafka_2.13` artifact, fetched once from Maven Central into a git-ignored cache.
#
#   scripts/kafka/broker.sh fetch    download the jars (reused when present)
#   scripts/kafka/broker.sh start    fetch if needed, format a fresh log dir, start, wait until it serves
#   scripts/kafka/broker.sh stop     SIGTERM, wait for the clean shutdown
#   scripts/kafka/broker.sh resume   start the broker on its existing log dir (no format: records are kept)
#   scripts/kafka/broker.sh bounce [down-seconds]
#                                    stop, stay down (default 3 s), resume: a broker restart that loses nothing
#   scripts/kafka/broker.sh restart  stop, then start (a fresh log dir: records are lost)
#   scripts/kafka/broker.sh status   up or down (exit 0 or 3)
#   scripts/kafka/broker.sh logs     tail of the broker's log
#
# Environment: KAFKA_VERSION (4.3.1), KAFKA_PORT (19092), KAFKA_CONTROLLER_PORT (19093),
# HERALD_KAFKA_HOME (cache and run directory, default <repo>/.cache/kafka), KAFKA_START_TIMEOUT (s, 90).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
KAFKA_VERSION="${KAFKA_VERSION:-4.3.1}"
# Kafka's release tarball ships log4j 2.25.x with 4.3.x (2.24.3 with 4.0.0/4.1.0); its POM ships none.
case "$KAFKA_VERSION" in
  4.0.* | 4.1.*) LOG4J_VERSION="${LOG4J_VERSION:-2.24.3}" ;;
  *) LOG4J_VERSION="${LOG4J_VERSION:-2.25.4}" ;;
esac
PORT="${KAFKA_PORT:-19092}"
CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-19093}"
HOME_DIR="${HERALD_KAFKA_HOME:-$ROOT/.cache/kafka}"
LIB="$HOME_DIR/$KAFKA_VERSION/lib"
RUN="$HOME_DIR/run"
PID_FILE="$RUN/broker.pid"
LOG_FILE="$RUN/broker.log"
START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"

say() { echo "== kafka: $*" >&2; }
die() {
  echo "!! kafka: $*" >&2
  exit 1
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

running_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(cat "$PID_FILE")"
  # The pid must still be a Kafka broker: after a reboot the number may belong to something else.
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
  [[ "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" == *kafka.Kafka* ]] && echo "$pid"
}

fetch() {
  if [[ -f "$LIB/.complete" ]]; then
    say "jars for $KAFKA_VERSION cached in $LIB"
    return 0
  fi
  command -v mvn >/dev/null || die "mvn not found (needed once, to fetch the broker's jars from Maven Central)"
  command -v java >/dev/null || die "java not found (Kafka 4.x runs on Java 17+)"
  local build="$HOME_DIR/$KAFKA_VERSION/build"
  mkdir -p "$build"
  cat >"$build/pom.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<!-- Throwaway POM: only used to copy the broker's jars (written by scripts/kafka/broker.sh). -->
<project xmlns="http://maven.apache.org/POM/4.0.0"
         xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
         xsi:schemaLocation="http://maven.apache.org/POM/4.0.0 https://maven.apache.org/xsd/maven-4.0.0.xsd">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.herald.local</groupId>
  <artifactId>kafka-broker-jars</artifactId>
  <version>$KAFKA_VERSION</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>$KAFKA_VERSION</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-api</artifactId>
      <version>$LOG4J_VERSION</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-core</artifactId>
      <version>$LOG4J_VERSION</version>
    </dependency>
    <!-- The SLF4J 1.x binding: Kafka 4.x logs through slf4j-api 1.7.x. -->
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId>
      <version>$LOG4J_VERSION</version>
    </dependency>
  </dependencies>
  <build>
    <plugins>
      <plugin>
        <groupId>org.apache.maven.plugins</groupId>
        <artifactId>maven-dependency-plugin</artifactId>
        <version>3.8.1</version>
      </plugin>
    </plugins>
  </build>
</project>
EOF
  say "fetching org.apache.kafka:kafka_2.13:$KAFKA_VERSION and log4j $LOG4J_VERSION from Maven Central"
  rm -rf "$LIB.tmp"
  (cd "$build" && mvn -q -B -Dstyle.color=never dependency:copy-dependencies -DoutputDirectory="$LIB.tmp") ||
    die "mvn dependency:copy-dependencies failed"
  ls "$LIB.tmp"/kafka_2.13-"$KAFKA_VERSION".jar >/dev/null 2>&1 || die "the broker jar is missing from $LIB.tmp"
  rm -rf "$LIB"
  mv "$LIB.tmp" "$LIB"
  touch "$LIB/.complete"
  say "$(find "$LIB" -name '*.jar' | wc -l) jars in $LIB"
}

write_config() {
  cat >"$RUN/log4j2.properties" <<'EOF'
# Broker and tool logging: WARN and above on stderr, plus the broker's "Kafka Server started" line.
status = warn
appender.console.type = Console
appender.console.name = STDERR
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.console.ref = STDERR
logger.server.name = kafka.server.KafkaRaftServer
logger.server.level = info
EOF
  cat >"$RUN/server.properties" <<EOF
# Single node: broker and controller in one process, loopback only (written by scripts/kafka/broker.sh).
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$RUN/data
# One node: every internal topic has one replica.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Fast groups and small internal topics for tests.
group.initial.rebalance.delay.ms=0
offsets.topic.num.partitions=1
transaction.state.log.num.partitions=1
# Let test clients choose short sessions, so a killed consumer is noticed in about a second (default 6000).
group.min.session.timeout.ms=500
# The 128 MiB default is taken from the heap.
log.cleaner.dedupe.buffer.size=2097152
EOF
}

# A KRaft cluster id: 16 random bytes in base64url (22 characters), not starting with "-". Same format as
# `kafka.tools.StorageTool random-uuid`, without starting a JVM for it.
cluster_id() {
  local id
  while :; do
    id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
    [[ "$id" != -* ]] && break
  done
  echo "$id"
}

start() {
  local pid
  if pid="$(running_pid)"; then
    if port_open "$PORT"; then
      say "already up on 127.0.0.1:$PORT (pid $pid)"
      return 0
    fi
  elif port_open "$PORT"; then
    say "something already serves 127.0.0.1:$PORT (not started by this script); using it"
    return 0
  fi
  fetch
  if pid="$(running_pid)"; then
    say "pid $pid is starting; waiting"
  else
    rm -rf "$RUN"
    mkdir -p "$RUN/data"
    write_config
    local java_log="-Dlog4j2.configurationFile=$RUN/log4j2.properties"
    local id
    id="$(cluster_id)"
    java "$java_log" -cp "$LIB/*" kafka.tools.StorageTool format --standalone -t "$id" \
      -c "$RUN/server.properties" >>"$LOG_FILE" 2>&1 ||
      die "formatting the log dir failed:
$(tail -n 30 "$LOG_FILE")"
    say "formatted $RUN/data (cluster $id); starting on 127.0.0.1:$PORT"
    pid="$(launch)"
  fi
  wait_serving "$pid"
}

# Starts the broker on the configuration and log dir in $RUN; prints its pid.
launch() {
  local java_log="-Dlog4j2.configurationFile=$RUN/log4j2.properties"
  # Only lines written from here on count as this start's "Kafka Server started" (see wait_serving).
  wc -c <"$LOG_FILE" >"$RUN/broker.log-mark" 2>/dev/null || echo 0 >"$RUN/broker.log-mark"
  # Output goes to a file: a full pipe would block the broker. setsid: the broker outlives this shell.
  setsid java -Xms512m -Xmx512m -XX:+UseG1GC "$java_log" -cp "$LIB/*" kafka.Kafka \
    "$RUN/server.properties" >>"$LOG_FILE" 2>&1 </dev/null &
  echo "$!" >"$PID_FILE"
  echo "$!"
}

# Waits until pid $1 serves on $PORT, or dies with the log's tail.
wait_serving() {
  local pid=$1
  local deadline=$((SECONDS + START_TIMEOUT))
  while ((SECONDS < deadline)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$PID_FILE"
      die "the broker exited during start-up; log tail:
$(tail -n 40 "$LOG_FILE")"
    fi
    if port_open "$PORT" && tail -c "+$(($(cat "$RUN/broker.log-mark" 2>/dev/null || echo 0) + 1))" "$LOG_FILE" |
      grep -q 'Kafka Server started'; then
      say "up on 127.0.0.1:$PORT (pid $pid, log $LOG_FILE)"
      return 0
    fi
    sleep 0.25
  done
  die "not serving after ${START_TIMEOUT}s (pid $pid still running; see $LOG_FILE):
$(tail -n 40 "$LOG_FILE")"
}

# Starts the broker again on the log dir a previous `start` formatted, keeping every record and offset.
resume() {
  local pid
  if pid="$(running_pid)"; then
    if port_open "$PORT"; then
      say "already up on 127.0.0.1:$PORT (pid $pid)"
      return 0
    fi
    say "pid $pid is starting; waiting"
  else
    [[ -f "$RUN/data/meta.properties" && -f "$RUN/server.properties" ]] ||
      die "no formatted log dir in $RUN (run \`$0 start\` first)"
    port_open "$PORT" && die "something else serves 127.0.0.1:$PORT"
    say "resuming on $RUN/data (records kept); starting on 127.0.0.1:$PORT"
    pid="$(launch)"
  fi
  wait_serving "$pid"
}

stop() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$PID_FILE"
    say "not running"
    return 0
  fi
  say "stopping pid $pid"
  kill -TERM "$pid"
  local deadline=$((SECONDS + 60))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      say "still running after 60s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.25
  done
  rm -f "$PID_FILE"
  say "stopped"
}

status() {
  local pid
  if pid="$(running_pid)" && port_open "$PORT"; then
    echo "up: 127.0.0.1:$PORT (pid $pid)"
  elif port_open "$PORT"; then
    echo "up: 127.0.0.1:$PORT (not started by this script)"
  elif pid="$(running_pid)"; then
    echo "starting: pid $pid, port $PORT not open yet"
    return 3
  else
    echo "down"
    return 3
  fi
}

case "${1:-}" in
  fetch) fetch ;;
  start) start ;;
  stop) stop ;;
  restart)
    stop
    start
    ;;
  resume) resume ;;
  bounce)
    [[ "${2:-3}" =~ ^[0-9]+([.][0-9]+)?$ ]] || die "bounce: down-seconds must be a number, not '${2:-}'"
    stop
    sleep "${2:-3}"
    resume
    ;;
  status) status ;;
  logs) tail -n "${2:-50}" "$LOG_FILE" ;;
  *)
    echo "usage: $0 fetch|start|stop|restart|resume|bounce [down-seconds]|status|logs [lines]" >&2
    exit 2
    ;;
esac
