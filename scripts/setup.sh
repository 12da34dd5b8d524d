#!/usr/bin/env bash
# Installs the C libraries the engine links (Debian packages; needs root or sudo).
set -euo pipefail
packages="libdnnl-dev libopenblas-dev libturbojpeg0-dev libpng-dev pkg-config"
missing=$(for p in $packages; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
if [ -n "$missing" ]; then
    sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo_cmd apt-get update -qq
    $sudo_cmd apt-get install -y -qq $missing >/dev/null
fi
