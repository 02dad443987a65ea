//! Per-client TFTP files for `netboot serve`: the TFTP peer's address is
//! looked up in the DHCP leases to find its MAC, and the registry renders
//! that client's files (`SEP<MAC>.cnf.xml`, `pxelinux.cfg/01-<mac>`),
//! applies its path rewrites and says where its uploads go. Files netboot
//! generates for every client (the default iPXE script) are served here too,
//! leased or not (ProxyDHCP clients have no lease of ours).

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use arc_swap::ArcSwap;

use super::menus::{Asker, Menus};
use crate::dhcp::pxe::http_url;
use crate::dhcp::view::LeaseView;
use crate::net::Ipv4Net;
use crate::registry::{ClientFacts, Registry};
use crate::tftp::config::ClientFiles;

/// Registry files for leased clients.
pub struct RegistryFiles {
    /// The current registry.
    pub registry: Arc<ArcSwap<Registry>>,
    /// Who holds which address.
    pub leases: LeaseView,
    /// Our networks, to tell each client the server address it sees.
    pub networks: Vec<Ipv4Net>,
    /// Files netboot wrote for every client: (name in the root, bytes).
    pub generated: Vec<(String, Vec<u8>)>,
    /// Our HTTP server's port, when it runs (`{{ http_url }}`).
    pub http_port: Option<u16>,
    /// The image catalogue's menus and one-shot boots.
    pub menus: Menus,
}

impl RegistryFiles {
    fn facts(&self, client: IpAddr) -> Option<ClientFacts> {
        let ip = match client {
            IpAddr::V4(v4) => v4,
            IpAddr::V6(v6) => v6.to_ipv4_mapped()?,
        };
        let holder = self.leases.holder(ip)?;
        let server_ip = self.server_ip_for(ip);
        let mut facts = ClientFacts::new(holder.mac, ip, server_ip);
        facts.hostname = holder.hostname;
        facts.http_url = self.http_port.map(|port| {
            http_url(server_ip, port, "")
                .trim_end_matches('/')
                .to_string()
        });
        Some(facts)
    }

    /// A menu or the done URL, if `path` names one.
    fn menus_file(&self, client: IpAddr, path: &str) -> Option<Vec<u8>> {
        let mac = self.facts(client).map(|f| f.mac);
        let registry = self.registry.load();
        let asker = Asker {
            mac,
            base_url: self.base_url(client),
            prefs: mac.and_then(|m| registry.menu_prefs(&m)),
        };
        self.menus.file(&asker, path)
    }

    /// Our HTTP base URL as `client` reaches it (`None` without HTTP).
    fn base_url(&self, client: IpAddr) -> Option<String> {
        let port = self.http_port?;
        let ip = match client {
            IpAddr::V4(v4) => Some(v4),
            IpAddr::V6(v6) => v6.to_ipv4_mapped(),
        };
        let server = ip.map_or_else(
            || {
                self.networks
                    .first()
                    .map_or(Ipv4Addr::UNSPECIFIED, |n| n.addr)
            },
            |ip| self.server_ip_for(ip),
        );
        Some(http_url(server, port, ""))
    }

    fn server_ip_for(&self, client: Ipv4Addr) -> Ipv4Addr {
        self.networks
            .iter()
            .find(|n| n.contains(client))
            .or(self.networks.first())
            .map_or(Ipv4Addr::UNSPECIFIED, |n| n.addr)
    }
}

impl ClientFiles for RegistryFiles {
    fn rewrite(&self, client: IpAddr, path: &str) -> Option<String> {
        let facts = self.facts(client)?;
        self.registry.load().rewrite_path(&facts.mac, path)
    }

    fn file(&self, client: IpAddr, path: &str) -> Option<Result<Vec<u8>, String>> {
        let own = self.facts(client).and_then(|facts| {
            self.registry
                .load()
                .virtual_file(&facts, path)
                .map(|r| r.map_err(|e| e.to_string()))
        });
        own.or_else(|| {
            let wanted = path.trim_start_matches('/');
            if let Some(menu) = self.menus_file(client, wanted) {
                return Some(Ok(menu));
            }
            self.generated
                .iter()
                .find(|(name, _)| name == wanted)
                .map(|(_, bytes)| Ok(bytes.clone()))
        })
    }

    fn upload_dir(&self, client: IpAddr) -> Option<String> {
        let facts = self.facts(client)?;
        self.registry
            .load()
            .upload_dir(&facts.mac)
            .map(str::to_string)
    }

    fn keep_versions(&self, client: IpAddr) -> Option<usize> {
        let facts = self.facts(client)?;
        self.registry.load().upload_keep_versions(&facts.mac)
    }

    fn fetched(&self, client: IpAddr, path: &str) {
        if let Some(facts) = self.facts(client) {
            self.menus.fetched(&facts.mac, path);
        }
    }

    fn mac(&self, client: IpAddr) -> Option<String> {
        self.facts(client).map(|facts| facts.mac.colon())
    }
}
