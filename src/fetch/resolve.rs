//! Name resolution that refuses to reach anything but the public internet.
//!
//! A peer list is attacker-controlled input: a name that resolves to 127.0.0.1, a
//! cloud metadata address or a home router must never be contacted. reqwest asks this
//! resolver for every connection, including every redirect hop, so the check cannot be
//! bypassed by a redirect. `--connect-to` replaces resolution entirely (tests, demo).
//!
//! Types: [`GuardedResolver`], [`ResolveError`]; [`is_public`] is the address rule.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Why a name could not be turned into an address we may contact. Carried inside
/// reqwest's error so the fetcher can tell DNS failures from forbidden addresses.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("DNS lookup of {name} failed: {source}")]
    Lookup {
        name: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{name} has no DNS addresses")]
    NoAddress { name: String },
    #[error("{name} resolves only to non-public addresses ({addrs}); not contacted")]
    Forbidden { name: String, addrs: String },
}

/// The resolver handed to reqwest.
pub struct GuardedResolver {
    /// Every name resolves here instead (`--connect-to`).
    pub connect_to: Option<SocketAddr>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        if let Some(addr) = self.connect_to {
            return Box::pin(async move { Ok(Box::new(std::iter::once(addr)) as Addrs) });
        }
        let name = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0))
                .await
                .map_err(|source| ResolveError::Lookup {
                    name: name.clone(),
                    source,
                })?
                .collect();
            if found.is_empty() {
                return Err(ResolveError::NoAddress { name }.into());
            }
            let public: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| is_public(a.ip()))
                .collect();
            if public.is_empty() {
                let addrs = found
                    .iter()
                    .map(|a| a.ip().to_string())
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(ResolveError::Forbidden { name, addrs }.into());
            }
            Ok(Box::new(public.into_iter()) as Addrs)
        })
    }
}

/// True for addresses on the public internet: not loopback, private, link-local,
/// shared (CGNAT), benchmarking, documentation, multicast, reserved or unspecified.
pub fn is_public(ip: IpAddr) -> bool {
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

    #[tokio::test]
    async fn localhost_names_are_refused() {
        let r = GuardedResolver { connect_to: None };
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
