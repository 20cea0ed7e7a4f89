//! `actix_bee::gob` against real Go: the Go program in `tests/go/gobpeer`
//! encodes and decodes beego session data exactly as beego does, and these
//! tests check that Rust reads Go's data with the right Go types and values,
//! writes it back unchanged, and writes new values Go decodes with the
//! expected types.
//!
//! The Go toolchain is required: without `go` on the PATH these tests fail
//! (run `scripts/test-servers.sh start`, which installs it).

#[path = "support/gobpeer.rs"]
mod gobpeer;

use std::collections::{BTreeMap, HashMap};

use gobpeer::{describe, run, User};

use actix_bee::gob::{
    decode_map, encode_map, from_value, to_value, to_value_like, GoType, IntKind, UintKind, Value,
};
use serde::Deserialize;

fn fixture() -> Vec<u8> {
    run("encode-fixture", b"")
}

/// Asserts two descriptions are equal, listing every key that differs.
fn assert_same(want: &BTreeMap<String, String>, got: &BTreeMap<String, String>) {
    let keys: std::collections::BTreeSet<&String> = want.keys().chain(got.keys()).collect();
    let mut diffs = Vec::new();
    for k in keys {
        if want.get(k) != got.get(k) {
            diffs.push(format!(
                "{k}\n   want: {:?}\n    got: {:?}",
                want.get(k),
                got.get(k)
            ));
        }
    }
    assert!(
        diffs.is_empty(),
        "Go sees differences:\n{}",
        diffs.join("\n")
    );
}

fn get<'a>(entries: &'a [(Value, Value)], key: &str) -> &'a Value {
    entries
        .iter()
        .find(|(k, _)| k.as_str() == Some(key))
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no key {key:?}"))
}

fn set(entries: &mut Vec<(Value, Value)>, key: Value, value: Value) {
    match entries
        .iter_mut()
        .find(|(k, _)| k.concrete() == key.concrete())
    {
        Some(e) => e.1 = value,
        None => entries.push((key, value)),
    }
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(rename_all = "PascalCase")]
struct Address {
    city: String,
    zip: i32,
}

#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
struct Profile {
    user: User,
    home: Option<Address>,
    nick: Option<String>,
    extra: HashMap<String, Value2>,
    scores: HashMap<String, i64>,
    level: i32,
    ratio: f32,
    codes: [u16; 2],
}

/// Any value, read untyped (for the `Extra` map of mixed values).
#[derive(Deserialize, Debug)]
#[serde(untagged)]
enum Value2 {
    Int(i64),
    User(User),
}

#[test]
fn rust_reads_every_go_kind_with_its_go_type() {
    let entries = decode_map(&fixture()).expect("decode Go's session map");
    let scalars: Vec<(&str, &str, Value)> = vec![
        ("bool", "bool", Value::Bool(true)),
        ("int", "int", Value::int(-42)),
        ("int8", "int8", Value::Int(IntKind::Int8, -8)),
        ("int16", "int16", Value::Int(IntKind::Int16, 1600)),
        ("int32", "int32", Value::int32(-320000)),
        ("int64", "int64", Value::int64(-1 << 40)),
        ("uint", "uint", Value::Uint(UintKind::Uint, 42)),
        ("uint8", "uint8", Value::Uint(UintKind::Uint8, 200)),
        ("uint16", "uint16", Value::Uint(UintKind::Uint16, 65535)),
        (
            "uint32",
            "uint32",
            Value::Uint(UintKind::Uint32, 4_000_000_000),
        ),
        ("uint64", "uint64", Value::uint64(u64::MAX)),
        ("float32", "float32", Value::Float32(1.5)),
        ("float64", "float64", Value::Float64(3.25)),
        ("complex", "complex128", Value::Complex128(1.0, -2.0)),
        ("string", "string", Value::string("hello, 世界")),
        ("empty", "string", Value::string("")),
        ("bytes", "[]uint8", Value::Bytes(vec![0, 1, 2, 255])),
        ("role", "main.Role", Value::string("admin")),
        (
            "strings",
            "[]string",
            Value::slice(GoType::String, vec!["a".into(), "b".into()]),
        ),
        (
            "array",
            "[3]int",
            Value::Array {
                elem: GoType::Int(IntKind::Int),
                items: vec![7.into(), 8.into(), 9.into()],
            },
        ),
        (
            "map_i64",
            "map[int]int64",
            Value::map(
                GoType::Int(IntKind::Int),
                GoType::Int(IntKind::Int64),
                vec![(3.into(), Value::int64(9))],
            ),
        ),
        (
            "map_ss",
            "map[string]string",
            Value::map(
                GoType::String,
                GoType::String,
                vec![("x".into(), "y".into())],
            ),
        ),
        (
            "empty_map",
            "map[string]string",
            Value::map(GoType::String, GoType::String, vec![]),
        ),
    ];
    let mut wrong = Vec::new();
    for (key, ty, want) in &scalars {
        let got = get(&entries, key);
        if got.type_name() != *ty || got.concrete() != want {
            wrong.push(format!(
                "{key}: want {ty} {want:?}, got {} {:?}",
                got.type_name(),
                got.concrete()
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));

    // Types of the remaining keys, as Go's %T prints them.
    for (key, ty) in [
        ("slice", "[]interface {}"),
        ("ints", "[]int"),
        ("strmap", "map[string]interface {}"),
        ("anymap", "map[interface {}]interface {}"),
        ("map_is", "map[int]string"),
        ("map_ii", "map[int]int"),
        ("map_iany", "map[int]interface {}"),
        ("user", "main.User"),
        ("zero_user", "main.User"),
        ("profile", "*main.Profile"),
        ("time", "time.Time"),
    ] {
        assert_eq!(get(&entries, key).type_name(), ty, "type of {key}");
    }
    // The non-string key 12 -> 234, as in beego's Test_gob.
    let (_, v) = entries
        .iter()
        .find(|(k, _)| k.as_i64() == Some(12))
        .expect("int key 12");
    assert_eq!(v, &Value::int(234).boxed().unwrap());

    // Nested interfaces keep their own types.
    let slice = get(&entries, "slice").concrete();
    let Value::Slice { items, .. } = slice else {
        panic!("slice: {slice:?}")
    };
    let names: Vec<String> = items.iter().map(Value::type_name).collect();
    assert_eq!(
        names,
        ["int", "string", "float64", "<nil>", "[]interface {}"]
    );
    let deep = get(&entries, "strmap").get("c").and_then(|c| c.get("deep"));
    assert_eq!(
        deep,
        Some(&Value::Uint(UintKind::Uint16, 7).boxed().unwrap())
    );

    // Typed reads.
    assert_eq!(from_value::<i64>(get(&entries, "int")).unwrap(), -42);
    assert_eq!(from_value::<i16>(get(&entries, "int16")).unwrap(), 1600);
    assert!(from_value::<i8>(get(&entries, "int16")).is_err());
    assert_eq!(
        from_value::<String>(get(&entries, "role")).unwrap(),
        "admin"
    );
    assert_eq!(
        from_value::<Vec<u8>>(get(&entries, "bytes")).unwrap(),
        [0, 1, 2, 255]
    );
    assert_eq!(
        from_value::<[i64; 3]>(get(&entries, "array")).unwrap(),
        [7, 8, 9]
    );
    assert_eq!(
        from_value::<Vec<String>>(get(&entries, "strings")).unwrap(),
        ["a", "b"]
    );
    assert_eq!(
        from_value::<BTreeMap<i64, String>>(get(&entries, "map_is")).unwrap(),
        BTreeMap::from([(1, "one".to_string())])
    );
    let user: User = from_value(get(&entries, "user")).unwrap();
    assert_eq!(
        user,
        User {
            name: "asta".into(),
            age: 32,
            tags: vec!["go".into(), "rust".into()],
            score: 9.5,
            admin: true,
            avatar: vec![1],
        }
    );
    let zero: User = from_value(get(&entries, "zero_user")).unwrap();
    assert_eq!(zero.name, "");
    assert!(zero.tags.is_empty());
    let profile: Profile = from_value(get(&entries, "profile")).unwrap();
    assert_eq!(profile.user.name, "bee");
    assert_eq!(
        profile.home,
        Some(Address {
            city: "Paris".into(),
            zip: 75001
        })
    );
    assert_eq!(profile.nick.as_deref(), Some("asta"));
    assert!(matches!(profile.extra.get("n"), Some(Value2::Int(-3))));
    assert!(matches!(profile.extra.get("u"), Some(Value2::User(u)) if u.name == "inner"));
    assert_eq!(profile.scores["math"], 90);
    assert_eq!(
        (profile.level, profile.ratio, profile.codes),
        (7, 0.25, [1, 0])
    );
}

#[test]
fn rust_writes_back_what_go_wrote_unchanged() {
    let original = fixture();
    let entries = decode_map(&original).unwrap();
    let again = encode_map(&entries).unwrap();
    let want = describe(&original);
    assert_eq!(want.len(), entries.len());
    assert_same(&want, &describe(&again));
    // Go's own re-encoding of Rust's bytes reads back the same in Rust.
    let via_go = decode_map(&run("roundtrip", &again)).unwrap();
    assert_same(&want, &describe(&encode_map(&via_go).unwrap()));
}

#[test]
fn rust_changes_and_new_keys_have_the_expected_go_types() {
    let mut entries = decode_map(&fixture()).unwrap();
    let want_unchanged = describe(&fixture());
    let old = |entries: &Vec<(Value, Value)>, k: &str| get(entries, k).clone();

    // Changed keys, re-typed like their old values.
    let v = to_value_like(&100i64, &old(&entries, "int")).unwrap();
    set(&mut entries, "int".into(), v);
    let v = to_value_like(&5i64, &old(&entries, "int32")).unwrap();
    set(&mut entries, "int32".into(), v);
    let v = to_value_like(&(1i64 << 40), &old(&entries, "int16")).unwrap(); // does not fit
    set(&mut entries, "int16".into(), v);
    let v = to_value_like(&0.5f64, &old(&entries, "float32")).unwrap();
    set(&mut entries, "float32".into(), v);
    let v = to_value_like("operator", &old(&entries, "role")).unwrap();
    set(&mut entries, "role".into(), v);
    let neo = User {
        name: "neo".into(),
        age: 40,
        tags: vec!["x".into()],
        score: 0.0,
        admin: false,
        avatar: vec![],
    };
    let v = to_value_like(&neo, &old(&entries, "user")).unwrap();
    set(&mut entries, "user".into(), v);
    let v = to_value_like(&vec![1i64, 2], &old(&entries, "map_ii")).unwrap(); // does not fit
    set(&mut entries, "map_ii".into(), v);
    let v = to_value_like(&HashMap::from([(5, 25)]), &old(&entries, "map_i64")).unwrap();
    set(&mut entries, "map_i64".into(), v);

    // New keys, natural Go types.
    set(&mut entries, "new_int".into(), to_value(&7i64).unwrap());
    set(&mut entries, "new_u64".into(), to_value(&u64::MAX).unwrap());
    set(&mut entries, "new_float".into(), to_value(&2.5f64).unwrap());
    set(&mut entries, "new_string".into(), to_value("s").unwrap());
    set(
        &mut entries,
        "new_vec".into(),
        to_value(&["a", "b"]).unwrap(),
    );
    let bytes = serde_bytes::ByteBuf::from(vec![9u8]);
    set(&mut entries, "new_bytes".into(), to_value(&bytes).unwrap());
    let map = HashMap::from([("n".to_string(), 1i64)]);
    set(&mut entries, "new_map".into(), to_value(&map).unwrap());
    set(&mut entries, "new_struct".into(), to_value(&neo).unwrap());
    set(
        &mut entries,
        "new_none".into(),
        to_value(&None::<i64>).unwrap(),
    );
    set(&mut entries, "new_int32".into(), Value::int32(-1));
    set(
        &mut entries,
        Value::int(99),
        to_value("ninety-nine").unwrap(),
    );

    let got = describe(&encode_map(&entries).unwrap());
    let user_line = "main.User: main.User{Name: string(\"neo\"), Age: int(40), \
        Tags: []string{string(\"x\")}, Score: float64(0), Admin: bool(false), \
        Avatar: []uint8(nil)}";
    let changed: Vec<(&str, &str)> = vec![
        ("string(\"int\")", "int: int(100)"),
        ("string(\"int32\")", "int32: int32(5)"),
        ("string(\"int16\")", "int: int(1099511627776)"),
        ("string(\"float32\")", "float32: float32(0.5)"),
        ("string(\"role\")", "main.Role: main.Role(\"operator\")"),
        ("string(\"user\")", user_line),
        (
            "string(\"map_ii\")",
            "[]interface {}: []interface {}{int(1), int(2)}",
        ),
        (
            "string(\"map_i64\")",
            "map[int]int64: map[int]int64{int(5): int64(25)}",
        ),
        ("string(\"new_int\")", "int: int(7)"),
        ("string(\"new_u64\")", "uint64: uint64(0xffffffffffffffff)"),
        ("string(\"new_float\")", "float64: float64(2.5)"),
        ("string(\"new_string\")", "string: string(\"s\")"),
        (
            "string(\"new_vec\")",
            "[]interface {}: []interface {}{string(\"a\"), string(\"b\")}",
        ),
        ("string(\"new_bytes\")", "[]uint8: []uint8{uint8(0x9)}"),
        (
            "string(\"new_map\")",
            "map[string]interface {}: map[string]interface {}{string(\"n\"): int(1)}",
        ),
        (
            "string(\"new_struct\")",
            "map[string]interface {}: map[string]interface {}{string(\"Admin\"): bool(false), \
             string(\"Age\"): int(40), string(\"Avatar\"): []uint8(nil), string(\"Name\"): string(\"neo\"), \
             string(\"Score\"): float64(0), string(\"Tags\"): []interface {}{string(\"x\")}}",
        ),
        ("string(\"new_none\")", "<nil>: nil"),
        ("string(\"new_int32\")", "int32: int32(-1)"),
        ("int(99)", "string: string(\"ninety-nine\")"),
    ];
    let mut want = want_unchanged;
    for (k, v) in changed {
        want.insert(k.to_string(), v.to_string());
    }
    assert_same(&want, &got);
}

#[test]
fn go_reads_a_map_built_only_in_rust() {
    let user = Value::struct_named(
        "main.User",
        vec![
            ("Name".into(), "trinity".into()),
            ("Age".into(), Value::int(29)),
            (
                "Tags".into(),
                Value::slice(GoType::String, vec!["z".into()]),
            ),
        ],
    );
    let entries = vec![
        (Value::from("uid"), Value::int(1)),
        (Value::from("name"), Value::from("asta")),
        (Value::from("ratio"), Value::Float32(0.75)),
        (Value::from("user"), user),
        (
            Value::from("flags"),
            Value::map(
                GoType::Int(IntKind::Int),
                GoType::String,
                vec![(Value::int(1), "a".into())],
            ),
        ),
        (
            Value::from("nested"),
            to_value(&HashMap::from([("list", vec![1u8, 2])])).unwrap(),
        ),
        (Value::int(12), Value::int(234)),
        // Not a nil value at the top: beego's EncodeGob would panic on it
        // (gob.Register(nil)) when Go saves the session again.
        (
            Value::Bool(true),
            Value::slice(GoType::Interface, vec![Value::Nil]),
        ),
    ];
    let bytes = encode_map(&entries).unwrap();
    let want: BTreeMap<String, String> = [
        ("string(\"uid\")", "int: int(1)"),
        ("string(\"name\")", "string: string(\"asta\")"),
        ("string(\"ratio\")", "float32: float32(0.75)"),
        (
            "string(\"user\")",
            "main.User: main.User{Name: string(\"trinity\"), Age: int(29), \
             Tags: []string{string(\"z\")}, Score: float64(0), Admin: bool(false), \
             Avatar: []uint8(nil)}",
        ),
        (
            "string(\"flags\")",
            "map[int]string: map[int]string{int(1): string(\"a\")}",
        ),
        (
            "string(\"nested\")",
            "map[string]interface {}: map[string]interface {}{string(\"list\"): \
             []interface {}{int(1), int(2)}}",
        ),
        ("int(12)", "int: int(234)"),
        ("bool(true)", "[]interface {}: []interface {}{nil}"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_same(&want, &describe(&bytes));
    // Go re-encodes it (in its own layout and map order, with its full
    // User type); Rust reads that back to the same Go values.
    let back = decode_map(&run("roundtrip", &bytes)).unwrap();
    assert_eq!(back.len(), entries.len());
    assert_eq!(get(&back, "user").get("Age"), Some(&Value::int(29)));
    assert_same(&want, &describe(&encode_map(&back).unwrap()));
}
