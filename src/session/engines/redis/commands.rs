//! The storage commands, one implementation for every connection type.
//!
//! Layout: one hash per session under `prefix + id`. User keys are the
//! fields `v:<key>`, the creation time is `m:created`; the hash's PTTL is
//! the remaining idle lifetime. Each write is one atomic script or command.

use std::sync::LazyLock;

use redis::aio::ConnectionLike;
use redis::{Pipeline, RedisError, Script, Value};

use crate::session::engine::{Write, WriteMode};
use crate::session::error::{Error, Result};
use crate::session::format::{beego, Format};
use crate::session::record::{Lifetimes, SessionRecord};

/// A session's hash fields as stored.
pub(crate) type Fields = Vec<(Vec<u8>, Vec<u8>)>;

/// Insert if absent: `KEYS[1]` the session, `ARGV[1]` the TTL in ms, then
/// field/value pairs. Returns 0 when the key exists (a collision).
static CREATE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1",
    )
});

/// Merge into a live session only: `ARGV[1]` TTL ms, `ARGV[2]` the value
/// field prefix when every user field goes first (a flush), else empty,
/// `ARGV[3]` the number of fields to delete, those fields, then field/value
/// pairs. Returns 0 when the session is gone, so a destroyed or expired
/// session is never brought back.
static UPDATE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[2] ~= '' then
  for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
    if string.sub(f, 1, #ARGV[2]) == ARGV[2] then redis.call('HDEL', KEYS[1], f) end
  end
end
local n = tonumber(ARGV[3])
for i = 4, 3 + n do redis.call('HDEL', KEYS[1], ARGV[i]) end
for i = 4 + n, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1",
    )
});

/// Regenerate on one node, atomically: `KEYS[1]` the old session,
/// `KEYS[2]` the new one, `ARGV[1]` the TTL in ms. Returns 0 when the old
/// session is gone, -1 when the new id is taken, else the moved fields.
static MOVE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('EXISTS', KEYS[2]) == 1 then return -1 end
redis.call('RENAME', KEYS[1], KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return redis.call('HGETALL', KEYS[2])",
    )
});

/// The storage commands over any async connection `C`.
#[derive(Clone)]
pub(crate) struct Commands<C> {
    pub conn: C,
    pub prefix: String,
    pub lifetimes: Lifetimes,
    pub format: Format,
    pub backend: &'static str,
    /// The client's deadline for one answer, named when it passes.
    pub response_timeout: std::time::Duration,
}

impl<C: ConnectionLike + Clone + Send + Sync> Commands<C> {
    pub fn key(&self, sid: &str) -> String {
        let mut key = String::with_capacity(self.prefix.len() + sid.len());
        key.push_str(&self.prefix);
        key.push_str(sid);
        key
    }

    /// A failed command: [`Error::Timeout`] when the server did not answer
    /// within `response_timeout` (a hung server), else a backend error.
    pub fn err(&self, e: RedisError) -> Error {
        if e.is_timeout() {
            return Error::Timeout {
                backend: self.backend,
                after: self.response_timeout,
            };
        }
        Error::backend(self.backend, e)
    }

    pub(super) fn ttl_ms(&self) -> u64 {
        self.lifetimes.idle_ms().max(1)
    }

    /// The session and its fields as stored, in one round trip (HGETALL and
    /// PTTL pipelined); `None` when absent or expired.
    pub async fn load(&self, key: &str, now: u64) -> Result<Option<(SessionRecord, Fields)>> {
        let mut pipe = Pipeline::with_capacity(2);
        pipe.cmd("HGETALL").arg(key).cmd("PTTL").arg(key);
        let mut conn = self.conn.clone();
        let (hash, pttl): (Value, i64) = match pipe.query_async(&mut conn).await {
            Ok(reply) => reply,
            Err(e) if is_wrong_type(&e) => return Err(self.not_a_hash(key).await),
            Err(e) => return Err(self.err(e)),
        };
        let fields = hash_pairs(hash)?;
        if fields.is_empty() || pttl == -2 {
            return Ok(None);
        }
        let record = self.format.from_fields(&fields, self.accessed(pttl, now))?;
        Ok(Some((record, fields)))
    }

    /// Why `key` is not a session hash: beego's format (its value is a
    /// string of gob) names the setting to change; anything else is
    /// another app's key under this prefix.
    async fn not_a_hash(&self, key: &str) -> Error {
        let mut conn = self.conn.clone();
        let value: Option<Vec<u8>> = redis::cmd("GET")
            .arg(key)
            .query_async(&mut conn)
            .await
            .unwrap_or(None);
        match value {
            Some(v) if beego::looks_like_beego(&v) => beego::native_reads_beego(),
            _ => Error::corrupt(
                "the session key holds something other than a session hash \
                 (another application's key? check key_prefix)",
            ),
        }
    }

    /// The last access: the idle lifetime is the TTL, so it is when the TTL
    /// was last set, now minus the time the TTL has run down.
    pub(super) fn accessed(&self, pttl: i64, now: u64) -> u64 {
        let ttl = self.ttl_ms();
        let left = u64::try_from(pttl).unwrap_or(ttl).min(ttl);
        now.saturating_sub(ttl - left)
    }

    /// Renames `old` to `new` in one script (one node only: both keys must
    /// be on it). `None` when `old` is gone.
    pub async fn rename(&self, old: &str, new: &str, now: u64) -> Result<Option<SessionRecord>> {
        let mut inv = MOVE.key(old);
        inv.key(new).arg(self.ttl_ms());
        let mut conn = self.conn.clone();
        let reply: Value = inv.invoke_async(&mut conn).await.map_err(|e| self.err(e))?;
        match reply {
            Value::Int(0) => Ok(None),
            Value::Int(_) => Err(Error::IdCollision),
            hash => Ok(Some(self.format.from_fields(&hash_pairs(hash)?, now)?)),
        }
    }

    pub async fn exists(&self, key: &str) -> Result<bool> {
        let mut conn = self.conn.clone();
        let n: i64 = redis::cmd("EXISTS")
            .arg(key)
            .query_async(&mut conn)
            .await
            .map_err(|e| self.err(e))?;
        Ok(n > 0)
    }

    pub async fn delete(&self, key: &str) -> Result<()> {
        let mut conn = self.conn.clone();
        let _: i64 = redis::cmd("DEL")
            .arg(key)
            .query_async(&mut conn)
            .await
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Inserts raw fields if the key is absent; `Err(IdCollision)` if present.
    pub async fn create_raw<'a, I>(&self, key: &str, fields: I) -> Result<()>
    where
        I: IntoIterator<Item = (&'a [u8], &'a [u8])>,
    {
        let mut inv = CREATE.key(key);
        inv.arg(self.ttl_ms());
        for (f, v) in fields {
            inv.arg(f).arg(v);
        }
        let mut conn = self.conn.clone();
        let created: i64 = inv.invoke_async(&mut conn).await.map_err(|e| self.err(e))?;
        if created == 1 {
            Ok(())
        } else {
            Err(Error::IdCollision)
        }
    }

    /// Creates a session from a record.
    pub async fn create(&self, key: &str, record: &SessionRecord) -> Result<()> {
        let fields = self.format.to_fields(record);
        self.create_raw(
            key,
            fields.iter().map(|(f, v)| (f.as_slice(), v.as_slice())),
        )
        .await
    }

    /// Applies one release of `MapStore`.
    pub async fn write(&self, w: &Write<'_>) -> Result<bool> {
        let key = self.key(w.sid.as_str());
        let mut conn = self.conn.clone();
        match w.mode {
            WriteMode::Create => {
                self.create(&key, w.merged).await?;
                Ok(true)
            }
            WriteMode::Touch => {
                let n: i64 = redis::cmd("PEXPIRE")
                    .arg(&key)
                    .arg(self.ttl_ms())
                    .query_async(&mut conn)
                    .await
                    .map_err(|e| self.err(e))?;
                Ok(n == 1)
            }
            _ => {
                let changes = w.changes;
                let mut inv = UPDATE.key(&key);
                inv.arg(self.ttl_ms())
                    .arg(if changes.flushed() {
                        self.format.value_prefix()
                    } else {
                        b""
                    })
                    .arg(changes.deletes().len());
                for k in changes.deletes() {
                    inv.arg(self.format.value_field(k));
                }
                for (k, v) in changes.sets() {
                    inv.arg(self.format.value_field(k)).arg(v.as_slice());
                }
                let n: i64 = inv.invoke_async(&mut conn).await.map_err(|e| self.err(e))?;
                Ok(n == 1)
            }
        }
    }
}

/// True for Redis's `WRONGTYPE` (the key is not a hash), alone or as the
/// failure of a pipelined command.
fn is_wrong_type(e: &RedisError) -> bool {
    const CODE: &str = "WRONGTYPE";
    e.code() == Some(CODE)
        || e.clone()
            .into_server_errors()
            .is_some_and(|errors| errors.iter().any(|(_, err)| err.code() == CODE))
}

/// HGETALL's reply as pairs, from RESP2 (flat array) or RESP3 (map).
fn hash_pairs(v: Value) -> Result<Fields> {
    fn bytes(v: Value) -> Result<Vec<u8>> {
        match v {
            Value::BulkString(b) => Ok(b),
            Value::SimpleString(s) => Ok(s.into_bytes()),
            _ => Err(Error::corrupt("unexpected HGETALL element")),
        }
    }
    match v {
        Value::Nil => Ok(Vec::new()),
        Value::Map(pairs) => pairs
            .into_iter()
            .map(|(f, v)| Ok((bytes(f)?, bytes(v)?)))
            .collect(),
        Value::Array(items) => {
            if items.len() % 2 != 0 {
                return Err(Error::corrupt("odd HGETALL reply"));
            }
            let mut out = Vec::with_capacity(items.len() / 2);
            let mut it = items.into_iter();
            while let (Some(f), Some(v)) = (it.next(), it.next()) {
                out.push((bytes(f)?, bytes(v)?));
            }
            Ok(out)
        }
        _ => Err(Error::corrupt("unexpected HGETALL reply")),
    }
}

/// A glob that matches exactly the keys starting with `prefix`.
pub(crate) fn scan_pattern(prefix: &str) -> String {
    let mut p = String::with_capacity(prefix.len() + 1);
    for c in prefix.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('*');
    p
}

/// Counts keys matching `pattern` on one node with SCAN (never KEYS).
/// `send` runs one command on that node.
pub(crate) async fn scan_count<F, Fut>(pattern: &str, mut send: F) -> redis::RedisResult<usize>
where
    F: FnMut(redis::Cmd) -> Fut,
    Fut: std::future::Future<Output = redis::RedisResult<Value>>,
{
    let mut cursor: u64 = 0;
    let mut count = 0usize;
    loop {
        let mut cmd = redis::cmd("SCAN");
        cmd.arg(cursor)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(1000);
        let (next, keys): (u64, Vec<Value>) = redis::from_redis_value(send(cmd).await?)?;
        count += keys.len();
        cursor = next;
        if cursor == 0 {
            return Ok(count);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_escapes_glob() {
        assert_eq!(scan_pattern("a*b?[c]\\:"), "a\\*b\\?\\[c\\]\\\\:*");
    }

    #[test]
    fn hash_pairs_shapes() {
        let flat = Value::Array(vec![
            Value::BulkString(b"v:a".to_vec()),
            Value::BulkString(vec![1]),
        ]);
        assert_eq!(hash_pairs(flat).unwrap(), [(b"v:a".to_vec(), vec![1])]);
        assert!(hash_pairs(Value::Array(vec![Value::Nil])).is_err());
        assert!(hash_pairs(Value::Int(3)).is_err());
        assert!(hash_pairs(Value::Nil).unwrap().is_empty());
    }
}
