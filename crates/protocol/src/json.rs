//! The one way untrusted JSON text becomes a value: bounded in size and depth, and free of
//! keys that would pollute a JavaScript prototype if the value were handed back to a page.

use crate::{DropReason, MAX_MESSAGE_BYTES};
use serde_json::Value;

/// Deepest nesting a real message reaches is 4; anything past this is refused.
pub const MAX_DEPTH: usize = 12;

const FORBIDDEN_KEYS: [&str; 3] = ["__proto__", "constructor", "prototype"];

/// Parses `text` and checks it (see [`check_value`]).
pub fn parse_bounded(text: &str) -> Result<Value, DropReason> {
    if text.len() > MAX_MESSAGE_BYTES {
        return Err(DropReason::TooLarge);
    }
    if nesting_exceeds(text, MAX_DEPTH) {
        return Err(DropReason::TooDeep);
    }
    let value: Value = serde_json::from_str(text).map_err(|_| DropReason::NotJson)?;
    check_value(&value, 0)?;
    Ok(value)
}

/// Refuses forbidden keys and excessive depth in an already parsed value.
pub fn check_value(value: &Value, depth: usize) -> Result<(), DropReason> {
    if depth > MAX_DEPTH {
        return Err(DropReason::TooDeep);
    }
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if FORBIDDEN_KEYS.contains(&k.as_str()) {
                    return Err(DropReason::ForbiddenKey);
                }
                check_value(v, depth + 1)?;
            }
            Ok(())
        }
        Value::Array(items) => items.iter().try_for_each(|v| check_value(v, depth + 1)),
        _ => Ok(()),
    }
}

/// A cheap pre-scan so that a deeply nested input is refused before the parser recurses into it.
/// Brackets inside strings are counted too; that only makes the check stricter than needed for
/// strings full of brackets, which no real message carries.
fn nesting_exceeds(text: &str, max: usize) -> bool {
    let mut depth = 0usize;
    for b in text.bytes() {
        match b {
            b'{' | b'[' => {
                depth += 1;
                if depth > max + 1 {
                    return true;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// Reads a required string field of at most `max` characters.
pub fn str_field<'a>(obj: &'a Value, key: &str, max: usize) -> Result<&'a str, DropReason> {
    match obj.get(key) {
        Some(Value::String(s)) if s.chars().count() <= max => Ok(s),
        Some(Value::String(_)) => Err(DropReason::WrongShape(format!("`{key}` is too long"))),
        Some(_) => Err(DropReason::WrongShape(format!("`{key}` must be a string"))),
        None => Err(DropReason::WrongShape(format!("`{key}` is missing"))),
    }
}

/// Reads an optional string field of at most `max` characters.
pub fn opt_str_field(obj: &Value, key: &str, max: usize) -> Result<Option<String>, DropReason> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(_) => str_field(obj, key, max).map(|s| Some(s.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_pollution_anywhere() {
        assert_eq!(
            parse_bounded(r#"{"__proto__":{"x":1}}"#),
            Err(DropReason::ForbiddenKey)
        );
        assert_eq!(
            parse_bounded(r#"{"a":[{"constructor":{}}]}"#),
            Err(DropReason::ForbiddenKey)
        );
        assert_eq!(
            parse_bounded(r#"{"a":{"prototype":1}}"#),
            Err(DropReason::ForbiddenKey)
        );
        assert!(parse_bounded(r#"{"proto":1,"data":{"name":"__proto__"}}"#).is_ok());
    }

    #[test]
    fn refuses_size_depth_and_garbage() {
        let big = format!("\"{}\"", "a".repeat(MAX_MESSAGE_BYTES));
        assert_eq!(parse_bounded(&big), Err(DropReason::TooLarge));
        let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
        assert_eq!(parse_bounded(&deep), Err(DropReason::TooDeep));
        assert_eq!(parse_bounded("{not json"), Err(DropReason::NotJson));
        assert_eq!(parse_bounded(""), Err(DropReason::NotJson));
    }
}
