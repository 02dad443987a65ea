#!/usr/bin/env bash
# Fills boot-images/ with the boot loaders Debian packages ship, so a fresh
# checkout can PXE-boot BIOS and UEFI machines, with Secure Boot on or off.
# Nothing here is committed: the files come from the packages pxelinux,
# syslinux-common and ipxe, and Debian's signed shim and GRUB (shim-signed,
# grub-efi-amd64-signed, or the Debian installer's netboot packages).
#
#   sudo boot-images/fill.sh                 # installs the packages if missing
#   boot-images/fill.sh --no-install         # only copies what is installed
#   boot-images/fill.sh [--no-install] DIR   # fills DIR instead
#
# Running it again copies the same files again (it is idempotent). It never
# writes a grub.cfg: netboot generates the one the signed GRUB reads.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
install=1
if [ "${1:-}" = "--no-install" ]; then install=0; shift; fi
if [ -n "${1:-}" ]; then mkdir -p "$1"; here=$(cd "$1" && pwd); fi

need=()
[ -f /usr/lib/PXELINUX/pxelinux.0 ] || need+=(pxelinux)
[ -f /usr/lib/syslinux/modules/bios/ldlinux.c32 ] || need+=(syslinux-common)
[ -f /usr/lib/ipxe/undionly.kpxe ] || need+=(ipxe)
if [ ${#need[@]} -gt 0 ]; then
  if [ $install -eq 1 ] && [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}"
  else
    echo "missing packages: ${need[*]} (run as root to install them, or apt-get install them)" >&2
    exit 1
  fi
fi

copy() { install -m 0644 "$1" "$here/$2"; echo "  $2  <- $1"; }
echo "filling $here"
copy /usr/lib/PXELINUX/pxelinux.0 pxelinux.0
for m in ldlinux.c32 libcom32.c32 libutil.c32 menu.c32 vesamenu.c32; do
  [ -f /usr/lib/syslinux/modules/bios/$m ] && copy /usr/lib/syslinux/modules/bios/$m $m
done
copy /usr/lib/ipxe/undionly.kpxe undionly.kpxe
[ -f /usr/lib/ipxe/ipxe.efi ] && copy /usr/lib/ipxe/ipxe.efi ipxe.efi
[ -f /usr/lib/ipxe/snponly.efi ] && copy /usr/lib/ipxe/snponly.efi snponly.efi
mkdir -p "$here/pxelinux.cfg"
if [ ! -f "$here/pxelinux.cfg/default" ]; then
  cat > "$here/pxelinux.cfg/default" <<'CFG'
SERIAL 0 115200
DEFAULT local
PROMPT 0
TIMEOUT 50
SAY netboot: PXELINUX loaded its default configuration
LABEL local
  LOCALBOOT 0
CFG
  chmod 0644 "$here/pxelinux.cfg/default"
  echo "  pxelinux.cfg/default (boots the local disk)"
fi

# Debian's signed Secure Boot chain: shim (signed by Microsoft's UEFI CA)
# and GRUB's netboot image (signed by Debian), under the names shim asks
# for: it loads grubx64.efi / grubaa64.efi from the TFTP root. Packages are
# never installed for this (the scripts of shim-signed and GRUB's signed
# packages may try to install a boot loader on this machine): the files come
# from what is installed, else from `apt-get download` + `dpkg-deb -x` into
# a temporary directory.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
host_arch=$(dpkg --print-architecture 2>/dev/null || echo unknown)

# pair BASE ARCH SHIM_OUT GRUB_OUT: copies the first signed pair under BASE
# (the packages' files, else the Debian installer's netboot files).
pair() {
  local base=$1 arch=$2 shim_out=$3 grub_out=$4 efi=${3#shim}
  local di=$base/usr/lib/debian-installer/images/12/$arch/text/debian-installer/$arch
  local grub_dir=$base/usr/lib/grub/${5}-efi-signed
  local candidates=(
    "$base/usr/lib/shim/shim$efi.signed" "$grub_dir/grubnet$efi.signed"
    "$di/bootnet$efi" "$di/$grub_out"
  )
  local i
  for i in 0 2; do
    if [ -f "${candidates[$i]}" ] && [ -f "${candidates[$((i + 1))]}" ]; then
      copy "${candidates[$i]}" "$shim_out"
      copy "${candidates[$((i + 1))]}" "$grub_out"
      return 0
    fi
  done
  return 1
}

# signed ARCH GRUB_CPU SHIM_OUT GRUB_OUT: from this machine, else unpacked
# from Debian's packages (the shim and GRUB packages for this machine's
# architecture, the installer's netboot package, Architecture: all, for the
# other).
signed() {
  local arch=$1 cpu=$2 shim_out=$3 grub_out=$4
  pair "" "$arch" "$shim_out" "$grub_out" "$cpu" && return 0
  if [ $install -eq 1 ] && [ "$(id -u)" -eq 0 ]; then
    local debs=$scratch/$arch/debs
    local pkgs=(debian-installer-12-netboot-$arch)
    [ "$host_arch" = "$arch" ] && pkgs=(shim-signed "grub-efi-$arch-signed")
    mkdir -p "$debs" && chown _apt "$debs" 2>/dev/null || true
    if (cd "$debs" && apt-get download "${pkgs[@]}" >/dev/null 2>&1); then
      for deb in "$debs"/*.deb; do dpkg-deb -x "$deb" "$scratch/$arch"; done
      pair "$scratch/$arch" "$arch" "$shim_out" "$grub_out" "$cpu" && return 0
    fi
  fi
  echo "  no signed shim and GRUB for $arch: Secure Boot machines of that kind will not boot" \
    "(apt-get install debian-installer-12-netboot-$arch, or run as root without --no-install)" >&2
}
signed amd64 x86_64 shimx64.efi grubx64.efi
signed arm64 arm64 shimaa64.efi grubaa64.efi
echo "done"
