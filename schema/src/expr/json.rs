//! JSON in one spelling: keys sorted, no whitespace, numbers by value, strings escaped one
//! way (PostgreSQL's jsonb reorders keys and spaces them; MariaDB keeps the text as written).
//!
//! A reader of its own rather than serde_json's: this is all the runtime needs JSON for
//! (comparing a json column's default with what the catalog prints), and an application
//! should not link a JSON library for it.

use std::collections::BTreeMap;

use super::canon::number_literal;
use super::parse::Expr;

/// As deep as serde_json reads by default: deeper text is not taken for JSON.
const MAX_DEPTH: usize = 128;

/// The canonical text of `text`, or `None` when it is not one JSON value.
///
/// ```text
/// {"b": [1.50, true], "a": "x"}  →  {"a":"x","b":[15e-1,1]}
/// ```
/// (Numbers in the canonical form of [`number_literal`]; `true` stays `true`.)
pub(super) fn canonical(text: &str) -> Option<String> {
    let mut reader = Reader {
        s: text.as_bytes(),
        i: 0,
    };
    let mut out = String::new();
    reader.value(&mut out, 0)?;
    reader.space();
    (reader.i == reader.s.len()).then_some(out)
}

struct Reader<'a> {
    s: &'a [u8],
    i: usize,
}

impl Reader<'_> {
    fn space(&mut self) {
        while matches!(self.s.get(self.i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn eat(&mut self, b: u8) -> bool {
        self.space();
        let found = self.s.get(self.i) == Some(&b);
        self.i += usize::from(found);
        found
    }

    fn value(&mut self, out: &mut String, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.space();
        match *self.s.get(self.i)? {
            b'{' => self.object(out, depth),
            b'[' => self.array(out, depth),
            b'"' => {
                let s = self.string()?;
                write_string(&s, out);
                Some(())
            }
            b't' => self.word("true", out),
            b'f' => self.word("false", out),
            b'n' => self.word("null", out),
            _ => self.number(out),
        }
    }

    fn object(&mut self, out: &mut String, depth: usize) -> Option<()> {
        self.i += 1;
        // A key written twice keeps its last value, as JSON readers do.
        let mut members = BTreeMap::new();
        if !self.eat(b'}') {
            loop {
                self.space();
                let key = self.string()?;
                if !self.eat(b':') {
                    return None;
                }
                let mut value = String::new();
                self.value(&mut value, depth + 1)?;
                members.insert(key, value);
                if self.eat(b'}') {
                    break;
                }
                if !self.eat(b',') {
                    return None;
                }
            }
        }
        out.push('{');
        for (n, (key, value)) in members.iter().enumerate() {
            if n > 0 {
                out.push(',');
            }
            write_string(key, out);
            out.push(':');
            out.push_str(value);
        }
        out.push('}');
        Some(())
    }

    fn array(&mut self, out: &mut String, depth: usize) -> Option<()> {
        self.i += 1;
        out.push('[');
        if !self.eat(b']') {
            loop {
                self.value(out, depth + 1)?;
                if self.eat(b']') {
                    break;
                }
                if !self.eat(b',') {
                    return None;
                }
                out.push(',');
            }
        }
        out.push(']');
        Some(())
    }

    fn word(&mut self, word: &str, out: &mut String) -> Option<()> {
        let end = self.i + word.len();
        (self.s.get(self.i..end)? == word.as_bytes()).then_some(())?;
        self.i = end;
        out.push_str(word);
        Some(())
    }

    /// `-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?`, written by value.
    fn number(&mut self, out: &mut String) -> Option<()> {
        let start = self.i;
        self.i += usize::from(self.s.get(self.i) == Some(&b'-'));
        let int = self.digits();
        if int == 0 || (int > 1 && self.s[self.i - int] == b'0') {
            return None;
        }
        if self.s.get(self.i) == Some(&b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return None;
            }
        }
        if matches!(self.s.get(self.i), Some(b'e' | b'E')) {
            self.i += 1;
            self.i += usize::from(matches!(self.s.get(self.i), Some(b'+' | b'-')));
            if self.digits() == 0 {
                return None;
            }
        }
        // Only ASCII was consumed, so the slice is text.
        let text = std::str::from_utf8(&self.s[start..self.i]).ok()?;
        match number_literal(text)? {
            Expr::Num(n) => out.push_str(&n),
            _ => return None,
        }
        Some(())
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while self.s.get(self.i).is_some_and(u8::is_ascii_digit) {
            self.i += 1;
        }
        self.i - start
    }

    /// A string's value, its escapes read.
    fn string(&mut self) -> Option<String> {
        if self.s.get(self.i) != Some(&b'"') {
            return None;
        }
        self.i += 1;
        let mut bytes = Vec::new();
        loop {
            match *self.s.get(self.i)? {
                b'"' => {
                    self.i += 1;
                    return String::from_utf8(bytes).ok();
                }
                b'\\' => {
                    self.i += 1;
                    let c = match *self.s.get(self.i)? {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.escaped_char()?,
                        _ => return None,
                    };
                    self.i += 1;
                    bytes.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                }
                b if b < 0x20 => return None,
                b => {
                    bytes.push(b);
                    self.i += 1;
                }
            }
        }
    }

    /// `\uXXXX` (a surrogate pair as two), with `self.i` on the `u`; leaves it on the
    /// last hex digit.
    fn escaped_char(&mut self) -> Option<char> {
        let high = self.hex4()?;
        if !(0xD800..0xDC00).contains(&high) {
            return char::from_u32(high);
        }
        if self.s.get(self.i + 1..self.i + 3)? != b"\\u" {
            return None;
        }
        self.i += 2;
        let low = self.hex4()?;
        if !(0xDC00..0xE000).contains(&low) {
            return None;
        }
        char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
    }

    /// The four hex digits after the `u` at `self.i`.
    fn hex4(&mut self) -> Option<u32> {
        let hex = std::str::from_utf8(self.s.get(self.i + 1..self.i + 5)?).ok()?;
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        self.i += 4;
        u32::from_str_radix(hex, 16).ok()
    }
}

/// A string as JSON writes it: quotes, backslashes and control characters escaped.
fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::canonical;

    #[test]
    fn one_spelling_for_equal_values() {
        let same = [
            (r#"{"b":1,"a":2}"#, r#"{ "a" : 2 , "b" : 1.0 }"#),
            (r#"[1.50, -0.5e1, 10]"#, r#"[15e-1,-5,1e1]"#),
            (r#""\u0041\/\n""#, "\"A/\\n\""),
            (r#""\ud83d\ude00""#, "\"\u{1F600}\""),
            (r#"{"a":1,"a":2}"#, r#"{"a":2}"#),
            ("[]", " [ ] "),
            ("{}", "{ }"),
        ];
        for (a, b) in same {
            assert_eq!(canonical(a), canonical(b), "{a} ≡ {b}");
            assert!(canonical(a).is_some(), "{a}");
        }
        assert_eq!(
            canonical(r#"{"z": [true, null, "x\ty"], "a": {"d": 0, "c": -1}}"#).as_deref(),
            Some(r#"{"a":{"c":-1,"d":0},"z":[true,null,"x\ty"]}"#)
        );
        assert_ne!(canonical("[1,2]"), canonical("[2,1]"));
        assert_ne!(canonical(r#""1""#), canonical("1"));
    }

    #[test]
    fn text_that_is_not_one_json_value_is_refused() {
        let deep = "[".repeat(200) + &"]".repeat(200);
        for bad in [
            "",
            "{",
            "[1,]",
            "{\"a\"}",
            "{a:1}",
            "01",
            "1.",
            ".5",
            "-",
            "1e",
            "tru",
            "\"a",
            "\"\u{1}\"",
            r#""\x""#,
            r#""\ud800""#,
            r#""\ud800\u0041""#,
            "1 2",
            "[1]]",
            "nul",
            "'a'",
            &deep,
        ] {
            assert_eq!(canonical(bad), None, "{bad:?}");
        }
    }

    /// Any JSON value, spelled two ways (whitespace, key order, number spelling, escapes),
    /// reads to one text; and that text is JSON for the same value (serde_json as the judge).
    #[cfg(feature = "serde")]
    mod property {
        use super::canonical;
        use proptest::prelude::*;
        use serde_json::Value;

        fn value() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::Bool),
                any::<i64>().prop_map(Value::from),
                (-1.0e6f64..1.0e6).prop_map(Value::from),
                "\\PC{0,8}|[\\x00-\\x1f\"\\\\/]{0,4}".prop_map(Value::String),
            ];
            leaf.prop_recursive(4, 32, 6, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                    prop::collection::btree_map("\\PC{0,5}", inner, 0..5)
                        .prop_map(|m| Value::Object(m.into_iter().collect())),
                ]
            })
        }

        /// `v` written by hand: `loose` spaces it, writes keys in reverse, numbers in
        /// another spelling and every non-ASCII character as a `\u` escape.
        fn spell(v: &Value, loose: bool, out: &mut String) {
            let gap = if loose { " \n\t" } else { "" };
            match v {
                Value::Array(items) => {
                    out.push('[');
                    for (i, item) in items.iter().enumerate() {
                        if i > 0 {
                            out.push_str(gap);
                            out.push(',');
                        }
                        out.push_str(gap);
                        spell(item, loose, out);
                    }
                    out.push_str(gap);
                    out.push(']');
                }
                Value::Object(map) => {
                    let mut keys: Vec<&String> = map.keys().collect();
                    if loose {
                        keys.reverse();
                    }
                    out.push('{');
                    for (i, k) in keys.into_iter().enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        out.push_str(gap);
                        spell(&Value::String(k.clone()), loose, out);
                        out.push_str(gap);
                        out.push(':');
                        spell(&map[k], loose, out);
                    }
                    out.push('}');
                }
                Value::Number(n) if loose => match n.as_i64() {
                    Some(i) => out.push_str(&format!("{i}.000e0")),
                    None => out.push_str(&format!("{:e}", n.as_f64().unwrap())),
                },
                Value::String(s) if loose => {
                    out.push('"');
                    for c in s.chars() {
                        let mut units = [0u16; 2];
                        for u in c.encode_utf16(&mut units) {
                            out.push_str(&format!("\\u{u:04X}"));
                        }
                    }
                    out.push('"');
                }
                other => out.push_str(&other.to_string()),
            }
        }

        /// Equal as values, numbers by what they are worth (to serde_json's reading, which
        /// is not always correctly rounded without its `float_roundtrip` feature: hence the
        /// last bit of slack).
        fn same(a: &Value, b: &Value) -> bool {
            match (a, b) {
                (Value::Number(x), Value::Number(y)) => {
                    let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
                    x == y || (x - y).abs() <= f64::EPSILON * x.abs().max(y.abs())
                }
                (Value::Array(x), Value::Array(y)) => {
                    x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
                }
                (Value::Object(x), Value::Object(y)) => {
                    x.len() == y.len()
                        && x.iter()
                            .zip(y)
                            .all(|((ka, a), (kb, b))| ka == kb && same(a, b))
                }
                _ => a == b,
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(300))]

            #[test]
            fn two_spellings_one_text(v in value()) {
                let (mut tight, mut loose) = (String::new(), String::new());
                spell(&v, false, &mut tight);
                spell(&v, true, &mut loose);
                let canon = canonical(&tight);
                prop_assert!(canon.is_some(), "{tight}");
                prop_assert_eq!(&canon, &canonical(&loose), "{} / {}", tight, loose);
                let back: Value = serde_json::from_str(canon.as_deref().unwrap()).unwrap();
                prop_assert!(same(&back, &v), "{tight} → {canon:?}");
            }

            #[test]
            fn different_values_different_texts(a in value(), b in value()) {
                prop_assume!(!same(&a, &b));
                prop_assert_ne!(canonical(&a.to_string()), canonical(&b.to_string()));
            }
        }
    }
}
