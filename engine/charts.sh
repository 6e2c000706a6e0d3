#!/usr/bin/env bash
# Build (or reuse) the three Helm charts the program installs as local chart
# archives, from their upstream sources, for sites (and machines like this one)
# that cannot reach the chart repositories; and the Cinder CSI chart before the
# default, which the whole hub's suite bumps from.
#
#   engine/charts.sh           build the missing archives, print one line per chart
#   engine/charts.sh --check   build nothing, no network: if all the archives are
#                              there print their directory and exit 0, else print
#                              one line saying what is missing and exit 3
#
# Archives: ${HUBSTACK_CHARTS:-~/.cache/hubstack-charts}/<name>-<version>.tgz, named
# and laid out as `helm package` makes them (top directory = chart name, files
# only, .helmignore applied). Chart.yaml stays as the release tools write it;
# helm package would re-serialize it, to what `helm show chart` prints of both.
# An archive already there is kept.
# Sources: the git snapshot of zero-to-jupyterhub-k8s under
# ${HUBSTACK_SOURCES:-/work/.mirror}, and the Go module proxy (`go mod download`)
# for cert-manager and cloud-provider-openstack.
# Needs bash, git, GNU tar, gzip, go and python3 with PyYAML (a project
# requirement; PYTHON=.venv/bin/python picks the project's interpreter): z2jh's
# own release tools, run here as its release workflow runs them, load YAML.
set -euo pipefail

# Versions as config/model.py's DEFAULT_*_CHART; the commit and h1: sums pin the
# sources, so the same pins always give byte-identical archives.
Z2JH_VERSION=4.4.0 Z2JH_COMMIT=5c5f5df751588a68a7781ead01d0f62e88e2e72f
CM_VERSION=v1.21.1 CM_SUM=h1:0LttV37Q5c2CBNoHkjuI8sLKTXWZDC2SwQkxrBMKV9w=
# cinder-csi chart 2.N.x ships in cloud-provider-openstack v1.N.x: chart 2.33.0 is
# in v1.33.0 (v1.33.1 has 2.33.1). The proxy's checksum database answers 404 for
# this module, so go's check is off for it and the pinned sums below do it.
# "CHART MODULE-VERSION SUM": the default first; the one before it is the chart the
# whole hub's suite bumps from (tests/cloud/test_whole_hub.py).
CINDER_RELEASES=(
	"2.33.0 v1.33.0 h1:BNXCEAfFB8Fe3u6DTCGk5TwiUnNSsbk0AhfsTeC9b9s="
	"2.32.0 v1.32.0 h1:OT6w6pdtw1vl27NITizdBUFw23ysiz+vPWFDxRtWeio="
)

cache=${HUBSTACK_CHARTS:-$HOME/.cache/hubstack-charts}
z2jh_git=${HUBSTACK_SOURCES:-/work/.mirror}/jupyterhub+zero-to-jupyterhub-k8s/repo
python=${PYTHON:-python3}
archives=("jupyterhub-$Z2JH_VERSION.tgz" "cert-manager-$CM_VERSION.tgz")
for release in "${CINDER_RELEASES[@]}"; do archives+=("openstack-cinder-csi-${release%% *}.tgz"); done

case "${1:-}" in
'') ;;
--check)
	missing=()
	for a in "${archives[@]}"; do [[ -f $cache/$a ]] || missing+=("$a"); done
	if ((${#missing[@]} == 0)); then echo "$cache" && exit 0; fi
	echo "charts missing in $cache: ${missing[*]}; build them with: make charts"
	exit 3
	;;
*) echo "usage: engine/charts.sh [--check]" >&2 && exit 2 ;;
esac

die() { echo "charts.sh: $*" >&2 && exit 1; }
mkdir -p "$cache"
# Scratch space in the cache directory, so the final mv is an atomic rename.
work=$(mktemp -d "$cache/.work.XXXXXX")
trap 'chmod -R u+w "$work" && rm -rf "$work"' EXIT

# pack DIR NAME EPOCH ARCHIVE: tar DIR's files as NAME/..., as helm package does
# (files only, mode 0644, .helmignore applied), but deterministic: sorted names,
# mtime EPOCH (the source's release time), owner 0, no name or time in gzip.
pack() {
	"$python" - "$1" <<-'EOF' |
		# helm's .helmignore rules as the three charts use them: a pattern without "/"
		# matches the base name, one with "/" the path, a trailing "/" directories only.
		import fnmatch, os, sys
		root = sys.argv[1]
		rules = ["templates/.?*"]  # helm always ignores dotfiles in templates/
		if os.path.exists(os.path.join(root, ".helmignore")):
		    rules += [l.strip() for l in open(os.path.join(root, ".helmignore")) if l.strip() and not l.lstrip().startswith("#")]
		def ignored(path, is_dir):
		    for rule in rules:
		        if rule.startswith("!"):
		            sys.exit(f"charts.sh: unsupported .helmignore rule {rule!r}")
		        if rule.endswith("/") and not is_dir:
		            continue
		        rule = rule.rstrip("/")
		        if fnmatch.fnmatchcase(path if "/" in rule else os.path.basename(path), rule):
		            return True
		    return False
		files = []
		for top, dirs, names in os.walk(root):
		    rel = os.path.relpath(top, root)
		    join = lambda n: n if rel == "." else f"{rel}/{n}"
		    dirs[:] = [d for d in dirs if not ignored(join(d), True)]
		    files += [join(n) for n in names if not ignored(join(n), False)]
		for f in sorted(files):
		    sys.stdout.write(f + "\0")
	EOF
		tar -C "$1" --transform "s|^|$2/|" --null --no-recursion -T - --format=gnu \
			--owner=0 --group=0 --numeric-owner --mode=0644 --mtime="@$3" -cf - |
		gzip -n >"$4"
}

# modfetch MODULE@VERSION SUM: download a module, check its h1: sum, print
# "DIR EPOCH" (its directory and release time).
modfetch() {
	local json
	json=$(cd "$work" && GOFLAGS=-mod=mod GOTOOLCHAIN=local GOWORK=off GONOSUMDB=k8s.io/cloud-provider-openstack go mod download -json "$1") ||
		die "go mod download $1 failed: $(sed -n 's/.*"Error": //p' <<<"$json")"
	"$python" - "$2" "$json" <<-'EOF'
		import datetime, json, sys
		want, info = sys.argv[1], json.loads(sys.argv[2])
		if info["Sum"] != want:
		    sys.exit(f"charts.sh: {info['Path']}@{info['Version']} has sum {info['Sum']}, pinned {want}")
		t = json.load(open(info["Info"]))["Time"]
		print(info["Dir"], int(datetime.datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp()))
	EOF
}

# Zero to JupyterHub: the source at the tag, with what its release workflow
# (publish.yml: generate-json-schema.py, chartpress --tag 4.4.0,
# set-chart-yaml-annotations.py) adds: values.schema.json, the chart version,
# the tags of the images chartpress builds, and the artifacthub images annotation.
build_jupyterhub() {
	[[ -d $z2jh_git ]] || die "no git snapshot of jupyterhub/zero-to-jupyterhub-k8s at $z2jh_git: fetch github:jupyterhub/zero-to-jupyterhub-k8s (HUBSTACK_SOURCES sets the mirror root)"
	local commit src=$work/z2jh
	commit=$(git --git-dir="$z2jh_git" rev-parse --verify -q "$Z2JH_VERSION^{commit}") ||
		die "tag $Z2JH_VERSION not in $z2jh_git: fetch github:jupyterhub/zero-to-jupyterhub-k8s again"
	[[ $commit == "$Z2JH_COMMIT" ]] || die "tag $Z2JH_VERSION in $z2jh_git is $commit, pinned $Z2JH_COMMIT"
	"$python" -c 'import yaml' 2>/dev/null || die "$python has no PyYAML (run make setup, then PYTHON=.venv/bin/python)"
	mkdir "$src"
	git --git-dir="$z2jh_git" archive "$commit" jupyterhub tools | tar -x -C "$src"
	(cd "$src" && "$python" tools/generate-json-schema.py >/dev/null)
	# chartpress sets these placeholders; every one left is an image it builds
	# (chartpress.yaml's valuesPath entries) tagged with the release.
	sed -i "s/^version: 0\.0\.1-set\.by\.chartpress$/version: $Z2JH_VERSION/" "$src/jupyterhub/Chart.yaml"
	sed -i "s/^\( *tag: \)\"set-by-chartpress\"$/\1\"$Z2JH_VERSION\"/" "$src/jupyterhub/values.yaml"
	! grep -rn 'set[.-]by[.-]chartpress' "$src/jupyterhub/Chart.yaml" "$src/jupyterhub/values.yaml" >&2 ||
		die "chartpress placeholders left in the z2jh source (above): update charts.sh"
	(cd "$src" && "$python" tools/set-chart-yaml-annotations.py >/dev/null)
	pack "$src/jupyterhub" jupyterhub "$(git --git-dir="$z2jh_git" log -1 --format=%ct "$commit")" "$1"
}

# cert-manager: the files its make/manifests.mk copies into the released chart,
# with Chart.yaml's version, appVersion and annotations set as its yq line does
# and README.md from README.template.md. The CRDs are templates/crd-*.yaml.
build_cert_manager() {
	local dir epoch chart=$work/cert-manager
	read -r dir epoch < <(modfetch "github.com/cert-manager/cert-manager@$CM_VERSION" "$CM_SUM") || exit 1
	dir=$dir/deploy/charts/cert-manager
	mkdir -p "$chart/templates"
	cp "$dir/values.yaml" "$dir/values.schema.json" "$dir/.helmignore" "$chart/"
	cp "$dir"/templates/*.yaml "$dir/templates/NOTES.txt" "$dir/templates/_helpers.tpl" "$chart/templates/"
	sed "s:{{RELEASE_VERSION}}:$CM_VERSION:g" "$dir/README.template.md" >"$chart/README.md"
	"$python" - "$dir" "$chart" "$CM_VERSION" <<-'EOF'
		import re, sys
		src, dst, version = sys.argv[1:]
		text = open(f"{src}/Chart.yaml").read()
		key = open(f"{src}/signkey_annotation.txt").read()
		text = re.sub(r"(?m)^(version|appVersion): v0\.0\.0$", rf"\1: {version}", text)
		extra = "  artifacthub.io/signKey: |\n" + "".join(f"    {l}\n" for l in key.splitlines())
		extra += '  artifacthub.io/prerelease: "%s"\n' % str("-" in version).lower()
		text, n = re.subn(r"(?m)^(annotations:\n(?:  .*\n)*)", lambda m: m.group(1) + extra, text)
		if n != 1 or text.count(version) < 2:
		    sys.exit("charts.sh: cert-manager Chart.yaml not as expected: update charts.sh")
		open(f"{dst}/Chart.yaml", "w").write(text)
	EOF
	pack "$chart" cert-manager "$epoch" "$1"
}

# Cinder CSI: chart-releaser packages charts/cinder-csi-plugin as it is.
# build_openstack_cinder_csi ARCHIVE VERSION
build_openstack_cinder_csi() {
	local dir epoch release chart module sum
	for release in "${CINDER_RELEASES[@]}"; do
		read -r chart module sum <<<"$release"
		[[ $chart == "$2" ]] && break
	done
	read -r dir epoch < <(modfetch "k8s.io/cloud-provider-openstack@$module" "$sum") || exit 1
	grep -qx "version: $2" "$dir/charts/cinder-csi-plugin/Chart.yaml" ||
		die "charts/cinder-csi-plugin in cloud-provider-openstack $module is not chart $2"
	pack "$dir/charts/cinder-csi-plugin" openstack-cinder-csi "$epoch" "$1"
}

for archive in "${archives[@]}"; do
	name=${archive%-*} version=${archive##*-} version=${version%.tgz}
	status=cached
	if [[ ! -f $cache/$archive ]]; then
		"build_${name//-/_}" "$work/$archive" "$version"
		mv "$work/$archive" "$cache/$archive"
		status=built
	fi
	printf '%-20s %-7s %-6s %7s bytes  %s\n' "$name" "$version" "$status" "$(stat -c %s "$cache/$archive")" "$cache/$archive"
done
