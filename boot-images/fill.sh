#!/usr/bin/env bash
# Fills boot-images/ with the boot loaders Debian packages ship, so a fresh
# checkout can PXE-boot BIOS and UEFI machines. Nothing here is committed:
# the files come from the packages pxelinux, syslinux-common and ipxe.
#
#   sudo boot-images/fill.sh            # installs the packages if missing
#   boot-images/fill.sh --no-install    # only copies what is installed
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
install=1
[ "${1:-}" = "--no-install" ] && install=0

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
echo "done"
