//! `postgres://` / `postgresql://` URLs, following libpq's `conninfo_uri_parse`.

use super::params::Params;

const SCHEMES: &[&str] = &["postgresql://", "postgres://"];

/// True if `s` looks like a URL (any scheme), so that a wrong scheme gets a URL error rather
/// than a confusing conninfo one.
pub(crate) fn is_url(s: &str) -> bool {
    let s = s.trim_start();
    match s.find("://") {
        Some(i) => s[..i]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')),
        None => false,
    }
}

pub(crate) fn parse(s: &str, out: &mut Params) -> Result<(), String> {
    let s = s.trim();
    let rest = SCHEMES
        .iter()
        .find_map(|scheme| strip_prefix_ignore_case(s, scheme))
        .ok_or_else(|| {
            let scheme = s.split("://").next().unwrap_or_default();
            format!("unsupported URL scheme \"{scheme}\" (expected postgresql:// or postgres://)")
        })?;

    // Split off the query first: '?' cannot appear unencoded elsewhere.
    let (before_query, query) = match rest.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (rest, None),
    };

    // Like libpq, user info ends at the first '@' seen before any '/'.
    let mut authority_and_path = before_query;
    let end = authority_and_path
        .find(['@', '/'])
        .unwrap_or(authority_and_path.len());
    if authority_and_path[end..].starts_with('@') {
        let userinfo = &authority_and_path[..end];
        authority_and_path = &authority_and_path[end + 1..];
        let (user, password) = match userinfo.split_once(':') {
            Some((u, p)) => (u, Some(p)),
            None => (userinfo, None),
        };
        if !user.is_empty() {
            out.set("user", decode(user)?)?;
        }
        if let Some(p) = password.filter(|p| !p.is_empty()) {
            out.set("password", decode(p)?)?;
        }
    }

    let (authority, path) = match authority_and_path.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (authority_and_path, None),
    };
    parse_hosts(authority, out)?;

    if let Some(path) = path.filter(|p| !p.is_empty()) {
        out.set("dbname", decode(path)?)?;
    }

    if let Some(query) = query {
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').ok_or_else(|| {
                format!(
                    "missing \"=\" in URL query parameter \"{}\"",
                    decode_lossy(pair)
                )
            })?;
            let key = decode(key)?;
            let value = decode(value)?;
            // libpq accepts the JDBC spelling ssl=true.
            if key == "ssl" {
                if value == "true" {
                    out.set("sslmode", "require".to_owned())?;
                    continue;
                }
                return Err(format!(
                    "invalid value \"{value}\" for URL parameter \"ssl\""
                ));
            }
            out.set(&key, value)?;
        }
    }
    Ok(())
}

/// `h1:5432,[::1]:5433,%2Ftmp` → host="h1,::1,/tmp", port="5432,5433,".
fn parse_hosts(authority: &str, out: &mut Params) -> Result<(), String> {
    if authority.is_empty() {
        return Ok(());
    }
    let mut hosts = Vec::new();
    let mut ports = Vec::new();
    let mut rest = authority;
    loop {
        let (host, after_host) = if let Some(inner) = rest.strip_prefix('[') {
            let close = inner
                .find(']')
                .ok_or_else(|| "missing \"]\" after IPv6 host address in URL".to_owned())?;
            if close == 0 {
                return Err("empty IPv6 host address in URL".to_owned());
            }
            (inner[..close].to_owned(), &inner[close + 1..])
        } else {
            let end = rest.find([':', ',']).unwrap_or(rest.len());
            (decode(&rest[..end])?, &rest[end..])
        };
        let (port, after_port) = if let Some(p) = after_host.strip_prefix(':') {
            let end = p.find(',').unwrap_or(p.len());
            (&p[..end], &p[end..])
        } else {
            ("", after_host)
        };
        if !port.is_empty() && !port.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("invalid port \"{port}\" in URL"));
        }
        hosts.push(host);
        ports.push(port.to_owned());
        match after_port.strip_prefix(',') {
            Some(next) => rest = next,
            None if after_port.is_empty() => break,
            None => return Err(format!("unexpected \"{after_port}\" after host in URL")),
        }
    }
    if hosts.iter().any(|h| !h.is_empty()) {
        out.set("host", hosts.join(","))?;
    }
    if ports.iter().any(|p| !p.is_empty()) {
        out.set("port", ports.join(","))?;
    }
    Ok(())
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// Strict percent-decoding like libpq: a bad `%` sequence or `%00` is an error.
pub(crate) fn decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| "invalid percent-encoded token in URL".to_owned())?;
            if hex == 0 {
                return Err("forbidden value %00 in percent-encoded URL".to_owned());
            }
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "percent-encoded URL part is not valid UTF-8".to_owned())
}

fn decode_lossy(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}
