#!/usr/bin/env bash
# Installs everything noicutru needs on Debian (run as root; safe to run again):
# system packages (OCR, LibreOffice for PDF output, fonts with full Vietnamese coverage,
# Chromium for the browser tests, redis-server for the scale-out tests) and the Python package with its dependencies in .venv.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  python3 python3-venv python3-pip
  tesseract-ocr tesseract-ocr-vie
  libreoffice-writer-nogui
  fonts-liberation2 fonts-dejavu-core
  poppler-utils
  chromium
  redis-server
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "Missing system packages: ${missing[*]} (run this script as root, or install them with apt-get)" >&2
    exit 1
  fi
  echo "Installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e ".[test]"
# axe-core for the accessibility pass of the browser tests (version pinned in tests/browser/axe/package.json)
if command -v npm >/dev/null 2>&1; then
  npm install --prefix tests/browser/axe --no-audit --no-fund --silent >/dev/null
else
  echo "npm not found: the accessibility pass of the browser tests will be skipped (apt-get install npm)" >&2
fi
echo "noicutru and its dependencies are installed in .venv"
