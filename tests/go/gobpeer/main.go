// Command gobpeer is the Go side of actix-bee's gob interoperability tests.
// It encodes and decodes beego session data exactly as beego does
// (session.EncodeGob / session.DecodeGob), with beego's registered types
// and a few app structs registered under package main.
//
// Modes (the first argument):
//
//	encode-fixture  write a session map with one value of every kind to stdout
//	describe        read a session map from stdin, print one sorted line per key
//	roundtrip       read a session map from stdin, encode it again to stdout
//	cookie-encode, cookie-decode   beego's cookie provider format (cookie.go)
package main

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"
	"strings"
	"time"
)

// User is a registered app struct; it travels as "main.User".
type User struct {
	Name   string
	Age    int
	Tags   []string
	Score  float64
	Admin  bool
	Avatar []byte
}

// Address is only ever nested in Profile.
type Address struct {
	City string
	Zip  int32
}

// Profile has nested struct, pointer, map and narrow-typed fields; it is
// stored through a pointer, so it travels as "*main.Profile".
type Profile struct {
	User   User
	Home   *Address
	Nick   *string
	Extra  map[string]interface{}
	Scores map[string]int
	Level  int32
	Ratio  float32
	Codes  [2]uint16
}

// Role is a named non-struct type: "main.Role".
type Role string

func init() {
	// beego's session package registers these in its init().
	gob.Register([]interface{}{})
	gob.Register(map[int]interface{}{})
	gob.Register(map[string]interface{}{})
	gob.Register(map[interface{}]interface{}{})
	gob.Register(map[string]string{})
	gob.Register(map[int]string{})
	gob.Register(map[int]int{})
	gob.Register(map[int]int64{})
	// The app's own types.
	gob.Register(User{})
	gob.Register(&Profile{})
	gob.Register(Role(""))
	gob.Register(time.Time{})
	// Registered by encodeGob when beego stores it; a fresh process that
	// only decodes must know it too.
	gob.Register([3]int{})
}

// encodeGob is beego's session.EncodeGob.
func encodeGob(obj map[interface{}]interface{}) ([]byte, error) {
	for _, v := range obj {
		gob.Register(v)
	}
	buf := bytes.NewBuffer(nil)
	err := gob.NewEncoder(buf).Encode(obj)
	return buf.Bytes(), err
}

// decodeGob is beego's session.DecodeGob.
func decodeGob(encoded []byte) (map[interface{}]interface{}, error) {
	buf := bytes.NewBuffer(encoded)
	dec := gob.NewDecoder(buf)
	var out map[interface{}]interface{}
	err := dec.Decode(&out)
	return out, err
}

func fixture() map[interface{}]interface{} {
	nick := "asta"
	return map[interface{}]interface{}{
		"bool":      true,
		"int":       -42,
		"int8":      int8(-8),
		"int16":     int16(1600),
		"int32":     int32(-320000),
		"int64":     int64(-1) << 40,
		"uint":      uint(42),
		"uint8":     uint8(200),
		"uint16":    uint16(65535),
		"uint32":    uint32(4000000000),
		"uint64":    uint64(18446744073709551615),
		"float32":   float32(1.5),
		"float64":   3.25,
		"complex":   complex(1, -2),
		"string":    "hello, 世界",
		"empty":     "",
		"bytes":     []byte{0, 1, 2, 255},
		"slice":     []interface{}{1, "two", 3.5, nil, []interface{}{int8(4)}},
		"strings":   []string{"a", "b"},
		"ints":      []int{1, -2, 3},
		"array":     [3]int{7, 8, 9},
		"strmap":    map[string]interface{}{"a": 1, "b": "x", "c": map[string]interface{}{"deep": uint16(7)}},
		"anymap":    map[interface{}]interface{}{"k": "v", 5: int64(6), true: nil},
		"map_ss":    map[string]string{"x": "y"},
		"map_is":    map[int]string{1: "one"},
		"map_ii":    map[int]int{2: 4},
		"map_i64":   map[int]int64{3: 9},
		"map_iany":  map[int]interface{}{4: "four"},
		"empty_map": map[string]string{},
		"user":      User{Name: "asta", Age: 32, Tags: []string{"go", "rust"}, Score: 9.5, Admin: true, Avatar: []byte{1}},
		"zero_user": User{},
		"profile": &Profile{
			User:   User{Name: "bee"},
			Home:   &Address{City: "Paris", Zip: 75001},
			Nick:   &nick,
			Extra:  map[string]interface{}{"u": User{Name: "inner"}, "n": int16(-3)},
			Scores: map[string]int{"math": 90},
			Level:  7,
			Ratio:  0.25,
			Codes:  [2]uint16{1, 0},
		},
		"role": Role("admin"),
		"time": time.Date(2023, time.March, 4, 5, 6, 7, 8, time.UTC),
		12:     234,
	}
}

// show prints a value with its Go type at every level, deterministically
// (map entries sorted, pointers followed instead of printed as addresses).
func show(v reflect.Value) string {
	switch v.Kind() {
	case reflect.Invalid:
		return "nil"
	case reflect.Interface:
		if v.IsNil() {
			return "nil"
		}
		return show(v.Elem())
	case reflect.Pointer:
		if v.IsNil() {
			return fmt.Sprintf("(%s)(nil)", v.Type())
		}
		return "&" + show(v.Elem())
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			return fmt.Sprintf("%s(nil)", v.Type())
		}
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = show(v.Index(i))
		}
		return fmt.Sprintf("%s{%s}", v.Type(), strings.Join(parts, ", "))
	case reflect.Map:
		if v.IsNil() {
			return fmt.Sprintf("%s(nil)", v.Type())
		}
		parts := []string{}
		iter := v.MapRange()
		for iter.Next() {
			parts = append(parts, show(iter.Key())+": "+show(iter.Value()))
		}
		sort.Strings(parts)
		return fmt.Sprintf("%s{%s}", v.Type(), strings.Join(parts, ", "))
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			return fmt.Sprintf("%#v", v.Interface())
		}
		parts := make([]string, v.NumField())
		for i := range parts {
			parts[i] = v.Type().Field(i).Name + ": " + show(v.Field(i))
		}
		return fmt.Sprintf("%s{%s}", v.Type(), strings.Join(parts, ", "))
	default:
		return fmt.Sprintf("%s(%#v)", v.Type(), v.Interface())
	}
}

func describe(m map[interface{}]interface{}) string {
	lines := []string{}
	for k, v := range m {
		lines = append(lines, fmt.Sprintf("%s => %T: %s", show(reflect.ValueOf(k)), v, show(reflect.ValueOf(v))))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n") + "\n"
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gobpeer:", err)
	os.Exit(1)
}

func main() {
	if len(os.Args) > 1 && strings.HasPrefix(os.Args[1], "cookie-") {
		in := []byte{}
		if os.Args[1] == "cookie-decode" {
			var err error
			if in, err = io.ReadAll(os.Stdin); err != nil {
				fail(err)
			}
		}
		cookieMain(os.Args[1], os.Args[2:], in)
		return
	}
	if len(os.Args) != 2 {
		fail(fmt.Errorf("usage: gobpeer encode-fixture|describe|roundtrip"))
	}
	switch os.Args[1] {
	case "encode-fixture":
		b, err := encodeGob(fixture())
		if err != nil {
			fail(err)
		}
		os.Stdout.Write(b)
	case "describe", "roundtrip":
		in, err := io.ReadAll(os.Stdin)
		if err != nil {
			fail(err)
		}
		m, err := decodeGob(in)
		if err != nil {
			fail(err)
		}
		if os.Args[1] == "describe" {
			fmt.Print(describe(m))
			return
		}
		b, err := encodeGob(m)
		if err != nil {
			fail(err)
		}
		os.Stdout.Write(b)
	default:
		fail(fmt.Errorf("unknown mode %q", os.Args[1]))
	}
}
