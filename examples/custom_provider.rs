//! The spec's "Creating a new provider": a small engine registered as
//! `"own"` and used through the `Manager`.
//!
//! The engine keeps encoded records in a map, standing in for any
//! key-value store. It implements [`RecordStore`], the same skeleton the
//! built-in engines use, so it only says how to load, write, insert,
//! remove and count one record; [`Engine`] makes it a `Provider` with
//! regenerate, expiry, the `max_session_bytes` limit and the corrupt-data
//! rule for free, and it passes the public conformance suite
//! (`tests/custom_provider.rs`).
//!
//! Run it with `cargo run --example custom_provider`.

use std::collections::HashMap;

use actix_bee::session::engine::{
    Engine, Loaded, RecordStore, Released, SessionRecord, StoreContext, Write, WriteMode,
};
use actix_bee::session::{self, Manager, ManagerConfig, RequestIds, SessionId};
use async_trait::async_trait;
use parking_lot::Mutex;

/// The backing "database": encoded records by session id.
#[derive(Debug)]
pub struct OwnRecords {
    map: Mutex<HashMap<String, Vec<u8>>>,
    cx: StoreContext,
}

impl OwnRecords {
    /// The live record in `bytes`: expired is absent, undecodable is
    /// `Error::Corrupt` (the manager then starts a fresh session).
    fn live(&self, bytes: Option<&Vec<u8>>, now: u64) -> Loaded {
        let Some(bytes) = bytes else {
            return Ok(None);
        };
        let record = self.cx.format.decode(bytes)?;
        Ok((!record.is_expired(&self.cx.lifetimes, now)).then_some(record))
    }
}

#[async_trait]
impl RecordStore for OwnRecords {
    const NAME: &'static str = "own";

    /// `sessionproviderconfig` would name the database here.
    async fn open(cx: StoreContext, _config: &str) -> session::Result<Self> {
        Ok(OwnRecords {
            map: Mutex::default(),
            cx,
        })
    }

    async fn load(&self, sid: &SessionId, now: u64) -> Loaded {
        self.live(self.map.lock().get(sid.as_str()), now)
    }

    /// One lock around read-merge-write: concurrent requests on one session
    /// merge per key, and a session that is gone is never brought back.
    async fn write(&self, w: Write<'_>) -> session::Result<Released> {
        let mut map = self.map.lock();
        let current = self.live(map.get(w.sid.as_str()), w.now_ms)?;
        let mut record = match (w.mode, current) {
            (WriteMode::Create, Some(_)) => return Err(session::Error::IdCollision),
            (WriteMode::Create, None) => w.merged.clone(),
            (_, None) => return Ok(Released::wrote(false)),
            (_, Some(mut record)) => {
                w.changes.apply(&mut record.values);
                record
            }
        };
        record.accessed_ms = w.now_ms;
        map.insert(w.sid.as_str().to_owned(), self.cx.format.encode(&record)?);
        Ok(Released::wrote(true))
    }

    async fn insert(
        &self,
        sid: &SessionId,
        record: &SessionRecord,
        now: u64,
    ) -> session::Result<()> {
        let mut map = self.map.lock();
        if self.live(map.get(sid.as_str()), now)?.is_some() {
            return Err(session::Error::IdCollision);
        }
        map.insert(sid.as_str().to_owned(), self.cx.format.encode(record)?);
        Ok(())
    }

    async fn remove(&self, sid: &SessionId) -> session::Result<()> {
        self.map.lock().remove(sid.as_str());
        Ok(())
    }

    async fn count(&self, now: u64) -> session::Result<usize> {
        let map = self.map.lock();
        Ok(map
            .values()
            .filter(|bytes| matches!(self.live(Some(bytes), now), Ok(Some(_))))
            .count())
    }

    async fn gc(&self, now: u64) -> session::Result<usize> {
        let mut map = self.map.lock();
        let before = map.len();
        // Expired records go; undecodable ones stay for an operator to see.
        map.retain(|_, bytes| !matches!(self.live(Some(bytes), now), Ok(None)));
        Ok(before - map.len())
    }
}

/// The engine: `session.Register("own", ownadapter)` in the spec.
pub type OwnProvider = Engine<OwnRecords>;

#[actix_rt::main]
async fn main() -> session::Result<()> {
    session::register("own", OwnProvider::default);
    let manager = Manager::new("own", ManagerConfig::default()).await?;

    // Request 1: no cookie; the handler stores a user name.
    let s = manager.session_start(&RequestIds::default()).await?;
    s.set("username", "astaxie").await?;
    let cookie = manager
        .session_release(&s)
        .await?
        .cookie
        .ok_or(session::Error::SessionsOff)?;
    println!(
        "request 1 set cookie {}=<{} chars>",
        cookie.name,
        cookie.value.len()
    );

    // Request 2 carries the cookie: the name is there; then log in anew.
    let ids = RequestIds {
        cookie: Some(&cookie.value),
        ..Default::default()
    };
    let s = manager.session_start(&ids).await?;
    let name: Option<String> = s.get("username").await?;
    println!("request 2 reads username = {name:?}");
    s.regenerate_id().await?;
    let renewed = manager.session_release(&s).await?.cookie;
    println!("request 2 regenerated the id: {}", renewed.is_some());
    println!("active sessions: {}", manager.get_active_session().await?);

    // Request 3 with the old cookie: the old id is dead.
    let s = manager.session_start(&ids).await?;
    let stale: Option<String> = s.get("username").await?;
    println!("request 3 with the old id reads {stale:?}");
    Ok(())
}
