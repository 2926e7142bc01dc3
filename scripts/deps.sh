#!/usr/bin/env bash
# Install every Debian package cshim needs (build, tests, end-to-end, Windows cross-build and Wine).
# The Windows build's libraries come from Debian's source packages (scripts/win-deps.sh: dpkg-dev for
# apt-get source); its tests run under Wine 8 (wine64; `wine` is the launcher).
# Idempotent, no prompts. Debian 12 (bookworm).
set -euo pipefail
PKGS=(
  build-essential cmake pkg-config git ca-certificates
  protobuf-c-compiler libprotobuf-c-dev protobuf-compiler nanopb libnanopb-dev python3-protobuf
  libuv1-dev libcmocka-dev libjansson-dev
  clang libclang-rt-14-dev valgrind gcovr
  gcc-mingw-w64-x86-64 dpkg-dev wine64 wine
  runc crun containerd criu busybox-static
  golang-go golang-github-containerd-ttrpc-dev golang-github-containerd-containerd-dev
  golang-google-protobuf-dev golang-google-grpc-dev golang-github-containerd-typeurl-dev
  iproute2 iptables procps psmisc tmux util-linux file containernetworking-plugins
  lintian debootstrap
  python3-grpcio python3-grpc-tools python3-websocket
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
