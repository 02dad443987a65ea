//! Unicast replies to clients that have no address yet (RFC 2131 §4.1):
//! before an OFFER or ACK goes to yiaddr, the kernel has to know which
//! hardware address that IP belongs to, and it cannot ask by ARP (the client
//! does not answer for an address it does not have). So, as dnsmasq does, the
//! shell writes the entry yiaddr → chaddr into the ARP cache of the receiving
//! interface (`SIOCSARP`, a completed but not permanent entry), then sends to
//! yiaddr:68. Needs CAP_NET_ADMIN and the interface's name; the caller
//! broadcasts when this fails or no interface is configured.

use std::io;
use std::net::Ipv4Addr;
use std::os::fd::AsRawFd;

use crate::mac::MacAddr;

/// Longest interface name the kernel takes (`IFNAMSIZ` minus the NUL).
const MAX_IFNAME: usize = 15;

/// Adds (or refreshes) the ARP cache entry `ip` → `mac` on `device`,
/// through the socket `sock` (any AF_INET socket of the right network
/// namespace).
pub fn insert(sock: &impl AsRawFd, device: &str, ip: Ipv4Addr, mac: MacAddr) -> io::Result<()> {
    let req = request(device, ip, mac)?;
    // SAFETY: a valid fd, SIOCSARP and a pointer to a live, initialised
    // arpreq, which the kernel only reads.
    let rc = unsafe {
        libc::ioctl(
            sock.as_raw_fd(),
            libc::SIOCSARP as libc::Ioctl,
            &req as *const libc::arpreq,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The `arpreq` for `ip` at `mac` on `device`, flagged `ATF_COM`.
fn request(device: &str, ip: Ipv4Addr, mac: MacAddr) -> io::Result<libc::arpreq> {
    // SAFETY: arpreq is a plain C struct of integers and byte arrays, for
    // which all zero bytes is a valid value.
    let mut req: libc::arpreq = unsafe { std::mem::zeroed() };
    let pa = libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: 0,
        sin_addr: libc::in_addr {
            s_addr: u32::from(ip).to_be(),
        },
        sin_zero: [0; 8],
    };
    // SAFETY: both are 16-byte plain C structs (transmute checks the size);
    // sockaddr_in is the AF_INET form of sockaddr, as the kernel reads arp_pa.
    req.arp_pa = unsafe { std::mem::transmute::<libc::sockaddr_in, libc::sockaddr>(pa) };
    req.arp_ha.sa_family = libc::ARPHRD_ETHER;
    for (slot, byte) in req.arp_ha.sa_data.iter_mut().zip(mac.octets()) {
        *slot = byte as libc::c_char;
    }
    req.arp_flags = libc::ATF_COM;
    if device.is_empty() || device.len() > MAX_IFNAME || device.as_bytes().contains(&0) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("interface name {device:?} is not a valid Linux interface name"),
        ));
    }
    for (slot, byte) in req.arp_dev.iter_mut().zip(device.bytes()) {
        *slot = byte as libc::c_char;
    }
    Ok(req)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_carries_address_mac_flags_and_device() {
        let mac = MacAddr([0x52, 0x54, 0, 0x12, 0x34, 0x56]);
        let req = request("vs0", Ipv4Addr::new(10, 231, 0, 42), mac).unwrap();
        // SAFETY: arp_pa was written as a sockaddr_in of the same size.
        let pa: libc::sockaddr_in = unsafe { std::mem::transmute(req.arp_pa) };
        assert_eq!(pa.sin_family, libc::AF_INET as libc::sa_family_t);
        assert_eq!(u32::from_be(pa.sin_addr.s_addr), 0x0ae7_002a);
        assert_eq!(req.arp_ha.sa_family, libc::ARPHRD_ETHER);
        let ha: Vec<u8> = req.arp_ha.sa_data[..6].iter().map(|&b| b as u8).collect();
        assert_eq!(ha, mac.octets());
        assert_eq!(req.arp_flags, libc::ATF_COM);
        let dev: Vec<u8> = req.arp_dev.iter().map(|&b| b as u8).collect();
        assert_eq!(&dev[..4], b"vs0\0");
    }

    #[test]
    fn overlong_interface_name_is_refused_before_the_kernel_sees_it() {
        let mac = MacAddr([2, 0, 0, 0, 0, 1]);
        for bad in ["a-very-long-interface", "", "a\0b"] {
            let err = request(bad, Ipv4Addr::LOCALHOST, mac).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{bad:?}");
        }
    }
}
