#!/usr/bin/env bash
# Install Chromium for the browser tests (tests/browser), from Debian's own package.
# Idempotent: does nothing when Chromium is already there. Never fails CI: without apt (or
# without the rights to use it) it says so, and the browser tests skip with their reason.
# Playwright's own browser download (`playwright install`) is never used.
set -u
CHROMIUM="${COURSE_CHROMIUM:-/usr/bin/chromium}"

if [ -x "$CHROMIUM" ]; then
    echo "install-browser: Chromium already installed at $CHROMIUM"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-browser: no apt-get here; cannot install Chromium, the browser tests will be skipped"
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO="sudo -n"
    else
        echo "install-browser: not root and no password-less sudo; the browser tests will be skipped"
        exit 0
    fi
fi
echo "install-browser: installing Debian's chromium package"
if $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null; then
    echo "install-browser: $("$CHROMIUM" --version 2>/dev/null || echo "chromium installed at $CHROMIUM")"
else
    echo "install-browser: apt-get could not install chromium; the browser tests will be skipped"
fi
exit 0
