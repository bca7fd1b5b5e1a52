//! The sim's HTTPS side: a test certificate authority made at start, and a certificate
//! per simulated host, made on first use and chosen by the name the client asks for
//! (SNI, through rustls' [`ResolvesServerCert`]). A host with a TLS behaviour gets the
//! certificate it misbehaves with: expired, for another name, or from a second CA that
//! nobody trusts. ALPN offers HTTP/2 and HTTP/1.1.
//!
//! Types: [`TestCa`], [`Fault`], `CertByName`; function [`server_config`].

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::ServerConfig;

use super::world::{Behaviour, SimServer};

/// A certificate authority of the sim's own.
pub(crate) struct TestCa {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
}

impl TestCa {
    pub(crate) fn new(name: &str) -> Result<TestCa, rcgen::Error> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate()?;
        let cert = params.self_signed(&key)?;
        Ok(TestCa {
            pem: cert.pem(),
            issuer: Issuer::new(params, key),
        })
    }

    /// The CA's certificate in PEM, for `--ca-cert`.
    pub(crate) fn pem(&self) -> &str {
        &self.pem
    }

    /// A certificate for `name` (or, with [`Fault::WrongName`], for another name).
    fn issue(&self, name: &str, fault: Option<Fault>) -> Result<CertifiedKey, String> {
        let subject = match fault {
            Some(Fault::WrongName) => format!("not-{name}"),
            _ => name.to_owned(),
        };
        let mut params = CertificateParams::new(vec![subject.clone()]).map_err(text)?;
        params.distinguished_name.push(DnType::CommonName, subject);
        if fault == Some(Fault::Expired) {
            params.not_before = rcgen::date_time_ymd(2020, 1, 1);
            params.not_after = rcgen::date_time_ymd(2021, 1, 1);
        }
        let key = KeyPair::generate().map_err(text)?;
        let cert = params.signed_by(&key, &self.issuer).map_err(text)?;
        let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let signing = rustls::crypto::ring::sign::any_supported_type(&der).map_err(text)?;
        Ok(CertifiedKey::new(vec![cert.der().clone()], signing))
    }
}

fn text(e: impl fmt::Display) -> String {
    e.to_string()
}

/// How a host's certificate is wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Fault {
    Expired,
    WrongName,
    UnknownIssuer,
}

impl Fault {
    /// The fault a server's behaviours ask for.
    pub(crate) fn of(server: &SimServer) -> Option<Fault> {
        server.behaviour.iter().find_map(|b| match b {
            Behaviour::TlsExpired => Some(Fault::Expired),
            Behaviour::TlsWrongName => Some(Fault::WrongName),
            Behaviour::TlsUnknownIssuer => Some(Fault::UnknownIssuer),
            _ => None,
        })
    }
}

/// The fault of the certificate for a name (the name's server decides).
pub(super) type FaultOf = dyn Fn(&str) -> Option<Fault> + Send + Sync;

/// A name and how its certificate is wrong.
type CertFor = (String, Option<Fault>);

/// Certificates by SNI name, made on first use and kept.
pub(super) struct CertByName {
    ca: Arc<TestCa>,
    rogue: TestCa,
    fault_of: Box<FaultOf>,
    made: Mutex<HashMap<CertFor, Arc<CertifiedKey>>>,
}

impl fmt::Debug for CertByName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertByName").finish_non_exhaustive()
    }
}

impl ResolvesServerCert for CertByName {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let name = hello.server_name()?.to_ascii_lowercase();
        let fault = (self.fault_of)(&name);
        let mut made = self.made.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(cert) = made.get(&(name.clone(), fault)) {
            return Some(cert.clone());
        }
        let ca = match fault {
            Some(Fault::UnknownIssuer) => &self.rogue,
            _ => &self.ca,
        };
        let cert = Arc::new(ca.issue(&name, fault).ok()?);
        made.insert((name, fault), cert.clone());
        Some(cert)
    }
}

/// A rustls server configuration serving certificates of `ca` by SNI, each with the
/// fault `fault_of` says.
pub(super) fn server_config(
    ca: Arc<TestCa>,
    fault_of: Box<FaultOf>,
) -> Result<ServerConfig, String> {
    let resolver = CertByName {
        ca,
        rogue: TestCa::new("fedicensus sim rogue CA").map_err(text)?,
        fault_of,
        made: Mutex::new(HashMap::new()),
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(text)?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(resolver));
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}
