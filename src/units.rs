//! Sizes and shares as words: the one place a byte count or a share of a
//! total is formatted. It imports nothing of the crate, so every stage may
//! use it (the checks' limits, the suggestions' titles, every renderer).

/// `1.2 MB` (decimal units, as registries and `docker images` show sizes).
pub fn human(bytes: u64) -> String {
    humansize::format_size(bytes, humansize::DECIMAL)
}

/// `1.2 MB (1234567 bytes)`: the readable size and the exact count.
pub fn bytes_text(bytes: u64) -> String {
    format!("{} ({bytes} bytes)", human(bytes))
}

/// `part` as a percentage of `total`; 0 when `total` is 0 (never NaN).
pub fn share(part: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        part as f64 * 100.0 / total as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_shares() {
        assert_eq!(human(1_500_000), "1.50 MB");
        assert_eq!(bytes_text(999), "999 B (999 bytes)");
        assert_eq!(share(1, 4), 25.0);
        assert_eq!(share(5, 0), 0.0);
    }
}
