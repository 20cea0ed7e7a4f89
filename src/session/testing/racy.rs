//! An engine wrapper for the owner races: it runs a whole "log out
//! everywhere" at the worst moment of a login (right after the login
//! attached its id to the owner index and before it wrote the session;
//! random races rarely hit that window, one round trip wide), or makes
//! tasks on one thread interleave inside the owner protocol, on any engine.
// Assertions are this module's purpose; it only runs inside tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_trait::async_trait;

use crate::session::{
    IndexedSession, Manager, Owner, OwnerIndex, Provider, Result, SessionId, Store,
};

/// The shared state: the wrapped engine, the manager over the wrapper
/// (set once built) and the trigger.
pub struct Racy {
    inner: Box<dyn Provider>,
    manager: OnceLock<Manager>,
    armed: AtomicBool,
    yielding: AtomicBool,
}

impl Racy {
    /// Makes the next attach run `destroy_sessions_of` of its owner.
    pub fn arm(&self) {
        self.armed.store(true, Ordering::SeqCst);
    }

    /// Makes every attach and epoch read yield to the other tasks, so
    /// that tasks racing on one thread interleave there even on an engine
    /// whose calls never wait (memory).
    pub fn interleave(&self) {
        self.yielding.store(true, Ordering::SeqCst);
    }

    async fn maybe_yield(&self) {
        if self.yielding.load(Ordering::SeqCst) {
            tokio::task::yield_now().await;
        }
    }

    /// True once the armed attach ran.
    pub fn fired(&self) -> bool {
        !self.armed.load(Ordering::SeqCst)
    }

    /// A manager over `inner` (uninitialised; `cfg.provider_config` is its
    /// config) wrapped, and the wrapper's state.
    pub async fn manager(
        mut inner: Box<dyn Provider>,
        cfg: crate::session::ManagerConfig,
    ) -> (Manager, Arc<Racy>) {
        // Initialised here: the wrapper is shared before the manager's init.
        inner.set_format(cfg.store_format).unwrap();
        inner
            .session_init(cfg.lifetimes().idle, &cfg.provider_config)
            .await
            .unwrap();
        let racy = Arc::new(Racy {
            inner,
            manager: OnceLock::new(),
            armed: AtomicBool::new(false),
            yielding: AtomicBool::new(false),
        });
        let m = Manager::with_provider(Box::new(RacyProvider(racy.clone())), cfg)
            .await
            .unwrap();
        racy.manager.set(m.clone()).unwrap();
        (m, racy)
    }
}

struct RacyProvider(Arc<Racy>);

#[async_trait]
impl OwnerIndex for Racy {
    async fn attach(&self, owner: &Owner, sid: &SessionId) -> Result<u64> {
        let epoch = self.inner.owner_index()?.attach(owner, sid).await?;
        self.maybe_yield().await;
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
        self.maybe_yield().await;
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
    async fn session_new(&self, sid: &SessionId) -> Result<Arc<dyn Store>> {
        self.0.inner.session_new(sid).await
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
    fn set_format(&mut self, _: crate::session::engine::Format) -> Result<()> {
        Ok(())
    }
    fn id_format(&self) -> crate::session::engine::IdFormat {
        self.0.inner.id_format()
    }
    fn owner_index(&self) -> Result<&dyn OwnerIndex> {
        self.0.inner.owner_index()?;
        Ok(&*self.0)
    }
}
