//! The text helpers of beego's template functions, each behaving as the
//! Go code beego runs: Go's float printing, `[]rune` slicing, beego's
//! `html2str` regular expressions, `html.EscapeString` and
//! `html.UnescapeString`, `url.PathEscape`.

/// Go's `%v` of a float64 (`strconv.FormatFloat(f, 'g', -1, 64)`).
pub(super) fn go_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    let abs = f.abs();
    if abs == 0.0 || (1e-4..1e21).contains(&abs) {
        return format!("{f}");
    }
    // Shortest digits in exponent form, as Go writes it: 1e+21, 1.5e-07.
    let e = format!("{f:e}");
    match e.split_once('e') {
        Some((mantissa, exp)) => {
            let (sign, digits) = match exp.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', exp),
            };
            format!("{mantissa}e{sign}{digits:0>2}")
        }
        None => e,
    }
}

pub(super) fn substr(s: &str, start: i64, length: i64) -> String {
    let chars: Vec<char> = s.chars().collect();
    let len = chars.len() as i64;
    let mut start = start.max(0);
    if start > len {
        start %= len;
    }
    let end = if start.saturating_add(length) > len - 1 {
        len
    } else {
        start + length
    };
    if end < start {
        // Go's slice expression panics here; html/template reports it.
        return String::new();
    }
    chars[start as usize..end as usize].iter().collect()
}

/// The end of a `<...>` tag starting at `i` (the index after its `>`).
fn tag_end(s: &str, i: usize) -> Option<usize> {
    // `<[\S\s]+?>`: at least one character between the brackets.
    let body = s.get(i + 1..)?;
    let mut chars = body.char_indices();
    chars.next()?;
    chars.find(|(_, c)| *c == '>').map(|(j, _)| i + 1 + j + 1)
}

/// Removes each `<open...</close>` run (`<style[\S\s]+?</style>`).
fn remove_blocks(s: &str, open: &str, close: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(open) {
        let after = &rest[i + open.len()..];
        // At least one character before the closing tag.
        let skip = after.chars().next().map_or(0, char::len_utf8);
        match after.get(skip..).and_then(|a| a.find(close)) {
            Some(j) if skip > 0 => {
                out.push_str(&rest[..i]);
                rest = &after[skip + j + close.len()..];
            }
            _ => break,
        }
    }
    out.push_str(rest);
    out
}

/// beego's `html2str`: tags lower-cased, `<style>` and `<script>` blocks
/// removed, other tags made line breaks, runs of 2+ spaces made one line
/// break, then trimmed.
pub(super) fn html2str(s: &str) -> String {
    let mut lowered = String::with_capacity(s.len());
    let mut i = 0;
    while let Some(j) = s[i..].find('<').map(|j| i + j) {
        lowered.push_str(&s[i..j]);
        match tag_end(s, j) {
            Some(end) => {
                lowered.push_str(&s[j..end].to_lowercase());
                i = end;
            }
            None => {
                i = j;
                break;
            }
        }
    }
    lowered.push_str(&s[i..]);
    let s = remove_blocks(&lowered, "<style", "</style>");
    let s = remove_blocks(&s, "<script", "</script>");
    let mut no_tags = String::with_capacity(s.len());
    let mut i = 0;
    while let Some(j) = s[i..].find('<').map(|j| i + j) {
        no_tags.push_str(&s[i..j]);
        match tag_end(&s, j) {
            Some(end) => {
                no_tags.push('\n');
                i = end;
            }
            None => {
                i = j;
                break;
            }
        }
    }
    no_tags.push_str(&s[i..]);
    // `\s{2,}` (Go's \s: space, \t, \n, \f, \r) becomes one "\n".
    let mut out = String::with_capacity(no_tags.len());
    let mut run = String::new();
    for c in no_tags.chars() {
        if matches!(c, ' ' | '\t' | '\n' | '\x0c' | '\r') {
            run.push(c);
            continue;
        }
        flush_space(&mut out, &mut run);
        out.push(c);
    }
    flush_space(&mut out, &mut run);
    out.trim_matches(go_space).to_owned()
}

fn flush_space(out: &mut String, run: &mut String) {
    if run.len() >= 2 {
        out.push('\n');
    } else {
        out.push_str(run);
    }
    run.clear();
}

/// Go's `unicode.IsSpace`, for `strings.TrimSpace`.
pub(super) fn go_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\x0b' | '\x0c' | '\r' | ' ' | '\u{85}' | '\u{a0}'
    ) || c.is_whitespace()
}

/// Go's `html.EscapeString`.
fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\'' => out.push_str("&#39;"),
            '"' => out.push_str("&#34;"),
            c => out.push(c),
        }
    }
    out
}

pub(super) fn htmlquote(s: &str) -> String {
    html_escape(s)
        .replace('“', "&ldquo;")
        .replace('”', "&rdquo;")
        .replace(' ', "&nbsp;")
        .trim_matches(go_space)
        .to_owned()
}

/// Go's `html.UnescapeString` for the named entities beego's functions
/// write and numeric references.
pub(super) fn html_unescape(s: &str) -> String {
    const NAMED: &[(&str, &str)] = &[
        ("&lt;", "<"),
        ("&gt;", ">"),
        ("&amp;", "&"),
        ("&quot;", "\""),
        ("&apos;", "'"),
        ("&nbsp;", "\u{a0}"),
        ("&ldquo;", "“"),
        ("&rdquo;", "”"),
        ("&lsquo;", "‘"),
        ("&rsquo;", "’"),
        ("&copy;", "©"),
        ("&reg;", "®"),
        ("&hellip;", "…"),
        ("&mdash;", "—"),
        ("&ndash;", "–"),
    ];
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    'outer: while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        for (name, value) in NAMED {
            if rest.starts_with(name) {
                out.push_str(value);
                rest = &rest[name.len()..];
                continue 'outer;
            }
        }
        if let Some(num) = rest.strip_prefix("&#") {
            let (hex, digits) = match num.strip_prefix(['x', 'X']) {
                Some(h) => (true, h),
                None => (false, num),
            };
            let len = digits
                .bytes()
                .take_while(|b| {
                    if hex {
                        b.is_ascii_hexdigit()
                    } else {
                        b.is_ascii_digit()
                    }
                })
                .count();
            let code = u32::from_str_radix(&digits[..len], if hex { 16 } else { 10 }).ok();
            if let (true, Some(code)) = (len > 0, code) {
                out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                let used = 2 + usize::from(hex) + len;
                rest = &rest[used..];
                rest = rest.strip_prefix(';').unwrap_or(rest);
                continue;
            }
        }
        out.push('&');
        rest = &rest[1..];
    }
    out.push_str(rest);
    out
}

/// Go's `url.PathEscape`.
pub(super) fn path_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'_' | b'.' | b'~' | b'$' | b'&' | b'+' | b',' | b'=' | b':' | b'@'
            )
        {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers_match_go() {
        assert_eq!(go_float(3.0), "3");
        assert_eq!(go_float(1e21), "1e+21");
        assert_eq!(go_float(1.5e-7), "1.5e-07");
        assert_eq!(substr("héllo", 1, 3), "éll");
        assert_eq!(substr("abc", 1, 10), "bc");
        assert_eq!(html2str("<P>a</P>  <style>x</style>b"), "a\nb");
        assert_eq!(htmlquote(" <a“> "), "&nbsp;&lt;a&ldquo;&gt;&nbsp;");
        assert_eq!(html_unescape("&lt;&#39;&amp;&#x41;&quot;"), "<'&A\"");
        assert_eq!(path_escape("John Doe/1"), "John%20Doe%2F1");
    }
}
