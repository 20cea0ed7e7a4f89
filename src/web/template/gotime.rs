//! Go's `time.Time.Format` for the `dateformat` and `date` template
//! functions: RFC 3339 strings (what serde writes for a time) and Unix
//! seconds stand in for Go's `time.Time`.

use std::fmt::Write;

/// A point in time with the offset it was written with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct GoTime {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    nanos: u32,
    /// Offset east of UTC, seconds.
    offset: i32,
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn num(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

impl GoTime {
    /// Parses RFC 3339 (`2006-01-02T15:04:05.999999999Z07:00`).
    pub(crate) fn parse_rfc3339(s: &str) -> Option<GoTime> {
        let b = s.as_bytes();
        if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') {
            return None;
        }
        if b[13] != b':' || b[16] != b':' {
            return None;
        }
        let year = i64::from(num(s.get(0..4)?)?);
        let (month, day) = (num(s.get(5..7)?)?, num(s.get(8..10)?)?);
        let (hour, minute, second) = (
            num(s.get(11..13)?)?,
            num(s.get(14..16)?)?,
            num(s.get(17..19)?)?,
        );
        let mut rest = s.get(19..)?;
        let mut nanos = 0;
        if let Some(frac) = rest.strip_prefix('.') {
            let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 || digits > 9 {
                return None;
            }
            nanos = num(&frac[..digits])? * 10u32.pow(9 - digits as u32);
            rest = &frac[digits..];
        }
        let offset = match rest {
            "Z" | "z" => 0,
            _ => {
                let sign = match rest.as_bytes().first()? {
                    b'+' => 1,
                    b'-' => -1,
                    _ => return None,
                };
                if rest.len() != 6 || rest.as_bytes()[3] != b':' {
                    return None;
                }
                let (h, m) = (num(&rest[1..3])?, num(&rest[4..6])?);
                sign * (h * 3600 + m * 60) as i32
            }
        };
        let days_in = [
            31,
            if is_leap(year) { 29 } else { 28 },
            31,
            30,
            31,
            30,
            31,
            31,
            30,
            31,
            30,
            31,
        ];
        let valid = (1..=12).contains(&month)
            && day >= 1
            && day <= days_in[month as usize - 1]
            && hour < 24
            && minute < 60
            && second < 60;
        valid.then_some(GoTime {
            year,
            month,
            day,
            hour,
            minute,
            second,
            nanos,
            offset,
        })
    }

    /// Unix seconds, in UTC.
    pub(crate) fn from_unix(secs: i64) -> GoTime {
        let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
        let (year, month, day) = civil_from_days(days);
        GoTime {
            year,
            month,
            day,
            hour: (rem / 3600) as u32,
            minute: (rem % 3600 / 60) as u32,
            second: (rem % 60) as u32,
            nanos: 0,
            offset: 0,
        }
    }

    fn weekday(&self) -> usize {
        (days_from_civil(self.year, self.month, self.day) + 4).rem_euclid(7) as usize
    }

    fn yday(&self) -> i64 {
        days_from_civil(self.year, self.month, self.day) - days_from_civil(self.year, 1, 1) + 1
    }

    /// Go's `Format(layout)`.
    pub(crate) fn format(&self, layout: &str) -> String {
        let mut out = String::with_capacity(layout.len() + 10);
        let mut rest = layout;
        while !rest.is_empty() {
            let (prefix, chunk, suffix) = next_chunk(rest);
            out.push_str(prefix);
            if let Some(chunk) = chunk {
                self.write_chunk(&mut out, chunk);
            }
            rest = suffix;
        }
        out
    }

    fn write_chunk(&self, out: &mut String, chunk: Chunk) {
        let hour12 = match self.hour % 12 {
            0 => 12,
            h => h,
        };
        let _ = match chunk {
            Chunk::LongMonth => write!(out, "{}", MONTHS[self.month as usize - 1]),
            Chunk::Month => write!(out, "{}", &MONTHS[self.month as usize - 1][..3]),
            Chunk::NumMonth => write!(out, "{}", self.month),
            Chunk::ZeroMonth => write!(out, "{:02}", self.month),
            Chunk::LongWeekDay => write!(out, "{}", DAYS[self.weekday()]),
            Chunk::WeekDay => write!(out, "{}", &DAYS[self.weekday()][..3]),
            Chunk::Day => write!(out, "{}", self.day),
            Chunk::UnderDay => write!(out, "{:>2}", self.day),
            Chunk::ZeroDay => write!(out, "{:02}", self.day),
            Chunk::UnderYearDay => write!(out, "{:>3}", self.yday()),
            Chunk::ZeroYearDay => write!(out, "{:03}", self.yday()),
            Chunk::Hour => write!(out, "{:02}", self.hour),
            Chunk::Hour12 => write!(out, "{hour12}"),
            Chunk::ZeroHour12 => write!(out, "{hour12:02}"),
            Chunk::Minute => write!(out, "{}", self.minute),
            Chunk::ZeroMinute => write!(out, "{:02}", self.minute),
            Chunk::Second => write!(out, "{}", self.second),
            Chunk::ZeroSecond => write!(out, "{:02}", self.second),
            Chunk::LongYear => write!(out, "{:04}", self.year),
            Chunk::Year => write!(out, "{:02}", self.year.rem_euclid(100)),
            Chunk::PM => write!(out, "{}", if self.hour >= 12 { "PM" } else { "AM" }),
            Chunk::Pm => write!(out, "{}", if self.hour >= 12 { "pm" } else { "am" }),
            Chunk::TZ => {
                if self.offset == 0 {
                    write!(out, "UTC")
                } else {
                    // Go names an unnamed zone by its offset, as -0700.
                    self.write_offset(out, false, false, false, false);
                    Ok(())
                }
            }
            Chunk::Offset {
                z,
                colon,
                secs,
                hours_only,
            } => {
                if z && self.offset == 0 {
                    write!(out, "Z")
                } else {
                    self.write_offset(out, colon, secs, hours_only, true);
                    Ok(())
                }
            }
            Chunk::Frac { digits, trim } => {
                let text = format!("{:09}", self.nanos);
                let mut frac = &text[..digits];
                if trim {
                    frac = frac.trim_end_matches('0');
                }
                if !frac.is_empty() {
                    out.push('.');
                    out.push_str(frac);
                }
                Ok(())
            }
        };
    }

    fn write_offset(
        &self,
        out: &mut String,
        colon: bool,
        secs: bool,
        hours_only: bool,
        _iso: bool,
    ) {
        let (sign, abs) = if self.offset < 0 {
            ('-', -self.offset)
        } else {
            ('+', self.offset)
        };
        let _ = write!(out, "{sign}{:02}", abs / 3600);
        if hours_only {
            return;
        }
        if colon {
            out.push(':');
        }
        let _ = write!(out, "{:02}", abs % 3600 / 60);
        if secs {
            if colon {
                out.push(':');
            }
            let _ = write!(out, "{:02}", abs % 60);
        }
    }
}

/// One element of a Go layout.
#[derive(Debug, Clone, Copy)]
enum Chunk {
    LongMonth,
    Month,
    NumMonth,
    ZeroMonth,
    LongWeekDay,
    WeekDay,
    Day,
    UnderDay,
    ZeroDay,
    UnderYearDay,
    ZeroYearDay,
    Hour,
    Hour12,
    ZeroHour12,
    Minute,
    ZeroMinute,
    Second,
    ZeroSecond,
    LongYear,
    Year,
    PM,
    Pm,
    TZ,
    Offset {
        z: bool,
        colon: bool,
        secs: bool,
        hours_only: bool,
    },
    Frac {
        digits: usize,
        trim: bool,
    },
}

/// Go's `nextStdChunk`: the text before the first layout element, the
/// element, and the text after it.
fn next_chunk(layout: &str) -> (&str, Option<Chunk>, &str) {
    let b = layout.as_bytes();
    let at = |i: usize, s: &str| layout.get(i..).is_some_and(|r| r.starts_with(s));
    for i in 0..b.len() {
        let split = |len: usize, c: Chunk| (&layout[..i], Some(c), &layout[i + len..]);
        match b[i] {
            b'J' => {
                if at(i, "January") {
                    return split(7, Chunk::LongMonth);
                }
                if at(i, "Jan") {
                    return split(3, Chunk::Month);
                }
            }
            b'M' => {
                if at(i, "Monday") {
                    return split(6, Chunk::LongWeekDay);
                }
                if at(i, "Mon") {
                    return split(3, Chunk::WeekDay);
                }
                if at(i, "MST") {
                    return split(3, Chunk::TZ);
                }
            }
            b'0' => {
                if let Some(&c) = b.get(i + 1) {
                    if (b'1'..=b'6').contains(&c) {
                        let chunk = [
                            Chunk::ZeroMonth,
                            Chunk::ZeroDay,
                            Chunk::ZeroHour12,
                            Chunk::ZeroMinute,
                            Chunk::ZeroSecond,
                            Chunk::Year,
                        ][(c - b'1') as usize];
                        return split(2, chunk);
                    }
                    if c == b'0' && b.get(i + 2) == Some(&b'2') {
                        return split(3, Chunk::ZeroYearDay);
                    }
                }
            }
            b'1' => {
                if b.get(i + 1) == Some(&b'5') {
                    return split(2, Chunk::Hour);
                }
                return split(1, Chunk::NumMonth);
            }
            b'2' => {
                if at(i, "2006") {
                    return split(4, Chunk::LongYear);
                }
                return split(1, Chunk::Day);
            }
            b'_' => {
                if b.get(i + 1) == Some(&b'2') {
                    if at(i + 1, "2006") {
                        // "_2006" is "_" then the year.
                        return (&layout[..i + 1], Some(Chunk::LongYear), &layout[i + 5..]);
                    }
                    return split(2, Chunk::UnderDay);
                }
                if at(i, "__2") {
                    return split(3, Chunk::UnderYearDay);
                }
            }
            b'3' => return split(1, Chunk::Hour12),
            b'4' => return split(1, Chunk::Minute),
            b'5' => return split(1, Chunk::Second),
            b'P' if b.get(i + 1) == Some(&b'M') => return split(2, Chunk::PM),
            b'p' if b.get(i + 1) == Some(&b'm') => return split(2, Chunk::Pm),
            b'-' | b'Z' => {
                let z = b[i] == b'Z';
                let forms: [(&str, bool, bool, bool); 5] = [
                    ("070000", false, true, false),
                    ("07:00:00", true, true, false),
                    ("0700", false, false, false),
                    ("07:00", true, false, false),
                    ("07", false, false, true),
                ];
                for (form, colon, secs, hours_only) in forms {
                    if at(i + 1, form) {
                        let chunk = Chunk::Offset {
                            z,
                            colon,
                            secs,
                            hours_only,
                        };
                        return split(1 + form.len(), chunk);
                    }
                }
            }
            b'.' | b',' => {
                if let Some(&c @ (b'0' | b'9')) = b.get(i + 1) {
                    let run = b[i + 1..].iter().take_while(|&&x| x == c).count();
                    let next = b.get(i + 1 + run);
                    if !next.is_some_and(u8::is_ascii_digit) {
                        let chunk = Chunk::Frac {
                            digits: run.min(9),
                            trim: c == b'9',
                        };
                        return split(1 + run, chunk);
                    }
                }
            }
            _ => {}
        }
    }
    (layout, None, "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_go() {
        let t = GoTime::parse_rfc3339("2026-12-07T09:04:05.120Z").unwrap();
        assert_eq!(t.format("2006-01-02 15:04:05"), "2026-12-07 09:04:05");
        assert_eq!(
            t.format("Mon Jan _2 3:4:5 PM MST 2006"),
            "Mon Dec  7 9:4:5 AM UTC 2026"
        );
        assert_eq!(t.format("Z07:00 .000 .999"), "Z .120 .12");
        let t = GoTime::parse_rfc3339("2024-02-29T23:00:00+02:30").unwrap();
        assert_eq!(t.format(time_rfc1123z()), "Thu, 29 Feb 2024 23:00:00 +0230");
        assert_eq!(
            GoTime::from_unix(0).format("2006-01-02 Monday"),
            "1970-01-01 Thursday"
        );
        assert!(GoTime::parse_rfc3339("2023-02-29T00:00:00Z").is_none());
    }

    fn time_rfc1123z() -> &'static str {
        "Mon, 02 Jan 2006 15:04:05 -0700"
    }
}
