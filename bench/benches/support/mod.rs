//! What the HTTP benches (`http`, `callgrind`) share.
#![allow(dead_code)]

pub mod load;
pub mod redis_keys;
pub mod report;
#[macro_use]
pub mod servers;
