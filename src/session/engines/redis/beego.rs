//! beego's Redis layout (`sessionstoreformat = beego`), for all three Redis
//! engines.
//!
//! - **Layout**, as beego's `redis`, `redis_cluster` and `redis_sentinel`
//!   providers: the key is the raw session id (beego namespaces with
//!   `sessionidprefix`; `key_prefix` is not used), the value the gob bytes
//!   of the session map, the TTL the idle lifetime, refreshed on write. An
//!   empty value (what beego's regenerate of an unknown id stores) is an
//!   empty session.
//! - **Writes** merge this request's per-key changes into what is stored
//!   now: read, apply, then a compare-and-set script that writes only if
//!   the value is still the one read (`SET ... XX`, so a destroyed session
//!   is never brought back); on a conflict it reads again, a bounded number
//!   of times. One key per command, so it works on a cluster.
//! - **Creation** is `SET ... NX` (a taken id is a collision).
//! - **Regenerate** is one script on a single server or a sentinel's
//!   master. A cluster cannot be atomic here (the two raw ids sit in
//!   different hash slots, and beego's layout has no hash tags), so it
//!   copies the value to the new id (`SET ... NX`) first and deletes the
//!   old one after.
//! - **`session_all`** counts every key of the database (beego's layout has
//!   no namespace of its own; beego itself answers 0).

use std::sync::LazyLock;
use std::time::Duration;

use redis::aio::ConnectionLike;
use redis::{Pipeline, Script};

use super::commands::Commands;
use crate::session::engine::{Write, WriteMode};
use crate::session::error::{Error, Result};
use crate::session::format::beego;
use crate::session::record::SessionRecord;

/// Conflicting writes survived before giving up.
const MAX_ATTEMPTS: u32 = 200;

/// Compare and set: `ARGV[1]` the value read, `ARGV[2]` the new value,
/// `ARGV[3]` the TTL in ms. 1 written, 0 the session is gone, -1 it changed.
static CAS: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"local cur = redis.call('GET', KEYS[1])
if not cur then return 0 end
if cur ~= ARGV[1] then return -1 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3], 'XX')
return 1",
    )
});

/// Regenerate on one node (a single server, a sentinel's master), in one
/// script: `KEYS[1]` the old id, `KEYS[2]` the new one, `ARGV[1]` the TTL
/// in ms. 0 when the old session is gone, -1 when the new id is taken,
/// else the moved value.
static MOVE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"local v = redis.call('GET', KEYS[1])
if not v then return 0 end
if redis.call('EXISTS', KEYS[2]) == 1 then return -1 end
redis.call('SET', KEYS[2], v, 'PX', ARGV[1])
redis.call('DEL', KEYS[1])
return v",
    )
});

/// A record from stored bytes; an empty value is an empty session.
fn decode(bytes: &[u8], accessed_ms: u64) -> Result<SessionRecord> {
    let mut record = beego::decode_record(bytes)?;
    record.created_ms = accessed_ms;
    record.accessed_ms = accessed_ms;
    Ok(record)
}

impl<C: ConnectionLike + Clone + Send + Sync> Commands<C> {
    /// The stored bytes and the record of `key`, `None` when absent.
    async fn beego_get(&self, key: &str, now: u64) -> Result<Option<(Vec<u8>, SessionRecord)>> {
        let mut pipe = Pipeline::with_capacity(2);
        pipe.cmd("GET").arg(key).cmd("PTTL").arg(key);
        let mut conn = self.conn.clone();
        let (bytes, pttl): (Option<Vec<u8>>, i64) =
            pipe.query_async(&mut conn).await.map_err(|e| self.err(e))?;
        match bytes {
            Some(bytes) if pttl != -2 => {
                let record = decode(&bytes, self.accessed(pttl, now))?;
                Ok(Some((bytes, record)))
            }
            _ => Ok(None),
        }
    }

    /// The live record under `key`.
    pub async fn beego_load(&self, key: &str, now: u64) -> Result<Option<SessionRecord>> {
        Ok(self.beego_get(key, now).await?.map(|(_, r)| r))
    }

    /// `SET key value NX PX ttl`; [`Error::IdCollision`] when taken.
    async fn beego_set_nx(&self, key: &str, bytes: &[u8]) -> Result<()> {
        let mut conn = self.conn.clone();
        let reply: Option<String> = redis::cmd("SET")
            .arg(key)
            .arg(bytes)
            .arg("NX")
            .arg("PX")
            .arg(self.ttl_ms())
            .query_async(&mut conn)
            .await
            .map_err(|e| self.err(e))?;
        reply.map(|_| ()).ok_or(Error::IdCollision)
    }

    /// Creates the session `record` under `key`.
    pub async fn beego_create(&self, key: &str, record: &SessionRecord) -> Result<()> {
        self.beego_set_nx(key, &beego::encode_record(record)?).await
    }

    /// Applies one release of `MapStore`; `false` when the session is gone.
    pub async fn beego_write(&self, key: &str, w: &Write<'_>) -> Result<bool> {
        match w.mode {
            WriteMode::Create => {
                self.beego_create(key, w.merged).await?;
                return Ok(true);
            }
            WriteMode::Touch => {
                let mut conn = self.conn.clone();
                let n: i64 = redis::cmd("PEXPIRE")
                    .arg(key)
                    .arg(self.ttl_ms())
                    .query_async(&mut conn)
                    .await
                    .map_err(|e| self.err(e))?;
                return Ok(n == 1);
            }
            _ => {}
        }
        for attempt in 0..MAX_ATTEMPTS {
            let Some((old, mut record)) = self.beego_get(key, w.now_ms).await? else {
                return Ok(false);
            };
            w.changes.apply(&mut record.values);
            let new = beego::encode_record(&record)?;
            let mut inv = CAS.key(key);
            inv.arg(old).arg(new).arg(self.ttl_ms());
            let mut conn = self.conn.clone();
            let n: i64 = inv.invoke_async(&mut conn).await.map_err(|e| self.err(e))?;
            match n {
                1 => return Ok(true),
                0 => return Ok(false),
                _ => {
                    // Another writer got in between: back off a little.
                    let ms = u64::from(attempt.min(20)) + rand::random_range(0..3u64);
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                }
            }
        }
        Err(Error::backend(
            self.backend,
            "too many concurrent writes to one session (compare-and-set kept failing)",
        ))
    }

    /// Moves `old` to `new`; `None` when `old` is gone,
    /// [`Error::IdCollision`] when `new` is taken. On one node it is one
    /// script, so no other client sees both ids or neither. A cluster keeps
    /// beego's keys (raw ids, no hash tags), so the two ids sit in different
    /// slots and no script or transaction can span them: there the new id
    /// is written first (`SET NX`) and the old one deleted after, so a
    /// failure in between leaves the session under both ids (the old one
    /// expires), never under none.
    pub async fn beego_move(
        &self,
        old: &str,
        new: &str,
        now: u64,
        one_node: bool,
    ) -> Result<Option<SessionRecord>> {
        if one_node {
            let mut inv = MOVE.key(old);
            inv.key(new).arg(self.ttl_ms());
            let mut conn = self.conn.clone();
            let reply: redis::Value = inv.invoke_async(&mut conn).await.map_err(|e| self.err(e))?;
            return match reply {
                redis::Value::Int(0) => Ok(None),
                redis::Value::Int(_) => Err(Error::IdCollision),
                redis::Value::BulkString(bytes) => decode(&bytes, now).map(Some),
                _ => Err(Error::corrupt("unexpected reply to the regenerate script")),
            };
        }
        let Some((bytes, mut record)) = self.beego_get(old, now).await? else {
            return Ok(None);
        };
        self.beego_set_nx(new, &bytes).await?;
        self.delete(old).await?;
        record.accessed_ms = now;
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_value_is_an_empty_session() {
        let r = decode(b"", 5).unwrap();
        assert!(r.values.is_empty() && r.accessed_ms == 5);
        assert!(decode(b"junk", 5).unwrap_err().is_corrupt());
    }
}
