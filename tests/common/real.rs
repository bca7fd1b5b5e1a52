//! The real network path for tests: the sim over HTTPS on port 443 of a loopback address
//! of its own, a DNS server answering the world's names with that address, and the
//! sim's CA in a file, so a crawl runs without `--connect-to` or `--plain-http`.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use fedicensus::fetch::trust::read_ca_file;
use fedicensus::fetch::{FetchConfig, Fetcher, NetworkConfig};
use fedicensus::sim::dns::{serve_dns, DnsHandle, Zone};
use fedicensus::sim::{self, SimHandle, World};
use ipnet::IpNet;

pub struct RealPath {
    pub sim: SimHandle,
    pub dns: DnsHandle,
    /// The sim's CA certificate (PEM).
    pub ca: PathBuf,
}

impl RealPath {
    /// Serves `world`; `more` adds answers to the zone of the world's names, given the
    /// address they resolve to.
    pub async fn start(
        world: World,
        dir: &Path,
        more: impl FnOnce(Zone, IpAddr) -> Zone,
    ) -> RealPath {
        let listener = sim::bind_port_443().await.unwrap();
        let ip = listener.local_addr().unwrap().ip();
        let zone = more(Zone::for_world(&world, ip), ip);
        let sim = sim::serve_https(world, listener).await.unwrap();
        let dns = serve_dns(zone).await.unwrap();
        let ca = dir.join("sim-ca.pem");
        std::fs::write(&ca, sim.ca_pem.as_deref().unwrap()).unwrap();
        RealPath { sim, dns, ca }
    }

    /// The sim's address, as the DNS server gives it.
    pub fn ip(&self) -> IpAddr {
        self.sim.addr.ip()
    }

    /// `--dns-server DNS --ca-cert CA --allow-address ALLOW --timeout 2`.
    pub fn flags(&self, allow: &str) -> Vec<String> {
        [
            "--dns-server",
            &self.dns.addr.to_string(),
            "--ca-cert",
            &self.ca.display().to_string(),
            "--allow-address",
            allow,
            "--timeout",
            "2",
        ]
        .map(str::to_owned)
        .to_vec()
    }

    /// A fetcher set up as a crawl with [`RealPath::flags`] would be.
    pub fn fetcher(&self, allow: &[&str]) -> Fetcher {
        Fetcher::new(FetchConfig {
            network: NetworkConfig {
                dns_server: Some(self.dns.addr),
                dns_timeout: Duration::from_secs(1),
                allow_addresses: allow.iter().map(|a| a.parse::<IpNet>().unwrap()).collect(),
                ca_certs: read_ca_file(&self.ca).unwrap(),
            },
            ..super::fetch_config()
        })
        .unwrap()
    }
}
