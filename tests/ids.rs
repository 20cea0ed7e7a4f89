//! Session ids: distinct, hex, uniformly distributed, and never carrying data.

use std::collections::HashSet;

use actix_bee::session::{HashFunc, IdGenerator, Manager, ManagerConfig, RequestIds};

/// The chance, per call of `check_ids`, that a perfect generator fails the
/// frequency check: one false failure in a million runs.
const FALSE_FAILURE_RATE: f64 = 1e-6;

/// How many standard deviations a digit count may stray in one of `cells`
/// cells. Each count is Binomial(n, 1/16), close to normal at these sizes;
/// the Gaussian tail bound P(|Z| > z) <= 2 exp(-z^2 / 2), split evenly
/// over the cells (Bonferroni), gives z = sqrt(2 ln(2 cells / rate)).
fn allowed_sigmas(cells: usize) -> f64 {
    (2.0 * (2.0 * cells as f64 / FALSE_FAILURE_RATE).ln()).sqrt()
}

/// Mints `n` ids and checks distinctness, shape and per-position digit
/// frequencies against a bound derived from `n` and [`FALSE_FAILURE_RATE`].
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
    let sigma = (n as f64 * (1.0 / 16.0) * (15.0 / 16.0)).sqrt();
    let z = allowed_sigmas(hex_len * 16);
    for (pos, row) in counts.iter().enumerate() {
        for (digit, &count) in row.iter().enumerate() {
            let deviation = (f64::from(count) - expected).abs() / sigma;
            assert!(
                deviation < z,
                "digit {digit:x} at {pos}: {count} vs {expected} ({deviation:.2} sigma, allowed {z:.2})"
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
fn the_frequency_bound_follows_the_sample_and_the_rate() {
    // 640 cells at one false failure in 10^6: about 6.5 sigma, i.e. 2.5%
    // of the expected count at n = 1,000,000; a 5% bias is caught.
    let z = allowed_sigmas(640);
    assert!((6.4..6.6).contains(&z), "{z}");
    let sigma = (1e6f64 / 16.0 * 15.0 / 16.0).sqrt();
    assert!(z * sigma < 0.05 * 62_500.0);
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
