#!/usr/bin/env bash
# Real `pulumi preview --diff` of stack STACK of the project at the repo root,
# offline: engine from build.sh, local file backend and PULUMI_HOME in a temp
# dir, dummy passphrase, dummy OpenStack credentials (the provider only
# authenticates when it first calls the API), no plugin downloads.
#
#   engine/preview.sh STACK          the preview as a user sees it
#   engine/preview.sh STACK --json   `pulumi preview --json` instead (for tests)
#   PREVIEW_JSON=1 engine/preview.sh STACK   same as --json
#   PREVIEW_DUMMY_SECRETS="hubstack:hub.auth.clientSecret ..."  extra secrets the
#     stack file leaves for the user to set; each gets a dummy value
#
# The project is run from a temp copy (with .venv symlinked), so neither
# `stack init` nor the secret rewriting below touches the repo's files.
set -euo pipefail

stack=${1:?usage: engine/preview.sh STACK [--json]}
json=${PREVIEW_JSON:-0}
[[ "${2:-}" == --json ]] && json=1

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
project=${HUBSTACK_PROJECT_DIR:-$(dirname "$here")}
[[ -f "$project/Pulumi.yaml" ]] || { echo "no Pulumi.yaml in $project" >&2; exit 2; }

# The engine must be complete (CLI, language host, every provider): else say
# in one line what is missing and why, rather than let pulumi fail on it.
# build.sh --check builds nothing; `make engine` (engine/build.sh) builds.
# HUBSTACK_ENGINE_BIN=DIR uses the binaries in DIR instead.
if ! bin=$("$here/build.sh" --check); then
	echo "preview.sh: cannot run pulumi preview: $bin" >&2
	exit 2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export PATH="$bin:$PATH"
export PULUMI_HOME="$tmp/home"                 # no user plugin cache/credentials
export PULUMI_SKIP_UPDATE_CHECK=1
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_CONFIG_PASSPHRASE=hubstack-preview-dummy
unset PULUMI_IGNORE_AMBIENT_PLUGINS PULUMI_ACCESS_TOKEN PULUMI_BACKEND_URL
export OS_AUTH_URL=http://127.0.0.1:5000/v3 OS_USERNAME=dummy OS_PASSWORD=dummy \
	OS_PROJECT_NAME=dummy OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default \
	OS_REGION_NAME=RegionOne OS_INTERFACE=public OS_IDENTITY_API_VERSION=3
unset OS_CLOUD OS_TOKEN OS_APPLICATION_CREDENTIAL_ID OS_APPLICATION_CREDENTIAL_SECRET

work="$tmp/project"
mkdir -p "$work" "$tmp/state"
(cd "$project" && tar --exclude=./.git --exclude=./.venv --exclude='*.pyc' -cf - .) | tar -xf - -C "$work"
[[ -e "$project/.venv" ]] && ln -s "$project/.venv" "$work/.venv"

# `secure:` values in the repo's stack file were encrypted by another secrets
# provider and cannot be read here: drop them (and that provider's keys) from
# the copy, then set each again as a dummy secret under the passphrase.
cfg="$work/Pulumi.$stack.yaml"
secure_keys=()
if [[ -f "$cfg" ]]; then
	py=python3 # the project's venv has PyYAML (a pulumi dependency); system python may not
	[[ -x "$project/.venv/bin/python" ]] && py="$project/.venv/bin/python"
	mapfile -t secure_keys < <("$py" - "$cfg" <<'EOF'
import sys, yaml
path = sys.argv[1]
doc = yaml.safe_load(open(path)) or {}
for k in ("encryptionsalt", "secretsprovider", "encryptedkey"):
    doc.pop(k, None)
config = doc.get("config") or {}

def walk(v, trail):
    # yields (key, path-in-value) for every secure leaf
    if isinstance(v, dict) and set(v) == {"secure"}:
        yield trail
    elif isinstance(v, dict):
        for k, x in v.items():
            yield from walk(x, trail + [str(k)])
    elif isinstance(v, list):
        for i, x in enumerate(v):
            yield from walk(x, trail + [str(i)])

def strip(v):
    if isinstance(v, dict) and set(v) == {"secure"}:
        return None
    if isinstance(v, dict):
        return {k: s for k, x in v.items() if (s := strip(x)) is not None}
    if isinstance(v, list):
        return [strip(x) for x in v]
    return v

for key, value in config.items():
    for trail in walk(value, []):
        # top-level: `key`; nested: `key.a.b` (pulumi config set --path syntax)
        print(".".join([key] + trail) if trail else key)
doc["config"] = {k: s for k, v in config.items() if (s := strip(v)) is not None}
yaml.safe_dump(doc, open(path, "w"), sort_keys=False)
EOF
)
fi

# shellcheck disable=SC2206 # a space-separated list of config keys
secure_keys+=(${PREVIEW_DUMMY_SECRETS:-})

cd "$work"
pulumi login --non-interactive "file://$tmp/state" >/dev/null
out=$(pulumi stack init --non-interactive --secrets-provider passphrase "$stack" 2>&1) || { echo "$out" >&2; exit 1; }
for key in "${secure_keys[@]}"; do
	path_flag=()
	[[ "$key" == *:*.* ]] && path_flag=(--path)
	pulumi config set --non-interactive --secret "${path_flag[@]}" "$key" "dummy-secret" >/dev/null
	echo "preview.sh: secret $key set to a dummy value" >&2
done

if ((json)); then
	pulumi preview --non-interactive --json --stack "$stack"
else
	pulumi preview --non-interactive --diff --stack "$stack"
fi
