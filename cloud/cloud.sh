#!/usr/bin/env bash
# A minimal local OpenStack (Debian bookworm's OpenStack Zed) for the test suite. See cloud/README.md.
#   cloud.sh check | install | start | stop | status
set -euo pipefail

CLOUD_SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STATE="${HUBSTACK_CLOUD_DIR:-$HOME/.cache/hubstack-cloud}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo -n"; fi

PACKAGES=(
  mariadb-server rabbitmq-server
  keystone glance-api placement-api
  nova-api nova-conductor nova-scheduler nova-compute nova-compute-ironic
  neutron-server cinder-api cinder-scheduler cinder-volume
  python3-openstackclient python3-openstacksdk python3-osc-placement python3-pymysql
)

die() { echo "cloud.sh: $*" >&2; exit 1; }
log() { echo "cloud.sh: $*"; }

cmd_check() {
  if [ ! -r /etc/os-release ] || ! grep -q '^VERSION_CODENAME=bookworm' /etc/os-release; then
    echo "cloud.sh check: not Debian 12 bookworm (needs its OpenStack Zed packages)"; exit 3
  fi
  if ! command -v apt-get >/dev/null 2>&1; then echo "cloud.sh check: apt-get not found"; exit 3; fi
  if [ "$(id -u)" -ne 0 ] && ! sudo -n true 2>/dev/null; then
    echo "cloud.sh check: needs root or passwordless sudo"; exit 3
  fi
  return 0
}

missing_packages() {
  local p
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"
  done
}

cmd_install() {
  cmd_check
  local t0 missing
  t0=$(date +%s)
  missing=$(missing_packages)
  if [ -z "$missing" ]; then log "install: all ${#PACKAGES[@]} packages already installed"; return 0; fi
  log "install: installing $(echo "$missing" | wc -l) missing packages (and their dependencies)"
  # Every dbconfig / endpoint / keystone registration question answered "no": nothing runs at install time.
  local pkg q sel=""
  for pkg in keystone glance nova novaapi neutron cinder placement; do
    for q in configure_db configure_api-endpoint configure_ksat configure_rabbit ksat-create-service-user \
             register-endpoint create-admin-tenant configure_neutron configure_placement configure_nova; do
      sel+="$pkg $pkg/$q boolean false"$'\n'
    done
  done
  for pkg in keystone glance-common glance-api nova-common nova-api neutron-common neutron-api cinder-common \
             cinder-api placement-common placement-api; do
    sel+="$pkg $pkg/dbconfig-install boolean false"$'\n'
  done
  printf '%s' "$sel" | $SUDO debconf-set-selections
  # No service may start from a maintainer script (no init system here anyway).
  local own_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod 755 /usr/sbin/policy-rc.d; own_policy=1
  fi
  local aptlog="${STATE}/logs/apt-install.log"
  mkdir -p "${STATE}/logs"
  local status=0
  local -a todo
  mapfile -t todo <<<"$missing"
  {
    $SUDO apt-get update -qq &&
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${todo[@]}"
  } >"$aptlog" 2>&1 || status=$?
  if [ "$own_policy" = 1 ]; then $SUDO rm -f /usr/sbin/policy-rc.d; fi
  [ "$status" -eq 0 ] || die "install: apt-get failed (exit $status), see $aptlog"
  [ -z "$(missing_packages)" ] || die "install: still missing: $(missing_packages | tr '\n' ' '), see $aptlog"
  log "install: done in $(( $(date +%s) - t0 )) s (log $aptlog)"
}

# ---------------------------------------------------------------------------------------------------------------
# Services, in start order: name, TCP port it must listen on ("-" for none).
SERVICES=(mariadb:3306 epmd:4369 rabbitmq:5672 keystone:5000 glance-api:9292 placement:8778 nova-api:8774
          nova-conductor:- nova-scheduler:- nova-compute:- neutron-server:9696 cinder-api:8776 cinder-scheduler:-
          cinder-volume:-)
ETC="$STATE/etc"; RUN="$STATE/run"; LOGS="$STATE/logs"
OSPY=/usr/bin/python3

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
svc_pid() { local f="$RUN/$1.pid"; [ -s "$f" ] && cat "$f"; }
# A recorded process group is alive when its leader still exists and still leads that group.
svc_alive() {
  local pid pgid
  pid=$(svc_pid "$1") || return 1
  pgid=$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ') || return 1
  [ "$pgid" = "$pid" ]
}
svc_up() {
  local name=${1%%:*} port=${1##*:}
  svc_alive "$name" || return 1
  [ "$port" = "-" ] || port_open "$port"
}

# launch NAME CMD...: own session and process group (setsid), output to logs/NAME.log, PID = PGID recorded.
launch() {
  local name=$1; shift
  local log="$LOGS/$name.log"
  echo "=== $(date -u +%FT%TZ) start: $*" >>"$log"
  setsid env PYTHONPATH="$STATE/py" "$@" >>"$log" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$RUN/$name.pid"
  date -u +%s >"$RUN/$name.started"
}

# wait_port NAME PORT SECONDS
wait_port() {
  local name=$1 port=$2 limit=$3 i=0
  while ! port_open "$port"; do
    svc_alive "$name" || die "$name exited while starting, see $LOGS/$name.log"
    i=$((i + 1)); [ "$i" -le $((limit * 10)) ] || die "$name not listening on 127.0.0.1:$port after ${limit}s, see $LOGS/$name.log"
    sleep 0.1
  done
}

# run_logged NAME CMD...: a one-off command (db sync...) with output in logs/NAME.log; fails naming the log.
run_logged() {
  local name=$1; shift
  local line="$*"
  line=${line//${ADMINPASS:-@@}/***}; line=${line//${DBPASS:-@@}/***}
  echo "=== $(date -u +%FT%TZ) run: $line" >>"$LOGS/$name.log"
  local status=0
  "$@" >>"$LOGS/$name.log" 2>&1 </dev/null || status=$?
  if [ "$status" -ne 0 ]; then
    tail -n 3 "$LOGS/$name.log" | sed 's/^/  | /' >&2
    die "$name: '$1 ${2:-}...' failed (exit $status), see $LOGS/$name.log"
  fi
}

load_secrets() {
  if [ ! -s "$STATE/secrets.env" ]; then
    local k
    umask 077
    {
      for k in DBPASS SVCPASS ADMINPASS HUBPASS; do echo "$k=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"; done
    } >"$STATE/secrets.env"
    umask 022
  fi
  # shellcheck disable=SC1091
  . "$STATE/secrets.env"
  export DBPASS SVCPASS ADMINPASS HUBPASS
}

# render TEMPLATE DEST [SERVICE]: @STATE@, passwords and @AUTHTOKEN:user@ (keystone_authtoken section) filled in.
render() {
  local src="$CLOUD_SRC/templates/$1" dest=$2 line user
  {
    while IFS= read -r line || [ -n "$line" ]; do
      if [[ $line =~ ^@AUTHTOKEN:([a-z]+)@$ ]]; then
        user=${BASH_REMATCH[1]}
        sed "s|@SERVICE@|$user|g" "$CLOUD_SRC/templates/authtoken.inc"
      else
        printf '%s\n' "$line"
      fi
    done <"$src"
  } | sed -e "s|@STATE@|$STATE|g" -e "s|@DBPASS@|$DBPASS|g" -e "s|@SVCPASS@|$SVCPASS|g" \
          -e "s|@COMPUTE_DRIVER@|fake.FakeDriver|g" >"$dest.tmp"
  chmod 600 "$dest.tmp"
  mv "$dest.tmp" "$dest"
}

write_configs() {
  mkdir -p "$ETC/placement" "$RUN" "$LOGS" "$STATE/py" "$STATE/keystone" "$STATE/glance/images" \
    "$STATE/glance/staging" "$STATE/glance/lock" "$STATE/nova/instances" "$STATE/nova/lock" "$STATE/neutron/lock" \
    "$STATE/cinder/lock" "$STATE/rabbitmq"
  local f
  for f in keystone.conf keystone-uwsgi.ini placement-uwsgi.ini glance-api.conf nova.conf nova-db.conf \
           nova-compute.conf neutron.conf ml2_conf.ini cinder.conf rabbitmq.conf mariadb.cnf; do
    render "$f" "$ETC/$f"
  done
  render placement.conf "$ETC/placement/placement.conf"
  write_keystone_certificate
  chmod 644 "$ETC/mariadb.cnf"
  rm -rf "$STATE/py"; cp -r "$CLOUD_SRC/py" "$STATE/py"
  echo '[].' >"$ETC/rabbitmq-enabled-plugins"
  : >"$ETC/rabbitmq-env.conf"
}

# Keystone answers HTTPS too, on 5001, with a certificate of a local authority ($STATE/tls/ca.crt, in the clouds.yaml
# entry hubstack-local-tls): a hub's Keystone URL is https:// (its Cinder CSI driver sends its credential there).
write_keystone_certificate() {
  local tls="$STATE/tls"
  [ ! -s "$tls/keystone.crt" ] || return 0
  mkdir -p "$tls" && chmod 700 "$tls"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 -subj "/CN=hubstack-local-ca" \
    -keyout "$tls/ca.key" -out "$tls/ca.crt" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$tls/keystone.key" -out "$tls/keystone.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$tls/keystone.ext"
  openssl x509 -req -in "$tls/keystone.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" -CAcreateserial -days 3650 \
    -extfile "$tls/keystone.ext" -out "$tls/keystone.crt.tmp" 2>/dev/null
  mv "$tls/keystone.crt.tmp" "$tls/keystone.crt"
}

mysql_root() { mariadb --defaults-file="$ETC/mariadb.cnf" --socket="$RUN/mysqld.sock" -uroot "$@"; }

start_mariadb() {
  if [ ! -d "$STATE/mysql/mysql" ]; then
    run_logged mariadb mariadb-install-db --defaults-file="$ETC/mariadb.cnf" --user=root --skip-test-db \
      --auth-root-authentication-method=socket
  fi
  launch mariadb mariadbd --defaults-file="$ETC/mariadb.cnf" --user=root
  local i=0
  until mysql_root -e 'select 1' >/dev/null 2>&1; do
    svc_alive mariadb || die "mariadb exited while starting, see $LOGS/mariadb.log"
    i=$((i + 1)); [ "$i" -le 300 ] || die "mariadb not answering after 30s, see $LOGS/mariadb.log"
    sleep 0.1
  done
  local db sql=""
  for db in keystone glance placement nova_api nova nova_cell0 neutron cinder; do
    sql+="CREATE DATABASE IF NOT EXISTS $db CHARACTER SET utf8mb4; "
    sql+="GRANT ALL PRIVILEGES ON $db.* TO 'hub'@'127.0.0.1'; GRANT ALL PRIVILEGES ON $db.* TO 'hub'@'localhost'; "
  done
  mysql_root -e "CREATE USER IF NOT EXISTS 'hub'@'127.0.0.1' IDENTIFIED BY '$DBPASS';
                 CREATE USER IF NOT EXISTS 'hub'@'localhost' IDENTIFIED BY '$DBPASS'; $sql FLUSH PRIVILEGES;" \
    >>"$LOGS/mariadb.log" 2>&1 || die "mariadb: creating databases failed, see $LOGS/mariadb.log"
}

start_rabbitmq() {
  launch epmd epmd -address 127.0.0.1 -port 4369
  wait_port epmd 4369 10
  HOME="$STATE/rabbitmq" RABBITMQ_CONF_ENV_FILE="$ETC/rabbitmq-env.conf" \
  RABBITMQ_CONFIG_FILE="$ETC/rabbitmq.conf" RABBITMQ_ENABLED_PLUGINS_FILE="$ETC/rabbitmq-enabled-plugins" \
  RABBITMQ_MNESIA_BASE="$STATE/rabbitmq/mnesia" RABBITMQ_LOG_BASE="$LOGS" RABBITMQ_LOGS=- \
  RABBITMQ_PID_FILE="$RUN/rabbitmq.erlpid" RABBITMQ_NODENAME=rabbit@localhost RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
  RABBITMQ_NODE_PORT=5672 RABBITMQ_DIST_PORT=25672 ERL_EPMD_ADDRESS=127.0.0.1 ERL_EPMD_PORT=4369 \
  RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS='-kernel inet_dist_use_interface {127,0,0,1}' \
    launch rabbitmq /usr/lib/rabbitmq/bin/rabbitmq-server
}

# First start only (markers live in the state dir, like the MariaDB data): schema of each service, in parallel.
db_syncs() {
  local pids=() p failed=0
  ( start_keystone ) &
  pids+=($!)
  if [ ! -e "$STATE/synced.glance" ]; then
    ( run_logged glance glance-manage --config-file "$ETC/glance-api.conf" db_sync && touch "$STATE/synced.glance" ) &
    pids+=($!)
  fi
  if [ ! -e "$STATE/synced.placement" ]; then
    ( run_logged placement placement-manage --config-file "$ETC/placement/placement.conf" db sync &&
      touch "$STATE/synced.placement" ) &
    pids+=($!)
  fi
  if [ ! -e "$STATE/synced.nova" ]; then
    (
      local nova=(nova-manage --config-file "$ETC/nova.conf" --config-file "$ETC/nova-db.conf")
      run_logged nova-api "${nova[@]}" api_db sync
      run_logged nova-api "${nova[@]}" cell_v2 map_cell0 \
        --database_connection "mysql+pymysql://hub:$DBPASS@127.0.0.1/nova_cell0"
      if ! "${nova[@]}" cell_v2 list_cells 2>/dev/null | grep -q ' cell1 '; then
        run_logged nova-api "${nova[@]}" cell_v2 create_cell --name cell1
      fi
      run_logged nova-api "${nova[@]}" db sync
      touch "$STATE/synced.nova"
    ) &
    pids+=($!)
  fi
  if [ ! -e "$STATE/synced.neutron" ]; then
    ( run_logged neutron-server neutron-db-manage --config-file "$ETC/neutron.conf" --config-file "$ETC/ml2_conf.ini" \
        upgrade heads && touch "$STATE/synced.neutron" ) &
    pids+=($!)
  fi
  if [ ! -e "$STATE/synced.cinder" ]; then
    ( run_logged cinder-api cinder-manage --config-file "$ETC/cinder.conf" db sync && touch "$STATE/synced.cinder" ) &
    pids+=($!)
  fi
  for p in "${pids[@]}"; do wait "$p" || failed=1; done
  [ "$failed" = 0 ] || die "a database sync failed (see the message above)"
}

start_keystone() {
  local ks=(keystone-manage --config-file "$ETC/keystone.conf")
  if [ ! -e "$STATE/synced.keystone" ]; then
    run_logged keystone "${ks[@]}" db_sync
    touch "$STATE/synced.keystone"
  fi
  if [ ! -e "$STATE/keystone/fernet-keys/0" ]; then
    run_logged keystone "${ks[@]}" fernet_setup --keystone-user root --keystone-group root
    run_logged keystone "${ks[@]}" credential_setup --keystone-user root --keystone-group root
  fi
  if [ ! -e "$STATE/bootstrapped.keystone" ]; then
    run_logged keystone "${ks[@]}" bootstrap --bootstrap-password "$ADMINPASS" --bootstrap-username admin \
      --bootstrap-project-name admin --bootstrap-role-name admin --bootstrap-service-name keystone \
      --bootstrap-region-id RegionOne --bootstrap-admin-url http://127.0.0.1:5000/v3 \
      --bootstrap-public-url http://127.0.0.1:5000/v3 --bootstrap-internal-url http://127.0.0.1:5000/v3
    touch "$STATE/bootstrapped.keystone"
  fi
  launch keystone uwsgi --ini "$ETC/keystone-uwsgi.ini"
}

# All but nova-compute, which needs its Keystone user from the start (bootstrap identity runs meanwhile).
start_openstack_services() {
  local nova=(--config-file "$ETC/nova.conf" --config-file "$ETC/nova-db.conf")
  launch glance-api glance-api --config-file "$ETC/glance-api.conf"
  launch placement uwsgi --ini "$ETC/placement-uwsgi.ini"
  launch nova-api nova-api "${nova[@]}"
  launch nova-conductor nova-conductor "${nova[@]}"
  launch nova-scheduler nova-scheduler "${nova[@]}"
  launch neutron-server neutron-server --config-file "$ETC/neutron.conf" --config-file "$ETC/ml2_conf.ini"
  launch cinder-api cinder-api --config-file "$ETC/cinder.conf"
  launch cinder-scheduler cinder-scheduler --config-file "$ETC/cinder.conf"
  launch cinder-volume cinder-volume --config-file "$ETC/cinder.conf"
}

bootstrap() {
  # Passwords reach it through the environment (exported by load_secrets), never a command line.
  COMPUTE_STARTED="$(cat "$RUN/nova-compute.started" 2>/dev/null || true)" STATE="$STATE" ETC="$ETC" \
    run_logged bootstrap "$OSPY" -I "$CLOUD_SRC/bootstrap.py" "$@"
}

all_up() {
  local s
  for s in "${SERVICES[@]}"; do svc_up "$s" || return 1; done
}
any_alive() {
  local s
  for s in "${SERVICES[@]}"; do svc_alive "${s%%:*}" && return 0; done
  return 1
}

cmd_start() {
  local t0 s port; t0=$(date +%s)
  mkdir -p "$STATE"
  if all_up && [ -s "$STATE/clouds.yaml" ]; then
    fence_external_network; log "start: already running (state $STATE)"; print_entry; return 0
  fi
  if all_up; then  # running, but an earlier bootstrap did not finish
    load_secrets; bootstrap identity; bootstrap resources; fence_external_network
    log "start: cloud ready in $(( $(date +%s) - t0 )) s (state $STATE)"; print_entry; return 0
  fi
  if any_alive; then log "start: some services are running, some not: stopping them first"; cmd_stop; fi
  # A cloud whose processes were killed (a machine or session ending) leaves its PID files: none is alive now,
  # and bootstrap, which watches every recorded service, would take a stale one for a death.
  for s in "${SERVICES[@]}"; do rm -f "$RUN/${s%%:*}.pid"; done
  [ -z "$(missing_packages)" ] || cmd_install
  mkdir -p "$RUN" "$LOGS"
  load_secrets
  write_configs
  for s in "${SERVICES[@]}"; do
    port=${s##*:}
    if [ "$port" != "-" ] && port_open "$port"; then
      die "port 127.0.0.1:$port (for ${s%%:*}) is taken by another process: $(ss -ltnpH "sport = :$port" | head -1)"
    fi
  done
  start_mariadb
  start_rabbitmq
  db_syncs  # and Keystone's setup and start, in parallel with them
  wait_port rabbitmq 5672 60
  # The services log in to Keystone as they start (nova-conductor exits when its user is missing): on a warm
  # start the users exist and the services start while bootstrap checks them; on the first, only after it.
  if [ -e "$STATE/bootstrapped.identity" ]; then start_openstack_services; fi
  wait_port keystone 5000 60
  bootstrap identity
  if [ ! -e "$STATE/bootstrapped.identity" ]; then start_openstack_services; touch "$STATE/bootstrapped.identity"; fi
  launch nova-compute nova-compute --config-file "$ETC/nova.conf" --config-file "$ETC/nova-compute.conf"
  for s in glance-api:9292 placement:8778 nova-api:8774 neutron-server:9696 cinder-api:8776; do
    wait_port "${s%%:*}" "${s##*:}" 90
  done
  log "start: all APIs answer after $(( $(date +%s) - t0 )) s; waiting for compute and volume services"
  bootstrap resources
  all_up || { cmd_status >&2 || true; die "start: a service died during bootstrap (see status above)"; }
  fence_external_network
  log "start: cloud ready in $(( $(date +%s) - t0 )) s (state $STATE)"
  print_entry
}

# No guest runs here, so no floating IP answers: a dial to one must fail at once, not leave by the default route.
external_cidr() { python3 -c 'import json, sys; print(json.load(sys.stdin)["externalCidr"])' <"$STATE/cloud.json"; }
fence_external_network() { $SUDO ip route replace unreachable "$(external_cidr)"; }

print_entry() {
  echo "--- $STATE/clouds.yaml (export OS_CLIENT_CONFIG_FILE=$STATE/clouds.yaml OS_CLOUD=hubstack-local)"
  cat "$STATE/clouds.yaml"
}

# stop_groups SECONDS NAME...: TERM each recorded process group, KILL what is left after SECONDS.
stop_groups() {
  local limit=$1 name pid i left; shift
  local pids=()
  for name in "$@"; do
    if svc_alive "$name"; then
      pid=$(svc_pid "$name"); pids+=("$pid")
      kill -TERM -- "-$pid" 2>/dev/null || true
    fi
    rm -f "$RUN/$name.pid"
  done
  for ((i = 0; i < limit * 10; i++)); do
    left=0
    for pid in "${pids[@]}"; do kill -0 -- "-$pid" 2>/dev/null && left=1; done
    [ "$left" = 0 ] && break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  STOPPED=$((STOPPED + ${#pids[@]}))
}

cmd_stop() {
  local t0 s i busy="" openstack=() infra=(keystone rabbitmq epmd mariadb)
  t0=$(date +%s); STOPPED=0
  for s in "${SERVICES[@]}"; do
    case " ${infra[*]} " in *" ${s%%:*} "*) ;; *) openstack+=("${s%%:*}") ;; esac
  done
  # OpenStack services first, while RabbitMQ and MariaDB still answer (else they linger reconnecting).
  stop_groups 2 "${openstack[@]}"
  stop_groups 8 "${infra[@]}"
  for ((i = 0; i < 100; i++)); do
    busy=""
    for s in "${SERVICES[@]}"; do
      [ "${s##*:}" = "-" ] || ! port_open "${s##*:}" || busy+=" ${s##*:}"
    done
    if port_open 25672; then busy+=" 25672"; fi
    [ -z "$busy" ] && break
    sleep 0.1
  done
  [ -z "$busy" ] || die "stop: ports still taken:$busy (ss -ltnp shows by whom)"
  if [ -s "$STATE/cloud.json" ]; then $SUDO ip route delete unreachable "$(external_cidr)" 2>/dev/null || true; fi
  log "stop: $STOPPED process groups stopped in $(( $(date +%s) - t0 )) s"
}

cmd_status() {
  local s name port ok=0 state
  for s in "${SERVICES[@]}"; do
    name=${s%%:*}; port=${s##*:}
    if svc_up "$s"; then state="up"
    elif svc_alive "$name"; then state="STARTING (pid $(svc_pid "$name"), port $port closed)"; ok=1
    else state="DOWN"; ok=1; fi
    printf '%-17s %-5s %s\n' "$name" "$([ "$port" = - ] || echo "$port")" "$state"
  done
  return "$ok"
}

main() {
  local cmd="${1:-}"
  # The daemons run as root: without root, run the whole command through passwordless sudo (same state dir).
  if [ "$(id -u)" -ne 0 ] && [[ $cmd =~ ^(start|stop|status)$ ]]; then
    exec sudo -n env HUBSTACK_CLOUD_DIR="$STATE" "$0" "$@"
  fi
  case "$cmd" in
    check) cmd_check ;;
    install) cmd_install ;;
    start) cmd_check; cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    *) echo "usage: cloud.sh check|install|start|stop|status" >&2; exit 2 ;;
  esac
}
main "$@"
