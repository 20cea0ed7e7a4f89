//! The `mysql` engine against MariaDB/MySQL on 127.0.0.1 (database `test`;
//! `ACTIX_BEE_MYSQL_URL`, default `mysql://root@127.0.0.1:3306/test`).
//! A missing server fails these tests: start it with
//! `scripts/test-servers.sh start`.
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

use std::time::Duration;

use actix_bee::session::mysql::MysqlProvider;
use actix_bee::session::{Error, Provider};
use mysql::prelude::Queryable;
use sql_common::{create, drop_table, started, table_name, Engine};

struct Mysql;

fn raw_conn() -> mysql::Conn {
    let url = Mysql::url();
    let opts = mysql::Opts::from_url(&url).expect("ACTIX_BEE_MYSQL_URL is not a mysql:// URL");
    mysql::Conn::new(opts).unwrap_or_else(|e| {
        panic!("MariaDB/MySQL at {url} is not reachable (scripts/test-servers.sh start): {e}")
    })
}

impl Engine for Mysql {
    fn url() -> String {
        std::env::var("ACTIX_BEE_MYSQL_URL")
            .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into())
    }

    type P = MysqlProvider;

    fn closed_port_config() -> String {
        "mysql://root:hunter2@127.0.0.1:1/test?connect_timeout=1".into()
    }

    async fn exec(sql: String) {
        tokio::task::spawn_blocking(move || raw_conn().query_drop(sql).unwrap())
            .await
            .unwrap();
    }

    async fn strings(sql: String) -> Vec<String> {
        tokio::task::spawn_blocking(move || raw_conn().query::<String, _>(sql).unwrap())
            .await
            .unwrap()
    }

    fn quote(table: &str) -> String {
        format!("`{table}`")
    }

    fn list_test_tables() -> String {
        "SELECT table_name FROM information_schema.tables \
         WHERE table_schema = DATABASE() AND table_name LIKE 'bee\\_t\\_%'"
            .into()
    }

    fn own_server() -> (procs::ServerProc, String) {
        let server = procs::ServerProc::mariadb();
        let url = format!("mysql://root@127.0.0.1:{}/test", server.port());
        (server, url)
    }
}

async fn mysql() -> (Box<dyn Provider>, String) {
    sql_common::factory::<Mysql>().await
}

actix_bee::conformance_tests!(mysql);
actix_bee::conformance_tests!(mysql, owner_index);

/// Logins racing "log out everywhere" through two pools on one table.
#[actix_rt::test]
async fn owners_race_across_two_pools() {
    sql_common::owners_race_across_two_pools::<Mysql>().await;
}

/// The owner index on beego's table (`sessionstoreformat = beego`).
#[actix_rt::test]
async fn owners_on_a_beego_table() {
    sql_common::owners_on_a_beego_table::<Mysql>().await;
}

/// The default `max_session_bytes` (256 KiB), enforced by the skeleton.
#[actix_rt::test]
async fn oversized_session_is_refused() {
    actix_bee::session::testing::oversized_session_is_refused(mysql).await;
}

#[actix_rt::test]
async fn table_injection_is_refused() {
    sql_common::table_injection_is_refused::<Mysql>().await;
}

#[actix_rt::test]
async fn large_payload_round_trips() {
    sql_common::large_payload_round_trips::<Mysql>().await;
}

#[actix_rt::test]
async fn corrupt_data_is_reported() {
    sql_common::corrupt_data_is_reported::<Mysql>().await;
}

#[actix_rt::test]
async fn closed_port_is_a_backend_error() {
    sql_common::closed_port_is_a_backend_error::<Mysql>().await;
}

/// A write never moves the expiry back: it is the row's version.
#[actix_rt::test]
async fn the_expiry_is_a_version_that_never_moves_back() {
    sql_common::the_expiry_is_a_version_that_never_moves_back::<Mysql>().await;
}

#[actix_rt::test]
async fn collisions_and_expired_rows() {
    sql_common::collisions_and_expired_rows::<Mysql>().await;
}

#[actix_rt::test]
async fn gc_deletes_thousands_of_expired_rows_and_no_live_one() {
    sql_common::gc_deletes_thousands_of_expired_rows_and_no_live_one::<Mysql>().await;
}

/// beego's go-sql-driver DSN form works against the server.
#[actix_rt::test]
async fn go_sql_driver_dsn_works() {
    let opts = mysql::Opts::from_url(&Mysql::url()).unwrap();
    let table = table_name();
    let dsn = format!(
        "{}:{}@tcp({}:{})/{}?charset=utf8&parseTime=true&loc=Local&timeout=5s&table={table}",
        opts.get_user().unwrap_or("root"),
        opts.get_pass().unwrap_or(""),
        opts.get_ip_or_hostname(),
        opts.get_tcp_port(),
        opts.get_db_name().unwrap_or("test"),
    );
    let mut provider = MysqlProvider::default();
    provider
        .session_init(Duration::from_secs(60), &dsn)
        .await
        .unwrap();
    let provider: std::sync::Arc<dyn Provider> = std::sync::Arc::new(provider);
    let sid = create(&provider, "k", 7).await;
    let store = provider.session_read(&sid).await.unwrap();
    assert_eq!(store.get::<i64>("k").await.unwrap(), Some(7));
    drop_table::<Mysql>(&table).await;
}

/// A session over the MEDIUMBLOB limit is `TooLarge`, not a backend error,
/// even when `max_session_bytes` would let it through.
#[actix_rt::test]
async fn oversized_session_is_too_large() {
    let table = table_name();
    let provider = started::<Mysql>(&table, "max_session_bytes=67108864").await;
    let sid = actix_bee::session::IdGenerator::default()
        .generate()
        .unwrap();
    let store = provider.session_read(&sid).await.unwrap();
    store
        .set("huge", &serde_bytes::ByteBuf::from(vec![7u8; 17 << 20]))
        .await
        .unwrap();
    let err = store.session_release().await.err().unwrap();
    // The column's limit (16 MiB), not max_session_bytes.
    assert!(
        matches!(err, Error::TooLarge { limit, .. } if limit < 67108864),
        "{err}"
    );
    assert!(!provider.session_exist(&sid).await.unwrap());
    drop_table::<Mysql>(&table).await;
}

/// The server kills the pool's connection; the next operation still works.
#[actix_rt::test]
async fn reconnects_after_the_server_kills_connections() {
    let table = table_name();
    let provider = started::<Mysql>(&table, "pool_size=1").await;
    let sid = create(&provider, "k", 1).await;

    // Hold the row lock so the pool's one connection, waiting for it with
    // its write, shows up in the process list with our table in its
    // statement; note its id.
    let (locked_tx, locked_rx) = tokio::sync::oneshot::channel();
    let (key, t) = (sid.as_str().to_owned(), table.clone());
    let locker = tokio::task::spawn_blocking(move || {
        let mut conn = raw_conn();
        conn.query_drop("START TRANSACTION").unwrap();
        conn.exec_drop(
            format!("SELECT session_key FROM `{t}` WHERE session_key = ? FOR UPDATE"),
            (key,),
        )
        .unwrap();
        locked_tx.send(()).unwrap();
        let mut found = None;
        for _ in 0..200 {
            let ids: Vec<u64> = conn
                .query(format!(
                    "SELECT ID FROM information_schema.PROCESSLIST \
                     WHERE INFO LIKE '%`{t}`%' AND ID <> CONNECTION_ID()"
                ))
                .unwrap();
            if let Some(&id) = ids.first() {
                found = Some(id);
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        conn.query_drop("COMMIT").unwrap();
        found.expect("the pool's connection never showed up in the process list")
    });
    locked_rx.await.unwrap();
    let store = provider.session_read(&sid).await.unwrap();
    store.set("k", &2).await.unwrap();
    store.session_release().await.unwrap();
    let id = locker.await.unwrap();

    Mysql::exec(format!("KILL {id}")).await;
    let store = provider.session_read(&sid).await.unwrap();
    assert_eq!(store.get::<i64>("k").await.unwrap(), Some(2));
    store.set("k", &3).await.unwrap();
    assert!(store.session_release().await.unwrap().written);
    drop_table::<Mysql>(&table).await;
}

/// Kill and freeze a server process of the test's own (tests/support/faults.rs).
#[actix_web::test]
async fn backend_faults_give_503s_in_time_and_recover() {
    sql_common::backend_faults::<Mysql>("mysql").await;
}

/// Regenerate's delete of the old id is lost with the connection: a 503,
/// the old id as it was, no copy, and a working login after recovery.
#[actix_rt::test]
async fn regenerate_with_a_failing_old_id_delete() {
    sql_common::regenerate_with_a_failing_old_id_delete::<Mysql>("mysql", "tls=false").await;
}

/// A beego `session` table (expiry in unix seconds) is refused by the
/// native format at start-up and before any GC, so its rows are never read
/// as milliseconds and deleted; the beego format accepts it.
#[actix_rt::test]
async fn beego_table_is_refused_and_never_collected() {
    let table = table_name();
    Mysql::exec(format!(
        "CREATE TABLE {} (session_key CHAR(64) NOT NULL, session_data BLOB, \
         session_expiry INT(11) UNSIGNED NOT NULL, PRIMARY KEY (session_key))",
        Mysql::quote(&table)
    ))
    .await;
    Mysql::exec(format!(
        "INSERT INTO {} VALUES ('beegosid', '', 1)",
        Mysql::quote(&table)
    ))
    .await;
    let mut provider = Mysql::provider();
    let err = provider
        .session_init(Duration::from_secs(3600), &Mysql::config(&table, ""))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("sessionstoreformat"), "{err}");
    // Lazy start-up connects later: GC refuses instead of deleting.
    let mut lazy = Mysql::provider();
    lazy.session_init(
        Duration::from_secs(3600),
        &Mysql::config(&table, "create_table=false"),
    )
    .await
    .unwrap();
    let err = lazy.session_gc().await.unwrap_err().to_string();
    assert!(err.contains("sessionstoreformat"), "{err}");
    let left = Mysql::strings(format!("SELECT session_key FROM {}", Mysql::quote(&table))).await;
    assert_eq!(left, ["beegosid"]);

    let mut cfg = actix_bee::session::ManagerConfig::default();
    cfg.store_format = actix_bee::session::engine::Format::Beego;
    cfg.session_id_hash_func = actix_bee::session::HashFunc::None;
    cfg.provider_config = Mysql::config(&table, "create_table=false");
    // The beego format takes it (tests/beego_interop.rs goes further).
    actix_bee::session::Manager::with_provider(Mysql::provider(), cfg)
        .await
        .unwrap();
    drop_table::<Mysql>(&table).await;
}
