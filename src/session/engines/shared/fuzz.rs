//! Strategies for the config and id parsers' property tests: random
//! strings over the characters configs are made of, any Unicode, and valid
//! configs mutated a few characters at a time (where parsers go deepest).

use proptest::prelude::*;
use proptest::test_runner::TestRunner;

use crate::session::engines::shared::secrets::Secrets;
use crate::session::error::Result;

/// Characters of configs, ids and DSNs, plus a few that should never be
/// in one.
const ALPHABET: &[char] = &[
    'a', 'b', 'f', 'x', 'z', 'A', 'Z', '0', '1', '5', '9', ':', ',', ';', '=', '&', '?', '/', '@',
    '[', ']', '{', '}', '"', '.', '-', '_', '%', ' ', '#', '\\', '\n', '\t', '\0', 'é', '€', 's',
    'm', 'h', 'n', 'e', '+', '(', ')', '*', '\'', '<', '>',
];

fn chars(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(ALPHABET), 0..max)
        .prop_map(|c| c.into_iter().collect())
}

/// One edit of a seed: replace, insert or delete a character.
type Edit = (prop::sample::Index, char, u8);

fn mutate(seed: &str, edits: Vec<Edit>) -> String {
    let mut text: Vec<char> = seed.chars().collect();
    for (at, c, op) in edits {
        let i = at.index(text.len() + 1);
        match op {
            0 if i < text.len() => text[i] = c,
            1 => text.insert(i, c),
            _ if i < text.len() => {
                text.remove(i);
            }
            _ => text.push(c),
        }
    }
    text.into_iter().collect()
}

/// Random and mutated config strings; `seeds` are valid configs.
pub(crate) fn config_string(seeds: &'static [&'static str]) -> impl Strategy<Value = String> {
    let edits = prop::collection::vec(
        (
            any::<prop::sample::Index>(),
            prop::sample::select(ALPHABET),
            0..3u8,
        ),
        1..6,
    );
    prop_oneof![
        chars(120),
        any::<String>(),
        (prop::sample::select(seeds), edits).prop_map(|(seed, edits)| mutate(seed, edits)),
        // Absurd numbers where numbers go.
        (
            prop::sample::select(seeds),
            "[0-9]{15,40}(\\.[0-9]{1,5})?(e[0-9]{1,3})?"
        )
            .prop_map(|(seed, n)| seed.replace('5', &n)),
    ]
}

/// Cases of each parser's property test: thousands, each a few µs.
pub(crate) const CASES: u32 = 3000;

/// Runs [`CASES`] random and mutated strings (from `seeds`, valid configs)
/// through `parse`: each gives a value `valid` accepts or a config error;
/// a panic or anything else fails the test with the smallest input found.
/// Parsers only: nothing here may connect anywhere.
pub(crate) fn parser<T>(
    seeds: &'static [&'static str],
    parse: impl Fn(&str) -> Result<T>,
    valid: impl Fn(&T) -> bool,
) {
    let mut runner = TestRunner::new(ProptestConfig::with_cases(CASES));
    let outcome = runner.run(&config_string(seeds), |raw| {
        match parse(&raw) {
            Ok(value) => prop_assert!(valid(&value), "accepted, but invalid: {raw:?}"),
            Err(e) => prop_assert!(e.is_config(), "{raw:?} gave {e:?}"),
        }
        Ok(())
    });
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
}

/// The secrets property of every parser that records what it takes:
/// whatever the text, no password `parse` took (listed by `taken`) is
/// shown once the recorded secrets are masked. Passwords under six bytes
/// are skipped: they may appear in the text by chance.
pub(crate) fn passwords_hidden<T>(
    seeds: &'static [&'static str],
    parse: impl Fn(&str, &mut Secrets<'_>) -> Result<T>,
    taken: impl Fn(&T) -> Vec<String>,
) {
    let recorded = |raw: &str| {
        let mut secrets = Secrets::new(raw);
        let value = parse(raw, &mut secrets)?;
        Ok((taken(&value), secrets.render()))
    };
    parser(seeds, recorded, |(passwords, shown)| {
        passwords
            .iter()
            .all(|p| p.len() < 6 || !shown.contains(p.as_str()))
    });
}

/// The cookie engine's config, through `session_init`: safe here because
/// the cookie engine connects nowhere, whatever the config says.
#[cfg(feature = "cookie")]
mod cookie_config {
    use std::time::Duration;

    use proptest::prelude::*;

    use super::config_string;

    /// Fewer cases than [`super::CASES`]: a mutated text key of 32 bytes or
    /// more is stretched with Argon2id (~20 ms with 19 MiB; mostly unique
    /// keys, so the memo rarely helps), which took this test from 0.5 s to
    /// 7 s at 3000 cases.
    const CASES: u32 = 1000;
    use crate::session::cookie::CookieProvider;
    use crate::session::Provider;

    const SEEDS: &[&str] = &[
        r#"{"securityKey":"a secret of at least thirty-two bytes!!","cookieName":"beegosessionID"}"#,
        r#"{"securityKeys":["0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"],"oldKeys":["x"],"devMode":true}"#,
        r#"{"securitykey":"s","blockKey":"b","securityName":"n","secure":false,"maxage":5,"devmode":"true"}"#,
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(CASES))]

        /// Ready or a config error, never a panic.
        #[test]
        fn cookie_config_never_panics(raw in config_string(SEEDS)) {
            let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
            let mut provider = CookieProvider::default();
            if let Err(e) = rt.block_on(provider.session_init(Duration::from_secs(60), &raw)) {
                prop_assert!(e.is_config(), "{e:?}");
            }
        }
    }
}
