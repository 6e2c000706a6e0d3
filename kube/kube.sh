#!/usr/bin/env bash
# A local Kubernetes API for the tests, with fake nodes shaped like the hub's (kube/README.md).
#   kube.sh check | start | stop | status | exec -- COMMAND...
# Everything runs in a network namespace of its own with loopback alone: no dial from the API server (webhooks,
# Service addresses) can leave the machine.
set -euo pipefail

KUBE_SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STATE="${HUBSTACK_KUBE_DIR:-$HOME/.cache/hubstack-kube/state}"
RUN="$STATE/run"
LOGS="$STATE/logs"
TLS="$STATE/tls"
KUBECONFIG_FILE="$STATE/admin.kubeconfig"
# k3s's service network, as the hub's cluster has it.
SERVICE_CIDR=10.43.0.0/16
# With HUBSTACK_KUBE_ADDRESSES, a veth pair joins the host to the namespace: the host routes each of those addresses
# into it, from HOST_SIDE; the namespace routes HOST_SIDE alone back, and nothing else anywhere.
HOST_LINK=hubkube0
NAMESPACE_LINK=hubkube1
HOST_SIDE=169.254.64.1
API_PORT=6443
# In start order; each runs in its own process group, its PID (the group's) in run/<name>.pid.
SERVICES=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

die() {
	echo "kube.sh: $*" >&2
	exit 1
}
log() { echo "kube.sh: $*"; }

bin_dir() { "$KUBE_SRC/build.sh" --check; }

namespace_pid() { cat "$RUN/namespace.pid" 2>/dev/null; }

# A PID file can outlive its process (a machine or session that ended under it), and the PID be another's by now:
# a process is ours only if its command line names this state dir.
ours() { [ -n "$1" ] && tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline" | grep -qF -- "$STATE"; }

namespace_alive() { ours "$(namespace_pid)"; }

in_namespace() { nsenter -t "$(namespace_pid)" -n -- "$@"; }

alive() { ours "$(cat "$RUN/$1.pid" 2>/dev/null)"; }

kubectl_in() { in_namespace "$BIN/kubectl" --kubeconfig "$KUBECONFIG_FILE" "$@"; }

# ------------------------------------------------------------------------------------------------ certificates

# The cluster's certificate authorities, laid out as k3s's server/tls/: those of HUBSTACK_KUBE_CA_DIR (the hub's
# own, made by the program) when given, else new ones. The API server's certificate and the admin's are signed here.
write_certificates() {
	local addresses=$1 ca
	rm -rf "$TLS" && mkdir -p "$TLS" && chmod 700 "$TLS"
	if [ -n "${HUBSTACK_KUBE_CA_DIR:-}" ]; then
		for ca in server-ca client-ca; do
			cp "$HUBSTACK_KUBE_CA_DIR/$ca.crt" "$HUBSTACK_KUBE_CA_DIR/$ca.key" "$TLS/"
		done
		cp "$HUBSTACK_KUBE_CA_DIR/service.key" "$TLS/"
	else
		for ca in server-ca client-ca; do
			openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj "/CN=hubstack-kube-$ca" \
				-keyout "$TLS/$ca.key" -out "$TLS/$ca.crt" 2>/dev/null
		done
		openssl genrsa -out "$TLS/service.key" 2048 2>/dev/null
	fi
	openssl pkey -in "$TLS/service.key" -pubout -out "$TLS/service.pub"
	local san="DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:localhost,IP:127.0.0.1,IP:10.43.0.1"
	local address
	for address in $addresses; do san+=",IP:$address"; done
	sign server-ca serving "/CN=kube-apiserver" "subjectAltName=$san" serverAuth
	sign client-ca admin "/O=system:masters/CN=hubstack-admin" "" clientAuth
}

sign() { # CA NAME SUBJECT EXTENSIONS USAGE
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "$3" -keyout "$TLS/$2.key" \
		-out "$TLS/$2.csr" 2>/dev/null
	{
		echo "extendedKeyUsage=$5"
		[ -z "$4" ] || echo "$4"
	} >"$TLS/$2.ext"
	openssl x509 -req -in "$TLS/$2.csr" -CA "$TLS/$1.crt" -CAkey "$TLS/$1.key" -CAcreateserial -days 30 \
		-extfile "$TLS/$2.ext" -out "$TLS/$2.crt" 2>/dev/null
}

write_kubeconfig() {
	local ca client key
	ca=$(base64 -w0 <"$TLS/server-ca.crt")
	client=$(base64 -w0 <"$TLS/admin.crt")
	key=$(base64 -w0 <"$TLS/admin.key")
	cat >"$KUBECONFIG_FILE" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: hubstack-kube
  cluster:
    server: https://127.0.0.1:$API_PORT
    certificate-authority-data: $ca
users:
- name: hubstack-admin
  user:
    client-certificate-data: $client
    client-key-data: $key
contexts:
- name: hubstack-kube
  context: {cluster: hubstack-kube, user: hubstack-admin}
current-context: hubstack-kube
EOF
	chmod 600 "$KUBECONFIG_FILE"
}

# ------------------------------------------------------------------------------------------------ services

service_command() {
	case "$1" in
	etcd)
		echo "$BIN/etcd" --data-dir "$STATE/etcd" --listen-client-urls http://127.0.0.1:2379 \
			--advertise-client-urls http://127.0.0.1:2379 --listen-peer-urls http://127.0.0.1:2380 \
			--log-level warn
		;;
	kube-apiserver)
		# No admission webhook can answer (no pod runs under kwok): the API server calls none, as if each said yes.
		echo "$BIN/kube-apiserver" --etcd-servers http://127.0.0.1:2379 --bind-address 0.0.0.0 \
			--secure-port "$API_PORT" --advertise-address 127.0.0.1 --endpoint-reconciler-type none \
			--service-cluster-ip-range "$SERVICE_CIDR" --tls-cert-file "$TLS/serving.crt" \
			--tls-private-key-file "$TLS/serving.key" --client-ca-file "$TLS/client-ca.crt" \
			--authorization-mode Node,RBAC --allow-privileged \
			--disable-admission-plugins MutatingAdmissionWebhook,ValidatingAdmissionWebhook \
			--service-account-key-file "$TLS/service.pub" --service-account-signing-key-file "$TLS/service.key" \
			--service-account-issuer https://kubernetes.default.svc.cluster.local
		;;
	kube-controller-manager)
		echo "$BIN/kube-controller-manager" --kubeconfig "$KUBECONFIG_FILE" --leader-elect=false \
			--service-account-private-key-file "$TLS/service.key" --root-ca-file "$TLS/server-ca.crt" \
			--bind-address 127.0.0.1 --use-service-account-credentials=false
		;;
	kube-scheduler)
		echo "$BIN/kube-scheduler" --kubeconfig "$KUBECONFIG_FILE" --leader-elect=false --bind-address 127.0.0.1
		;;
	kwok)
		local stages="" stage
		for stage in "$BIN"/stages/*.yaml "$KUBE_SRC"/stages/*.yaml; do stages+=" --config $stage"; done
		echo "$BIN/kwok" --kubeconfig "$KUBECONFIG_FILE" --manage-all-nodes=false \
			--manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake --server-address 127.0.0.1:10247 "$stages"
		;;
	esac
}

start_service() {
	local name=$1
	# One process from setsid to the service (each execs the next): its PID is the service's and its group's.
	# shellcheck disable=SC2046 # the command's words, none with spaces (the state dir's path has none: checked)
	setsid nsenter -t "$(namespace_pid)" -n -- $(service_command "$name") </dev/null >"$LOGS/$name.log" 2>&1 &
	echo $! >"$RUN/$name.pid"
}

wait_for() { # SECONDS WHAT COMMAND...
	local seconds=$1 what=$2 deadline=$(($(date +%s) + $1))
	shift 2
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$deadline" ] || die "$what did not come within $seconds s; logs in $LOGS"
		watch_services
		sleep 0.5
	done
}

# During start, the PID files are this run's: a process that exists is the service (or about to exec it).
watch_services() {
	local name
	for name in "${SERVICES[@]}"; do
		[ ! -e "$RUN/$name.pid" ] || kill -0 "$(cat "$RUN/$name.pid")" 2>/dev/null ||
			die "$name stopped; the end of $LOGS/$name.log:
$(tail -n 20 "$LOGS/$name.log")"
	done
}

# ------------------------------------------------------------------------------------------------ commands

cmd_start() {
	local t0 addresses=${HUBSTACK_KUBE_ADDRESSES:-} name address
	t0=$(date +%s)
	[[ "$STATE" != *" "* ]] || die "the state dir's path has a space: $STATE"
	BIN=$(bin_dir) || die "$BIN: run make kube first"
	if namespace_alive; then
		log "start: already running (state $STATE)"
		print_entry
		return 0
	fi
	cmd_stop >/dev/null
	rm -rf "$STATE/etcd" "$RUN" && mkdir -p "$RUN" "$LOGS"
	# With HUBSTACK_KUBE_DATASTORE, etcd's data is there and outlives a stop and start, as k3s's datastore outlives a
	# new control plane on the hub's state volume (the link goes, not what it points to); else it is new at each start.
	if [ -n "${HUBSTACK_KUBE_DATASTORE:-}" ]; then
		mkdir -p "$HUBSTACK_KUBE_DATASTORE" && chmod 700 "$HUBSTACK_KUBE_DATASTORE"
		ln -s "$HUBSTACK_KUBE_DATASTORE" "$STATE/etcd"
	fi
	write_certificates "$addresses"
	write_kubeconfig
	# The namespace's holder: a sleep whose command line names the state dir (see ours).
	# shellcheck disable=SC2016 # $0 is the inner shell's
	unshare --net -- bash -c 'exec -a "hubstack-kube-namespace $0" sleep infinity' "$STATE" </dev/null >/dev/null 2>&1 &
	echo $! >"$RUN/namespace.pid"
	wait_for 10 "the network namespace" in_namespace true
	in_namespace ip link set lo up
	[ -z "$addresses" ] || join_host "$addresses"

	start_service etcd
	wait_for 30 etcd in_namespace curl -sf http://127.0.0.1:2379/health
	start_service kube-apiserver
	wait_for 60 "the API server" kubectl_in get --raw /readyz
	for name in kube-controller-manager kube-scheduler kwok; do start_service "$name"; done
	kubectl_in apply -f "$KUBE_SRC/nodes.yaml" >/dev/null
	wait_for 60 "Ready nodes" nodes_ready
	wait_for 60 "the default service account" kubectl_in get serviceaccount default --namespace default
	log "start: Kubernetes $("$BIN/kubectl" version --client -o json | python3 -c \
		'import json, sys; print(json.load(sys.stdin)["clientVersion"]["gitVersion"])') ready in" \
		"$(($(date +%s) - t0)) s (state $STATE)"
	print_entry
}

join_host() {
	local address
	ip link add "$HOST_LINK" type veth peer name "$NAMESPACE_LINK"
	ip link set "$NAMESPACE_LINK" netns "$(namespace_pid)"
	ip address add "$HOST_SIDE/32" dev "$HOST_LINK"
	ip link set "$HOST_LINK" up
	in_namespace ip link set "$NAMESPACE_LINK" up
	in_namespace ip route add "$HOST_SIDE/32" dev "$NAMESPACE_LINK"
	for address in $1; do
		in_namespace ip address add "$address/32" dev "$NAMESPACE_LINK"
		ip route add "$address/32" dev "$HOST_LINK" src "$HOST_SIDE"
	done
}

nodes_ready() {
	local not_ready
	local ready='{range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}'
	not_ready=$(kubectl_in get nodes -o jsonpath="$ready" | grep -cv '=True$' || true)
	[ "$(kubectl_in get nodes -o name | wc -l)" -gt 0 ] && [ "$not_ready" = 0 ]
}

print_entry() {
	echo "kubeconfig: $KUBECONFIG_FILE (the API at https://127.0.0.1:$API_PORT inside the namespace)"
	echo "run a command inside: $KUBE_SRC/kube.sh exec -- kubectl get nodes"
	echo "  (or: nsenter -t $(namespace_pid) -n -- <command>, with KUBECONFIG=$KUBECONFIG_FILE)"
}

cmd_stop() {
	local name pid
	for name in kwok kube-scheduler kube-controller-manager kube-apiserver etcd; do
		pid=$(cat "$RUN/$name.pid" 2>/dev/null) || continue
		if ours "$pid"; then kill -TERM -- "-$pid" 2>/dev/null || true; fi
	done
	for name in kwok kube-scheduler kube-controller-manager kube-apiserver etcd; do
		pid=$(cat "$RUN/$name.pid" 2>/dev/null) || continue
		for _ in $(seq 50); do ours "$pid" || break; sleep 0.1; done
		if ours "$pid"; then kill -KILL -- "-$pid" 2>/dev/null || true; fi
		rm -f "$RUN/$name.pid"
	done
	pid=$(namespace_pid) || true
	if ours "$pid"; then
		stop_the_rest "$pid"
		kill "$pid" 2>/dev/null || true
	fi
	rm -f "$RUN/namespace.pid"
	# Its routes go with it.
	ip link delete "$HOST_LINK" 2>/dev/null || true
	log "stopped"
}

# What else runs in the namespace of HOLDER (a test's stand-in server, a command still running) stops with it.
stop_the_rest() {
	local holder=$1 namespace process pid
	namespace=$(readlink "/proc/$holder/ns/net") || return 0
	for process in /proc/[0-9]*; do
		pid=${process#/proc/}
		if [ "$pid" != "$holder" ] && [ "$(readlink "$process/ns/net" 2>/dev/null)" = "$namespace" ]; then
			kill -TERM "$pid" 2>/dev/null || true
		fi
	done
}

cmd_status() {
	local name status=0
	namespace_alive || {
		echo "namespace DOWN"
		status=1
	}
	for name in "${SERVICES[@]}"; do
		if alive "$name"; then echo "$name UP"; else
			echo "$name DOWN"
			status=1
		fi
	done
	return $status
}

cmd_exec() {
	[ "${1:-}" = -- ] && shift
	[ "$#" -gt 0 ] || die "usage: kube.sh exec -- COMMAND..."
	namespace_alive || die "not running: kube.sh start"
	BIN=$(bin_dir)
	KUBECONFIG=$KUBECONFIG_FILE PATH="$BIN:$PATH" in_namespace "$@"
}

cmd_check() {
	[ "$(id -u)" = 0 ] || {
		echo "kube.sh check: needs root, for a network namespace of its own"
		exit 3
	}
	command -v unshare nsenter ip openssl curl >/dev/null || {
		echo "kube.sh check: needs unshare, nsenter (util-linux), ip (iproute2), openssl and curl"
		exit 3
	}
	"$KUBE_SRC/build.sh" --check >/dev/null || {
		"$KUBE_SRC/build.sh" --check
		exit 3
	}
}

case "${1:-}" in
check) cmd_check ;;
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
exec)
	shift
	cmd_exec "$@"
	;;
*) die "usage: kube.sh check | start | stop | status | exec -- COMMAND..." ;;
esac
