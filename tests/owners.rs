//! Sessions by owner ("log out everywhere") on the engines that need no
//! server: the memory engine against the owner cases (plus a race on real
//! threads), and the typed error of an engine without an index.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier, Mutex, OnceLock};
use std::thread;
use std::time::Duration;

use async_trait::async_trait;

use actix_bee::session::cookie::CookieProvider;
use actix_bee::session::memory::MemoryProvider;
use actix_bee::session::testing::owners::{check_no_survivor_of_a_bump, login};
use actix_bee::session::{
    IndexedSession, Manager, ManagerConfig, Owner, OwnerIndex, Provider, RequestIds, Result,
    SessionId, Store,
};

async fn memory() -> (Box<dyn Provider>, String) {
    (Box::new(MemoryProvider::default()), String::new())
}

actix_bee::conformance_tests!(memory, owner_index);

async fn cookie() -> (Box<dyn Provider>, String) {
    let keys = ["first secret key, at least thirty-two bytes long"];
    let config = serde_json::json!({ "securityKeys": keys }).to_string();
    (Box::new(CookieProvider::default()), config)
}

mod cookie_engine {
    actix_bee::conformance_tests!(super::cookie, no_owner_index);
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
}

/// The memory engine never yields inside a call, so one thread cannot
/// interleave a login with a "log out everywhere": here four threads log
/// in while a fifth ends the owner's sessions, 200 rounds, and after each
/// round no session attached before the bump is alive.
#[test]
fn memory_logins_race_destroy_on_threads() {
    const LOGINS: usize = 4;
    let manager = runtime().block_on(async {
        Manager::with_provider(
            Box::new(MemoryProvider::default()),
            ManagerConfig::default(),
        )
        .await
        .unwrap()
    });
    let start = Arc::new(Barrier::new(LOGINS + 2));
    let end = Arc::new(Barrier::new(LOGINS + 2));
    let ids: Arc<Mutex<Vec<SessionId>>> = Arc::default();
    let ended = Arc::new(Mutex::new(0usize));
    let rounds = 200;
    let mut threads = Vec::new();
    for _ in 0..LOGINS {
        let (m, start, end, ids) = (manager.clone(), start.clone(), end.clone(), ids.clone());
        threads.push(thread::spawn(move || {
            let rt = runtime();
            for _ in 0..rounds {
                start.wait();
                let sid = rt.block_on(login(&m, "racer"));
                ids.lock().unwrap().push(sid);
                end.wait();
            }
        }));
    }
    {
        let (m, start, end, ended) = (manager.clone(), start.clone(), end.clone(), ended.clone());
        threads.push(thread::spawn(move || {
            let rt = runtime();
            for _ in 0..rounds {
                start.wait();
                let n = rt.block_on(m.destroy_sessions_of("racer", None)).unwrap();
                *ended.lock().unwrap() += n;
                end.wait();
            }
        }));
    }
    let rt = runtime();
    for _ in 0..rounds {
        start.wait();
        end.wait();
        let all = ids.lock().unwrap().clone();
        rt.block_on(check_no_survivor_of_a_bump(&manager, "racer", &all));
    }
    for t in threads {
        t.join().unwrap();
    }
    assert!(*ended.lock().unwrap() > 0, "the race ended some sessions");
}

/// The memory engine, with a hook that runs a whole "log out everywhere"
/// right after a login attaches its id and before it writes the session:
/// the interleaving the login's second epoch read exists for.
struct Racy {
    inner: MemoryProvider,
    manager: OnceLock<Manager>,
    armed: AtomicBool,
}

struct RacyProvider(Arc<Racy>);

#[async_trait]
impl OwnerIndex for Racy {
    async fn attach(&self, owner: &Owner, sid: &SessionId) -> Result<u64> {
        let epoch = self.inner.owner_index()?.attach(owner, sid).await?;
        if self.armed.swap(false, Ordering::SeqCst) {
            let m = self.manager.get().unwrap();
            m.destroy_sessions_of(owner.as_str(), None).await?;
        }
        Ok(epoch)
    }
    async fn detach(&self, owner: &Owner, sid: &SessionId) -> Result<()> {
        self.inner.owner_index()?.detach(owner, sid).await
    }
    async fn epoch(&self, owner: &Owner) -> Result<u64> {
        self.inner.owner_index()?.epoch(owner).await
    }
    async fn bump(&self, owner: &Owner) -> Result<u64> {
        self.inner.owner_index()?.bump(owner).await
    }
    async fn sessions(&self, owner: &Owner) -> Result<Vec<IndexedSession>> {
        self.inner.owner_index()?.sessions(owner).await
    }
}

#[async_trait]
impl Provider for RacyProvider {
    async fn session_init(&mut self, _: Duration, _: &str) -> Result<()> {
        Ok(())
    }
    async fn session_read(&self, sid: &SessionId) -> Result<Arc<dyn Store>> {
        self.0.inner.session_read(sid).await
    }
    async fn session_exist(&self, sid: &SessionId) -> Result<bool> {
        self.0.inner.session_exist(sid).await
    }
    async fn session_regenerate(&self, old: &SessionId, new: &SessionId) -> Result<Arc<dyn Store>> {
        self.0.inner.session_regenerate(old, new).await
    }
    async fn session_destroy(&self, sid: &SessionId) -> Result<()> {
        self.0.inner.session_destroy(sid).await
    }
    async fn session_all(&self) -> Result<usize> {
        self.0.inner.session_all().await
    }
    async fn session_gc(&self) -> Result<()> {
        self.0.inner.session_gc().await
    }
    fn owner_index(&self) -> Result<&dyn OwnerIndex> {
        Ok(&*self.0)
    }
}

async fn racy() -> (Manager, Arc<Racy>) {
    let racy = Arc::new(Racy {
        inner: MemoryProvider::default(),
        manager: OnceLock::new(),
        armed: AtomicBool::new(false),
    });
    let provider = Box::new(RacyProvider(racy.clone()));
    let m = Manager::with_provider(provider, ManagerConfig::default())
        .await
        .unwrap();
    racy.manager.set(m.clone()).unwrap();
    (m, racy)
}

/// A "log out everywhere" between a login's attach and its write: the
/// index read misses the session (not written yet), so the login's own
/// second epoch read must end it, and the client loses its cookie.
#[actix_rt::test]
async fn logout_everywhere_between_attach_and_write_ends_the_login() {
    let (m, racy) = racy().await;
    let before = login(&m, "ivy").await;
    racy.armed.store(true, Ordering::SeqCst);
    let s = m.session_start(&RequestIds::default()).await.unwrap();
    s.set_owner("ivy").await.unwrap();
    let raced = s.session_id().await.unwrap();
    let parts = m.session_release(&s).await.unwrap();
    assert!(!racy.armed.load(Ordering::SeqCst), "the hook ran");
    assert!(!m.provider().session_exist(&before).await.unwrap());
    assert!(
        !m.provider().session_exist(&raced).await.unwrap(),
        "a login that attached before the bump survived it"
    );
    assert!(
        parts.cookie.is_none(),
        "a client without a cookie gets none"
    );
    assert!(m.sessions_of("ivy").await.unwrap().is_empty());
    // A login after the "log out everywhere" lives.
    let after = login(&m, "ivy").await;
    assert!(m.provider().session_exist(&after).await.unwrap());
}

/// A regenerate that moves a session between a "log out everywhere"'s
/// index read and its destroys: the moved session must not survive (the
/// epoch it stored at login is older than the owner's).
#[actix_rt::test]
async fn regenerate_during_logout_everywhere_does_not_escape() {
    let (m, _) = racy().await;
    let old = login(&m, "jay").await;
    let owner = Owner::new("jay").unwrap();
    let index = m.provider().owner_index().unwrap();
    // The "log out everywhere", by hand: bump and read the index...
    index.bump(&owner).await.unwrap();
    let listed = index.sessions(&owner).await.unwrap();
    assert_eq!(listed.len(), 1);
    // ...a request of that session regenerates its id meanwhile...
    let s = m
        .session_start(&RequestIds {
            cookie: Some(old.as_str()),
            ..Default::default()
        })
        .await
        .unwrap();
    m.session_regenerate_id(&s).await.unwrap();
    let new = s.session_id().await.unwrap();
    let parts = m.session_release(&s).await.unwrap();
    // ...and the destroys reach only the old id.
    for listed in listed {
        m.provider().session_destroy(&listed.sid).await.unwrap();
    }
    assert!(!m.provider().session_exist(&new).await.unwrap());
    assert!(parts.cookie.is_some_and(|c| c.is_removal()));
}
