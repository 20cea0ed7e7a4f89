//! Unit and property tests of the gob codec (Go interop is tested in
//! `tests/gob_interop.rs`).

use proptest::prelude::*;

use super::types::{GoType, IntKind, UintKind};
use super::wire::Writer;
use super::*;

mod limits;

/// Go's documentation example: `Point{22, 33}` with its type definition.
const POINT: [u8; 40] = [
    0x1f, 0xff, 0x81, 0x03, 0x01, 0x01, 0x05, 0x50, 0x6f, 0x69, 0x6e, 0x74, 0x01, 0xff, 0x82, 0x00,
    0x01, 0x02, 0x01, 0x01, 0x58, 0x01, 0x04, 0x00, 0x01, 0x01, 0x59, 0x01, 0x04, 0x00, 0x00, 0x00,
    0x07, 0xff, 0x82, 0x01, 0x2c, 0x01, 0x42, 0x00,
];

fn point() -> Value {
    Value::struct_named(
        "Point",
        vec![("X".into(), 22.into()), ("Y".into(), 33.into())],
    )
}

#[test]
fn go_documentation_example_decodes_and_encodes_byte_for_byte() {
    let v = decode(&POINT).unwrap();
    assert_eq!(v, point());
    assert_eq!(encode(&point()).unwrap(), POINT);
}

/// One message holding `body`.
fn message(body: &[u8]) -> Vec<u8> {
    let mut w = Writer::default();
    w.message(body);
    w.buf
}

/// A type definition message: `id` is `map[key]elem`.
fn map_def(id: i64, key: i64, elem: i64) -> Vec<u8> {
    let mut w = Writer::default();
    w.int(-id);
    w.buf.extend([4, 1, 2]); // MapT; CommonType; its field 1 (Id)
    w.int(id);
    w.buf.push(0);
    w.buf.push(1);
    w.int(key);
    w.buf.push(1);
    w.int(elem);
    w.buf.extend([0, 0]);
    message(&w.buf)
}

/// A type definition message: `id` is `[]elem`.
fn slice_def(id: i64, elem: i64) -> Vec<u8> {
    let mut w = Writer::default();
    w.int(-id);
    w.buf.extend([2, 1, 2]); // SliceT; CommonType; its field 1 (Id)
    w.int(id);
    w.buf.push(0);
    w.buf.push(1);
    w.int(elem);
    w.buf.extend([0, 0]);
    message(&w.buf)
}

/// `[]interface{}` nested `levels` deep, ending in nil.
fn nested_slices(levels: usize) -> Vec<u8> {
    let mut body = Writer::default();
    body.int(65);
    body.buf.extend([0, 1]);
    for _ in 0..levels {
        body.bytes(b"[]interface {}");
        body.int(65);
        body.buf.extend([0, 0, 1]); // byte count (ignored), singleton, count
    }
    body.buf.push(0);
    let mut out = slice_def(65, 8);
    out.extend(message(&body.buf));
    out
}

#[test]
fn nesting_is_capped() {
    // Each level is an interface holding a slice: two levels of nesting.
    assert!(decode(&nested_slices(MAX_DEPTH / 2 - 2)).is_ok());
    assert_eq!(
        decode(&nested_slices(MAX_DEPTH + 1)),
        Err(Error::TooDeep(MAX_DEPTH))
    );
    // Far deeper than any stack would allow: still a plain error.
    assert_eq!(
        decode(&nested_slices(200_000)),
        Err(Error::TooDeep(MAX_DEPTH))
    );
    let mut v = Value::Nil;
    for _ in 0..200 {
        v = Value::slice(GoType::Interface, vec![v]);
    }
    assert_eq!(encode(&v), Err(Error::TooDeep(MAX_DEPTH)));
    #[derive(serde::Serialize)]
    struct Tree(Vec<Tree>);
    let mut tree = Tree(vec![]);
    for _ in 0..200 {
        tree = Tree(vec![tree]);
    }
    assert_eq!(to_value(&tree), Err(Error::TooDeep(MAX_DEPTH)));
}

#[test]
fn absurd_lengths_fail_without_allocating() {
    // A []interface{} claiming 2^60 items.
    let mut body = Writer::default();
    body.int(65);
    body.uint(0);
    body.uint(1 << 60);
    let mut input = slice_def(65, 8);
    input.extend(message(&body.buf));
    assert!(matches!(decode(&input), Err(Error::LengthTooLarge { .. })));
    // A message claiming 2^60 bytes.
    let mut w = Writer::default();
    w.uint(1 << 60);
    assert!(matches!(decode(&w.buf), Err(Error::LengthTooLarge { .. })));
    // A string claiming more bytes than the message has.
    assert!(matches!(
        decode(&[0x04, 0x0c, 0x00, 0x7f, 0x41]),
        Err(Error::LengthTooLarge { .. })
    ));
}

#[test]
fn type_tables_are_capped() {
    let mut input = Vec::new();
    for i in 0..(MAX_TYPES as i64 + 10) {
        input.extend(slice_def(65 + i, 2));
    }
    assert_eq!(decode(&input), Err(Error::TooManyTypes(MAX_TYPES)));
}

#[test]
fn bad_type_definitions_are_errors() {
    // Reserved id, duplicate id, recursive type, unknown id.
    assert_eq!(decode(&slice_def(20, 2)), Err(Error::BadTypeId(20)));
    let mut dup = slice_def(65, 2);
    dup.extend(slice_def(65, 2));
    assert_eq!(decode(&dup), Err(Error::BadTypeId(65)));
    let mut rec = slice_def(65, 65);
    rec.extend(message(&[0xff, 0x82, 0x00, 0x00]));
    assert_eq!(decode(&rec), Err(Error::Unsupported("recursive types")));
    assert_eq!(
        decode(&message(&[0xff, 0x82, 0x00])),
        Err(Error::UnknownType(65))
    );
    assert_eq!(decode(&[]), Err(Error::UnexpectedEof));
}

/// A chain of `levels` map types, each `map[prev]prev`: its Go name (and a
/// naive walk or comparison) doubles with every level.
fn map_chain(first: i64, levels: i64) -> Vec<u8> {
    let mut out = map_def(first, 2, 2);
    for i in 1..levels {
        out.extend(map_def(first + i, first + i - 1, first + i - 1));
    }
    out
}

/// Runs `work` on a thread of its own and fails the test if it is not
/// done within `limit`, so that work gone exponential fails instead of
/// hanging the run. A panic of `work` fails the test as it is.
fn finishes_within(limit: std::time::Duration, work: impl FnOnce() + Send + 'static) {
    let (done, finished) = std::sync::mpsc::channel();
    let worker = std::thread::spawn(move || {
        work();
        let _ = done.send(());
    });
    match finished.recv_timeout(limit) {
        Ok(()) => worker.join().expect("the worker finished"),
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("not done within {limit:?}: the work is no longer cheap")
        }
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => match worker.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the worker reports before it ends"),
        },
    }
}

#[test]
fn exponential_type_graphs_stay_cheap() {
    finishes_within(std::time::Duration::from_secs(20), exponential_type_graphs);
}

fn exponential_type_graphs() {
    // One empty map of the last type of a 60-level chain.
    let mut input = map_chain(65, 60);
    input.extend(message(&[0xff, 0x82 + 2 * 59, 0x00, 0x00]));
    let v = decode(&input).unwrap();
    assert!(v.go_type().go_name().is_err());
    assert!(from_value::<serde::de::IgnoredAny>(&v).is_ok());
    assert!(encode(&v).is_ok());
    // Two separately defined but equal chains in one session map.
    let mut input = map_chain(65, 60);
    input.extend(map_chain(125, 60));
    input.extend(map_def(200, 8, 8));
    let mut body = Writer::default();
    body.int(200);
    body.buf.extend([0, 2]);
    for (key, id) in [(b'a', 124), (b'b', 184)] {
        // Key: string("a"); value: an empty map of the chain's last type,
        // under the (unregistered, but Rust does not care) name "x".
        body.bytes(b"string");
        body.buf.extend([0x0c, 0, 0, 1, key]);
        body.bytes(b"x");
        body.int(id);
        body.buf.extend([0, 0, 0]);
    }
    input.extend(message(&body.buf));
    let entries = decode_map(&input).unwrap();
    assert_eq!(entries.len(), 2);
    // Equal types are recognised without comparing the graphs (and
    // without comparing the values: derived `==` walks types as trees).
    let bytes = encode_map(&entries).unwrap();
    assert_eq!(decode_map(&bytes).unwrap().len(), 2);
    assert!(bytes.len() < input.len());
}

#[test]
fn trailing_and_truncated_input_are_errors() {
    let mut long = POINT.to_vec();
    long.push(0);
    assert_eq!(decode(&long), Err(Error::TrailingData(1)));
    // Bytes that are not a whole message are refused before any value.
    long.extend([0x05, 0x00]);
    assert_eq!(
        decode(&long),
        Err(Error::LengthTooLarge {
            len: 5,
            available: 1
        })
    );
    for n in 0..POINT.len() {
        assert!(decode(&POINT[..n]).is_err(), "prefix of {n} bytes");
    }
}

#[test]
fn interface_values_keep_their_names_and_kinds() {
    let entries = vec![
        (Value::from("a"), Value::int32(-5).boxed().unwrap()),
        (
            Value::from("b"),
            Value::Interface {
                name: "main.Role".into(),
                value: Box::new(Value::string("admin")),
            },
        ),
        (
            Value::int(12),
            Value::map(
                GoType::Int(IntKind::Int),
                GoType::Int(IntKind::Int64),
                vec![(Value::int(1), Value::int64(2))],
            ),
        ),
        (Value::from("nil"), Value::Nil),
    ];
    let back = decode_map(&encode_map(&entries).unwrap()).unwrap();
    assert_eq!(back[0].1, entries[0].1);
    assert_eq!(back[1].1, entries[1].1);
    assert_eq!(back[2].1, entries[2].1.clone().boxed().unwrap());
    assert_eq!(back[2].1.type_name(), "map[int]int64");
    assert_eq!(back[3].1, Value::Nil);
    assert_eq!(back[2].0.as_i64(), Some(12));
}

#[test]
fn encoding_checks_values_against_their_types() {
    let bad = Value::slice(GoType::Int(IntKind::Int8), vec![Value::int(300)]);
    assert!(matches!(encode(&bad), Err(Error::OutOfRange { .. })));
    let bad = Value::slice(GoType::String, vec![Value::int(1)]);
    assert!(matches!(encode(&bad), Err(Error::TypeMismatch { .. })));
    let bad = Value::Interface {
        name: String::new(),
        value: Box::new(Value::int(1)),
    };
    assert!(matches!(
        encode_map(&[(bad.clone(), bad)]),
        Err(Error::BadName(_))
    ));
    assert!(encode(&Value::Nil).is_err());
}

#[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq, Clone)]
#[serde(rename_all = "PascalCase")]
struct User {
    name: String,
    age: i64,
    tags: Vec<String>,
}

#[test]
fn serde_bridge_maps_natural_types() {
    use std::collections::{BTreeMap, HashMap};
    let cases: Vec<(Value, &str)> = vec![
        (to_value(&1u8).unwrap(), "int"),
        (to_value(&u64::MAX).unwrap(), "uint64"),
        (to_value(&-1i128).unwrap(), "int"),
        (to_value(&1.5f32).unwrap(), "float64"),
        (to_value(&'x').unwrap(), "string"),
        (
            to_value(&serde_bytes::ByteBuf::from(vec![1u8])).unwrap(),
            "[]uint8",
        ),
        (to_value(&vec![1u8]).unwrap(), "[]interface {}"),
        (to_value(&(1, "a")).unwrap(), "[]interface {}"),
        (
            to_value(&HashMap::from([("a", 1)])).unwrap(),
            "map[string]interface {}",
        ),
        (
            to_value(&BTreeMap::from([(1, 2)])).unwrap(),
            "map[interface {}]interface {}",
        ),
        (
            to_value(&User {
                name: "a".into(),
                age: 1,
                tags: vec![],
            })
            .unwrap(),
            "map[string]interface {}",
        ),
        (to_value(&None::<i32>).unwrap(), "<nil>"),
        (to_value(&()).unwrap(), "<nil>"),
    ];
    for (v, want) in cases {
        assert_eq!(v.type_name(), want, "{v:?}");
        // Everything to_value makes can be encoded and read back.
        let back = decode_map(&encode_map(&[(Value::from("k"), v.clone())]).unwrap()).unwrap();
        assert_eq!(back[0].1, v.clone().boxed().unwrap(), "{v:?}");
    }
    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    enum E {
        A,
        B(i32),
        C { x: String },
    }
    for e in [E::A, E::B(3), E::C { x: "y".into() }] {
        assert_eq!(from_value::<E>(&to_value(&e).unwrap()).unwrap(), e);
    }
    let user = User {
        name: "n".into(),
        age: 3,
        tags: vec!["t".into()],
    };
    assert_eq!(from_value::<User>(&to_value(&user).unwrap()).unwrap(), user);
}

#[test]
fn typed_reads_follow_go_ranges_and_zero_fields() {
    assert_eq!(from_value::<u8>(&Value::int(255)).unwrap(), 255);
    assert!(from_value::<u8>(&Value::int(256)).is_err());
    assert_eq!(
        from_value::<Vec<u8>>(&Value::Bytes(vec![1, 2])).unwrap(),
        vec![1, 2]
    );
    assert_eq!(from_value::<Option<i32>>(&Value::Nil).unwrap(), None);
    let st = GoType::struct_named(
        "main.User",
        vec![
            ("Name".into(), GoType::String),
            ("Age".into(), GoType::Int(IntKind::Int)),
            ("Tags".into(), GoType::slice(GoType::String)),
        ],
    );
    let GoType::Struct(ty) = st else {
        unreachable!()
    };
    let v = Value::Struct {
        ty,
        fields: vec![(0, Value::string("x"))],
    };
    let user: User = from_value(&v).unwrap();
    assert_eq!(
        user,
        User {
            name: "x".into(),
            age: 0,
            tags: vec![]
        }
    );
}

#[test]
fn conform_keeps_old_types_when_they_fit() {
    let old = Value::Uint(UintKind::Uint16, 1).boxed().unwrap();
    assert_eq!(to_value_like(&9u32, &old).unwrap().type_name(), "uint16");
    assert_eq!(to_value_like(&-9, &old).unwrap().type_name(), "int");
    assert_eq!(to_value_like("s", &old).unwrap().type_name(), "string");
    let old_user = Value::struct_named(
        "main.User",
        vec![
            ("Name".into(), Value::string("a")),
            ("Age".into(), Value::int32(1)),
            ("Tags".into(), Value::slice(GoType::String, vec![])),
        ],
    )
    .boxed()
    .unwrap();
    let user = User {
        name: "b".into(),
        age: 2,
        tags: vec!["x".into()],
    };
    let new = to_value_like(&user, &old_user).unwrap();
    assert_eq!(new.type_name(), "main.User");
    assert_eq!(new.get("Age"), Some(&Value::int32(2)));
    assert_eq!(from_value::<User>(&new).unwrap(), user);
    // A map with a key the struct lacks stays a map.
    let other = std::collections::HashMap::from([("Nope", 1)]);
    assert_eq!(
        to_value_like(&other, &old_user).unwrap().type_name(),
        "map[string]interface {}"
    );
    // Map entries are re-typed against the old entry of the same key.
    let old_map = to_value(&std::collections::HashMap::from([("n", 1)]))
        .unwrap()
        .conform_to(&Value::map(
            GoType::String,
            GoType::Interface,
            vec![(Value::from("n"), Value::int64(0).boxed().unwrap())],
        ));
    assert_eq!(old_map.get("n").unwrap().type_name(), "int64");
}

// ---- property tests ----

fn leaf_type() -> impl Strategy<Value = GoType> {
    use GoType::*;
    prop_oneof![
        Just(Bool),
        Just(Int(IntKind::Int)),
        Just(Int(IntKind::Int8)),
        Just(Int(IntKind::Int16)),
        Just(Int(IntKind::Int32)),
        Just(Int(IntKind::Int64)),
        Just(Uint(UintKind::Uint)),
        Just(Uint(UintKind::Uint8)),
        Just(Uint(UintKind::Uint16)),
        Just(Uint(UintKind::Uint32)),
        Just(Uint(UintKind::Uint64)),
        Just(Uint(UintKind::Uintptr)),
        Just(Float32),
        Just(Float64),
        Just(Complex64),
        Just(Complex128),
        Just(String),
        Just(Bytes),
        Just(Interface),
    ]
}

/// The kinds gob's wire keeps without a name to refine them: what struct
/// fields decode as.
fn canonical(t: &GoType) -> GoType {
    match t {
        GoType::Int(_) => GoType::Int(IntKind::Int),
        GoType::Uint(_) => GoType::Uint(UintKind::Uint),
        GoType::Float32 => GoType::Float64,
        GoType::Complex64 => GoType::Complex128,
        GoType::Slice(e) => GoType::slice(canonical(e)),
        GoType::Array(n, e) => GoType::array(*n, canonical(e)),
        GoType::Map(k, v) => GoType::map(canonical(k), canonical(v)),
        GoType::Struct(s) => GoType::struct_named(
            s.name.clone(),
            s.fields
                .iter()
                .map(|(n, t)| (n.clone(), canonical(t)))
                .collect(),
        ),
        t => t.clone(),
    }
}

fn arb_type() -> impl Strategy<Value = GoType> {
    leaf_type().prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(GoType::slice),
            (0..3usize, inner.clone()).prop_map(|(n, t)| GoType::array(n, t)),
            (leaf_type(), inner.clone()).prop_map(|(k, v)| GoType::map(k, v)),
            (0..3u8, prop::collection::vec(inner, 0..4)).prop_map(|(n, ts)| {
                let fields = ts
                    .iter()
                    .enumerate()
                    .map(|(i, t)| (format!("F{i}"), canonical(t)))
                    .collect();
                GoType::struct_named(format!("T{n}_{}", ts.len()), fields)
            }),
        ]
    })
}

fn arb_value(ty: GoType, depth: u32) -> BoxedStrategy<Value> {
    use GoType as T;
    match ty {
        T::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        T::Int(k) => any::<i64>()
            .prop_map(move |v| {
                let v = match k {
                    IntKind::Int8 => i64::from(v as i8),
                    IntKind::Int16 => i64::from(v as i16),
                    IntKind::Int32 => i64::from(v as i32),
                    _ => v,
                };
                Value::Int(k, v)
            })
            .boxed(),
        T::Uint(k) => any::<u64>()
            .prop_map(move |v| {
                let v = match k {
                    UintKind::Uint8 => u64::from(v as u8),
                    UintKind::Uint16 => u64::from(v as u16),
                    UintKind::Uint32 => u64::from(v as u32),
                    _ => v,
                };
                Value::Uint(k, v)
            })
            .boxed(),
        T::Float32 => prop::num::f32::NORMAL.prop_map(Value::Float32).boxed(),
        T::Float64 => prop::num::f64::NORMAL.prop_map(Value::Float64).boxed(),
        T::Complex64 => (prop::num::f32::NORMAL, prop::num::f32::ANY)
            .prop_filter("no NaN", |(_, i)| !i.is_nan())
            .prop_map(|(r, i)| Value::Complex64(r, i))
            .boxed(),
        T::Complex128 => (prop::num::f64::NORMAL, prop::num::f64::NORMAL)
            .prop_map(|(r, i)| Value::Complex128(r, i))
            .boxed(),
        T::String => "[a-z\u{e9}\u{4e16}]{0,6}".prop_map(Value::String).boxed(),
        T::Bytes => prop::collection::vec(any::<u8>(), 0..6)
            .prop_map(Value::Bytes)
            .boxed(),
        T::Interface => {
            if depth > 3 {
                return Just(Value::Nil).boxed();
            }
            prop_oneof![
                1 => Just(Value::Nil),
                4 => arb_type()
                    .prop_flat_map(move |t| arb_value(t, depth + 1))
                    .prop_map(|v| v.boxed().unwrap()),
            ]
            .boxed()
        }
        T::Slice(e) => {
            let elem = GoType::clone(&e);
            prop::collection::vec(arb_value(elem.clone(), depth + 1), 0..3)
                .prop_map(move |items| Value::slice(elem.clone(), items))
                .boxed()
        }
        T::Array(n, e) => {
            let elem = GoType::clone(&e);
            prop::collection::vec(arb_value(elem.clone(), depth + 1), n..=n)
                .prop_map(move |items| Value::Array {
                    elem: elem.clone(),
                    items,
                })
                .boxed()
        }
        T::Map(k, v) => {
            let (k, v) = (GoType::clone(&k), GoType::clone(&v));
            let pair = (
                arb_value(k.clone(), depth + 1),
                arb_value(v.clone(), depth + 1),
            );
            prop::collection::vec(pair, 0..3)
                .prop_map(move |entries| Value::map(k.clone(), v.clone(), entries))
                .boxed()
        }
        T::Struct(st) => {
            let fields: Vec<_> = st
                .fields
                .iter()
                .map(|(_, t)| prop::option::of(arb_value(t.clone(), depth + 1)))
                .collect();
            fields
                .prop_map(move |vs| Value::Struct {
                    ty: st.clone(),
                    fields: vs
                        .into_iter()
                        .enumerate()
                        .filter_map(|(i, v)| Some((i, v?)))
                        .collect(),
                })
                .boxed()
        }
        T::Opaque(_) => Just(Value::Nil).boxed(),
    }
}

fn arb_session() -> impl Strategy<Value = Vec<(Value, Value)>> {
    prop::collection::vec(
        (
            arb_value(GoType::Interface, 1),
            arb_value(GoType::Interface, 0),
        ),
        0..4,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn encode_then_decode_is_identity(entries in arb_session()) {
        let bytes = encode_map(&entries).unwrap();
        let back = decode_map(&bytes).unwrap();
        prop_assert_eq!(&back, &entries);
        // And the encoding of what was decoded is the same bytes.
        prop_assert_eq!(encode_map(&back).unwrap(), bytes);
    }
}

/// Everything a hostile input can reach: decoding, re-encoding, serde.
fn exercise(bytes: &[u8]) {
    if let Ok(v) = decode(bytes) {
        let _ = encode(&v);
        let _ = from_value::<serde::de::IgnoredAny>(&v);
        let _ = v.clone().conform_to(&v);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10_000))]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        exercise(&bytes);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(5000))]

    #[test]
    fn mutated_encodings_never_panic(
        entries in arb_session(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0..3u8), 1..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = encode_map(&entries).unwrap();
        exercise(&bytes[..cut.index(bytes.len() + 1)]);
        for (at, byte, op) in edits {
            let i = at.index(bytes.len().max(1));
            match op {
                0 if i < bytes.len() => bytes[i] = byte,
                1 => bytes.insert(i.min(bytes.len()), byte),
                _ if i < bytes.len() => { bytes.remove(i); }
                _ => {}
            }
        }
        exercise(&bytes);
    }
}
