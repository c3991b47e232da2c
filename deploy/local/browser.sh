#!/usr/bin/env bash
# browser.sh -- make sure headless Chromium and its WebDriver are installed (Debian's packages),
# for the Swagger UI end-to-end test. Idempotent; installs only what is missing.
set -euo pipefail
if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
    exit 0
fi
if [[ $EUID -ne 0 ]]; then
    echo "browser: chromium and chromium-driver are missing; run: sudo apt-get install chromium chromium-driver" >&2
    exit 1
fi
t0=$SECONDS
DEBIAN_FRONTEND=noninteractive apt-get -q update >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get -q install -y --no-install-recommends chromium chromium-driver >/dev/null
echo "browser: chromium $(chromium --version 2>/dev/null | awk '{print $2}') installed in $(( SECONDS - t0 ))s"
