//! Timestamps: the two input forms of input.md (Unix seconds, RFC 3339 text)
//! and the one output form (RFC 3339 UTC, `Z`, whole seconds).
//!
//! Civil-date arithmetic follows Howard Hinnant's `days_from_civil`, so no
//! calendar crate is needed on the hot path.

/// Largest accepted instant: 9999-12-31T23:59:59Z.
pub const MAX_SECONDS: i64 = 253_402_300_799;

/// Why a timestamp was refused; rendered into rejection reasons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimestampError {
    OutOfRange(i128),
    Malformed(&'static str),
}

impl std::fmt::Display for TimestampError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TimestampError::OutOfRange(v) => write!(
                f,
                "{v} is outside 0..={MAX_SECONDS} (1970-01-01 to 9999-12-31 UTC)"
            ),
            TimestampError::Malformed(what) => write!(
                f,
                "{what}; expected Unix seconds or YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)"
            ),
        }
    }
}

/// Checks an integer of Unix seconds against the accepted range.
pub fn from_seconds(v: i128) -> Result<i64, TimestampError> {
    if (0..=MAX_SECONDS as i128).contains(&v) {
        Ok(v as i64)
    } else {
        Err(TimestampError::OutOfRange(v))
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date (year, month, day) of a day count since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

fn digits(s: &[u8], from: usize, n: usize) -> Option<u32> {
    let part = s.get(from..from + n)?;
    let mut v = 0u32;
    for &c in part {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

/// Parses the RFC 3339 form of input.md into Unix seconds (fraction truncated).
pub fn parse_rfc3339(text: &str) -> Result<i64, TimestampError> {
    use TimestampError::Malformed;
    let s = text.as_bytes();
    let year = digits(s, 0, 4).ok_or(Malformed("the year is not 4 digits"))?;
    if s.get(4) != Some(&b'-') || s.get(7) != Some(&b'-') {
        return Err(Malformed("the date is not YYYY-MM-DD"));
    }
    let month = digits(s, 5, 2).ok_or(Malformed("the month is not 2 digits"))?;
    let day = digits(s, 8, 2).ok_or(Malformed("the day is not 2 digits"))?;
    if !(1..=12).contains(&month) {
        return Err(Malformed("the month is not 01-12"));
    }
    if day < 1 || day > days_in_month(i64::from(year), month) {
        return Err(Malformed("the day does not exist in that month"));
    }
    if !matches!(s.get(10), Some(b'T' | b't' | b' ')) {
        return Err(Malformed(
            "the date and time are not separated by T or a space",
        ));
    }
    let hour = digits(s, 11, 2).ok_or(Malformed("the hour is not 2 digits"))?;
    let minute = digits(s, 14, 2).ok_or(Malformed("the minute is not 2 digits"))?;
    let second = digits(s, 17, 2).ok_or(Malformed("the second is not 2 digits"))?;
    if s.get(13) != Some(&b':') || s.get(16) != Some(&b':') {
        return Err(Malformed("the time is not HH:MM:SS"));
    }
    if hour > 23 || minute > 59 || second > 59 {
        return Err(Malformed(
            "the time of day is out of range (no leap seconds)",
        ));
    }
    let mut i = 19;
    if s.get(i) == Some(&b'.') {
        let start = i + 1;
        let mut end = start;
        while s.get(end).is_some_and(u8::is_ascii_digit) {
            end += 1;
        }
        if end == start || end - start > 9 {
            return Err(Malformed("the fraction is not 1 to 9 digits"));
        }
        i = end;
    }
    let offset = match s.get(i) {
        Some(b'Z' | b'z') => {
            i += 1;
            0i64
        }
        Some(&sign @ (b'+' | b'-')) => {
            let oh = digits(s, i + 1, 2).ok_or(Malformed("the offset is not ±HH:MM"))?;
            let om = digits(s, i + 4, 2).ok_or(Malformed("the offset is not ±HH:MM"))?;
            if s.get(i + 3) != Some(&b':') || oh > 23 || om > 59 {
                return Err(Malformed("the offset is not ±HH:MM"));
            }
            i += 6;
            let v = i64::from(oh) * 3600 + i64::from(om) * 60;
            if sign == b'-' { -v } else { v }
        }
        _ => return Err(Malformed("the UTC offset (Z or ±HH:MM) is missing")),
    };
    if i != s.len() {
        return Err(Malformed("there are characters after the offset"));
    }
    let days = days_from_civil(i64::from(year), month, day);
    let local = days * 86_400 + i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second);
    from_seconds(i128::from(local - offset))
}

/// Two ASCII digits for each value 0..=99.
const DIGITS: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

fn put2(out: &mut [u8; 20], at: usize, v: u32) {
    let i = (v % 100) as usize * 2;
    if let (Some(d), Some(o)) = (DIGITS.get(i..i + 2), out.get_mut(at..at + 2)) {
        o.copy_from_slice(d);
    }
}

/// Formats Unix seconds as `YYYY-MM-DDTHH:MM:SSZ` into a fixed buffer
/// (years clamped to 0000..=9999).
pub fn format_rfc3339(seconds: i64) -> [u8; 20] {
    let days = seconds.div_euclid(86_400);
    let secs = seconds.rem_euclid(86_400) as u32;
    let (y, m, d) = civil_from_days(days);
    let y = y.clamp(0, 9999) as u32;
    let mut out = *b"0000-00-00T00:00:00Z";
    put2(&mut out, 0, y / 100);
    put2(&mut out, 2, y % 100);
    put2(&mut out, 5, m);
    put2(&mut out, 8, d);
    put2(&mut out, 11, secs / 3600);
    put2(&mut out, 14, secs / 60 % 60);
    put2(&mut out, 17, secs % 60);
    out
}

/// Formats Unix seconds as an RFC 3339 UTC string.
pub fn to_rfc3339(seconds: i64) -> String {
    String::from_utf8_lossy(&format_rfc3339(seconds)).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_forms_input_md_lists() {
        assert_eq!(parse_rfc3339("2026-03-08T09:15:00Z"), Ok(1_772_961_300));
        assert_eq!(
            parse_rfc3339("2026-03-08T10:15:00.250+01:00"),
            Ok(1_772_961_300)
        );
        assert_eq!(parse_rfc3339("2026-03-08t09:15:00z"), Ok(1_772_961_300));
        assert_eq!(
            parse_rfc3339("2026-03-08 09:15:00.999999999Z"),
            Ok(1_772_961_300)
        );
        assert_eq!(
            parse_rfc3339("2026-03-08T04:15:00-05:00"),
            Ok(1_772_961_300)
        );
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(parse_rfc3339("9999-12-31T23:59:59Z"), Ok(MAX_SECONDS));
        assert_eq!(parse_rfc3339("2024-02-29T00:00:00Z"), Ok(1_709_164_800));
    }

    #[test]
    fn refuses_everything_else() {
        for bad in [
            "2026-03-08T09:15:00",
            "2026-03-08T09:15:60Z",
            "2026-03-08T24:00:00Z",
            "2026-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-03-08T09:15Z",
            "2026-03-08T09:15:00.Z",
            "2026-03-08T09:15:00.1234567890Z",
            "2026-03-08T09:15:00+0100",
            "2026-03-08T09:15:00Zjunk",
            "2026-03-08",
            "1772961300",
            "1969-12-31T23:59:59Z",
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59-00:01",
            "",
            "２026-03-08T09:15:00Z",
        ] {
            assert!(parse_rfc3339(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn integer_seconds_must_be_in_range() {
        assert_eq!(from_seconds(0), Ok(0));
        assert_eq!(from_seconds(MAX_SECONDS as i128), Ok(MAX_SECONDS));
        assert!(from_seconds(-1).is_err());
        assert!(from_seconds(MAX_SECONDS as i128 + 1).is_err());
    }

    #[test]
    fn output_is_utc_with_z_and_whole_seconds() {
        assert_eq!(to_rfc3339(1_772_961_300), "2026-03-08T09:15:00Z");
        assert_eq!(to_rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(to_rfc3339(MAX_SECONDS), "9999-12-31T23:59:59Z");
    }

    #[test]
    fn civil_round_trip_over_the_whole_range() {
        let mut day = 0;
        while day <= MAX_SECONDS / 86_400 {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(y, m, d), day);
            day += 97;
        }
    }
}
