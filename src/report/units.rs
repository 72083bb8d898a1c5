//! Quantities in words for the text reports: `1 byte`, `2 bytes`.

/// `n` bytes, singular for one.
pub fn bytes(n: u64) -> String {
    if n == 1 {
        "1 byte".to_string()
    } else {
        format!("{n} bytes")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_byte_is_singular() {
        assert_eq!(super::bytes(0), "0 bytes");
        assert_eq!(super::bytes(1), "1 byte");
        assert_eq!(super::bytes(34), "34 bytes");
    }
}
