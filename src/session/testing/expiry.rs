//! Expiry cases: the idle lifetime on read and GC.
//!
//! They run on the real clock (networked engines expire keys on the
//! server), so every boundary has seconds of margin on both sides: a slow
//! or loaded machine makes them take longer, never fail.
// Assertions are this module's purpose; it only runs inside tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::Future;
use std::time::Duration;

use super::{create, init, Made};

/// Idle expiry is enforced on read, slides with use, and GC removes the rest.
///
/// Idle lifetime 8 s; `used` is read at 4 s (a refresh is due after 2 s)
/// and both are checked at 10 s: `idle` is 2 s past its lifetime, `used`
/// 2 s short of it.
pub async fn idle_expiry_and_gc<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Made>,
{
    let provider = init(&make, Duration::from_secs(8)).await;
    let idle = create(&provider, &[("k", 1)]).await;
    let used = create(&provider, &[("k", 2)]).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    // A read-only request keeps `used` alive.
    let store = provider.session_read(&used).await.unwrap();
    assert_eq!(store.get::<i64>("k").await.unwrap(), Some(2));
    store.session_release().await.unwrap();
    tokio::time::sleep(Duration::from_secs(6)).await;
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
///
/// Idle lifetime 3 s: the old sessions are 3 s past it when GC runs, the
/// live one has 3 s left.
pub async fn gc_removes_only_expired<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Made>,
{
    let provider = init(&make, Duration::from_secs(3)).await;
    for i in 0..5 {
        create(&provider, &[("i", i)]).await;
    }
    tokio::time::sleep(Duration::from_secs(6)).await;
    let live = create(&provider, &[("live", 1)]).await;
    provider.session_gc().await.unwrap();
    assert_eq!(provider.session_all().await.unwrap(), 1);
    assert!(provider.session_exist(&live).await.unwrap());
}
