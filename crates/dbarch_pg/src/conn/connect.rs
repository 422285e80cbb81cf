//! Opening a session: host by host, TLS per `sslmode` (with libpq's fallbacks for `prefer`
//! and `allow`), then the session settings in one round trip.

use std::error::Error as StdError;
use std::io;
use std::time::Duration;

use tokio_postgres::error::SqlState;
use tokio_postgres::tls::{MakeTlsConnect, TlsConnect};
use tokio_postgres::{Client, NoTls, Socket};

use super::{ConnConfig, Host, Target};
use crate::tls::{self, Tls, Verification};
use crate::{Error, Result};

/// Session settings applied right after connecting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionOptions {
    /// Shown in `pg_stat_activity`; always used, whatever the connection string says.
    pub application_name: String,
    /// `default_transaction_read_only = on`: analysis never writes by accident.
    pub read_only: bool,
    /// `None` keeps the server's setting; `Some(Duration::ZERO)` disables the timeout.
    pub statement_timeout: Option<Duration>,
    /// `None` keeps the server's setting; `Some(Duration::ZERO)` disables the timeout.
    pub lock_timeout: Option<Duration>,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            application_name: "dbarch".to_owned(),
            read_only: true,
            statement_timeout: Some(Duration::from_secs(60)),
            lock_timeout: None,
        }
    }
}

impl SessionOptions {
    /// A session that may write (migrations, loading): the defaults without `read_only`.
    pub fn writer() -> Self {
        SessionOptions {
            read_only: false,
            ..Self::default()
        }
    }

    #[cfg(test)]
    pub(crate) fn setup_sql_for_test(&self) -> String {
        self.setup_sql()
    }

    /// The `SET` statements, sent as one batch.
    fn setup_sql(&self) -> String {
        let ms = |d: Duration| format!("'{}ms'", d.as_millis());
        let mut sql = String::new();
        if let Some(t) = self.statement_timeout {
            sql.push_str(&format!("SET statement_timeout = {};", ms(t)));
        }
        if let Some(t) = self.lock_timeout {
            sql.push_str(&format!("SET lock_timeout = {};", ms(t)));
        }
        if self.read_only {
            sql.push_str("SET default_transaction_read_only = on;");
        }
        sql
    }
}

/// Connects to the first host of `cfg` that accepts us and sets the session up.
///
/// Errors are [`Error::Connect`] (naming `cfg.redacted()` and, for several hosts, each
/// host's reason), [`Error::Tls`] for unusable TLS settings, and [`Error::Db`] if the session
/// settings are rejected. No message contains the password.
pub async fn connect(cfg: &ConnConfig, opts: &SessionOptions) -> Result<Client> {
    let tls = tls::for_config(cfg)?;
    let mut failures = Vec::new();
    for target in &cfg.targets {
        match connect_target(cfg, target, opts, tls.as_ref()).await {
            Ok(client) => {
                let sql = opts.setup_sql();
                if !sql.is_empty() {
                    client
                        .batch_execute(&sql)
                        .await
                        .map_err(|e| Error::db(format!("setting up the session on {cfg}"), e))?;
                }
                return Ok(client);
            }
            Err(reason) => failures.push((target, reason)),
        }
    }
    let reason = match failures.as_slice() {
        [(_, reason)] => reason.clone(),
        _ => failures
            .iter()
            .map(|(t, reason)| format!("{}:{}: {reason}", t.name(), t.port))
            .collect::<Vec<_>>()
            .join("; "),
    };
    Err(Error::Connect {
        target: cfg.redacted(),
        reason,
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Attempt {
    Plain,
    /// TLS if the server accepts it, else plaintext (the server answers the SSLRequest).
    TlsPreferred,
    TlsRequired,
}

/// Tries one host; the error is a human-readable reason.
async fn connect_target(
    cfg: &ConnConfig,
    target: &Target,
    opts: &SessionOptions,
    tls: Option<&Tls>,
) -> Result<Client, String> {
    use super::SslMode::*;
    // libpq ignores sslmode on Unix sockets: the server never offers TLS there.
    let unix = matches!(target.host, Some(Host::Unix(_))) && target.hostaddr.is_none();
    let attempts: &[Attempt] = match (tls, unix) {
        (None, _) | (_, true) => &[Attempt::Plain],
        (Some(_), false) => match cfg.sslmode {
            Disable => &[Attempt::Plain],
            Allow => &[Attempt::Plain, Attempt::TlsRequired],
            Prefer => &[Attempt::TlsPreferred, Attempt::Plain],
            Require | VerifyCa | VerifyFull => &[Attempt::TlsRequired],
        },
    };
    let mut last = None;
    for (i, attempt) in attempts.iter().enumerate() {
        let pg = pg_config(cfg, target, opts, *attempt);
        let result = match (attempt, tls) {
            (Attempt::Plain, _) | (_, None) => open(&pg, NoTls).await,
            (_, Some(tls)) => open(&pg, tls.connector.clone()).await,
        };
        match result {
            Ok(client) => return Ok(client),
            Err(e) => {
                // libpq retries in the other mode when the server rejects the connection
                // (pg_hba.conf `hostssl`/`hostnossl`), not for other failures.
                let rejected = e
                    .code()
                    .is_some_and(|c| *c == SqlState::INVALID_AUTHORIZATION_SPECIFICATION);
                let last_attempt = i + 1 == attempts.len();
                if !rejected || last_attempt {
                    return Err(describe(&e, cfg, target, tls));
                }
                tracing::debug!(
                    "{}:{} rejected the connection ({e}); retrying {}",
                    target.name(),
                    target.port,
                    if *attempt == Attempt::Plain {
                        "with TLS"
                    } else {
                        "without TLS"
                    }
                );
                last = Some(e);
            }
        }
    }
    Err(last.map_or_else(String::new, |e| describe(&e, cfg, target, tls)))
}

async fn open<T>(pg: &tokio_postgres::Config, tls: T) -> Result<Client, tokio_postgres::Error>
where
    T: MakeTlsConnect<Socket>,
    T::Stream: Send + 'static,
    T::TlsConnect: Send,
    <T::TlsConnect as TlsConnect<Socket>>::Future: Send,
{
    let (client, connection) = pg.connect(tls).await?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!("PostgreSQL connection ended with an error: {e}");
        }
    });
    Ok(client)
}

fn pg_config(
    cfg: &ConnConfig,
    target: &Target,
    opts: &SessionOptions,
    attempt: Attempt,
) -> tokio_postgres::Config {
    let mut pg = tokio_postgres::Config::new();
    match (&target.host, target.hostaddr) {
        (Some(Host::Tcp(h)), _) => pg.host(h),
        (Some(Host::Unix(p)), None) => pg.host_path(p),
        // With only an address, the address is also the name TLS verifies.
        (_, Some(addr)) => pg.host(addr.to_string()),
        (None, None) => pg.host_path(super::default_socket_dir()),
    };
    if let Some(addr) = target.hostaddr {
        pg.hostaddr(addr);
    }
    pg.port(target.port)
        .user(&cfg.user)
        .dbname(&cfg.dbname)
        .application_name(&opts.application_name)
        .target_session_attrs(cfg.target_session_attrs)
        .channel_binding(cfg.channel_binding)
        .ssl_negotiation(cfg.ssl_negotiation)
        .ssl_mode(match attempt {
            Attempt::Plain => tokio_postgres::config::SslMode::Disable,
            Attempt::TlsPreferred => tokio_postgres::config::SslMode::Prefer,
            Attempt::TlsRequired => tokio_postgres::config::SslMode::Require,
        });
    if let Some(pw) = &cfg.password {
        pg.password(pw);
    }
    if let Some(options) = &cfg.options {
        pg.options(options);
    }
    if let Some(t) = cfg.connect_timeout {
        pg.connect_timeout(t);
    }
    let k = &cfg.keepalives;
    if let Some(on) = k.enabled {
        pg.keepalives(on);
    }
    if let Some(d) = k.idle {
        pg.keepalives_idle(d);
    }
    if let Some(d) = k.interval {
        pg.keepalives_interval(d);
    }
    if let Some(n) = k.count {
        pg.keepalives_retries(n);
    }
    if let Some(d) = k.tcp_user_timeout {
        pg.tcp_user_timeout(d);
    }
    pg
}

const START_HINT: &str = "is the server running? (try `dbarch dev start`)";

/// A reason a user can act on, from a connection error. Never includes the password: the
/// server's messages do not contain it and neither do ours.
fn describe(
    e: &tokio_postgres::Error,
    cfg: &ConnConfig,
    target: &Target,
    tls: Option<&Tls>,
) -> String {
    if let Some(db) = e.as_db_error() {
        let code = db.code();
        return if *code == SqlState::INVALID_PASSWORD {
            let hint = if cfg.has_password() {
                ""
            } else {
                " (no password was given: put it in the URL, PGPASSWORD or ~/.pgpass)"
            };
            format!(
                "password authentication failed for user \"{}\"{hint}",
                cfg.user
            )
        } else if *code == SqlState::INVALID_CATALOG_NAME {
            format!("database \"{}\" does not exist", cfg.dbname)
        } else if *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
            || *code == SqlState::TOO_MANY_CONNECTIONS
            || *code == SqlState::CANNOT_CONNECT_NOW
        {
            db.message().to_owned()
        } else {
            format!("{} (SQLSTATE {})", db.message(), code.code())
        };
    }

    let chain: Vec<&(dyn StdError + 'static)> =
        std::iter::successors(Some(e as &(dyn StdError + 'static)), |&e| e.source()).collect();
    // tokio-rustls wraps rustls errors in io::Error, whose source() skips the wrapped error.
    let rustls_error = chain.iter().find_map(|e| {
        e.downcast_ref::<io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    });
    if let Some(err) = rustls_error {
        return describe_tls(err, target, tls);
    }
    let text = chain
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ");
    if let Some(io) = chain.iter().find_map(|e| e.downcast_ref::<io::Error>()) {
        match io.kind() {
            io::ErrorKind::ConnectionRefused => {
                return format!("connection refused — {START_HINT}");
            }
            io::ErrorKind::NotFound => {
                if let Some(Host::Unix(dir)) = &target.host {
                    return format!(
                        "no server socket {}/.s.PGSQL.{} — {START_HINT}",
                        dir.display(),
                        target.port
                    );
                }
            }
            io::ErrorKind::TimedOut => {
                let after = cfg
                    .connect_timeout
                    .map(|t| format!(" after {} s", t.as_secs()))
                    .unwrap_or_default();
                return format!("timed out{after} (is the host reachable and the port open?)");
            }
            _ => {}
        }
        let msg = io.to_string();
        if msg.contains("lookup address") || msg.contains("Name or service not known") {
            return format!("could not resolve host name \"{}\"", target.name());
        }
    }
    if text.contains("server does not support TLS") {
        return format!(
            "the server does not accept TLS connections (sslmode={}); use sslmode=prefer to \
             allow plaintext",
            cfg.sslmode
        );
    }
    if text.contains("password missing") {
        return format!(
            "the server requires a password for user \"{}\" but none was given (put it in the \
             URL, PGPASSWORD or ~/.pgpass)",
            cfg.user
        );
    }
    text
}

fn describe_tls(err: &rustls::Error, target: &Target, tls: Option<&Tls>) -> String {
    use rustls::CertificateError as C;
    let roots = tls
        .and_then(|t| t.roots.as_deref())
        .unwrap_or("the root certificates");
    match err {
        rustls::Error::InvalidCertificate(C::UnknownIssuer | C::BadSignature) => {
            format!("TLS: the server certificate is not signed by a CA in {roots}")
        }
        rustls::Error::InvalidCertificate(
            C::NotValidForName | C::NotValidForNameContext { .. },
        ) => {
            format!(
                "TLS: the server certificate is not valid for host \"{}\" (sslmode=verify-full)",
                target.name()
            )
        }
        rustls::Error::InvalidCertificate(C::Expired | C::ExpiredContext { .. }) => {
            "TLS: the server certificate has expired".to_owned()
        }
        other => {
            let level = match tls.map(|t| t.verification) {
                Some(Verification::Full) => " (verifying chain and host name)",
                Some(Verification::Chain) => " (verifying the chain)",
                _ => "",
            };
            format!("TLS handshake failed{level}: {other}")
        }
    }
}
