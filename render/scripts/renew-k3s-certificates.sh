#!/bin/bash
# Renews k3s's certificates before they expire (embedded by render/cloud_init.py, run daily by a systemd timer).
#
#   renew-k3s-certificates.sh SERVICE DAYS DIRECTORY...
#
# k3s issues its client and serving certificates for 365 days and renews every one that is expired or close to
# expiring (90 days; 120 in newer releases) each time it starts; it never renews them while it runs. A node that
# runs for a year without a restart ends with expired certificates and a dead API (the seeds' story). So: when a
# certificate under DIRECTORY expires within DAYS (fewer than k3s's own window, so the restart does renew it),
# restart SERVICE (k3s.service or k3s-agent.service) and check that the certificates are new. Pods keep running
# across a k3s restart; the API is away for a few seconds.
# The CA certificates (*-ca.crt, valid 10 years) are not renewed by a restart and are left out.
set -euo pipefail

log() { echo "renew-k3s-certificates: $*"; }

[ "$#" -ge 3 ] || {
  echo "usage: $0 SERVICE DAYS DIRECTORY..." >&2
  exit 2
}
service=$1
days=$2
shift 2
seconds=$((days * 24 * 60 * 60))

expiring() {
  local certificate
  find "$@" -maxdepth 2 -type f -name '*.crt' ! -name '*-ca.crt' ! -name '*-ca.nochain.crt' \
    ! -path '*/temporary-certs/*' 2>/dev/null | sort | while read -r certificate; do
    if ! openssl x509 -noout -checkend "$seconds" -in "$certificate" >/dev/null 2>&1; then
      echo "$certificate"
    fi
  done
}

existing=()
for directory in "$@"; do
  if [ -d "$directory" ]; then
    existing+=("$directory")
  fi
done
if [ "${#existing[@]}" -eq 0 ]; then
  log "none of $* exists yet: nothing to check"
  exit 0
fi

soon=$(expiring "${existing[@]}")
if [ -z "$soon" ]; then
  log "every certificate of $service is valid for more than $days days"
  exit 0
fi
log "expiring within $days days: ${soon//$'\n'/ }"
log "restarting $service so that k3s renews them"
systemctl restart "$service"

# k3s.service (Type=notify) has renewed them once the restart returns, k3s-agent.service (Type=exec) a little later.
deadline=$((SECONDS + ${HUBSTACK_RENEW_WAIT_SECONDS:-300}))
while still=$(expiring "${existing[@]}") && [ -n "$still" ]; do
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "renew-k3s-certificates: ERROR: still expiring within $days days after restarting $service:" \
      "${still//$'\n'/ }" >&2
    exit 1
  fi
  sleep 5
done
log "renewed"
