//! The memory engine against the provider conformance suite.

use actix_bee::session::memory::MemoryProvider;
use actix_bee::session::Provider;

async fn memory() -> (Box<dyn Provider>, String) {
    (Box::new(MemoryProvider::default()), String::new())
}

actix_bee::conformance_tests!(memory);
