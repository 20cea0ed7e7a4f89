//! Multiplexed connections, one per runtime thread, up to `poolsize`.
//!
//! A multiplexed connection's I/O runs in a task on the runtime that opened
//! it. actix-web runs one single-threaded runtime per worker, so a
//! connection shared by all workers would hop threads twice per command;
//! opening one per thread keeps each request and its Redis I/O together.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::ThreadId;

use parking_lot::RwLock;
use redis::aio::ConnectionLike;
use redis::{Cmd, Pipeline, RedisFuture, RedisResult, Value};

type Make<C> = Box<dyn Fn() -> Pin<Box<dyn Future<Output = RedisResult<C>> + Send>> + Send + Sync>;

/// What every clone of a [`Pool`] shares: the per-thread connections and
/// how to open another.
struct PoolState<C> {
    conns: RwLock<Vec<(ThreadId, C)>>,
    max: usize,
    next: AtomicUsize,
    opening: tokio::sync::Mutex<()>,
    make: Make<C>,
    db: i64,
}

/// A cloneable handle to the connections; itself a `ConnectionLike`.
pub(crate) struct Pool<C>(Arc<PoolState<C>>);

impl<C> Clone for Pool<C> {
    fn clone(&self) -> Self {
        Pool(self.0.clone())
    }
}

impl<C: ConnectionLike + Clone + Send + Sync + 'static> Pool<C> {
    /// Opens the first connection on the calling thread, so a server that
    /// does not answer fails init.
    pub(crate) async fn new<F, Fut>(max: usize, make: F) -> RedisResult<Self>
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = RedisResult<C>> + Send + 'static,
    {
        let first = make().await?;
        let db = first.get_db();
        Ok(Pool(Arc::new(PoolState {
            conns: RwLock::new(vec![(std::thread::current().id(), first)]),
            max: max.max(1),
            next: AtomicUsize::new(0),
            opening: tokio::sync::Mutex::new(()),
            make: Box::new(move || Box::pin(make())),
            db,
        })))
    }

    fn find(&self, me: ThreadId) -> Result<C, usize> {
        let conns = self.0.conns.read();
        match conns.iter().find(|(t, _)| *t == me) {
            Some((_, c)) => Ok(c.clone()),
            None => Err(conns.len()),
        }
    }

    fn any(&self) -> Option<C> {
        let conns = self.0.conns.read();
        let n = conns.len().max(1);
        let i = self.0.next.fetch_add(1, Ordering::Relaxed) % n;
        conns.get(i).map(|(_, c)| c.clone())
    }

    async fn get(&self) -> RedisResult<C> {
        let me = std::thread::current().id();
        match self.find(me) {
            Ok(c) => return Ok(c),
            Err(len) if len >= self.0.max => {
                if let Some(c) = self.any() {
                    return Ok(c);
                }
            }
            Err(_) => {}
        }
        let _opening = self.0.opening.lock().await;
        if let Ok(c) = self.find(me) {
            return Ok(c);
        }
        if self.0.conns.read().len() >= self.0.max {
            if let Some(c) = self.any() {
                return Ok(c);
            }
        }
        let conn = (self.0.make)().await?;
        self.0.conns.write().push((me, conn.clone()));
        Ok(conn)
    }
}

impl<C: ConnectionLike + Clone + Send + Sync + 'static> ConnectionLike for Pool<C> {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        Box::pin(async move { self.get().await?.req_packed_command(cmd).await })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        Box::pin(async move {
            self.get()
                .await?
                .req_packed_commands(cmd, offset, count)
                .await
        })
    }

    fn get_db(&self) -> i64 {
        self.0.db
    }
}
