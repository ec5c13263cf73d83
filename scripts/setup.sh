#!/usr/bin/env bash
# Installs what building and testing ustack needs, only what is missing, without questions.
# Safe to run again: when everything is present it does nothing and needs no network.
set -euo pipefail

# command to look for : package that provides it ("pkg": the package itself must be installed)
wanted=(
  "cmake:cmake"
  "ninja:ninja-build"
  "g++:g++"
  "clang++:clang"
  "clang-format:clang-format"
  "pkg:libgtest-dev"
  "pkg:libgmock-dev"
  "pkg:libbenchmark-dev"
  "pkg:libclang-rt-14-dev"
  "tshark:tshark"
  "socat:socat"
  "ping:iputils-ping"
  "ip:iproute2"
  "python3:python3"
  "curl:curl"
  "openssl:openssl"
)

missing=()
for entry in "${wanted[@]}"; do
  probe=${entry%%:*}
  pkg=${entry##*:}
  if [[ $probe == pkg ]]; then
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" && continue
  else
    command -v "$probe" >/dev/null 2>&1 && continue
  fi
  missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
  echo "setup: all build and test dependencies present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=(sudo -n); else
    echo "setup: not root and no sudo; install these first: ${missing[*]}" >&2
    exit 1
  fi
else
  SUDO=()
fi
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer it before it asks.
echo "wireshark-common wireshark-common/install-setuid boolean false" |
  "${SUDO[@]}" debconf-set-selections
"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
