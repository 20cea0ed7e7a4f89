//! The couchbase engine, as far as it can be tested without a Couchbase
//! Server: config parsing through the `Provider` API and the error path of
//! an unreachable cluster. Nothing here stands in for a server; the engine's
//! read/write logic is NOT exercised (see the module docs).

use std::net::TcpListener;
use std::time::Duration;

#[path = "support/deadline.rs"]
mod deadline;

use actix_bee::session::couchbase::CouchbaseProvider;
use actix_bee::session::{Error, IdGenerator, Manager, ManagerConfig, Provider};
use deadline::within;

fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[actix_rt::test]
async fn every_config_form_initialises_without_connecting() {
    for good in [
        "http://sessions:bucketpass@127.0.0.1:8091",
        "http://user:pw@127.0.0.1:8091/,default,sessions",
        r#"{"save_path":"http://127.0.0.1:8091","pool":"default","bucket":"sessions","username":"u","password":"p"}"#,
        "couchbase://u:p@127.0.0.1/sessions?prefix=app:s:&timeout=1",
        "couchbases://u:p@node1,node2/sessions",
    ] {
        let mut p = CouchbaseProvider::default();
        p.session_init(Duration::from_secs(60), good)
            .await
            .unwrap_or_else(|e| panic!("{good}: {e}"));
    }
    // Through the registry and the manager too.
    let mut cfg = ManagerConfig::default();
    cfg.provider_config = "http://sessions:bucketpass@127.0.0.1:8091".into();
    Manager::new("couchbase", cfg).await.unwrap();
}

#[actix_rt::test]
async fn bad_configs_are_config_errors_without_the_password() {
    for bad in [
        "",
        "127.0.0.1:8091",
        "http://u:hunter2@h:9000",
        "http://127.0.0.1:8091",
        "http://u:hunter2@h:8091,p,b,extra",
        "couchbase://u:hunter2@h/b?timeout=0",
        r#"{"save_path":"http://u:hunter2@h:8091","password":5}"#,
        r#"{"save_path":"http://h:8091","bucket":"b","password":"hunter2","x":1}"#,
    ] {
        let mut p = CouchbaseProvider::default();
        match p.session_init(Duration::from_secs(60), bad).await {
            Err(e @ Error::Config { .. }) => {
                assert!(!e.to_string().contains("hunter2"), "{bad}: {e}")
            }
            other => panic!("{bad:?}: {:?}", other.map(|_| ())),
        }
    }
}

/// An unreachable cluster gives `Error::Backend` (a 503), bounded by the
/// configured timeouts: no panic and no hang. The messages hold neither
/// the password nor the session id.
#[actix_rt::test]
async fn closed_port_is_a_backend_error() {
    let port = closed_port();
    let mut p = CouchbaseProvider::default();
    p.session_init(
        Duration::from_secs(60),
        &format!("couchbase://u:hunter2@127.0.0.1:{port}/sessions?connect_timeout=2&timeout=2"),
    )
    .await
    .unwrap();
    let sid = IdGenerator::default().generate().unwrap();
    let new = IdGenerator::default().generate().unwrap();
    // Timeouts of 2 s bound each call; past 10 s the test fails, not hangs.
    let limit = Duration::from_secs(10);
    for err in [
        within(limit, "read", p.session_read(&sid)).await.err(),
        within(limit, "exist", p.session_exist(&sid)).await.err(),
        within(limit, "destroy", p.session_destroy(&sid))
            .await
            .err(),
        within(limit, "regenerate", p.session_regenerate(&sid, &new))
            .await
            .err(),
    ] {
        let err = err.expect("a closed port must fail");
        assert!(matches!(err, Error::Backend { .. }), "{err:?}");
        assert!(err.is_transient());
        let mut chain = err.to_string();
        let mut source = std::error::Error::source(&err);
        while let Some(s) = source {
            chain.push_str(&format!(": {s}"));
            source = s.source();
        }
        eprintln!("closed port: {chain}");
        assert!(!chain.contains("hunter2"), "{chain}");
        assert!(!chain.contains(sid.as_str()), "{chain}");
    }
}

#[actix_rt::test]
async fn session_all_is_an_honest_error() {
    let mut p = CouchbaseProvider::default();
    p.session_init(Duration::from_secs(60), "http://b:p@127.0.0.1:8091")
        .await
        .unwrap();
    assert!(matches!(p.session_all().await, Err(Error::Backend { .. })));
    p.session_gc().await.unwrap();
}
