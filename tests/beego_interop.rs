//! `sessionstoreformat = beego` against real Go: the Go program in
//! `tests/go/gobpeer` writes a session exactly as beego's `EncodeGob` does,
//! the test stores it where beego's provider would, a beego-format actix-bee
//! [`Manager`] reads and writes it, and Go decodes the result.
//!
//! Needs the Go toolchain, the machine's servers (`scripts/test-servers.sh
//! start`) and the packages of the ones it starts (`support/servers.rs`);
//! without them these tests fail, never skip.

#[path = "support/redis.rs"]
mod redis_common;

#[path = "support/gobpeer.rs"]
mod gobpeer;
#[path = "support/servers.rs"]
mod servers;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::PathBuf;

use gobpeer::{assert_same, describe, key, run, User};

use actix_bee::session::engine::Format;
use actix_bee::session::{HashFunc, Manager, ManagerConfig, RequestIds, SessionId};
use redis::AsyncCommands;
use redis_common::{env_or, raw, redis_url};

fn redis_addr() -> String {
    redis_url("ACTIX_BEE_REDIS_URL", "redis://127.0.0.1:6379/")
        .trim_start_matches("redis://")
        .to_owned()
}

/// A unique id prefix per manager, so tests never see each other's keys.
fn id_prefix() -> String {
    let n: u64 = rand::random();
    format!("beegotest{n:016x}_")
}

fn beego_config(provider_config: String) -> ManagerConfig {
    let mut cfg = ManagerConfig::default();
    cfg.store_format = Format::Beego;
    cfg.session_id_hash_func = HashFunc::None;
    cfg.session_id_prefix = id_prefix();
    cfg.provider_config = provider_config;
    cfg
}

async fn redis_manager() -> Manager {
    Manager::new("redis", beego_config(format!("{},10,,0", redis_addr())))
        .await
        .expect("beego-format redis manager")
}

/// Go's description of a session map: key => `%T: value`.
type Described = BTreeMap<String, String>;

/// What Go must see after an app changed the session Go described as
/// `before`: every key of `before`, the string keys of `set` replaced or
/// added with Go's description of their new value, those of `removed`
/// gone. Tests compare Go's whole description with it, key for key.
fn changed(before: &Described, set: &[(&str, &str)], removed: &[&str]) -> Described {
    let mut want = before.clone();
    for (k, v) in set {
        want.insert(key(k), (*v).to_owned());
    }
    for k in removed {
        assert!(want.remove(&key(k)).is_some(), "{k} is not in the session");
    }
    want
}

/// Go's description of `k` in `before`, with the one `from` in it replaced
/// by `to` (a struct with one field changed).
fn edited(before: &Described, k: &str, from: &str, to: &str) -> String {
    let was = &before[&key(k)];
    assert_eq!(was.matches(from).count(), 1, "{from} once in {was}");
    was.replace(from, to)
}

/// The described session with keys `k0` .. `k{n-1}` added as Go ints.
fn with_counters(before: &Described, n: usize) -> Described {
    let mut want = before.clone();
    for i in 0..n {
        want.insert(key(&format!("k{i}")), format!("int: int({i})"));
    }
    want
}

fn cookie(sid: &SessionId) -> RequestIds<'_> {
    RequestIds {
        cookie: Some(sid.as_str()),
        ..Default::default()
    }
}

async fn redis_conn() -> redis::aio::MultiplexedConnection {
    raw(&redis_url("ACTIX_BEE_REDIS_URL", "redis://127.0.0.1:6379/")).await
}

/// Stores `bytes` under the raw id, as beego's redis provider does.
async fn beego_put(conn: &mut redis::aio::MultiplexedConnection, sid: &SessionId, bytes: &[u8]) {
    let _: () = conn.set_ex(sid.as_str(), bytes, 3600).await.unwrap();
}

async fn beego_get(
    conn: &mut redis::aio::MultiplexedConnection,
    sid: &SessionId,
) -> Option<Vec<u8>> {
    conn.get(sid.as_str()).await.unwrap()
}

#[actix_rt::test]
async fn redis_reads_go_values_and_writes_go_types() {
    let m = redis_manager().await;
    let mut conn = redis_conn().await;
    let fixture = run("encode-fixture", b"");
    let before = describe(&fixture);
    let sid = m.new_session_id().unwrap();
    assert_eq!(sid.as_str().len(), m.config().session_id_prefix.len() + 32);
    beego_put(&mut conn, &sid, &fixture).await;

    let s = m.session_start(&cookie(&sid)).await.unwrap();
    assert_eq!(
        s.session_id().await.unwrap(),
        sid,
        "beego's session is adopted"
    );
    assert_eq!(s.get::<bool>("bool").await.unwrap(), Some(true));
    assert_eq!(s.get::<i64>("int").await.unwrap(), Some(-42));
    assert_eq!(s.get::<i8>("int8").await.unwrap(), Some(-8));
    assert_eq!(s.get::<i32>("int32").await.unwrap(), Some(-320_000));
    assert_eq!(s.get::<i64>("int64").await.unwrap(), Some(-(1 << 40)));
    assert_eq!(s.get::<u64>("uint64").await.unwrap(), Some(u64::MAX));
    assert_eq!(s.get::<u8>("uint8").await.unwrap(), Some(200));
    assert_eq!(s.get::<f32>("float32").await.unwrap(), Some(1.5));
    assert_eq!(s.get::<f64>("float64").await.unwrap(), Some(3.25));
    assert_eq!(
        s.get::<String>("string").await.unwrap().as_deref(),
        Some("hello, 世界")
    );
    assert_eq!(
        s.get::<Vec<u8>>("bytes").await.unwrap(),
        Some(vec![0, 1, 2, 255])
    );
    assert_eq!(
        s.get::<Vec<String>>("strings").await.unwrap(),
        Some(vec!["a".into(), "b".into()])
    );
    assert_eq!(
        s.get::<Vec<i64>>("ints").await.unwrap(),
        Some(vec![1, -2, 3])
    );
    assert_eq!(s.get::<[i64; 3]>("array").await.unwrap(), Some([7, 8, 9]));
    assert_eq!(
        s.get::<BTreeMap<String, String>>("map_ss").await.unwrap(),
        Some(BTreeMap::from([("x".into(), "y".into())]))
    );
    assert_eq!(
        s.get::<BTreeMap<i64, i64>>("map_ii").await.unwrap(),
        Some(BTreeMap::from([(2, 4)]))
    );
    let user = s.get::<User>("user").await.unwrap().unwrap();
    assert_eq!(
        (user.name.as_str(), user.age, user.admin),
        ("asta", 32, true)
    );
    assert_eq!(
        s.get::<String>("role").await.unwrap().as_deref(),
        Some("admin")
    );
    assert!(
        s.get::<i64>("string").await.is_err(),
        "a string is not an int"
    );

    // Changed keys keep their Go type; new keys get natural Go types.
    s.set("int", &43).await.unwrap();
    s.set("int32", &5).await.unwrap();
    s.set("float32", &2.5).await.unwrap();
    s.set("user", &User { age: 33, ..user }).await.unwrap();
    s.set("new_int", &7).await.unwrap();
    s.set("new_str", "rust").await.unwrap();
    s.set("new_float", &0.5).await.unwrap();
    s.set("new_bool", &false).await.unwrap();
    s.set("new_list", &vec!["a", "b"]).await.unwrap();
    s.set("new_map", &BTreeMap::from([("k", 1)])).await.unwrap();
    s.set("new_bytes", &serde_bytes::ByteBuf::from(vec![9u8]))
        .await
        .unwrap();
    assert!(
        s.set("nil", &None::<i32>).await.is_err(),
        "beego cannot store nil"
    );
    s.delete("empty").await.unwrap();
    m.session_release(&s).await.unwrap();

    // Changed keys keep their Go type, new keys get natural Go types, and
    // everything the app did not touch (the non-string key 12 included) is
    // exactly what Go stored.
    let after = describe(&beego_get(&mut conn, &sid).await.expect("still stored"));
    let want = changed(
        &before,
        &[
            ("int", "int: int(43)"),
            ("int32", "int32: int32(5)"),
            ("float32", "float32: float32(2.5)"),
            (
                "user",
                &edited(&before, "user", "Age: int(32)", "Age: int(33)"),
            ),
            ("new_int", "int: int(7)"),
            ("new_str", "string: string(\"rust\")"),
            ("new_float", "float64: float64(0.5)"),
            ("new_bool", "bool: bool(false)"),
            (
                "new_list",
                "[]interface {}: []interface {}{string(\"a\"), string(\"b\")}",
            ),
            (
                "new_map",
                "map[string]interface {}: map[string]interface {}{string(\"k\"): int(1)}",
            ),
            ("new_bytes", "[]uint8: []uint8{uint8(0x9)}"),
        ],
        &["empty"],
    );
    assert_same(&after, &want, "the app's session");
    assert_eq!(after["int(12)"], "int: int(234)");
    let ttl: i64 = conn.ttl(sid.as_str()).await.unwrap();
    assert!(ttl > 3500 && ttl <= 3600, "ttl {ttl}");
    let _: () = conn.del(sid.as_str()).await.unwrap();
}

#[actix_rt::test]
async fn redis_fifty_parallel_writes_lose_nothing() {
    let m = redis_manager().await;
    let mut conn = redis_conn().await;
    let sid = m.new_session_id().unwrap();
    let fixture = run("encode-fixture", b"");
    beego_put(&mut conn, &sid, &fixture).await;
    let mut tasks = Vec::new();
    for i in 0..50 {
        let m = m.clone();
        let sid = sid.clone();
        tasks.push(actix_rt::spawn(async move {
            let s = m.session_start(&cookie(&sid)).await.unwrap();
            s.set(&format!("k{i}"), &i).await.unwrap();
            m.session_release(&s).await.unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let after = describe(&beego_get(&mut conn, &sid).await.unwrap());
    assert_same(
        &after,
        &with_counters(&describe(&fixture), 50),
        "after 50 writers",
    );
    let _: () = conn.del(sid.as_str()).await.unwrap();
}

#[actix_rt::test]
async fn redis_destroyed_session_stays_gone_and_regenerate_moves_it() {
    let m = redis_manager().await;
    let mut conn = redis_conn().await;
    let sid = m.new_session_id().unwrap();
    beego_put(&mut conn, &sid, &run("encode-fixture", b"")).await;

    // A slow request still holds the session while another logs out.
    // (It has read the session before the logout: sessions load lazily.)
    let slow = m.session_start(&cookie(&sid)).await.unwrap();
    assert_eq!(slow.get::<i64>("int").await.unwrap(), Some(-42));
    let logout = m.session_start(&cookie(&sid)).await.unwrap();
    m.session_destroy(&logout).await.unwrap();
    slow.set("late", &1).await.unwrap();
    m.session_release(&slow).await.unwrap();
    assert_eq!(slow.session_id().await.unwrap(), sid);
    assert_eq!(beego_get(&mut conn, &sid).await, None, "no resurrection");

    // Regenerate: the data moves to the new id, the old id is gone.
    let sid = m.new_session_id().unwrap();
    let fixture = run("encode-fixture", b"");
    beego_put(&mut conn, &sid, &fixture).await;
    let s = m.session_start(&cookie(&sid)).await.unwrap();
    m.session_regenerate_id(&s).await.unwrap();
    let new = s.session_id().await.unwrap();
    assert_ne!(new, sid);
    m.session_release(&s).await.unwrap();
    assert_eq!(beego_get(&mut conn, &sid).await, None);
    let moved = describe(&beego_get(&mut conn, &new).await.unwrap());
    assert_same(&moved, &describe(&fixture), "the moved session");

    // beego's regenerate of an unknown id stores "": an empty session.
    let empty = m.new_session_id().unwrap();
    beego_put(&mut conn, &empty, b"").await;
    let s = m.session_start(&cookie(&empty)).await.unwrap();
    assert_eq!(s.session_id().await.unwrap(), empty);
    s.set("n", &1).await.unwrap();
    m.session_release(&s).await.unwrap();
    let got = describe(&beego_get(&mut conn, &empty).await.unwrap());
    assert_eq!(
        got,
        changed(&Described::new(), &[("n", "int: int(1)")], &[])
    );
    let _: () = conn.del(&[new.as_str(), empty.as_str()]).await.unwrap();
}

fn cluster_seeds() -> String {
    servers::setting("REDIS_CLUSTER_NODES")
}

/// A cluster connection for checks behind the engine's back.
async fn cluster_conn() -> redis::cluster_async::ClusterConnection {
    let seeds: Vec<String> = cluster_seeds()
        .split(',')
        .map(|n| format!("redis://{n}"))
        .collect();
    redis::cluster::ClusterClient::new(seeds)
        .unwrap()
        .get_async_connection()
        .await
        .unwrap_or_else(|e| panic!("Redis Cluster not reachable ({e})"))
}

/// The master that serves `key` in the test cluster's 3-master layout
/// (slots 0-5460, 5461-10922, 10923-16383).
async fn master_of(conn: &mut redis::cluster_async::ClusterConnection, key: &str) -> u8 {
    let slot: u16 = redis::cmd("CLUSTER")
        .arg("KEYSLOT")
        .arg(key)
        .query_async(conn)
        .await
        .unwrap();
    match slot {
        0..=5460 => 0,
        5461..=10922 => 1,
        _ => 2,
    }
}

/// Go's session on the cluster, stored as beego's redis provider stores it
/// (the cluster takes the same commands): Rust reads it, writes it, and
/// regenerates it until it has lived on several masters; each old id is
/// gone at once, and Go reads the moved session key for key.
#[actix_rt::test]
async fn redis_cluster_regenerate_across_slots() {
    let cfg = beego_config(format!(
        r#"{{"save_path":"{}"}}"#,
        cluster_seeds().replace(',', ";")
    ));
    let m = Manager::new("redis_cluster", cfg)
        .await
        .expect("beego-format redis_cluster manager");
    let mut conn = cluster_conn().await;
    let fixture = run("encode-fixture", b"");
    let before = describe(&fixture);
    let sid = m.new_session_id().unwrap();
    let _: () = conn.set_ex(sid.as_str(), &fixture, 3600).await.unwrap();

    let s = m.session_start(&cookie(&sid)).await.unwrap();
    assert_eq!(
        s.session_id().await.unwrap(),
        sid,
        "beego's session is adopted"
    );
    assert_eq!(s.get::<i64>("int").await.unwrap(), Some(-42));
    assert_eq!(s.get::<u64>("uint64").await.unwrap(), Some(u64::MAX));
    let user = s.get::<User>("user").await.unwrap().unwrap();
    assert_eq!(user.tags, ["go", "rust"]);
    s.set("uid", &7).await.unwrap();
    s.set("int", &-41).await.unwrap();
    m.session_release(&s).await.unwrap();

    // Regenerate at least 8 times, and until the ids have crossed masters.
    let mut ids = vec![sid.clone()];
    let mut masters = BTreeSet::from([master_of(&mut conn, sid.as_str()).await]);
    while ids.len() <= 8 || masters.len() < 2 {
        assert!(ids.len() < 64, "64 ids, all on one master: {masters:?}");
        m.session_regenerate_id(&s).await.unwrap();
        m.session_release(&s).await.unwrap();
        let new = s.session_id().await.unwrap();
        assert!(!ids.contains(&new), "regenerate kept an id");
        masters.insert(master_of(&mut conn, new.as_str()).await);
        for old in &ids {
            let alive: bool = conn.exists(old.as_str()).await.unwrap();
            assert!(!alive, "the old id {old:?} is alive after a regenerate");
        }
        ids.push(new);
    }
    let last = ids.last().unwrap().clone();
    let moved: Vec<u8> = conn.get(last.as_str()).await.unwrap();
    let want = changed(
        &before,
        &[("uid", "int: int(7)"), ("int", "int: int(-41)")],
        &[],
    );
    assert_same(&describe(&moved), &want, "the session after the moves");

    let again = m.session_start(&cookie(&last)).await.unwrap();
    assert_eq!(again.session_id().await.unwrap(), last);
    assert_eq!(again.get::<i64>("uid").await.unwrap(), Some(7));
    m.session_destroy(&again).await.unwrap();
    let alive: bool = conn.exists(last.as_str()).await.unwrap();
    assert!(!alive, "destroyed");
}

/// beego's file path of `sid` under `dir`: `dir/s[0]/s[1]/sid`.
fn beego_file(dir: &std::path::Path, sid: &SessionId) -> PathBuf {
    let s = sid.as_str();
    dir.join(&s[0..1]).join(&s[1..2]).join(s)
}

/// Writes `bytes` where beego's file provider would (dirs 0755, file 0600).
fn beego_file_put(dir: &std::path::Path, sid: &SessionId, bytes: &[u8]) {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let path = beego_file(dir, sid);
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(path.parent().unwrap())
        .unwrap();
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .unwrap();
    f.write_all(bytes).unwrap();
}

async fn file_manager(dir: &std::path::Path) -> Manager {
    Manager::new("file", beego_config(dir.display().to_string()))
        .await
        .expect("beego-format file manager")
}

#[actix_rt::test]
async fn file_reads_go_values_and_writes_go_types() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sessions");
    let m = file_manager(&dir).await;
    let fixture = run("encode-fixture", b"");
    let before = describe(&fixture);
    let sid = m.new_session_id().unwrap();
    beego_file_put(&dir, &sid, &fixture);

    let s = m.session_start(&cookie(&sid)).await.unwrap();
    assert_eq!(
        s.session_id().await.unwrap(),
        sid,
        "beego's session is adopted"
    );
    assert_eq!(s.get::<i64>("int").await.unwrap(), Some(-42));
    assert_eq!(s.get::<u16>("uint16").await.unwrap(), Some(65535));
    assert_eq!(s.get::<f64>("float64").await.unwrap(), Some(3.25));
    assert_eq!(s.get::<bool>("bool").await.unwrap(), Some(true));
    assert_eq!(
        s.get::<Vec<u8>>("bytes").await.unwrap(),
        Some(vec![0, 1, 2, 255])
    );
    assert_eq!(
        s.get::<BTreeMap<i64, String>>("map_is").await.unwrap(),
        Some(BTreeMap::from([(1, "one".into())]))
    );
    let user = s.get::<User>("user").await.unwrap().unwrap();
    assert_eq!(user.tags, ["go", "rust"]);
    s.set("int", &1).await.unwrap();
    s.set("user", &User { age: 40, ..user }).await.unwrap();
    s.set("new_str", "file").await.unwrap();
    m.session_release(&s).await.unwrap();

    let after = describe(&std::fs::read(beego_file(&dir, &sid)).unwrap());
    let want = changed(
        &before,
        &[
            ("int", "int: int(1)"),
            (
                "user",
                &edited(&before, "user", "Age: int(32)", "Age: int(40)"),
            ),
            ("new_str", "string: string(\"file\")"),
        ],
        &[],
    );
    assert_same(&after, &want, "the app's session");

    parallel_writes_then_no_resurrection(&m, &sid, |_| std::fs::read(beego_file(&dir, &sid)).ok())
        .await;

    // An empty file (beego's new session) is an empty session.
    let empty = m.new_session_id().unwrap();
    beego_file_put(&dir, &empty, b"");
    let s = m.session_start(&cookie(&empty)).await.unwrap();
    assert_eq!(s.session_id().await.unwrap(), empty);
    s.set("n", &2).await.unwrap();
    m.session_release(&s).await.unwrap();
    let got = describe(&std::fs::read(beego_file(&dir, &empty)).unwrap());
    assert_eq!(
        got,
        changed(&Described::new(), &[("n", "int: int(2)")], &[])
    );
}

fn memcache_client() -> memcache::Client {
    let addr = servers::setting("MEMCACHE_ADDR");
    memcache::Client::connect(format!("memcache://{addr}?timeout=3")).unwrap_or_else(|e| {
        panic!("memcached at {addr} is not reachable ({e}); see support/servers.rs")
    })
}

#[actix_rt::test]
async fn memcache_reads_go_values_and_writes_go_types() {
    let addr = servers::setting("MEMCACHE_ADDR");
    let m = Manager::new("memcache", beego_config(addr))
        .await
        .expect("beego-format memcache manager");
    let mc = memcache_client();
    let fixture = run("encode-fixture", b"");
    let before = describe(&fixture);
    let sid = m.new_session_id().unwrap();
    // beego's memcache provider: key = raw id, value = gob, TTL = lifetime.
    mc.set(sid.as_str(), fixture.as_slice(), 3600).unwrap();
    let get = |sid: &SessionId| -> Option<Vec<u8>> { mc.get(sid.as_str()).unwrap() };

    let s = m.session_start(&cookie(&sid)).await.unwrap();
    assert_eq!(
        s.session_id().await.unwrap(),
        sid,
        "beego's session is adopted"
    );
    assert_eq!(s.get::<i64>("int").await.unwrap(), Some(-42));
    assert_eq!(s.get::<i16>("int16").await.unwrap(), Some(1600));
    assert_eq!(s.get::<u32>("uint32").await.unwrap(), Some(4_000_000_000));
    assert_eq!(s.get::<f32>("float32").await.unwrap(), Some(1.5));
    assert_eq!(s.get::<String>("empty").await.unwrap().as_deref(), Some(""));
    let user = s.get::<User>("user").await.unwrap().unwrap();
    assert_eq!(user.avatar, [1]);
    s.set("int16", &-7).await.unwrap();
    s.set(
        "user",
        &User {
            name: "rs".into(),
            ..user
        },
    )
    .await
    .unwrap();
    s.set("new_list", &vec![1, 2]).await.unwrap();
    m.session_release(&s).await.unwrap();

    let after = describe(&get(&sid).expect("still stored"));
    let want = changed(
        &before,
        &[
            ("int16", "int16: int16(-7)"),
            (
                "user",
                &edited(
                    &before,
                    "user",
                    "Name: string(\"asta\")",
                    "Name: string(\"rs\")",
                ),
            ),
            ("new_list", "[]interface {}: []interface {}{int(1), int(2)}"),
        ],
        &[],
    );
    assert_same(&after, &want, "the app's session");

    parallel_writes_then_no_resurrection(&m, &sid, |sid| get(sid)).await;
}

/// The master the sentinels name, for checks behind the engine's back.
async fn sentinel_master(sentinels: &str, master: &str) -> redis::aio::MultiplexedConnection {
    let first = sentinels.split(',').next().unwrap_or_default();
    let mut sentinel = raw(&format!("redis://{first}")).await;
    let addr: Vec<String> = redis::cmd("SENTINEL")
        .arg("get-master-addr-by-name")
        .arg(master)
        .query_async(&mut sentinel)
        .await
        .unwrap_or_else(|e| panic!("sentinel at {first} names no master {master} ({e})"));
    assert_eq!(addr.len(), 2, "host and port: {addr:?}");
    raw(&format!("redis://{}:{}", addr[0], addr[1])).await
}

/// Go's session on the sentinel-discovered master: Rust reads it, writes
/// it, regenerates it (the old id is gone) and destroys it; Go reads what
/// Rust wrote, key for key.
#[actix_rt::test]
async fn redis_sentinel_beego_format_round_trip() {
    let sentinels = servers::setting("SENTINELS");
    let master = servers::setting("SENTINEL_MASTER");
    let cfg = beego_config(format!("{},10,,0,{master}", sentinels.replace(',', ";")));
    let m = Manager::new("redis_sentinel", cfg)
        .await
        .expect("beego-format redis_sentinel manager");
    let mut conn = sentinel_master(&sentinels, &master).await;
    let fixture = run("encode-fixture", b"");
    let before = describe(&fixture);
    let sid = m.new_session_id().unwrap();
    beego_put(&mut conn, &sid, &fixture).await;

    let s = m.session_start(&cookie(&sid)).await.unwrap();
    assert_eq!(
        s.session_id().await.unwrap(),
        sid,
        "beego's session is adopted"
    );
    assert_eq!(s.get::<i64>("int").await.unwrap(), Some(-42));
    assert_eq!(
        s.get::<String>("string").await.unwrap().as_deref(),
        Some("hello, 世界")
    );
    let user = s.get::<User>("user").await.unwrap().unwrap();
    assert_eq!((user.name.as_str(), user.age), ("asta", 32));
    s.set("uid", &7).await.unwrap();
    s.set("user", &User { age: 60, ..user }).await.unwrap();
    m.session_release(&s).await.unwrap();
    let written = describe(&beego_get(&mut conn, &sid).await.expect("stored"));
    let want = changed(
        &before,
        &[
            ("uid", "int: int(7)"),
            (
                "user",
                &edited(&before, "user", "Age: int(32)", "Age: int(60)"),
            ),
        ],
        &[],
    );
    assert_same(&written, &want, "the app's session");

    let again = m.session_start(&cookie(&sid)).await.unwrap();
    again.set("name", "bee").await.unwrap();
    m.session_regenerate_id(&again).await.unwrap();
    m.session_release(&again).await.unwrap();
    let new = again.session_id().await.unwrap();
    assert_ne!(new, sid);
    assert_eq!(beego_get(&mut conn, &sid).await, None, "the old id is gone");
    let moved = describe(&beego_get(&mut conn, &new).await.expect("moved"));
    let want = changed(&want, &[("name", "string: string(\"bee\")")], &[]);
    assert_same(&moved, &want, "the moved session");

    let back = m.session_start(&cookie(&new)).await.unwrap();
    assert_eq!(back.get::<i64>("uid").await.unwrap(), Some(7));
    m.session_destroy(&back).await.unwrap();
    assert_eq!(beego_get(&mut conn, &new).await, None, "destroyed");
}

/// Reads, writes, 50 parallel writes and a destroy through `m`, with the
/// backend's raw `put`/`get` of beego's bytes under a raw id.
async fn shared_session_checks(
    m: &Manager,
    put: impl Fn(&str, Vec<u8>),
    get: impl Fn(&str) -> Option<Vec<u8>>,
) {
    let fixture = run("encode-fixture", b"");
    let before = describe(&fixture);
    let sid = m.new_session_id().unwrap();
    put(sid.as_str(), fixture);

    let s = m.session_start(&cookie(&sid)).await.unwrap();
    assert_eq!(
        s.session_id().await.unwrap(),
        sid,
        "beego's session is adopted"
    );
    assert_eq!(s.get::<i64>("int").await.unwrap(), Some(-42));
    assert_eq!(s.get::<u64>("uint64").await.unwrap(), Some(u64::MAX));
    assert_eq!(s.get::<f64>("float64").await.unwrap(), Some(3.25));
    assert_eq!(s.get::<bool>("bool").await.unwrap(), Some(true));
    assert_eq!(
        s.get::<Vec<u8>>("bytes").await.unwrap(),
        Some(vec![0, 1, 2, 255])
    );
    assert_eq!(
        s.get::<String>("string").await.unwrap().as_deref(),
        Some("hello, 世界")
    );
    let user = s.get::<User>("user").await.unwrap().unwrap();
    assert_eq!(user.name, "asta");
    s.set("int", &5).await.unwrap();
    s.set("user", &User { age: 50, ..user }).await.unwrap();
    s.set("new_map", &BTreeMap::from([("a", "b")]))
        .await
        .unwrap();
    m.session_release(&s).await.unwrap();

    let after = describe(&get(sid.as_str()).expect("still stored"));
    let want = changed(
        &before,
        &[
            ("int", "int: int(5)"),
            (
                "user",
                &edited(&before, "user", "Age: int(32)", "Age: int(50)"),
            ),
            (
                "new_map",
                "map[string]interface {}: map[string]interface {}{string(\"a\"): string(\"b\")}",
            ),
        ],
        &[],
    );
    assert_same(&after, &want, "the app's session");

    parallel_writes_then_no_resurrection(m, &sid, |sid| get(sid.as_str())).await;
}

/// 50 parallel writes to different keys of one session lose nothing, and a
/// destroyed session does not come back from a slower request; `get` reads
/// beego's raw bytes of `sid` from the backend.
async fn parallel_writes_then_no_resurrection(
    m: &Manager,
    sid: &SessionId,
    get: impl Fn(&SessionId) -> Option<Vec<u8>>,
) {
    let before = describe(&get(sid).expect("stored"));
    let mut tasks = Vec::new();
    for i in 0..50 {
        let m = m.clone();
        let sid = sid.clone();
        tasks.push(actix_rt::spawn(async move {
            let s = m.session_start(&cookie(&sid)).await.unwrap();
            s.set(&format!("k{i}"), &i).await.unwrap();
            m.session_release(&s).await.unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let after = describe(&get(sid).expect("still stored"));
    assert_same(&after, &with_counters(&before, 50), "after 50 writers");

    // The slow request has read the session (sessions load lazily) when
    // the logout destroys it; its late write must go nowhere.
    let slow = m.session_start(&cookie(sid)).await.unwrap();
    assert_eq!(slow.get::<i64>("k0").await.unwrap(), Some(0));
    let logout = m.session_start(&cookie(sid)).await.unwrap();
    m.session_destroy(&logout).await.unwrap();
    slow.set("late", &1).await.unwrap();
    m.session_release(&slow).await.unwrap();
    assert_eq!(slow.session_id().await.unwrap(), *sid);
    assert_eq!(get(sid), None, "no resurrection");
}

/// beego's GC rule on beego's table (idle lifetime 3600 s): rows Go wrote
/// 60 s and 3000 s ago live, rows written 4200 s and a day ago are dead,
/// and so is nothing Rust just wrote. GC deletes exactly the dead rows and
/// leaves the live ones as Go and Rust wrote them. `put(sid, data, age)`
/// writes a row last written `age` seconds ago, `get` reads its data,
/// `keys` lists every `session_key` of the table (empty on entry).
async fn gc_keeps_live_rows(
    m: &Manager,
    put: impl Fn(&str, Vec<u8>, i64),
    get: impl Fn(&str) -> Option<Vec<u8>>,
    keys: impl Fn() -> BTreeSet<String>,
) {
    assert_eq!(keys(), BTreeSet::new(), "the checks left rows behind");
    let fixture = run("encode-fixture", b"");
    let mut live = BTreeSet::new();
    let mut dead = BTreeSet::new();
    for age in [60, 3000, 4200, 86_400] {
        let sid = m.new_session_id().unwrap();
        put(sid.as_str(), fixture.clone(), age);
        let rows = if age < 3600 { &mut live } else { &mut dead };
        rows.insert(sid.as_str().to_owned());
    }
    let s = m.session_start(&RequestIds::default()).await.unwrap();
    s.set("by_rust", "now").await.unwrap();
    m.session_release(&s).await.unwrap();
    let by_rust = s.session_id().await.unwrap();
    live.insert(by_rust.as_str().to_owned());
    assert_eq!(keys(), &live | &dead, "every row stored");

    m.provider().session_gc().await.unwrap();
    assert_eq!(keys(), live, "GC deletes the dead rows, only them");
    let before = describe(&fixture);
    for sid in live.iter().filter(|sid| **sid != by_rust.as_str()) {
        assert_same(&describe(&get(sid).expect("live")), &before, sid);
    }
    let rust_row = describe(&get(by_rust.as_str()).expect("live"));
    let want = changed(
        &Described::new(),
        &[("by_rust", "string: string(\"now\")")],
        &[],
    );
    assert_same(&rust_row, &want, "Rust's session");
}

/// Runs blocking client work off the async thread.
fn off_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::spawn(f).join().unwrap()
}

fn test_table() -> String {
    let n: u32 = rand::random();
    format!("bee_t_beego_{n:08x}")
}

#[actix_rt::test]
async fn mysql_shares_beegos_session_table() {
    use mysql::prelude::Queryable;
    let url = env_or("ACTIX_BEE_MYSQL_URL", "mysql://root@127.0.0.1:3306/test");
    let table = test_table();
    let pool = {
        let url = url.clone();
        off_thread(move || {
            mysql::Pool::new(url.as_str()).unwrap_or_else(|e| {
                panic!("MariaDB not reachable ({e}); run scripts/test-servers.sh start")
            })
        })
    };
    {
        let (pool, table) = (pool.clone(), table.clone());
        off_thread(move || {
            // beego's schema (its README).
            pool.get_conn()
                .unwrap()
                .query_drop(format!(
                    "CREATE TABLE `{table}` (session_key CHAR(64) NOT NULL, \
                     session_data BLOB, session_expiry INT(11) UNSIGNED NOT NULL, \
                     PRIMARY KEY (session_key))"
                ))
                .unwrap()
        });
    }
    let mut cfg = beego_config(format!("{url}?table={table}"));
    cfg.gc_lifetime = 3600;
    let m = Manager::new("mysql", cfg)
        .await
        .expect("beego-format mysql manager");
    // beego's row: `session_expiry` is the last write, in unix seconds;
    // this one was written `age` seconds ago.
    let put_aged = |sid: &str, data: Vec<u8>, age: i64| {
        let (pool, table, sid) = (pool.clone(), table.clone(), sid.to_owned());
        off_thread(move || {
            pool.get_conn()
                .unwrap()
                .exec_drop(
                    format!("INSERT INTO `{table}` VALUES (?, ?, UNIX_TIMESTAMP() - ?)"),
                    (sid, data, age),
                )
                .unwrap()
        })
    };
    let put = |sid: &str, data: Vec<u8>| put_aged(sid, data, 0);
    let keys = || -> BTreeSet<String> {
        let (pool, table) = (pool.clone(), table.clone());
        off_thread(move || {
            pool.get_conn()
                .unwrap()
                .query::<String, _>(format!("SELECT session_key FROM `{table}`"))
                .unwrap()
                .into_iter()
                .collect()
        })
    };
    let get = |sid: &str| -> Option<Vec<u8>> {
        let (pool, table, sid) = (pool.clone(), table.clone(), sid.to_owned());
        off_thread(move || {
            pool.get_conn()
                .unwrap()
                .exec_first(
                    format!("SELECT session_data FROM `{table}` WHERE session_key = ?"),
                    (sid,),
                )
                .unwrap()
        })
    };
    shared_session_checks(&m, put, get).await;
    gc_keeps_live_rows(&m, put_aged, get, keys).await;
    // A native manager refuses beego's table.
    let mut native = ManagerConfig::default();
    native.provider_config = format!("{url}?table={table}");
    let err = Manager::new("mysql", native).await.unwrap_err().to_string();
    assert!(err.contains("sessionstoreformat = beego"), "{err}");
    let table2 = table.clone();
    off_thread(move || {
        pool.get_conn()
            .unwrap()
            .query_drop(format!("DROP TABLE `{table2}`"))
            .unwrap()
    });
}

/// The sync PostgreSQL client, dropped on a thread of its own, also when
/// the test fails: dropped on the test's async thread it would start a
/// runtime inside the runtime and abort the whole test binary.
struct PgClient(Option<std::sync::Arc<std::sync::Mutex<postgres::Client>>>);

impl Drop for PgClient {
    fn drop(&mut self) {
        if let Some(client) = self.0.take() {
            let _ = std::thread::spawn(move || drop(client)).join();
        }
    }
}

#[actix_rt::test]
async fn postgresql_shares_beegos_session_table() {
    let url = env_or(
        "ACTIX_BEE_POSTGRES_URL",
        "postgres://postgres@127.0.0.1:5432/test",
    );
    let table = test_table();
    let pg = {
        let url = url.clone();
        PgClient(Some(std::sync::Arc::new(std::sync::Mutex::new(
            off_thread(move || {
                postgres::Client::connect(&url, postgres::NoTls).unwrap_or_else(|e| {
                    panic!("PostgreSQL not reachable ({e}); run scripts/test-servers.sh start")
                })
            }),
        ))))
    };
    // Every use holds a clone; `pg`, declared first, drops the client last.
    let client = pg.0.clone().unwrap();
    let exec = |sql: String| {
        let c = client.clone();
        off_thread(move || c.lock().unwrap().batch_execute(&sql).unwrap())
    };
    // beego's schema (its README).
    exec(format!(
        "CREATE TABLE \"{table}\" (session_key CHAR(64) NOT NULL, session_data BYTEA, \
         session_expiry TIMESTAMP NOT NULL, CONSTRAINT \"{table}_pk\" PRIMARY KEY(session_key))"
    ));
    let sep = if url.contains('?') { '&' } else { '?' };
    let mut cfg = beego_config(format!("{url}{sep}table={table}"));
    cfg.gc_lifetime = 3600;
    let m = Manager::new("postgresql", cfg)
        .await
        .expect("beego-format postgresql manager");
    // beego's row: `session_expiry` is the last write, a local timestamp
    // (beego writes time.Now().Format(RFC3339)); this one was written
    // `age` seconds ago.
    let put_aged = |sid: &str, data: Vec<u8>, age: i64| {
        let (c, table, sid) = (client.clone(), table.clone(), sid.to_owned());
        off_thread(move || {
            c.lock()
                .unwrap()
                .execute(
                    &format!(
                        "INSERT INTO \"{table}\" VALUES \
                         ($1, $2, now()::timestamp - $3::bigint * interval '1 second')"
                    ),
                    &[&sid, &data, &age],
                )
                .unwrap();
        })
    };
    let put = |sid: &str, data: Vec<u8>| put_aged(sid, data, 0);
    let keys = || -> BTreeSet<String> {
        let (c, table) = (client.clone(), table.clone());
        off_thread(move || {
            c.lock()
                .unwrap()
                .query(&format!("SELECT session_key FROM \"{table}\""), &[])
                .unwrap()
                .iter()
                .map(|row| row.get::<_, String>(0).trim_end().to_owned())
                .collect()
        })
    };
    let get = |sid: &str| -> Option<Vec<u8>> {
        let (c, table, sid) = (client.clone(), table.clone(), sid.to_owned());
        off_thread(move || {
            c.lock()
                .unwrap()
                .query_opt(
                    &format!("SELECT session_data FROM \"{table}\" WHERE session_key = $1"),
                    &[&sid],
                )
                .unwrap()
                .map(|row| row.get::<_, Vec<u8>>(0))
        })
    };
    shared_session_checks(&m, put, get).await;
    gc_keeps_live_rows(&m, put_aged, get, keys).await;
    let mut native = ManagerConfig::default();
    native.provider_config = format!("{url}{sep}table={table}");
    let err = Manager::new("postgresql", native)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("sessionstoreformat = beego"), "{err}");
    exec(format!("DROP TABLE \"{table}\""));
}

#[actix_rt::test]
async fn beego_format_needs_beego_ids() {
    let mut cfg = beego_config(format!("{},10,,0", redis_addr()));
    cfg.session_id_hash_func = HashFunc::Sha1;
    let err = Manager::new("redis", cfg).await.unwrap_err().to_string();
    assert!(err.contains("sessionhashfunc = none"), "{err}");
    let m = redis_manager().await;
    assert!(m.set_hash_func(HashFunc::Sha1, "k").is_err());
    m.set_hash_func(HashFunc::None, "").unwrap();
    let err = Manager::new("memory", beego_config(String::new()))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("sessionstoreformat"), "{err}");
}

/// Sessions by owner in beego's format: the owner rides in the gob map
/// (Go reads it there, beside every key Go wrote), listing and "log out
/// everywhere" work on a session Go started, and creation times are
/// unknown (beego's blob has none).
#[actix_rt::test]
async fn owners_in_beego_format_on_redis() {
    use actix_bee::session::testing::owners::login;
    use actix_bee::session::{OWNER_EPOCH_KEY, OWNER_KEY};
    let m = redis_manager().await;
    let mut conn = redis_conn().await;
    let owner = format!("user-{:016x}", rand::random::<u64>());
    let owned = [
        (OWNER_KEY, format!("string: string({owner:?})")),
        (OWNER_EPOCH_KEY, "int: int(1)".to_owned()),
    ];
    let owned: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (*k, v.as_str())).collect();

    // Go's session, logged in by Rust.
    let fixture = run("encode-fixture", b"");
    let before = describe(&fixture);
    let a = m.new_session_id().unwrap();
    beego_put(&mut conn, &a, &fixture).await;
    let s = m.session_start(&cookie(&a)).await.unwrap();
    assert_eq!(
        s.session_id().await.unwrap(),
        a,
        "beego's session is adopted"
    );
    assert_eq!(s.get::<i64>("int").await.unwrap(), Some(-42));
    s.set_owner(&owner).await.unwrap();
    m.session_release(&s).await.unwrap();
    let stored = describe(&beego_get(&mut conn, &a).await.expect("stored"));
    assert_same(
        &stored,
        &changed(&before, &owned, &[]),
        "Go's session after the login",
    );

    // A session Rust started, logged in by the same owner.
    let b = login(&m, &owner).await;
    let stored = describe(&beego_get(&mut conn, &b).await.expect("stored"));
    let mut want = owned.clone();
    want.push(("k", "int: int(1)"));
    assert_same(
        &stored,
        &changed(&Described::new(), &want, &[]),
        "Rust's session after the login",
    );

    let listed = m.sessions_of(&owner).await.unwrap();
    let mut prints: Vec<String> = listed.iter().map(|s| s.fingerprint.clone()).collect();
    prints.sort();
    let mut expected = vec![a.fingerprint(), b.fingerprint()];
    expected.sort();
    assert_eq!(prints, expected);
    assert!(listed
        .iter()
        .all(|s| s.created_ms.is_none() && s.accessed_ms.is_some()));
    assert_eq!(m.destroy_sessions_of(&owner, Some(&a)).await.unwrap(), 1);
    assert_eq!(beego_get(&mut conn, &b).await, None, "logged out");
    let kept = describe(
        &beego_get(&mut conn, &a)
            .await
            .expect("the current one stays"),
    );
    // The kept session holds the owner's new epoch (2), so that its next
    // regenerate keeps it logged in.
    let bumped = [(OWNER_KEY, owned[0].1), (OWNER_EPOCH_KEY, "int: int(2)")];
    assert_same(&kept, &changed(&before, &bumped, &[]), "the session kept");
    assert_eq!(m.destroy_sessions_of(&owner, None).await.unwrap(), 1);
    assert_eq!(
        beego_get(&mut conn, &a).await,
        None,
        "logged out everywhere"
    );
}
