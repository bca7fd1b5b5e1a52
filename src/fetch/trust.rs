//! Trust: the extra certificate authorities a crawl accepts (`--ca-cert`, on top of the
//! system's) and the words a failed TLS handshake is recorded with.
//!
//! Functions: [`read_ca_file`] (PEM file to trust roots, or an error naming the file),
//! [`tls_failure`] (a rustls error to a failure detail).

use std::path::Path;

use anyhow::{bail, Context};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::{CertificateError, Error as TlsError, RootCertStore};

/// The certificates of a PEM file, each checked to be usable as a trust root.
pub fn read_ca_file(path: &Path) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let shown = path.display();
    let bytes =
        std::fs::read(path).with_context(|| format!("--ca-cert {shown}: cannot read it"))?;
    let mut certs = Vec::new();
    for (n, cert) in CertificateDer::pem_slice_iter(&bytes).enumerate() {
        let cert = cert.map_err(|e| {
            anyhow::anyhow!(
                "--ca-cert {shown}: certificate {} is not valid PEM ({e})",
                n + 1
            )
        })?;
        RootCertStore::empty().add(cert.clone()).map_err(|e| {
            anyhow::anyhow!(
                "--ca-cert {shown}: certificate {} is not a usable CA certificate ({e})",
                n + 1
            )
        })?;
        certs.push(cert);
    }
    if certs.is_empty() {
        bail!(
            "--ca-cert {shown} holds no PEM certificate (a block starting \
             -----BEGIN CERTIFICATE-----); pass the CA's certificate in PEM"
        );
    }
    Ok(certs)
}

/// What went wrong in a handshake, in the words of a failure's detail: the usual
/// certificate problems by name, and a server that does not speak TLS at all (plain
/// HTTP on port 443) told apart from other protocol errors.
pub fn tls_failure(error: &TlsError) -> String {
    let what = match error {
        TlsError::InvalidCertificate(cert) => match cert {
            CertificateError::UnknownIssuer => "certificate from an unknown issuer",
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                "certificate expired"
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                "certificate not valid yet"
            }
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                "certificate for another name"
            }
            CertificateError::Revoked => "certificate revoked",
            _ => "invalid certificate",
        },
        TlsError::InvalidMessage(_) | TlsError::InappropriateMessage { .. } => {
            "the server does not speak TLS (plain HTTP on port 443?)"
        }
        _ => "handshake failed",
    };
    format!("{what} ({error})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_ca_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let err = read_ca_file(&missing).unwrap_err();
        assert!(format!("{err:#}").contains("missing.pem"), "{err:#}");
        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "not a certificate\n").unwrap();
        let err = read_ca_file(&junk).unwrap_err().to_string();
        assert!(err.contains("junk.pem") && err.contains("no PEM"), "{err}");
        let broken = dir.path().join("broken.pem");
        std::fs::write(
            &broken,
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let err = read_ca_file(&broken).unwrap_err().to_string();
        assert!(
            err.contains("broken.pem") && err.contains("certificate 1"),
            "{err}"
        );
    }
}
