#!/usr/bin/env python3
"""Writes the hand-made seed corpus of every fuzz target into
corpus/<target>/seed_*. For the structured targets (tftp_sender,
tftp_receiver, tftp_netascii) the bytes follow the encoding of the
`arbitrary` crate's derive (little-endian integers, a u32 picking the enum
variant, a `true` byte before each element of a list), so a seed decodes to
the events written here. Re-run it after changing the input types of those
targets, and keep the variant lists below in step with them.
"""
import os
import shutil
import struct
import subprocess
import tempfile

SENDER = ["PushFull", "PushShort", "Ack", "AckNear", "Error", "Illegal", "Abort",
          "Advance", "Timeout", "FireTimer", "FireAll", "Poll", "Drain", "Run", "Wrap"]
RECEIVER = ["Data", "Next", "Near", "CommitOk", "CommitErr", "Error", "Abort", "Advance",
            "Timeout", "FireTimer", "FireAll", "Poll", "Drain", "Write", "Run", "Wrap"]
WRAP_MAGIC = 0x5AA5


def u8(x): return bytes([x & 0xFF])
def u16(x): return struct.pack("<H", x)
def flag(b): return u8(1 if b else 0)


def variant(names, name):
    k, n = names.index(name), len(names)
    return struct.pack("<I", (k * 2**32 + n - 1) // n)


def events(names, evs):
    out = b""
    for name, payload in evs:
        out += b"\x01" + variant(names, name) + payload
    return out + b"\x00"


def blk(size):
    """A Cfg.blksize value that the targets map to `size` (8 + x % 1493)."""
    return size - 8


def sender_cfg(blksize, window, rollover_one=False, oack=False, give_up=3000):
    return (u16(blk(blksize)) + u8(window) + flag(rollover_one) + flag(oack)
            + u16(1000) + u8(9) + u16(1000) + u16(give_up) + u8(64) + u8(64))


def receiver_cfg(blksize, window, rollover_one=False, oack=False, dally=2000):
    return (u16(blk(blksize)) + u8(window) + flag(rollover_one) + flag(oack)
            + u16(1000) + u8(9) + u16(1000) + u16(5000) + u16(dally))


def write(target, name, data):
    os.makedirs(f"corpus/{target}", exist_ok=True)
    with open(f"corpus/{target}/seed_{name}", "wb") as f:
        f.write(data)


def byte_list(data):
    return b"".join(b"\x01" + u8(b) for b in data) + b"\x00"


def request_header(flags, max_blksize=65464, max_window=64, mtu=1400, size_k=12):
    return u8(flags) + struct.pack(">HHHH", max_blksize, max_window, mtu, size_k)


def parsers():
    p = "tftp_packet"
    write(p, "rrq_uefi_probe",
          b"\x00\x01bootx64.efi\x00octet\x00tsize\x000\x00blksize\x001468\x00windowsize\x004\x00")
    write(p, "rrq_padded", b"\x00\x01pxelinux.0\x00OCTET\x00\x00\x00\x00\x00")
    write(p, "wrq_options",
          b"\x00\x02up/img.bin\x00octet\x00tsize\x004096\x00timeout\x003\x00rollover\x001\x00")
    write(p, "rrq_netascii", b"\x00\x01pxelinux.cfg/default\x00netascii\x00")
    write(p, "data", b"\x00\x03\x00\x07hello world")
    write(p, "ack_extra", b"\x00\x04\xff\xff\x00\x00")
    write(p, "error_no_nul", b"\x00\x05\x00\x08User aborted the transfer")
    write(p, "error_bad_utf8", b"\x00\x05\x00\x01\xff\xfeno\x00trailing")
    write(p, "oack", b"\x00\x06tsize\x0012345\x00blksize\x001468\x00")

    # tftp_request: 9 header bytes, the request body, then "\n#MAP\n" and a map file.
    q = "tftp_request"
    write(q, "uefi_probe", request_header(0)
          + b"bootx64.efi\x00octet\x00tsize\x000\x00blksize\x001468\x00windowsize\x004\x00")
    write(q, "mtu_refused", request_header(0b00101010, 1024, 8, 1200)
          + b"/grub/grub.cfg\x00octet\x00BLKSIZE\x0065464\x00tsize\x000\x00")
    write(q, "write_map", request_header(1 | 4)
          + b"\\Boot\\BCD\x00octet\x00timeout\x000\x00timeout\x005\x00rollover\x001\x00"
          + b"\n#MAP\nrg \\\\ /\nr ^/tftpboot/ /\nri ^(.*)\\.CFG$ hosts/\\x/\\1.cfg # per host\n")
    write(q, "dotdot", request_header(0)
          + b"../etc/passwd\x00octet\x00\n#MAP\nrs ^ x\naP ^secret\nre ^a b\n")
    write(q, "dots_slashes", request_header(0)
          + b"//./a//b/./c/\x00netascii\x00windowsize\x00+7\x00")

    # tftp_netascii: splits, also_as_wire, data.
    n = "tftp_netascii"
    write(n, "text", byte_list([3, 1, 0, 7]) + flag(False) + byte_list(b"line one\nline\rtwo\r\n"))
    write(n, "wire", byte_list([1]) + flag(True) + byte_list(b"a\r\nb\r\x00c\rd\r"))


def ipv4_udp(src, dst, sport, dport, payload):
    udp = struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload
    return (struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                        bytes(src), bytes(dst)) + udp)


def der(tag, body):
    n = len(body)
    head = bytes([n]) if n < 0x80 else (bytes([0x81, n]) if n < 0x100 else bytes([0x82, n >> 8, n & 0xFF]))
    return bytes([tag]) + head + body


def pkcs7(cn):
    """A PKCS#7 SignedData whose signer was issued by CN `cn` (no real certificate)."""
    name = der(0x30, der(0x31, der(0x30, der(0x06, b"\x55\x04\x03") + der(0x0C, cn.encode()))))
    signer = der(0x30, der(0x02, b"\x01") + der(0x30, name + der(0x02, b"\x07")))
    signed = der(0x30, der(0x02, b"\x01") + der(0x31, b"") + der(0x30, der(0x06, b"\x2b\x06\x01"))
                 + der(0xA0, der(0x30, b"certificate")) + der(0x31, signer))
    oid = der(0x06, bytes([0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x02]))
    return der(0x30, oid + der(0xA0, signed))


def pe_image(machine, cn=None, magic=0x20B):
    """A PE32+ (or PE32) header, 0x200 bytes of body and, with `cn`, a WIN_CERTIFICATE."""
    b = bytearray(0x200)
    b[0:2] = b"MZ"
    b[0x3C:0x40] = struct.pack("<I", 0x80)
    b[0x80:0x84] = b"PE\0\0"
    b[0x84:0x86] = struct.pack("<H", machine)
    b[0x94:0x96] = struct.pack("<H", 240)
    opt = 0x98
    b[opt:opt + 2] = struct.pack("<H", magic)
    count, dirs = (108, 112) if magic == 0x20B else (92, 96)
    b[opt + count:opt + count + 4] = struct.pack("<I", 16)
    if cn is not None:
        cert = pkcs7(cn)
        entry = struct.pack("<IHH", 8 + len(cert), 0x0200, 0x0002) + cert
        entry += bytes(-len(entry) % 8)
        b[opt + dirs + 32:opt + dirs + 40] = struct.pack("<II", len(b), len(entry))
        b += entry
    return bytes(b)


def pe_signature():
    t = "pe_signature"
    write(t, "signed_shim", pe_image(0x8664, "Microsoft Corporation UEFI CA 2011"))
    write(t, "signed_arm64", pe_image(0xAA64, "Debian Secure Boot CA"))
    write(t, "unsigned", pe_image(0x8664))
    write(t, "pe32_signed", pe_image(0x14C, "Fedora Secure Boot CA", magic=0x10B))
    write(t, "pkcs7_alone", pkcs7("Canonical Ltd. Master Certificate Authority"))
    write(t, "gzip_kernel", b"\x1f\x8b\x08\x00" + bytes(60))


def recognise_tree():
    """Trees as `path\\0contents` entries joined by 0xFF; `#path` entries are sizes."""
    t = "recognise_tree"

    def tree(*entries):
        return b"\xff".join(entries)

    def sized(path, size):
        return b"#" + path + b"\0" + struct.pack("<Q", size)

    shim = pe_image(0x8664, "Microsoft Corporation UEFI CA 2011")
    signed = pe_image(0x8664, "Debian Secure Boot CA")
    write(t, "debian_netinst", tree(
        b".disk/info\0Debian GNU/Linux 12.8.0 \"Bookworm\" - Official amd64 NETINST",
        b"EFI/boot/bootx64.efi\0" + shim, b"EFI/boot/grubx64.efi\0" + signed,
        b"install.amd/vmlinuz\0" + signed, sized(b"install.amd/initrd.gz", 19_000_000),
        b"isolinux/txt.cfg\0label install\n\tkernel /install.amd/vmlinuz\n"
        b"\tappend vga=788 initrd=/install.amd/initrd.gz --- quiet\n"))
    write(t, "ubuntu_server", tree(
        b".disk/info\0Ubuntu-Server 24.04.1 LTS \"Noble Numbat\" - Release amd64 (20240827)",
        b"boot/grub/grub.cfg\0menuentry \"Try or Install Ubuntu Server\" {\n"
        b"\tlinux\t/casper/vmlinuz  ---\n\tinitrd\t/casper/initrd\n}\n",
        b"casper/vmlinuz\0" + signed, sized(b"casper/initrd", 70_000_000)))
    write(t, "rocky_treeinfo", tree(
        b".treeinfo\0[release]\nname = Rocky Linux\nversion = 9.5\n[images-x86_64]\n"
        b"kernel = images/pxeboot/vmlinuz\ninitrd = images/pxeboot/initrd.img\n",
        b"images/pxeboot/vmlinuz\0" + signed, sized(b"images/pxeboot/initrd.img", 100_000_000),
        sized(b"BaseOS/repodata/repomd.xml", 4000)))
    write(t, "arch_alpine_windows", tree(
        sized(b"arch/boot/x86_64/vmlinuz-linux", 14_000_000),
        sized(b"arch/boot/x86_64/initramfs-linux.img", 130_000_000),
        sized(b"arch/x86_64/airootfs.sfs", 860_000_000),
        b".alpine-release\03.20.3 240906\n", sized(b"boot/vmlinuz-lts", 1),
        sized(b"boot/initramfs-lts", 1), sized(b"boot/modloop-lts", 1),
        sized(b"BOOTMGR", 1), sized(b"BOOT/BCD", 1), sized(b"BOOT/BOOT.SDI", 1),
        sized(b"SOURCES/BOOT.WIM", 1)))
    write(t, "directory", tree(b"linux\0" + signed, sized(b"initrd.gz", 30_000_000)))


def link_frames():
    n = "link_frames"
    mac = bytes([0x52, 0x54, 0, 0x12, 0x34, 0x56])
    # An ARP reply from the probed address (the selector byte comes first).
    arp = struct.pack(">HHBBH", 1, 0x0800, 6, 4, 2) + mac + bytes([10, 42, 0, 1]) \
        + bytes([2, 0, 0, 0, 0, 1]) + bytes([0, 0, 0, 0])
    write(n, "arp_reply", u8(0) + arp)
    # A foreign DHCPOFFER to port 68 (xid 0x01020304, server id 192.168.1.1).
    bootp = bytes([2, 1, 6, 0]) + struct.pack(">I", 0x01020304) + bytes(8) \
        + bytes([192, 168, 1, 50]) + bytes([192, 168, 1, 1]) + bytes(4) \
        + mac + bytes(10) + bytes(192) + bytes([99, 130, 83, 99]) \
        + bytes([53, 1, 2, 54, 4, 192, 168, 1, 1, 255])
    write(n, "dhcp_offer", u8(1) + ipv4_udp([192, 168, 1, 1], [255] * 4, 67, 68, bootp))
    # An ICMP echo reply as a raw socket sees it (IP header first).
    icmp = bytes([0, 0, 0, 0, 0x01, 0x5a, 0, 1])
    raw = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 28, 0, 0, 64, 1, 0, bytes([10, 42, 0, 1]),
                      bytes([10, 42, 0, 2])) + icmp
    write(n, "echo_reply_raw", u8(1) + raw)


def iso_images():
    """Small ISO images built with xorriso (Debian package xorriso): Rock
    Ridge + Joliet with a BIOS and an EFI El Torito entry, Joliet only,
    plain ISO 9660. About 90 KiB each (the 32 KiB system area is zeros)."""
    if shutil.which("xorriso") is None:
        raise SystemExit("make_seeds: xorriso is needed for the iso_image seeds (apt-get install xorriso)")
    with tempfile.TemporaryDirectory() as tmp:
        tree = os.path.join(tmp, "tree")
        files = {"install.amd/vmlinuz": b"kernel\n", "install.amd/initrd.gz": b"initrd\n",
                 "boot/grub/Grub Config.cfg": b"menuentry\n", "boot/grub/eltorito.img": b"B" * 2048,
                 "EFI/boot/efi.img": b"E" * 4096}
        for path, data in files.items():
            os.makedirs(os.path.dirname(os.path.join(tree, path)), exist_ok=True)
            with open(os.path.join(tree, path), "wb") as f:
                f.write(data)
        boot = ["-b", "boot/grub/eltorito.img", "-c", "boot/boot.cat", "-no-emul-boot",
                "-boot-load-size", "4", "-eltorito-alt-boot", "-e", "EFI/boot/efi.img", "-no-emul-boot"]
        for name, args in [("rockridge_joliet_eltorito", ["-R", "-J"] + boot),
                           ("joliet", ["--norock", "-J"]), ("plain", ["--norock"])]:
            out = os.path.join(tmp, name + ".iso")
            subprocess.run(["xorriso", "-as", "mkisofs", "-no-pad", "-V", "SEED", "-o", out]
                           + args + [tree], check=True, capture_output=True)
            with open(out, "rb") as f:
                write("iso_image", name, f.read())


def multi_extent_iso():
    """A hand-built plain ISO 9660 image whose file BIG.BIN is stored as
    three directory records (ECMA-119 9.1.6, flag bit 7 on all but the
    last), its extents out of order; as the reader's unit test builds it
    (src/catalogue/iso/multi_extent_tests.rs). 26 sectors, 52 KiB."""
    S, root, sectors = 2048, 20, 26
    both32 = lambda v: struct.pack("<I", v) + struct.pack(">I", v)
    both16 = lambda v: struct.pack("<H", v) + struct.pack(">H", v)

    def record(name, sector, length, flags):
        size = 33 + len(name) + (len(name) + 1) % 2
        r = bytearray(size)
        r[0] = size
        r[2:10], r[10:18] = both32(sector), both32(length)
        r[18:25] = bytes([126, 1, 1, 0, 0, 0, 0])
        r[25], r[28:32], r[32] = flags, both16(1), len(name)
        r[33:33 + len(name)] = name
        return bytes(r)

    img = bytearray(sectors * S)
    d = bytearray(S)
    d[0], d[1:6], d[6] = 1, b"CD001", 1
    d[8:72] = b" " * 64
    d[40:48] = b"MULTIEXT"
    d[80:88], d[120:124], d[124:128] = both32(sectors), both16(1), both16(1)
    d[128:132], d[132:140] = both16(S), both32(10)
    d[140:144], d[148:152] = struct.pack("<I", 18), struct.pack(">I", 19)
    d[156:190] = record(b"\0", root, S, 2)
    d[190:813] = b" " * 623
    for at in (813, 830, 847, 864):
        d[at:at + 16] = b"0" * 16
    d[881] = 1
    img[16 * S:17 * S] = d
    img[17 * S:17 * S + 7] = b"\xffCD001\x01"
    img[18 * S:18 * S + 10] = bytes([1, 0]) + struct.pack("<IH", root, 1) + b"\0\0"
    img[19 * S:19 * S + 10] = bytes([1, 0]) + struct.pack(">IH", root, 1) + b"\0\0"
    dirs = record(b"\0", root, S, 2) + record(b"\1", root, S, 2)
    big = [(23, S, 0x80), (21, S, 0x80), (24, 100, 0)]
    dirs += b"".join(record(b"BIG.BIN;1", *e) for e in big) + record(b"SMALL.TXT;1", 25, 5, 0)
    img[root * S:root * S + len(dirs)] = dirs
    for n in range(21, sectors):
        img[n * S:(n + 1) * S] = bytes([ord("A") + n - 21]) * S
    write("iso_image", "multi_extent", bytes(img))


def main():
    os.chdir(os.path.dirname(os.path.abspath(__file__)))
    parsers()
    link_frames()
    pe_signature()
    recognise_tree()
    iso_images()
    multi_extent_iso()
    S, R = SENDER, RECEIVER
    write("tftp_sender", "lockstep", sender_cfg(512, 1) + events(S, [
        ("PushFull", b""), ("Drain", b""), ("Ack", u16(1)), ("PushShort", u16(100)),
        ("Drain", b""), ("Ack", u16(2)), ("Drain", b"")]))
    write("tftp_sender", "oack_window_restart", sender_cfg(16, 4, oack=True) + events(S, [
        ("Drain", b""), ("Ack", u16(0)), ("Run", u8(3)), ("AckNear", u8(0xFE)),
        ("Drain", b""), ("Ack", u16(3)), ("Drain", b""), ("FireTimer", b""), ("Drain", b""),
        ("PushShort", u16(5)), ("Run", u8(10))]))
    write("tftp_sender", "probe_abort", sender_cfg(1468, 4, oack=True) + events(S, [
        ("Poll", b""), ("Error", u16(8)), ("Drain", b"")]))
    write("tftp_sender", "spoofed_gives_up", sender_cfg(512, 8) + events(S, [
        ("PushFull", b""), ("FireAll", b"")]))
    write("tftp_sender", "timeouts_then_dup_acks", sender_cfg(32, 3) + events(S, [
        ("Run", u8(2)), ("Timeout", u16(2000)), ("Drain", b""), ("Ack", u16(2)),
        ("Ack", u16(2)), ("Drain", b""), ("Illegal", b""), ("Drain", b"")]))
    for one in (False, True):
        write("tftp_sender", f"wrap_rollover{int(one)}", sender_cfg(8, 16, rollover_one=one)
              + events(S, [("Wrap", u16(WRAP_MAGIC)), ("PushShort", u16(3)), ("Run", u8(5))]))

    write("tftp_receiver", "lockstep", receiver_cfg(512, 1) + events(R, [
        ("Drain", b""), ("Next", b"\x00" + u8(7)), ("Drain", b""),
        ("Next", b"\x01" + u16(10) + u8(9)), ("Drain", b""), ("Write", b""),
        ("CommitOk", b""), ("Drain", b""), ("Next", b"\x01" + u16(10) + u8(9)),
        ("Drain", b""), ("FireAll", b"")]))
    write("tftp_receiver", "oack_window_gap", receiver_cfg(16, 4, oack=True) + events(R, [
        ("Drain", b""), ("Run", u8(5)), ("Near", u8(2) + u8(1)), ("Drain", b""),
        ("Near", u8(0xFF) + u8(1)), ("Drain", b""), ("Timeout", u16(1500)), ("Drain", b""),
        ("Data", u16(40) + u16(17) + u8(3)), ("Drain", b"")]))
    write("tftp_receiver", "commit_fails", receiver_cfg(64, 2) + events(R, [
        ("Run", u8(4)), ("Next", b"\x01" + u16(0) + u8(1)), ("Drain", b""),
        ("Write", b""), ("CommitErr", b""), ("Drain", b"")]))
    write("tftp_receiver", "silent_client", receiver_cfg(512, 8) + events(R, [
        ("Drain", b""), ("FireAll", b"")]))
    for one in (False, True):
        write("tftp_receiver", f"wrap_rollover{int(one)}", receiver_cfg(8, 8, rollover_one=one)
              + events(R, [("Wrap", u16(WRAP_MAGIC)), ("Next", b"\x01" + u16(3) + u8(0)),
                           ("Drain", b""), ("Write", b""), ("CommitOk", b""), ("FireAll", b"")]))


if __name__ == "__main__":
    main()
