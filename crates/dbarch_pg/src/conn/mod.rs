//! Connection settings with libpq's semantics, and sessions set up for analysis.
//!
//! [`ConnConfig::resolve`] implements the project convention (`--url`, then `DATABASE_URL`,
//! then the `PG*` variables, else the dev server) and libpq's precedence for every field left
//! unset: the string > the service file > `PG*` variables > defaults, then `~/.pgpass` for a
//! missing password. [`connect`] opens a [`tokio_postgres::Client`] with TLS per `sslmode` and
//! the session settings of [`SessionOptions`].

mod connect;
mod conninfo;
mod params;
mod pgpass;
mod service;
mod url;

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use tokio_postgres::config::{ChannelBinding, SslNegotiation, TargetSessionAttrs};

pub use connect::{SessionOptions, connect};
use params::{Origin, Params};

use crate::redact::redact_conn_string;
use crate::{Error, Result};

/// libpq's `sslmode`. The default is [`SslMode::Prefer`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SslMode {
    /// Plaintext only.
    Disable,
    /// Plaintext first; TLS (unverified) if the server rejects plaintext.
    Allow,
    /// TLS (unverified) if the server accepts it, else plaintext.
    #[default]
    Prefer,
    /// TLS without verification — unless a root certificate file is present, in which case
    /// the chain is verified like `verify-ca` (libpq's backwards-compatible rule).
    Require,
    /// TLS; the server certificate must chain to `sslrootcert`; the host name is not checked.
    VerifyCa,
    /// TLS; chain as for `verify-ca` and the certificate must name the host (DNS or IP SAN).
    VerifyFull,
}

impl SslMode {
    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

impl fmt::Display for SslMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SslMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "disable" => SslMode::Disable,
            "allow" => SslMode::Allow,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => return Err(format!("invalid sslmode value \"{s}\"")),
        })
    }
}

/// Where [`ConnConfig::resolve`] found the connection settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnSource {
    /// The `--url` flag.
    Flag,
    /// The `DATABASE_URL` variable.
    DatabaseUrl,
    /// The libpq `PG*` variables (and the service file they name).
    Environment,
}

impl fmt::Display for ConnSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConnSource::Flag => "--url",
            ConnSource::DatabaseUrl => "DATABASE_URL",
            ConnSource::Environment => "PG* environment variables",
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Host {
    Tcp(String),
    /// A directory holding the server's socket (`.s.PGSQL.<port>`).
    Unix(PathBuf),
}

/// One host to try, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Target {
    /// `None` when only `hostaddr` was given.
    pub(crate) host: Option<Host>,
    pub(crate) hostaddr: Option<IpAddr>,
    pub(crate) port: u16,
}

impl Target {
    /// The name used for TLS verification and messages: the host name, else the address.
    fn name(&self) -> String {
        match (&self.host, self.hostaddr) {
            (Some(Host::Tcp(h)), _) => h.clone(),
            (Some(Host::Unix(p)), None) => p.display().to_string(),
            (_, Some(a)) => a.to_string(),
            (None, None) => String::new(),
        }
    }
}

/// Root certificates for verifying servers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum RootCert {
    /// `~/.postgresql/root.crt`: used if present (required for `verify-*`).
    Default(PathBuf),
    /// `sslrootcert=FILE`.
    File(PathBuf),
    /// `sslrootcert=system`: the OS trust store.
    System,
}

/// Connection settings, resolved: every field has its final value (see the module docs).
///
/// `Display` and `Debug` never show the password.
#[derive(Clone, PartialEq, Eq)]
pub struct ConnConfig {
    pub(crate) targets: Vec<Target>,
    pub(crate) user: String,
    pub(crate) password: Option<String>,
    pub(crate) dbname: String,
    pub(crate) sslmode: SslMode,
    pub(crate) rootcert: Option<RootCert>,
    pub(crate) application_name: Option<String>,
    /// `None` waits forever (libpq's `connect_timeout=0`).
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) options: Option<String>,
    pub(crate) target_session_attrs: TargetSessionAttrs,
    pub(crate) channel_binding: ChannelBinding,
    pub(crate) ssl_negotiation: SslNegotiation,
    pub(crate) keepalives: Keepalives,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Keepalives {
    pub(crate) enabled: Option<bool>,
    pub(crate) idle: Option<Duration>,
    pub(crate) interval: Option<Duration>,
    pub(crate) count: Option<u32>,
    pub(crate) tcp_user_timeout: Option<Duration>,
}

/// The project's default `connect_timeout` when none is given (libpq waits forever).
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// `PG*` variables and the keyword each one supplies.
const ENV_VARS: &[(&str, &str)] = &[
    ("PGHOST", "host"),
    ("PGHOSTADDR", "hostaddr"),
    ("PGPORT", "port"),
    ("PGDATABASE", "dbname"),
    ("PGUSER", "user"),
    ("PGPASSWORD", "password"),
    ("PGPASSFILE", "passfile"),
    ("PGSSLMODE", "sslmode"),
    ("PGSSLROOTCERT", "sslrootcert"),
    ("PGSSLNEGOTIATION", "sslnegotiation"),
    ("PGAPPNAME", "application_name"),
    ("PGCONNECT_TIMEOUT", "connect_timeout"),
    ("PGOPTIONS", "options"),
    ("PGTARGETSESSIONATTRS", "target_session_attrs"),
    ("PGCHANNELBINDING", "channel_binding"),
    ("PGGSSENCMODE", "gssencmode"),
];

/// Variables whose presence means "the user configured a server through the environment".
const TRIGGER_VARS: &[&str] = &[
    "PGHOST",
    "PGHOSTADDR",
    "PGPORT",
    "PGDATABASE",
    "PGUSER",
    "PGSERVICE",
];

/// Which lower-precedence layers to apply on top of a string.
struct Layers {
    env_values: bool,
    pgpass: bool,
}

impl ConnConfig {
    /// Parses a `postgres://` URL or a libpq `key=value` string on its own: a service it names
    /// is looked up, unset fields get libpq's defaults, but `PG*` variables and `~/.pgpass` are
    /// not consulted (use [`ConnConfig::resolve`] or [`ConnConfig::from_env`] for that).
    pub fn parse(s: &str) -> Result<ConnConfig> {
        let process_env = |k: &str| std::env::var(k).ok();
        build(
            parse_params(s)?,
            Some(s),
            &process_env,
            Layers {
                env_values: false,
                pgpass: false,
            },
        )
    }

    /// The project convention: `explicit` (`--url`), else `DATABASE_URL`, else the `PG*`
    /// variables if any of PGHOST, PGHOSTADDR, PGPORT, PGDATABASE, PGUSER, PGSERVICE is set,
    /// else `Ok(None)` (the caller uses the dev server). Fields the chosen source leaves unset
    /// come from the service file, then the `PG*` variables, then defaults; a missing password
    /// from the password file. `env` reads a variable (injectable for tests); empty values
    /// count as unset.
    pub fn resolve(
        explicit: Option<&str>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Option<(ConnConfig, ConnSource)>> {
        let env = |k: &str| env(k).filter(|v| !v.is_empty());
        let database_url = env("DATABASE_URL");
        let (text, source) = match (explicit, &database_url) {
            (Some(s), _) => (Some(s), ConnSource::Flag),
            (None, Some(s)) => (Some(s.as_str()), ConnSource::DatabaseUrl),
            (None, None) if TRIGGER_VARS.iter().any(|v| env(v).is_some()) => {
                (None, ConnSource::Environment)
            }
            (None, None) => return Ok(None),
        };
        let params = match text {
            Some(s) => parse_params(s)?,
            None => Params::default(),
        };
        let layers = Layers {
            env_values: true,
            pgpass: true,
        };
        Ok(Some((build(params, text, &env, layers)?, source)))
    }

    /// [`ConnConfig::resolve`] with the process environment.
    pub fn from_env(explicit: Option<&str>) -> Result<Option<(ConnConfig, ConnSource)>> {
        Self::resolve(explicit, &|k| std::env::var(k).ok())
    }

    /// A TCP (or, for a host starting with `/`, Unix-socket) connection without password,
    /// `sslmode=prefer`; used for the dev and shadow servers.
    pub fn tcp(host: &str, port: u16, user: &str, dbname: &str) -> ConnConfig {
        let host = if host.starts_with('/') {
            Host::Unix(PathBuf::from(host))
        } else {
            Host::Tcp(
                host.trim_start_matches('[')
                    .trim_end_matches(']')
                    .to_owned(),
            )
        };
        ConnConfig {
            targets: vec![Target {
                host: Some(host),
                hostaddr: None,
                port,
            }],
            user: user.to_owned(),
            password: None,
            dbname: dbname.to_owned(),
            sslmode: SslMode::Prefer,
            rootcert: None,
            application_name: None,
            connect_timeout: Some(DEFAULT_CONNECT_TIMEOUT),
            options: None,
            target_session_attrs: TargetSessionAttrs::Any,
            channel_binding: ChannelBinding::Prefer,
            ssl_negotiation: SslNegotiation::Postgres,
            keepalives: Keepalives::default(),
        }
    }

    pub fn dbname(&self) -> &str {
        &self.dbname
    }

    pub fn user(&self) -> &str {
        &self.user
    }

    /// The hosts in the order they are tried, comma-separated: names, addresses (when only
    /// `hostaddr` was given) or socket directories.
    pub fn hosts(&self) -> String {
        let names: Vec<String> = self.targets.iter().map(Target::name).collect();
        names.join(",")
    }

    /// The port of the first host.
    pub fn port(&self) -> u16 {
        self.targets.first().map_or(5432, |t| t.port)
    }

    pub fn sslmode(&self) -> SslMode {
        self.sslmode
    }

    /// The same settings for another database of the same server(s). A password found in
    /// the password file for the original database is kept.
    pub fn with_dbname(&self, db: &str) -> ConnConfig {
        ConnConfig {
            dbname: db.to_owned(),
            ..self.clone()
        }
    }

    /// The same settings with a password (e.g. for a role created by the caller).
    pub fn with_password(&self, password: &str) -> ConnConfig {
        ConnConfig {
            password: Some(password.to_owned()),
            ..self.clone()
        }
    }

    pub fn has_password(&self) -> bool {
        self.password.is_some()
    }

    /// The libpq variables describing these settings, for child processes such as `psql` or
    /// `pg_dump` (the password travels as `PGPASSWORD`, never on a command line).
    pub fn libpq_env(&self) -> Vec<(&'static str, String)> {
        let mut vars = Vec::new();
        let join = |f: &dyn Fn(&Target) -> String| {
            self.targets.iter().map(f).collect::<Vec<_>>().join(",")
        };
        if self.targets.iter().any(|t| t.host.is_some()) {
            vars.push((
                "PGHOST",
                join(&|t| match &t.host {
                    Some(Host::Tcp(h)) => h.clone(),
                    Some(Host::Unix(p)) => p.display().to_string(),
                    None => String::new(),
                }),
            ));
        }
        if self.targets.iter().any(|t| t.hostaddr.is_some()) {
            vars.push((
                "PGHOSTADDR",
                join(&|t| t.hostaddr.map(|a| a.to_string()).unwrap_or_default()),
            ));
        }
        vars.push(("PGPORT", join(&|t| t.port.to_string())));
        vars.push(("PGUSER", self.user.clone()));
        vars.push(("PGDATABASE", self.dbname.clone()));
        if let Some(pw) = &self.password {
            vars.push(("PGPASSWORD", pw.clone()));
        }
        vars.push(("PGSSLMODE", self.sslmode.to_string()));
        match &self.rootcert {
            Some(RootCert::File(p)) => vars.push(("PGSSLROOTCERT", p.display().to_string())),
            Some(RootCert::System) => vars.push(("PGSSLROOTCERT", "system".to_owned())),
            _ => {}
        }
        if let Some(t) = self.connect_timeout {
            vars.push(("PGCONNECT_TIMEOUT", t.as_secs().to_string()));
        }
        if let Some(o) = &self.options {
            vars.push(("PGOPTIONS", o.clone()));
        }
        vars
    }

    /// `postgres://user@host:port/db?sslmode=…` with the password masked (`user:****@`):
    /// the form used in every message.
    pub fn redacted(&self) -> String {
        let mut s = String::from("postgres://");
        s.push_str(&encode(&self.user));
        if self.password.is_some() {
            s.push_str(":****");
        }
        s.push('@');
        let hosts: Vec<String> = self
            .targets
            .iter()
            .map(|t| {
                let host = match (&t.host, t.hostaddr) {
                    (Some(Host::Tcp(h)), _) if h.contains(':') => format!("[{h}]"),
                    (Some(Host::Tcp(h)), _) => encode(h),
                    (Some(Host::Unix(p)), _) => encode(&p.display().to_string()),
                    (None, Some(IpAddr::V6(a))) => format!("[{a}]"),
                    (None, Some(a)) => a.to_string(),
                    (None, None) => String::new(),
                };
                format!("{host}:{}", t.port)
            })
            .collect();
        s.push_str(&hosts.join(","));
        s.push('/');
        s.push_str(&encode(&self.dbname));
        let mut query = Vec::new();
        let with_both = |t: &&Target| t.host.is_some() && t.hostaddr.is_some();
        if self.targets.iter().any(|t| with_both(&t)) {
            let addrs: Vec<String> = self
                .targets
                .iter()
                .map(|t| t.hostaddr.map(|a| a.to_string()).unwrap_or_default())
                .collect();
            query.push(format!("hostaddr={}", addrs.join(",")));
        }
        if self.sslmode != SslMode::Prefer {
            query.push(format!("sslmode={}", self.sslmode));
        }
        if !query.is_empty() {
            s.push('?');
            s.push_str(&query.join("&"));
        }
        s
    }
}

impl fmt::Display for ConnConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for ConnConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnConfig")
            .field("targets", &self.targets)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "****"))
            .field("dbname", &self.dbname)
            .field("sslmode", &self.sslmode)
            .field("rootcert", &self.rootcert)
            .field("application_name", &self.application_name)
            .field("connect_timeout", &self.connect_timeout)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl FromStr for ConnConfig {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        ConnConfig::parse(s)
    }
}

/// Unreserved URL characters stay as they are; everything else is percent-encoded.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn encode(s: &str) -> String {
    utf8_percent_encode(s, COMPONENT).to_string()
}

fn parse_params(s: &str) -> Result<Params> {
    let mut params = Params::default();
    let parsed = if url::is_url(s) {
        url::parse(s, &mut params)
    } else {
        conninfo::parse(s, &mut params)
    };
    parsed.map_err(|reason| Error::InvalidConnString {
        redacted: redact_conn_string(s),
        reason,
    })?;
    Ok(params)
}

fn build(
    mut params: Params,
    text: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
    layers: Layers,
) -> Result<ConnConfig> {
    let service = params
        .get("service")
        .map(str::to_owned)
        .or_else(|| layers.env_values.then(|| env("PGSERVICE")).flatten());
    if let Some(name) = service {
        service::apply(&name, env, &mut params)?;
    }
    if layers.env_values {
        for (var, key) in ENV_VARS {
            if let Some(value) = env(var) {
                params.fill(key, value, Origin::Env(var));
            }
        }
    }
    let mut cfg = finalize(&params, text, env)?;
    if layers.pgpass && cfg.password.is_none() {
        let file = params
            .get("passfile")
            .map(PathBuf::from)
            .or_else(|| home_dir(env).map(|h| h.join(".pgpass")));
        if let Some(file) = file {
            cfg.password = password_from_file(&cfg, &file);
        }
    }
    Ok(cfg)
}

/// The first password-file entry matching one of the hosts, in order.
fn password_from_file(cfg: &ConnConfig, file: &Path) -> Option<String> {
    let default_socket = default_socket_dir();
    cfg.targets.iter().find_map(|t| {
        // libpq matches the default socket directory as "localhost".
        let host = match &t.host {
            Some(Host::Unix(p)) if *p == default_socket => "localhost".to_owned(),
            _ => t.name(),
        };
        pgpass::lookup(file, &host, &t.port.to_string(), &cfg.dbname, &cfg.user)
            .filter(|p| !p.is_empty())
    })
}

/// Interprets the layered strings and applies libpq's defaults.
fn finalize(
    p: &Params,
    text: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ConnConfig> {
    let bad = |key: &str, reason: String| -> Error {
        match p.get_with_origin(key).map(|(_, o)| o) {
            Some(Origin::String) | None => Error::InvalidConnString {
                redacted: text.map(redact_conn_string).unwrap_or_default(),
                reason,
            },
            Some(origin) => Error::ConnSettings {
                origin: origin.to_string(),
                reason,
            },
        }
    };
    let list = |key: &str| -> Vec<&str> {
        p.get(key)
            .map(|v| v.split(',').map(str::trim).collect())
            .unwrap_or_default()
    };

    let hosts = list("host");
    let addrs = list("hostaddr");
    let n = hosts.len().max(addrs.len()).max(1);
    if !hosts.is_empty() && !addrs.is_empty() && hosts.len() != addrs.len() {
        return Err(bad(
            "hostaddr",
            format!(
                "could not match {} host names to {} hostaddr values",
                hosts.len(),
                addrs.len()
            ),
        ));
    }
    let ports = list("port")
        .into_iter()
        .map(|s| match s {
            "" => Ok(5432),
            s => s
                .parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| bad("port", format!("invalid port number \"{s}\""))),
        })
        .collect::<Result<Vec<u16>>>()?;
    if ports.len() > 1 && ports.len() != n {
        return Err(bad(
            "port",
            format!("could not match {} port numbers to {n} hosts", ports.len()),
        ));
    }
    let mut targets = Vec::with_capacity(n);
    for i in 0..n {
        let hostaddr = match addrs.get(i).filter(|a| !a.is_empty()) {
            Some(a) => Some(a.parse::<IpAddr>().map_err(|_| {
                bad(
                    "hostaddr",
                    format!("invalid IP address \"{a}\" in hostaddr"),
                )
            })?),
            None => None,
        };
        let host = match hosts.get(i).filter(|h| !h.is_empty()) {
            Some(h) if h.starts_with('/') => Some(Host::Unix(PathBuf::from(h))),
            Some(h) => Some(Host::Tcp((*h).to_owned())),
            None if hostaddr.is_none() => Some(Host::Unix(default_socket_dir())),
            None => None,
        };
        let port = ports.get(i).or(ports.first()).copied().unwrap_or(5432);
        targets.push(Target {
            host,
            hostaddr,
            port,
        });
    }

    let user = match p.get("user") {
        Some(u) => u.to_owned(),
        None => os_user_name().ok_or_else(|| {
            bad(
                "user",
                "could not determine the OS user name; give a user".into(),
            )
        })?,
    };
    let dbname = p.get("dbname").unwrap_or(&user).to_owned();

    let rootcert = match p.get("sslrootcert") {
        Some("system") => Some(RootCert::System),
        Some(f) => Some(RootCert::File(PathBuf::from(f))),
        None => home_dir(env).map(|h| RootCert::Default(h.join(".postgresql/root.crt"))),
    };
    let sslmode = match p.get("sslmode") {
        Some(s) => s.parse::<SslMode>().map_err(|e| bad("sslmode", e))?,
        // libpq 16+: the OS trust store implies full verification.
        None if rootcert == Some(RootCert::System) => SslMode::VerifyFull,
        None => SslMode::Prefer,
    };
    if rootcert == Some(RootCert::System) && sslmode != SslMode::VerifyFull {
        return Err(bad(
            "sslmode",
            format!(
                "weak sslmode \"{sslmode}\" may not be used with sslrootcert=system (use \"verify-full\")"
            ),
        ));
    }

    let secs = |key: &str| -> Result<Option<i64>> {
        p.get(key)
            .map(|v| {
                v.trim()
                    .parse::<i64>()
                    .map_err(|_| bad(key, format!("invalid integer value \"{v}\" for \"{key}\"")))
            })
            .transpose()
    };
    let connect_timeout = match secs("connect_timeout")? {
        None => Some(DEFAULT_CONNECT_TIMEOUT),
        Some(t) if t <= 0 => None,
        // libpq's minimum.
        Some(t) => Some(Duration::from_secs(t.max(2) as u64)),
    };
    let positive = |key: &str| -> Result<Option<u64>> {
        secs(key)?
            .map(|v| {
                u64::try_from(v).map_err(|_| bad(key, format!("\"{key}\" must not be negative")))
            })
            .transpose()
    };
    let keepalives = Keepalives {
        enabled: secs("keepalives")?.map(|v| v != 0),
        idle: positive("keepalives_idle")?.map(Duration::from_secs),
        interval: positive("keepalives_interval")?.map(Duration::from_secs),
        count: positive("keepalives_count")?.map(|v| v.min(u64::from(u32::MAX)) as u32),
        tcp_user_timeout: positive("tcp_user_timeout")?.map(Duration::from_millis),
    };

    let target_session_attrs = match p.get("target_session_attrs") {
        None | Some("any") => TargetSessionAttrs::Any,
        Some("read-write") => TargetSessionAttrs::ReadWrite,
        Some("read-only") => TargetSessionAttrs::ReadOnly,
        Some(v) => {
            return Err(bad(
                "target_session_attrs",
                format!(
                    "target_session_attrs=\"{v}\" is not supported (use any, read-write or read-only)"
                ),
            ));
        }
    };
    let channel_binding = match p.get("channel_binding") {
        Some("disable") => ChannelBinding::Disable,
        None | Some("prefer") => ChannelBinding::Prefer,
        Some("require") => ChannelBinding::Require,
        Some(v) => {
            return Err(bad(
                "channel_binding",
                format!("invalid channel_binding value \"{v}\""),
            ));
        }
    };
    let ssl_negotiation = match p.get("sslnegotiation") {
        None | Some("postgres") => SslNegotiation::Postgres,
        Some("direct") => SslNegotiation::Direct,
        Some(v) => {
            return Err(bad(
                "sslnegotiation",
                format!("invalid sslnegotiation value \"{v}\""),
            ));
        }
    };
    match p.get("gssencmode") {
        None | Some("disable" | "prefer" | "allow") => {}
        Some("require") => {
            return Err(bad(
                "gssencmode",
                "gssencmode=require is not supported (dbarch has no GSSAPI support)".into(),
            ));
        }
        Some(v) => {
            return Err(bad(
                "gssencmode",
                format!("invalid gssencmode value \"{v}\""),
            ));
        }
    }

    Ok(ConnConfig {
        targets,
        user,
        password: p.get("password").map(str::to_owned),
        dbname,
        sslmode,
        rootcert,
        application_name: p
            .get("application_name")
            .or(p.get("fallback_application_name"))
            .map(str::to_owned),
        connect_timeout,
        options: p.get("options").map(str::to_owned),
        target_session_attrs,
        channel_binding,
        ssl_negotiation,
        keepalives,
    })
}

/// libpq's default socket directory: Debian's `/var/run/postgresql` if present, else `/tmp`.
pub(crate) fn default_socket_dir() -> PathBuf {
    let debian = Path::new("/var/run/postgresql");
    if debian.is_dir() {
        debian.to_owned()
    } else {
        PathBuf::from("/tmp")
    }
}

pub(crate) fn home_dir(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    env("HOME")
        .map(PathBuf::from)
        .or_else(|| passwd_entry().and_then(|(_, home)| home))
}

/// The effective user's name, as libpq takes it (from the password database).
pub(crate) fn os_user_name() -> Option<String> {
    passwd_entry()
        .map(|(name, _)| name)
        .or_else(|| std::env::var("USER").ok())
}

/// (name, home) of the effective user from the password database.
fn passwd_entry() -> Option<(String, Option<PathBuf>)> {
    use std::ffi::CStr;
    use std::os::unix::ffi::OsStrExt;
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    // SAFETY: a zeroed passwd is a valid out-parameter; getpwuid_r fills it with pointers
    // into `buf`, which outlives every use below.
    unsafe {
        let mut pwd: libc::passwd = std::mem::zeroed();
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        let rc = libc::getpwuid_r(
            libc::geteuid(),
            &mut pwd,
            buf.as_mut_ptr(),
            buf.len(),
            &mut result,
        );
        if rc != 0 || result.is_null() || pwd.pw_name.is_null() {
            return None;
        }
        let name = CStr::from_ptr(pwd.pw_name).to_string_lossy().into_owned();
        let home = (!pwd.pw_dir.is_null()).then(|| {
            PathBuf::from(std::ffi::OsStr::from_bytes(
                CStr::from_ptr(pwd.pw_dir).to_bytes(),
            ))
        });
        Some((name, home))
    }
}

#[cfg(test)]
mod tests;
