//! The provider conformance suite: what every engine must do.
//!
//! Each case is a public async function taking a factory; the
//! [`conformance_tests!`](crate::conformance_tests) macro expands them into
//! `#[actix_rt::test]`s. A factory returns a fresh, *uninitialised* engine
//! plus its `sessionproviderconfig` string, isolated from every other call
//! (its own directory, table or key prefix), so counts are exact.
//!
//! The cases are grouped by theme: [`data`], [`lifecycle`], [`expiry`] and
//! [`manager`]. An engine that keeps its state in the client (the cookie
//! engine) says so with the `client_side` capability: the cases that
//! assert server-side state (a dead old id, a count, GC, merging of
//! concurrent writers) are then left out.
//!
//! ```text
//! async fn memory() -> (Box<dyn Provider>, String) {
//!     (Box::new(MemoryProvider::default()), String::new())
//! }
//! actix_bee::conformance_tests!(memory);
//! // An engine whose state lives in the client:
//! // actix_bee::conformance_tests!(cookie, client_side);
//! ```
// Assertions are this module's purpose; it only runs inside tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use super::{IdGenerator, Provider, SessionId};

pub mod data;
pub mod delegate;
pub mod expiry;
pub mod lifecycle;
pub mod manager;
pub mod owners;
pub mod racy;

pub use data::{
    concurrent_writers_keep_all_keys, delete_and_flush, oversized_session_is_refused,
    release_writes_only_changes, round_trip_types, type_mismatch_is_an_error,
};
pub use expiry::{gc_removes_only_expired, idle_expiry_and_gc};
pub use lifecycle::{
    create_on_a_taken_id_is_a_collision, destroy_removes, no_resurrection_after_destroy,
    regenerate_moves_data, session_all_counts_1000,
};
pub use manager::{
    manager_corrupt_data_is_a_fresh_session, manager_lazy_strict_absolute,
    manager_regenerate_and_destroy, manager_regenerate_carries_pending_changes,
};
pub use owners::{
    owners_except_current, owners_expired_not_listed, owners_follow_regenerate_and_destroy,
    owners_list_and_destroy, owners_logout_between_attach_and_write,
    owners_race_logins_with_destroy, owners_regenerate_during_logout, owners_unsupported,
};

/// A boxed engine and its config string.
pub type Made = (Box<dyn Provider>, String);

/// Idle lifetime for cases that do not test expiry.
pub const LONG: Duration = Duration::from_secs(3600);

/// Makes and initialises an engine with the given idle lifetime.
pub async fn init<F, Fut>(make: &F, idle: Duration) -> Arc<dyn Provider>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Made>,
{
    let (mut provider, config) = make().await;
    provider
        .session_init(idle, &config)
        .await
        .expect("session_init");
    Arc::from(provider)
}

pub(crate) fn new_id() -> SessionId {
    IdGenerator::default().generate().unwrap()
}

/// Creates a session holding `pairs` and returns its id.
pub async fn create(provider: &Arc<dyn Provider>, pairs: &[(&str, i64)]) -> SessionId {
    let sid = new_id();
    let store = provider.session_read(&sid).await.unwrap();
    assert!(
        store.meta().is_new,
        "a random id must read as a new session"
    );
    for (k, v) in pairs {
        store.set(k, v).await.unwrap();
    }
    let released = store.session_release().await.unwrap();
    assert!(
        released.written,
        "a new session with values must be written"
    );
    sid
}

/// Expands the conformance cases into `#[actix_rt::test]`s.
///
/// `$make` is an `async fn() -> (Box<dyn Provider>, String)` giving a fresh,
/// isolated, uninitialised engine and its config string. Capabilities
/// after it choose the cases:
/// - none: a server-side engine, every case;
/// - `client_side`: the state lives in the client (sealed cookies), so the
///   cases that need server-side state are left out;
/// - `owner_index`: the owner cases (sessions by owner), for engines with
///   an owner index, in addition to a plain invocation;
/// - `no_owner_index`: checks the typed error of an engine without one.
///
/// [`oversized_session_is_refused`] is not in any list: it checks the
/// built-in engines' default `max_session_bytes`, which a custom engine
/// need not share; their tests call it directly.
#[macro_export]
macro_rules! conformance_tests {
    ($make:path) => {
        $crate::conformance_tests!(@cases $make;
            round_trip_types, type_mismatch_is_an_error, release_writes_only_changes,
            delete_and_flush, concurrent_writers_keep_all_keys,
            regenerate_moves_data, destroy_removes, no_resurrection_after_destroy,
            create_on_a_taken_id_is_a_collision, session_all_counts_1000,
            idle_expiry_and_gc, gc_removes_only_expired,
            manager_lazy_strict_absolute, manager_regenerate_and_destroy,
            manager_regenerate_carries_pending_changes,
            manager_corrupt_data_is_a_fresh_session);
    };
    ($make:path, client_side) => {
        $crate::conformance_tests!(@cases $make;
            round_trip_types, type_mismatch_is_an_error, release_writes_only_changes,
            delete_and_flush, manager_lazy_strict_absolute,
            manager_corrupt_data_is_a_fresh_session);
    };
    ($make:path, owner_index) => {
        $crate::conformance_tests!(@cases $make;
            owners_list_and_destroy, owners_except_current,
            owners_follow_regenerate_and_destroy, owners_expired_not_listed,
            owners_logout_between_attach_and_write, owners_regenerate_during_logout,
            owners_race_logins_with_destroy);
    };
    ($make:path, no_owner_index) => {
        $crate::conformance_tests!(@cases $make; owners_unsupported);
    };
    (@cases $make:path; $($case:ident),+) => {
        $(
            #[actix_rt::test]
            async fn $case() {
                $crate::session::testing::$case($make).await;
            }
        )+
    };
}
