//! Keeping passwords out of messages, even for strings that could not be parsed.

/// Masks every password in a URL or libpq conninfo string, best effort for malformed input
/// (masking too much rather than too little): `user:pw@` → `user:****@`, `password=xyz` →
/// `password=****` (also quoted values and URL query parameters; any key ending in `password`).
pub fn redact_conn_string(s: &str) -> String {
    let is_url = s.contains("://");
    let mut out = if is_url {
        mask_userinfo(s)
    } else {
        s.to_owned()
    };
    out = mask_password_params(&out, is_url);
    out
}

/// `scheme://user:secret@host` → `scheme://user:****@host`. The user info ends at the last
/// `@` before the query, so an unencoded `@` or `/` in a password is still covered.
fn mask_userinfo(s: &str) -> String {
    let Some(start) = s.find("://").map(|i| i + 3) else {
        return s.to_owned();
    };
    let end_of_authority = s[start..].find('?').map_or(s.len(), |i| start + i);
    let Some(at) = s[start..end_of_authority].rfind('@').map(|i| start + i) else {
        return s.to_owned();
    };
    match s[start..at].find(':').map(|i| start + i) {
        Some(colon) => format!("{}:****{}", &s[..colon], &s[at..]),
        None => s.to_owned(),
    }
}

/// Replaces the value of every `…password=value` pair.
fn mask_password_params(s: &str, is_url: bool) -> String {
    let lower = s.to_ascii_lowercase();
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut copied = 0;
    let mut search = 0;
    while let Some(found) = lower[search..].find("password") {
        let key_end = search + found + "password".len();
        search = key_end;
        // Skip spaces, expect '=', skip spaces.
        let mut i = key_end;
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= bytes.len() || bytes[i] != b'=' {
            continue;
        }
        i += 1;
        while i < bytes.len() && bytes[i].is_ascii_whitespace() && !is_url {
            i += 1;
        }
        let value_start = i;
        let value_end = if !is_url && bytes.get(i) == Some(&b'\'') {
            // A quoted conninfo value: up to the closing unescaped quote, else to the end.
            let mut j = i + 1;
            loop {
                match bytes.get(j) {
                    None => break j,
                    Some(b'\\') => j += 2,
                    Some(b'\'') => break j + 1,
                    Some(_) => j += 1,
                }
            }
            .min(bytes.len())
        } else {
            let stop = |b: &u8| {
                if is_url {
                    *b == b'&' || *b == b'#'
                } else {
                    b.is_ascii_whitespace()
                }
            };
            bytes[i..]
                .iter()
                .position(stop)
                .map_or(bytes.len(), |p| i + p)
        };
        out.push_str(&s[copied..value_start]);
        out.push_str("****");
        copied = value_end;
        search = value_end.max(search);
    }
    out.push_str(&s[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::redact_conn_string as r;

    #[test]
    fn urls() {
        assert_eq!(r("postgres://u:pw@h/db"), "postgres://u:****@h/db");
        assert_eq!(r("postgres://u@h/db"), "postgres://u@h/db");
        // Malformed: unencoded '@' and '/' in the password, bad port.
        assert_eq!(r("postgres://u:p@s/s@h:x/db"), "postgres://u:****@h:x/db");
        assert_eq!(
            r("postgresql://h/db?user=u&password=sec%20ret&sslmode=x"),
            "postgresql://h/db?user=u&password=****&sslmode=x"
        );
        assert_eq!(
            r("postgres://h/db?password=abc"),
            "postgres://h/db?password=****"
        );
    }

    #[test]
    fn conninfo() {
        assert_eq!(
            r("host=h password=xyz user=u"),
            "host=h password=**** user=u"
        );
        assert_eq!(r("password = 'a b\\' c' x=1"), "password = **** x=1");
        assert_eq!(r("host=h password='unterminated"), "host=h password=****");
        assert_eq!(
            r("PASSWORD=x sslpassword=y"),
            "PASSWORD=**** sslpassword=****"
        );
        assert_eq!(r("host=h password"), "host=h password");
        assert_eq!(r("dbname=passwords"), "dbname=passwords");
    }
}
