//! The `postgresql` engine against PostgreSQL on 127.0.0.1 (database
//! `test`; `ACTIX_BEE_POSTGRES_URL`, default
//! `postgres://postgres@127.0.0.1:5432/test`). A missing server fails
//! these tests: start it with `scripts/test-servers.sh start`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/deadline.rs"]
mod deadline;
#[path = "support/faults.rs"]
mod faults;
#[path = "support/procs.rs"]
mod procs;
#[path = "support/proxy.rs"]
mod proxy;
#[path = "support/sql.rs"]
mod sql_common;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use actix_bee::session::postgresql::PostgresqlProvider;
use actix_bee::session::Provider;
use sql_common::{create, drop_table, started, table_name, Engine};

struct Postgres;

/// A client of the test's own (the sync client must stay off async threads).
fn raw_client() -> postgres::Client {
    let url = Postgres::url();
    postgres::Client::connect(&url, postgres::NoTls).unwrap_or_else(|e| {
        panic!("PostgreSQL at {url} is not reachable (scripts/test-servers.sh start): {e}")
    })
}

impl Engine for Postgres {
    fn url() -> String {
        std::env::var("ACTIX_BEE_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
    }

    type P = PostgresqlProvider;

    fn closed_port_config() -> String {
        "postgres://postgres:hunter2@127.0.0.1:1/test?connect_timeout=1".into()
    }

    async fn exec(sql: String) {
        tokio::task::spawn_blocking(move || raw_client().batch_execute(&sql).unwrap())
            .await
            .unwrap();
    }

    async fn strings(sql: String) -> Vec<String> {
        tokio::task::spawn_blocking(move || {
            raw_client()
                .query(&sql, &[])
                .unwrap()
                .iter()
                .map(|row| row.get::<_, String>(0))
                .collect()
        })
        .await
        .unwrap()
    }

    fn quote(table: &str) -> String {
        format!("\"{table}\"")
    }

    fn list_test_tables() -> String {
        "SELECT tablename::text FROM pg_tables \
         WHERE schemaname = current_schema() AND tablename LIKE 'bee\\_t\\_%'"
            .into()
    }

    fn own_server() -> (procs::ServerProc, String) {
        let server = procs::ServerProc::postgres();
        let url = format!(
            "postgres://postgres@127.0.0.1:{}/test?sslmode=disable",
            server.port()
        );
        (server, url)
    }
}

async fn postgresql() -> (Box<dyn Provider>, String) {
    sql_common::factory::<Postgres>().await
}

actix_bee::conformance_tests!(postgresql);
actix_bee::conformance_tests!(postgresql, owner_index);

/// Logins racing "log out everywhere" through two pools on one table.
#[actix_rt::test]
async fn owners_race_across_two_pools() {
    sql_common::owners_race_across_two_pools::<Postgres>().await;
}

/// The owner index on beego's table (`sessionstoreformat = beego`).
#[actix_rt::test]
async fn owners_on_a_beego_table() {
    sql_common::owners_on_a_beego_table::<Postgres>().await;
}

/// The default `max_session_bytes` (256 KiB), enforced by the skeleton.
#[actix_rt::test]
async fn oversized_session_is_refused() {
    actix_bee::session::testing::oversized_session_is_refused(postgresql).await;
}

#[actix_rt::test]
async fn table_injection_is_refused() {
    sql_common::table_injection_is_refused::<Postgres>().await;
    let mut provider = PostgresqlProvider::default();
    let err = provider
        .session_init(
            Duration::from_secs(60),
            "host=127.0.0.1 table='session; DROP TABLE x'",
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, actix_bee::session::Error::Config { .. }),
        "{err}"
    );
}

#[actix_rt::test]
async fn large_payload_round_trips() {
    sql_common::large_payload_round_trips::<Postgres>().await;
}

#[actix_rt::test]
async fn corrupt_data_is_reported() {
    sql_common::corrupt_data_is_reported::<Postgres>().await;
}

#[actix_rt::test]
async fn closed_port_is_a_backend_error() {
    sql_common::closed_port_is_a_backend_error::<Postgres>().await;
}

/// A write never moves the expiry back: it is the row's version.
#[actix_rt::test]
async fn the_expiry_is_a_version_that_never_moves_back() {
    sql_common::the_expiry_is_a_version_that_never_moves_back::<Postgres>().await;
}

#[actix_rt::test]
async fn collisions_and_expired_rows() {
    sql_common::collisions_and_expired_rows::<Postgres>().await;
}

#[actix_rt::test]
async fn gc_deletes_thousands_of_expired_rows_and_no_live_one() {
    sql_common::gc_deletes_thousands_of_expired_rows_and_no_live_one::<Postgres>().await;
}

/// A libpq `key=value` conninfo string works against the server.
#[actix_rt::test]
async fn conninfo_string_works() {
    let config = postgres::Config::from_str(&Postgres::url()).unwrap();
    let host = match config.get_hosts().first() {
        Some(postgres::config::Host::Tcp(h)) => h.clone(),
        _ => "127.0.0.1".into(),
    };
    let table = table_name();
    let mut conninfo = format!(
        "host={host} port={} user='{}' dbname={} table={table} connect_timeout=5",
        config.get_ports().first().copied().unwrap_or(5432),
        config.get_user().unwrap_or("postgres"),
        config.get_dbname().unwrap_or("test"),
    );
    if let Some(pw) = config.get_password() {
        conninfo.push_str(&format!(
            " password='{}'",
            String::from_utf8_lossy(pw)
                .replace('\\', "\\\\")
                .replace('\'', "\\'")
        ));
    }
    let mut provider = PostgresqlProvider::default();
    provider
        .session_init(Duration::from_secs(60), &conninfo)
        .await
        .unwrap();
    let provider: Arc<dyn Provider> = Arc::new(provider);
    let sid = create(&provider, "k", 7).await;
    let store = provider.session_read(&sid).await.unwrap();
    assert_eq!(store.get::<i64>("k").await.unwrap(), Some(7));
    drop_table::<Postgres>(&table).await;
}

/// The server terminates the pool's connections; the next operation still works.
#[actix_rt::test]
async fn reconnects_after_the_server_kills_connections() {
    let table = table_name();
    let provider = started::<Postgres>(&table, "pool_size=2").await;
    let sid = create(&provider, "k", 1).await;
    let store = provider.session_read(&sid).await.unwrap();
    assert_eq!(store.get::<i64>("k").await.unwrap(), Some(1));

    let killed = Postgres::strings(format!(
        "SELECT pg_terminate_backend(pid)::text FROM pg_stat_activity \
         WHERE query LIKE '%\"{table}\"%' AND pid <> pg_backend_pid()"
    ))
    .await;
    assert!(
        !killed.is_empty() && killed.iter().all(|k| k == "true"),
        "no pooled connection was terminated: {killed:?}"
    );
    let store = provider.session_read(&sid).await.unwrap();
    assert_eq!(store.get::<i64>("k").await.unwrap(), Some(1));
    store.set("k", &2).await.unwrap();
    assert!(store.session_release().await.unwrap().written);
    let store = provider.session_read(&sid).await.unwrap();
    assert_eq!(store.get::<i64>("k").await.unwrap(), Some(2));
    drop_table::<Postgres>(&table).await;
}

/// Kill and freeze a server process of the test's own (tests/support/faults.rs).
#[actix_web::test]
async fn backend_faults_give_503s_in_time_and_recover() {
    sql_common::backend_faults::<Postgres>("postgresql").await;
}

/// Regenerate's delete of the old id is lost with the connection: a 503,
/// the old id as it was, no copy, and a working login after recovery.
#[actix_rt::test]
async fn regenerate_with_a_failing_old_id_delete() {
    sql_common::regenerate_with_a_failing_old_id_delete::<Postgres>(
        "postgresql",
        "sslmode=disable",
    )
    .await;
}

/// A beego `session` table (expiry a `timestamp`) is refused by the native
/// format at start-up and before any GC, so its rows are never deleted.
#[actix_rt::test]
async fn beego_table_is_refused_and_never_collected() {
    let table = table_name();
    Postgres::exec(format!(
        "CREATE TABLE {} (session_key CHAR(64) NOT NULL PRIMARY KEY, session_data BYTEA, \
         session_expiry TIMESTAMP NOT NULL)",
        Postgres::quote(&table)
    ))
    .await;
    Postgres::exec(format!(
        "INSERT INTO {} VALUES ('beegosid', '', '2001-01-01')",
        Postgres::quote(&table)
    ))
    .await;
    let mut provider = Postgres::provider();
    let err = provider
        .session_init(Duration::from_secs(3600), &Postgres::config(&table, ""))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("sessionstoreformat"), "{err}");
    let mut lazy = Postgres::provider();
    lazy.session_init(
        Duration::from_secs(3600),
        &Postgres::config(&table, "create_table=false"),
    )
    .await
    .unwrap();
    let err = lazy.session_gc().await.unwrap_err().to_string();
    assert!(err.contains("sessionstoreformat"), "{err}");
    let left = Postgres::strings(format!(
        "SELECT trim(session_key) FROM {}",
        Postgres::quote(&table)
    ))
    .await;
    assert_eq!(left, ["beegosid"]);
    drop_table::<Postgres>(&table).await;
}
