//! Session ids: distinct, hex, uniformly distributed, and never carrying data.

use std::collections::HashSet;

use actix_bee::session::{HashFunc, IdGenerator, Manager, ManagerConfig, RequestIds};

/// Mints `n` ids and checks distinctness, shape and per-position digit
/// frequencies (each within 2% of 1/16, over 5 sigma at n = 1,000,000).
fn check_ids(ids: &IdGenerator, n: usize, prefix: &str, hex_len: usize) {
    let mut seen = HashSet::with_capacity(n);
    let mut counts = vec![[0u32; 16]; hex_len];
    for _ in 0..n {
        let id = ids.generate().unwrap();
        let s = id.as_str();
        let hex = s.strip_prefix(prefix).expect("prefix");
        assert_eq!(hex.len(), hex_len);
        for (pos, c) in hex.bytes().enumerate() {
            let digit = (c as char).to_digit(16).expect("lowercase hex") as usize;
            assert!(c.is_ascii_digit() || c.is_ascii_lowercase());
            counts[pos][digit] += 1;
        }
        assert!(seen.insert(s.to_owned()), "duplicate id");
    }
    let expected = n as f64 / 16.0;
    for (pos, row) in counts.iter().enumerate() {
        for (digit, &count) in row.iter().enumerate() {
            let deviation = (f64::from(count) - expected).abs() / expected;
            assert!(
                deviation < 0.02,
                "digit {digit:x} at {pos}: {count} vs {expected}"
            );
        }
    }
}

#[test]
fn a_million_sha1_ids_are_distinct_and_uniform() {
    check_ids(&IdGenerator::default(), 1_000_000, "", 40);
}

#[test]
fn a_million_plain_hex_ids_with_prefix_are_distinct_and_uniform() {
    let ids = IdGenerator::new("pfx_", HashFunc::None, b"", 16).unwrap();
    check_ids(&ids, 1_000_000, "pfx_", 32);
}

#[test]
fn ids_below_128_bits_are_refused() {
    for len in [0, 1, 8, 15] {
        assert!(IdGenerator::new("", HashFunc::None, b"", len).is_err());
        let mut cfg = ManagerConfig::default();
        cfg.session_id_length = len;
        assert!(cfg.validate().is_err());
    }
}

#[actix_rt::test]
async fn storing_data_leaves_the_cookie_value_unchanged() {
    let m = Manager::new("memory", ManagerConfig::default())
        .await
        .unwrap();
    let s = m.session_start(&RequestIds::default()).await.unwrap();
    s.set("k", &0).await.unwrap();
    let cookie = m.session_release(&s).await.unwrap().cookie.unwrap();
    let ids = RequestIds {
        cookie: Some(&cookie.value),
        ..Default::default()
    };
    let s = m.session_start(&ids).await.unwrap();
    s.set("user_id", &12345u64).await.unwrap();
    let parts = m.session_release(&s).await.unwrap();
    assert!(
        parts.cookie.is_none(),
        "an existing session re-sent its cookie"
    );
    assert_eq!(s.session_id().await.unwrap().as_str(), cookie.value);
}

#[actix_rt::test]
async fn debug_output_never_shows_the_id() {
    let m = Manager::new("memory", ManagerConfig::default())
        .await
        .unwrap();
    let s = m.session_start(&RequestIds::default()).await.unwrap();
    let id = s.session_id().await.unwrap();
    for text in [
        format!("{id:?}"),
        format!("{id}"),
        format!("{s:?}"),
        format!("{m:?}"),
    ] {
        assert!(!text.contains(id.as_str()), "{text}");
    }
}
