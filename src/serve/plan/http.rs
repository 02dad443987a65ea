//! The HTTP half of the plan: where `serve`'s HTTP server listens. By
//! default on each served interface's IPv4 address (where DHCP sends
//! clients) and, when they can be bound, its IPv6 addresses, never on
//! interfaces netboot does not serve; `http.listen` in netboot.yaml says
//! exactly where instead, and must take the clients DHCP sends to us.

use std::net::SocketAddr;

use super::{invalid, PlanError};
use crate::config::FileConfig;
use crate::http::listen::{interface_ipv6, parse_listen, url_port};
use crate::net::Ipv4Net;

/// `http.listen` parsed, the port defaulting to `port`; `None` when the
/// file does not say. Every malformed entry is named at its line.
pub fn configured_listen(
    file: &FileConfig,
    port: u16,
) -> Result<Option<Vec<SocketAddr>>, PlanError> {
    let Some(list) = &file.http.listen else {
        return Ok(None);
    };
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for (i, text) in list.iter().enumerate() {
        match parse_listen(text, port) {
            Ok(addr) => out.push(addr),
            Err(e) => problems.push(format!(
                "{}: {e}",
                file.place(&["http", "listen", &i.to_string()])
            )),
        }
    }
    if list.is_empty() {
        problems.push(format!(
            "{}: no address; leave http.listen out to listen on the served interfaces, or give --no-http",
            file.place(&["http", "listen"])
        ));
    }
    if problems.is_empty() {
        Ok(Some(out))
    } else {
        Err(invalid(problems.join("\n")))
    }
}

/// The listen addresses: `http.listen`, which must take every served
/// network's address on one port (DHCP sends clients there), else each
/// network's address on `port`.
pub fn listen(
    file: &FileConfig,
    networks: &[(String, Ipv4Net)],
    port: u16,
) -> Result<Vec<SocketAddr>, PlanError> {
    let Some(listen) = configured_listen(file, port)? else {
        return Ok(networks
            .iter()
            .map(|(_, n)| SocketAddr::new(n.addr.into(), port))
            .collect());
    };
    let ports: Vec<Option<u16>> = networks
        .iter()
        .map(|(_, n)| url_port(&listen, n.addr))
        .collect();
    if let Some(((name, net), _)) = networks.iter().zip(&ports).find(|(_, p)| p.is_none()) {
        return Err(invalid(format!(
            "{}: no address takes {} (netboot's address on {name}, where DHCP sends clients); add {} or 0.0.0.0",
            file.place(&["http", "listen"]),
            net.addr,
            net.addr
        )));
    }
    if ports.windows(2).any(|w| w[0] != w[1]) {
        return Err(invalid(format!(
            "{}: the served interfaces' addresses are on different ports; use one port for all (DHCP hands out one)",
            file.place(&["http", "listen"])
        )));
    }
    Ok(listen)
}

/// The served interfaces' IPv6 addresses on `port`, when `http.listen`
/// does not say where to listen.
pub fn also_listen(
    file: &FileConfig,
    networks: &[(String, Ipv4Net)],
    port: u16,
) -> Vec<SocketAddr> {
    if file.http.listen.is_some() {
        return Vec::new();
    }
    let names: Vec<String> = networks.iter().map(|(n, _)| n.clone()).collect();
    interface_ipv6(&names, port)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn file(text: &str) -> FileConfig {
        FileConfig::parse(Path::new("netboot.yaml"), text).unwrap()
    }

    fn nets() -> Vec<(String, Ipv4Net)> {
        let addr = "10.0.0.1".parse().unwrap();
        vec![("eth1".into(), Ipv4Net { addr, prefix: 24 })]
    }

    #[test]
    fn by_default_the_served_addresses_and_http_listen_when_given() {
        let got = listen(&file("root: r\n"), &nets(), 80).unwrap();
        assert_eq!(got, ["10.0.0.1:80".parse().unwrap()]);
        let f = file("http:\n  listen: [\"10.0.0.1\", \"[::]:8081\"]\n");
        let got = listen(&f, &nets(), 80).unwrap();
        let want: Vec<SocketAddr> =
            vec!["10.0.0.1:80".parse().unwrap(), "[::]:8081".parse().unwrap()];
        assert_eq!(got, want);
        assert!(also_listen(&f, &nets(), 80).is_empty());
    }

    #[test]
    fn bad_entries_and_unreachable_clients_are_named_at_their_line() {
        let err = listen(
            &file("http:\n  listen:\n    - 10.0.0.1\n    - banana\n"),
            &nets(),
            80,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("netboot.yaml:4:7: http.listen.1: \"banana\" is not"),
            "{err}"
        );
        let err = listen(&file("http:\n  listen: [\"127.0.0.1\"]\n"), &nets(), 80)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("http.listen: no address takes 10.0.0.1"),
            "{err}"
        );
        assert!(err.contains("add 10.0.0.1 or 0.0.0.0"), "{err}");
        let err = listen(&file("http:\n  listen: []\n"), &nets(), 80)
            .unwrap_err()
            .to_string();
        assert!(err.contains("no address; leave http.listen out"), "{err}");
    }
}
