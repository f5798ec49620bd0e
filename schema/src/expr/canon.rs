//! The canonical form of an expression: one text for every spelling that means the same to
//! a database, so `check` can compare what the models say with what a catalog prints back.
//!
//! Everywhere: parentheses, whitespace, comments and keyword case go; numbers compare by
//! value (`1.50` ≡ `1.5`, `-1.5e3` ≡ `-1500`); `BETWEEN` is its two comparisons; a one-item
//! `IN` is `=`; `x = ANY (ARRAY[…])` is `IN`; `NOT` is pushed into what it negates (`NOT a
//! = 1` ≡ `a <> 1`, De Morgan, and `NOT x` ≡ `x = 0`, as MariaDB prints it); `TRUE`/`FALSE`
//! are `1`/`0`. A dialect adds its own [`Rules`]: casts the catalog adds or drops, names of
//! the same function (`now()` ≡ `CURRENT_TIMESTAMP`), how identifiers compare.

use super::lex::{lex, Lexicon, Token};
use super::parse::{parse, Expr, Grammar};
use crate::model::ColumnType;

/// What a dialect treats as the same.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    /// How it reads expressions.
    pub grammar: Grammar,
    /// Casts do not count (the catalog adds them to literals and columns: `'a'::text`,
    /// `(n)::text`); a string cast to a number type is that number (`'-1'::integer` ≡ `-1`).
    pub strip_casts: bool,
    /// Quoted identifiers keep their case (PostgreSQL); otherwise every name compares
    /// without case (unquoted ones always do).
    pub quoted_case_sensitive: bool,
    /// Function and value-keyword names that mean the same: (name, canonical name). A name
    /// that maps to a value keyword (`current_timestamp`) drops its arguments (precision).
    pub synonyms: &'static [(&'static str, &'static str)],
}

impl Rules {
    /// Dialect-neutral: only what means the same in every database (no cast stripping, no
    /// synonyms). What the diff uses to tell a real edit from a respelling.
    pub const NEUTRAL: Rules = Rules {
        grammar: Grammar {
            lexicon: Lexicon::STANDARD,
            pipes_are_or: false,
        },
        strip_casts: false,
        quoted_case_sensitive: true,
        synonyms: &[],
    };
}

/// Value keywords (what a synonym can map to, dropping arguments).
const VALUE_KEYWORDS: &[&str] = &[
    "current_timestamp",
    "current_date",
    "current_time",
    "localtimestamp",
    "localtime",
];

/// Types a string cast to becomes a number.
const NUMBER_TYPES: &[&str] = &[
    "smallint",
    "integer",
    "int",
    "bigint",
    "int2",
    "int4",
    "int8",
    "real",
    "float4",
    "float8",
    "double precision",
    "double",
    "float",
    "numeric",
    "decimal",
    "signed",
    "unsigned",
    "signed integer",
    "unsigned integer",
];

/// The canonical form of an expression under a dialect's rules.
///
/// ```
/// use retort_schema::expr::canon::{canonical, Rules};
/// let r = Rules::NEUTRAL;
/// assert_eq!(canonical("(a BETWEEN -1.5 AND 10)", &r), canonical("a >= -1.50 and a <= 1e1", &r));
/// assert_eq!(canonical("NOT (a = 1 AND b IS NULL)", &r), canonical("a <> 1 OR b IS NOT NULL", &r));
/// assert_ne!(canonical("a > 0", &r), canonical("a >= 0", &r));
/// ```
pub fn canonical(text: &str, rules: &Rules) -> String {
    match parse(text, rules.grammar) {
        Ok(e) => print(&Canon { rules }.expr(e)),
        Err(_) => fallback(text, rules),
    }
}

/// The canonical form of a column default: [`canonical`], then a literal in the form its
/// column type gives it (a number for a number column, `1`/`0` for a boolean, dates and
/// times with their parts padded and zero fractions dropped, an instant's offset `+00:00`
/// when none is written, a UUID in lower case, JSON with sorted keys).
///
/// ```
/// use retort_schema::{expr::canon::{canonical_default, Rules}, ColumnType};
/// let r = Rules::NEUTRAL;
/// assert_eq!(canonical_default(&ColumnType::Integer, "'-1'", &r), canonical_default(&ColumnType::Integer, "-1", &r));
/// assert_eq!(canonical_default(&ColumnType::Boolean, "false", &r), canonical_default(&ColumnType::Boolean, "0", &r));
/// assert_eq!(canonical_default(&ColumnType::Json, "'{\"b\":1,\"a\":2}'", &r),
///            canonical_default(&ColumnType::Json, "'{\"a\": 2, \"b\": 1}'", &r));
/// assert_ne!(canonical_default(&ColumnType::Text, "'0'", &r), canonical_default(&ColumnType::Text, "0", &r));
/// ```
pub fn canonical_default(ty: &ColumnType, text: &str, rules: &Rules) -> String {
    let Ok(e) = parse(text, rules.grammar) else {
        return fallback(text, rules);
    };
    let e = Canon { rules }.expr(e);
    print(&super::literal::literal_for(ty, e))
}

struct Canon<'r> {
    rules: &'r Rules,
}

impl Canon<'_> {
    fn expr(&self, e: Expr) -> Expr {
        match e {
            Expr::Num(n) => Expr::Num(decimal(&n)),
            Expr::Bool(b) => Expr::Num(if b { "1" } else { "0" }.into()),
            Expr::Str(_) | Expr::Null => e,
            Expr::Ident(parts) => Expr::Ident(
                parts
                    .into_iter()
                    .map(|(name, quoted)| (self.name(name, quoted), false))
                    .collect(),
            ),
            Expr::Keyword(k) => Expr::Keyword(self.synonym(&k)),
            Expr::Call {
                name,
                args,
                distinct,
            } => {
                let name = self.synonym(&name.to_lowercase());
                if VALUE_KEYWORDS.contains(&name.as_str()) {
                    return Expr::Keyword(name);
                }
                Expr::Call {
                    name,
                    args: self.all(args),
                    distinct,
                }
            }
            Expr::Unary(op, inner) => {
                let inner = self.expr(*inner);
                match op.as_str() {
                    "+" => inner,
                    "-" => match inner {
                        Expr::Num(n) => Expr::Num(negate(&n)),
                        Expr::Unary(op, x) if op == "-" => *x,
                        other => Expr::Unary(op, Box::new(other)),
                    },
                    "not" => not(inner),
                    _ => Expr::Unary(op, Box::new(inner)),
                }
            }
            Expr::Binary(op, l, r) => Expr::Binary(op, self.boxed(*l), self.boxed(*r)),
            Expr::And(parts) => flatten(true, self.all(parts)),
            Expr::Or(parts) => flatten(false, self.all(parts)),
            Expr::Is(x, what, negated) => Expr::Is(self.boxed(*x), what, negated),
            Expr::In(x, list, negated) => in_list(self.expr(*x), self.all(list), negated),
            Expr::Quantified(op, q, x, array) => {
                let x = self.expr(*x);
                match (op.as_str(), q.as_str(), self.expr(*array)) {
                    ("=", "any", Expr::Array(items)) => in_list(x, items, false),
                    ("<>", "all", Expr::Array(items)) => in_list(x, items, true),
                    (_, _, array) => Expr::Quantified(op, q, Box::new(x), Box::new(array)),
                }
            }
            Expr::Between(x, low, high, negated) => {
                let x = self.expr(*x);
                let (low, high) = (self.expr(*low), self.expr(*high));
                let (a, b) = if negated { ("<", ">") } else { (">=", "<=") };
                let parts = vec![
                    Expr::Binary(a.into(), Box::new(x.clone()), Box::new(low)),
                    Expr::Binary(b.into(), Box::new(x), Box::new(high)),
                ];
                flatten(!negated, parts)
            }
            Expr::Cast(x, ty) => {
                let x = self.expr(*x);
                if !self.rules.strip_casts {
                    return Expr::Cast(Box::new(x), ty);
                }
                match x {
                    Expr::Str(s) if NUMBER_TYPES.contains(&base_type(&ty)) => {
                        number_literal(&s).unwrap_or(Expr::Str(s))
                    }
                    other => other,
                }
            }
            Expr::Case(operand, whens, otherwise) => Expr::Case(
                operand.map(|o| self.boxed(*o)),
                whens
                    .into_iter()
                    .map(|(c, v)| (self.expr(c), self.expr(v)))
                    .collect(),
                otherwise.map(|o| self.boxed(*o)),
            ),
            Expr::Array(items) => Expr::Array(self.all(items)),
            Expr::Row(items) => Expr::Row(self.all(items)),
            Expr::Subscript(x, i) => Expr::Subscript(self.boxed(*x), self.boxed(*i)),
            Expr::Collate(x, c) => Expr::Collate(self.boxed(*x), c.to_lowercase()),
        }
    }

    fn boxed(&self, e: Expr) -> Box<Expr> {
        Box::new(self.expr(e))
    }

    fn all(&self, items: Vec<Expr>) -> Vec<Expr> {
        items.into_iter().map(|e| self.expr(e)).collect()
    }

    fn name(&self, name: String, quoted: bool) -> String {
        if quoted && self.rules.quoted_case_sensitive {
            name
        } else {
            name.to_lowercase()
        }
    }

    fn synonym(&self, name: &str) -> String {
        self.rules
            .synonyms
            .iter()
            .find(|(from, _)| *from == name)
            .map_or(name, |(_, to)| *to)
            .to_string()
    }
}

/// `NOT e`, pushed into `e` (already canonical): comparisons flip, De Morgan, `NOT x` for
/// a plain value is `x = 0`.
fn not(e: Expr) -> Expr {
    match e {
        Expr::Binary(op, l, r) => match flipped(&op) {
            Some(f) => Expr::Binary(f, l, r),
            None => Expr::Binary("=".into(), Box::new(Expr::Binary(op, l, r)), zero()),
        },
        Expr::And(parts) => flatten(false, parts.into_iter().map(not).collect()),
        Expr::Or(parts) => flatten(true, parts.into_iter().map(not).collect()),
        Expr::Is(x, what, negated) => Expr::Is(x, what, !negated),
        Expr::In(x, list, negated) => Expr::In(x, list, !negated),
        Expr::Num(n) if n == "0" => Expr::Num("1".into()),
        Expr::Num(n) if n == "1" => zero_value(),
        other => Expr::Binary("=".into(), Box::new(other), zero()),
    }
}

fn zero_value() -> Expr {
    Expr::Num("0".into())
}

fn zero() -> Box<Expr> {
    Box::new(zero_value())
}

/// The operator that negates `op`, where there is one.
fn flipped(op: &str) -> Option<String> {
    let pairs = [
        ("=", "<>"),
        ("<", ">="),
        (">", "<="),
        ("is distinct from", "is not distinct from"),
        ("like", "not like"),
        ("ilike", "not ilike"),
        ("similar to", "not similar to"),
        ("regexp", "not regexp"),
        ("glob", "not glob"),
        ("match", "not match"),
        ("~", "!~"),
        ("~*", "!~*"),
    ];
    pairs.iter().find_map(|(a, b)| {
        if op == *a {
            Some(b.to_string())
        } else if op == *b {
            Some(a.to_string())
        } else {
            None
        }
    })
}

/// `x IN (…)`, or `=` / `<>` for one item.
fn in_list(x: Expr, mut items: Vec<Expr>, negated: bool) -> Expr {
    if items.len() == 1 {
        let op = if negated { "<>" } else { "=" };
        return Expr::Binary(op.into(), Box::new(x), Box::new(items.remove(0)));
    }
    Expr::In(Box::new(x), items, negated)
}

/// `a AND b AND …` (or OR) without nesting; a bare column as an operand is `column <> 0`,
/// its truth (how MariaDB prints it).
fn flatten(and: bool, parts: Vec<Expr>) -> Expr {
    let mut out = Vec::with_capacity(parts.len());
    for p in parts {
        match (and, p) {
            (true, Expr::And(inner)) | (false, Expr::Or(inner)) => out.extend(inner),
            (_, p @ Expr::Ident(_)) => out.push(Expr::Binary("<>".into(), Box::new(p), zero())),
            (_, p) => out.push(p),
        }
    }
    if out.len() == 1 {
        return out.remove(0);
    }
    if and {
        Expr::And(out)
    } else {
        Expr::Or(out)
    }
}

/// The first word of a type name (`numeric(10,2)` → `numeric`), for the number test.
fn base_type(ty: &str) -> &str {
    let head = ty.split('(').next().unwrap_or(ty).trim();
    head.strip_prefix("pg_catalog.").unwrap_or(head)
}

/// A number literal from text (`-1.5`, ` 2 `), if it is one.
pub(super) fn number_literal(s: &str) -> Option<Expr> {
    let t = s.trim();
    let (negative, body) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let n = decimal_parts(body)?;
    let text = render_decimal(n);
    Some(Expr::Num(if negative { negate(&text) } else { text }))
}

/// `digits[.digits][e[+-]digits]` as (significant digits, power of ten).
fn decimal_parts(body: &str) -> Option<(String, i64)> {
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], body[i + 1..].parse::<i64>().ok()?),
        None => (body, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if (int.is_empty() && frac.is_empty())
        || !int.chars().chain(frac.chars()).all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let digits = format!("{int}{frac}");
    let mut exp = exponent - frac.len() as i64;
    let digits = digits.trim_start_matches('0');
    let trimmed = digits.trim_end_matches('0');
    exp += (digits.len() - trimmed.len()) as i64;
    Some((trimmed.to_string(), exp))
}

fn render_decimal((digits, exp): (String, i64)) -> String {
    if digits.is_empty() {
        "0".into()
    } else if exp == 0 {
        digits
    } else {
        format!("{digits}e{exp}")
    }
}

/// A number's canonical text: significant digits and a power of ten (`1.50` → `15e-1`).
/// Anything else (hex, …) as written, lower case.
pub(super) fn decimal(n: &str) -> String {
    match decimal_parts(n) {
        Some(parts) => render_decimal(parts),
        None => n.to_ascii_lowercase(),
    }
}

fn negate(n: &str) -> String {
    match n.strip_prefix('-') {
        Some(positive) => positive.to_string(),
        None if n == "0" => n.to_string(),
        None => format!("-{n}"),
    }
}

/// When an expression cannot be parsed: its tokens, words in lower case.
fn fallback(text: &str, rules: &Rules) -> String {
    let parts: Vec<String> = lex(text, rules.grammar.lexicon)
        .into_iter()
        .map(|s| match s.token {
            Token::Word(w) => w.to_lowercase(),
            Token::QuotedIdent(q) if rules.quoted_case_sensitive => format!("\"{q}\""),
            Token::QuotedIdent(q) => format!("\"{}\"", q.to_lowercase()),
            Token::Str(s) => format!("'{}'", s.replace('\'', "''")),
            Token::Number(n) => decimal(&n),
            Token::Punct(p) => p,
        })
        .collect();
    format!("(raw {})", parts.join(" "))
}

/// The canonical text of a canonical expression: a fully parenthesised prefix form.
fn print(e: &Expr) -> String {
    let list = |items: &[Expr]| items.iter().map(print).collect::<Vec<_>>().join(" ");
    match e {
        Expr::Num(n) => n.clone(),
        Expr::Str(s) => format!("'{}'", s.replace('\'', "''")),
        Expr::Null => "null".into(),
        Expr::Bool(b) => (if *b { "1" } else { "0" }).into(),
        Expr::Ident(parts) => parts
            .iter()
            .map(|(p, _)| format!("\"{}\"", p.replace('"', "\"\"")))
            .collect::<Vec<_>>()
            .join("."),
        Expr::Keyword(k) => k.clone(),
        Expr::Call {
            name,
            args,
            distinct,
        } => format!(
            "{name}({}{})",
            if *distinct { "distinct " } else { "" },
            list(args)
        ),
        Expr::Unary(op, x) => format!("({op} {})", print(x)),
        Expr::Binary(op, l, r) => format!("({op} {} {})", print(l), print(r)),
        Expr::And(parts) => format!("(and {})", list(parts)),
        Expr::Or(parts) => format!("(or {})", list(parts)),
        Expr::Is(x, what, negated) => format!(
            "(is{} {what} {})",
            if *negated { " not" } else { "" },
            print(x)
        ),
        Expr::In(x, items, negated) => format!(
            "({}in {} [{}])",
            if *negated { "not " } else { "" },
            print(x),
            list(items)
        ),
        Expr::Between(x, a, b, negated) => format!(
            "({}between {} {} {})",
            if *negated { "not " } else { "" },
            print(x),
            print(a),
            print(b)
        ),
        Expr::Quantified(op, q, x, a) => format!("({op} {q} {} {})", print(x), print(a)),
        Expr::Cast(x, ty) => format!("(cast {} {ty})", print(x)),
        Expr::Case(operand, whens, otherwise) => {
            let mut s = String::from("(case");
            if let Some(o) = operand {
                s.push_str(&format!(" {}", print(o)));
            }
            for (c, v) in whens {
                s.push_str(&format!(" (when {} {})", print(c), print(v)));
            }
            if let Some(o) = otherwise {
                s.push_str(&format!(" (else {})", print(o)));
            }
            s.push(')');
            s
        }
        Expr::Array(items) => format!("[{}]", list(items)),
        Expr::Row(items) => format!("(row {})", list(items)),
        Expr::Subscript(x, i) => format!("(sub {} {})", print(x), print(i)),
        Expr::Collate(x, c) => format!("(collate {} {c})", print(x)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(a: &str, b: &str, rules: &Rules) -> bool {
        canonical(a, rules) == canonical(b, rules)
    }

    #[test]
    fn respellings_are_the_same_and_edits_are_not() {
        let r = Rules::NEUTRAL;
        assert!(same(
            "( amount ) >= 0 AND amount < 100",
            "amount>=0 and amount<100",
            &r
        ));
        assert!(same("x IN ('a')", "x = 'a'", &r));
        assert!(same("NOT (x IN ('a', 'b'))", "x NOT IN ('a','b')", &r));
        assert!(same("NOT NOT o", "o <> 0", &r));
        assert!(same("NOT o", "o = FALSE", &r));
        assert!(same("a AND NOT (b OR c)", "a <> 0 and b = 0 and c = 0", &r));
        assert!(same("a > -(-2)", "a > 2", &r));
        assert!(!same("a > 1", "a > -1", &r));
        assert!(!same("x = 'A'", "x = 'a'", &r));
        assert!(!same("a + b * c", "(a + b) * c", &r));
        assert!(!same("\"A\" > 0", "a > 0", &r));
        // Casts count in the neutral rules.
        assert!(!same("x::int > 0", "x > 0", &r));
    }

    #[test]
    fn numbers_compare_by_value() {
        assert_eq!(decimal("1.50"), "15e-1");
        assert_eq!(decimal("0.0"), "0");
        assert_eq!(decimal("1500"), "15e2");
        assert_eq!(decimal("1.5e3"), "15e2");
        assert_eq!(decimal("007"), "7");
    }
}
