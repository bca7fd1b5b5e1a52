//! A small DNS server for the simulated fediverse: UDP and TCP on loopback, answering
//! A and AAAA for the names of its [`Zone`], and on request the ways real DNS fails:
//! NXDOMAIN (every name it does not know), SERVFAIL, no answer at all, and CNAME chains
//! (one that ends in an address, or a loop that never ends). With it a crawl takes the
//! real path: names resolved by a DNS server, then HTTPS to the address it gave.
//!
//! Types: [`Zone`], [`Answer`], [`DnsHandle`]; function [`serve_dns`].

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, CNAME};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::task::JoinSet;

use super::world::World;

/// What the server answers for one name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// These addresses (A for IPv4, AAAA for IPv6; no records of the other type).
    Addresses(Vec<IpAddr>),
    /// A CNAME to that name, which is then looked up in turn.
    Alias(String),
    /// The server fails (SERVFAIL).
    ServerFailure,
    /// The query is dropped: the client hears nothing.
    Silence,
}

/// Names and their answers; any other name does not exist (NXDOMAIN).
#[derive(Clone, Debug, Default)]
pub struct Zone(HashMap<String, Answer>);

impl Zone {
    /// Every host name of `world` (a split server's two names included) at `ip`.
    pub fn for_world(world: &World, ip: IpAddr) -> Zone {
        let mut zone = Zone::default();
        for name in world.host_names() {
            zone = zone.with(name, Answer::Addresses(vec![ip]));
        }
        zone
    }

    /// Answers `answer` for `name` (case-insensitive, a trailing dot ignored).
    pub fn with(mut self, name: &str, answer: Answer) -> Zone {
        self.0.insert(canonical(name), answer);
        self
    }

    fn answer(&self, name: &str) -> Option<&Answer> {
        self.0.get(&canonical(name))
    }
}

fn canonical(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// A running DNS server. Dropping it stops it.
pub struct DnsHandle {
    /// UDP and TCP both listen here.
    pub addr: SocketAddr,
    _tasks: JoinSet<()>,
}

/// Serves `zone` on `127.0.0.1:<ephemeral>`, UDP and TCP on the same port.
pub async fn serve_dns(zone: Zone) -> io::Result<DnsHandle> {
    let zone = Arc::new(zone);
    let mut last_error = None;
    // The TCP port of the same number may be taken; try a few UDP ports.
    for _ in 0..20 {
        let udp = UdpSocket::bind(("127.0.0.1", 0)).await?;
        let addr = udp.local_addr()?;
        match TcpListener::bind(addr).await {
            Ok(tcp) => {
                let mut tasks = JoinSet::new();
                tasks.spawn(serve_udp(udp, zone.clone()));
                tasks.spawn(serve_tcp(tcp, zone));
                return Ok(DnsHandle {
                    addr,
                    _tasks: tasks,
                });
            }
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error.unwrap_or_else(|| io::Error::other("no port for the DNS server")))
}

async fn serve_udp(socket: UdpSocket, zone: Arc<Zone>) {
    let mut buf = vec![0u8; 4096];
    loop {
        let Ok((n, from)) = socket.recv_from(&mut buf).await else {
            continue;
        };
        if let Some(reply) = reply(&zone, &buf[..n]) {
            let _ = socket.send_to(&reply, from).await;
        }
    }
}

async fn serve_tcp(listener: TcpListener, zone: Arc<Zone>) {
    let mut connections = JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        while connections.try_join_next().is_some() {}
        connections.spawn(serve_tcp_connection(stream, zone.clone()));
    }
}

/// Messages over TCP are prefixed with their length (RFC 1035 4.2.2).
async fn serve_tcp_connection(mut stream: TcpStream, zone: Arc<Zone>) {
    loop {
        let Ok(len) = stream.read_u16().await else {
            return;
        };
        let mut query = vec![0u8; usize::from(len)];
        if stream.read_exact(&mut query).await.is_err() {
            return;
        }
        let Some(reply) = reply(&zone, &query) else {
            continue;
        };
        let Ok(len) = u16::try_from(reply.len()) else {
            return;
        };
        if stream.write_u16(len).await.is_err() || stream.write_all(&reply).await.is_err() {
            return;
        }
    }
}

/// The encoded reply to an encoded query; `None` to stay silent (or for garbage).
fn reply(zone: &Zone, query: &[u8]) -> Option<Vec<u8>> {
    let query = Message::from_vec(query).ok()?;
    let question = query.queries.first()?.clone();
    let mut response = Message::new(query.metadata.id, MessageType::Response, OpCode::Query);
    response.metadata.authoritative = true;
    response.metadata.recursion_desired = query.metadata.recursion_desired;
    response.metadata.recursion_available = true;
    response.add_query(question.clone());
    let name = question.name().to_ascii();
    match zone.answer(&name) {
        None => response.metadata.response_code = ResponseCode::NXDomain,
        Some(Answer::Silence) => return None,
        Some(Answer::ServerFailure) => response.metadata.response_code = ResponseCode::ServFail,
        Some(Answer::Alias(target)) => {
            let target = Name::from_ascii(format!("{}.", canonical(target))).ok()?;
            response.add_answer(record(question.name(), RData::CNAME(CNAME(target))));
        }
        Some(Answer::Addresses(ips)) => {
            for ip in ips {
                let data = match (ip, question.query_type()) {
                    (IpAddr::V4(v4), RecordType::A) => RData::A(A(*v4)),
                    (IpAddr::V6(v6), RecordType::AAAA) => RData::AAAA(AAAA(*v6)),
                    _ => continue,
                };
                response.add_answer(record(question.name(), data));
            }
        }
    }
    response.to_vec().ok()
}

fn record(name: &Name, data: RData) -> Record {
    Record::from_rdata(name.clone(), 60, data)
}

#[cfg(test)]
mod tests {
    use hickory_proto::op::Query;

    use super::*;

    fn query(name: &str, kind: RecordType) -> Vec<u8> {
        let mut message = Message::new(7, MessageType::Query, OpCode::Query);
        message.add_query(Query::query(Name::from_ascii(name).unwrap(), kind));
        message.to_vec().unwrap()
    }

    fn answers(reply: &[u8]) -> (ResponseCode, Vec<RData>) {
        let reply = Message::from_vec(reply).unwrap();
        assert_eq!(reply.metadata.id, 7);
        let data = reply.answers.iter().map(|r| r.data.clone()).collect();
        (reply.metadata.response_code, data)
    }

    #[tokio::test]
    async fn answers_over_udp_and_tcp() {
        let zone = Zone::default()
            .with(
                "Host.Social.",
                Answer::Addresses(vec!["127.0.0.9".parse().unwrap()]),
            )
            .with("alias.social", Answer::Alias("host.social".into()));
        let dns = serve_dns(zone).await.unwrap();

        let udp = UdpSocket::bind(("127.0.0.1", 0)).await.unwrap();
        udp.send_to(&query("host.social.", RecordType::A), dns.addr)
            .await
            .unwrap();
        let mut buf = vec![0u8; 512];
        let n = udp.recv(&mut buf).await.unwrap();
        let a = RData::A(A("127.0.0.9".parse().unwrap()));
        assert_eq!(answers(&buf[..n]), (ResponseCode::NoError, vec![a]));

        let mut tcp = TcpStream::connect(dns.addr).await.unwrap();
        for (name, kind) in [
            ("alias.social.", RecordType::A),
            ("nope.social.", RecordType::A),
        ] {
            let q = query(name, kind);
            tcp.write_u16(q.len() as u16).await.unwrap();
            tcp.write_all(&q).await.unwrap();
            let mut reply = vec![0u8; usize::from(tcp.read_u16().await.unwrap())];
            tcp.read_exact(&mut reply).await.unwrap();
            let (code, data) = answers(&reply);
            match name {
                "alias.social." => {
                    let target = Name::from_ascii("host.social.").unwrap();
                    assert_eq!(
                        (code, data),
                        (ResponseCode::NoError, vec![RData::CNAME(CNAME(target))])
                    );
                }
                _ => assert_eq!((code, data), (ResponseCode::NXDomain, vec![])),
            }
        }
    }
}
