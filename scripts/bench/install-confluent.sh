#!/usr/bin/env bash
# Builds @confluentinc/kafka-javascript into a cache folder for the bench's `kafka-clients` section (a figure
# only; kafkajs is the project's client). Its prebuilt binary is downloaded from GitHub and its bundled
# librdkafka fetches zlib, OpenSSL, zstd and curl sources from their sites; where those cannot be reached,
# CKJS_LINKING=dynamic builds librdkafka against Debian's -dev packages instead.
set -euo pipefail
prefix="${BENCH_CONFLUENT_PREFIX:-$HOME/.cache/timeline-bench/confluent-kafka-javascript}"
version="${BENCH_CONFLUENT_VERSION:-1.10.1}"
packages=(zlib1g-dev libssl-dev libzstd-dev liblz4-dev libcurl4-openssl-dev libsasl2-dev g++ make python3)
missing=()
for package in "${packages[@]}"; do dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package"); done
if (( ${#missing[@]} )); then
  if [[ $(id -u) == 0 ]]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "install-confluent: install ${missing[*]} first (sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
fi
mkdir -p "$prefix"
cd "$prefix"
[[ -f package.json ]] || echo '{"private": true}' > package.json
CKJS_LINKING=dynamic npm install --no-audit --no-fund --no-save "@confluentinc/kafka-javascript@$version"
echo "install-confluent: built in $prefix"
