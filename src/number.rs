//! Numbers for people: thousands separators, as newspapers print them, and counted
//! nouns in the right number.
//!
//! Types: none; functions only.

/// `1234567` → `"1,234,567"`, `-1234` → `"-1,234"`.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// "1 server", "2 servers", with thousands separators.
pub fn plural(n: u64, one: &str, many: &str) -> String {
    let word = if n == 1 { one } else { many };
    format!("{} {word}", thousands(n as i64))
}

/// "+1,234", "−56" (a minus sign, not a hyphen), "0".
pub fn signed(n: i64) -> String {
    match n.signum() {
        1 => format!("+{}", thousands(n)),
        -1 => format!("−{}", &thousands(n)[1..]),
        _ => "0".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(608_837), "608,837");
        assert_eq!(thousands(-1_234_567), "-1,234,567");
        assert_eq!(thousands(i64::MIN), "-9,223,372,036,854,775,808");
    }

    #[test]
    fn plurals() {
        assert_eq!(plural(1, "server", "servers"), "1 server");
        assert_eq!(plural(0, "server", "servers"), "0 servers");
        assert_eq!(plural(1234, "user", "users"), "1,234 users");
    }

    #[test]
    fn signed_changes_with_separators_and_a_minus_sign() {
        assert_eq!(signed(1234), "+1,234");
        assert_eq!(signed(-56), "−56");
        assert_eq!(signed(-1_234_567), "−1,234,567");
        assert_eq!(signed(0), "0");
        assert_eq!(signed(i64::MIN), "−9,223,372,036,854,775,808");
    }
}
