//! TLS with libpq's `sslmode` semantics on rustls (ring provider, set explicitly so that the
//! process-wide default provider never matters).
//!
//! | sslmode            | chain verified                  | host name checked |
//! |--------------------|---------------------------------|-------------------|
//! | allow/prefer/require | only if a root cert file exists | no              |
//! | verify-ca          | yes (file must exist)           | no                |
//! | verify-full        | yes (file must exist)           | yes (DNS/IP SANs) |
//!
//! The handshake signatures are always verified, so even unverified modes talk to the holder
//! of the certificate's key.

use std::path::Path;
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::conn::{ConnConfig, RootCert, SslMode};
use crate::{Error, Result};

/// What the server certificate is checked against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verification {
    /// Only the handshake signatures.
    None,
    /// The chain, against the root certificates.
    Chain,
    /// The chain and the host name.
    Full,
}

/// A connector for `cfg`, or `None` for `sslmode=disable`.
pub(crate) struct Tls {
    pub(crate) connector: MakeRustlsConnect,
    pub(crate) verification: Verification,
    /// Where the root certificates came from, for messages.
    pub(crate) roots: Option<String>,
}

pub(crate) fn for_config(cfg: &ConnConfig) -> Result<Option<Tls>> {
    let mode = cfg.sslmode;
    if mode == SslMode::Disable {
        return Ok(None);
    }
    let verify_mode = matches!(mode, SslMode::VerifyCa | SslMode::VerifyFull);
    let roots = match &cfg.rootcert {
        Some(RootCert::System) => Some((system_roots()?, "the OS trust store".to_owned())),
        Some(RootCert::File(path) | RootCert::Default(path)) if path.exists() => Some((
            load_roots(path)?,
            format!("root certificate file \"{}\"", path.display()),
        )),
        Some(RootCert::File(path) | RootCert::Default(path)) if verify_mode => {
            return Err(Error::Tls(format!(
                "root certificate file \"{}\" does not exist; provide it, use sslrootcert=system \
                 for the OS trust store, or change sslmode to disable server certificate verification",
                path.display()
            )));
        }
        None if verify_mode => {
            return Err(Error::Tls(format!(
                "sslmode={mode} needs root certificates: set sslrootcert (a file, or \"system\")"
            )));
        }
        _ => None,
    };
    let verification = match (mode, &roots) {
        (SslMode::VerifyFull, _) => Verification::Full,
        (_, Some(_)) => Verification::Chain,
        (_, None) => Verification::None,
    };
    let (store, label) = match roots {
        Some((store, label)) => (Some(store), Some(label)),
        None => (None, None),
    };
    Ok(Some(Tls {
        connector: MakeRustlsConnect::new(client_config(verification, store)?),
        verification,
        roots: label,
    }))
}

fn client_config(verification: Verification, roots: Option<RootCertStore>) -> Result<ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let webpki = match roots {
        Some(roots) => Some(
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|e| Error::Tls(format!("cannot build the certificate verifier: {e}")))?,
        ),
        None => None,
    };
    let verifier = PgVerifier {
        webpki,
        check_name: verification == Verification::Full,
        provider: provider.clone(),
    };
    Ok(ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Tls(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth())
}

fn load_roots(path: &Path) -> Result<RootCertStore> {
    let unreadable = |e: &dyn std::fmt::Display| {
        Error::Tls(format!(
            "cannot read root certificate file \"{}\": {e}",
            path.display()
        ))
    };
    let mut store = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(path).map_err(|e| unreadable(&e))? {
        let cert = cert.map_err(|e| unreadable(&e))?;
        store.add(cert).map_err(|e| unreadable(&e))?;
    }
    if store.is_empty() {
        return Err(Error::Tls(format!(
            "root certificate file \"{}\" contains no PEM certificates",
            path.display()
        )));
    }
    Ok(store)
}

fn system_roots() -> Result<RootCertStore> {
    let loaded = rustls_native_certs::load_native_certs();
    let mut store = RootCertStore::empty();
    let (added, _ignored) = store.add_parsable_certificates(loaded.certs);
    if added == 0 {
        let errors: Vec<String> = loaded.errors.iter().map(ToString::to_string).collect();
        return Err(Error::Tls(format!(
            "sslrootcert=system: no usable certificates in the OS trust store{}",
            if errors.is_empty() {
                String::new()
            } else {
                format!(" ({})", errors.join("; "))
            }
        )));
    }
    Ok(store)
}

/// libpq's verification levels on top of webpki: without roots, only the handshake
/// signatures; with roots, the chain; the name only for verify-full.
#[derive(Debug)]
struct PgVerifier {
    webpki: Option<Arc<WebPkiServerVerifier>>,
    check_name: bool,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for PgVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(webpki) = &self.webpki else {
            return Ok(ServerCertVerified::assertion());
        };
        match webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            // webpki checks the chain before the name, so a name error means a valid chain.
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if !self.check_name => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
