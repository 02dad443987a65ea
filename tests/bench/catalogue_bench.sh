#!/usr/bin/env bash
# The image catalogue's benchmark (issue 12): power-on to the Debian
# installer's /init from the ISO in the catalogue over HTTP, against the same
# kernel and initrd as files over HTTP and over TFTP, BIOS and UEFI, in
# interleaved rounds; and how long a 4 GiB ISO copied into the root takes to
# appear in the catalogue. All of it in network namespaces the test creates
# (tests/pxe_support), qemu on a bridge inside them.
#
#   sudo bash tests/bench/catalogue_bench.sh
#   ROUNDS=5 FIRMWARE=bios sudo -E bash tests/bench/catalogue_bench.sh
#
# Not run by CI. Needs root, qemu, the iPXE and OVMF packages, xorriso,
# isolinux, mtools, dosfstools and debian-installer-12-netboot-amd64 (see
# .ci/install-deps.sh), and about 9 GB free in /tmp for the 4 GiB ISO and its
# copy (both deleted at the end). Prints markdown tables to paste into
# docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
CATALOGUE_BENCH_ROUNDS=${ROUNDS:-3} CATALOGUE_BENCH_FIRMWARE=${FIRMWARE:-both} \
    cargo test --test catalogue_bench -- --ignored --nocapture --test-threads=1
