#!/usr/bin/env bash
# Installs the programs actix-bee's integration tests need, makes sure the
# machine's own servers they share are up, and starts the private Redis of
# the benches.
#
#   scripts/test-servers.sh install  install what is missing (apt-get), start nothing
#   scripts/test-servers.sh start    install what is missing, start the servers (idempotent)
#   scripts/test-servers.sh stop     stop the private Redis, remove the state dir
#   scripts/test-servers.sh status   print each server and program, and whether it is there
#   scripts/test-servers.sh env      print `export` lines for the tests and benches
#
# Typical use:  scripts/test-servers.sh start && eval "$(scripts/test-servers.sh env)"
#
# The machine's own services (Redis on 6379, PostgreSQL on 5432, MariaDB on
# 3306) are only checked, and started if they are down; they are never stopped
# or reconfigured.  The private Redis (6399) that the benches use lives
# under $ACTIX_BEE_SERVERS_DIR.  Every other server (Redis
# Clusters, sentinel groups, TLS servers, memcached, the fault tests'
# servers) is started by the tests themselves (tests/support/servers.rs),
# on free ports, and stops with them; this script only installs their
# programs.  Only loopback addresses are used.  See scripts/README.md.
set -euo pipefail

STATE_DIR="${ACTIX_BEE_SERVERS_DIR:-${TMPDIR:-/tmp}/actix-bee-servers}"
MARKER=".actix-bee-servers"

HOST=127.0.0.1
BASE_REDIS_PORT=6379
PRIVATE_REDIS_PORT=6399
PG_PORT=5432
MYSQL_PORT="${ACTIX_BEE_MYSQL_PORT:-3306}"
# Socket used only to create the fallback MariaDB user; empty = client default.
MYSQL_SOCKET="${ACTIX_BEE_MYSQL_SOCKET:-}"
MYSQL_APP_USER=actixbee
MYSQL_APP_PASSWORD=actixbee
CHROMIUM_BIN=/usr/bin/chromium
CHROMEDRIVER_BIN=/usr/bin/chromedriver

WAIT_SECS="${ACTIX_BEE_WAIT_SECS:-30}"

log() { printf '[test-servers] %s\n' "$*" >&2; }

# die WHAT [LOGFILE...]: report which server failed, show its log tail, exit 1.
die() {
  local what=$1 f
  shift
  printf '[test-servers] ERROR: %s\n' "$what" >&2
  for f in "$@"; do
    if [[ -f "$f" ]]; then
      printf '[test-servers] ---- last lines of %s ----\n' "$f" >&2
      tail -n 25 "$f" >&2 || true
    fi
  done
  exit 1
}

# wait_for WHAT LOGFILE CMD...: poll CMD for up to WAIT_SECS seconds.
wait_for() {
  local what=$1 logfile=$2
  shift 2
  local deadline=$((SECONDS + WAIT_SECS))
  until "$@"; do
    if ((SECONDS >= deadline)); then
      die "$what: not ready after ${WAIT_SECS}s" "$logfile"
    fi
    sleep 0.2
  done
}

rcli() { # rcli PORT ARGS...
  local port=$1
  shift
  timeout 5 redis-cli -h "$HOST" -p "$port" "$@" 2>/dev/null
}

redis_ping() { [[ "$(rcli "$1" PING)" == PONG ]]; }

have_go() { command -v go >/dev/null 2>&1; }

as_root() {
  if ((EUID == 0)); then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "need root (or sudo) to run: $*"
  fi
}

# ---------------------------------------------------------------- packages --

install_missing_packages() {
  local -a pairs=(
    redis-server:redis-server
    redis-cli:redis-tools
    redis-sentinel:redis-sentinel
    memcached:memcached
    chromium:chromium
    chromedriver:chromium-driver
    go:golang-go
    psql:postgresql-client
    mariadb:mariadb-client
    mariadb-install-db:mariadb-server
    pgrep:procps
  )
  local -a missing=()
  local pair bin pkg
  for pair in "${pairs[@]}"; do
    bin=${pair%%:*}
    pkg=${pair#*:}
    if ! command -v "$bin" >/dev/null 2>&1; then
      missing+=("$pkg")
    fi
  done
  # initdb and postgres are not on PATH: Debian keeps them per version.
  [[ -n "$(pg_bindir)" ]] || missing+=(postgresql)
  if ((${#missing[@]} == 0)); then
    return 0
  fi
  log "installing: ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
    || die "apt-get update failed"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >&2 || die "apt-get install ${missing[*]} failed"
  for pair in "${pairs[@]}"; do
    bin=${pair%%:*}
    command -v "$bin" >/dev/null 2>&1 || die "$bin still missing after installing ${pair#*:}"
  done
  [[ -n "$(pg_bindir)" ]] || die "initdb still missing after installing postgresql"
}

# The newest installed PostgreSQL's bin dir (initdb, postgres), or nothing.
pg_bindir() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [[ -x "$d/initdb" ]] && echo "$d"
  done | sort -V | tail -n 1
}

# ----------------------------------------------------------- pid handling --

# owned PIDFILE: the pid file names a live redis/memcached process.  A server
# that answers but is not owned (e.g. its state dir was deleted under it) is
# replaced, since its config, log and pid file are gone.
owned() {
  local pid
  [[ -f "$1" ]] || return 1
  pid=$(tr -dc '0-9' <"$1")
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null \
    && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -Eq 'redis|memcached'
}

# Pids named by the pid files under DIR whose process is still one of ours.
our_pids() {
  local dir=$1 pidfile pid
  while IFS= read -r -d '' pidfile; do
    pid=$(tr -dc '0-9' <"$pidfile")
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null \
      && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -Eq 'redis|memcached'; then
      echo "$pid"
    fi
  done < <(find "$dir" -name '*.pid' -type f -print0)
}

# Stop everything under DIR (SIGTERM to every pid file's process at once,
# SIGKILL after 10 s) and remove DIR.
stop_dir() {
  local dir=$1 pid i
  local -a pids=() alive=()
  [[ -d "$dir" ]] || return 0
  mapfile -t pids < <(our_pids "$dir")
  if ((${#pids[@]} > 0)); then
    kill -TERM "${pids[@]}" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      alive=()
      for pid in "${pids[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then alive+=("$pid"); fi
      done
      ((${#alive[@]} > 0)) || break
      sleep 0.2
    done
    if ((${#alive[@]} > 0)); then
      log "pids ${alive[*]} ignored SIGTERM for 10s, sending SIGKILL"
      kill -KILL "${alive[@]}" 2>/dev/null || true
    fi
  fi
  rm -rf "$dir"
}

# A port of ours that still answers without a pid file (e.g. the state dir was
# deleted under a running server) is shut down so it can be recreated.
free_redis_port() {
  local port=$1 i
  if redis_ping "$port"; then
    log "port $port still answers without a pid file; sending SHUTDOWN NOSAVE"
    rcli "$port" SHUTDOWN NOSAVE >/dev/null || true
    for ((i = 0; i < 50; i++)); do
      redis_ping "$port" || return 0
      sleep 0.2
    done
    die "redis on port $port would not shut down"
  fi
}

ensure_state_dir() {
  if [[ -d "$STATE_DIR" && ! -f "$STATE_DIR/$MARKER" ]] \
    && [[ -n "$(ls -A "$STATE_DIR")" ]]; then
    die "$STATE_DIR exists, is not empty and is not ours (no $MARKER); set ACTIX_BEE_SERVERS_DIR"
  fi
  mkdir -p "$STATE_DIR"
  touch "$STATE_DIR/$MARKER"
}

# ------------------------------------------------------------ redis nodes --

# start_redis DIR PORT [EXTRA CONFIG LINES...]: a daemonized redis-server with
# its own config file, pid and log.
start_redis() {
  local dir=$1 port=$2 line
  shift 2
  mkdir -p "$dir"
  {
    echo "port $port"
    echo "bind $HOST"
    echo "daemonize yes"
    echo "pidfile $dir/redis.pid"
    echo "logfile $dir/redis.log"
    echo "dir $dir"
    echo "save \"\""
    echo "appendonly no"
    # Exit at once on SIGTERM: `stop` does not wait for a save.
    echo "shutdown-on-sigterm now"
    for line in "$@"; do echo "$line"; done
  } >"$dir/redis.conf"
  redis-server "$dir/redis.conf" >>"$dir/redis.log" 2>&1 \
    || die "redis-server on port $port failed to start" "$dir/redis.log"
  wait_for "redis-server on port $port" "$dir/redis.log" redis_ping "$port"
}

# -------------------------------------------------------- private redis ----

start_private_redis() {
  local dir=$STATE_DIR/redis-$PRIVATE_REDIS_PORT
  if owned "$dir/redis.pid" && redis_ping "$PRIVATE_REDIS_PORT"; then
    log "redis $PRIVATE_REDIS_PORT: already up, kept"
    return 0
  fi
  log "redis $PRIVATE_REDIS_PORT: starting"
  stop_dir "$dir"
  free_redis_port "$PRIVATE_REDIS_PORT"
  start_redis "$dir" "$PRIVATE_REDIS_PORT"
}

# ------------------------------------------- machine services (never stopped)

start_base_redis() {
  if redis_ping "$BASE_REDIS_PORT"; then
    log "redis $BASE_REDIS_PORT (machine's): up"
    return 0
  fi
  log "redis $BASE_REDIS_PORT (machine's): down, starting it"
  as_root mkdir -p /var/lib/redis /var/log/redis
  as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$BASE_REDIS_PORT" --save "" \
    --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log \
    || die "redis $BASE_REDIS_PORT failed to start" /var/log/redis/ci.log
  wait_for "redis $BASE_REDIS_PORT" /var/log/redis/ci.log redis_ping "$BASE_REDIS_PORT"
}

pg_ok_as() {
  PGCONNECT_TIMEOUT=3 psql -h "$HOST" -p "$PG_PORT" -U "$1" -d test -Atqc 'select 1' 2>/dev/null \
    | grep -qx 1
}

pg_ok() { pg_ok_as postgres || pg_ok_as root; }

# First role that connects over TCP with trust auth; postgres if none does.
pg_user() {
  local u
  for u in postgres root; do
    if pg_ok_as "$u"; then
      echo "$u"
      return 0
    fi
  done
  echo postgres
}

start_postgres() {
  local dir version=""
  command -v psql >/dev/null 2>&1 || die "psql not found (PostgreSQL client missing)"
  if pg_ok; then
    log "postgresql $PG_PORT (machine's): up"
    return 0
  fi
  for dir in /etc/postgresql/*/; do
    [[ -d "$dir/main" ]] && version=$(basename "$dir")
  done
  [[ -n "$version" ]] || die "postgresql $PG_PORT is down and no cluster is configured in /etc/postgresql"
  log "postgresql $PG_PORT (machine's): down, starting cluster $version/main"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start \
    || die "postgresql: pg_ctlcluster $version main start failed" \
      "/var/log/postgresql/postgresql-$version-main.log"
  wait_for "postgresql $PG_PORT" "/var/log/postgresql/postgresql-$version-main.log" pg_ok
}

mysql_client() {
  if command -v mariadb >/dev/null 2>&1; then echo mariadb; else echo mysql; fi
}

mysql_tcp_ok_as() { # USER [PASSWORD]
  local -a pw=()
  [[ -n "${2:-}" ]] && pw=("-p$2")
  "$(mysql_client)" --connect-timeout=3 -h "$HOST" -P "$MYSQL_PORT" -u "$1" "${pw[@]}" \
    -N -B -e 'select 1' test 2>/dev/null | grep -qx 1
}

mysql_server_up() {
  # Any answer (even "access denied") proves the server listens on TCP.
  local out
  out=$("$(mysql_client)" --connect-timeout=3 -h "$HOST" -P "$MYSQL_PORT" -u root -N -B \
    -e 'select 1' 2>&1) && return 0
  ! grep -q "Can't connect" <<<"$out"
}

mysql_socket() {
  local -a sock=()
  [[ -n "$MYSQL_SOCKET" ]] && sock=(-S "$MYSQL_SOCKET")
  as_root "$(mysql_client)" "${sock[@]}" -u root "$@"
}

mysql_root_url() { echo "mysql://root@$HOST:$MYSQL_PORT/test"; }
mysql_app_url() { echo "mysql://$MYSQL_APP_USER:$MYSQL_APP_PASSWORD@$HOST:$MYSQL_PORT/test"; }

start_mariadb() {
  command -v "$(mysql_client)" >/dev/null 2>&1 || die "mariadb/mysql client not found"
  if mysql_server_up; then
    log "mariadb $MYSQL_PORT (machine's): up"
  else
    log "mariadb $MYSQL_PORT (machine's): down, starting it"
    as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd \
      || die "mariadb: start-stop-daemon failed" /var/log/mysql/error.log
    wait_for "mariadb $MYSQL_PORT" /var/log/mysql/error.log mysql_server_up
  fi
  if mysql_tcp_ok_as root; then
    log "mariadb: root over TCP without password works"
    mysql_root_url >"$STATE_DIR/mysql_url"
    return 0
  fi
  log "mariadb: root cannot log in over TCP without password; creating user $MYSQL_APP_USER via the socket"
  mysql_socket -e "
    CREATE DATABASE IF NOT EXISTS test;
    CREATE USER IF NOT EXISTS '$MYSQL_APP_USER'@'127.0.0.1' IDENTIFIED BY '$MYSQL_APP_PASSWORD';
    CREATE USER IF NOT EXISTS '$MYSQL_APP_USER'@'localhost' IDENTIFIED BY '$MYSQL_APP_PASSWORD';
    GRANT ALL ON test.* TO '$MYSQL_APP_USER'@'127.0.0.1';
    GRANT ALL ON test.* TO '$MYSQL_APP_USER'@'localhost';
    FLUSH PRIVILEGES;" || die "mariadb: could not create user $MYSQL_APP_USER via the unix socket"
  mysql_tcp_ok_as "$MYSQL_APP_USER" "$MYSQL_APP_PASSWORD" \
    || die "mariadb: user $MYSQL_APP_USER still cannot log in over TCP"
  mysql_app_url >"$STATE_DIR/mysql_url"
}

# ------------------------------------------------------------------ verbs --

cmd_start() {
  local t0=$SECONDS
  install_missing_packages
  ensure_state_dir
  start_base_redis
  start_postgres
  start_mariadb
  pg_user >"$STATE_DIR/postgres_user"
  start_private_redis
  log "all servers up in $((SECONDS - t0))s (state dir: $STATE_DIR)"
}

cmd_stop() {
  if [[ ! -d "$STATE_DIR" ]]; then
    log "nothing to stop ($STATE_DIR does not exist)"
    return 0
  fi
  if [[ ! -f "$STATE_DIR/$MARKER" ]]; then
    die "$STATE_DIR has no $MARKER marker; refusing to delete it"
  fi
  stop_dir "$STATE_DIR"
  log "stopped; removed $STATE_DIR"
}

cmd_status() {
  local down=0

  report() { # NAME CMD...
    local name=$1
    shift
    if "$@"; then
      printf '%-52s up\n' "$name"
    else
      printf '%-52s DOWN\n' "$name"
      down=1
    fi
  }

  report "redis $HOST:$BASE_REDIS_PORT (machine's)" redis_ping "$BASE_REDIS_PORT"
  report "postgresql $HOST:$PG_PORT (machine's)" pg_ok
  report "mariadb $HOST:$MYSQL_PORT (machine's)" mysql_server_up
  report "redis $HOST:$PRIVATE_REDIS_PORT (private, benches)" redis_ping "$PRIVATE_REDIS_PORT"
  report "chromium ($CHROMIUM_BIN)" test -x "$CHROMIUM_BIN"
  report "chromedriver ($CHROMEDRIVER_BIN)" test -x "$CHROMEDRIVER_BIN"
  report "go (gob interop tests)" have_go
  report "postgresql server programs (initdb)" test -n "$(pg_bindir)"
  return "$down"
}

cmd_env() {
  local mysql_url pg_role
  if [[ -s "$STATE_DIR/mysql_url" ]]; then
    mysql_url=$(<"$STATE_DIR/mysql_url")
  elif mysql_tcp_ok_as root; then
    mysql_url=$(mysql_root_url)
  elif mysql_tcp_ok_as "$MYSQL_APP_USER" "$MYSQL_APP_PASSWORD"; then
    mysql_url=$(mysql_app_url)
  else
    mysql_url=$(mysql_root_url)
  fi
  if [[ -s "$STATE_DIR/postgres_user" ]]; then
    pg_role=$(<"$STATE_DIR/postgres_user")
  else
    pg_role=$(pg_user)
  fi
  cat <<EOF
export ACTIX_BEE_REDIS_URL=redis://$HOST:$BASE_REDIS_PORT/
export ACTIX_BEE_REDIS_PRIVATE_URL=redis://$HOST:$PRIVATE_REDIS_PORT/
export ACTIX_BEE_MYSQL_URL=$mysql_url
export ACTIX_BEE_POSTGRES_URL=postgres://$pg_role@$HOST:$PG_PORT/test
export CHROMIUM=$CHROMIUM_BIN
export CHROMEDRIVER=$CHROMEDRIVER_BIN
EOF
}

main() {
  case "${1:-}" in
    install) install_missing_packages ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    env) cmd_env ;;
    *)
      echo "usage: $0 install|start|stop|status|env" >&2
      exit 2
      ;;
  esac
}

# Allow `source scripts/test-servers.sh` (e.g. to test single functions).
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi
