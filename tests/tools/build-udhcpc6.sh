#!/usr/bin/env bash
# Builds busybox's DHCPv6 client, udhcpc6, from Debian's own busybox source
# package and installs it as /usr/local/bin/busybox-udhcpc6 (run it as
# `busybox-udhcpc6 udhcpc6 ARGS`). Debian 12's busybox and busybox-static
# are built without that applet; tests/serve_dhcp6_udhcpc6.rs drives it.
#
# The binary holds udhcpc6 and nothing much else (allnoconfig plus the
# applet and its IPv6 features). Debian's busybox is left alone. The source
# is unpacked and built in $UDHCPC6_BUILD_DIR (outside the repository) and
# removed once installed, unless UDHCPC6_KEEP_BUILD=1. Idempotent: when the
# installed binary runs its applet, nothing is done (remove it to rebuild).
#
#   sudo tests/tools/build-udhcpc6.sh
#   UDHCPC6_BIN=/elsewhere/busybox-udhcpc6 (the tests read it too)
#
# Needs root (apt, /usr/local/bin), dpkg-dev and build-essential.
set -euo pipefail

BIN=${UDHCPC6_BIN:-/usr/local/bin/busybox-udhcpc6}
BUILD_DIR=${UDHCPC6_BUILD_DIR:-/var/cache/netboot-udhcpc6}
SOURCES=/etc/apt/sources.list.d/netboot-busybox-src.sources
STAMP="$BIN.source"

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "build-udhcpc6: run as root (or install sudo)" >&2; exit 1; }
    SUDO=(sudo)
fi

has_applet() { "$BIN" udhcpc6 --help 2>&1 | grep -c 'Usage: udhcpc6' || true; }

# Fast path: the binary is there, runs its applet, and says which source
# it came from.
if [ -x "$BIN" ] && [ -s "$STAMP" ] && [ "$(has_applet)" != 0 ]; then
    echo "build-udhcpc6: $BIN is there ($(cat "$STAMP")); remove it to rebuild"
    exit 0
fi

# Debian's source for bookworm main, from the mirror the packages come from,
# in a file of its own; only that source is refreshed.
if [ ! -f "$SOURCES" ]; then
    "${SUDO[@]}" tee "$SOURCES" >/dev/null <<'EOF'
# busybox's source for tests/tools/build-udhcpc6.sh (netboot's test suite)
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
fi
"${SUDO[@]}" apt-get -q -o DPkg::Lock::Timeout=300 update \
    -o Dir::Etc::sourcelist="$SOURCES" -o Dir::Etc::sourceparts=- \
    -o APT::Get::List-Cleanup=0

"${SUDO[@]}" mkdir -p "$BUILD_DIR"
cd "$BUILD_DIR"
"${SUDO[@]}" rm -rf busybox-*/ busybox_*
"${SUDO[@]}" apt-get -q source busybox
SRC=$(find . -maxdepth 1 -type d -name 'busybox-*' | head -n 1)
[ -n "$SRC" ] || { echo "build-udhcpc6: apt-get source busybox left no busybox-* directory in $BUILD_DIR" >&2; exit 1; }
VERSION=$(cd "$SRC" && dpkg-parsechangelog -S Version)
cd "$SRC"

# Nothing but the applet: allnoconfig, then udhcpc6 and what it needs.
"${SUDO[@]}" make -s allnoconfig >/dev/null
enable() {
    local key
    for key in "$@"; do
        "${SUDO[@]}" sed -i -e "s/^# CONFIG_$key is not set\$/CONFIG_$key=y/" .config
        grep -q "^CONFIG_$key=y\$" .config \
            || printf 'CONFIG_%s=y\n' "$key" | "${SUDO[@]}" tee -a .config >/dev/null
    done
}
enable BUSYBOX FEATURE_IPV6 UDHCPC6 FEATURE_UDHCPC6_RFC3646 FEATURE_UDHCPC6_RFC4704 \
    FEATURE_UDHCPC6_RFC4833 FEATURE_UDHCPC6_RFC5970 SHOW_USAGE FEATURE_VERBOSE_USAGE LONG_OPTS
# Options the above brought in are asked for: take their defaults.
{ yes "" || true; } | "${SUDO[@]}" make -s oldconfig >/dev/null
grep -q '^CONFIG_UDHCPC6=y$' .config \
    || { echo "build-udhcpc6: CONFIG_UDHCPC6 did not survive oldconfig in $BUILD_DIR/$SRC/.config" >&2; exit 1; }
"${SUDO[@]}" make -s -j"$(nproc)" busybox >/dev/null

"${SUDO[@]}" install -m 755 busybox "$BIN"
echo "busybox $VERSION" | "${SUDO[@]}" tee "$STAMP" >/dev/null
[ "$(has_applet)" != 0 ] || { echo "build-udhcpc6: $BIN has no udhcpc6 applet" >&2; exit 1; }
echo "build-udhcpc6: installed $BIN (busybox $VERSION, udhcpc6 only)"
if [ "${UDHCPC6_KEEP_BUILD:-0}" != 1 ]; then
    cd /
    "${SUDO[@]}" rm -rf "$BUILD_DIR"
fi
