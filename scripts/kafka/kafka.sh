#!/usr/bin/env bash
# Local Apache Kafka broker (KRaft, single node, 127.0.0.1) as a plain JVM process: no Docker.
# The broker jars come from Maven Central (scripts/kafka/pom.xml) into a cache outside the repo.
#
#   scripts/kafka/kafka.sh install          resolve the jars into the cache (skipped when complete)
#   scripts/kafka/kafka.sh start            install if needed, configure, format once, start, wait until ready
#   scripts/kafka/kafka.sh stop [--purge]   SIGTERM, wait, SIGKILL; --purge also deletes the data dir
#   scripts/kafka/kafka.sh status           exit 0 when running and answering, 3 when not running, 1 otherwise
#   scripts/kafka/kafka.sh logs [N]         last N lines (default 100) of the broker log
#
# Environment (all optional):
#   KAFKA_VERSION           override the version pinned in pom.xml (4.x only: log4j2 backend)
#   KAFKA_HOME_CACHE        jar cache            (default $HOME/.cache/timeline-service/kafka-<version>)
#   KAFKA_DATA_DIR          state dir            (default $HOME/.cache/timeline-service/kafka-data)
#                           holds server.properties, kafka.pid, kafka.log and the log dir kraft/
#   KAFKA_PORT              client port          (default 9092)
#   KAFKA_CONTROLLER_PORT   KRaft controller     (default 9093)
#   KAFKA_HEAP              -Xmx                 (default 768m)
#   KAFKA_JVM_OPTS          extra JVM options
#   KAFKA_START_TIMEOUT     seconds to wait for readiness (default 90)
#   KAFKA_STOP_TIMEOUT      seconds to wait after SIGTERM before SIGKILL (default 30)
#   KAFKA_OWNER_PID         if set, a watchdog SIGKILLs the broker once that process is gone
#                           (test helpers pass their own pid so no JVM outlives a killed test run)
#   KAFKA_OWNER_PURGE=1     with KAFKA_OWNER_PID: the watchdog also deletes KAFKA_DATA_DIR
#   A node of a KRaft cluster (every node both broker and controller; libs/dev-stack/src/kafka-broker.ts
#   startKafkaCluster sets these for each node):
#   KAFKA_NODE_ID           node.id              (default 1)
#   KAFKA_QUORUM_VOTERS     controller.quorum.voters, e.g. 1@127.0.0.1:9093,2@127.0.0.1:9095,3@...
#                           (default: this node alone)
#   KAFKA_CLUSTER_ID        the id every node of one cluster is formatted with (default: a new one)
#   KAFKA_REPLICATION       default and internal topics' replication factor (default 1)
#   KAFKA_MIN_INSYNC        min.insync.replicas, also of the internal topics (default 1)
#   A SASL listener beside the plain one (how the tests check the clients' SCRAM settings):
#   KAFKA_SASL_PORT         port of a SASL_PLAINTEXT listener taking SCRAM-SHA-256 and SCRAM-SHA-512 (default: none)
#   KAFKA_SCRAM_USERS       user:password[,user:password...] given SCRAM credentials when the log dir is formatted
#   KAFKA_SASL_SSL_PORT     port of a SASL_SSL listener (SCRAM over TLS) with a self-signed certificate for 127.0.0.1,
#                           made once per data dir by keytool; clients trust $KAFKA_DATA_DIR/tls/ca.pem (default: none)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
POM="$SCRIPT_DIR/pom.xml"
LOG4J2_CONFIG="$SCRIPT_DIR/log4j2.xml"

pinned_version() {
  sed -n 's:.*<kafka\.version>\(.*\)</kafka\.version>.*:\1:p' "$POM" | head -n 1
}

KAFKA_VERSION="${KAFKA_VERSION:-$(pinned_version)}"
CACHE_DIR="${KAFKA_HOME_CACHE:-$HOME/.cache/timeline-service/kafka-$KAFKA_VERSION}"
LIBS_DIR="$CACHE_DIR/libs"
INSTALL_MARKER="$CACHE_DIR/.install-complete"

DATA_DIR="${KAFKA_DATA_DIR:-$HOME/.cache/timeline-service/kafka-data}"
LOG_DIRS="$DATA_DIR/kraft"
CONF_FILE="$DATA_DIR/server.properties"
PID_FILE="$DATA_DIR/kafka.pid"
LOG_FILE="$DATA_DIR/kafka.log"

HOST=127.0.0.1
PORT="${KAFKA_PORT:-9092}"
CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
HEAP="${KAFKA_HEAP:-768m}"
START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"
BOOTSTRAP="$HOST:$PORT"
NODE_ID="${KAFKA_NODE_ID:-1}"
QUORUM_VOTERS="${KAFKA_QUORUM_VOTERS:-$NODE_ID@$HOST:$CONTROLLER_PORT}"
REPLICATION="${KAFKA_REPLICATION:-1}"
SASL_PORT="${KAFKA_SASL_PORT:-}"
SASL_SSL_PORT="${KAFKA_SASL_SSL_PORT:-}"
TLS_DIR="$DATA_DIR/tls"
MIN_INSYNC="${KAFKA_MIN_INSYNC:-1}"

log() { printf 'kafka.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------- install

# The marker records what was installed; a copy without (or with a stale) marker is redone.
install_fingerprint() {
  printf '%s\n' "$KAFKA_VERSION"
  sha256sum "$POM" | cut -d' ' -f1
}

is_installed() {
  [[ -f "$INSTALL_MARKER" ]] && [[ "$(cat "$INSTALL_MARKER")" == "$(install_fingerprint)" ]]
}

cmd_install() {
  if is_installed; then
    log "Kafka $KAFKA_VERSION already installed in $LIBS_DIR"
    return 0
  fi
  command -v mvn >/dev/null || die "mvn not found (needed once to resolve Kafka from Maven Central)"
  mkdir -p "$CACHE_DIR"
  # Parallel test workers may install at the same time: serialise on a lock in the cache dir.
  exec 9>"$CACHE_DIR/.install.lock"
  flock 9
  if is_installed; then
    log "Kafka $KAFKA_VERSION already installed in $LIBS_DIR"
    exec 9>&-
    return 0
  fi
  log "resolving Kafka $KAFKA_VERSION from Maven Central into $LIBS_DIR ..."
  rm -f "$INSTALL_MARKER"
  rm -rf "$LIBS_DIR"
  local started=$SECONDS
  mvn -q -B --no-transfer-progress -Dstyle.color=never -f "$POM" \
    -Dkafka.version="$KAFKA_VERSION" \
    dependency:copy-dependencies \
    -DincludeScope=runtime \
    -DoutputDirectory="$LIBS_DIR" 2>&1 \
    | sed -e $'s/\x1b\\[[0-9;]*m//g' -e '/^[[:space:]]*$/d' >&2 \
    || die "mvn dependency:copy-dependencies failed"
  compgen -G "$LIBS_DIR/kafka_2.13-$KAFKA_VERSION.jar" >/dev/null \
    || die "kafka_2.13-$KAFKA_VERSION.jar missing from $LIBS_DIR after mvn"
  install_fingerprint >"$INSTALL_MARKER"
  exec 9>&-
  log "installed $(find "$LIBS_DIR" -name '*.jar' | wc -l) jars in $((SECONDS - started))s"
}

# ---------------------------------------------------------------- process helpers

# Alive = exists, is not a zombie, and is our broker (guards against pid reuse).
is_broker_pid() {
  local pid="$1" state cmdline
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  if [[ -r "/proc/$pid/stat" ]]; then
    state="$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)" || return 1
    [[ "$state" != "Z" && "$state" != "X" ]] || return 1
  fi
  if [[ -r "/proc/$pid/cmdline" ]]; then
    cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
    [[ "$cmdline" == *"kafka.Kafka $CONF_FILE"* ]] || return 1
  fi
  return 0
}

read_pid() {
  [[ -f "$PID_FILE" ]] && tr -dc '0-9' <"$PID_FILE"
}

running_pid() {
  local pid
  pid="$(read_pid || true)"
  if [[ -n "$pid" ]] && is_broker_pid "$pid"; then
    printf '%s\n' "$pid"
    return 0
  fi
  return 1
}

port_open() {
  (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
}

log_tail() {
  if [[ -f "$LOG_FILE" ]]; then
    log "last lines of $LOG_FILE:"
    tail -n "${1:-40}" "$LOG_FILE" >&2 || true
  fi
}

# Client-side readiness: kafkajs admin listTopics (the client our code uses). Loops inside one
# node process until ready, the broker pid dies, or the deadline passes.
# Exit codes: 0 ready, 1 timed out, 2 broker process died, 4 kafkajs unavailable.
probe_kafkajs() {
  local pid="$1" deadline_s="$2"
  command -v node >/dev/null || return 4
  KAFKA_PROBE_BROKER="$BOOTSTRAP" KAFKA_PROBE_PID="$pid" KAFKA_PROBE_SECONDS="$deadline_s" \
  KAFKA_PROBE_REPO="$REPO_ROOT" node -e '
    let kafkajs;
    try {
      kafkajs = require(require.resolve("kafkajs", { paths: [process.env.KAFKA_PROBE_REPO, process.cwd()] }));
    } catch (e) { process.exit(4); }
    const { Kafka, logLevel } = kafkajs;
    const pid = Number(process.env.KAFKA_PROBE_PID);
    const deadline = Date.now() + Number(process.env.KAFKA_PROBE_SECONDS) * 1000;
    const alive = () => {
      try { process.kill(pid, 0); } catch { return false; }
      try { const st = require("fs").readFileSync("/proc/" + pid + "/stat", "utf8"); return !/^[ZX]/.test(st.slice(st.lastIndexOf(")") + 2)); } catch { return true; }
    };
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
    (async () => {
      let last = "";
      while (Date.now() < deadline) {
        if (pid && !alive()) process.exit(2);
        const admin = new Kafka({
          clientId: "kafka-sh-probe", brokers: [process.env.KAFKA_PROBE_BROKER],
          logLevel: logLevel.NOTHING, connectionTimeout: 2000, requestTimeout: 5000,
          retry: { retries: 0 },
        }).admin();
        try {
          await admin.connect();
          await admin.listTopics();
          await admin.disconnect().catch(() => {});
          process.exit(0);
        } catch (e) {
          last = (e && e.message) || String(e);
          await admin.disconnect().catch(() => {});
          await sleep(500);
        }
      }
      console.error("kafka.sh: kafkajs probe: " + last);
      process.exit(1);
    })();
  '
}

# Waits for the port, then for the client probe (or, without node/kafkajs, for the log line).
wait_ready() {
  local pid="$1" deadline=$((SECONDS + START_TIMEOUT)) rc
  while ! port_open "$PORT"; do
    is_broker_pid "$pid" || { log "broker process $pid exited during startup"; return 2; }
    ((SECONDS < deadline)) || { log "timed out after ${START_TIMEOUT}s waiting for $BOOTSTRAP to accept connections"; return 1; }
    sleep 0.5
  done
  local remaining=$((deadline - SECONDS))
  ((remaining > 0)) || remaining=1
  rc=0
  probe_kafkajs "$pid" "$remaining" || rc=$?
  if ((rc == 4)); then
    log "node/kafkajs not available, falling back to the log line 'Kafka Server started'"
    until grep -q 'Kafka Server started' "$LOG_FILE" 2>/dev/null; do
      is_broker_pid "$pid" || { log "broker process $pid exited during startup"; return 2; }
      ((SECONDS < deadline)) || { log "timed out after ${START_TIMEOUT}s waiting for 'Kafka Server started'"; return 1; }
      sleep 0.5
    done
    return 0
  fi
  case "$rc" in
    0) return 0 ;;
    2) log "broker process $pid exited during startup"; return 2 ;;
    *) log "timed out after ${START_TIMEOUT}s waiting for a kafkajs listTopics on $BOOTSTRAP"; return 1 ;;
  esac
}

# ---------------------------------------------------------------- configure + format

# The only place the broker's settings are written (kafka.sh start and libs/dev-stack/src/kafka-broker.ts use it).
write_config() {
  mkdir -p "$DATA_DIR" "$LOG_DIRS"
  local major="${KAFKA_VERSION%%.*}"
  local listeners="PLAINTEXT://$HOST:$PORT" protocols="CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
  if [[ -n "$SASL_PORT" ]]; then
    listeners+=",SASL_PLAINTEXT://$HOST:$SASL_PORT"
    protocols+=",SASL_PLAINTEXT:SASL_PLAINTEXT"
  fi
  if [[ -n "$SASL_SSL_PORT" ]]; then
    listeners+=",SASL_SSL://$HOST:$SASL_SSL_PORT"
    protocols+=",SASL_SSL:SASL_SSL"
    make_tls_keystore
  fi
  {
    echo "# Written by scripts/kafka/kafka.sh for Kafka $KAFKA_VERSION; rewritten on every start."
    echo "process.roles=broker,controller"
    echo "node.id=$NODE_ID"
    echo "controller.quorum.voters=$QUORUM_VOTERS"
    echo "listeners=$listeners,CONTROLLER://$HOST:$CONTROLLER_PORT"
    echo "advertised.listeners=$listeners"
    echo "inter.broker.listener.name=PLAINTEXT"
    echo "controller.listener.names=CONTROLLER"
    echo "listener.security.protocol.map=$protocols"
    if [[ -n "$SASL_PORT" || -n "$SASL_SSL_PORT" ]]; then
      echo "sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512"
    fi
    if [[ -n "$SASL_PORT" ]]; then
      echo "listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;"
      echo "listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;"
    fi
    if [[ -n "$SASL_SSL_PORT" ]]; then
      echo "listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;"
      echo "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;"
      echo "listener.name.sasl_ssl.ssl.keystore.type=PKCS12"
      echo "listener.name.sasl_ssl.ssl.keystore.location=$TLS_DIR/broker.p12"
      echo "listener.name.sasl_ssl.ssl.keystore.password=$(cat "$TLS_DIR/keystore-password")"
    fi
    echo "log.dirs=$LOG_DIRS"
    echo "num.partitions=1"
    echo "default.replication.factor=$REPLICATION"
    echo "min.insync.replicas=$MIN_INSYNC"
    echo "auto.create.topics.enable=false"
    echo "offsets.topic.replication.factor=$REPLICATION"
    echo "offsets.topic.num.partitions=1"
    echo "transaction.state.log.replication.factor=$REPLICATION"
    echo "transaction.state.log.min.isr=$MIN_INSYNC"
    echo "transaction.state.log.num.partitions=1"
    echo "group.initial.rebalance.delay.ms=0"
    echo "# After a crash (SIGKILL) the restarted broker is refused (DUPLICATE_BROKER_REGISTRATION) until its old"
    echo "# session expires: 9 s by default. Shorter here so kill-and-restart tests take ~5 s, not ~13 s."
    echo "broker.heartbeat.interval.ms=1000"
    echo "broker.session.timeout.ms=4000"
    if ((major >= 4)); then
      echo "share.coordinator.state.topic.replication.factor=$REPLICATION"
      echo "share.coordinator.state.topic.min.isr=$MIN_INSYNC"
      echo "share.coordinator.state.topic.num.partitions=1"
    fi
    echo "# Small machine: fewer threads than the defaults."
    echo "num.network.threads=2"
    echo "num.io.threads=4"
    echo "background.threads=4"
    echo "num.recovery.threads.per.data.dir=1"
    echo "# log.message.timestamp.type is deliberately not set: topics choose CreateTime/LogAppendTime."
  } >"$CONF_FILE.tmp"
  mv "$CONF_FILE.tmp" "$CONF_FILE"
}

# A self-signed certificate for 127.0.0.1 (kept with the data dir); ca.pem is what a client must trust.
make_tls_keystore() {
  [[ -f "$TLS_DIR/broker.p12" && -f "$TLS_DIR/ca.pem" && -f "$TLS_DIR/keystore-password" ]] && return 0
  command -v keytool >/dev/null || die "keytool not found (it comes with Java 17+; needed for KAFKA_SASL_SSL_PORT)"
  mkdir -p "$TLS_DIR"
  rm -f "$TLS_DIR/broker.p12" "$TLS_DIR/ca.pem"
  local password
  password="$(head -c 18 /dev/urandom | base64 | tr -d '+/=\n')"
  (umask 077 && printf '%s' "$password" >"$TLS_DIR/keystore-password")
  keytool -genkeypair -alias broker -keyalg EC -groupname secp256r1 -validity 3650 \
    -dname "CN=127.0.0.1" -ext "SAN=ip:127.0.0.1,dns:localhost" \
    -keystore "$TLS_DIR/broker.p12" -storetype PKCS12 -storepass "$password" >>"$LOG_FILE" 2>&1 \
    || die "keytool could not make the broker's certificate (see $LOG_FILE)"
  keytool -exportcert -rfc -alias broker -keystore "$TLS_DIR/broker.p12" -storepass "$password" \
    -file "$TLS_DIR/ca.pem" >>"$LOG_FILE" 2>&1 || die "keytool could not export the broker's certificate"
}

java_opts() {
  # shellcheck disable=SC2206
  JAVA_OPTS=(
    "-Xmx$HEAP"
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35
    -XX:+ExplicitGCInvokesConcurrent
    -Djava.awt.headless=true
    "-Dlog4j2.configurationFile=$LOG4J2_CONFIG"
    ${KAFKA_JVM_OPTS:-}
  )
}

new_cluster_id() {
  # 16 random bytes as base64url without padding (22 chars); must not start with '-'.
  local id
  while :; do
    id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
    [[ "${id:0:1}" != "-" ]] && { printf '%s\n' "$id"; return; }
  done
}

format_if_needed() {
  [[ -f "$LOG_DIRS/meta.properties" ]] && return 0
  local cluster_id
  cluster_id="${KAFKA_CLUSTER_ID:-$(new_cluster_id)}"
  local scram=() user
  if [[ -n "${KAFKA_SCRAM_USERS:-}" ]]; then
    IFS=',' read -r -a users <<<"$KAFKA_SCRAM_USERS"
    for user in "${users[@]}"; do
      [[ "$user" == *:* ]] || die "KAFKA_SCRAM_USERS: '$user' is not user:password"
      scram+=(--add-scram "SCRAM-SHA-256=[name=${user%%:*},password=${user#*:}]")
      scram+=(--add-scram "SCRAM-SHA-512=[name=${user%%:*},password=${user#*:}]")
    done
  fi
  log "formatting $LOG_DIRS (cluster id $cluster_id)"
  java "${JAVA_OPTS[@]}" -cp "$LIBS_DIR/*" kafka.tools.StorageTool \
    format -t "$cluster_id" -c "$CONF_FILE" "${scram[@]}" >>"$LOG_FILE" 2>&1 \
    || { log_tail 30; die "kafka-storage format failed"; }
}

# ---------------------------------------------------------------- commands

cmd_start() {
  local pid rc
  if pid="$(running_pid)"; then
    if wait_ready "$pid"; then
      log "Kafka already running (pid $pid) on $BOOTSTRAP"
      echo "$BOOTSTRAP"
      return 0
    fi
    log_tail 40
    die "Kafka process $pid is running but not answering on $BOOTSTRAP"
  fi
  rm -f "$PID_FILE"
  if port_open "$PORT"; then die "port $PORT is already in use by another process (set KAFKA_PORT)"; fi
  if port_open "$CONTROLLER_PORT"; then die "port $CONTROLLER_PORT is already in use by another process (set KAFKA_CONTROLLER_PORT)"; fi
  if [[ -n "$SASL_PORT" ]] && port_open "$SASL_PORT"; then die "port $SASL_PORT is already in use by another process (set KAFKA_SASL_PORT)"; fi
  if [[ -n "$SASL_SSL_PORT" ]] && port_open "$SASL_SSL_PORT"; then die "port $SASL_SSL_PORT is already in use by another process (set KAFKA_SASL_SSL_PORT)"; fi

  is_installed || cmd_install
  command -v java >/dev/null || die "java not found (Kafka $KAFKA_VERSION needs Java 17+)"
  write_config
  java_opts
  : >>"$LOG_FILE"
  format_if_needed

  local started=$SECONDS
  echo "----- $(date -Is) starting Kafka $KAFKA_VERSION on $BOOTSTRAP -----" >>"$LOG_FILE"
  nohup java "${JAVA_OPTS[@]}" -cp "$LIBS_DIR/*" kafka.Kafka "$CONF_FILE" >>"$LOG_FILE" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$PID_FILE"

  if [[ -n "${KAFKA_OWNER_PID:-}" ]]; then
    # Watchdog: the broker must not outlive the process (e.g. a test run) that asked for it.
    local purge=()
    [[ "${KAFKA_OWNER_PURGE:-0}" == 1 ]] && purge=("$DATA_DIR")
    nohup bash "$REPO_ROOT/scripts/watchdog.sh" "$KAFKA_OWNER_PID" "$pid" "${purge[@]}" >/dev/null 2>&1 </dev/null &
  fi

  rc=0
  wait_ready "$pid" || rc=$?
  if ((rc != 0)); then
    log_tail 40
    if is_broker_pid "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
    rm -f "$PID_FILE"
    die "Kafka did not become ready (see $LOG_FILE)"
  fi
  log "Kafka $KAFKA_VERSION ready on $BOOTSTRAP (pid $pid, ${HEAP} heap) in $((SECONDS - started))s; data in $DATA_DIR"
  echo "$BOOTSTRAP"
}

cmd_stop() {
  local purge=0 pid
  for arg in "$@"; do
    case "$arg" in
      --purge) purge=1 ;;
      *) die "unknown option for stop: $arg" ;;
    esac
  done
  if pid="$(running_pid)"; then
    log "stopping Kafka (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + STOP_TIMEOUT))
    while is_broker_pid "$pid" && ((SECONDS < deadline)); do sleep 0.2; done
    if is_broker_pid "$pid"; then
      log "still running after ${STOP_TIMEOUT}s, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      while is_broker_pid "$pid"; do sleep 0.1; done
    fi
    log "stopped"
  else
    log "Kafka is not running (data dir $DATA_DIR)"
  fi
  rm -f "$PID_FILE"
  if ((purge)); then
    log "purging $DATA_DIR"
    rm -rf "$DATA_DIR"
  fi
}

cmd_status() {
  local pid
  if ! pid="$(running_pid)"; then
    echo "stopped (data dir $DATA_DIR)"
    return 3
  fi
  local rc=0
  START_TIMEOUT=5 wait_ready "$pid" >/dev/null 2>&1 || rc=$?
  if ((rc == 0)); then
    echo "running pid=$pid bootstrap=$BOOTSTRAP version=$KAFKA_VERSION data=$DATA_DIR"
    return 0
  fi
  echo "running pid=$pid but not answering on $BOOTSTRAP (data dir $DATA_DIR)"
  return 1
}

cmd_logs() {
  [[ -f "$LOG_FILE" ]] || die "no log file at $LOG_FILE"
  tail -n "${1:-100}" "$LOG_FILE"
}

usage() {
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"
}

main() {
  local cmd="${1:-}"
  [[ $# -gt 0 ]] && shift
  case "$cmd" in
    install) cmd_install "$@" ;;
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    status) cmd_status "$@" ;;
    logs) cmd_logs "$@" ;;
    -h | --help | help) usage ;;
    *) usage >&2; exit 64 ;;
  esac
}

main "$@"
