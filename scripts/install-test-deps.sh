#!/usr/bin/env bash
# Installs what the test suite runs for real (Debian): the CNCF registry,
# skopeo to push test images, bubblewrap for the build sandbox, slirp4netns,
# iproute2 and util-linux for the fetch step's own network, busybox-static
# for a builder image, Go and a C compiler for the binaries the diff tests build,
# htpasswd for the authenticated registry, umoci to build an image the way
# another tool does, python3 and openssl for the HTTPS git server (git's
# http-backend behind tests/support/git_http_server.py, with a test CA); and
# what the build itself needs to compile ISA-L, the gzip decoder (nasm and the
# autotools), and libgit2's HTTPS (libssl-dev); `script` runs the command on a
# pseudo-terminal to see its progress output.
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
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
fi
