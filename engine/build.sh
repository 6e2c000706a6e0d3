#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Build (or reuse from the cache) the Pulumi engine binaries pinned in
# versions.env, from the Go module proxy, and lay them out in one bin dir.
#
#   engine/build.sh              build/reuse, print a table, then `export PATH=...`
#   engine/build.sh --print-bin  same, but stdout is only the bin dir (for scripts)
#   engine/build.sh --check      build nothing, ask no network: if the engine is
#                                complete (CLI, language host, every provider),
#                                print its bin dir and exit 0; else print one
#                                line saying what is missing and why, exit 3
#
# Exit status: 0 if every buildable binary is there; 1 if one failed to build.
# Binaries whose module the proxy does not serve are reported as "unavailable"
# and do not fail the script (there is nothing to build them from).
# HUBSTACK_ENGINE_BIN=DIR: --check looks for every binary in DIR instead.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
. "$here/versions.env"

print_bin=0 check=0
case "${1:-}" in
'') ;;
--print-bin) print_bin=1 ;;
--check) check=1 ;;
*) echo "usage: engine/build.sh [--print-bin | --check]" >&2 && exit 2 ;;
esac
say() {
	if ((check)); then return; elif ((print_bin)); then echo "$@" >&2; else echo "$@"; fi
}

cache=${HUBSTACK_ENGINE_CACHE:-$HOME/.cache/hubstack-engine}
if ((!check)); then
	mkdir -p "$cache"
	# Concurrent runs (make engine + preview.sh) would share $cache/work: serialize.
	exec 9>"$cache/.lock"
	flock 9
fi

# CGO off: static binaries, as upstream releases them. The toolchain here must
# do (no toolchain downloads). go.sum is committed, so builds only read it; the
# proxy's checksum-database endpoint refuses lookups for most pulumi modules,
# and go.sum already pins their hashes.
export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=readonly GONOSUMDB=github.com/pulumi
if ! gover=$(go env GOVERSION 2>/dev/null); then
	((check)) && echo "engine incomplete: no go toolchain on PATH to build it with" && exit 3
	say "go toolchain not found"
	exit 1
fi

failed=0
keys=()
declare -A built_path=()
unbuilt=() unserved=() # for --check: binaries not built yet / whose module is refused

# The cache key of a binary: the versions plus a hash of our wrapper files, so
# any pin or main.go change lands in a new cache dir and old ones stay reusable.
cache_key() { # NAME VERSION MODVER WRAPPER_DIR
	local sum
	sum=$(cat "$4"/go.mod "$4"/go.sum "$4"/*.go 2>/dev/null | sha256sum | cut -c1-10)
	echo "$1-$2-$3-$gover-$sum"
}

# build NAME VERSION MODULE MODVER WRAPPER_DIR PKG LDFLAGS [prep-fn]
build() {
	local name=$1 version=$2 mod=$3 modver=$4 wdir=$5 pkg=$6 ldflags=$7 prep=${8:-}
	if ((check)); then
		local key
		key=$(cache_key "$name" "$version" "$modver" "$wdir")
		if [[ -x "$cache/$key/$name" ]]; then
			built_path[$name]=$cache/$key/$name && keys+=("$key")
		else
			unbuilt+=("$name")
		fi
		return
	fi
	local have
	# shellcheck disable=SC2015 # any failure gives "", reported below
	have=$(cd "$wdir" && go list -m -f '{{.Version}}' "$mod" 2>/dev/null || true)
	if [[ "$have" != "$modver" ]]; then
		say "$name: $wdir/go.mod requires $mod@${have:-?}, versions.env says $modver;"
		say "  re-pin: (cd $wdir && go get ${mod}@$modver && go mod tidy)"
		failed=1
		return
	fi
	local key dir out start secs status
	key=$(cache_key "$name" "$version" "$modver" "$wdir")
	dir="$cache/$key"
	out="$dir/$name"
	start=$(date +%s)
	if [[ -x "$out" ]]; then
		status=cached
	else
		# Build in a scratch copy outside the repo: provider mains embed JSON
		# that is copied there from the module cache, never into the repo.
		local work="$cache/work/$name"
		rm -rf "$work" && mkdir -p "$work" "$dir"
		cp "$wdir"/go.mod "$wdir"/go.sum "$work"/
		cp "$wdir"/*.go "$work"/ 2>/dev/null || true
		if [[ -n "$prep" ]] && ! (cd "$work" && "$prep") >"$dir/build.log" 2>&1; then
			status=FAILED
		elif (cd "$work" && go build -trimpath -o "$out.tmp" -ldflags "$ldflags" "$pkg") >>"$dir/build.log" 2>&1; then
			mv "$out.tmp" "$out" && status=built
		else
			status=FAILED
		fi
		if [[ $status == FAILED ]]; then
			failed=1
			say "$name: build failed in $work; log $dir/build.log:"
			tail -n 15 "$dir/build.log" | sed 's/^/  /' >&2
		fi
	fi
	secs=$(($(date +%s) - start))
	local size=-
	[[ -x "$out" ]] && size=$(du -h "$out" | cut -f1) && built_path[$name]=$out && keys+=("$key")
	say "$(printf '%-28s %-28s %-8s %5ss %6s' "$name" "$version" "$status" "$secs" "$size")"
}

# Report a binary whose module the proxy will not hand out. The probe reruns
# each time, so a module that becomes available is noticed.
unavailable() {
	local name=$1 version=$2 probe=$3 err
	((check)) && unserved+=("$name") && return
	if err=$(cd /tmp && go list -m -json "$probe" 2>&1 >/dev/null); then
		say "$(printf '%-28s %-28s %-8s' "$name" "$version" "SERVED?") $probe now resolves: add a wrapper for it"
	else
		say "$(printf '%-28s %-28s %-8s' "$name" "$version" "unavailable") go list -m -json $probe"
		say "    $(echo "$err" | tr '\n\t' '  ')"
	fi
}

# Upstream's main.go runs `go generate` to write schema-embed.json (schema with
# the version filled in) and terraform-mapping-embed.json (compacted); do the
# same with python3 from the files in the module cache.
# shellcheck disable=SC2317 # called indirectly, as build's prep-fn
prep_kubernetes() {
	local src
	src=$(go list -m -f '{{.Dir}}' github.com/pulumi/pulumi-kubernetes/provider/v4) || return 1
	[[ -n "$src" && -d "$src" ]] || { go mod download github.com/pulumi/pulumi-kubernetes/provider/v4 &&
		src=$(go list -m -f '{{.Dir}}' github.com/pulumi/pulumi-kubernetes/provider/v4); } || return 1
	python3 - "$src/cmd/pulumi-resource-kubernetes" "$KUBERNETES_VERSION" <<'EOF'
import json, sys
d, version = sys.argv[1], sys.argv[2]
schema = json.load(open(f"{d}/schema.json"))
schema["version"] = version
json.dump(schema, open("schema-embed.json", "w"), separators=(",", ":"))
json.dump(json.load(open(f"{d}/terraform-mapping.json")), open("terraform-mapping-embed.json", "w"), separators=(",", ":"))
EOF
}

say "$(printf '%-28s %-28s %-8s %6s %6s' BINARY VERSION STATUS TIME SIZE)"
build pulumi "v$PULUMI_VERSION" github.com/pulumi/pulumi/pkg/v3 "$PULUMI_MODVER" "$here/pulumi" \
	github.com/pulumi/pulumi/pkg/v3/cmd/pulumi \
	"-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION"
unavailable pulumi-language-python "v$PULUMI_VERSION" "$PYTHON_HOST_MODULE@$PYTHON_HOST_MODVER"
build pulumi-resource-kubernetes "$KUBERNETES_VERSION" github.com/pulumi/pulumi-kubernetes/provider/v4 \
	"$KUBERNETES_MODVER" "$here/providers/kubernetes" \
	hubstack/engine/providers/kubernetes \
	"-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$KUBERNETES_VERSION" \
	prep_kubernetes
unavailable pulumi-resource-openstack "$OPENSTACK_VERSION" "$OPENSTACK_PROBE"
unavailable pulumi-resource-command "$COMMAND_VERSION" "$COMMAND_PROBE"
unavailable pulumi-resource-random "$RANDOM_VERSION" "$RANDOM_PROBE"
unavailable pulumi-resource-tls "$TLS_VERSION" "$TLS_PROBE"

if ((check)); then
	bin="$cache/bin-$(printf '%s\n' "${keys[@]}" | sha256sum | cut -c1-10)"
	where="not built yet (run make engine)"
	if [[ -n "${HUBSTACK_ENGINE_BIN:-}" ]]; then
		# A bin dir given by hand: every binary must be in it, whatever versions.env says.
		bin=$HUBSTACK_ENGINE_BIN where="not in HUBSTACK_ENGINE_BIN=$bin" unbuilt=()
		for name in pulumi pulumi-resource-kubernetes "${unserved[@]}"; do
			[[ -x "$bin/$name" ]] || unbuilt+=("$name")
		done
		unserved=()
	elif ((${#unbuilt[@]} == 0)) && [[ ! -x "$bin/pulumi" ]]; then
		unbuilt+=("the bin dir $bin")
	fi
	[[ -x "$bin/pulumi-language-python-exec" ]] || [[ ! -d "$bin" ]] || unbuilt+=(pulumi-language-python-exec)
	if ((${#unbuilt[@]} + ${#unserved[@]} == 0)); then
		echo "$bin"
		exit 0
	fi
	join() {
		local IFS=, list
		list="$*"
		echo "${list//,/, }"
	}
	msg="engine incomplete:"
	((${#unserved[@]})) && msg+=" missing $(join "${unserved[@]}") (the Go module proxy refuses their modules: 403 This module version is not available; see engine/README.md)"
	((${#unserved[@]} && ${#unbuilt[@]})) && msg+=";"
	((${#unbuilt[@]})) && msg+=" $(join "${unbuilt[@]}") $where"
	echo "$msg"
	exit 3
fi

# One bin dir per set of keys. Hard links (not symlinks): the CLI looks for its
# bundled language host next to the resolved path of its own executable and
# warns when the $PATH copy resolves elsewhere.
set_id=$(printf '%s\n' "${keys[@]}" | sha256sum | cut -c1-10)
bin="$cache/bin-$set_id"
if [[ ! -d "$bin" ]]; then
	mkdir -p "$bin.tmp"
	for name in "${!built_path[@]}"; do
		ln -f "${built_path[$name]}" "$bin.tmp/$name" 2>/dev/null || cp "${built_path[$name]}" "$bin.tmp/$name"
	done
	# The exec shim the language host runs is a Python script shipped in the
	# sdk module of the CLI's version; copy it from the module cache.
	# shellcheck disable=SC2015 # any failure of the chain is reported
	sdkdir=$(cd /tmp && go mod download -json "github.com/pulumi/pulumi/sdk/v3@v$PULUMI_VERSION" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])') &&
		install -m 0755 "$sdkdir/python/cmd/pulumi-language-python-exec" "$bin.tmp/" ||
		{ say "could not copy pulumi-language-python-exec from sdk/v3@v$PULUMI_VERSION"; failed=1; }
	rm -rf "$bin" && mv "$bin.tmp" "$bin"
fi

if ((print_bin)); then
	echo "$bin"
else
	echo
	echo "# To use these plugins with no downloads:"
	echo "export PATH=$bin:\$PATH PULUMI_SKIP_UPDATE_CHECK=1 PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true"
fi
exit $failed
