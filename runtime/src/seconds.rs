//! Durations in decimal seconds, as the `RETORT_*` settings and the command line take them and
//! the messages show them, read and written with integer arithmetic: exact to the nanosecond,
//! and without `f64`, whose parsing and printing would otherwise be linked into every app for
//! these few numbers (≈ 34 KiB of code).

use std::time::Duration;

/// Reads decimal seconds: `5`, `0.5`, `.25`, `2.`. Digits after the ninth decimal are
/// dropped. `None` for anything else: a sign, an exponent, no digit at all, another
/// character, or more seconds than a `u64` holds.
pub(crate) fn parse(text: &str) -> Option<Duration> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !digits(whole) || !digits(fraction) {
        return None;
    }
    let secs = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let mut nanos = 0;
    let mut scale = 100_000_000;
    for b in fraction.bytes().take(9) {
        nanos += u32::from(b - b'0') * scale;
        scale /= 10;
    }
    Some(Duration::new(secs, nanos))
}

/// `d` rounded (half up) to `places` decimals, at most 9, as `{:.N}` prints a float:
/// `2.5`, `5.0`, `30`.
pub(crate) fn fixed(d: Duration, places: u32) -> String {
    let places = places.min(9);
    let unit = 10u128.pow(9 - places);
    let n = (d.as_nanos() + unit / 2) / unit;
    if places == 0 {
        return n.to_string();
    }
    let scale = 10u128.pow(places);
    format!(
        "{}.{:0width$}",
        n / scale,
        n % scale,
        width = places as usize
    )
}

/// `d` rounded to the millisecond, without trailing zeros: `5`, `0.3`, `1.25`.
pub(crate) fn short(d: Duration) -> String {
    let text = fixed(d, 3);
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_decimal_seconds_exactly() {
        let ms = Duration::from_millis;
        assert_eq!(parse("5"), Some(Duration::from_secs(5)));
        assert_eq!(parse("0.5"), Some(ms(500)));
        assert_eq!(parse(".25"), Some(ms(250)));
        assert_eq!(parse("2."), Some(ms(2000)));
        assert_eq!(parse("0.1"), Some(ms(100)));
        assert_eq!(parse("86400"), Some(Duration::from_secs(86_400)));
        assert_eq!(parse("1.0000000019"), Some(Duration::new(1, 1)));
        assert_eq!(parse("0"), Some(Duration::ZERO));
        for bad in [
            "",
            ".",
            "-1",
            "+1",
            "1e3",
            "inf",
            "NaN",
            "1.2.3",
            " 1",
            "1s",
            "99999999999999999999",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn prints_as_the_float_formats_did() {
        let ms = Duration::from_millis;
        assert_eq!(fixed(ms(2500), 1), "2.5");
        assert_eq!(fixed(ms(5000), 1), "5.0");
        assert_eq!(fixed(ms(2449), 1), "2.4");
        assert_eq!(fixed(ms(2450), 1), "2.5");
        assert_eq!(fixed(ms(29_600), 0), "30");
        assert_eq!(fixed(ms(1), 3), "0.001");
        assert_eq!(fixed(Duration::new(3, 999_999_999), 3), "4.000");
        assert_eq!(short(ms(5000)), "5");
        assert_eq!(short(ms(300)), "0.3");
        assert_eq!(short(ms(1250)), "1.25");
        assert_eq!(short(Duration::from_micros(1_234_567)), "1.235");
        assert_eq!(short(Duration::ZERO), "0");
    }

    #[test]
    fn what_is_printed_reads_back() {
        for n in [0u64, 1, 9, 10, 99, 100, 999, 1000, 1001, 86_400_000] {
            let d = Duration::from_millis(n);
            assert_eq!(parse(&short(d)), Some(d), "{n} ms");
            assert_eq!(parse(&fixed(d, 3)), Some(d), "{n} ms");
        }
    }
}
