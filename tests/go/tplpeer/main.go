// Command tplpeer is the Go side of actix-bee's template golden tests: it
// renders views the way beego's view layer does (one html/template set per
// file holding the file and the files it names in {{template "x.tpl"}},
// Layout/LayoutContent/LayoutSections, custom delimiters), with beego's
// template functions written here to behave as beego's do.
//
// Input on stdin (JSON): {"views": dir, "left": "{{", "right": "}}",
// "config": {key: value}, "routes": {"Controller.Method": "/path/:param"},
// "cases": [{"name", "tpl", "layout", "sections": {name: tpl},
// "data": {...}, "html": {key: trusted html}, "times": {key: RFC 3339}}]}.
// Output on stdout (JSON): {case name: rendered text, or "ERROR" when Go
// fails to render it}. JSON numbers written without a fraction or an
// exponent become Go ints, others float64.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"html/template"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

type input struct {
	Views  string            `json:"views"`
	Left   string            `json:"left"`
	Right  string            `json:"right"`
	Config map[string]string `json:"config"`
	Routes map[string]string `json:"routes"`
	Cases  []tcase           `json:"cases"`
}

type tcase struct {
	Name     string            `json:"name"`
	Tpl      string            `json:"tpl"`
	Layout   string            `json:"layout"`
	Sections map[string]string `json:"sections"`
	Data     json.RawMessage   `json:"data"`
	HTML     map[string]string `json:"html"`
	Times    map[string]string `json:"times"`
}

var in input

func main() {
	dec := json.NewDecoder(os.Stdin)
	if err := dec.Decode(&in); err != nil {
		fail(err)
	}
	if in.Left == "" {
		in.Left = "{{"
	}
	if in.Right == "" {
		in.Right = "}}"
	}
	out := map[string]string{}
	for _, c := range in.Cases {
		data, err := caseData(c)
		if err != nil {
			fail(err)
		}
		text, err := render(c, data)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", c.Name, err)
			out[c.Name] = "ERROR"
			continue
		}
		out[c.Name] = text
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

// caseData decodes the case's data with Go-typed numbers, then adds the
// trusted HTML values and the times.
func caseData(c tcase) (map[string]interface{}, error) {
	data := map[string]interface{}{}
	if len(c.Data) > 0 {
		dec := json.NewDecoder(bytes.NewReader(c.Data))
		dec.UseNumber()
		var raw map[string]interface{}
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		for k, v := range raw {
			data[k] = typed(v)
		}
	}
	for k, v := range c.HTML {
		data[k] = template.HTML(v)
	}
	for k, v := range c.Times {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return nil, err
		}
		data[k] = t
	}
	return data, nil
}

func typed(v interface{}) interface{} {
	switch v := v.(type) {
	case json.Number:
		s := v.String()
		if !strings.ContainsAny(s, ".eE") {
			if i, err := strconv.ParseInt(s, 10, 64); err == nil {
				return int(i)
			}
		}
		f, _ := v.Float64()
		return f
	case []interface{}:
		for i := range v {
			v[i] = typed(v[i])
		}
		return v
	case map[string]interface{}:
		for k := range v {
			v[k] = typed(v[k])
		}
		return v
	}
	return v
}

// render does what beego's Controller.RenderBytes does.
func render(c tcase, data map[string]interface{}) (string, error) {
	if c.Layout == "" {
		return execute(c.Tpl, data)
	}
	content, err := execute(c.Tpl, data)
	if err != nil {
		return "", err
	}
	data["LayoutContent"] = template.HTML(content)
	names := make([]string, 0, len(c.Sections))
	for name := range c.Sections {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		tpl := c.Sections[name]
		if tpl == "" {
			data[name] = ""
			continue
		}
		text, err := execute(tpl, data)
		if err != nil {
			return "", err
		}
		data[name] = template.HTML(text)
	}
	return execute(c.Layout, data)
}

func execute(name string, data interface{}) (string, error) {
	t, err := build(name)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, data); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// build parses name and, recursively, the files it names in
// {{template "x"}} into one set, as beego's getTemplate does.
func build(name string) (*template.Template, error) {
	t := template.New(name).Delims(in.Left, in.Right).Funcs(funcs())
	return deep(t, name)
}

func deep(t *template.Template, name string) (*template.Template, error) {
	src, err := os.ReadFile(filepath.Join(in.Views, filepath.FromSlash(name)))
	if err != nil {
		return nil, err
	}
	// As beego's getTplDeep: the set continues from the new template.
	if t, err = t.New(name).Parse(string(src)); err != nil {
		return nil, err
	}
	re := regexp.MustCompile(regexp.QuoteMeta(in.Left) + `-?[ ]*template[ ]+"([^"]+)"`)
	for _, m := range re.FindAllStringSubmatch(string(src), -1) {
		if t.Lookup(m[1]) != nil {
			continue
		}
		file := m[1]
		if _, err := os.Stat(filepath.Join(in.Views, filepath.FromSlash(file))); err != nil {
			// Not a file: the file that {{define}}s it, as beego's
			// _getTemplate looks through the other files.
			if file = definer(m[1]); file == "" || t.Lookup(file) != nil {
				continue
			}
		}
		if _, err := deep(t, file); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// definer is the file under the views path that defines name.
func definer(name string) string {
	found := ""
	needle := in.Left + `define "` + name + `"`
	_ = filepath.Walk(in.Views, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || found != "" {
			return nil
		}
		src, err := os.ReadFile(path)
		if err == nil && strings.Contains(string(src), needle) {
			rel, _ := filepath.Rel(in.Views, path)
			found = filepath.ToSlash(rel)
		}
		return nil
	})
	return found
}

func funcs() template.FuncMap {
	return template.FuncMap{
		"dateformat":  func(t time.Time, layout string) string { return t.Format(layout) },
		"date":        date,
		"compare":     compare,
		"compare_not": func(a, b interface{}) bool { return !compare(a, b) },
		"not_nil":     func(a interface{}) bool { return !compare(a, nil) },
		"not_null":    func(a interface{}) bool { return !compare(a, nil) },
		"substr":      substr,
		"html2str":    html2str,
		"str2html":    func(s string) template.HTML { return template.HTML(s) },
		"htmlquote":   htmlquote,
		"htmlunquote": func(s string) string { return strings.TrimSpace(html.UnescapeString(s)) },
		"map_get":     mapGet,
		"config":      config,
		"urlfor":      urlfor,
		"eq":          eq,
		"ne":          func(a, b interface{}) (bool, error) { r, err := eq(a, b); return !r, err },
		"lt":          lt,
		"le": func(a, b interface{}) (bool, error) {
			r, err := lt(a, b)
			if r || err != nil {
				return r, err
			}
			return eq(a, b)
		},
		"gt": func(a, b interface{}) (bool, error) {
			r, err := lt(a, b)
			if err != nil {
				return false, err
			}
			if r {
				return false, nil
			}
			e, err := eq(a, b)
			return !e, err
		},
		"ge": func(a, b interface{}) (bool, error) { r, err := lt(a, b); return !r, err },
		// An app's own function, as AddFuncMap registers it.
		"shout": strings.ToUpper,
	}
}

// PHP-style date letters and the Go layout each stands for.
var phpDate = strings.NewReplacer(
	"Y", "2006", "y", "06", "m", "01", "n", "1", "M", "Jan", "F", "January",
	"d", "02", "j", "2", "D", "Mon", "l", "Monday", "g", "3", "G", "15",
	"h", "03", "H", "15", "a", "pm", "A", "PM", "i", "04", "s", "05",
	"T", "MST", "P", "-07:00", "O", "-0700", "r", time.RFC1123Z,
)

func date(t time.Time, format string) string { return t.Format(phpDate.Replace(format)) }

func compare(a, b interface{}) bool {
	return strings.TrimSpace(fmt.Sprintf("%v", a)) == strings.TrimSpace(fmt.Sprintf("%v", b))
}

func substr(s string, start, length int) string {
	r := []rune(s)
	if start < 0 {
		start = 0
	}
	if start > len(r) {
		start = start % len(r)
	}
	end := start + length
	if end > len(r)-1 {
		end = len(r)
	}
	return string(r[start:end])
}

var (
	tagRe    = regexp.MustCompile(`<[\S\s]+?>`)
	styleRe  = regexp.MustCompile(`<style[\S\s]+?</style>`)
	scriptRe = regexp.MustCompile(`<script[\S\s]+?</script>`)
	spaceRe  = regexp.MustCompile(`\s{2,}`)
)

func html2str(s string) string {
	s = tagRe.ReplaceAllStringFunc(s, strings.ToLower)
	s = styleRe.ReplaceAllString(s, "")
	s = scriptRe.ReplaceAllString(s, "")
	s = tagRe.ReplaceAllString(s, "\n")
	s = spaceRe.ReplaceAllString(s, "\n")
	return strings.TrimSpace(s)
}

func htmlquote(s string) string {
	s = html.EscapeString(s)
	s = strings.NewReplacer("“", "&ldquo;", "”", "&rdquo;", " ", "&nbsp;").Replace(s)
	return strings.TrimSpace(s)
}

// mapGet looks keys up in nested maps; our data's maps have string keys,
// so a key is matched by its %v text. No key gives nil, as in beego.
func mapGet(m interface{}, keys ...interface{}) (interface{}, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	cur := m
	for _, k := range keys {
		mm, ok := cur.(map[string]interface{})
		if !ok {
			return nil, nil
		}
		v, ok := mm[fmt.Sprintf("%v", k)]
		if !ok {
			return nil, nil
		}
		cur = v
	}
	return cur, nil
}

// config reads the app's configuration as beego's GetConfig does.
func config(kind, key string, def interface{}) (interface{}, error) {
	raw, ok := in.Config[key]
	var value interface{}
	var err error
	if !ok {
		err = errors.New("not found")
	} else {
		switch kind {
		case "String", "DIY":
			value = raw
		case "Bool":
			value, err = strconv.ParseBool(raw)
		case "Int":
			var i int64
			i, err = strconv.ParseInt(raw, 10, 0)
			value = int(i)
		case "Int64":
			value, err = strconv.ParseInt(raw, 10, 64)
		case "Float":
			value, err = strconv.ParseFloat(raw, 64)
		default:
			err = errors.New("config keys must be of type String, Bool, Int, Int64, Float, or DIY")
		}
	}
	if err != nil {
		if reflect.TypeOf(kind) != reflect.TypeOf(def) {
			return nil, errors.New("defaultVal type does not match returnType")
		}
		return def, nil
	}
	if s, ok := value.(string); ok && s == "" {
		d, ok := def.(string)
		if !ok {
			return nil, errors.New("defaultVal type must be a String if the returnType is a String")
		}
		return d, nil
	}
	return value, nil
}

// urlfor: the route of "Controller.Method" with ":name" pairs put in the
// path and the other pairs in the query string.
func urlfor(endpoint string, values ...interface{}) string {
	path, ok := in.Routes[endpoint]
	if !ok {
		return ""
	}
	query := url.Values{}
	for i := 0; i+1 < len(values); i += 2 {
		k := fmt.Sprintf("%v", values[i])
		v := fmt.Sprintf("%v", values[i+1])
		if strings.HasPrefix(k, ":") && strings.Contains(path, k) {
			path = strings.Replace(path, k, url.PathEscape(v), 1)
		} else {
			query.Add(k, v)
		}
	}
	if len(query) > 0 {
		return path + "?" + query.Encode()
	}
	return path
}

var (
	errBadType  = errors.New("invalid type for comparison")
	errBadPair  = errors.New("incompatible types for comparison")
	errNoSecond = errors.New("missing argument for comparison")
)

type kind int

const (
	badK kind = iota
	boolK
	intK
	uintK
	floatK
	stringK
)

func kindOf(v reflect.Value) kind {
	switch v.Kind() {
	case reflect.Bool:
		return boolK
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return intK
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return uintK
	case reflect.Float32, reflect.Float64:
		return floatK
	case reflect.String:
		return stringK
	}
	return badK
}

func eq(a interface{}, bs ...interface{}) (bool, error) {
	va := reflect.ValueOf(a)
	ka := kindOf(va)
	if ka == badK {
		return false, errBadType
	}
	if len(bs) == 0 {
		return false, errNoSecond
	}
	for _, b := range bs {
		vb := reflect.ValueOf(b)
		kb := kindOf(vb)
		if kb == badK {
			return false, errBadType
		}
		truth := false
		if ka != kb {
			switch {
			case ka == intK && kb == uintK:
				truth = va.Int() >= 0 && uint64(va.Int()) == vb.Uint()
			case ka == uintK && kb == intK:
				truth = vb.Int() >= 0 && va.Uint() == uint64(vb.Int())
			default:
				return false, errBadPair
			}
		} else {
			switch ka {
			case boolK:
				truth = va.Bool() == vb.Bool()
			case intK:
				truth = va.Int() == vb.Int()
			case uintK:
				truth = va.Uint() == vb.Uint()
			case floatK:
				truth = va.Float() == vb.Float()
			case stringK:
				truth = va.String() == vb.String()
			}
		}
		if truth {
			return true, nil
		}
	}
	return false, nil
}

func lt(a, b interface{}) (bool, error) {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	ka, kb := kindOf(va), kindOf(vb)
	if ka == badK || kb == badK {
		return false, errBadType
	}
	if ka != kb {
		switch {
		case ka == intK && kb == uintK:
			return va.Int() < 0 || uint64(va.Int()) < vb.Uint(), nil
		case ka == uintK && kb == intK:
			return vb.Int() >= 0 && va.Uint() < uint64(vb.Int()), nil
		}
		return false, errBadPair
	}
	switch ka {
	case intK:
		return va.Int() < vb.Int(), nil
	case uintK:
		return va.Uint() < vb.Uint(), nil
	case floatK:
		return va.Float() < vb.Float(), nil
	case stringK:
		return va.String() < vb.String(), nil
	}
	return false, errBadType
}
