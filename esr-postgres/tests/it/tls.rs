//! TLS against a real server that offers it: `scripts/postgres` starts one under a throwaway CA
//! whose certificate is in `ESR_POSTGRES_CA`, with a server certificate naming 127.0.0.1 only.
//! Built with the `tls` feature: `cargo test -p esr-postgres --features tls --test it tls::`.

use crate::common::{temp, unique_schema, url};
use esr_core::chrono::{TimeZone, Utc};
use esr_core::org::TrustSettings;
use esr_core::{Error, Esr, ManualClock, VpdCode};
use esr_postgres::{PgConfig, PostgresStore};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

/// The throwaway CA's certificate; a test fails (never skips) without it.
fn ca() -> Vec<u8> {
    let path = std::env::var("ESR_POSTGRES_CA").unwrap_or_else(|_| {
        panic!(
            "ESR_POSTGRES_CA is not set: the TLS tests need the CA of a server offering TLS; \
             `scripts/postgres start` makes one and `eval \"$(scripts/postgres env)\"` sets it"
        )
    });
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read ESR_POSTGRES_CA {path}: {e}"))
}

/// The server's URL with `params` added to its query.
fn with(url: &str, params: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{params}")
}

/// A configuration in a schema of its own that gives up on connecting after two seconds.
fn config(url: &str) -> PgConfig {
    let mut c = PgConfig::new(url);
    c.schema = Some(unique_schema("tls"));
    c.pool_size = 2;
    c.connect_timeout = Duration::from_secs(2);
    c
}

fn open_err(c: &PgConfig) -> String {
    let e = PostgresStore::open(c).expect_err("the store must refuse this connection");
    assert!(matches!(e, Error::Storage(_)), "{e:?}");
    e.to_string()
}

#[test]
fn a_store_given_the_ca_talks_tls_and_verifies_the_server() {
    let name = unique_schema("tls_app");
    let c = config(&with(&url(), &format!("application_name={name}"))).with_root_certificates(ca());
    // Its schema is dropped with it, even when an assertion below fails.
    let store = temp(&c);
    let esr = Esr::new(
        store,
        ManualClock::new(Utc.with_ymd_and_hms(2026, 12, 6, 9, 0, 0).unwrap()),
    );
    let vpd: VpdCode = "297".parse().unwrap();
    esr.create_trust(vpd, "TLS NHS Trust", TrustSettings::default())
        .unwrap();
    assert_eq!(esr.trust(vpd).unwrap().name, "TLS NHS Trust");
    // The server's own view of the store's connections (found by the application name the
    // URL gave, which the store keeps): every one is TLS.
    let mut plain = postgres::Client::connect(&url(), postgres::NoTls).unwrap();
    let row = plain
        .query_one(
            "SELECT count(*), bool_and(s.ssl) FROM pg_stat_ssl s \
             JOIN pg_stat_activity a ON a.pid = s.pid WHERE a.application_name = $1",
            &[&name],
        )
        .unwrap();
    let (n, all_tls): (i64, Option<bool>) = (row.get(0), row.get(1));
    assert!(n >= 1, "no connection of the store was found");
    assert_eq!(all_tls, Some(true), "a connection of the store is not TLS");
}

#[test]
fn without_the_ca_the_server_certificate_is_refused() {
    let c = config(&with(&url(), "sslmode=require"));
    let e = open_err(&c);
    assert!(e.contains("certificate verify failed"), "{e}");
}

#[test]
fn a_certificate_for_another_host_is_refused() {
    let u = url();
    assert!(
        u.contains("@127.0.0.1:"),
        "this test needs the throwaway server's URL (host 127.0.0.1): {u}"
    );
    // The certificate names 127.0.0.1, and the CA is trusted: only the name is wrong.
    let c = config(&u.replace("@127.0.0.1:", "@localhost:")).with_root_certificates(ca());
    let e = open_err(&c);
    assert!(e.contains("hostname mismatch"), "{e}");
}

#[test]
fn given_a_ca_a_server_saying_no_tls_is_not_talked_to_in_plain_text() {
    // What a downgrade looks like on the wire: the server (or anyone between) answers the
    // client's TLS request with "N". With sslmode=prefer (the default) a client would carry
    // on in plain text; a store given root certificates requires TLS instead.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, asked) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // Every connection the pool tries is answered the same way (the thread ends with the
        // test's process).
        for stream in listener.incoming() {
            let mut s = stream.unwrap();
            let mut request = [0u8; 8];
            if s.read_exact(&mut request).is_ok() {
                // SSLRequest: length 8, code 80877103.
                let asked_for_tls = request == [0, 0, 0, 8, 4, 210, 22, 47];
                let _ = tx.send(asked_for_tls);
                let _ = s.write_all(b"N");
            }
        }
    });
    let c = config(&format!("postgresql://esr@127.0.0.1:{port}/esr")).with_root_certificates(ca());
    let e = open_err(&c);
    assert!(e.contains("server does not support TLS"), "{e}");
    assert!(
        asked.try_iter().all(|tls| tls),
        "a connection did not begin by asking for TLS"
    );
}

#[test]
fn root_certificates_that_are_not_pem_are_refused_before_connecting() {
    // Refused at open: nothing connects (the URL names no server).
    let nowhere = "postgresql://esr@127.0.0.1:1/esr";
    let e = open_err(&config(nowhere).with_root_certificates(b"not a certificate".to_vec()));
    assert!(e.contains("PEM"), "{e}");
}
