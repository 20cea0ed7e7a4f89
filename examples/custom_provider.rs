//! The spec's "Creating a new provider": a small engine registered as
//! `"own"` and used through the `Manager`.
//!
//! The engine keeps encoded records in a map, standing in for any
//! key-value store. It reuses the core's change-tracking `MapStore`, so it
//! only has to say how to read, write, move and delete one record.
//!
//! Run it with `cargo run --example custom_provider`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use actix_bee::session::engine::{
    now_ms, Lifetimes, MapStore, Released, SessionRecord, SessionWriter, Write, WriteMode,
};
use actix_bee::session::{self, Manager, ManagerConfig, Provider, RequestIds, SessionId, Store};
use async_trait::async_trait;
use parking_lot::Mutex;

/// The backing "database": encoded records by session id.
#[derive(Default)]
struct Records {
    map: Mutex<HashMap<String, Vec<u8>>>,
    lifetimes: Mutex<Option<Lifetimes>>,
}

impl Records {
    fn lifetimes(&self) -> Lifetimes {
        self.lifetimes
            .lock()
            .unwrap_or(Lifetimes::new(Duration::from_secs(3600), None))
    }

    /// The live record under `sid`, if any.
    fn load(&self, sid: &SessionId) -> session::Result<Option<SessionRecord>> {
        let Some(bytes) = self.map.lock().get(sid.as_str()).cloned() else {
            return Ok(None);
        };
        let record = SessionRecord::decode(&bytes)?;
        Ok((!record.is_expired(&self.lifetimes(), now_ms())).then_some(record))
    }
}

/// How `MapStore` hands a request's changes back to this engine.
#[async_trait]
impl SessionWriter for Records {
    async fn write(&self, w: Write<'_>) -> session::Result<Released> {
        let lifetimes = self.lifetimes();
        // One lock around read-merge-write: concurrent requests merge per key.
        let mut map = self.map.lock();
        let current = match map.get(w.sid.as_str()) {
            Some(bytes) => {
                Some(SessionRecord::decode(bytes)?).filter(|r| !r.is_expired(&lifetimes, w.now_ms))
            }
            None => None,
        };
        let record = match (w.mode, current) {
            (WriteMode::Create, Some(_)) => return Err(session::Error::IdCollision),
            (WriteMode::Create, None) => w.merged.clone(),
            // Gone (destroyed or expired): never bring it back.
            (_, None) => return Ok(Released::wrote(false)),
            (_, Some(mut record)) => {
                w.changes.apply(&mut record.values);
                record
            }
        };
        let record = SessionRecord {
            accessed_ms: w.now_ms,
            ..record
        };
        map.insert(w.sid.as_str().to_owned(), record.encode()?);
        Ok(Released::wrote(true))
    }
}

/// The engine: `session.Register("own", ownadapter)` in the spec.
#[derive(Default)]
pub struct OwnProvider {
    records: Arc<Records>,
}

impl OwnProvider {
    fn store(&self, sid: &SessionId, record: Option<SessionRecord>) -> Arc<dyn Store> {
        let lifetimes = self.records.lifetimes();
        let writer = self.records.clone();
        match record {
            Some(r) => Arc::new(MapStore::loaded(sid.clone(), r, lifetimes, writer)),
            None => Arc::new(MapStore::new_session(sid.clone(), lifetimes, writer)),
        }
    }
}

#[async_trait]
impl Provider for OwnProvider {
    async fn session_init(&mut self, max_lifetime: Duration, _config: &str) -> session::Result<()> {
        *self.records.lifetimes.lock() = Some(Lifetimes::new(max_lifetime, None));
        Ok(())
    }

    async fn session_read(&self, sid: &SessionId) -> session::Result<Arc<dyn Store>> {
        Ok(self.store(sid, self.records.load(sid)?))
    }

    async fn session_exist(&self, sid: &SessionId) -> session::Result<bool> {
        Ok(self.records.load(sid)?.is_some())
    }

    async fn session_regenerate(
        &self,
        old: &SessionId,
        new: &SessionId,
    ) -> session::Result<Arc<dyn Store>> {
        let Some(mut record) = self.records.load(old)? else {
            return Ok(self.store(new, None));
        };
        record.accessed_ms = now_ms();
        let mut map = self.records.map.lock();
        if map.contains_key(new.as_str()) {
            return Err(session::Error::IdCollision);
        }
        // The new id holds the data before the old one is removed.
        map.insert(new.as_str().to_owned(), record.encode()?);
        map.remove(old.as_str());
        drop(map);
        Ok(self.store(new, Some(record)))
    }

    async fn session_destroy(&self, sid: &SessionId) -> session::Result<()> {
        self.records.map.lock().remove(sid.as_str());
        Ok(())
    }

    async fn session_all(&self) -> session::Result<usize> {
        let lifetimes = self.records.lifetimes();
        let now = now_ms();
        Ok(self
            .records
            .map
            .lock()
            .values()
            .filter_map(|b| SessionRecord::decode(b).ok())
            .filter(|r| !r.is_expired(&lifetimes, now))
            .count())
    }

    async fn session_gc(&self) -> session::Result<()> {
        let lifetimes = self.records.lifetimes();
        let now = now_ms();
        self.records.map.lock().retain(|_, bytes| {
            SessionRecord::decode(bytes).is_ok_and(|r| !r.is_expired(&lifetimes, now))
        });
        Ok(())
    }
}

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
