//! Hooks for the owner races: run a whole "log out everywhere" at the
//! worst moment of a login (right after the login attached its id to the
//! owner index and before it wrote the session; random races rarely hit
//! that window, one round trip wide), or make tasks on one thread
//! interleave inside the owner protocol, on any engine.
// Assertions are this module's purpose; it only runs inside tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;

use super::delegate::{Delegate, Hooks};
use crate::session::{Manager, ManagerConfig, Owner, Provider, Result, SessionId};

/// The race hooks: the manager over the hooked engine (set once built)
/// and the triggers.
pub struct Racy {
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
    /// config) behind the race hooks, and the hooks.
    pub async fn manager(inner: Box<dyn Provider>, cfg: ManagerConfig) -> (Manager, Arc<Racy>) {
        let racy = Arc::new(Racy {
            manager: OnceLock::new(),
            armed: AtomicBool::new(false),
            yielding: AtomicBool::new(false),
        });
        let m = Manager::with_provider(Box::new(Delegate::new(inner, racy.clone())), cfg)
            .await
            .unwrap();
        // A fresh cell: this is its only write.
        let _ = racy.manager.set(m.clone());
        (m, racy)
    }
}

#[async_trait]
impl Hooks for Racy {
    async fn after_attach(&self, owner: &Owner, _sid: &SessionId) -> Result<()> {
        self.maybe_yield().await;
        // `manager` sets the cell before it returns, so before anyone can
        // arm the hook; an unset cell just means there is nothing to race.
        if self.armed.swap(false, Ordering::SeqCst) {
            if let Some(m) = self.manager.get() {
                m.destroy_sessions_of(owner.as_str(), None).await?;
            }
        }
        Ok(())
    }
    async fn before_epoch(&self, _owner: &Owner) -> Result<()> {
        self.maybe_yield().await;
        Ok(())
    }
}
