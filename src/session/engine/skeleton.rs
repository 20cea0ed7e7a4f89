//! The engine skeleton: an engine implements [`RecordStore`] (how to load,
//! write, insert, remove and count one session record), and one generic
//! [`Engine`] implements [`Provider`] over it. The built-in engines and
//! custom ones (`examples/custom_provider.rs`) are written the same way.
//!
//! The skeleton owns what every engine would otherwise write again: the
//! "not initialised" guard, the choice between a loaded and a new
//! [`MapStore`], the no-I/O store of a fresh id, regenerate (new id first,
//! old id dead after), and the size limit: a release whose session would
//! count more than the engine's `max_session_bytes` (its keys and values
//! plus 48 bytes a key and 256 a session, the same measure on every
//! engine) is refused whole with [`Error::TooLarge`] before the engine is
//! called.
//! With the `metrics` feature it also times and counts every call.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::map_store::{MapStore, SessionWriter, Write, WriteMode};
use crate::session::error::{Error, Result};
use crate::session::format::Format;
use crate::session::id::{IdFormat, SessionId};
use crate::session::provider::Provider;
use crate::session::record::{now_ms, Lifetimes, SessionRecord};
use crate::session::store::Released;
use crate::session::store::Store;

use crate::session::engines::shared::options::DEFAULT_MAX_SESSION_BYTES;
use crate::session::observe::observed;
#[cfg(feature = "metrics")]
use crate::session::observe::{EngineMetrics, Op};

/// Bytes counted for a session besides its keys and values (the id, the
/// times, the container), so that many tiny sessions count too.
pub(crate) const SESSION_OVERHEAD: usize = 256;
/// Bytes counted per stored key besides its name and value.
pub(crate) const KEY_OVERHEAD: usize = 48;

/// The size a session is counted at, the same on every engine: its keys
/// and values plus a fixed overhead per key and per session. It is close
/// to, but not, the size of any one engine's encoding, so that one
/// `max_session_bytes` means the same whatever the engine and format.
pub(crate) fn session_bytes(sid: &SessionId, record: &SessionRecord) -> usize {
    record
        .values
        .iter()
        .map(|(k, v)| k.len() + v.len() + KEY_OVERHEAD)
        .sum::<usize>()
        + sid.as_str().len()
        + SESSION_OVERHEAD
}

/// A record as loaded or moved: `None` when there is none (or it expired).
pub type Loaded = Result<Option<SessionRecord>>;

/// What every call of a record store may need: the lifetimes and the
/// storage format, fixed when the engine starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoreContext {
    /// The idle (and absolute) lifetimes: a record past them is expired.
    pub lifetimes: Lifetimes,
    /// The storage format (`sessionstoreformat`) to encode records in.
    pub format: Format,
}

/// One engine's storage of session records: what an engine author writes.
/// [`Engine<S>`](Engine) turns it into a [`Provider`]. Times are ms since
/// the epoch.
///
/// The rules every method keeps (the conformance suite,
/// [`conformance_tests!`](crate::conformance_tests), checks them):
/// - an expired record is absent;
/// - a record that does not decode is [`Error::Corrupt`] (the manager then
///   starts a fresh session);
/// - `write` with `Create` inserts only if absent ([`Error::IdCollision`]),
///   `Update` and `Touch` write only a session that is still there, so a
///   destroyed session never comes back;
/// - `write` with `Update` merges this request's [`Changes`](super::Changes)
///   into the stored record, so concurrent requests keep each other's keys.
///
/// # Examples
///
/// `examples/custom_provider.rs` is a complete engine on this trait.
#[async_trait]
pub trait RecordStore: fmt::Debug + Send + Sync + Sized + 'static {
    /// The engine name, in errors and logs.
    const NAME: &'static str;
    /// The shape of this engine's ids.
    const ID_FORMAT: IdFormat = IdFormat::Random;
    /// The storage formats this engine can write.
    const FORMATS: &'static [Format] = &[Format::Native];

    /// Parses the engine's `sessionproviderconfig` and connects (or
    /// prepares to connect on first use).
    async fn open(context: StoreContext, config: &str) -> Result<Self>;

    /// The live record of `sid`: `None` when absent or expired,
    /// [`Error::Corrupt`] when it does not decode.
    async fn load(&self, sid: &SessionId, now: u64) -> Loaded;

    /// What [`load`](Self::load) would return, when the store can answer
    /// without waiting (the memory engine): the skeleton then skips
    /// `load`'s boxed future, on every request. `None`: call `load`.
    #[doc(hidden)]
    fn load_now(&self, _sid: &SessionId, _now: u64) -> Option<Loaded> {
        None
    }

    /// True when a live record is stored under `sid`.
    async fn exists(&self, sid: &SessionId, now: u64) -> Result<bool> {
        Ok(self.load(sid, now).await?.is_some())
    }

    /// Applies one release of a [`MapStore`]: `Create` inserts if absent,
    /// `Update` and `Touch` write only a session that is still there.
    async fn write(&self, w: Write<'_>) -> Result<Released>;

    /// What [`write`](Self::write) would return, when the store can apply
    /// it without waiting (the memory engine); `None`: call `write`.
    #[doc(hidden)]
    fn write_now(&self, _w: &Write<'_>) -> Option<Result<Released>> {
        None
    }

    /// Inserts `record` under `sid` unless a live session is there
    /// ([`Error::IdCollision`]); an expired one is replaced.
    async fn insert(&self, sid: &SessionId, record: &SessionRecord, now: u64) -> Result<()>;

    /// Removes `sid`; an absent one is fine.
    async fn remove(&self, sid: &SessionId) -> Result<()>;

    /// Moves the live record of `old` to `new` and returns it, `None` when
    /// `old` holds none. Written once here: the new id first (insert if
    /// absent), then the old id goes, so a failure in between leaves the
    /// data under one id, never under none and never with new data under
    /// the old id. Engines that can do it atomically override it.
    async fn move_record(&self, old: &SessionId, new: &SessionId, now: u64) -> Loaded {
        let Some(mut record) = self.load(old, now).await? else {
            return Ok(None);
        };
        record.accessed_ms = now;
        self.insert(new, &record, now).await?;
        self.remove(old).await?;
        Ok(Some(record))
    }

    /// Number of live sessions.
    async fn count(&self, now: u64) -> Result<usize>;

    /// The engine's owner index, when it keeps one (see
    /// [`OwnerIndex`](crate::session::OwnerIndex)).
    fn owner_index(&self) -> Option<&dyn crate::session::OwnerIndex> {
        None
    }

    /// Removes expired sessions and says how many; a no-op (0) where the
    /// backend expires them.
    async fn gc(&self, _now: u64) -> Result<usize> {
        Ok(0)
    }

    /// The number of stored sessions when the engine knows it without I/O
    /// (memory, file): the live-sessions gauge.
    #[cfg(feature = "metrics")]
    fn live_sessions(&self) -> Option<usize> {
        None
    }

    /// The largest session this store accepts (counted as keys and values
    /// plus 48 bytes a key and 256 a session): the
    /// engine's `max_session_bytes` option, checked by [`Engine`] on every
    /// release.
    fn max_session_bytes(&self) -> usize {
        DEFAULT_MAX_SESSION_BYTES
    }
}

/// The state of an initialised engine, shared with the stores it hands out.
struct EngineState<S> {
    records: S,
    context: StoreContext,
    #[cfg(feature = "metrics")]
    metrics: EngineMetrics,
}

impl<S: RecordStore> EngineState<S> {
    fn new(records: S, context: StoreContext) -> Self {
        EngineState {
            records,
            context,
            #[cfg(feature = "metrics")]
            metrics: EngineMetrics::register(S::NAME),
        }
    }

    /// Refreshes the live-sessions gauge (at most once a second).
    #[cfg(feature = "metrics")]
    fn live(&self, now: u64) {
        self.metrics.live(now, || self.records.live_sessions());
    }
}

#[async_trait]
impl<S: RecordStore> SessionWriter for EngineState<S> {
    /// Refuses a session over the size limit whole, before the engine sees
    /// it: never a half-saved or silently cut session. The check is on the
    /// session as this request sees it (`merged`); engines that merge
    /// concurrent writers check each writer's view, so the stored session
    /// can pass the limit only by what requests racing on one id add
    /// together, and then every release with changes is refused until one
    /// brings it back under the limit.
    async fn write(&self, w: Write<'_>) -> Result<Released> {
        #[cfg(not(feature = "metrics"))]
        return self.checked_write(w).await;
        #[cfg(feature = "metrics")]
        {
            let create = w.mode == WriteMode::Create;
            let (sid, op) = (w.sid, if create { Op::Insert } else { Op::Write });
            let done = self
                .metrics
                .call(op, Some(sid), self.checked_write(w))
                .await;
            if done.as_ref().is_ok_and(|r| r.written && create) {
                self.metrics.created();
                self.live(now_ms());
            }
            done
        }
    }
}

impl<S: RecordStore> EngineState<S> {
    /// The size check, then the engine's write.
    async fn checked_write(&self, w: Write<'_>) -> Result<Released> {
        if w.mode != WriteMode::Touch {
            let (size, limit) = (
                session_bytes(w.sid, w.merged),
                self.records.max_session_bytes(),
            );
            if size > limit {
                tracing::debug!(
                    engine = S::NAME,
                    size,
                    limit,
                    "session: release refused, session over max_session_bytes"
                );
                return Err(Error::TooLarge {
                    what: "session",
                    size,
                    limit,
                });
            }
        }
        if let Some(done) = self.records.write_now(&w) {
            return done;
        }
        self.records.write(w).await
    }
}

/// The generic engine: a [`Provider`] over any [`RecordStore`], built by
/// `Engine::<MyRecords>::default()` and started by the manager
/// (`session_init` opens the record store).
///
/// # Examples
///
/// ```
/// use actix_bee::session::engine::Engine;
/// use actix_bee::session::register;
/// # use actix_bee::session::engine::{Loaded, RecordStore, Released, StoreContext, Write};
/// # use actix_bee::session::{Result, SessionId};
/// # #[derive(Debug)]
/// # struct MyRecords;
/// # #[async_trait::async_trait]
/// # impl RecordStore for MyRecords {
/// #     const NAME: &'static str = "mine";
/// #     async fn open(_: StoreContext, _: &str) -> Result<Self> { Ok(MyRecords) }
/// #     async fn load(&self, _: &SessionId, _: u64) -> Loaded { Ok(None) }
/// #     async fn write(&self, _: Write<'_>) -> Result<Released> { Ok(Released::wrote(false)) }
/// #     async fn insert(&self, _: &SessionId, _: &actix_bee::session::engine::SessionRecord, _: u64) -> Result<()> { Ok(()) }
/// #     async fn remove(&self, _: &SessionId) -> Result<()> { Ok(()) }
/// #     async fn count(&self, _: u64) -> Result<usize> { Ok(0) }
/// # }
/// register("mine", Engine::<MyRecords>::default);
/// ```
pub struct Engine<S> {
    state: Option<Arc<EngineState<S>>>,
    format: Format,
}

impl<S> Default for Engine<S> {
    fn default() -> Self {
        Engine {
            state: None,
            format: Format::default(),
        }
    }
}

impl<S: RecordStore> fmt::Debug for Engine<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("engine", &S::NAME)
            .field("format", &self.format.name())
            .field("records", &self.state.as_ref().map(|i| &i.records))
            .finish()
    }
}

impl<S: RecordStore> Engine<S> {
    /// An engine that is ready without `session_init` (the memory engine).
    #[cfg(feature = "memory")]
    pub(crate) fn ready(records: S, context: StoreContext) -> Self {
        Engine {
            state: Some(Arc::new(EngineState::new(records, context))),
            format: context.format,
        }
    }

    /// The initialised state, or [`Error::NotInitialized`].
    fn state(&self) -> Result<&Arc<EngineState<S>>> {
        self.state
            .as_ref()
            .ok_or(Error::NotInitialized { engine: S::NAME })
    }

    /// The change-tracking store over `record`, or a new one.
    fn store(
        state: &Arc<EngineState<S>>,
        sid: SessionId,
        record: Option<SessionRecord>,
    ) -> Arc<dyn Store> {
        let writer: Arc<dyn SessionWriter> = state.clone();
        let lifetimes = state.context.lifetimes;
        let store = match record {
            Some(record) => MapStore::loaded(sid, record, lifetimes, writer),
            None => MapStore::new_session(sid, lifetimes, writer),
        };
        Arc::new(store.with_format(state.context.format))
    }
}

#[async_trait]
impl<S: RecordStore> Provider for Engine<S> {
    async fn session_init(&mut self, max_lifetime: Duration, config: &str) -> Result<()> {
        let context = StoreContext {
            lifetimes: Lifetimes::new(max_lifetime, None),
            format: self.format,
        };
        let records = S::open(context, config).await?;
        tracing::debug!(
            engine = S::NAME,
            format = context.format.name(),
            "session: engine ready"
        );
        self.state = Some(Arc::new(EngineState::new(records, context)));
        Ok(())
    }

    async fn session_read(&self, sid: &SessionId) -> Result<Arc<dyn Store>> {
        let state = self.state()?;
        let now = now_ms();
        #[cfg(feature = "metrics")]
        let found = state
            .metrics
            .call_now(Op::Load, Some(sid), || state.records.load_now(sid, now));
        #[cfg(not(feature = "metrics"))]
        let found = state.records.load_now(sid, now);
        let record = match found {
            Some(found) => found?,
            None => observed!(
                state.metrics,
                Op::Load,
                Some(sid),
                state.records.load(sid, now)
            )?,
        };
        Ok(Self::store(state, sid.clone(), record))
    }

    /// No I/O: release creates the session with an insert-if-absent.
    async fn session_new(&self, sid: &SessionId) -> Result<Arc<dyn Store>> {
        Ok(Self::store(self.state()?, sid.clone(), None))
    }

    async fn session_exist(&self, sid: &SessionId) -> Result<bool> {
        let state = self.state()?;
        let call = state.records.exists(sid, now_ms());
        observed!(state.metrics, Op::Load, Some(sid), call)
    }

    async fn session_regenerate(&self, old: &SessionId, new: &SessionId) -> Result<Arc<dyn Store>> {
        let state = self.state()?;
        let call = state.records.move_record(old, new, now_ms());
        let record = observed!(state.metrics, Op::Move, Some(old), call)?;
        #[cfg(feature = "metrics")]
        state.metrics.regenerated();
        Ok(Self::store(state, new.clone(), record))
    }

    async fn session_destroy(&self, sid: &SessionId) -> Result<()> {
        let state = self.state()?;
        observed!(
            state.metrics,
            Op::Remove,
            Some(sid),
            state.records.remove(sid)
        )?;
        #[cfg(feature = "metrics")]
        {
            state.metrics.destroyed();
            state.live(now_ms());
        }
        Ok(())
    }

    async fn session_all(&self) -> Result<usize> {
        let state = self.state()?;
        observed!(
            state.metrics,
            Op::Count,
            None,
            state.records.count(now_ms())
        )
    }

    async fn session_gc(&self) -> Result<()> {
        let state = self.state()?;
        let now = now_ms();
        let removed = observed!(state.metrics, Op::Gc, None, state.records.gc(now))?;
        tracing::debug!(engine = S::NAME, removed, "session: GC done");
        #[cfg(feature = "metrics")]
        {
            state.metrics.expired(removed);
            state.live(now);
        }
        Ok(())
    }

    fn name(&self) -> &'static str {
        S::NAME
    }

    fn owner_index(&self) -> Result<&dyn crate::session::OwnerIndex> {
        self.state()?
            .records
            .owner_index()
            .ok_or_else(|| crate::session::owner::unsupported(S::NAME))
    }

    fn id_format(&self) -> IdFormat {
        S::ID_FORMAT
    }

    fn set_format(&mut self, format: Format) -> Result<()> {
        if !S::FORMATS.contains(&format) {
            return Err(Error::config(
                S::NAME,
                format!(
                    "the {} engine cannot store sessionstoreformat = {} (it supports: {})",
                    S::NAME,
                    format.name(),
                    S::FORMATS
                        .iter()
                        .map(|f| f.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        self.format = format;
        Ok(())
    }
}
