//! Time for revision ids, file headers and version rows, in UTC, without a date crate.
//! The build takes `RETORT_NOW` or `SOURCE_DATE_EPOCH` (the reproducible-builds convention)
//! to fix it, so generated files can be compared byte for byte.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch: the given override when set, else now.
pub fn now(source_date_epoch: Option<&str>) -> u64 {
    source_date_epoch
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0)
        })
}

/// (year, month, day, hour, minute, second) in UTC.
pub fn civil(secs: u64) -> (i64, u32, u32, u32, u32, u32) {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        year,
        month,
        day,
        (rem / 3600) as u32,
        (rem % 3600 / 60) as u32,
        (rem % 60) as u32,
    )
}

/// `20261126_054012`.
pub fn stamp(secs: u64) -> String {
    let (y, mo, d, h, mi, s) = civil(secs);
    format!("{y:04}{mo:02}{d:02}_{h:02}{mi:02}{s:02}")
}

/// `2026-11-26 05:40:12 UTC`.
pub fn human(secs: u64) -> String {
    let (y, mo, d, h, mi, s) = civil(secs);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02} UTC")
}

/// `2026-11-26T05:40:12.345Z`, as SQLite's `strftime('%Y-%m-%dT%H:%M:%fZ', 'now')` writes
/// it: the time a version row records.
pub fn iso_millis(time: SystemTime) -> String {
    let mut out = String::with_capacity(24);
    push_iso_millis(&mut out, time);
    out
}

/// [`iso_millis`] written at the end of `out`, digit by digit: a version row's time costs
/// no formatting machinery (the runner writes one per migration).
pub fn push_iso_millis(out: &mut String, time: SystemTime) {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let (y, mo, d, h, mi, s) = civil(since.as_secs());
    // The year is never negative here (the time is after the epoch); four digits at least,
    // more past 9999, as `{y:04}` writes it.
    let year = y.max(0) as u64;
    let year_width = year.checked_ilog10().map_or(1, |l| l + 1).max(4);
    let parts = [
        (year, year_width, '-'),
        (u64::from(mo), 2, '-'),
        (u64::from(d), 2, 'T'),
        (u64::from(h), 2, ':'),
        (u64::from(mi), 2, ':'),
        (u64::from(s), 2, '.'),
        (u64::from(since.subsec_millis()), 3, 'Z'),
    ];
    for (value, width, then) in parts {
        for place in (0..width).rev() {
            let digit = value / 10u64.pow(place) % 10;
            out.push(char::from(b'0' + digit as u8));
        }
        out.push(then);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_known_instants() {
        assert_eq!(super::stamp(0), "19700101_000000");
        // 2026-11-26 05:40:12 UTC
        assert_eq!(super::human(1_795_671_612), "2026-11-26 05:40:12 UTC");
        assert_eq!(super::stamp(951_782_400), "20000229_000000");
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(1_795_671_612_345);
        assert_eq!(super::iso_millis(t), "2026-11-26T05:40:12.345Z");
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(951_782_400_007);
        assert_eq!(super::iso_millis(t), "2000-02-29T00:00:00.007Z");
        // 10000-01-01 00:00:00 UTC: five digits, as `{y:04}` writes them.
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(253_402_300_800);
        assert_eq!(super::iso_millis(t), "10000-01-01T00:00:00.000Z");
    }

    proptest::proptest! {
        /// Digit by digit as `format!` writes it, for any instant up to the year 300 000
        /// (five and six-digit years too).
        #[test]
        fn iso_millis_is_the_formatted_time(ms in 0u64..9_400_000_000_000_000) {
            let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms);
            let (y, mo, d, h, mi, s) = super::civil(ms / 1000);
            let formatted =
                format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:03}Z", ms % 1000);
            proptest::prop_assert_eq!(super::iso_millis(t), formatted);
        }
    }
}
