package main

// beego's cookie provider format (server/web/session: encodeCookie and
// decodeCookie in sess_utils.go, SessionRelease in sess_cookie.go),
// written out step by step with the standard library:
//
//	v   = base64url(iv || AES-CTR(blockKey, iv, gob))   iv: 16 random bytes
//	msg = securityName|unixSeconds|v|
//	out = base64url(msg without "securityName|" || HMAC-SHA256(securityKey, msg))
//
// and the cookie value is url.QueryEscape(out).

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// cookieFixture is small enough for a 4 KB cookie.
func cookieFixture() map[interface{}]interface{} {
	return map[interface{}]interface{}{
		"uid":    7,
		"name":   "asta",
		"ratio":  0.5,
		"admin":  true,
		"small":  int32(-3),
		"bytes":  []byte{0, 255},
		"tags":   []interface{}{"a", 1},
		"map_ss": map[string]string{"x": "y"},
		"user":   User{Name: "bee", Age: 3, Tags: []string{"go"}},
		12:       "twelve",
	}
}

func ctrXOR(blockKey, iv, data []byte) error {
	block, err := aes.NewCipher(blockKey)
	if err != nil {
		return err
	}
	cipher.NewCTR(block, iv).XORKeyStream(data, data)
	return nil
}

func b64(b []byte) []byte {
	out := make([]byte, base64.URLEncoding.EncodedLen(len(b)))
	base64.URLEncoding.Encode(out, b)
	return out
}

func unb64(b []byte) ([]byte, error) {
	out := make([]byte, base64.URLEncoding.DecodedLen(len(b)))
	n, err := base64.URLEncoding.Decode(out, b)
	return out[:n], err
}

func macOf(securityKey string, msg []byte) []byte {
	h := hmac.New(sha256.New, []byte(securityKey))
	h.Write(msg)
	return h.Sum(nil)
}

// encodeCookieValue seals m at time ts; the result is the cookie value.
func encodeCookieValue(securityKey, blockKey, securityName string, m map[interface{}]interface{}, ts int64) (string, error) {
	plain, err := encodeGob(m)
	if err != nil {
		return "", err
	}
	iv := make([]byte, aes.BlockSize)
	if _, err := rand.Read(iv); err != nil {
		return "", err
	}
	if err := ctrXOR([]byte(blockKey), iv, plain); err != nil {
		return "", err
	}
	v := b64(append(iv, plain...))
	msg := []byte(fmt.Sprintf("%s|%d|%s|", securityName, ts, v))
	signed := append(msg, macOf(securityKey, msg)...)
	return url.QueryEscape(string(b64(signed[len(securityName)+1:]))), nil
}

// decodeCookieValue opens a cookie value as beego's cookie provider does,
// with beego's checks and error texts.
func decodeCookieValue(securityKey, blockKey, securityName, value string, maxlifetime int64) (map[interface{}]interface{}, error) {
	raw, err := url.QueryUnescape(value)
	if err != nil {
		return nil, err
	}
	b, err := unb64([]byte(raw))
	if err != nil {
		return nil, err
	}
	parts := bytes.SplitN(b, []byte("|"), 3)
	if len(parts) != 3 {
		return nil, errors.New("Decode: invalid value format")
	}
	msg := append([]byte(securityName+"|"), b[:len(b)-len(parts[2])]...)
	want := macOf(securityKey, msg)
	if len(want) != len(parts[2]) || subtle.ConstantTimeCompare(want, parts[2]) != 1 {
		return nil, errors.New("Decode: the value is not valid")
	}
	ts, err := strconv.ParseInt(string(parts[0]), 10, 64)
	if err != nil {
		return nil, errors.New("Decode: invalid timestamp")
	}
	now := time.Now().UTC().Unix()
	if ts > now {
		return nil, errors.New("Decode: timestamp is too new")
	}
	if ts < now-maxlifetime {
		return nil, errors.New("Decode: expired timestamp")
	}
	data, err := unb64(parts[1])
	if err != nil {
		return nil, err
	}
	if len(data) <= aes.BlockSize {
		return nil, errors.New("decrypt: the value could not be decrypted")
	}
	iv, body := data[:aes.BlockSize], data[aes.BlockSize:]
	if err := ctrXOR([]byte(blockKey), iv, body); err != nil {
		return nil, err
	}
	return decodeGob(body)
}

// cookieMain runs the cookie modes:
//
//	cookie-encode KEY BLOCK NAME OFFSET   the cookie fixture, stamped now+OFFSET seconds
//	cookie-decode KEY BLOCK NAME MAXLIFE  a cookie value from stdin, described
func cookieMain(mode string, args []string, stdin []byte) {
	if len(args) != 4 {
		fail(fmt.Errorf("usage: gobpeer %s securityKey blockKey securityName n", mode))
	}
	n, err := strconv.ParseInt(args[3], 10, 64)
	if err != nil {
		fail(err)
	}
	switch mode {
	case "cookie-encode":
		v, err := encodeCookieValue(args[0], args[1], args[2], cookieFixture(), time.Now().UTC().Unix()+n)
		if err != nil {
			fail(err)
		}
		fmt.Print(v)
	case "cookie-decode":
		m, err := decodeCookieValue(args[0], args[1], args[2], string(bytes.TrimSpace(stdin)), n)
		if err != nil {
			fail(err)
		}
		fmt.Print(describe(m))
	}
}
