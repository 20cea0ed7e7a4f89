//! Cases both SQL engines run, beyond the conformance suite. Each test file
//! supplies its engine through [`Engine`].
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::deadline::within;

use actix_bee::session::{
    Error, IdGenerator, Manager, ManagerConfig, Provider, RequestIds, SessionId,
};

/// Prefix of every table the tests create; [`sweep`] drops old ones.
pub const TABLE_PREFIX: &str = "bee_t_";

/// Tables older than this are left over from earlier runs.
const SWEEP_AFTER_SECS: u64 = 15 * 60;

/// What a test file provides about its engine.
pub trait Engine: Send + Sync + 'static {
    /// The test server's URL (from the environment, or the default).
    fn url() -> String;
    /// The engine type.
    type P: Provider + std::fmt::Debug + Default;
    /// A fresh, uninitialised engine.
    fn provider() -> Box<dyn Provider> {
        Box::new(Self::P::default())
    }
    /// The config string: the URL, `table`, and extra engine parameters.
    fn config(table: &str, extra: &str) -> String {
        let url = Self::url();
        let sep = if url.contains('?') { '&' } else { '?' };
        let extra = if extra.is_empty() {
            String::new()
        } else {
            format!("&{extra}")
        };
        format!("{url}{sep}table={table}&pool_size=8{extra}")
    }
    /// The same server with the port replaced by a closed one and a password added.
    fn closed_port_config() -> String;
    /// Runs raw SQL on a connection of the test's own.
    fn exec(sql: String) -> impl std::future::Future<Output = ()> + Send;
    /// Runs a query whose first column is text, on the test's own connection.
    fn strings(sql: String) -> impl std::future::Future<Output = Vec<String>> + Send;
    /// `table` quoted for the dialect.
    fn quote(table: &str) -> String;
    /// Lists the tables whose name starts with [`TABLE_PREFIX`].
    fn list_test_tables() -> String;
    /// A server process of the test's own, and its URL.
    fn own_server() -> (crate::procs::ServerProc, String);
}

fn unix_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A table name no other run or test uses: the prefix, the time, a random part.
pub fn table_name() -> String {
    format!(
        "{TABLE_PREFIX}{}_{:08x}",
        unix_secs(),
        rand::random::<u32>()
    )
}

/// Drops the tables that earlier runs left behind (the conformance cases
/// have no teardown), once per test binary.
pub async fn sweep<E: Engine>() {
    static DONE: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    DONE.get_or_init(|| async {
        let now = unix_secs();
        for table in E::strings(E::list_test_tables()).await {
            let born = table
                .strip_prefix(TABLE_PREFIX)
                .and_then(|rest| rest.split('_').next())
                .and_then(|secs| secs.parse::<u64>().ok());
            if born.is_some_and(|b| now.saturating_sub(b) > SWEEP_AFTER_SECS) {
                E::exec(format!("DROP TABLE IF EXISTS {}", E::quote(&table))).await;
            }
        }
    })
    .await;
}

/// The conformance factory: a fresh engine on a table of its own.
pub async fn factory<E: Engine>() -> (Box<dyn Provider>, String) {
    sweep::<E>().await;
    (E::provider(), E::config(&table_name(), ""))
}

/// An initialised engine on a new table; drop the table with [`drop_table`].
pub async fn started<E: Engine>(table: &str, extra: &str) -> Arc<dyn Provider> {
    let mut provider = E::provider();
    provider
        .session_init(Duration::from_secs(3600), &E::config(table, extra))
        .await
        .unwrap_or_else(|e| {
            panic!(
                "could not start the engine; is the test server running \
                 (scripts/test-servers.sh start)? {e}: {:?}",
                std::error::Error::source(&e).map(|s| s.to_string())
            )
        });
    Arc::from(provider)
}

/// Drops a test's table.
pub async fn drop_table<E: Engine>(table: &str) {
    // The owner index's tables too (test tables are short: no shortening).
    for t in [
        table.to_owned(),
        format!("{table}_owner"),
        format!("{table}_owner_epoch"),
    ] {
        E::exec(format!("DROP TABLE IF EXISTS {}", E::quote(&t))).await;
    }
}

fn is_mysql<E: Engine>() -> bool {
    E::quote("x").starts_with('`')
}

fn new_id() -> SessionId {
    IdGenerator::default().generate().unwrap()
}

/// Creates a session holding `k = v`.
pub async fn create(provider: &Arc<dyn Provider>, k: &str, v: i64) -> SessionId {
    let sid = new_id();
    let store = provider.session_read(&sid).await.unwrap();
    store.set(k, &v).await.unwrap();
    assert!(store.session_release().await.unwrap().written);
    sid
}

/// A table name that would inject SQL is refused at start-up.
pub async fn table_injection_is_refused<E: Engine>() {
    for table in ["session; DROP TABLE x", "a.b", "x`y", "x\"y", "1x"] {
        let mut provider = E::provider();
        let err = provider
            .session_init(Duration::from_secs(60), &E::config(table, ""))
            .await
            .expect_err("a hostile table name was accepted");
        assert!(matches!(err, Error::Config { .. }), "{table}: {err}");
    }
}

/// A session well over 64 KiB (beego's BLOB limit) and over the default
/// `max_session_bytes` round-trips when `max_session_bytes` allows it.
pub async fn large_payload_round_trips<E: Engine>() {
    let table = table_name();
    let provider = started::<E>(&table, "max_session_bytes=1048576").await;
    let big: String = (0..300_000u32)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    let sid = new_id();
    let store = provider.session_read(&sid).await.unwrap();
    store.set("big", &big).await.unwrap();
    store.session_release().await.unwrap();
    let back = provider.session_read(&sid).await.unwrap();
    assert_eq!(back.get::<String>("big").await.unwrap(), Some(big.clone()));
    // And a merge on top of it keeps it.
    back.set("small", &1).await.unwrap();
    assert!(back.session_release().await.unwrap().written);
    let again = provider.session_read(&sid).await.unwrap();
    assert_eq!(again.get::<String>("big").await.unwrap(), Some(big));
    assert_eq!(again.get::<i64>("small").await.unwrap(), Some(1));
    drop_table::<E>(&table).await;
}

/// Garbage in session_data is reported as `Error::Corrupt`; the manager
/// mints a fresh id (with a warning) instead of failing every request.
pub async fn corrupt_data_is_reported<E: Engine>() {
    let table = table_name();
    let provider = started::<E>(&table, "").await;
    let sid = create(&provider, "k", 1).await;
    let hex_garbage = if is_mysql::<E>() {
        "x'07deadbeef'"
    } else {
        "'\\x07deadbeef'::bytea"
    };
    E::exec(format!(
        "UPDATE {} SET session_data = {hex_garbage} WHERE session_key = '{}'",
        E::quote(&table),
        sid.as_str()
    ))
    .await;
    let err = provider.session_read(&sid).await.err().unwrap();
    assert!(err.is_corrupt(), "{err}");

    let mut cfg = ManagerConfig::default();
    cfg.provider_config = E::config(&table, "create_table=false");
    let manager = Manager::with_provider(E::provider(), cfg).await.unwrap();
    let session = manager
        .session_start(&RequestIds {
            cookie: Some(sid.as_str()),
            ..Default::default()
        })
        .await
        .unwrap();
    session.set("k", &2).await.unwrap();
    let cookie = manager.session_release(&session).await.unwrap().cookie;
    let cookie = cookie.expect("a fresh session is sent");
    assert_ne!(cookie.value, sid.as_str());
    drop_table::<E>(&table).await;
}

/// A closed port gives `Error::Backend` (transient: the web layer answers
/// 503), never a panic or a hang; no password shows in Debug or errors.
pub async fn closed_port_is_a_backend_error<E: Engine>() {
    let config = E::closed_port_config();
    assert!(config.contains("hunter2"));
    // Lazy start-up: without create_table nothing connects.
    let mut provider = E::P::default();
    provider
        .session_init(
            Duration::from_secs(60),
            &format!("{config}{}create_table=false", sep(&config)),
        )
        .await
        .unwrap();
    // connect_timeout=1: bounded by it; past 10 s the test fails, not hangs.
    let limit = Duration::from_secs(10);
    let err = within(limit, "read", provider.session_read(&new_id()))
        .await
        .err()
        .unwrap();
    assert!(matches!(err, Error::Backend { .. }), "{err}");
    assert!(err.is_transient());
    let mut chain = format!("{err} {err:?}");
    let mut source = std::error::Error::source(&err);
    while let Some(s) = source {
        chain.push_str(&s.to_string());
        source = s.source();
    }
    assert!(!chain.contains("hunter2"), "password in the error: {chain}");
    let debug = format!("{provider:?}");
    assert!(!debug.contains("hunter2"), "password in Debug: {debug}");
    assert!(debug.contains("***"), "{debug}");
    // With create_table, start-up itself reports the backend error.
    let mut provider = E::provider();
    let err = within(
        limit,
        "start-up",
        provider.session_init(Duration::from_secs(60), &config),
    )
    .await
    .expect_err("start-up against a closed port succeeded");
    assert!(err.is_transient(), "{err}");
}

fn sep(config: &str) -> &'static str {
    if config.contains("://") {
        if config.contains('?') {
            "&"
        } else {
            "?"
        }
    } else {
        " "
    }
}

/// Moves a row's expiry into the past, behind the engine's back.
async fn expire<E: Engine>(table: &str, sid: &SessionId) {
    E::exec(format!(
        "UPDATE {} SET session_expiry = 1 WHERE session_key = '{}'",
        E::quote(table),
        sid.as_str()
    ))
    .await;
}

/// The stored expiry of `sid`, ms.
async fn stored_expiry<E: Engine>(table: &str, sid: &SessionId) -> i64 {
    let rows = E::strings(format!(
        "SELECT CAST(session_expiry AS CHAR(20)) FROM {} WHERE session_key = '{}'",
        E::quote(table),
        sid.as_str()
    ))
    .await;
    rows[0].trim().parse().unwrap()
}

/// The expiry column is each row's version (a write without a lock
/// checks it): a write never moves it back, not even when the stored
/// expiry is later than the idle time from now (a write in the same ms,
/// a clock stepped back), and two requests that loaded the same version
/// both keep their keys.
pub async fn the_expiry_is_a_version_that_never_moves_back<E: Engine>() {
    let table = table_name();
    let provider = started::<E>(&table, "").await;
    let sid = create(&provider, "base", 0).await;
    E::exec(format!(
        "UPDATE {} SET session_expiry = session_expiry + 600000 WHERE session_key = '{}'",
        E::quote(&table),
        sid.as_str()
    ))
    .await;
    let ahead = stored_expiry::<E>(&table, &sid).await;
    let first = provider.session_read(&sid).await.unwrap();
    let second = provider.session_read(&sid).await.unwrap();
    first.set("a", &1).await.unwrap();
    assert!(first.session_release().await.unwrap().written);
    let after_first = stored_expiry::<E>(&table, &sid).await;
    assert!(
        after_first > ahead,
        "{after_first} <= {ahead}: the version went back"
    );
    second.set("b", &2).await.unwrap();
    assert!(second.session_release().await.unwrap().written);
    assert!(stored_expiry::<E>(&table, &sid).await > after_first);
    let back = provider.session_read(&sid).await.unwrap();
    for (key, value) in [("base", 0), ("a", 1), ("b", 2)] {
        assert_eq!(back.get::<i64>(key).await.unwrap(), Some(value), "{key}");
    }
    drop_table::<E>(&table).await;
}

/// Regenerating onto a live id is a collision and changes nothing; a
/// create over an expired row replaces it.
pub async fn collisions_and_expired_rows<E: Engine>() {
    let table = table_name();
    let provider = started::<E>(&table, "").await;
    let a = create(&provider, "who", 1).await;
    let b = create(&provider, "who", 2).await;
    let err = provider.session_regenerate(&a, &b).await.err().unwrap();
    assert!(matches!(err, Error::IdCollision), "{err}");
    let store = provider.session_read(&a).await.unwrap();
    assert_eq!(
        store.get::<i64>("who").await.unwrap(),
        Some(1),
        "old id lost"
    );
    let store = provider.session_read(&b).await.unwrap();
    assert_eq!(store.get::<i64>("who").await.unwrap(), Some(2));

    expire::<E>(&table, &b).await;
    let store = provider.session_read(&b).await.unwrap();
    assert!(store.meta().is_new, "an expired row read as live");
    store.set("who", &3).await.unwrap();
    assert!(store.session_release().await.unwrap().written);
    let store = provider.session_read(&b).await.unwrap();
    assert_eq!(store.get::<i64>("who").await.unwrap(), Some(3));
    // A release that loaded the session before it expired does not revive it.
    let slow = provider.session_read(&a).await.unwrap();
    expire::<E>(&table, &a).await;
    slow.set("late", &1).await.unwrap();
    assert!(!slow.session_release().await.unwrap().written);
    assert!(!provider.session_exist(&a).await.unwrap());
    drop_table::<E>(&table).await;
}

/// GC deletes thousands of expired rows (more than one batch of 1,000) and
/// no live one. That it uses several statements is not asserted: the shared
/// servers keep no per-statement counts (no pg_stat_statements, no
/// performance_schema) that a test could read.
pub async fn gc_deletes_thousands_of_expired_rows_and_no_live_one<E: Engine>() {
    let table = table_name();
    let provider = started::<E>(&table, "").await;
    let live = create(&provider, "k", 1).await;
    let rows: Vec<String> = (0..2500)
        .map(|i| format!("('expired{i:05}', x'00', {i})"))
        .collect();
    let values = rows.join(",");
    let values = if is_mysql::<E>() {
        values
    } else {
        values.replace("x'00'", "'\\x00'::bytea")
    };
    E::exec(format!(
        "INSERT INTO {} (session_key, session_data, session_expiry) VALUES {values}",
        E::quote(&table)
    ))
    .await;
    let count = format!(
        "SELECT CAST(COUNT(*) AS CHAR(20)) FROM {}",
        E::quote(&table)
    );
    let count = if is_mysql::<E>() {
        count
    } else {
        count.replace("CHAR(20)", "TEXT")
    };
    assert_eq!(E::strings(count.clone()).await, ["2501"]);
    assert_eq!(provider.session_all().await.unwrap(), 1);
    provider.session_gc().await.unwrap();
    assert_eq!(E::strings(count).await, ["1"]);
    assert!(provider.session_exist(&live).await.unwrap());
    drop_table::<E>(&table).await;
}

/// A fault proxy of the test's own in front of the shared server, and a
/// config through it for a fresh table (call deadline 2 s).
fn proxied<E: Engine>() -> (crate::proxy::FaultProxy, String, String) {
    let url = E::url();
    let after_user = url.split_once('@').map_or(url.as_str(), |(_, rest)| rest);
    let host = after_user
        .split(['/', '?'])
        .next()
        .expect("host:port in the URL");
    let target = std::net::ToSocketAddrs::to_socket_addrs(host)
        .expect("address")
        .next()
        .expect("one address");
    let proxy = crate::proxy::FaultProxy::start(target);
    let through = url.replacen(host, &proxy.addr().to_string(), 1);
    let sep = if through.contains('?') { '&' } else { '?' };
    let table = table_name();
    let config = format!("{through}{sep}table={table}&connect_timeout=1&call_timeout=2s");
    (proxy, config, table)
}

/// A server process of the test's own (`E::own_server`), killed (SIGKILL,
/// then started again on the same data) and frozen (SIGSTOP, then SIGCONT)
/// under load (tests/support/faults.rs), with a call deadline of 2 s. The
/// calling binary declares the `faults` and `procs` modules.
pub async fn backend_faults<E: Engine>(engine: &str) {
    let (server, url) = E::own_server();
    let sep = if url.contains('?') { '&' } else { '?' };
    let config = format!(
        "{url}{sep}table={}&connect_timeout=1&call_timeout=2s",
        table_name()
    );
    crate::faults::kill_and_freeze(engine, config, &server, Duration::from_secs(4)).await;
}

/// The server is lost just as regenerate's move deletes the old id (the
/// proxy drops the connection instead of forwarding the `DELETE`): the
/// login gets a 503 and the transaction rolls back, so the old id holds
/// the session as it was, without the login, and no other id does.
/// `plain` turns TLS off, so that the proxy can see the statement.
pub async fn regenerate_with_a_failing_old_id_delete<E: Engine>(engine: &str, plain: &str) {
    let (proxy, config, table) = proxied::<E>();
    let config = format!("{config}&{plain}");
    let direct = E::config(&table, "create_table=false");
    crate::faults::regenerate_with_a_failing_delete(engine, config, direct, &proxy, b"DELETE FROM")
        .await;
    drop_table::<E>(&table).await;
}

/// Two managers, each with its own pool, on one table: logins on both
/// racing "log out everywhere" on either leave no session behind.
pub async fn owners_race_across_two_pools<E: Engine>() {
    use actix_bee::session::testing::owners::owners_race_two_managers;
    let table = table_name();
    let manager = || async {
        let mut config = ManagerConfig::default();
        config.provider_config = E::config(&table, "");
        Manager::with_provider(E::provider(), config).await.unwrap()
    };
    let (a, b) = (manager().await, manager().await);
    let ended = owners_race_two_managers(&a, &b, "racer", 60).await;
    assert!(ended > 0, "the race ended some sessions");
    drop_table::<E>(&table).await;
}

/// With `sessionstoreformat = beego` the index works on beego's table:
/// sessions listed by owner (no creation time: beego's table has none),
/// ended by owner, the other owner untouched, GC leaves the live ones.
pub async fn owners_on_a_beego_table<E: Engine>() {
    use actix_bee::session::engine::Format;
    use actix_bee::session::testing::owners::login;
    let table = table_name();
    let mut config = ManagerConfig::default();
    config.provider_config = E::config(&table, "");
    config.store_format = Format::Beego;
    config.session_id_hash_func = actix_bee::session::HashFunc::None;
    let m = Manager::with_provider(E::provider(), config).await.unwrap();
    let a = [login(&m, "ann").await, login(&m, "ann").await];
    let bob = login(&m, "bob").await;
    let listed = m.sessions_of("ann").await.unwrap();
    let mut prints: Vec<String> = listed.iter().map(|s| s.fingerprint.clone()).collect();
    prints.sort();
    let mut want: Vec<String> = a.iter().map(SessionId::fingerprint).collect();
    want.sort();
    assert_eq!(prints, want);
    assert!(listed
        .iter()
        .all(|s| s.created_ms.is_none() && s.accessed_ms.is_some()));
    m.provider().session_gc().await.unwrap();
    assert_eq!(
        m.sessions_of("ann").await.unwrap().len(),
        2,
        "GC kept live ones"
    );
    assert_eq!(m.destroy_sessions_of("ann", None).await.unwrap(), 2);
    for sid in &a {
        assert!(!m.provider().session_exist(sid).await.unwrap());
    }
    assert!(m.provider().session_exist(&bob).await.unwrap());
    assert_eq!(m.sessions_of("bob").await.unwrap().len(), 1);
    drop_table::<E>(&table).await;
}
