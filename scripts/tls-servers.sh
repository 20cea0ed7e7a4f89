#!/usr/bin/env bash
# Start/stop the TLS-only servers that actix-bee's TLS tests (issue 13) run
# against, with a throw-away test CA made here with openssl.
#
#   scripts/tls-servers.sh start    install what is missing, make the certs, start everything (idempotent)
#   scripts/tls-servers.sh stop     stop what `start` started, remove the state dir
#   scripts/tls-servers.sh status   print each server and whether it answers over verified TLS
#   scripts/tls-servers.sh env      print `export ACTIX_BEE_TLS_...` lines for the tests
#
# Typical use:  scripts/tls-servers.sh start && eval "$(scripts/tls-servers.sh env)"
#
# Everything lives under $ACTIX_BEE_TLS_DIR (default ${TMPDIR:-/tmp}/actix-bee-tls):
# the certificates in pki/, one directory per server.  The machine's own
# servers (PostgreSQL 5432, MariaDB 3306, Redis 6379, memcached 11311) and the
# ones of scripts/test-servers.sh are never touched.  Only loopback addresses
# are used.  See scripts/README.md for the ports, certificates and variables.
#
# Host names: every server certificate signed by the test CA names
# DNS:localhost and IP:127.0.0.1 only.  Each server also listens on
# 127.0.0.2 ($WRONG_HOST), an address that reaches the same server but that
# the certificate does NOT cover: the "wrong host name" case of verify-full.
set -euo pipefail

STATE_DIR="${ACTIX_BEE_TLS_DIR:-${TMPDIR:-/tmp}/actix-bee-tls}"
MARKER=".actix-bee-tls"
PKI=$STATE_DIR/pki

HOST=127.0.0.1
WRONG_HOST=127.0.0.2
NAME=localhost

PG_PORT=55432       # test CA's cert; password and client-certificate logins
PG_ROGUE_PORT=55433 # cert signed by the rogue CA
PG_USER=pqgotest
PG_PASSWORD=password
PG_CERT_USER=pqcert # logs in with the client certificate (CN=pqcert), no password

MYSQL_PORT=33306
MYSQL_ROGUE_PORT=33307
MYSQL_USER=actixbee
MYSQL_PASSWORD=actixbee
MYSQL_X509_USER=actixbee_x509 # REQUIRE X509: needs the client certificate too

REDIS_PORT=6479       # TLS only, no client certificate asked
REDIS_ROGUE_PORT=6480 # TLS only, cert signed by the rogue CA
REDIS_MTLS_PORT=6481  # TLS only, client certificate required
CLUSTER_PORTS=(7101 7102 7103) # TLS cluster, 3 masters, bus ports 17101-17103 (TLS too)
SENTINEL_MASTER_PORT=6490
SENTINEL_REPLICA_PORT=6491
SENTINEL_PORTS=(26490 26491 26492)
SENTINEL_MASTER_NAME=mymaster

MEMCACHED_PORT=11411

WAIT_SECS="${ACTIX_BEE_WAIT_SECS:-30}"

log() { printf '[tls-servers] %s\n' "$*" >&2; }

# die WHAT [LOGFILE...]: report which server failed, show its log tail, exit 1.
die() {
  local what=$1 f
  shift
  printf '[tls-servers] ERROR: %s\n' "$what" >&2
  for f in "$@"; do
    if [[ -f "$f" ]]; then
      printf '[tls-servers] ---- last lines of %s ----\n' "$f" >&2
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

as_root() {
  if ((EUID == 0)); then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "need root (or sudo) to run: $*"
  fi
}

# as_user USER CMD...: run CMD as USER when we are root (initdb, pg_ctl and
# postgres refuse to run as root), else as ourselves.
as_user() {
  local user=$1
  shift
  if ((EUID == 0)); then
    runuser -u "$user" -- "$@"
  else
    "$@"
  fi
}

# The user the daemons run as when we are root (they own their directories).
pg_os_user() { if ((EUID == 0)); then echo postgres; else id -un; fi; }
mysql_os_user() {
  if ((EUID != 0)); then
    id -un
  elif id mysql >/dev/null 2>&1; then
    echo mysql
  else
    echo root
  fi
}

# ---------------------------------------------------------------- packages --

pg_bindir() { # the newest installed PostgreSQL's bin dir, or nothing
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [[ -x "$d/initdb" && -x "$d/pg_ctl" ]] && echo "$d"
  done | sort -V | tail -n 1
}

install_missing_packages() {
  local -a missing=()
  command -v openssl >/dev/null 2>&1 || missing+=(openssl)
  command -v psql >/dev/null 2>&1 || missing+=(postgresql-client)
  [[ -n "$(pg_bindir)" ]] || missing+=(postgresql)
  command -v mariadbd >/dev/null 2>&1 || [[ -x /usr/sbin/mariadbd ]] || missing+=(mariadb-server)
  command -v mariadb >/dev/null 2>&1 || missing+=(mariadb-client)
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools)
  command -v redis-sentinel >/dev/null 2>&1 || missing+=(redis-sentinel)
  command -v memcached >/dev/null 2>&1 || missing+=(memcached)
  command -v runuser >/dev/null 2>&1 || missing+=(util-linux)
  command -v pgrep >/dev/null 2>&1 || missing+=(procps)
  if ((${#missing[@]} > 0)); then
    log "installing: ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
      || die "apt-get update failed"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${missing[@]}" >&2 || die "apt-get install ${missing[*]} failed"
  fi
  command -v openssl >/dev/null 2>&1 || die "openssl still missing"
  [[ -n "$(pg_bindir)" ]] || die "initdb/pg_ctl still missing after installing postgresql"
  command -v mariadb-install-db >/dev/null 2>&1 || die "mariadb-install-db still missing"
  command -v redis-server >/dev/null 2>&1 || die "redis-server still missing"
  if ((EUID == 0)); then
    id postgres >/dev/null 2>&1 || die "no 'postgres' user to run PostgreSQL as (initdb refuses root)"
  fi
}

# ------------------------------------------------------------ certificates --

# Certificates: the test CA (ca.pem), a server cert for localhost signed by it
# (server.pem/server.key, SAN DNS:localhost, IP:127.0.0.1), a client cert
# (client.pem/client.key, CN=pqcert), and a "rogue" CA with a server cert for
# the same names (rogue-ca.pem, rogue-server.pem/.key) that no test trusts.
# EC P-256 keys: instant to make, and every client and server here takes them.
newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

make_ca() { # NAME CN
  newkey "$PKI/$1.key"
  openssl req -x509 -new -key "$PKI/$1.key" -sha256 -days 3650 -subj "/CN=$2" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$PKI/$1.pem" 2>/dev/null
}

make_leaf() { # NAME CA CN EXTFILE-LINES...
  local name=$1 ca=$2 cn=$3
  shift 3
  newkey "$PKI/$name.key"
  openssl req -new -key "$PKI/$name.key" -subj "/CN=$cn" -out "$PKI/$name.csr" 2>/dev/null
  printf '%s\n' "basicConstraints=critical,CA:FALSE" "$@" >"$PKI/$name.ext"
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/$ca.pem" -CAkey "$PKI/$ca.key" \
    -CAcreateserial -days 3650 -sha256 -extfile "$PKI/$name.ext" -out "$PKI/$name.pem" 2>/dev/null
  rm -f "$PKI/$name.csr" "$PKI/$name.ext"
}

pki_ok() {
  local f
  for f in ca rogue-ca server rogue-server client; do
    [[ -s "$PKI/$f.pem" && -s "$PKI/$f.key" ]] || return 1
  done
  openssl verify -CAfile "$PKI/ca.pem" "$PKI/server.pem" "$PKI/client.pem" >/dev/null 2>&1 \
    && openssl verify -CAfile "$PKI/rogue-ca.pem" "$PKI/rogue-server.pem" >/dev/null 2>&1 \
    && openssl x509 -checkend 86400 -noout -in "$PKI/server.pem" >/dev/null 2>&1
}

make_pki() {
  # clientAuth too: a Redis cluster node presents its cert as a client on the
  # TLS cluster bus, which always asks for one.
  local server_ext=("keyUsage=critical,digitalSignature,keyEncipherment"
    "extendedKeyUsage=serverAuth,clientAuth" "subjectAltName=DNS:$NAME,IP:$HOST")
  if pki_ok; then
    log "certificates in $PKI: present, kept"
    return 0
  fi
  log "certificates: making a test CA, a rogue CA and their certs in $PKI"
  rm -rf "$PKI"
  mkdir -p "$PKI"
  make_ca ca "actix-bee test CA"
  make_ca rogue-ca "actix-bee ROGUE CA (trusted by no test)"
  make_leaf server ca "$NAME" "${server_ext[@]}"
  make_leaf rogue-server rogue-ca "$NAME" "${server_ext[@]}"
  make_leaf client ca "$PG_CERT_USER" "keyUsage=critical,digitalSignature" \
    "extendedKeyUsage=clientAuth"
  chmod 0644 "$PKI"/*.pem
  chmod 0600 "$PKI"/*.key # libpq refuses a group/world-readable sslkey
  pki_ok || die "certificates: openssl made certs that do not verify"
}

# ca_of CERT: the CA that signed CERT (server -> ca, rogue-server -> rogue-ca).
ca_of() { if [[ "$1" == rogue-* ]]; then echo rogue-ca; else echo ca; fi; }

# install_cert DIR OWNER SERVER: copy SERVER's cert/key and the test CA to DIR,
# readable by OWNER only (PostgreSQL insists on a private key file of its own).
install_cert() {
  local dir=$1 owner=$2 which=$3
  cp "$PKI/$which.pem" "$dir/server.pem"
  cp "$PKI/$which.key" "$dir/server.key"
  cp "$PKI/ca.pem" "$dir/ca.pem"
  chmod 0600 "$dir/server.key"
  if ((EUID == 0)); then chown "$owner" "$dir/server.pem" "$dir/server.key" "$dir/ca.pem"; fi
}

# ------------------------------------------------------------- pid handling --

# pid_alive PIDFILE PATTERN: the pid file names a live process whose command
# line matches PATTERN.
pid_alive() {
  local pid
  [[ -f "$1" ]] || return 1
  pid=$(head -n 1 "$1" | tr -dc '0-9')
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null \
    && grep -Eq "$2" <<<"$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)"
}

# stop_pidfile PIDFILE PATTERN: SIGTERM (SIGINT, "fast shutdown", for
# PostgreSQL, whose SIGTERM waits for the clients), SIGKILL after 15 s.
stop_pidfile() {
  local pidfile=$1 pattern=$2 pid i sig=TERM
  pid_alive "$pidfile" "$pattern" || return 0
  pid=$(head -n 1 "$pidfile" | tr -dc '0-9')
  [[ "$(basename "$pidfile")" == postmaster.pid ]] && sig=INT
  kill -"$sig" "$pid" 2>/dev/null || true
  for ((i = 0; i < 75; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.2
  done
  log "pid $pid ($pidfile) ignored SIGTERM for 15s, sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
}

# port_free PORT: nothing listens on 127.0.0.1:PORT.
port_free() {
  # shellcheck disable=SC2016 # expanded by the inner shell
  ! timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$HOST" "$1" 2>/dev/null
}

need_free_port() { # PORT WHAT
  port_free "$1" || die "$2: port $1 is taken by a process this script did not start (not ours; stop it or change the port)"
}

# Every server dir has a pid file named *.pid; stop them all (in parallel).
stop_all() {
  local pidfile
  [[ -d "$STATE_DIR" ]] || return 0
  while IFS= read -r -d '' pidfile; do
    stop_pidfile "$pidfile" 'postgres|mariadbd|mysqld|redis|memcached' &
  done < <(find "$STATE_DIR" -name '*.pid' -type f -print0)
  wait
}

ensure_state_dir() {
  if [[ -d "$STATE_DIR" && ! -f "$STATE_DIR/$MARKER" ]] \
    && [[ -n "$(ls -A "$STATE_DIR")" ]]; then
    die "$STATE_DIR exists, is not empty and is not ours (no $MARKER); set ACTIX_BEE_TLS_DIR"
  fi
  mkdir -p "$STATE_DIR"
  chmod 0755 "$STATE_DIR"
  touch "$STATE_DIR/$MARKER"
}

# --------------------------------------------------------------- postgresql --

# pg_verified PORT [CAFILE]: a verify-full password login over TLS works.
pg_verified() {
  local port=$1 ca=${2:-$PKI/ca.pem} out
  out=$(PGCONNECT_TIMEOUT=3 timeout 10 psql \
    "host=$NAME port=$port dbname=test user=$PG_USER password=$PG_PASSWORD sslmode=verify-full sslrootcert=$ca" \
    -Atqc 'select ssl from pg_stat_ssl where pid = pg_backend_pid()' 2>/dev/null) || return 1
  [[ "$out" == t ]]
}

pg_up() { # DIR
  pid_alive "$1/data/postmaster.pid" postgres
}

# pg_template: one initdb, copied for each instance (saves ~2 s per instance).
pg_template() {
  local bindir=$1 tdir=$STATE_DIR/pg-template owner
  owner=$(pg_os_user)
  if [[ -f "$tdir/data/PG_VERSION" ]]; then return 0; fi
  rm -rf "$tdir"
  mkdir -p "$tdir"
  ((EUID == 0)) && chown "$owner" "$tdir"
  as_user "$owner" "$bindir/initdb" -D "$tdir/data" -U postgres --auth-local=trust \
    --auth-host=reject -E UTF8 --locale=C.UTF-8 --no-sync --no-instructions \
    >"$tdir/initdb.log" 2>&1 || die "postgresql: initdb failed" "$tdir/initdb.log"
}

# start_pg PORT CERT: a TLS-only instance: hostssl lines only, so a plain
# connection gets "no pg_hba.conf entry ... no encryption".
start_pg() {
  local port=$1 cert=$2 bindir dir=$STATE_DIR/pg-$1 owner sock
  owner=$(pg_os_user)
  bindir=$(pg_bindir)
  if pg_up "$dir" && pg_verified "$port" "$PKI/$(ca_of "$cert").pem"; then
    log "postgresql $port ($cert cert): already up, kept"
    return 0
  fi
  log "postgresql $port ($cert cert): (re)creating"
  if [[ -f "$dir/data/postmaster.pid" ]]; then
    as_user "$owner" "$bindir/pg_ctl" -D "$dir/data" -m immediate -w -t 15 stop >/dev/null 2>&1 || true
    stop_pidfile "$dir/data/postmaster.pid" postgres
  fi
  rm -rf "$dir"
  need_free_port "$port" "postgresql $port"
  pg_template "$bindir"
  mkdir -p "$dir"
  cp -a "$STATE_DIR/pg-template/data" "$dir/data"
  install_cert "$dir" "$owner" "$cert"
  ((EUID == 0)) && chown "$owner" "$dir"
  # Unix socket in the instance's dir: setup runs through it as postgres.
  sock=$dir
  cat >>"$dir/data/postgresql.conf" <<EOF

# ---- actix-bee TLS test server (scripts/tls-servers.sh) ----
listen_addresses = '$HOST,$WRONG_HOST'
port = $port
unix_socket_directories = '$sock'
ssl = on
ssl_cert_file = '$dir/server.pem'
ssl_key_file = '$dir/server.key'
ssl_ca_file = '$dir/ca.pem'
password_encryption = scram-sha-256
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 16MB
max_connections = 60
logging_collector = off
EOF
  cat >"$dir/data/pg_hba.conf" <<EOF
# TLS only: there is no 'host' or 'hostnossl' line.
local   all  postgres                       trust
hostssl all  $PG_CERT_USER  $HOST/32        cert
hostssl all  $PG_CERT_USER  $WRONG_HOST/32  cert
hostssl all  all            $HOST/32        scram-sha-256
hostssl all  all            $WRONG_HOST/32  scram-sha-256
EOF
  as_user "$owner" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/postgresql.log" -w -t "$WAIT_SECS" \
    start >"$dir/pg_ctl.log" 2>&1 \
    || die "postgresql $port: pg_ctl start failed" "$dir/pg_ctl.log" "$dir/postgresql.log"
  as_user "$owner" psql -h "$sock" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -q \
    >"$dir/setup.log" 2>&1 <<EOF || die "postgresql $port: creating roles and databases failed" "$dir/setup.log"
CREATE ROLE $PG_USER LOGIN PASSWORD '$PG_PASSWORD';
CREATE ROLE $PG_CERT_USER LOGIN;
CREATE DATABASE test OWNER $PG_USER;
CREATE DATABASE $PG_USER OWNER $PG_USER;
\c test
GRANT ALL ON SCHEMA public TO $PG_CERT_USER;
\c $PG_USER
GRANT ALL ON SCHEMA public TO $PG_CERT_USER;
EOF
  wait_for "postgresql $port (verify-full login over TLS)" "$dir/postgresql.log" \
    pg_verified "$port" "$PKI/$(ca_of "$cert").pem"
}

# ------------------------------------------------------------------ mariadb --

mariadbd_bin() {
  if command -v mariadbd >/dev/null 2>&1; then command -v mariadbd; else echo /usr/sbin/mariadbd; fi
}

# my_verified PORT [CAFILE]: a verified TLS login works (the client checks the
# name against the certificate with --ssl-verify-server-cert).
my_verified() {
  local port=$1 ca=${2:-$PKI/ca.pem} out
  out=$(timeout 10 mariadb --no-defaults --connect-timeout=3 --protocol=tcp -h "$NAME" -P "$port" \
    -u "$MYSQL_USER" "-p$MYSQL_PASSWORD" --ssl-ca="$ca" --ssl-verify-server-cert -N -B \
    -e "SHOW SESSION STATUS LIKE 'Ssl_version'" test 2>/dev/null) || return 1
  [[ "$out" == Ssl_version*TLS* ]]
}

my_template() {
  local tdir=$STATE_DIR/mariadb-template owner
  owner=$(mysql_os_user)
  if [[ -d "$tdir/data/mysql" && -f "$tdir/.done" ]]; then return 0; fi
  rm -rf "$tdir"
  mkdir -p "$tdir"
  mariadb-install-db --no-defaults --datadir="$tdir/data" --user="$owner" \
    --auth-root-authentication-method=normal --skip-test-db \
    --innodb-buffer-pool-size=16M --innodb-log-file-size=8M \
    >"$tdir/install.log" 2>&1 || die "mariadb: mariadb-install-db failed" "$tdir/install.log"
  touch "$tdir/.done"
}

start_mariadb() {
  local port=$1 cert=$2 dir=$STATE_DIR/mariadb-$1 owner i
  owner=$(mysql_os_user)
  if pid_alive "$dir/mariadb.pid" 'mariadbd|mysqld' && my_verified "$port" "$PKI/$(ca_of "$cert").pem"; then
    log "mariadb $port ($cert cert): already up, kept"
    return 0
  fi
  log "mariadb $port ($cert cert): (re)creating"
  stop_pidfile "$dir/mariadb.pid" 'mariadbd|mysqld'
  rm -rf "$dir"
  need_free_port "$port" "mariadb $port"
  my_template
  mkdir -p "$dir"
  cp -a "$STATE_DIR/mariadb-template/data" "$dir/data"
  install_cert "$dir" "$owner" "$cert"
  cat >"$dir/my.cnf" <<EOF
[mariadbd]
user = $owner
datadir = $dir/data
port = $port
bind-address = $HOST,$WRONG_HOST
socket = $dir/mariadb.sock
pid-file = $dir/mariadb.pid
log-error = $dir/mariadb.log
ssl-ca = $dir/ca.pem
ssl-cert = $dir/server.pem
ssl-key = $dir/server.key
require_secure_transport = ON
skip-name-resolve
skip-log-bin
performance_schema = OFF
innodb_buffer_pool_size = 16M
innodb_log_file_size = 8M
innodb_flush_log_at_trx_commit = 0
max_connections = 100
EOF
  if ((EUID == 0)); then chown -R "$owner" "$dir"; fi
  # setsid: the server outlives this script's process group.
  setsid -f "$(mariadbd_bin)" --defaults-file="$dir/my.cnf" </dev/null >>"$dir/mariadb.log" 2>&1
  for ((i = 0; i < WAIT_SECS * 5; i++)); do
    [[ -S "$dir/mariadb.sock" ]] && mariadb --no-defaults -S "$dir/mariadb.sock" -u root \
      -e 'select 1' >/dev/null 2>&1 && break
    sleep 0.2
  done
  mariadb --no-defaults -S "$dir/mariadb.sock" -u root >"$dir/setup.log" 2>&1 <<EOF \
    || die "mariadb $port: not up after ${WAIT_SECS}s, or creating the users failed" "$dir/setup.log" "$dir/mariadb.log"
CREATE DATABASE IF NOT EXISTS test;
CREATE USER '$MYSQL_USER'@'%' IDENTIFIED BY '$MYSQL_PASSWORD';
GRANT ALL ON test.* TO '$MYSQL_USER'@'%';
CREATE USER '$MYSQL_X509_USER'@'%' IDENTIFIED BY '$MYSQL_PASSWORD' REQUIRE X509;
GRANT ALL ON test.* TO '$MYSQL_X509_USER'@'%';
FLUSH PRIVILEGES;
EOF
  wait_for "mariadb $port (verified TLS login)" "$dir/mariadb.log" \
    my_verified "$port" "$PKI/$(ca_of "$cert").pem"
}

# -------------------------------------------------------------------- redis --

# rtls PORT [CAFILE] ARGS...: redis-cli over TLS, trusting CAFILE (default the test CA).
rtls() {
  local port=$1 ca=$2
  shift 2
  timeout 5 redis-cli --tls --cacert "$ca" --cert "$PKI/client.pem" --key "$PKI/client.key" \
    -h "$HOST" -p "$port" "$@" 2>/dev/null
}

redis_ping() { # PORT [CAFILE]
  [[ "$(rtls "$1" "${2:-$PKI/ca.pem}" PING)" == PONG ]]
}

# tls_lines CERT CLIENTAUTH: the redis.conf lines of a TLS-only server.
tls_lines() {
  local dir=$1 auth=$2
  printf '%s\n' "port 0" "tls-cert-file $dir/server.pem" "tls-key-file $dir/server.key" \
    "tls-ca-cert-file $dir/ca.pem" "tls-auth-clients $auth" "tls-replication yes"
}

# start_redis DIR PORT CERT CLIENTAUTH [EXTRA CONFIG LINES...]
start_redis() {
  local dir=$1 port=$2 cert=$3 auth=$4 line
  shift 4
  mkdir -p "$dir"
  install_cert "$dir" "$(id -un)" "$cert"
  {
    tls_lines "$dir" "$auth"
    echo "tls-port $port"
    echo "bind $HOST $WRONG_HOST"
    echo "daemonize yes"
    echo "pidfile $dir/redis.pid"
    echo "logfile $dir/redis.log"
    echo "dir $dir"
    echo "save \"\""
    echo "appendonly no"
    echo "shutdown-on-sigterm now"
    for line in "$@"; do echo "$line"; done
  } >"$dir/redis.conf"
  redis-server "$dir/redis.conf" >>"$dir/redis.log" 2>&1 \
    || die "redis-server on TLS port $port failed to start" "$dir/redis.log"
  wait_for "redis-server on TLS port $port" "$dir/redis.log" \
    redis_ping "$port" "$PKI/$(ca_of "$cert").pem"
}

start_single_redis() { # PORT CERT CLIENTAUTH
  local port=$1 cert=$2 auth=$3 dir=$STATE_DIR/redis-$1
  if pid_alive "$dir/redis.pid" redis && redis_ping "$port" "$PKI/$(ca_of "$cert").pem"; then
    log "redis TLS $port ($cert cert, client certs: $auth): already up, kept"
    return 0
  fi
  log "redis TLS $port ($cert cert, client certs: $auth): (re)creating"
  stop_pidfile "$dir/redis.pid" redis
  rm -rf "$dir"
  need_free_port "$port" "redis $port"
  start_redis "$dir" "$port" "$cert" "$auth"
}

cluster_node_ok() {
  local info
  info=$(rtls "$1" "$PKI/ca.pem" CLUSTER INFO | tr -d '\r') || return 1
  grep -qx 'cluster_state:ok' <<<"$info" \
    && grep -qx 'cluster_slots_ok:16384' <<<"$info" \
    && grep -qx "cluster_known_nodes:${#CLUSTER_PORTS[@]}" <<<"$info"
}

cluster_ok() {
  local port
  for port in "${CLUSTER_PORTS[@]}"; do
    pid_alive "$STATE_DIR/cluster/$port/redis.pid" redis && cluster_node_ok "$port" || return 1
  done
}

start_cluster() {
  local dir=$STATE_DIR/cluster port
  local -a nodes=() logs=()
  if cluster_ok; then
    log "redis TLS cluster (${CLUSTER_PORTS[*]}): already up, kept"
    return 0
  fi
  log "redis TLS cluster (${CLUSTER_PORTS[*]}): (re)creating"
  for port in "${CLUSTER_PORTS[@]}"; do stop_pidfile "$dir/$port/redis.pid" redis; done
  rm -rf "$dir"
  for port in "${CLUSTER_PORTS[@]}"; do
    need_free_port "$port" "redis cluster node $port"
    need_free_port "$((port + 10000))" "redis cluster bus $((port + 10000))"
  done
  for port in "${CLUSTER_PORTS[@]}"; do
    start_redis "$dir/$port" "$port" server no \
      "cluster-enabled yes" "cluster-config-file nodes.conf" "cluster-node-timeout 5000" \
      "tls-cluster yes"
    nodes+=("$HOST:$port")
    logs+=("$dir/$port/redis.log")
  done
  if ! timeout 60 redis-cli --tls --cacert "$PKI/ca.pem" --cluster create "${nodes[@]}" \
    --cluster-replicas 0 --cluster-yes >"$dir/create.log" 2>&1; then
    die "redis TLS cluster: 'redis-cli --cluster create' failed" "$dir/create.log" "${logs[@]}"
  fi
  for port in "${CLUSTER_PORTS[@]}"; do
    wait_for "redis TLS cluster node $port (cluster_state:ok)" "$dir/$port/redis.log" \
      cluster_node_ok "$port"
  done
}

sentinel_node_ok() {
  local port=$1 addr replicas sentinels
  addr=$(rtls "$port" "$PKI/ca.pem" SENTINEL get-master-addr-by-name "$SENTINEL_MASTER_NAME") || return 1
  [[ "$(wc -l <<<"$addr")" -eq 2 && -n "${addr%%$'\n'*}" ]] || return 1
  replicas=$(rtls "$port" "$PKI/ca.pem" SENTINEL replicas "$SENTINEL_MASTER_NAME" | tr -d '\r') || return 1
  [[ "$(grep -cx name <<<"$replicas")" -ge 1 ]] || return 1
  sentinels=$(rtls "$port" "$PKI/ca.pem" SENTINEL sentinels "$SENTINEL_MASTER_NAME" | tr -d '\r') || return 1
  [[ "$(grep -cx name <<<"$sentinels")" -eq $((${#SENTINEL_PORTS[@]} - 1)) ]]
}

replica_synced() {
  grep -qx 'master_link_status:up' \
    <<<"$(rtls "$SENTINEL_REPLICA_PORT" "$PKI/ca.pem" INFO replication | tr -d '\r')"
}

sentinel_group_ok() {
  local port dir=$STATE_DIR/sentinel
  for port in "$SENTINEL_MASTER_PORT" "$SENTINEL_REPLICA_PORT"; do
    pid_alive "$dir/$port/redis.pid" redis && redis_ping "$port" || return 1
  done
  for port in "${SENTINEL_PORTS[@]}"; do
    pid_alive "$dir/$port/redis.pid" redis && sentinel_node_ok "$port" || return 1
  done
}

start_sentinel_group() {
  local dir=$STATE_DIR/sentinel port sdir
  if sentinel_group_ok; then
    log "redis TLS sentinel (master $SENTINEL_MASTER_PORT, replica $SENTINEL_REPLICA_PORT, sentinels ${SENTINEL_PORTS[*]}): already up, kept"
    return 0
  fi
  log "redis TLS sentinel (master $SENTINEL_MASTER_PORT, replica $SENTINEL_REPLICA_PORT, sentinels ${SENTINEL_PORTS[*]}): (re)creating"
  for port in "$SENTINEL_MASTER_PORT" "$SENTINEL_REPLICA_PORT" "${SENTINEL_PORTS[@]}"; do
    stop_pidfile "$dir/$port/redis.pid" redis
  done
  rm -rf "$dir"
  for port in "$SENTINEL_MASTER_PORT" "$SENTINEL_REPLICA_PORT" "${SENTINEL_PORTS[@]}"; do
    need_free_port "$port" "redis sentinel group $port"
  done
  start_redis "$dir/$SENTINEL_MASTER_PORT" "$SENTINEL_MASTER_PORT" server no
  start_redis "$dir/$SENTINEL_REPLICA_PORT" "$SENTINEL_REPLICA_PORT" server no \
    "replicaof $HOST $SENTINEL_MASTER_PORT"
  wait_for "TLS sentinel replica $SENTINEL_REPLICA_PORT (sync with $SENTINEL_MASTER_PORT)" \
    "$dir/$SENTINEL_REPLICA_PORT/redis.log" replica_synced
  for port in "${SENTINEL_PORTS[@]}"; do
    sdir=$dir/$port
    mkdir -p "$sdir"
    install_cert "$sdir" "$(id -un)" server
    # Sentinel rewrites this file (myid, discovered peers, failovers).
    {
      tls_lines "$sdir" no
      cat <<EOF
tls-port $port
bind $HOST $WRONG_HOST
daemonize yes
pidfile $sdir/redis.pid
logfile $sdir/sentinel.log
dir $sdir
sentinel monitor $SENTINEL_MASTER_NAME $HOST $SENTINEL_MASTER_PORT 2
sentinel down-after-milliseconds $SENTINEL_MASTER_NAME 2000
sentinel failover-timeout $SENTINEL_MASTER_NAME 10000
sentinel parallel-syncs $SENTINEL_MASTER_NAME 1
EOF
    } >"$sdir/sentinel.conf"
    redis-sentinel "$sdir/sentinel.conf" >>"$sdir/sentinel.log" 2>&1 \
      || die "redis-sentinel on TLS port $port failed to start" "$sdir/sentinel.log"
  done
  for port in "${SENTINEL_PORTS[@]}"; do
    wait_for "redis-sentinel on TLS port $port (master, replica and 2 peer sentinels known)" \
      "$dir/$port/sentinel.log" sentinel_node_ok "$port"
  done
}

# ---------------------------------------------------------------- memcached --

# (Not `memcached -h | grep -q`: grep's early exit SIGPIPEs memcached, and
# pipefail turns that into "no".)
memcached_has_tls() { grep -q -- '--enable-ssl' <<<"$(memcached -h 2>&1)"; }

# memcached_ok: a verified TLS handshake (chain and name), then `version`.
memcached_ok() {
  local out
  out=$( (printf 'version\r\n'; sleep 0.3) | timeout 5 openssl s_client -quiet -no_ign_eof \
    -connect "$HOST:$MEMCACHED_PORT" -CAfile "$PKI/ca.pem" -verify_return_error \
    -verify_hostname "$NAME" 2>/dev/null) || return 1
  [[ "$out" == VERSION* ]]
}

start_memcached() {
  local dir=$STATE_DIR/memcached-$MEMCACHED_PORT
  local -a user=()
  if pid_alive "$dir/memcached.pid" memcached && memcached_ok; then
    log "memcached TLS $MEMCACHED_PORT: already up, kept"
    return 0
  fi
  if ! memcached_has_tls; then
    log "memcached TLS $MEMCACHED_PORT: this memcached is built without TLS (-Z), skipped"
    return 0
  fi
  log "memcached TLS $MEMCACHED_PORT: (re)creating"
  stop_pidfile "$dir/memcached.pid" memcached
  rm -rf "$dir"
  need_free_port "$MEMCACHED_PORT" "memcached $MEMCACHED_PORT"
  mkdir -p "$dir"
  if ((EUID == 0)); then
    # memcached refuses to run as root without -u.
    if id memcache >/dev/null 2>&1; then user=(-u memcache); else user=(-u root); fi
  fi
  install_cert "$dir" "${user[1]:-$(id -un)}" server
  # The wrapper shell writes its own pid, then becomes memcached (same pid),
  # in a new session so it outlives this script's process group.
  # shellcheck disable=SC2016 # expanded by the inner shell
  setsid -f sh -c 'echo $$ >"$1"; shift; exec "$@"' _ "$dir/memcached.pid" \
    memcached "${user[@]}" -l "$HOST,$WRONG_HOST" -p "$MEMCACHED_PORT" -U 0 -m 16 -c 256 -v \
    -Z -o "ssl_chain_cert=$dir/server.pem,ssl_key=$dir/server.key" \
    </dev/null >>"$dir/memcached.log" 2>&1
  wait_for "memcached on TLS port $MEMCACHED_PORT" "$dir/memcached.log" memcached_ok
}

# -------------------------------------------------------------------- verbs --

cmd_start() {
  local t0=$SECONDS
  install_missing_packages
  ensure_state_dir
  make_pki
  # PostgreSQL and MariaDB set-ups wait on disk and start-up, Redis on
  # handshakes: run the three groups side by side.  Each group dies on its
  # own error; a failed group fails the start.
  local -a pids=()
  (start_pg "$PG_PORT" server && start_pg "$PG_ROGUE_PORT" rogue-server) &
  pids+=($!)
  (start_mariadb "$MYSQL_PORT" server && start_mariadb "$MYSQL_ROGUE_PORT" rogue-server) &
  pids+=($!)
  (start_single_redis "$REDIS_PORT" server no \
    && start_single_redis "$REDIS_ROGUE_PORT" rogue-server no \
    && start_single_redis "$REDIS_MTLS_PORT" server yes \
    && start_cluster && start_sentinel_group && start_memcached) &
  pids+=($!)
  local pid failed=0
  for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
  ((failed == 0)) || die "some TLS servers did not start (see above)"
  log "all TLS servers up in $((SECONDS - t0))s (state dir: $STATE_DIR)"
}

cmd_stop() {
  if [[ ! -d "$STATE_DIR" ]]; then
    log "nothing to stop ($STATE_DIR does not exist)"
    return 0
  fi
  [[ -f "$STATE_DIR/$MARKER" ]] || die "$STATE_DIR has no $MARKER marker; refusing to delete it"
  stop_all
  rm -rf "$STATE_DIR"
  log "stopped; removed $STATE_DIR"
}

cmd_status() {
  local down=0 port
  report() { # NAME CMD...
    local name=$1
    shift
    if "$@"; then
      printf '%-62s up\n' "$name"
    else
      printf '%-62s DOWN\n' "$name"
      down=1
    fi
  }
  report "certificates ($PKI)" pki_ok
  report "postgresql $NAME:$PG_PORT (verify-full)" pg_verified "$PG_PORT"
  report "postgresql $NAME:$PG_ROGUE_PORT (rogue cert; verify-full w/ rogue CA)" \
    pg_verified "$PG_ROGUE_PORT" "$PKI/rogue-ca.pem"
  report "mariadb $NAME:$MYSQL_PORT (verified TLS)" my_verified "$MYSQL_PORT"
  report "mariadb $NAME:$MYSQL_ROGUE_PORT (rogue cert; verified w/ rogue CA)" \
    my_verified "$MYSQL_ROGUE_PORT" "$PKI/rogue-ca.pem"
  report "redis $HOST:$REDIS_PORT (TLS)" redis_ping "$REDIS_PORT"
  report "redis $HOST:$REDIS_ROGUE_PORT (TLS, rogue cert)" redis_ping "$REDIS_ROGUE_PORT" "$PKI/rogue-ca.pem"
  report "redis $HOST:$REDIS_MTLS_PORT (TLS, client cert required)" redis_ping "$REDIS_MTLS_PORT"
  for port in "${CLUSTER_PORTS[@]}"; do
    report "redis TLS cluster node $HOST:$port (cluster_state:ok)" cluster_node_ok "$port"
  done
  report "TLS sentinel redis $HOST:$SENTINEL_MASTER_PORT" redis_ping "$SENTINEL_MASTER_PORT"
  report "TLS sentinel redis $HOST:$SENTINEL_REPLICA_PORT" redis_ping "$SENTINEL_REPLICA_PORT"
  for port in "${SENTINEL_PORTS[@]}"; do
    report "redis-sentinel TLS $HOST:$port ($SENTINEL_MASTER_NAME)" sentinel_node_ok "$port"
  done
  if memcached_has_tls; then
    report "memcached $HOST:$MEMCACHED_PORT (TLS)" memcached_ok
  fi
  return "$down"
}

join_nodes() { # HOST PORTS...
  local IFS=, host=$1
  shift
  local -a nodes=("${@/#/$host:}")
  echo "${nodes[*]}"
}

cmd_env() {
  local ca=$PKI/ca.pem
  cat <<EOF
export ACTIX_BEE_TLS_DIR=$STATE_DIR
export ACTIX_BEE_TLS_CA=$ca
export ACTIX_BEE_TLS_ROGUE_CA=$PKI/rogue-ca.pem
export ACTIX_BEE_TLS_CLIENT_CERT=$PKI/client.pem
export ACTIX_BEE_TLS_CLIENT_KEY=$PKI/client.key
export ACTIX_BEE_TLS_HOST=$NAME
export ACTIX_BEE_TLS_WRONG_HOST=$WRONG_HOST
export ACTIX_BEE_TLS_POSTGRES_ADDR=$NAME:$PG_PORT
export ACTIX_BEE_TLS_POSTGRES_ROGUE_ADDR=$NAME:$PG_ROGUE_PORT
export ACTIX_BEE_TLS_POSTGRES_URL='postgres://$PG_USER:$PG_PASSWORD@$NAME:$PG_PORT/$PG_USER?sslmode=verify-full&sslrootcert=$ca'
export ACTIX_BEE_TLS_POSTGRES_ROGUE_URL='postgres://$PG_USER:$PG_PASSWORD@$NAME:$PG_ROGUE_PORT/$PG_USER?sslmode=verify-full&sslrootcert=$ca'
export ACTIX_BEE_TLS_POSTGRES_CERT_URL='postgres://$PG_CERT_USER@$NAME:$PG_PORT/test?sslmode=verify-full&sslrootcert=$ca&sslcert=$PKI/client.pem&sslkey=$PKI/client.key'
export ACTIX_BEE_TLS_MYSQL_ADDR=$NAME:$MYSQL_PORT
export ACTIX_BEE_TLS_MYSQL_ROGUE_ADDR=$NAME:$MYSQL_ROGUE_PORT
export ACTIX_BEE_TLS_MYSQL_USER=$MYSQL_USER
export ACTIX_BEE_TLS_MYSQL_X509_USER=$MYSQL_X509_USER
export ACTIX_BEE_TLS_MYSQL_PASSWORD=$MYSQL_PASSWORD
export ACTIX_BEE_TLS_MYSQL_URL=mysql://$MYSQL_USER:$MYSQL_PASSWORD@$NAME:$MYSQL_PORT/test
export ACTIX_BEE_TLS_MYSQL_ROGUE_URL=mysql://$MYSQL_USER:$MYSQL_PASSWORD@$NAME:$MYSQL_ROGUE_PORT/test
export ACTIX_BEE_TLS_REDIS_URL=rediss://$NAME:$REDIS_PORT/
export ACTIX_BEE_TLS_REDIS_ROGUE_URL=rediss://$NAME:$REDIS_ROGUE_PORT/
export ACTIX_BEE_TLS_REDIS_MTLS_URL=rediss://$NAME:$REDIS_MTLS_PORT/
export ACTIX_BEE_TLS_REDIS_CLUSTER_NODES=$(join_nodes "$NAME" "${CLUSTER_PORTS[@]}")
export ACTIX_BEE_TLS_SENTINELS=$(join_nodes "$NAME" "${SENTINEL_PORTS[@]}")
export ACTIX_BEE_TLS_SENTINEL_MASTER=$SENTINEL_MASTER_NAME
export ACTIX_BEE_TLS_MEMCACHE_ADDR=$NAME:$MEMCACHED_PORT
EOF
}

main() {
  case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    env) cmd_env ;;
    *)
      echo "usage: $0 start|stop|status|env" >&2
      exit 2
      ;;
  esac
}

# Allow `source scripts/tls-servers.sh` (e.g. to test single functions).
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi
