//! Cases through the `Manager`: lazy start, strict ids, the absolute
//! lifetime, regenerate and destroy with their cookies, and the corrupt-data
//! rule.
// Assertions are this module's purpose; it only runs inside tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use super::delegate::{Delegate, Hooks};
use super::{new_id, Made};
use crate::session::{Error, Manager, ManagerConfig, RequestIds, Result, SessionId};

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
///
/// Absolute lifetime 6 s: the session is used at 1 s and 2 s (4 s before
/// the end) and must be gone at 8 s (2 s after it).
pub async fn manager_lazy_strict_absolute<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Made>,
{
    let cfg = ManagerConfig {
        max_lifetime: 60,
        absolute_lifetime: 6,
        ..ManagerConfig::default()
    };
    let m = manager(&make, cfg).await;
    let started = std::time::Instant::now();
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
        tokio::time::sleep(Duration::from_secs(1)).await;
        let s = m.session_start(&ids).await.unwrap();
        assert_eq!(s.get::<i64>("k").await.unwrap(), Some(1));
        s.set("k", &1).await.unwrap();
        m.session_release(&s).await.unwrap();
    }
    // Still there at 4.5 s, three quarters of the lifetime, without a
    // write: an engine that expires early (at the idle deadline of a read,
    // say) fails here.
    let live = Duration::from_millis(4500);
    tokio::time::sleep(live.saturating_sub(started.elapsed())).await;
    let s = m.session_start(&ids).await.unwrap();
    assert_eq!(
        s.get::<i64>("k").await.unwrap(),
        Some(1),
        "gone before its absolute lifetime"
    );
    m.session_release(&s).await.unwrap();
    let end = Duration::from_secs(8);
    tokio::time::sleep(end.saturating_sub(started.elapsed())).await;
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

/// Through the manager: regenerate moves first and the request's pending
/// changes (the login) land under the new id only, never the old one.
pub async fn manager_regenerate_carries_pending_changes<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Made>,
{
    let m = manager(&make, ManagerConfig::default()).await;
    let s = m.session_start(&RequestIds::default()).await.unwrap();
    s.set("cart", &3).await.unwrap();
    let first = m.session_release(&s).await.unwrap().cookie.unwrap();
    let ids = RequestIds {
        cookie: Some(&first.value),
        ..Default::default()
    };
    // The login request: changes before and after the regenerate.
    let s = m.session_start(&ids).await.unwrap();
    s.set("user", "astaxie").await.unwrap();
    s.regenerate_id().await.unwrap();
    s.set("role", "admin").await.unwrap();
    let second = m.session_release(&s).await.unwrap().cookie.unwrap();
    assert_ne!(second.value, first.value);
    let old = m.session_start(&ids).await.unwrap();
    assert_eq!(
        old.get::<String>("user").await.unwrap(),
        None,
        "login data under the old id"
    );
    assert_eq!(old.get::<i64>("cart").await.unwrap(), None, "old id alive");
    let ids = RequestIds {
        cookie: Some(&second.value),
        ..Default::default()
    };
    let s = m.session_start(&ids).await.unwrap();
    assert_eq!(s.get::<i64>("cart").await.unwrap(), Some(3));
    assert_eq!(
        s.get::<String>("user").await.unwrap().as_deref(),
        Some("astaxie")
    );
    assert_eq!(
        s.get::<String>("role").await.unwrap().as_deref(),
        Some("admin")
    );
    // A fresh session regenerated before it was ever saved: one session.
    let s = m.session_start(&RequestIds::default()).await.unwrap();
    s.set("k", &1).await.unwrap();
    s.regenerate_id().await.unwrap();
    let cookie = m.session_release(&s).await.unwrap().cookie.unwrap();
    let ids = RequestIds {
        cookie: Some(&cookie.value),
        ..Default::default()
    };
    let s = m.session_start(&ids).await.unwrap();
    assert_eq!(s.get::<i64>("k").await.unwrap(), Some(1));
    assert_eq!(m.get_active_session().await.unwrap(), 2);
}

/// Makes one id's stored data read as corrupt.
struct Corrupting {
    poisoned: parking_lot::Mutex<Option<String>>,
}

#[async_trait::async_trait]
impl Hooks for Corrupting {
    async fn before_read(&self, sid: &SessionId) -> Result<()> {
        if self.poisoned.lock().as_deref() == Some(sid.as_str()) {
            return Err(Error::corrupt("planted by the conformance suite"));
        }
        Ok(())
    }
}

/// The corrupt-data rule (see [`Provider`](crate::session::Provider)): data an engine reports as
/// [`Error::Corrupt`] gives the request a fresh session under a new id, not
/// an error; the engine keeps working.
pub async fn manager_corrupt_data_is_a_fresh_session<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Made>,
{
    let (inner, config) = make().await;
    let hooks = Arc::new(Corrupting {
        poisoned: parking_lot::Mutex::new(None),
    });
    let provider = Delegate::new(inner, hooks.clone());
    let cfg = ManagerConfig {
        provider_config: config,
        ..ManagerConfig::default()
    };
    let m = Manager::with_provider(Box::new(provider), cfg)
        .await
        .unwrap();
    let s = m.session_start(&RequestIds::default()).await.unwrap();
    s.set("k", &1).await.unwrap();
    let cookie = m.session_release(&s).await.unwrap().cookie.unwrap();
    *hooks.poisoned.lock() = Some(cookie.value.clone());
    let ids = RequestIds {
        cookie: Some(&cookie.value),
        ..Default::default()
    };
    let s = m.session_start(&ids).await.unwrap();
    assert_eq!(s.get::<i64>("k").await.unwrap(), None);
    s.set("k", &2).await.unwrap();
    let fresh = m.session_release(&s).await.unwrap().cookie.unwrap();
    assert_ne!(fresh.value, cookie.value, "the corrupt id was reused");
    let ids = RequestIds {
        cookie: Some(&fresh.value),
        ..Default::default()
    };
    let s = m.session_start(&ids).await.unwrap();
    assert_eq!(s.get::<i64>("k").await.unwrap(), Some(2));
}
