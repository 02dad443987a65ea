//! Where the HTTP server listens: `[ADDRESS][:PORT]` as admins write it
//! (`netboot http --address`, `http.listen` in netboot.yaml), which listen
//! address a client's URL can use, and the IPv6 addresses of the served
//! interfaces (`serve` listens there too unless `http.listen` says where).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6};

/// `[ADDRESS][:PORT]` (`0.0.0.0:80`, `:8080`, `[::1]:8080`, `127.0.0.1`,
/// `fe80::1%eth0` is not accepted: name the interface with `serve`), the
/// port defaulting to `default_port`. The error is the reason.
pub fn parse_listen(text: &str, default_port: u16) -> Result<SocketAddr, String> {
    let bad = || format!("{text:?} is not [ADDRESS][:PORT] (e.g. 0.0.0.0:80, [::]:8080, 10.0.0.1)");
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    if let Ok(ip) = text.trim_matches(['[', ']']).parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, default_port));
    }
    let (host, port) = text.rsplit_once(':').ok_or_else(bad)?;
    let port = port.parse().map_err(|_| bad())?;
    let ip = match host.trim_matches(['[', ']']) {
        "" => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        "localhost" => IpAddr::V4(Ipv4Addr::LOCALHOST),
        other => other.parse().map_err(|_| bad())?,
    };
    Ok(SocketAddr::new(ip, port))
}

/// Whether a socket bound to `listen` accepts connections to `ip`: the
/// same address, or the wildcard of its family (`[::]` takes IPv4 too).
pub fn covers(listen: &SocketAddr, ip: IpAddr) -> bool {
    match listen.ip() {
        IpAddr::V6(any) if any.is_unspecified() => true,
        IpAddr::V4(any) if any.is_unspecified() => ip.is_ipv4(),
        own => own == ip,
    }
}

/// The port a client reaching us at `ip` is sent to: that of the first
/// listen address that covers `ip`.
pub fn url_port(listen: &[SocketAddr], ip: Ipv4Addr) -> Option<u16> {
    listen
        .iter()
        .find(|a| covers(a, ip.into()))
        .map(SocketAddr::port)
}

/// The IPv6 addresses (global, unique local and link-local, the last with
/// their interface as scope) of the interfaces `names`, on `port`.
pub fn interface_ipv6(names: &[String], port: u16) -> Vec<SocketAddr> {
    let Ok(all) = nix::ifaddrs::getifaddrs() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for ifa in all.filter(|i| names.contains(&i.interface_name)) {
        let Some(v6) = ifa.address.as_ref().and_then(|a| a.as_sockaddr_in6()) else {
            continue;
        };
        let ip = v6.ip();
        let link_local = ip.segments()[0] & 0xffc0 == 0xfe80;
        let scope = if link_local { v6.scope_id() } else { 0 };
        let addr = SocketAddr::V6(SocketAddrV6::new(ip, port, 0, scope));
        if !ip.is_loopback() && !ip.is_multicast() && !out.contains(&addr) {
            out.push(addr);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_as_admins_write_them() {
        let p = |t| parse_listen(t, 80).unwrap().to_string();
        assert_eq!(p(":8080"), "[::]:8080");
        assert_eq!(p("10.0.0.1"), "10.0.0.1:80");
        assert_eq!(p("[fd00::1]"), "[fd00::1]:80");
        assert_eq!(p("fd00::1"), "[fd00::1]:80");
        assert_eq!(p("[::]:81"), "[::]:81");
        assert_eq!(p("localhost:81"), "127.0.0.1:81");
        let err = parse_listen("banana:x", 80).unwrap_err();
        assert!(
            err.contains("\"banana:x\" is not [ADDRESS][:PORT]"),
            "{err}"
        );
        assert!(parse_listen("10.0.0.1:99999", 80).is_err());
    }

    #[test]
    fn the_url_port_is_that_of_the_address_that_takes_the_client() {
        let l = |t: &str| parse_listen(t, 80).unwrap();
        let ip: Ipv4Addr = "10.0.0.1".parse().unwrap();
        assert_eq!(
            url_port(&[l("127.0.0.1:81"), l("10.0.0.1:82")], ip),
            Some(82)
        );
        assert_eq!(url_port(&[l("0.0.0.0:83")], ip), Some(83));
        assert_eq!(url_port(&[l("[::]:84")], ip), Some(84));
        assert_eq!(url_port(&[l("[fd00::1]:85"), l("10.0.0.2")], ip), None);
        assert!(!covers(&l("0.0.0.0"), "fd00::1".parse().unwrap()));
    }
}
