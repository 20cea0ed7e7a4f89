//! The provider conformance suite: what every engine must do.
//!
//! Each case is a public async function taking a factory; the
//! [`conformance_tests!`](crate::conformance_tests) macro expands them all
//! into `#[actix_rt::test]`s. A factory returns a fresh, *uninitialised*
//! engine plus its `sessionproviderconfig` string, isolated from every other
//! call (its own directory, table or key prefix), so counts are exact.
//!
//! ```text
//! async fn memory() -> (Box<dyn Provider>, String) {
//!     (Box::new(MemoryProvider::default()), String::new())
//! }
//! actix_bee::conformance_tests!(memory);
//! ```
// Assertions are this module's purpose; it only runs inside tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{IdGenerator, Manager, ManagerConfig, Provider, RequestIds, SessionId};

/// A boxed engine and its config string.
pub type Made = (Box<dyn Provider>, String);

/// Idle lifetime for cases that do not test expiry.
pub const LONG: Duration = Duration::from_secs(3600);

/// Makes and initialises an engine with the given idle lifetime.
pub async fn init<F, Fut>(make: &F, idle: Duration) -> Arc<dyn Provider>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Made>,
{
    let (mut provider, config) = make().await;
    provider
        .session_init(idle, &config)
        .await
        .expect("session_init");
    Arc::from(provider)
}

fn new_id() -> SessionId {
    IdGenerator::default().generate().unwrap()
}

/// Creates a session holding `pairs` and returns its id.
pub async fn create(provider: &Arc<dyn Provider>, pairs: &[(&str, i64)]) -> SessionId {
    let sid = new_id();
    let store = provider.session_read(&sid).await.unwrap();
    assert!(
        store.meta().is_new,
        "a random id must read as a new session"
    );
    for (k, v) in pairs {
        store.set(k, v).await.unwrap();
    }
    let released = store.session_release().await.unwrap();
    assert!(
        released.written,
        "a new session with values must be written"
    );
    sid
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Role {
    Admin,
    User { level: u8 },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Profile {
    name: String,
    roles: Vec<Role>,
    tags: BTreeMap<String, Option<f64>>,
    avatar: Option<serde_bytes::ByteBuf>,
}

/// Values of many types survive a release and a fresh read exactly.
pub async fn round_trip_types<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Made>,
{
    let provider = init(&make, LONG).await;
    let sid = new_id();
    let store = provider.session_read(&sid).await.unwrap();
    let profile = Profile {
        name: "astaxie 阿斯塔".into(),
        roles: vec![Role::Admin, Role::User { level: 3 }],
        tags: BTreeMap::from([
            ("pi".into(), Some(std::f64::consts::PI)),
            ("none".into(), None),
        ]),
        avatar: Some(serde_bytes::ByteBuf::from(vec![0u8, 255, 1, 254])),
    };
    let map: HashMap<String, i32> = HashMap::from([("a".into(), -1), ("b".into(), 2)]);
    store.set("i64min", &i64::MIN).await.unwrap();
    store.set("i64max", &i64::MAX).await.unwrap();
    store.set("u64max", &u64::MAX).await.unwrap();
    store.set("f64", &0.1f64).await.unwrap();
    store.set("f64tiny", &f64::MIN_POSITIVE).await.unwrap();
    store.set("nan", &f64::NAN).await.unwrap();
    store.set("f32", &1.5e-7f32).await.unwrap();
    store.set("string", "héllo\n\"world\"\0").await.unwrap();
    store.set("empty", "").await.unwrap();
    store.set("bool", &true).await.unwrap();
    store
        .set(
            "bytes",
            &serde_bytes::ByteBuf::from((0..=255u8).collect::<Vec<_>>()),
        )
        .await
        .unwrap();
    store.set("none", &Option::<i32>::None).await.unwrap();
    store.set("some", &Some(7u16)).await.unwrap();
    store
        .set("vec", &vec!["x".to_string(), "y".into()])
        .await
        .unwrap();
    store.set("map", &map).await.unwrap();
    store
        .set("int_keys", &BTreeMap::from([(1u32, "one".to_string())]))
        .await
        .unwrap();
    store.set("profile", &profile).await.unwrap();
    store.set("unit", &()).await.unwrap();
    store.session_release().await.unwrap();

    let back = provider.session_read(&sid).await.unwrap();
    assert!(!back.meta().is_new);
    assert_eq!(back.get::<i64>("i64min").await.unwrap(), Some(i64::MIN));
    assert_eq!(back.get::<i64>("i64max").await.unwrap(), Some(i64::MAX));
    assert_eq!(back.get::<u64>("u64max").await.unwrap(), Some(u64::MAX));
    assert_eq!(back.get::<f64>("f64").await.unwrap(), Some(0.1));
    assert_eq!(
        back.get::<f64>("f64tiny").await.unwrap(),
        Some(f64::MIN_POSITIVE)
    );
    assert!(back.get::<f64>("nan").await.unwrap().unwrap().is_nan());
    assert_eq!(back.get::<f32>("f32").await.unwrap(), Some(1.5e-7));
    assert_eq!(
        back.get::<String>("string").await.unwrap().as_deref(),
        Some("héllo\n\"world\"\0")
    );
    assert_eq!(
        back.get::<String>("empty").await.unwrap().as_deref(),
        Some("")
    );
    assert_eq!(back.get::<bool>("bool").await.unwrap(), Some(true));
    assert_eq!(
        back.get::<serde_bytes::ByteBuf>("bytes")
            .await
            .unwrap()
            .unwrap()
            .into_vec(),
        (0..=255u8).collect::<Vec<_>>()
    );
    assert_eq!(back.get::<Option<i32>>("none").await.unwrap(), Some(None));
    assert_eq!(
        back.get::<Option<u16>>("some").await.unwrap(),
        Some(Some(7))
    );
    assert_eq!(
        back.get::<Vec<String>>("vec").await.unwrap(),
        Some(vec!["x".to_string(), "y".into()])
    );
    assert_eq!(
        back.get::<HashMap<String, i32>>("map").await.unwrap(),
        Some(map)
    );
    assert_eq!(
        back.get::<BTreeMap<u32, String>>("int_keys").await.unwrap(),
        Some(BTreeMap::from([(1u32, "one".to_string())]))
    );
    assert_eq!(back.get::<Profile>("profile").await.unwrap(), Some(profile));
    assert_eq!(back.get::<()>("unit").await.unwrap(), Some(()));
    assert_eq!(back.get::<i64>("missing").await.unwrap(), None);
}

/// Reading a value as another type is an error, never a panic.
pub async fn type_mismatch_is_an_error<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Made>,
{
    let provider = init(&make, LONG).await;
    let sid = create(&provider, &[("n", 5)]).await;
    let store = provider.session_read(&sid).await.unwrap();
    store.set("s", "text").await.unwrap();
    assert!(store.get::<String>("n").await.is_err());
    assert!(store.get::<i64>("s").await.is_err());
    assert!(store.get::<Vec<u8>>("s").await.is_err());
    assert_eq!(store.get::<i64>("n").await.unwrap(), Some(5));
}

/// A release writes only when something changed.
pub async fn release_writes_only_changes<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Made>,
{
    let provider = init(&make, LONG).await;
    let fresh = provider.session_read(&new_id()).await.unwrap();
    assert!(!fresh.session_release().await.unwrap().written);
    assert_eq!(provider.session_all().await.unwrap(), 0);
    let sid = create(&provider, &[("a", 1)]).await;
    let store = provider.session_read(&sid).await.unwrap();
    assert_eq!(store.get::<i64>("a").await.unwrap(), Some(1));
    assert!(!store.session_release().await.unwrap().written);
    store.set("a", &2).await.unwrap();
    assert!(store.session_release().await.unwrap().written);
    // The same changes are not written twice.
    assert!(!store.session_release().await.unwrap().written);
    let back = provider.session_read(&sid).await.unwrap();
    assert_eq!(back.get::<i64>("a").await.unwrap(), Some(2));
}

/// Delete and flush are saved, and flush keeps later sets.
pub async fn delete_and_flush<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Made>,
{
    let provider = init(&make, LONG).await;
    let sid = create(&provider, &[("a", 1), ("b", 2), ("c", 3)]).await;
    let store = provider.session_read(&sid).await.unwrap();
    store.delete("a").await.unwrap();
    store.delete("never-there").await.unwrap();
    store.session_release().await.unwrap();
    let store = provider.session_read(&sid).await.unwrap();
    assert_eq!(store.get::<i64>("a").await.unwrap(), None);
    assert_eq!(store.get::<i64>("b").await.unwrap(), Some(2));
    store.flush().await.unwrap();
    store.set("d", &4).await.unwrap();
    store.session_release().await.unwrap();
    let store = provider.session_read(&sid).await.unwrap();
    assert!(!store.meta().is_new, "a flushed session still exists");
    assert_eq!(store.get::<i64>("b").await.unwrap(), None);
    assert_eq!(store.get::<i64>("c").await.unwrap(), None);
    assert_eq!(store.get::<i64>("d").await.unwrap(), Some(4));
}

/// Regenerate keeps the data under the new id and kills the old one.
pub async fn regenerate_moves_data<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Made>,
{
    let provider = init(&make, LONG).await;
    let old = create(&provider, &[("k", 42)]).await;
    let new = new_id();
    let moved = provider.session_regenerate(&old, &new).await.unwrap();
    assert_eq!(moved.session_id(), new);
    assert!(!moved.meta().is_new);
    assert_eq!(moved.get::<i64>("k").await.unwrap(), Some(42));
    assert!(provider.session_exist(&new).await.unwrap());
    assert!(!provider.session_exist(&old).await.unwrap());
    assert!(provider.session_read(&old).await.unwrap().meta().is_new);
    let again = provider.session_read(&new).await.unwrap();
    assert_eq!(again.get::<i64>("k").await.unwrap(), Some(42));
    // Changes made through the moved store land under the new id.
    moved.set("after", &1).await.unwrap();
    moved.session_release().await.unwrap();
    let again = provider.session_read(&new).await.unwrap();
    assert_eq!(again.get::<i64>("after").await.unwrap(), Some(1));
    // Regenerating an unknown id gives an empty new session.
    let ghost = provider
        .session_regenerate(&new_id(), &new_id())
        .await
        .unwrap();
    assert_eq!(ghost.get::<i64>("k").await.unwrap(), None);
    assert_eq!(provider.session_all().await.unwrap(), 1);
}

/// Destroy removes the session.
pub async fn destroy_removes<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Made>,
{
    let provider = init(&make, LONG).await;
    let sid = create(&provider, &[("k", 1)]).await;
    assert!(provider.session_exist(&sid).await.unwrap());
    provider.session_destroy(&sid).await.unwrap();
    assert!(!provider.session_exist(&sid).await.unwrap());
    assert!(provider.session_read(&sid).await.unwrap().meta().is_new);
    // Destroying twice, or an unknown id, is fine.
    provider.session_destroy(&sid).await.unwrap();
    provider.session_destroy(&new_id()).await.unwrap();
    assert_eq!(provider.session_all().await.unwrap(), 0);
}

/// A request that loaded the session before a destroy cannot bring it back.
pub async fn no_resurrection_after_destroy<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Made>,
{
    let provider = init(&make, LONG).await;
    for if_present in [false, true] {
        let sid = create(&provider, &[("k", 1)]).await;
        let slow = provider.session_read(&sid).await.unwrap();
        provider.session_destroy(&sid).await.unwrap();
        slow.set("late", &2).await.unwrap();
        let released = if if_present {
            slow.session_release_if_present().await.unwrap()
        } else {
            slow.session_release().await.unwrap()
        };
        assert!(!released.written, "release after destroy wrote");
        assert!(!provider.session_exist(&sid).await.unwrap());
    }
    // release_if_present never creates a new session either.
    let fresh = provider.session_read(&new_id()).await.unwrap();
    fresh.set("k", &1).await.unwrap();
    assert!(!fresh.session_release_if_present().await.unwrap().written);
    assert!(!provider.session_exist(&fresh.session_id()).await.unwrap());
    assert_eq!(provider.session_all().await.unwrap(), 0);
}

/// Requests on one session writing different keys lose nothing.
pub async fn concurrent_writers_keep_all_keys<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Made>,
{
    const WRITERS: usize = 50;
    let provider = init(&make, LONG).await;
    let sid = create(&provider, &[("base", 0)]).await;
    // Every request loads first, then all write: the worst interleaving.
    let mut stores = Vec::new();
    for _ in 0..WRITERS {
        stores.push(provider.session_read(&sid).await.unwrap());
    }
    let tasks: Vec<_> = stores
        .into_iter()
        .enumerate()
        .map(|(i, store)| {
            tokio::spawn(async move {
                store.set(&format!("k{i}"), &i).await.unwrap();
                store.session_release().await.unwrap();
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let back = provider.session_read(&sid).await.unwrap();
    for i in 0..WRITERS {
        assert_eq!(
            back.get::<usize>(&format!("k{i}")).await.unwrap(),
            Some(i),
            "key k{i} lost"
        );
    }
    assert_eq!(back.get::<i64>("base").await.unwrap(), Some(0));
}

/// `session_all` is exact after 1,000 sessions.
pub async fn session_all_counts_1000<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Made>,
{
    let provider = init(&make, LONG).await;
    for chunk in 0..20 {
        let tasks: Vec<_> = (0..50)
            .map(|i| {
                let provider = provider.clone();
                tokio::spawn(async move {
                    create(&provider, &[("i", chunk * 50 + i)]).await;
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    }
    assert_eq!(provider.session_all().await.unwrap(), 1000);
}

/// Idle expiry is enforced on read, slides with use, and GC removes the rest.
pub async fn idle_expiry_and_gc<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Made>,
{
    let provider = init(&make, Duration::from_secs(3)).await;
    let idle = create(&provider, &[("k", 1)]).await;
    let used = create(&provider, &[("k", 2)]).await;
    tokio::time::sleep(Duration::from_millis(1600)).await;
    // A read-only request keeps `used` alive.
    let store = provider.session_read(&used).await.unwrap();
    assert_eq!(store.get::<i64>("k").await.unwrap(), Some(2));
    store.session_release().await.unwrap();
    tokio::time::sleep(Duration::from_millis(2400)).await;
    // t = 4 s: `idle` is 1 s past its lifetime, `used` was refreshed at 1.6 s.
    assert!(
        !provider.session_exist(&idle).await.unwrap(),
        "idle session still exists"
    );
    assert!(provider.session_read(&idle).await.unwrap().meta().is_new);
    let store = provider.session_read(&used).await.unwrap();
    assert_eq!(
        store.get::<i64>("k").await.unwrap(),
        Some(2),
        "used session expired"
    );
    provider.session_gc().await.unwrap();
    assert_eq!(provider.session_all().await.unwrap(), 1);
    assert!(provider.session_exist(&used).await.unwrap());
}

/// GC removes expired sessions and nothing else.
pub async fn gc_removes_only_expired<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Made>,
{
    let provider = init(&make, Duration::from_secs(1)).await;
    for i in 0..5 {
        create(&provider, &[("i", i)]).await;
    }
    tokio::time::sleep(Duration::from_millis(2200)).await;
    let live = create(&provider, &[("live", 1)]).await;
    provider.session_gc().await.unwrap();
    assert_eq!(provider.session_all().await.unwrap(), 1);
    assert!(provider.session_exist(&live).await.unwrap());
}

async fn manager<F, Fut>(make: &F, cfg: ManagerConfig) -> Manager
where
    F: Fn() -> Fut,
    Fut: Future<Output = Made>,
{
    let (provider, config) = make().await;
    let mut cfg = cfg;
    cfg.provider_config = config;
    Manager::with_provider(provider, cfg).await.unwrap()
}

/// Through the manager: lazy start, strict ids, the absolute lifetime.
pub async fn manager_lazy_strict_absolute<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Made>,
{
    let cfg = ManagerConfig {
        max_lifetime: 60,
        absolute_lifetime: 2,
        ..ManagerConfig::default()
    };
    let m = manager(&make, cfg).await;
    // Lazy: reading creates nothing and sends nothing.
    let s = m.session_start(&RequestIds::default()).await.unwrap();
    assert_eq!(s.get::<i64>("k").await.unwrap(), None);
    assert!(m.session_release(&s).await.unwrap().cookie.is_none());
    assert_eq!(m.get_active_session().await.unwrap(), 0);
    // Strict: an unknown well-formed id is not adopted.
    let unknown = new_id();
    let s = m
        .session_start(&RequestIds {
            cookie: Some(unknown.as_str()),
            ..Default::default()
        })
        .await
        .unwrap();
    s.set("k", &1).await.unwrap();
    let cookie = m.session_release(&s).await.unwrap().cookie.unwrap();
    assert_ne!(cookie.value, unknown.as_str());
    assert!(!m.provider().session_exist(&unknown).await.unwrap());
    // Absolute lifetime: activity does not extend it.
    let ids = RequestIds {
        cookie: Some(&cookie.value),
        ..Default::default()
    };
    for _ in 0..2 {
        tokio::time::sleep(Duration::from_millis(800)).await;
        let s = m.session_start(&ids).await.unwrap();
        assert_eq!(s.get::<i64>("k").await.unwrap(), Some(1));
        s.set("k", &1).await.unwrap();
        m.session_release(&s).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let s = m.session_start(&ids).await.unwrap();
    assert_eq!(
        s.get::<i64>("k").await.unwrap(),
        None,
        "absolute lifetime ignored"
    );
}

/// Through the manager: regenerate and destroy, with the cookies they send.
pub async fn manager_regenerate_and_destroy<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Made>,
{
    let m = manager(&make, ManagerConfig::default()).await;
    let s = m.session_start(&RequestIds::default()).await.unwrap();
    s.set("user", "astaxie").await.unwrap();
    let first = m.session_release(&s).await.unwrap().cookie.unwrap();
    let ids = RequestIds {
        cookie: Some(&first.value),
        ..Default::default()
    };
    let s = m.session_start(&ids).await.unwrap();
    s.regenerate_id().await.unwrap();
    let parts = m.session_release(&s).await.unwrap();
    let second = parts.cookie.unwrap();
    assert_ne!(second.value, first.value);
    assert!(parts.no_store);
    let old = m.session_start(&ids).await.unwrap();
    assert_eq!(
        old.get::<String>("user").await.unwrap(),
        None,
        "old id alive"
    );
    let ids = RequestIds {
        cookie: Some(&second.value),
        ..Default::default()
    };
    let s = m.session_start(&ids).await.unwrap();
    assert_eq!(
        s.get::<String>("user").await.unwrap().as_deref(),
        Some("astaxie")
    );
    s.destroy().await.unwrap();
    let removal = m.session_release(&s).await.unwrap().cookie.unwrap();
    assert!(removal.is_removal());
    assert_eq!(removal.value, "");
    let s = m.session_start(&ids).await.unwrap();
    assert_eq!(
        s.get::<String>("user").await.unwrap(),
        None,
        "destroyed session alive"
    );
    assert_eq!(m.get_active_session().await.unwrap(), 0);
}

/// Expands every conformance case into an `#[actix_rt::test]`.
///
/// `$make` is an `async fn() -> (Box<dyn Provider>, String)` giving a fresh,
/// isolated, uninitialised engine and its config string.
#[macro_export]
macro_rules! conformance_tests {
    ($make:path) => {
        $crate::conformance_tests!(@cases $make;
            round_trip_types, type_mismatch_is_an_error, release_writes_only_changes,
            delete_and_flush, regenerate_moves_data, destroy_removes,
            no_resurrection_after_destroy, concurrent_writers_keep_all_keys,
            session_all_counts_1000, idle_expiry_and_gc, gc_removes_only_expired,
            manager_lazy_strict_absolute, manager_regenerate_and_destroy);
    };
    (@cases $make:path; $($case:ident),+) => {
        $(
            #[actix_rt::test]
            async fn $case() {
                $crate::session::testing::$case($make).await;
            }
        )+
    };
}
