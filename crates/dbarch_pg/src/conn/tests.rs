use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;

use super::*;

/// An environment with a private HOME so the machine's files never leak into a test.
fn home_env(home: &Path, vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let mut all: Vec<(&str, String)> = vec![
        ("HOME", home.display().to_string()),
        ("PGSYSCONFDIR", home.join("etc").display().to_string()),
    ];
    all.extend(vars.iter().map(|(k, v)| (*k, (*v).to_owned())));
    let map: HashMap<String, String> = all.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    move |k: &str| map.get(k).cloned()
}

fn resolve(explicit: Option<&str>, env: &dyn Fn(&str) -> Option<String>) -> ConnConfig {
    ConnConfig::resolve(explicit, env)
        .expect("resolve")
        .expect("a config")
        .0
}

fn tcp_host(cfg: &ConnConfig, i: usize) -> &str {
    match &cfg.targets[i].host {
        Some(Host::Tcp(h)) => h,
        other => panic!("not a TCP host: {other:?}"),
    }
}

#[test]
fn url_basic_and_userinfo_encoding() {
    let c = ConnConfig::parse("postgres://al%40ice:p%3Aw%2Fd@db.example.com:6543/my%20db?sslmode=require&application_name=x&connect_timeout=5&options=-c%20search_path%3Dapp").unwrap();
    assert_eq!(c.user(), "al@ice");
    assert_eq!(c.password.as_deref(), Some("p:w/d"));
    assert_eq!(c.dbname(), "my db");
    assert_eq!(c.hosts(), "db.example.com");
    assert_eq!(c.port(), 6543);
    assert_eq!(c.sslmode(), SslMode::Require);
    assert_eq!(c.application_name.as_deref(), Some("x"));
    assert_eq!(c.connect_timeout, Some(Duration::from_secs(5)));
    assert_eq!(c.options.as_deref(), Some("-c search_path=app"));
    assert!(c.has_password());
    assert_eq!(
        c.redacted(),
        "postgres://al%40ice:****@db.example.com:6543/my%20db?sslmode=require"
    );
    assert!(!format!("{c:?}").contains("p:w/d"));
    assert_eq!(c.to_string(), c.redacted());
}

#[test]
fn url_multiple_hosts_ipv6_and_sockets() {
    let c = ConnConfig::parse("postgresql://u@h1:5433,[::1]:5434,h3/db").unwrap();
    assert_eq!(c.targets.len(), 3);
    assert_eq!(tcp_host(&c, 0), "h1");
    assert_eq!(c.targets[0].port, 5433);
    assert_eq!(tcp_host(&c, 1), "::1");
    assert_eq!(c.targets[1].port, 5434);
    assert_eq!(tcp_host(&c, 2), "h3");
    assert_eq!(c.targets[2].port, 5432);
    assert_eq!(c.redacted(), "postgres://u@h1:5433,[::1]:5434,h3:5432/db");

    let c = ConnConfig::parse("postgres://%2Fvar%2Frun%2Fpg:5999/db").unwrap();
    assert_eq!(c.targets[0].host, Some(Host::Unix("/var/run/pg".into())));
    assert_eq!(c.port(), 5999);
    // The redacted form parses back to the same settings.
    assert_eq!(ConnConfig::parse(&c.redacted()).unwrap().targets, c.targets);

    let c = ConnConfig::parse("postgresql:///db?host=/tmp/sock&port=7000&user=bob").unwrap();
    assert_eq!(c.targets[0].host, Some(Host::Unix("/tmp/sock".into())));
    assert_eq!(c.port(), 7000);
    assert_eq!(c.user(), "bob");

    // The query overrides the authority, like libpq.
    let c = ConnConfig::parse("postgres://u@a/db?host=b&dbname=other&ssl=true").unwrap();
    assert_eq!(c.hosts(), "b");
    assert_eq!(c.dbname(), "other");
    assert_eq!(c.sslmode(), SslMode::Require);

    let c = ConnConfig::parse("postgres://u@h1,h2/db?port=1,2").unwrap();
    assert_eq!([c.targets[0].port, c.targets[1].port], [1, 2]);
}

#[test]
fn url_errors_name_the_problem_and_hide_the_password() {
    let err = ConnConfig::parse("postgres://u:s3cret@h/db?bogus=1").unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("\"bogus\""), "{msg}");
    assert!(!msg.contains("s3cret"), "{msg}");
    assert!(msg.contains("u:****@h"), "{msg}");

    for bad in [
        "postgres://u:s3cret@h:port/db",
        "postgres://u:s3cret@[::1/db",
        "postgres://u:s3cret@h/db%zz",
        "postgres://u:s3cret@h/db?sslmode",
        "mysql://u:s3cret@h/db",
        "postgres://u:s3cret@h/db?sslmode=sometimes",
        "postgres://u:s3cret@h/db?sslcert=/x",
        "postgres://u:s3cret@h:0/db",
    ] {
        let err = ConnConfig::parse(bad).expect_err(bad);
        assert!(
            matches!(err, Error::InvalidConnString { .. }),
            "{bad}: {err:?}"
        );
        assert!(err.is_input());
        let msg = err.to_string();
        assert!(!msg.contains("s3cret"), "{bad}: {msg}");
    }
    let msg = ConnConfig::parse("postgres://u@h/db?sslcert=/x")
        .unwrap_err()
        .to_string();
    assert!(msg.contains("\"sslcert\" is not supported"), "{msg}");
}

#[test]
fn conninfo_quotes_escapes_and_spaces() {
    let c = ConnConfig::parse(
        r"host=localhost port = 5433  user='o\'neil' password='a b\\c' dbname=my\ db sslmode=disable",
    )
    .unwrap();
    assert_eq!(c.hosts(), "localhost");
    assert_eq!(c.port(), 5433);
    assert_eq!(c.user(), "o'neil");
    assert_eq!(c.password.as_deref(), Some(r"a b\c"));
    assert_eq!(c.dbname(), "my db");
    assert_eq!(c.sslmode(), SslMode::Disable);

    let c = ConnConfig::parse("host=h1,h2 hostaddr=10.0.0.1,10.0.0.2 port=1,2 user=u").unwrap();
    assert_eq!(c.targets[1].hostaddr, Some("10.0.0.2".parse().unwrap()));
    assert_eq!(c.targets[1].port, 2);
    assert_eq!(c.dbname(), "u");

    for bad in [
        "host=h password='s3cret",
        "host=h password=s3cret nonsense",
        "host=h password=s3cret frobnicate=1",
        "host=h1,h2 port=1,2,3 password=s3cret",
        "host=h hostaddr=not-an-ip password=s3cret",
    ] {
        let err = ConnConfig::parse(bad).expect_err(bad);
        let msg = err.to_string();
        assert!(!msg.contains("s3cret"), "{bad}: {msg}");
        assert!(msg.contains("****"), "{bad}: {msg}");
    }
    let msg = ConnConfig::parse("host=h frobnicate=1")
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("unknown connection parameter \"frobnicate\""),
        "{msg}"
    );
}

#[test]
fn defaults() {
    let c = ConnConfig::parse("").unwrap();
    let user = os_user_name().unwrap();
    assert_eq!(c.user(), user);
    assert_eq!(c.dbname(), user);
    assert_eq!(c.port(), 5432);
    assert_eq!(c.targets[0].host, Some(Host::Unix(default_socket_dir())));
    assert_eq!(c.sslmode(), SslMode::Prefer);
    assert_eq!(c.connect_timeout, Some(DEFAULT_CONNECT_TIMEOUT));
    assert_eq!(
        ConnConfig::parse("connect_timeout=0")
            .unwrap()
            .connect_timeout,
        None
    );
    assert_eq!(
        ConnConfig::parse("connect_timeout=1")
            .unwrap()
            .connect_timeout,
        Some(Duration::from_secs(2))
    );
}

#[test]
fn resolve_source_selection() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    // Nothing configured: the caller uses the dev server.
    assert!(
        ConnConfig::resolve(None, &home_env(home, &[]))
            .unwrap()
            .is_none()
    );
    // Variables that do not name a server do not count.
    assert!(
        ConnConfig::resolve(
            None,
            &home_env(home, &[("PGPASSWORD", "x"), ("PGSSLMODE", "require")])
        )
        .unwrap()
        .is_none()
    );

    let env = home_env(
        home,
        &[
            ("DATABASE_URL", "postgres://fromenv/db1"),
            ("PGHOST", "pghost"),
        ],
    );
    let (c, src) = ConnConfig::resolve(Some("postgres://flag/db0"), &env)
        .unwrap()
        .unwrap();
    assert_eq!((src, c.hosts().as_str()), (ConnSource::Flag, "flag"));
    let (c, src) = ConnConfig::resolve(None, &env).unwrap().unwrap();
    assert_eq!(
        (src, c.hosts().as_str()),
        (ConnSource::DatabaseUrl, "fromenv")
    );

    let env = home_env(home, &[("PGDATABASE", "app")]);
    let (c, src) = ConnConfig::resolve(None, &env).unwrap().unwrap();
    assert_eq!(src, ConnSource::Environment);
    assert_eq!(c.dbname(), "app");

    // A bad variable is reported by name.
    let env = home_env(home, &[("PGHOST", "h"), ("PGSSLMODE", "bogus")]);
    let msg = ConnConfig::resolve(None, &env).unwrap_err().to_string();
    assert!(msg.contains("PGSSLMODE") && msg.contains("bogus"), "{msg}");
}

#[test]
fn precedence_string_service_env_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    std::fs::write(
        home.join(".pg_service.conf"),
        "# comment\n[other]\nhost=wrong\n\n[svc]\nhost = svchost\nport=6000\ndbname=svcdb\n",
    )
    .unwrap();
    let env = home_env(
        home,
        &[
            ("PGHOST", "envhost"),
            ("PGPORT", "7000"),
            ("PGDATABASE", "envdb"),
            ("PGUSER", "envuser"),
            ("PGSSLMODE", "disable"),
            ("PGAPPNAME", "envapp"),
        ],
    );
    // string > service > env > defaults
    let c = resolve(Some("service=svc dbname=strdb"), &env);
    assert_eq!(c.dbname(), "strdb");
    assert_eq!(c.hosts(), "svchost");
    assert_eq!(c.port(), 6000);
    assert_eq!(c.user(), "envuser");
    assert_eq!(c.sslmode(), SslMode::Disable);
    assert_eq!(c.application_name.as_deref(), Some("envapp"));

    // PGSERVICE works without a string, and the service outranks the other variables.
    let env2 = home_env(home, &[("PGSERVICE", "svc"), ("PGHOST", "envhost")]);
    let (c, src) = ConnConfig::resolve(None, &env2).unwrap().unwrap();
    assert_eq!(src, ConnSource::Environment);
    assert_eq!(c.hosts(), "svchost");

    // Without a service: env fills what the URL leaves out.
    let c = resolve(Some("postgres://urlhost/urldb"), &env);
    assert_eq!(
        (c.hosts().as_str(), c.port(), c.dbname(), c.user()),
        ("urlhost", 7000, "urldb", "envuser")
    );

    // An unknown service is an error naming it and the files searched.
    let msg = ConnConfig::resolve(Some("service=nope"), &env)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("\"nope\"") && msg.contains(".pg_service.conf"),
        "{msg}"
    );
}

#[test]
fn service_file_order_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    std::fs::create_dir(home.join("etc")).unwrap();
    std::fs::write(
        home.join("etc/pg_service.conf"),
        "[sys]\nhost=syshost\n[both]\nhost=sys\n",
    )
    .unwrap();
    let custom = home.join("custom.conf");
    std::fs::write(&custom, "[both]\nhost=user\n").unwrap();
    let env = home_env(home, &[("PGSERVICEFILE", custom.to_str().unwrap())]);
    assert_eq!(resolve(Some("service=sys"), &env).hosts(), "syshost");
    assert_eq!(resolve(Some("service=both"), &env).hosts(), "user");

    std::fs::write(&custom, "[bad]\nhost=h\nfrobnicate=1\n").unwrap();
    let msg = ConnConfig::resolve(Some("service=bad"), &env)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("line 3") && msg.contains("frobnicate"),
        "{msg}"
    );
}

#[test]
fn pgpass_matching() {
    let text = "# comment\n\
                other:5432:*:u:wrong\n\
                db\\:host:*:app:u:escaped\\:pw\n\
                *:5433:*:*:wild\n\
                h:5432:app:u:exact:extra\n\
                *:*:*:u:last\n";
    assert_eq!(
        pgpass::find(text, "db:host", "5432", "app", "u").as_deref(),
        Some("escaped:pw")
    );
    assert_eq!(
        pgpass::find(text, "x", "5433", "y", "z").as_deref(),
        Some("wild")
    );
    assert_eq!(
        pgpass::find(text, "h", "5432", "app", "u").as_deref(),
        Some("exact")
    );
    assert_eq!(
        pgpass::find(text, "zzz", "1", "d", "u").as_deref(),
        Some("last")
    );
    assert_eq!(pgpass::find(text, "zzz", "1", "d", "v"), None);
    // A literal `\*` is not a wildcard.
    assert_eq!(pgpass::find("\\*:*:*:*:pw\n", "h", "1", "d", "u"), None);
}

#[test]
fn pgpass_file_lookup_and_permissions() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let pass = home.join(".pgpass");
    std::fs::write(
        &pass,
        "dbhost:5432:app:alice:fromfile\nlocalhost:5432:*:*:local\n",
    )
    .unwrap();
    std::fs::set_permissions(&pass, std::fs::Permissions::from_mode(0o600)).unwrap();
    let env = home_env(home, &[]);

    let c = resolve(Some("postgres://alice@dbhost/app"), &env);
    assert_eq!(c.password.as_deref(), Some("fromfile"));
    assert!(c.has_password());
    assert!(c.redacted().contains("alice:****@"));
    // A password in the string or PGPASSWORD wins over the file.
    let c = resolve(Some("postgres://alice:given@dbhost/app"), &env);
    assert_eq!(c.password.as_deref(), Some("given"));
    let env_pw = home_env(home, &[("PGPASSWORD", "envpw")]);
    assert_eq!(
        resolve(Some("postgres://alice@dbhost/app"), &env_pw)
            .password
            .as_deref(),
        Some("envpw")
    );
    // The default socket directory matches "localhost".
    let c = resolve(Some("user=bob dbname=x"), &env);
    assert_eq!(c.password.as_deref(), Some("local"));
    // Not for parse(): no environment, no password file.
    assert!(
        !ConnConfig::parse("postgres://alice@dbhost/app")
            .unwrap()
            .has_password()
    );

    // Group/world-readable files are ignored, like libpq.
    std::fs::set_permissions(&pass, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert!(!resolve(Some("postgres://alice@dbhost/app"), &env).has_password());

    // PGPASSFILE and passfile= choose another file.
    let other = home.join("other");
    std::fs::write(&other, "*:*:*:*:other\n").unwrap();
    std::fs::set_permissions(&other, std::fs::Permissions::from_mode(0o600)).unwrap();
    let env_file = home_env(home, &[("PGPASSFILE", other.to_str().unwrap())]);
    assert_eq!(
        resolve(Some("postgres://alice@dbhost/app"), &env_file)
            .password
            .as_deref(),
        Some("other")
    );
}

#[test]
fn sslrootcert_rules() {
    let dir = tempfile::tempdir().unwrap();
    let env = home_env(dir.path(), &[]);
    let c = resolve(Some("host=h sslrootcert=system"), &env);
    assert_eq!(c.sslmode(), SslMode::VerifyFull);
    assert_eq!(c.rootcert, Some(RootCert::System));
    let msg = ConnConfig::resolve(Some("host=h sslrootcert=system sslmode=require"), &env)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("weak sslmode"), "{msg}");
    let c = resolve(Some("host=h"), &env);
    assert_eq!(
        c.rootcert,
        Some(RootCert::Default(dir.path().join(".postgresql/root.crt")))
    );
    // verify-* without the file: a clear error naming it.
    let c = resolve(Some("host=h sslmode=verify-ca"), &env);
    let Err(err) = crate::tls::for_config(&c) else {
        panic!("expected an error")
    };
    assert!(err.to_string().contains(".postgresql/root.crt"), "{err}");
}

#[test]
fn tcp_with_dbname_and_env_for_children() {
    let c = ConnConfig::tcp("127.0.0.1", 5555, "postgres", "postgres");
    assert_eq!(c.redacted(), "postgres://postgres@127.0.0.1:5555/postgres");
    let d = c.with_dbname("other");
    assert_eq!(d.dbname(), "other");
    assert_eq!(d.port(), 5555);
    let vars: HashMap<_, _> = d.with_password("pw").libpq_env().into_iter().collect();
    assert_eq!(vars["PGHOST"], "127.0.0.1");
    assert_eq!(vars["PGPORT"], "5555");
    assert_eq!(vars["PGDATABASE"], "other");
    assert_eq!(vars["PGPASSWORD"], "pw");
    assert_eq!(
        ConnConfig::tcp("::1", 1, "u", "d").redacted(),
        "postgres://u@[::1]:1/d"
    );
}

#[test]
fn session_sql() {
    let sql = SessionOptions::default().setup_sql_for_test();
    assert_eq!(
        sql,
        "SET statement_timeout = '60000ms';SET default_transaction_read_only = on;"
    );
    let w = SessionOptions {
        lock_timeout: Some(Duration::from_secs(2)),
        ..SessionOptions::writer()
    };
    assert_eq!(
        w.setup_sql_for_test(),
        "SET statement_timeout = '60000ms';SET lock_timeout = '2000ms';"
    );
}
