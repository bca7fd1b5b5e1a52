//! Lenient readers over [`serde_json::Value`]: real servers send counts as strings, booleans
//! as strings or 0/1, and misspell keys (`activeHalfYear` in Funkwhale, `metaData` in
//! micro.blog). Every parser reads values through these helpers so that tolerance is
//! defined once. No types of its own.

use serde_json::Value;

use crate::text::clean;

/// Largest magnitude an `f64` holds exactly; integral floats beyond it are already rounded.
const F64_EXACT: f64 = 9_007_199_254_740_992.0;

/// Follows `keys` through nested objects. Each key is matched exactly first, then ASCII
/// case-insensitively, because servers misspell the case of keys but never their letters.
pub(super) fn path<'a>(value: &'a Value, keys: &[&str]) -> Option<&'a Value> {
    keys.iter().try_fold(value, |current, key| {
        let map = current.as_object()?;
        map.get(*key).or_else(|| {
            map.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v)
        })
    })
}

/// An integer from a JSON number or a numeric string; integral floats (`12.0`) count.
/// Negative values are kept: the reporter flags them as suspect rather than hiding them.
/// Thousands separators, fractions, booleans, null and containers give `None`.
pub(super) fn int(value: Option<&Value>) -> Option<i64> {
    match value? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().and_then(integral)),
        Value::String(s) => {
            let s = s.trim();
            s.parse::<i64>()
                .ok()
                .or_else(|| s.parse::<f64>().ok().and_then(integral))
        }
        _ => None,
    }
}

fn integral(f: f64) -> Option<i64> {
    // `as` saturates, so the range check is what keeps huge or non-finite values out.
    (f.fract() == 0.0 && f.abs() <= F64_EXACT).then_some(f as i64)
}

/// A boolean from `true`/`false`, the strings `"true"`/`"false"` (any case, trimmed) or the
/// numbers 0 and 1 (PHP servers).
pub(super) fn bool(value: Option<&Value>) -> Option<bool> {
    match value? {
        Value::Bool(b) => Some(*b),
        Value::String(s) => {
            let s = s.trim();
            if s.eq_ignore_ascii_case("true") {
                Some(true)
            } else if s.eq_ignore_ascii_case("false") {
                Some(false)
            } else {
                None
            }
        }
        Value::Number(n) => match n.as_i64() {
            Some(1) => Some(true),
            Some(0) => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// Text from a string (or a number, for versions written as `2.1`), made safe by
/// [`crate::text::clean`]; empty is `None`. Every text a parser keeps comes through here.
pub(super) fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => clean(s),
        Value::Number(n) => clean(&n.to_string()),
        _ => None,
    }
}

/// The texts of an array (non-text items skipped); a lone string counts as a one-item list.
pub(super) fn texts(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Array(items)) => items.iter().filter_map(|v| text(Some(v))).collect(),
        other => text(other).into_iter().collect(),
    }
}

/// The JSON type of `value`, for error messages.
pub(super) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn int_accepts_numbers_numeric_strings_and_integral_floats() {
        assert_eq!(int(Some(&json!(12))), Some(12));
        assert_eq!(int(Some(&json!(-1))), Some(-1));
        assert_eq!(int(Some(&json!(" 1234 "))), Some(1234));
        assert_eq!(int(Some(&json!("-5"))), Some(-5));
        assert_eq!(int(Some(&json!(12.0))), Some(12));
        assert_eq!(int(Some(&json!("12.0"))), Some(12));
    }

    #[test]
    fn int_rejects_everything_else() {
        for v in [
            json!("1,234"),
            json!(12.5),
            json!("12.5"),
            json!(true),
            json!(null),
            json!({}),
            json!([1]),
            json!("not-a-number"),
            json!(""),
            json!("NaN"),
            json!("inf"),
            json!(1e300),
            json!(u64::MAX),
        ] {
            assert_eq!(int(Some(&v)), None, "{v}");
        }
        assert_eq!(int(None), None);
    }

    #[test]
    fn bool_accepts_bools_strings_and_zero_one() {
        assert_eq!(bool(Some(&json!(true))), Some(true));
        assert_eq!(bool(Some(&json!(" TRUE "))), Some(true));
        assert_eq!(bool(Some(&json!("false"))), Some(false));
        assert_eq!(bool(Some(&json!(1))), Some(true));
        assert_eq!(bool(Some(&json!(0))), Some(false));
        for v in [
            json!(2),
            json!("yes"),
            json!(null),
            json!({"code": "ENOTFOUND"}),
        ] {
            assert_eq!(bool(Some(&v)), None, "{v}");
        }
    }

    #[test]
    fn path_falls_back_to_case_insensitive_keys() {
        let doc = json!({"metaData": {"activeHalfYear": 3}, "a": {"x": 1, "X": 2}});
        assert_eq!(path(&doc, &["metadata", "activeHalfyear"]), Some(&json!(3)));
        assert_eq!(path(&doc, &["a", "X"]), Some(&json!(2)), "exact match wins");
        assert_eq!(path(&doc, &["missing"]), None);
        assert_eq!(path(&json!([1]), &["a"]), None);
    }

    #[test]
    fn text_goes_through_clean() {
        assert_eq!(
            text(Some(&json!("Evil\n## Heading\u{1b}[2J"))).as_deref(),
            Some("Evil ## Heading [2J")
        );
        assert_eq!(text(Some(&json!(2.1))).as_deref(), Some("2.1"));
    }

    #[test]
    fn texts_trims_and_skips_junk() {
        assert_eq!(
            texts(Some(&json!([" en ", 3, null, "", "fr"]))),
            ["en", "3", "fr"]
        );
        assert_eq!(texts(Some(&json!("en"))), ["en"]);
        assert!(texts(Some(&json!({"en": true}))).is_empty());
        assert_eq!(text(Some(&json!("   "))), None);
    }
}
