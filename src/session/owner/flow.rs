//! The owner protocol as a [`Session`](crate::session::Session) runs it: what
//! `set_owner`, release, regenerate and destroy do to the owner index
//! (see [`owner`](super) for why it is race-safe).
//!
//! Everything here runs only for sessions that have or get an owner; the
//! session handle calls it from one line in each of its operations.

use std::sync::Arc;

use crate::session::error::Result;
use crate::session::id::SessionId;
use crate::session::provider::Provider;
use super::{Owner, OwnerIndex, OWNER_EPOCH_KEY, OWNER_KEY};
use crate::session::store::Store;

/// What this request did to its session's owner, applied at release.
#[derive(Debug, Default)]
pub(crate) struct OwnerChange {
    /// `set_owner` was called: attach the id at release.
    attach: Option<Owner>,
    /// Owners to detach from ids after the release (a replaced owner, a
    /// cleared or flushed one).
    detach: Vec<(Owner, SessionId)>,
}

/// An attach made before a write, checked after it.
#[derive(Debug)]
pub(crate) struct Attached {
    owner: Owner,
    sid: SessionId,
    epoch: u64,
    /// The epoch the session stored at login (regenerate only): the owner
    /// was logged out everywhere since, when it differs.
    stored: Option<u64>,
}

/// The engine's owner index, or `None` on an engine without one: there the
/// owner is only a value in the session, and nothing is attached or
/// detached.
fn index(provider: &dyn Provider) -> Option<&dyn OwnerIndex> {
    provider.owner_index().ok()
}

/// The owner stored in the session, if any.
pub(crate) async fn stored_owner(store: &Arc<dyn Store>) -> Result<Option<Owner>> {
    match store.get::<String>(OWNER_KEY).await? {
        // A value that is no longer a valid owner is treated as none.
        Some(owner) => Ok(Owner::new(&owner).ok()),
        None => Ok(None),
    }
}

async fn stored_epoch(store: &Arc<dyn Store>) -> Result<Option<u64>> {
    store.get::<u64>(OWNER_EPOCH_KEY).await
}

/// `set_owner`: writes the owner into the session and attaches at release.
/// Setting the owner the session already has does nothing (an app may call
/// it on every request). The owner is a value in the session, so it works
/// on every engine; only the index (listing and ending an owner's
/// sessions) needs an engine that keeps one.
pub(crate) async fn set(
    store: &Arc<dyn Store>,
    change: &mut OwnerChange,
    owner: Owner,
) -> Result<()> {
    let previous = stored_owner(store).await?;
    if previous.as_ref() == Some(&owner) && change.attach.is_none() {
        return Ok(());
    }
    if let Some(previous) = previous.filter(|p| *p != owner) {
        change.detach.push((previous, store.session_id()));
    }
    store.set(OWNER_KEY, owner.as_str()).await?;
    change.attach = Some(owner);
    Ok(())
}

/// `clear_owner`, and a flush: the session leaves its owner's index.
pub(crate) async fn clear(
    store: &Arc<dyn Store>,
    change: &mut OwnerChange,
    delete_keys: bool,
) -> Result<()> {
    change.attach = None;
    if let Some(owner) = stored_owner(store).await? {
        change.detach.push((owner, store.session_id()));
        if delete_keys {
            store.delete(OWNER_KEY).await?;
            store.delete(OWNER_EPOCH_KEY).await?;
        }
    }
    Ok(())
}

/// Release, step 1: attaches the id of a session that got an owner in this
/// request and stores the epoch with it, before the write.
pub(crate) async fn before_release(
    provider: &dyn Provider,
    store: &Arc<dyn Store>,
    change: &mut OwnerChange,
) -> Result<Option<Attached>> {
    let Some(owner) = change.attach.take() else {
        return Ok(None);
    };
    let Some(index) = index(provider) else {
        return Ok(None);
    };
    let sid = store.session_id();
    let epoch = index.attach(&owner, &sid).await?;
    store.set(OWNER_EPOCH_KEY, &epoch).await?;
    Ok(Some(Attached {
        owner,
        sid,
        epoch,
        stored: None,
    }))
}

/// Release, step 3 (and the end of a regenerate): reads the epoch again
/// and destroys the session if a "log out everywhere" raced it. Returns
/// false when the session was destroyed. `now` is the session's id after
/// the write (a collision at creation may have changed it).
pub(crate) async fn confirm(
    provider: &dyn Provider,
    attached: Attached,
    now: &SessionId,
) -> Result<bool> {
    // An `Attached` exists only where the engine has an index.
    let index = provider.owner_index()?;
    let mut epoch = attached.epoch;
    if *now != attached.sid {
        epoch = index.attach(&attached.owner, now).await?;
        index.detach(&attached.owner, &attached.sid).await?;
    }
    let current = index.epoch(&attached.owner).await?;
    let raced = current != attached.epoch || epoch != attached.epoch;
    if !raced && attached.stored.is_none_or(|s| s == attached.epoch) {
        return Ok(true);
    }
    tracing::info!(
        owner = ?attached.owner,
        "session: its owner was logged out everywhere meanwhile; destroying it"
    );
    provider.session_destroy(now).await?;
    index.detach(&attached.owner, now).await?;
    Ok(false)
}

/// Regenerate, before the move: a session with an owner attaches its new
/// id first, so that a "log out everywhere" from now on finds one of them.
pub(crate) async fn before_move(
    provider: &dyn Provider,
    store: &Arc<dyn Store>,
    change: &OwnerChange,
    new: &SessionId,
) -> Result<Option<(Attached, SessionId)>> {
    if change.attach.is_some() {
        // The owner is new in this request: release attaches the final id.
        return Ok(None);
    }
    let Some(index) = index(provider) else {
        return Ok(None);
    };
    let Some(owner) = stored_owner(store).await? else {
        return Ok(None);
    };
    let stored = stored_epoch(store).await?;
    let epoch = index.attach(&owner, new).await?;
    let attached = Attached {
        owner,
        sid: new.clone(),
        epoch,
        stored,
    };
    Ok(Some((attached, store.session_id())))
}

/// Regenerate, after the move: confirms the new id and detaches the old.
/// False when the session was destroyed (its owner was logged out
/// everywhere since its login).
pub(crate) async fn after_move(
    provider: &dyn Provider,
    attached: Attached,
    old: SessionId,
) -> Result<bool> {
    let owner = attached.owner.clone();
    let new = attached.sid.clone();
    let alive = confirm(provider, attached, &new).await?;
    provider
        .owner_index()?
        .detach(&owner, &old)
        .await?;
    Ok(alive)
}

/// Destroy: the session leaves its owner's index (after the destroy).
pub(crate) async fn on_destroy(store: &Arc<dyn Store>, change: &mut OwnerChange) -> Result<()> {
    clear(store, change, false).await
}

/// After a release or a destroy: the detaches recorded in this request. A
/// failure is logged, not returned: the session is saved, and GC prunes an
/// id left behind.
pub(crate) async fn finish(provider: &dyn Provider, change: &mut OwnerChange) {
    if change.detach.is_empty() {
        return;
    }
    let Some(index) = index(provider) else {
        change.detach.clear();
        return;
    };
    for (owner, sid) in std::mem::take(&mut change.detach) {
        if let Err(e) = index.detach(&owner, &sid).await {
            tracing::warn!(error = %e, "session: could not detach a session from its owner");
        }
    }
}
