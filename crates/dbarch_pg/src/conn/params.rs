//! The raw, layered parameter set: libpq keywords and their string values, before they are
//! interpreted. Keeping strings (and where each came from) lets the layers (string > service
//! file > environment > defaults) be merged exactly like libpq does, and lets errors say which
//! layer supplied a bad value.

use std::collections::BTreeMap;
use std::fmt;

/// libpq keywords dbarch understands.
pub(crate) const KEYWORDS: &[&str] = &[
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "password",
    "passfile",
    "service",
    "sslmode",
    "sslrootcert",
    "sslnegotiation",
    "application_name",
    "fallback_application_name",
    "connect_timeout",
    "options",
    "target_session_attrs",
    "channel_binding",
    "gssencmode",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_count",
    "tcp_user_timeout",
];

/// libpq keywords dbarch knows but does not implement: rejected by name rather than silently
/// ignored, because most of them change security or routing.
const UNSUPPORTED: &[&str] = &[
    "sslcert",
    "sslkey",
    "sslpassword",
    "sslcertmode",
    "sslcrl",
    "sslcrldir",
    "sslsni",
    "sslcompression",
    "ssl_min_protocol_version",
    "ssl_max_protocol_version",
    "requiressl",
    "requirepeer",
    "require_auth",
    "krbsrvname",
    "gsslib",
    "gssdelegation",
    "load_balance_hosts",
    "replication",
    "min_protocol_version",
    "max_protocol_version",
    "oauth_issuer",
    "oauth_client_id",
    "oauth_client_secret",
    "oauth_scope",
];

/// Checks a keyword from a string or a service file.
pub(crate) fn check_keyword(key: &str) -> Result<&'static str, String> {
    if let Some(k) = KEYWORDS.iter().find(|k| **k == key) {
        Ok(k)
    } else if UNSUPPORTED.contains(&key) {
        Err(format!(
            "connection parameter \"{key}\" is not supported by dbarch"
        ))
    } else {
        Err(format!("unknown connection parameter \"{key}\""))
    }
}

/// Where a value came from, for error messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Origin {
    String,
    Service { name: String, file: String },
    Env(&'static str),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::String => f.write_str("the connection string"),
            Origin::Service { name, file } => write!(f, "service \"{name}\" in {file}"),
            Origin::Env(var) => write!(f, "environment variable {var}"),
        }
    }
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Params {
    values: BTreeMap<&'static str, (String, Origin)>,
}

impl Params {
    /// Sets a value from a string; a later value for the same key wins (libpq's rule).
    pub(crate) fn set(&mut self, key: &str, value: String) -> Result<(), String> {
        let key = check_keyword(key)?;
        self.values.insert(key, (value, Origin::String));
        Ok(())
    }

    /// Sets a value only if the key is still unset (used by lower-precedence layers).
    pub(crate) fn fill(&mut self, key: &'static str, value: String, origin: Origin) {
        self.values.entry(key).or_insert((value, origin));
    }

    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(|(v, _)| v.as_str())
    }

    pub(crate) fn get_with_origin(&self, key: &str) -> Option<(&str, &Origin)> {
        self.values.get(key).map(|(v, o)| (v.as_str(), o))
    }
}
