#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Build (or reuse from the cache) the Pulumi engine binaries pinned in
# versions.env, from the Go module proxy or from upstream source snapshots,
# and lay them out in one bin dir.
#
#   engine/build.sh              build/reuse, print a table, then `export PATH=...`
#   engine/build.sh --print-bin  same, but stdout is only the bin dir (for scripts)
#   engine/build.sh --check      build nothing, ask no network: if the engine is
#                                complete (CLI, language host, every provider),
#                                print its bin dir and exit 0; else print one
#                                line saying what is missing, exit 3
#
# Exit status: 0 if every binary is there; 1 if one failed to build or its
# source snapshot is missing (one line names the repository to fetch).
# HUBSTACK_SOURCES=DIR: where the source snapshots are (DIR/OWNER+NAME/repo).
set -uo pipefail
# The whole script is one block, read before it runs: editing the file while a build runs cannot break it.
{
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
sources=${HUBSTACK_SOURCES:-/work/.mirror}
if ((!check)); then
	mkdir -p "$cache"
	# Concurrent runs (make engine + preview.sh) would share $cache/work: serialize.
	exec 9>"$cache/.lock"
	flock 9
fi

# CGO off: static binaries, as upstream releases them. The toolchain here must
# do (no toolchain downloads). go.sum files are committed or upstream's, so
# builds only read them; the proxy's checksum-database endpoint refuses
# lookups for most pulumi modules, and go.sum already pins their hashes.
export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=readonly GONOSUMDB=github.com/pulumi
if ! gover=$(go env GOVERSION 2>/dev/null); then
	((check)) && echo "engine incomplete: no go toolchain on PATH to build it with" && exit 3
	say "go toolchain not found"
	exit 1
fi

failed=0
keys=()
declare -A built_path=() built_version=()
unbuilt=() # for --check: binaries not in the cache

# The cache key of a binary: its version, its source (module version or
# commit), the toolchain, and a hash of our wrapper files, so any pin or
# wrapper change lands in a new cache dir and old ones stay reusable.
cache_key() { # NAME VERSION SOURCE WRAPPER_DIR
	local sum
	sum=$(cat "$4"/go.mod "$4"/go.sum "$4"/*.go "$4"/deps 2>/dev/null | sha256sum | cut -c1-10)
	echo "$1-$2-${3:0:40}-$gover-$sum"
}

# The bare git dir of a fetched snapshot of REPO (owner/name).
snapshot() { echo "$sources/${1/\//+}/repo"; }

# extract REPO COMMIT DIR DEST: the tree DIR (empty: all) of REPO at COMMIT, as DEST. Archiving the subtree
# itself reads only its objects (a snapshot may lack blobs elsewhere).
extract() {
	mkdir -p "$4" && git --git-dir="$(snapshot "$1")" archive --format=tar "$2${3:+:$3}" | tar -x -C "$4"
}

# extract_deps WRAPPER_DIR WORK: the modules its `deps` file lists, into WORK.
extract_deps() {
	[[ -f "$1/deps" ]] || return 0
	local dest repo commit subdir
	while read -r dest repo commit subdir; do
		[[ -z "$dest" || "$dest" == \#* ]] && continue
		have_source "$repo" "$commit" && extract "$repo" "$commit" "$subdir" "$2/$dest" || return 1
	done <"$1/deps"
}

# have_source REPO COMMIT: the snapshot holds the commit, or one line says what to fetch.
have_source() {
	local git_dir
	git_dir=$(snapshot "$1")
	git --git-dir="$git_dir" cat-file -e "$2^{commit}" 2>/dev/null && return
	say "source missing: fetch github:$1 (looked for commit $2 in $git_dir)"
	return 1
}

# build NAME VERSION SOURCE WRAPPER_DIR PKG LDFLAGS [prep-fn]
#   SOURCE is MODULE@MODVER (the proxy; WRAPPER_DIR is the main module) or
#   git:REPO@COMMIT:DIR (a snapshot; WRAPPER_DIR's go.mod/go.sum, if any,
#   replace upstream's). PKG is built in the scratch copy; prep-fn runs there first.
build() {
	local name=$1 version=$2 source=$3 wdir=$4 pkg=$5 ldflags=$6 prep=${7:-}
	local key
	key=$(cache_key "$name" "$version" "${source##*@}" "$wdir")
	if ((check)); then
		if [[ -x "$cache/$key/$name" ]]; then
			built_path[$name]=$cache/$key/$name && keys+=("$key")
		else
			unbuilt+=("$name")
		fi
		return
	fi
	local dir="$cache/$key" out="$cache/$key/$name" work="$cache/work/$name" start status
	start=$(date +%s)
	if [[ -x "$out" ]]; then
		status=cached
	elif [[ $source == git:* ]]; then
		local spec=${source#git:} repo commit subdir
		repo=${spec%%@*} spec=${spec#*@} commit=${spec%%:*} subdir=${spec#*:}
		rm -rf "$work" && mkdir -p "$dir"
		if have_source "$repo" "$commit" && extract "$repo" "$commit" "$subdir" "$work" &&
			extract_deps "$wdir" "$work"; then
			cp "$wdir"/go.* "$work"/ 2>/dev/null || true # upstream go.mod unless ours replaces it
			status=$(compile)
		else
			status=MISSING
		fi
	else
		local mod=${source%@*} modver=${source##*@} have
		# shellcheck disable=SC2015 # any failure gives "", reported below
		have=$(cd "$wdir" && go list -m -f '{{.Version}}' "$mod" 2>/dev/null || true)
		if [[ "$have" != "$modver" ]]; then
			say "$name: $wdir/go.mod requires $mod@${have:-?}, versions.env says $modver;"
			say "  re-pin: (cd $wdir && go get ${mod}@$modver && go mod tidy)"
			failed=1
			return
		fi
		rm -rf "$work" && mkdir -p "$work" "$dir"
		cp "$wdir"/go.mod "$wdir"/go.sum "$work"/
		cp "$wdir"/*.go "$work"/ 2>/dev/null || true
		status=$(compile)
	fi
	case $status in
	FAILED)
		say "$name: build failed in $work; log $dir/build.log:"
		tail -n 15 "$dir/build.log" | sed 's/^/  /' >&2
		failed=1
		;;
	MISSING) failed=1 ;;
	esac
	local size=-
	[[ -x "$out" ]] && size=$(du -h "$out" | cut -f1) && built_path[$name]=$out built_version[$name]=$version &&
		keys+=("$key")
	say "$(printf '%-28s %-26s %-7s %5ss %5s' "$name" "$version" "$status" "$(($(date +%s) - start))" "$size")"
}

# compile: prep-fn and go build in $work, log in $dir (build's locals); prints built or FAILED.
compile() {
	if [[ -n "$prep" ]] && ! (cd "$work" && "$prep") >"$dir/build.log" 2>&1; then
		echo FAILED
	elif (cd "$work" && go build -trimpath -o "$out.tmp" -ldflags "$ldflags" "$pkg") >>"$dir/build.log" 2>&1; then
		mv "$out.tmp" "$out" && echo built
	else
		echo FAILED
	fi
}

# Upstream's main.go runs `go generate` to write schema-embed.json (schema.json
# with the version filled in, compacted) and, for kubernetes,
# terraform-mapping-embed.json; do the same with python3.
# versioned_schema DIR VERSION [EXTRA-JSON...]: in DIR, each X.json -> X-embed.json.
# shellcheck disable=SC2317 # called by the prep-fns
versioned_schema() {
	python3 - "$@" <<'EOF'
import json, sys
d, version, *extra = sys.argv[1:]
schema = json.load(open(f"{d}/schema.json"))
schema["version"] = version
json.dump(schema, open(f"{d}/schema-embed.json", "w"), separators=(",", ":"))
for name in extra:
    json.dump(json.load(open(f"{d}/{name}.json")), open(f"{d}/{name}-embed.json", "w"), separators=(",", ":"))
EOF
}

# shellcheck disable=SC2317 # prep-fns are called indirectly, by compile
prep_kubernetes() {
	local src
	go mod download github.com/pulumi/pulumi-kubernetes/provider/v4 &&
		src=$(go list -m -f '{{.Dir}}' github.com/pulumi/pulumi-kubernetes/provider/v4) &&
		cp "$src"/cmd/pulumi-resource-kubernetes/{schema,terraform-mapping}.json . && chmod u+w ./*.json &&
		versioned_schema . "$KUBERNETES_VERSION" terraform-mapping && rm schema.json terraform-mapping.json
}
# A Terraform-bridged provider's main embeds its schema the same way; `name` and `version` are build's.
# shellcheck disable=SC2317
prep_bridged() { versioned_schema "cmd/$name" "$version"; }

# bridged NAME VAR GO_MODULE: the bridged provider pulumi-resource-NAME pinned by VAR_* in versions.env.
bridged() {
	local version=${2}_VERSION repo=${2}_REPO commit=${2}_COMMIT dir=${2}_DIR
	build "pulumi-resource-$1" "${!version}" "git:${!repo}@${!commit}:${!dir}" "$here/providers/$1" \
		"./cmd/pulumi-resource-$1" "-s -w -X $3/pkg/version.Version=${!version}" prep_bridged
}

# Every snapshot a build from source may need, checked before anything is built: a missing one is said at
# once, in one line each, rather than after the other binaries took their minutes. Not when every binary is in
# the cache already (snapshots are fetched per machine and session; the cache outlives them).
if ((!check)) && ! "$0" --check >/dev/null 2>&1; then
	missing=0
	while read -r repo commit; do
		have_source "$repo" "$commit" || missing=1
	done < <( (
		for binary in PYTHON_HOST OPENSTACK COMMAND RANDOM TLS; do
			repo=${binary}_REPO commit=${binary}_COMMIT
			echo "${!repo} ${!commit}"
		done
		cat "$here"/providers/*/deps 2>/dev/null | grep -v '^#' | awk 'NF { print $2, $3 }'
	) | sort -u)
	((missing)) && say "engine incomplete: fetch the snapshots above, then run make engine again" && exit 1
fi

say "$(printf '%-28s %-26s %-7s %6s %5s' BINARY VERSION STATUS TIME SIZE)"
build pulumi "v$PULUMI_VERSION" "github.com/pulumi/pulumi/pkg/v3@$PULUMI_MODVER" "$here/pulumi" \
	github.com/pulumi/pulumi/pkg/v3/cmd/pulumi \
	"-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION"
build pulumi-language-python "v$PULUMI_VERSION" "git:$PYTHON_HOST_REPO@$PYTHON_HOST_COMMIT:$PYTHON_HOST_DIR" \
	"$here/language-python" . \
	"-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION"
build pulumi-resource-kubernetes "$KUBERNETES_VERSION" \
	"github.com/pulumi/pulumi-kubernetes/provider/v4@$KUBERNETES_MODVER" "$here/providers/kubernetes" \
	hubstack/engine/providers/kubernetes \
	"-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$KUBERNETES_VERSION" \
	prep_kubernetes
bridged openstack OPENSTACK github.com/pulumi/pulumi-openstack/provider/v5
build pulumi-resource-command "$COMMAND_VERSION" "git:$COMMAND_REPO@$COMMAND_COMMIT:$COMMAND_DIR" \
	"$here/providers/command" ./cmd/pulumi-resource-command \
	"-s -w -X github.com/pulumi/pulumi-command/provider/pkg/version.Version=v$COMMAND_VERSION"
bridged random RANDOM github.com/pulumi/pulumi-random/provider/v4
bridged tls TLS github.com/pulumi/pulumi-tls/provider/v5

if ((check)); then
	bin="$cache/bin-$(printf '%s\n' "${keys[@]}" | sha256sum | cut -c1-10)"
	if ((${#unbuilt[@]} == 0)) && [[ ! -d "$bin/home/plugins" ]]; then
		unbuilt+=("the bin dir $bin")
	fi
	if ((${#unbuilt[@]} == 0)); then
		echo "$bin"
		exit 0
	fi
	list="${unbuilt[*]}"
	echo "engine incomplete: ${list// /, } not built yet (run make engine)"
	exit 3
fi

# One bin dir per set of keys: the CLI and the language host, to put on PATH, and home/, a PULUMI_HOME whose
# plugins/ holds the providers as `pulumi plugin install` lays them out. Providers on PATH would be "ambient"
# plugins, taken whatever version is asked for and warned about on every run.
# Hard links (not symlinks): the CLI looks for its bundled language host next to the resolved path of its
# own executable and warns when the $PATH copy resolves elsewhere.
set_id=$(printf '%s\n' "${keys[@]}" | sha256sum | cut -c1-10)
bin="$cache/bin-$set_id"
if ((!failed)) && [[ ! -d "$bin/home/plugins" ]]; then
	rm -rf "$bin.tmp" && mkdir -p "$bin.tmp"
	for name in pulumi pulumi-language-python; do
		ln -f "${built_path[$name]}" "$bin.tmp/$name" 2>/dev/null || cp "${built_path[$name]}" "$bin.tmp/$name"
	done
	for name in "${!built_path[@]}"; do
		[[ $name == pulumi-resource-* ]] || continue
		PULUMI_HOME="$bin.tmp/home" "$bin.tmp/pulumi" plugin install resource "${name#pulumi-resource-}" \
			"${built_version[$name]}" --file "${built_path[$name]}" >/dev/null 2>&1 ||
			{ say "$name: pulumi plugin install failed" && failed=1; }
	done
	# The exec shim the language host runs: a Python script beside it in upstream's tree.
	exec_shim="$PYTHON_HOST_COMMIT:${PYTHON_HOST_DIR%/*}/pulumi-language-python-exec"
	if git --git-dir="$(snapshot "$PYTHON_HOST_REPO")" show "$exec_shim" >"$bin.tmp/pulumi-language-python-exec" &&
		chmod 0755 "$bin.tmp/pulumi-language-python-exec" && ((!failed)); then
		rm -rf "$bin" && mv "$bin.tmp" "$bin"
	else
		say "could not lay out $bin.tmp (the exec shim from $PYTHON_HOST_REPO@$PYTHON_HOST_COMMIT, the plugins)"
		failed=1
	fi
fi

if ((failed)); then
	say "engine incomplete: see above"
elif ((print_bin)); then
	echo "$bin"
else
	echo
	echo "# To use this engine by hand, with no downloads:"
	echo "export PATH=$bin:\$PATH PULUMI_HOME=$bin/home PULUMI_SKIP_UPDATE_CHECK=1 PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true"
fi
exit $failed
}
