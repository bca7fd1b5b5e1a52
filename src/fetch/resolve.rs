//! Name resolution that refuses to reach anything but the public internet.
//!
//! A peer list is attacker-controlled input: a name that resolves to 127.0.0.1, a
//! cloud metadata address or a home router must never be contacted. reqwest asks this
//! resolver for every connection, including every redirect hop, so the check cannot be
//! bypassed by a redirect, and it runs after the lookup and before any connection, so
//! a name that answers differently from one lookup to the next (DNS rebinding) is
//! checked on the answer actually used. `--allow-address CIDR` is the one way to let a
//! non-public range through (a private test fediverse); `--connect-to` replaces
//! resolution entirely (tests, demo). Names are looked up through the system resolver,
//! or through one DNS server (`--dns-server`, with hickory-resolver); either way the
//! lookup has its own time limit.
//!
//! Types: [`GuardedResolver`], [`Lookup`] (where answers come from), [`ResolveError`];
//! [`is_public`] is the address rule.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::TokioResolver;
use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Why a name could not be turned into an address we may contact. Carried inside
/// reqwest's error so the fetcher can tell DNS failures from forbidden addresses.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ResolveError {
    /// The DNS says the name does not exist: the strongest sign nobody is there.
    #[error("{name} does not exist (NXDOMAIN)")]
    NxDomain { name: String },
    #[error("DNS lookup of {name} failed: {detail}")]
    Lookup { name: String, detail: String },
    #[error("DNS lookup of {name} got no answer within {after:?}")]
    Timeout { name: String, after: Duration },
    #[error("{name} has no DNS addresses")]
    NoAddress { name: String },
    #[error("{name} resolves only to non-public addresses ({addrs}); not contacted")]
    Forbidden { name: String, addrs: String },
}

/// Where the resolver's answers come from.
pub(crate) enum Lookup {
    /// Every name resolves to this address, unchecked (`--connect-to`).
    Fixed(SocketAddr),
    /// The operating system's resolver (`/etc/hosts`, `resolv.conf`).
    System,
    /// One DNS server, asked directly (`--dns-server`).
    Server(Box<TokioResolver>),
}

impl Lookup {
    /// Answers from the DNS server at `server` (UDP, falling back to TCP for truncated
    /// answers), one attempt per lookup of at most `timeout`, no search domains, no
    /// hosts file.
    pub(crate) fn server(server: SocketAddr, timeout: Duration) -> Result<Lookup, NetError> {
        let mut udp = ConnectionConfig::udp();
        udp.port = server.port();
        let mut tcp = ConnectionConfig::tcp();
        tcp.port = server.port();
        let config = ResolverConfig::from_parts(
            None,
            vec![],
            vec![NameServerConfig::new(server.ip(), true, vec![udp, tcp])],
        );
        let mut options = ResolverOpts::default();
        options.timeout = timeout;
        options.attempts = 1;
        options.use_hosts_file = ResolveHosts::Never;
        options.ndots = 0;
        let resolver = TokioResolver::builder_with_config(config, TokioRuntimeProvider::default())
            .with_options(options)
            .build()?;
        Ok(Lookup::Server(Box::new(resolver)))
    }
}

/// The resolver handed to reqwest.
pub(crate) struct GuardedResolver {
    lookup: Arc<Lookup>,
    /// Non-public ranges the operator allowed (`--allow-address`).
    allow: Arc<[IpNet]>,
    /// For one whole lookup, however many queries it takes.
    timeout: Duration,
}

impl GuardedResolver {
    pub(crate) fn new(lookup: Lookup, allow: Vec<IpNet>, timeout: Duration) -> GuardedResolver {
        GuardedResolver {
            lookup: Arc::new(lookup),
            allow: allow.into(),
            timeout,
        }
    }

    /// The addresses of `name` that may be contacted.
    pub(crate) async fn addresses(&self, name: &str) -> Result<Vec<SocketAddr>, ResolveError> {
        let found = match tokio::time::timeout(self.timeout, look_up(&self.lookup, name)).await {
            Ok(found) => found?,
            Err(_) => {
                return Err(ResolveError::Timeout {
                    name: name.to_owned(),
                    after: self.timeout,
                })
            }
        };
        if let Lookup::Fixed(_) = *self.lookup {
            return Ok(found);
        }
        if found.is_empty() {
            return Err(ResolveError::NoAddress {
                name: name.to_owned(),
            });
        }
        let allowed: Vec<SocketAddr> = found
            .iter()
            .copied()
            .filter(|a| is_allowed(a.ip(), &self.allow))
            .collect();
        if allowed.is_empty() {
            let addrs = found
                .iter()
                .map(|a| a.ip().to_string())
                .collect::<Vec<_>>()
                .join(", ");
            return Err(ResolveError::Forbidden {
                name: name.to_owned(),
                addrs,
            });
        }
        Ok(allowed)
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let this = GuardedResolver {
            lookup: self.lookup.clone(),
            allow: self.allow.clone(),
            timeout: self.timeout,
        };
        Box::pin(async move {
            let found = this.addresses(name.as_str()).await?;
            Ok(Box::new(found.into_iter()) as Addrs)
        })
    }
}

/// Every address `name` resolves to, unchecked.
async fn look_up(lookup: &Lookup, name: &str) -> Result<Vec<SocketAddr>, ResolveError> {
    let failed = |detail: String| ResolveError::Lookup {
        name: name.to_owned(),
        detail,
    };
    match lookup {
        Lookup::Fixed(addr) => Ok(vec![*addr]),
        Lookup::System => Ok(tokio::net::lookup_host((name, 0))
            .await
            .map_err(|e| failed(e.to_string()))?
            .collect()),
        Lookup::Server(resolver) => {
            // Fully qualified, so no search domain is tried.
            let fqdn = format!("{}.", name.trim_end_matches('.'));
            match resolver.lookup_ip(fqdn).await {
                Ok(ips) => Ok(ips.iter().map(|ip| SocketAddr::new(ip, 0)).collect()),
                Err(e) => Err(dns_error(name, e)),
            }
        }
    }
}

fn dns_error(name: &str, error: NetError) -> ResolveError {
    let name = name.to_owned();
    match error {
        NetError::Dns(DnsError::NoRecordsFound(none))
            if none.response_code == ResponseCode::NXDomain =>
        {
            ResolveError::NxDomain { name }
        }
        NetError::Dns(DnsError::NoRecordsFound(_)) => ResolveError::NoAddress { name },
        NetError::Dns(DnsError::ResponseCode(code)) => ResolveError::Lookup {
            name,
            detail: format!("the server answered {code}"),
        },
        other => ResolveError::Lookup {
            name,
            detail: other.to_string(),
        },
    }
}

/// Public addresses, and those in a range the operator allowed.
fn is_allowed(ip: IpAddr, allow: &[IpNet]) -> bool {
    let ip = ip.to_canonical();
    is_public(ip) || allow.iter().any(|net| net.contains(&ip))
}

/// True for addresses on the public internet: not loopback, private, link-local,
/// shared (CGNAT), benchmarking, documentation, multicast, reserved or unspecified.
pub(crate) fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            is_public_v6(v6)
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_unspecified()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // 100.64/10 shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // 192.0.0/24 IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // 198.18/15 benchmarking
        || a >= 240) // 240/4 reserved, and broadcast
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let seg = ip.segments();
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (seg[0] & 0xfe00) == 0xfc00 // fc00::/7 unique local
        || (seg[0] & 0xffc0) == 0xfe80 // fe80::/10 link local
        || (seg[0] & 0xffc0) == 0xfec0 // fec0::/10 site local (deprecated)
        || (seg[0] == 0x2001 && seg[1] == 0x0db8) // 2001:db8::/32 documentation
        || (seg[0] == 0x0064 && seg[1] == 0xff9b) // 64:ff9b::/96 NAT64 can reach private v4
        || (seg[0] == 0x2002) // 6to4 embeds arbitrary v4
        || seg[..6] == [0, 0, 0, 0, 0, 0]) // IPv4-compatible (deprecated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_and_forbidden_addresses() {
        let forbidden = [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "198.18.0.1",
            "192.0.2.1",
            "198.51.100.1",
            "203.0.113.9",
            "224.0.0.1",
            "240.0.0.1",
            "255.255.255.255",
            "0.0.0.0",
            "0.1.2.3",
            "::1",
            "::",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
            "2002:7f00:1::",
        ];
        for a in forbidden {
            assert!(!is_public(a.parse().unwrap()), "{a} must be forbidden");
        }
        for a in [
            "1.1.1.1",
            "93.184.216.34",
            "100.128.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public(a.parse().unwrap()), "{a} must be public");
        }
    }

    #[test]
    fn allowed_ranges_open_the_guard_only_that_far() {
        let allow: Vec<IpNet> = vec!["127.0.0.0/8".parse().unwrap(), "fd00::/8".parse().unwrap()];
        for a in ["127.0.0.2", "::ffff:127.0.0.1", "fd12::1", "1.1.1.1"] {
            assert!(is_allowed(a.parse().unwrap(), &allow), "{a} is allowed");
        }
        for a in ["::1", "10.0.0.1", "169.254.169.254", "fc00::1"] {
            assert!(
                !is_allowed(a.parse().unwrap(), &allow),
                "{a} stays forbidden"
            );
        }
        assert!(!is_allowed("127.0.0.1".parse().unwrap(), &[]));
    }

    #[tokio::test]
    async fn localhost_names_are_refused() {
        let r = GuardedResolver::new(Lookup::System, vec![], Duration::from_secs(5));
        let err = match r.resolve("localhost".parse().unwrap()).await {
            Ok(_) => panic!("localhost must not resolve"),
            Err(e) => e.to_string(),
        };
        assert!(
            err.contains("non-public") || err.contains("failed"),
            "{err}"
        );
    }
}
