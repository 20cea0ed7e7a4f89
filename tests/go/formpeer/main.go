// formpeer: a small Go web app that handles XSRF tokens and flash messages
// the way beego v2 does, written for actix-bee's tests with the standard
// library only (our code, not beego's). It stands in for "a live beego app"
// sharing the _xsrf and BEEGO_FLASH cookies with the Rust app.
//
// Formats (beego's server/web/context.go and flash.go):
//   - secure cookie: base64.URLEncoding(value) "|" UnixNano "|"
//     hex(HMAC-SHA256(key, b64 + timestamp)); the _xsrf token is 32 random
//     letters and digits; the cookie is Secure and HttpOnly, as beego sets it.
//   - check: POST, PUT and DELETE; token from the _xsrf form/query field,
//     else X-Xsrftoken, else X-Csrftoken; none -> 422, different -> 417.
//   - flash: url.QueryEscape of "\x00" key "\x23" sep "\x23" value "\x00"
//     per message, cookie path /, read once then deleted.
//
// Usage: formpeer -key KEY [-expire SECS] [-flashname N] [-sep S]
// Prints "listening on HOST:PORT" and serves until killed:
//   GET  /form                  the token (text), sets _xsrf when minted
//   POST|PUT|DELETE /submit     beego's check: 200 "ok", 422 or 417
//   GET  /flash/set?key=K&msg=M stores a flash message
//   GET  /flash/show            the messages read, as JSON; clears the cookie
package main

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

var (
	key       = flag.String("key", "", "xsrfkey")
	expire    = flag.Int("expire", 0, "xsrfexpire, seconds")
	flashName = flag.String("flashname", "BEEGO_FLASH", "flashname")
	separator = flag.String("sep", "BEEGOFLASH", "flashseparator")
)

func signature(vs, timestamp string) string {
	h := hmac.New(sha256.New, []byte(*key))
	fmt.Fprintf(h, "%s%s", vs, timestamp)
	return fmt.Sprintf("%02x", h.Sum(nil))
}

// setSecureCookie writes name=value signed as beego's SetSecureCookie.
func setSecureCookie(w http.ResponseWriter, name, value string, maxAge int) {
	vs := base64.URLEncoding.EncodeToString([]byte(value))
	timestamp := strconv.FormatInt(time.Now().UnixNano(), 10)
	cookie := strings.Join([]string{vs, timestamp, signature(vs, timestamp)}, "|")
	line := fmt.Sprintf("%s=%s; Path=/", name, cookie)
	if maxAge > 0 {
		line += fmt.Sprintf("; Expires=%s; Max-Age=%d",
			time.Now().Add(time.Duration(maxAge)*time.Second).UTC().Format(http.TimeFormat), maxAge)
	}
	line += "; Secure; HttpOnly"
	w.Header().Add("Set-Cookie", line)
}

// getSecureCookie opens a cookie as beego's GetSecureCookie.
func getSecureCookie(r *http.Request, name string) (string, bool) {
	c, err := r.Cookie(name)
	if err != nil || c.Value == "" {
		return "", false
	}
	parts := strings.SplitN(c.Value, "|", 3)
	if len(parts) != 3 {
		return "", false
	}
	if signature(parts[0], parts[1]) != parts[2] {
		return "", false
	}
	res, _ := base64.URLEncoding.DecodeString(parts[0])
	return string(res), true
}

const alphanum = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func randomToken() string {
	b := make([]byte, 32)
	for i := range b {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphanum))))
		if err != nil {
			panic(err)
		}
		b[i] = alphanum[n.Int64()]
	}
	return string(b)
}

// xsrfToken is beego's Context.XSRFToken: the cookie's token, or a new one.
func xsrfToken(w http.ResponseWriter, r *http.Request) string {
	token, ok := getSecureCookie(r, "_xsrf")
	if !ok {
		token = randomToken()
		setSecureCookie(w, "_xsrf", token, *expire)
	}
	return token
}

func submit(w http.ResponseWriter, r *http.Request) {
	token := xsrfToken(w, r)
	if r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodDelete {
		sent := r.FormValue("_xsrf")
		if sent == "" {
			sent = r.Header.Get("X-Xsrftoken")
		}
		if sent == "" {
			sent = r.Header.Get("X-Csrftoken")
		}
		if sent == "" {
			http.Error(w, "'_xsrf' argument missing from POST", 422)
			return
		}
		if sent != token {
			http.Error(w, "expected XSRF not found", 417)
			return
		}
	}
	fmt.Fprint(w, "ok")
}

func flashSet(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	data := map[string]string{q.Get("key"): q.Get("msg")}
	if k2 := q.Get("key2"); k2 != "" {
		data[k2] = q.Get("msg2")
	}
	var value string
	for k, v := range data {
		value += "\x00" + k + "\x23" + *separator + "\x23" + v + "\x00"
	}
	http.SetCookie(w, &http.Cookie{Name: *flashName, Value: url.QueryEscape(value), Path: "/"})
	fmt.Fprint(w, "stored")
}

func flashShow(w http.ResponseWriter, r *http.Request) {
	data := map[string]string{}
	if c, err := r.Cookie(*flashName); err == nil {
		v, _ := url.QueryUnescape(c.Value)
		for _, entry := range strings.Split(v, "\x00") {
			if len(entry) > 0 {
				kv := strings.Split(entry, "\x23"+*separator+"\x23")
				if len(kv) == 2 {
					data[kv[0]] = kv[1]
				}
			}
		}
		http.SetCookie(w, &http.Cookie{Name: *flashName, Value: "", Path: "/", MaxAge: -1})
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(data)
}

func main() {
	flag.Parse()
	if *key == "" {
		fmt.Fprintln(os.Stderr, "formpeer: -key is required")
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/form", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, xsrfToken(w, r)) })
	mux.HandleFunc("/submit", submit)
	mux.HandleFunc("/flash/set", flashSet)
	mux.HandleFunc("/flash/show", flashShow)
	fmt.Printf("listening on %s\n", ln.Addr())
	if err := http.Serve(ln, mux); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
