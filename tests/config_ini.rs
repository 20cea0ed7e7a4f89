//! The app.conf dialect, one rule per test (beego's `core/config/ini.go`).

// Tests state their expectations with unwrap and panic, as the house rules allow.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};

use actix_bee::config::{AppConf, Error, MAX_CONF_BYTES, MAX_INCLUDED_FILES};
use proptest::prelude::*;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/conf")
}

fn parse(text: &str) -> AppConf {
    AppConf::parse_str(text, fixtures()).unwrap()
}

#[test]
fn utf8_bom_is_skipped() {
    let conf = AppConf::parse_file(fixtures().join("bom.conf")).unwrap();
    assert_eq!(conf.get("appname"), Some("bom"));
    let inline = parse("\u{feff}sessionon = true");
    assert_eq!(inline.get("sessionon"), Some("true"));
}

#[test]
fn whole_line_hash_and_semicolon_comments() {
    let conf = parse("# a = 1\n; b = 2\n   # c = 3\nd = 4\n");
    assert_eq!(conf.get("a"), None);
    assert_eq!(conf.get("b"), None);
    assert_eq!(conf.get("c"), None);
    assert_eq!(conf.get("d"), Some("4"));
}

#[test]
fn no_inline_comments() {
    let conf = parse("a = file # x\nb = v ; y\n");
    assert_eq!(conf.get("a"), Some("file # x"));
    assert_eq!(conf.get("b"), Some("v ; y"));
}

#[test]
fn keys_and_sections_are_lower_cased() {
    let conf = parse("SessionOn = true\n[DEV]\nHttpPort = 1\n");
    assert_eq!(conf.get("sessionon"), Some("true"));
    assert_eq!(conf.get("SESSIONON"), Some("true"));
    assert_eq!(conf.get("dev::httpport"), Some("1"));
    assert_eq!(conf.section_names().collect::<Vec<_>>(), ["default", "dev"]);
}

#[test]
fn values_keep_their_case() {
    assert_eq!(parse("n = MiXeD").get("n"), Some("MiXeD"));
}

#[test]
fn section_names_are_not_trimmed_inside_brackets() {
    let conf = parse("[ Dev ]\nk = v\n");
    assert_eq!(conf.get(" dev ::k"), Some("v"));
    assert_eq!(conf.get("dev::k"), None);
}

#[test]
fn splits_on_the_first_equals() {
    let conf = parse("spaced = a = b\nurl=x=y==\n");
    assert_eq!(conf.get("spaced"), Some("a = b"));
    assert_eq!(conf.get("url"), Some("x=y=="));
}

#[test]
fn empty_value_and_last_duplicate_wins() {
    let conf = parse("a =\nb = 1\nb = 2\n");
    assert_eq!(conf.get("a"), Some(""));
    assert_eq!(conf.get("b"), Some("2"));
}

#[test]
fn crlf_and_surrounding_whitespace_are_trimmed() {
    let conf = parse("  a = 1  \r\n\t[Dev]\r\nb=2\r\n");
    assert_eq!(conf.get("a"), Some("1"));
    assert_eq!(conf.get("dev::b"), Some("2"));
}

#[test]
fn quotes_trimmed_only_when_value_starts_with_double_quote() {
    let conf =
        parse("a = \"quoted\"\nb = \"quoted\"value\"\"\nc = x\"y\"\nd = \"\"\"\ne = \"\"lead\n");
    assert_eq!(conf.get("a"), Some("quoted"));
    assert_eq!(conf.get("b"), Some("quoted\"value"));
    assert_eq!(conf.get("c"), Some("x\"y\""));
    assert_eq!(conf.get("d"), Some(""));
    assert_eq!(conf.get("e"), Some("lead"));
}

#[test]
fn single_quotes_are_kept() {
    assert_eq!(parse("a = 'dev'").get("a"), Some("'dev'"));
}

#[test]
fn backslashes_are_literal() {
    assert_eq!(parse(r"p = C:\tmp\new").get("p"), Some(r"C:\tmp\new"));
}

#[test]
fn include_quoted_and_bare_relative_to_including_file() {
    let conf = AppConf::parse_file(fixtures().join("main.conf")).unwrap();
    assert_eq!(conf.get("sessionprovider"), Some("file"));
    assert_eq!(conf.get("dev::httpport"), Some("9001"));
    let entry = conf.entry("sessionprovider").unwrap();
    assert!(entry.file.ends_with("inc/Other.conf"));
    assert_eq!(entry.line, 4);
}

#[test]
fn include_merges_at_its_position() {
    let conf = AppConf::parse_file(fixtures().join("main.conf")).unwrap();
    // Included keys overwrite earlier ones; later lines overwrite included ones.
    assert_eq!(conf.get("appname"), Some("included"));
    assert_eq!(conf.get("sessionname"), Some("after"));
}

#[test]
fn include_keeps_the_file_name_case() {
    // The fixture is inc/Other.conf; beego would lower-case it to inc/other.conf.
    let conf = parse("include inc/Other.conf");
    assert_eq!(conf.get("appname"), Some("included"));
}

#[test]
fn include_inside_a_section_merges_sections_as_beego_does() {
    let conf = parse("[prod]\ninclude \"inc/Other.conf\"\nk = v\n");
    // The included file's section-less keys go to `default`, not to [prod]...
    assert_eq!(conf.get("appname"), Some("included"));
    assert_eq!(conf.get("prod::appname"), None);
    // ...and the including file stays in its section afterwards.
    assert_eq!(conf.get("prod::k"), Some("v"));
}

#[test]
fn include_absolute_path() {
    let abs = fixtures().join("inc/Other.conf");
    let conf = AppConf::parse_str(&format!("include {}", abs.display()), "/nonexistent").unwrap();
    assert_eq!(conf.get("sessionprovider"), Some("file"));
}

#[test]
fn include_missing_file_is_io_error() {
    let err = AppConf::parse_str("include nope.conf", fixtures()).unwrap_err();
    match &err {
        Error::Io { path, .. } => assert!(path.ends_with("nope.conf")),
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.to_string().contains("nope.conf"));
}

#[test]
fn self_include_is_a_cycle_error() {
    let err = AppConf::parse_file(fixtures().join("cycle/self.conf")).unwrap_err();
    match &err {
        Error::IncludeCycle { chain } => {
            assert_eq!(chain.len(), 2);
            assert_eq!(chain[0], chain[1]);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.to_string().contains("self.conf -> "));
}

#[test]
fn two_file_include_cycle_is_an_error() {
    let err = AppConf::parse_file(fixtures().join("cycle/a.conf")).unwrap_err();
    let Error::IncludeCycle { chain } = &err else {
        panic!("unexpected {err:?}");
    };
    let names: Vec<_> = chain
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["a.conf", "b.conf", "a.conf"]);
    assert!(err.is_syntax());
}

#[test]
fn include_chain_too_deep_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..40 {
        let next = format!("include f{}.conf\n", i + 1);
        std::fs::write(dir.path().join(format!("f{i}.conf")), next).unwrap();
    }
    std::fs::write(dir.path().join("f40.conf"), "a = 1\n").unwrap();
    let err = AppConf::parse_file(dir.path().join("f0.conf")).unwrap_err();
    assert!(
        matches!(err, Error::IncludeTooDeep { limit: 32, .. }),
        "{err:?}"
    );
}

/// Each file includes the next one twice, 32 deep: 2^31 parses without a
/// budget. The budget stops it after MAX_INCLUDED_FILES reads, at once.
#[test]
fn an_include_tree_that_doubles_is_stopped_by_the_file_budget() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..31 {
        let next = format!("include f{n}.conf\ninclude f{n}.conf\n", n = i + 1);
        std::fs::write(dir.path().join(format!("f{i}.conf")), next).unwrap();
    }
    std::fs::write(dir.path().join("f31.conf"), "a = 1\n").unwrap();
    let err = AppConf::parse_file(dir.path().join("f0.conf")).unwrap_err();
    assert!(matches!(err, Error::TooMuchConfig { .. }), "{err:?}");
    assert!(err.is_syntax());
    assert!(
        err.to_string().contains(&MAX_INCLUDED_FILES.to_string()),
        "{err}"
    );
    // A tree within the budget (each file twice, 6 deep: 127 reads) loads.
    std::fs::write(dir.path().join("f6.conf"), "a = 1\n").unwrap();
    let conf = AppConf::parse_file(dir.path().join("f0.conf")).unwrap();
    assert_eq!(conf.get("a"), Some("1"));
}

#[test]
fn include_of_a_device_or_a_directory_is_refused_unread() {
    for target in ["/dev/zero", "/dev/urandom", "/"] {
        let err = AppConf::parse_str(&format!("include {target}\n"), ".").unwrap_err();
        assert!(matches!(err, Error::NotAFile { .. }), "{target}: {err:?}");
    }
    let err = AppConf::parse_file("/dev/zero").unwrap_err();
    assert!(matches!(err, Error::NotAFile { .. }), "{err:?}");
}

#[test]
fn includes_past_the_byte_budget_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    // Three files of 2 MiB of comments: 6 MiB in all, over the 4 MiB budget.
    let big = "# padding padding padding padding padding padding padding padding\n"
        .repeat(2 * 1024 * 1024 / 66 + 1);
    for name in ["a.conf", "b.conf", "c.conf"] {
        std::fs::write(dir.path().join(name), &big).unwrap();
    }
    let main = dir.path().join("main.conf");
    std::fs::write(&main, "include a.conf\ninclude b.conf\ninclude c.conf\n").unwrap();
    let err = AppConf::parse_file(&main).unwrap_err();
    assert!(matches!(err, Error::TooMuchConfig { .. }), "{err:?}");
    assert!(
        err.to_string().contains(&MAX_CONF_BYTES.to_string()),
        "{err}"
    );
    // One of them alone is fine.
    std::fs::write(&main, "include a.conf\nk = v\n").unwrap();
    assert_eq!(AppConf::parse_file(&main).unwrap().get("k"), Some("v"));
}

#[test]
fn include_line_shapes_that_are_not_includes_are_syntax_errors() {
    for line in ["include", "include a b", "includes a.conf"] {
        let err = AppConf::parse_str(line, fixtures()).unwrap_err();
        assert!(
            matches!(err, Error::Syntax { line: 1, .. }),
            "{line}: {err:?}"
        );
    }
}

#[test]
fn include_keyword_is_case_insensitive() {
    assert_eq!(
        parse("INCLUDE inc/Other.conf").get("sessionprovider"),
        Some("file")
    );
}

#[test]
fn syntax_error_names_file_and_line() {
    let err = AppConf::parse_file(fixtures().join("syntax.conf")).unwrap_err();
    match &err {
        Error::Syntax { path, line, text } => {
            assert!(path.ends_with("syntax.conf"));
            assert_eq!(*line, 3);
            assert_eq!(text, "novalue");
        }
        other => panic!("unexpected {other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.contains("syntax.conf:3"), "{msg}");
    assert!(msg.contains("should key = val"), "{msg}");
}

#[test]
fn syntax_error_in_included_file_names_that_file() {
    let err = AppConf::parse_file(fixtures().join("include_syntax.conf")).unwrap_err();
    assert!(
        matches!(&err, Error::Syntax { path, line: 3, .. } if path.ends_with("syntax.conf")),
        "{err:?}"
    );
}

#[test]
fn syntax_error_text_is_bounded() {
    let err = AppConf::parse_str(&"x".repeat(10_000), ".").unwrap_err();
    let Error::Syntax { text, .. } = err else {
        panic!("expected a syntax error");
    };
    assert!(text.len() < 100);
}

#[test]
fn env_whole_value_is_expanded() {
    std::env::set_var("ACTIX_BEE_INI_T1", "from-env");
    let conf = parse("a = ${ACTIX_BEE_INI_T1}\nb = \"${ACTIX_BEE_INI_T1}\"\n");
    assert_eq!(conf.get("a"), Some("from-env"));
    // Quotes are trimmed before expansion.
    assert_eq!(conf.get("b"), Some("from-env"));
}

#[test]
fn env_default_splits_at_the_first_double_pipe() {
    let conf = parse("a = ${ACTIX_BEE_INI_UNSET_T2||x||y}\nb = ${ACTIX_BEE_INI_UNSET_T2}\n");
    assert_eq!(conf.get("a"), Some("x||y"));
    assert_eq!(conf.get("b"), Some(""));
}

#[test]
fn env_is_not_expanded_inside_a_value() {
    std::env::set_var("ACTIX_BEE_INI_T4", "x");
    let conf =
        parse("a = pre${ACTIX_BEE_INI_T4}\nb = ${ACTIX_BEE_INI_T4}post\nc = $ACTIX_BEE_INI_T4\n");
    assert_eq!(conf.get("a"), Some("pre${ACTIX_BEE_INI_T4}"));
    assert_eq!(conf.get("b"), Some("${ACTIX_BEE_INI_T4}post"));
    assert_eq!(conf.get("c"), Some("$ACTIX_BEE_INI_T4"));
}

#[test]
fn invalid_utf8_is_replaced_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bin.conf");
    std::fs::write(&path, b"a = \xff\xfe\nb = ok\n").unwrap();
    let conf = AppConf::parse_file(&path).unwrap();
    assert_eq!(conf.get("b"), Some("ok"));
    assert!(conf.get("a").is_some());
}

#[test]
fn section_lookup_and_listing() {
    let conf = parse("a = 1\n[Dev]\nB = 2\nc = 3\n[empty]\n");
    let dev: Vec<_> = conf.section("dev").collect();
    assert_eq!(dev, [("b", "2"), ("c", "3")]);
    assert_eq!(conf.section("empty").count(), 0);
    assert_eq!(conf.section("missing").count(), 0);
}

proptest! {
    // Inputs are short and the parser is linear, so a fixed case count bounds the run time.
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn parser_never_panics_on_arbitrary_text(text in "\\PC*") {
        let _ = AppConf::parse_str(&text, "/nonexistent-actix-bee");
    }

    #[test]
    fn parser_never_panics_on_dialect_shaped_text(
        lines in proptest::collection::vec(
            "([#;\\[\\]=\"' ]|include|\\$\\{|\\|\\||\\}|[a-zA-Z]{1,3}|\r|\u{feff}){0,12}",
            0..20,
        )
    ) {
        let text = lines.join("\n");
        let _ = AppConf::parse_str(&text, "/nonexistent-actix-bee");
        let _ = actix_bee::config::BConfig::from_str_with_base(&text, "/nonexistent-actix-bee");
    }
}
