#!/usr/bin/env bash
# Builds (or reuses from its cache) the binaries of the local Kubernetes API (kube/README.md): kube-apiserver,
# kube-controller-manager, kube-scheduler and kubectl (k8s.io/kubernetes) and kwok (sigs.k8s.io/kwok, with its stage
# files) from the Go module proxy; etcd from Debian's etcd-server package (etcd's own module cannot be installed with
# `go install`: its go.mod replaces its sibling modules).
#   kube/build.sh            build what is missing, print the folder
#   kube/build.sh --check    build nothing: print the folder if every binary is there, else say what is missing (exit 3)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KUBERNETES_VERSION=v1.33.13 # kube/module/go.mod requires the same
ETCD_PACKAGE=etcd-server
KWOK_VERSION=v0.8.0
BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubectl etcd kwok)
# kwok's own "fast" stages (kustomize/stage/ of its module): nodes become Ready and keep their lease, pods run at
# once, Jobs' pods complete, deletions finish.
STAGES=(node/fast/node-initialize node/heartbeat-with-lease/node-heartbeat-with-lease pod/fast/pod-ready
	pod/fast/pod-complete pod/fast/pod-delete)

cache=${HUBSTACK_KUBE_CACHE:-$HOME/.cache/hubstack-kube}
export GOFLAGS=-mod=mod GOTOOLCHAIN=local
gover=$(go env GOVERSION 2>/dev/null) || {
	echo "kube/build.sh: no go toolchain on PATH" >&2
	exit 3
}
for file in go.mod go.sum; do
	[[ -s "$here/module/$file" ]] || {
		echo "kube/build.sh: kube/module/$file is missing: this checkout is incomplete" >&2
		exit 1
	}
done
key=$({ cat "$here/module/go.mod" "$here/module/go.sum"; echo "$ETCD_PACKAGE $KWOK_VERSION ${STAGES[*]}"; } |
	sha256sum | cut -c1-10)
bin="$cache/bin-$key-$gover"

missing() {
	local name
	for name in "${BINARIES[@]}"; do [[ -x "$bin/$name" ]] || echo "$name"; done
	for name in "${STAGES[@]}"; do [[ -s "$bin/stages/${name##*/}.yaml" ]] || echo "stages/${name##*/}.yaml"; done
}

if [[ "${1:-}" == --check ]]; then
	todo=$(missing)
	[[ -z "$todo" ]] && echo "$bin" && exit 0
	echo "kube incomplete: $(echo "$todo" | tr '\n' ' ')not built in $bin: run make kube (about 5 minutes cold)"
	exit 3
fi

[[ -z "$(missing)" ]] && echo "$bin" && exit 0
mkdir -p "$bin/stages"
work=$(mktemp -d "$cache/work.XXXXXX")
trap 'rm -rf "$work"' EXIT
start=$(date +%s)

# Without the version stamped in, the API server says v0.0.0 and charts' kubeVersion checks fail.
version_flags=""
for package in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
	minor=${KUBERNETES_VERSION#v1.}
	version_flags+=" -X $package.gitVersion=$KUBERNETES_VERSION -X $package.gitMajor=1 -X $package.gitMinor=${minor%%.*}"
	version_flags+=" -X $package.gitTreeState=clean"
done
echo "kube/build.sh: building Kubernetes $KUBERNETES_VERSION (cold: about 5 minutes and 2 GB of memory)" >&2
(cd "$here/module" && go build -trimpath -ldflags "-s -w$version_flags" -o "$work/" \
	k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
	k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl)

echo "kube/build.sh: etcd from Debian's $ETCD_PACKAGE (unpacked: no service starts), and kwok $KWOK_VERSION" >&2
(cd "$work" && { apt-get download -q "$ETCD_PACKAGE" >/dev/null 2>&1 ||
	{ apt-get update -qq && apt-get download -q "$ETCD_PACKAGE" >/dev/null; }; })
dpkg -x "$work/$ETCD_PACKAGE"_*.deb "$work/etcd-package"
mv "$work/etcd-package/usr/bin/etcd" "$work/etcd"
GOBIN="$work" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
kwok_dir=$(go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" |
	python3 -c 'import json, sys; print(json.load(sys.stdin)["Dir"])')
mkdir -p "$work/stages"
for stage in "${STAGES[@]}"; do cp "$kwok_dir/kustomize/stage/$stage.yaml" "$work/stages/"; done

for name in "${BINARIES[@]}"; do mv -f "$work/$name" "$bin/$name"; done
cp "$work"/stages/*.yaml "$bin/stages/"
echo "kube/build.sh: built in $(($(date +%s) - start)) s into $bin" >&2
echo "$bin"
