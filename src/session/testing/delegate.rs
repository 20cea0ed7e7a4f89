//! [`Delegate`]: an engine that passes every call on to another engine,
//! with [`Hooks`] a test puts around the calls it cares about (a planted
//! corrupt read, a GC counter, a logout at the worst moment of a login).
//!
//! One forwarding wrapper, so that a test states only what it changes and
//! a method added to [`Provider`] or [`OwnerIndex`] is forwarded once.
// Assertions are this module's purpose; it only runs inside tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::session::engine::{Format, IdFormat, IndexedSession, OwnerIndex};
use crate::session::{Owner, Provider, Result, SessionId, Store};

/// What a test does around the calls of a [`Delegate`]. Every hook does
/// nothing by default; an error from a hook is the call's error, and the
/// wrapped engine is then not called.
#[async_trait]
pub trait Hooks: Send + Sync + 'static {
    /// Before `session_read`.
    async fn before_read(&self, _sid: &SessionId) -> Result<()> {
        Ok(())
    }
    /// Before `session_gc`.
    async fn before_gc(&self) -> Result<()> {
        Ok(())
    }
    /// After the owner index attached `sid` to `owner`, before the attach
    /// returns.
    async fn after_attach(&self, _owner: &Owner, _sid: &SessionId) -> Result<()> {
        Ok(())
    }
    /// Before an owner's epoch is read.
    async fn before_epoch(&self, _owner: &Owner) -> Result<()> {
        Ok(())
    }
}

/// An engine that forwards every call to `inner`, running `hooks` around
/// them. Its owner index is the inner engine's, hooked the same way.
///
/// # Examples
///
/// ```
/// # actix_rt::System::new().block_on(async {
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::Arc;
/// use actix_bee::session::memory::MemoryProvider;
/// use actix_bee::session::testing::delegate::{Delegate, Hooks};
/// use actix_bee::session::{Provider, Result};
///
/// #[derive(Default)]
/// struct CountGc(AtomicUsize);
///
/// #[async_trait::async_trait]
/// impl Hooks for CountGc {
///     async fn before_gc(&self) -> Result<()> {
///         self.0.fetch_add(1, Ordering::SeqCst);
///         Ok(())
///     }
/// }
///
/// let hooks = Arc::new(CountGc::default());
/// let engine = Delegate::new(Box::new(MemoryProvider::default()), hooks.clone());
/// engine.session_gc().await.unwrap();
/// assert_eq!(hooks.0.load(Ordering::SeqCst), 1);
/// # });
/// ```
pub struct Delegate<H> {
    inner: Box<dyn Provider>,
    hooks: Arc<H>,
}

impl<H: Hooks> Delegate<H> {
    /// `inner` behind `hooks`.
    pub fn new(inner: Box<dyn Provider>, hooks: Arc<H>) -> Self {
        Delegate { inner, hooks }
    }
}

#[async_trait]
impl<H: Hooks> Provider for Delegate<H> {
    async fn session_init(&mut self, max_lifetime: Duration, config: &str) -> Result<()> {
        self.inner.session_init(max_lifetime, config).await
    }
    async fn session_read(&self, sid: &SessionId) -> Result<Arc<dyn Store>> {
        self.hooks.before_read(sid).await?;
        self.inner.session_read(sid).await
    }
    async fn session_new(&self, sid: &SessionId) -> Result<Arc<dyn Store>> {
        self.inner.session_new(sid).await
    }
    async fn session_exist(&self, sid: &SessionId) -> Result<bool> {
        self.inner.session_exist(sid).await
    }
    async fn session_regenerate(&self, old: &SessionId, new: &SessionId) -> Result<Arc<dyn Store>> {
        self.inner.session_regenerate(old, new).await
    }
    async fn session_destroy(&self, sid: &SessionId) -> Result<()> {
        self.inner.session_destroy(sid).await
    }
    async fn session_all(&self) -> Result<usize> {
        self.inner.session_all().await
    }
    async fn session_gc(&self) -> Result<()> {
        self.hooks.before_gc().await?;
        self.inner.session_gc().await
    }
    fn id_format(&self) -> IdFormat {
        self.inner.id_format()
    }
    fn owner_index(&self) -> Result<&dyn OwnerIndex> {
        // The inner engine says whether there is an index at all.
        self.inner.owner_index()?;
        Ok(self)
    }
    fn name(&self) -> &'static str {
        self.inner.name()
    }
    fn set_format(&mut self, format: Format) -> Result<()> {
        self.inner.set_format(format)
    }
}

#[async_trait]
impl<H: Hooks> OwnerIndex for Delegate<H> {
    async fn attach(&self, owner: &Owner, sid: &SessionId) -> Result<u64> {
        let epoch = self.inner.owner_index()?.attach(owner, sid).await?;
        self.hooks.after_attach(owner, sid).await?;
        Ok(epoch)
    }
    async fn detach(&self, owner: &Owner, sid: &SessionId) -> Result<()> {
        self.inner.owner_index()?.detach(owner, sid).await
    }
    async fn epoch(&self, owner: &Owner) -> Result<u64> {
        self.hooks.before_epoch(owner).await?;
        self.inner.owner_index()?.epoch(owner).await
    }
    async fn bump(&self, owner: &Owner) -> Result<u64> {
        self.inner.owner_index()?.bump(owner).await
    }
    async fn sessions(&self, owner: &Owner) -> Result<Vec<IndexedSession>> {
        self.inner.owner_index()?.sessions(owner).await
    }
}
