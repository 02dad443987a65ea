#!/usr/bin/env bash
# Installs every Debian 12 package the test suite drives: TFTP clients and
# reference servers, DHCP clients and tools, qemu with PXE firmware and boot
# files. Daemons are kept from starting while packages are installed.
set -euo pipefail

PACKAGES=(
    # TFTP clients and reference servers
    tftp-hpa atftp curl busybox tftpd-hpa dnsmasq-base
    # HTTP clients
    wget
    # network namespaces and DHCP clients/tools
    iproute2 isc-dhcp-client udhcpc nmap kea-admin
    # a DHCP relay between namespaces (dhcrelay), for the relayed-pool test
    isc-dhcp-relay
    # rdisc6, the router-advertisement client of the IPv6 tests; python3
    # sends the other router's RA there
    ndisc6 python3
    # network boot in a VM
    qemu-system-x86 ipxe-qemu ovmf ipxe pxelinux syslinux-common
    # ARM64 boots (tests/pxe_boot_arm.rs): AAVMF, U-Boot and mkimage, and
    # Debian's signed arm64 GRUB netboot image
    qemu-system-arm qemu-efi-aarch64 u-boot-qemu u-boot-tools
    debian-installer-12-netboot-arm64
    # a FAT EFI system partition image for the UEFI sanboot test
    dosfstools mtools
    # the Debian installer's kernel and initrd, booted by iPXE over HTTP
    debian-installer-12-netboot-amd64
    # Debian's signed shim and GRUB for ARM64, which boot-images/fill.sh
    # copies (Architecture: all, plain files; amd64's come from the above)
    debian-installer-12-netboot-arm64
    # ARM64 UEFI in a VM (AAVMF), booted through that signed chain
    qemu-system-arm qemu-efi-aarch64
    # ISO images for the image catalogue, laid out and made bootable as
    # Debian makes its own (El Torito BIOS via isolinux, an EFI FAT image)
    xorriso isolinux mtools dosfstools
    # apt-get source and a C toolchain: tests/tools/build-udhcpc6.sh builds
    # busybox's udhcpc6 (Debian's busybox has no such applet) from source
    dpkg-dev build-essential
    # ps, pgrep for the tests' process handling
    procps
    # packet capture for the PXE tests' wire checks
    tcpdump
    # systemd-analyze verify for the units in dist/systemd; setpriv starts
    # serve the way the unit does
    systemd util-linux
    # the status page read by a headless browser; promtool checks /metrics
    chromium prometheus
    # the PostgreSQL lease store: the tests initdb a cluster of their own
    # (the package's default cluster is kept from starting, see policy-rc.d)
    postgresql
)

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "install-deps: run as root (or install sudo)" >&2; exit 1; }
    SUDO=(sudo)
fi

# Keep package scripts from starting daemons (tftpd-hpa would take port
# 69): invoke-rc.d asks /usr/sbin/policy-rc.d, and 101 means "not allowed".
POLICY=/usr/sbin/policy-rc.d
CREATED_POLICY=0
if [ ! -e "$POLICY" ]; then
    printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$POLICY" >/dev/null
    "${SUDO[@]}" chmod 755 "$POLICY"
    CREATED_POLICY=1
fi
cleanup() {
    if [ "$CREATED_POLICY" = 1 ]; then
        "${SUDO[@]}" rm -f "$POLICY"
    fi
}
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=300 update -q
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=300 \
    -o Dpkg::Use-Pty=0 "${PACKAGES[@]}"

# busybox's DHCPv6 client for tests/serve_dhcp6_udhcpc6.rs, built from
# Debian's busybox source (fast when already installed)
bash "$(dirname "${BASH_SOURCE[0]}")/../tests/tools/build-udhcpc6.sh"
