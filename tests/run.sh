#!/usr/bin/env bash
# The test command: installs the real clients, firmware and reference
# servers the integration tests drive (Debian packages), then runs every
# test. Needs root for apt and for the network namespaces of the DHCP and
# PXE tests (they never touch the machine's own interfaces).
#
#   sudo ./tests/run.sh            # everything
#   sudo ./tests/run.sh serve      # only tests whose name matches
#   sudo ./tests/run.sh --firmware # the firmware boot suite (issue 14's
#                                  # cases, netboot and dnsmasq side by side,
#                                  # a table of seconds; ~15 min)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ "${NETBOOT_DEPS_INSTALLED:-0}" != 1 ]; then
    bash .ci/install-deps.sh
fi
if [ "${1:-}" = "--firmware" ]; then
    shift
    exec cargo test --test firmware_suite -- --ignored --nocapture --test-threads=1 "$@"
fi
# The DHCP namespace tests run the dhcp_lab example by its path.
cargo build --examples
cargo test --all-targets "$@"
