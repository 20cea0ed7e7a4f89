//! Data cases: values survive exactly, releases write only changes, and
//! concurrent writers lose nothing.
// Assertions are this module's purpose; it only runs inside tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, HashMap};
use std::future::Future;

use serde::{Deserialize, Serialize};

use super::{create, init, new_id, Made, LONG};

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

/// With the default `max_session_bytes` (256 KiB), a release that would
/// make a session larger is refused whole with `TooLarge`: what was stored
/// stays as it was, and a new session that large is never created. A
/// session just under the limit is stored.
pub async fn oversized_session_is_refused<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Made>,
{
    use crate::session::Error;
    const LIMIT: usize = 256 * 1024;
    let provider = init(&make, LONG).await;
    let sid = create(&provider, &[("a", 1)]).await;
    let store = provider.session_read(&sid).await.unwrap();
    store.set("a", &2).await.unwrap();
    let big = serde_bytes::ByteBuf::from(vec![7u8; LIMIT]);
    store.set("big", &big).await.unwrap();
    match store.session_release().await {
        Err(Error::TooLarge {
            what: "session",
            limit: LIMIT,
            size,
        }) => assert!(size > LIMIT),
        other => panic!("an oversized release gave {:?}", other.map(|_| ())),
    }
    let back = provider.session_read(&sid).await.unwrap();
    assert_eq!(back.get::<i64>("a").await.unwrap(), Some(1));
    assert_eq!(back.get::<serde_bytes::ByteBuf>("big").await.unwrap(), None);
    let fresh = new_id();
    let store = provider.session_new(&fresh).await.unwrap();
    store.set("big", &big).await.unwrap();
    assert!(matches!(
        store.session_release().await,
        Err(Error::TooLarge { .. })
    ));
    assert!(!provider.session_exist(&fresh).await.unwrap());
    // Under the limit is fine.
    let fits = serde_bytes::ByteBuf::from(vec![7u8; LIMIT - 4096]);
    let store = provider.session_read(&sid).await.unwrap();
    store.set("big", &fits).await.unwrap();
    assert!(store.session_release().await.unwrap().written);
    let back = provider.session_read(&sid).await.unwrap();
    assert_eq!(
        back.get::<serde_bytes::ByteBuf>("big").await.unwrap(),
        Some(fits)
    );
}
