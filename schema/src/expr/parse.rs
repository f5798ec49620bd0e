//! A small Pratt parser for the SQL expressions models hold (checks, defaults): enough of
//! SQL's grammar to read back what PostgreSQL, MariaDB and SQLite print, with PostgreSQL's
//! operator precedence. What it cannot read is an error; the caller falls back to tokens.

mod primary;

use super::lex::{lex, Lexicon, Token};

/// A parsed expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// A number, as written.
    Num(String),
    /// A string literal's text.
    Str(String),
    /// `NULL`.
    Null,
    /// `TRUE` / `FALSE`.
    Bool(bool),
    /// An identifier, maybe qualified (`t.a`): each part with whether it was quoted.
    Ident(Vec<(String, bool)>),
    /// A keyword standing for a value (`CURRENT_TIMESTAMP`), lower case.
    Keyword(String),
    /// A function call, name lower case.
    Call {
        /// Function name.
        name: String,
        /// Arguments.
        args: Vec<Expr>,
        /// `f(DISTINCT …)`.
        distinct: bool,
    },
    /// A prefix operator: `not`, `-`, `+`, `~`.
    Unary(String, Box<Expr>),
    /// A binary operator, lower case (`=`, `+`, `||`, `like`, `not like`, `is distinct from`).
    Binary(String, Box<Expr>, Box<Expr>),
    /// `a AND b AND …`.
    And(Vec<Expr>),
    /// `a OR b OR …`.
    Or(Vec<Expr>),
    /// `x IS [NOT] NULL | TRUE | FALSE | UNKNOWN`.
    Is(Box<Expr>, String, bool),
    /// `x [NOT] IN (…)`.
    In(Box<Expr>, Vec<Expr>, bool),
    /// `x [NOT] BETWEEN a AND b`.
    Between(Box<Expr>, Box<Expr>, Box<Expr>, bool),
    /// `x op ANY|ALL (array)`.
    Quantified(String, String, Box<Expr>, Box<Expr>),
    /// `x::type`, `CAST(x AS type)`, `type 'literal'`: the type's text, lower case.
    Cast(Box<Expr>, String),
    /// `CASE [x] WHEN … THEN … [ELSE …] END`.
    Case(Option<Box<Expr>>, Vec<(Expr, Expr)>, Option<Box<Expr>>),
    /// `ARRAY[…]`.
    Array(Vec<Expr>),
    /// `(a, b, …)`.
    Row(Vec<Expr>),
    /// `x[i]`.
    Subscript(Box<Expr>, Box<Expr>),
    /// `x COLLATE name`.
    Collate(Box<Expr>, String),
}

/// How a dialect's grammar differs where it matters to reading expressions back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Grammar {
    /// Its spelling of literals and identifiers.
    pub lexicon: Lexicon,
    /// `||` and `&&` are OR and AND (MySQL without `PIPES_AS_CONCAT`).
    pub pipes_are_or: bool,
}

/// Why an expression could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParseError(pub String);

/// Reads an expression.
///
/// ```
/// use retort_schema::expr::parse::{parse, Expr, Grammar};
/// let e = parse("a > -1 AND b IS NULL", Grammar::default()).unwrap();
/// assert!(matches!(e, Expr::And(ref parts) if parts.len() == 2));
/// ```
pub fn parse(text: &str, grammar: Grammar) -> Result<Expr, ParseError> {
    let tokens: Vec<Token> = lex(text, grammar.lexicon)
        .into_iter()
        .map(|s| s.token)
        .collect();
    let mut p = Parser {
        tokens,
        at: 0,
        grammar,
    };
    let e = p.expr(0)?;
    match p.peek() {
        None => Ok(e),
        Some(t) => Err(ParseError(format!("unexpected {t:?}"))),
    }
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    grammar: Grammar,
}

/// Binding powers, lowest first (PostgreSQL's order).
const OR: u8 = 2;
const AND: u8 = 4;
const NOT: u8 = 6;
const IS: u8 = 8;
const COMPARE: u8 = 10;
const RANGE: u8 = 12; // BETWEEN, IN, LIKE, …
const OTHER: u8 = 14; // ||, ~, @>, …
const ADD: u8 = 16;
const MUL: u8 = 18;
const POW: u8 = 20;
const UNARY: u8 = 22;
const POSTFIX: u8 = 24; // ::, [ ], COLLATE

/// Words that never start a column name: they end an operand.
const RESERVED: &[&str] = &[
    "and", "or", "not", "is", "in", "like", "ilike", "between", "similar", "regexp", "rlike",
    "glob", "match", "then", "else", "end", "when", "as", "from", "for", "escape", "collate",
    "div", "mod", "xor", "isnull", "notnull",
];

/// Keywords that stand for a value.
const VALUE_KEYWORDS: &[&str] = &[
    "current_timestamp",
    "current_date",
    "current_time",
    "localtimestamp",
    "localtime",
    "current_user",
    "session_user",
    "current_role",
    "user",
];

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn peek_at(&self, n: usize) -> Option<&Token> {
        self.tokens.get(self.at + n)
    }

    fn word_at(&self, n: usize) -> Option<String> {
        match self.peek_at(n) {
            Some(Token::Word(w)) => Some(w.to_ascii_lowercase()),
            _ => None,
        }
    }

    fn is_word(&self, n: usize, w: &str) -> bool {
        self.word_at(n).as_deref() == Some(w)
    }

    fn is_punct(&self, n: usize, p: &str) -> bool {
        matches!(self.peek_at(n), Some(Token::Punct(x)) if x == p)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn expect_punct(&mut self, p: &str) -> Result<(), ParseError> {
        if self.is_punct(0, p) {
            self.at += 1;
            Ok(())
        } else {
            Err(ParseError(format!(
                "expected `{p}`, found {:?}",
                self.peek()
            )))
        }
    }

    fn expect_word(&mut self, w: &str) -> Result<(), ParseError> {
        if self.is_word(0, w) {
            self.at += 1;
            Ok(())
        } else {
            Err(ParseError(format!(
                "expected `{w}`, found {:?}",
                self.peek()
            )))
        }
    }

    fn expr(&mut self, min: u8) -> Result<Expr, ParseError> {
        let mut lhs = self.prefix()?;
        while let Some((power, step)) = self.infix() {
            if power < min {
                break;
            }
            lhs = self.apply(lhs, power, step)?;
        }
        Ok(lhs)
    }

    /// The next infix or postfix operator, without consuming it: its binding power and the
    /// number of tokens it spans.
    fn infix(&self) -> Option<(u8, Infix)> {
        let word = self.word_at(0);
        if let Some(w) = word.as_deref() {
            let negated = w == "not";
            let w2 = if negated {
                self.word_at(1)
            } else {
                Some(w.to_string())
            };
            let op = match w2.as_deref() {
                Some("and") if !negated => return Some((AND, Infix::And)),
                Some("or") if !negated => return Some((OR, Infix::Or)),
                Some("xor") if !negated => return Some((OR, Infix::Binary("xor".into(), 1))),
                Some("is") if !negated => return Some((IS, Infix::Is)),
                Some("isnull") if !negated => return Some((IS, Infix::IsNull(false))),
                Some("notnull") if !negated => return Some((IS, Infix::IsNull(true))),
                Some("between") => Infix::Between(negated),
                Some("in") => Infix::In(negated),
                Some(w @ ("like" | "ilike" | "regexp" | "rlike" | "glob" | "match")) => {
                    let w = if w == "rlike" { "regexp" } else { w };
                    Infix::Like(w.to_string(), negated)
                }
                Some("similar") => Infix::Like("similar to".into(), negated),
                Some("div") if !negated => return Some((MUL, Infix::Binary("div".into(), 1))),
                Some("mod") if !negated => return Some((MUL, Infix::Binary("%".into(), 1))),
                Some("collate") if !negated => return Some((POSTFIX, Infix::Collate)),
                _ => return None,
            };
            return Some((RANGE, op));
        }
        let Some(Token::Punct(p)) = self.peek() else {
            return None;
        };
        let bin = |op: &str| Infix::Binary(op.to_string(), 1);
        Some(match p.as_str() {
            "=" | "==" => (COMPARE, bin("=")),
            "<>" | "!=" => (COMPARE, bin("<>")),
            "<" | ">" | "<=" | ">=" => (COMPARE, bin(p)),
            "<=>" => (COMPARE, bin("is not distinct from")),
            "+" | "-" => (ADD, bin(p)),
            "*" | "/" | "%" => (MUL, bin(p)),
            "^" => (POW, bin(p)),
            "::" => (POSTFIX, Infix::Cast),
            "[" => (POSTFIX, Infix::Subscript),
            "||" if self.grammar.pipes_are_or => (OR, Infix::Or),
            "&&" if self.grammar.pipes_are_or => (AND, Infix::And),
            "~~" => (RANGE, Infix::LikeOp("like", false)),
            "!~~" => (RANGE, Infix::LikeOp("like", true)),
            "~~*" => (RANGE, Infix::LikeOp("ilike", false)),
            "!~~*" => (RANGE, Infix::LikeOp("ilike", true)),
            "||" | "&&" | "~" | "~*" | "!~" | "!~*" | "@>" | "<@" | "->" | "->>" | "#>" | "#>>"
            | "&" | "|" | "<<" | ">>" | "#" => (OTHER, bin(p)),
            _ => return None,
        })
    }

    fn apply(&mut self, lhs: Expr, power: u8, op: Infix) -> Result<Expr, ParseError> {
        let boxed = Box::new(lhs);
        Ok(match op {
            Infix::And => {
                self.at += 1;
                let rhs = self.expr(power + 1)?;
                and_or(true, *boxed, rhs)
            }
            Infix::Or => {
                self.at += 1;
                let rhs = self.expr(power + 1)?;
                and_or(false, *boxed, rhs)
            }
            Infix::Binary(name, width) => self.binary(boxed, name, width, power)?,
            Infix::Is => self.is(boxed)?,
            Infix::IsNull(negated) => {
                self.at += 1;
                Expr::Is(boxed, "null".into(), negated)
            }
            Infix::Between(negated) => {
                self.at += if negated { 2 } else { 1 };
                if self.is_word(0, "symmetric") {
                    return Err(ParseError("BETWEEN SYMMETRIC".into()));
                }
                let low = self.expr(RANGE + 1)?;
                self.expect_word("and")?;
                let high = self.expr(RANGE + 1)?;
                Expr::Between(boxed, Box::new(low), Box::new(high), negated)
            }
            Infix::In(negated) => {
                self.at += if negated { 2 } else { 1 };
                self.expect_punct("(")?;
                let list = self.list(")")?;
                Expr::In(boxed, list, negated)
            }
            Infix::Like(name, negated) => self.like(boxed, name, negated)?,
            Infix::LikeOp(name, negated) => {
                self.at += 1;
                let rhs = self.expr(RANGE + 1)?;
                let op = if negated {
                    format!("not {name}")
                } else {
                    name.to_string()
                };
                Expr::Binary(op, boxed, Box::new(rhs))
            }
            Infix::Cast => {
                self.at += 1;
                let ty = self.type_name()?;
                Expr::Cast(boxed, ty)
            }
            Infix::Subscript => {
                self.at += 1;
                let index = self.expr(0)?;
                self.expect_punct("]")?;
                Expr::Subscript(boxed, Box::new(index))
            }
            Infix::Collate => {
                self.at += 1;
                let name = match self.next() {
                    Some(Token::Word(w)) => w.to_ascii_lowercase(),
                    Some(Token::QuotedIdent(q)) => q,
                    other => return Err(ParseError(format!("COLLATE {other:?}"))),
                };
                Expr::Collate(boxed, name)
            }
        })
    }

    /// A binary operator's right side; after a comparison, `ANY (…)` / `ALL (…)`.
    fn binary(
        &mut self,
        lhs: Box<Expr>,
        name: String,
        width: usize,
        power: u8,
    ) -> Result<Expr, ParseError> {
        self.at += width;
        // `x = ANY (…)`, `x <> ALL (…)`.
        let quantifier = self
            .word_at(0)
            .filter(|w| matches!(w.as_str(), "any" | "all" | "some") && self.is_punct(1, "("));
        if let (Some(q), COMPARE) = (quantifier, power) {
            self.at += 2;
            let inner = self.expr(0)?;
            self.expect_punct(")")?;
            let q = if q == "some" { "any".to_string() } else { q };
            return Ok(Expr::Quantified(name, q, lhs, Box::new(inner)));
        }
        let rhs = self.expr(power + 1)?;
        Ok(Expr::Binary(name, lhs, Box::new(rhs)))
    }

    /// `IS [NOT] NULL | TRUE | FALSE | UNKNOWN | DISTINCT FROM …`.
    fn is(&mut self, lhs: Box<Expr>) -> Result<Expr, ParseError> {
        self.at += 1;
        let negated = self.is_word(0, "not");
        if negated {
            self.at += 1;
        }
        let what = self.word_at(0).unwrap_or_default();
        match what.as_str() {
            "null" | "true" | "false" | "unknown" => {
                self.at += 1;
                Ok(Expr::Is(lhs, what, negated))
            }
            "distinct" => {
                self.at += 1;
                self.expect_word("from")?;
                let rhs = self.expr(IS + 1)?;
                let op = if negated {
                    "is not distinct from"
                } else {
                    "is distinct from"
                };
                Ok(Expr::Binary(op.into(), lhs, Box::new(rhs)))
            }
            _ => Err(ParseError(format!("IS {what}?"))),
        }
    }

    /// `[NOT] LIKE | ILIKE | SIMILAR TO … [ESCAPE …]`.
    fn like(&mut self, lhs: Box<Expr>, name: String, negated: bool) -> Result<Expr, ParseError> {
        self.at += if negated { 2 } else { 1 };
        if name == "similar to" {
            self.expect_word("to")?;
        }
        let rhs = self.expr(RANGE + 1)?;
        let rhs = if self.is_word(0, "escape") {
            self.at += 1;
            let esc = self.expr(RANGE + 1)?;
            Expr::Call {
                name: "escape".into(),
                args: vec![rhs, esc],
                distinct: false,
            }
        } else {
            rhs
        };
        let op = if negated { format!("not {name}") } else { name };
        Ok(Expr::Binary(op, lhs, Box::new(rhs)))
    }

    /// Comma-separated expressions up to `close` (consumed).
    fn list(&mut self, close: &str) -> Result<Vec<Expr>, ParseError> {
        let mut items = Vec::new();
        if self.is_punct(0, close) {
            self.at += 1;
            return Ok(items);
        }
        loop {
            items.push(self.expr(0)?);
            if self.is_punct(0, ",") {
                self.at += 1;
                continue;
            }
            self.expect_punct(close)?;
            return Ok(items);
        }
    }
}

/// An infix or postfix operator the parser met.
enum Infix {
    And,
    Or,
    /// An operator and how many tokens it spans.
    Binary(String, usize),
    Is,
    IsNull(bool),
    Between(bool),
    In(bool),
    Like(String, bool),
    LikeOp(&'static str, bool),
    Cast,
    Subscript,
    Collate,
}

/// `a AND b` (or OR), flattening nested ones of the same kind.
fn and_or(and: bool, lhs: Expr, rhs: Expr) -> Expr {
    let mut parts = Vec::new();
    for e in [lhs, rhs] {
        match (and, e) {
            (true, Expr::And(inner)) | (false, Expr::Or(inner)) => parts.extend(inner),
            (_, e) => parts.push(e),
        }
    }
    if and {
        Expr::And(parts)
    } else {
        Expr::Or(parts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Expr {
        parse(text, Grammar::default()).unwrap_or_else(|e| panic!("{text}: {e:?}"))
    }

    #[test]
    fn precedence_follows_postgres() {
        assert_eq!(
            p("a = 1 OR b = 2 AND c = 3"),
            p("a = 1 OR (b = 2 AND c = 3)")
        );
        assert_eq!(p("NOT a = 1 AND b"), p("(NOT (a = 1)) AND b"));
        assert_eq!(p("1 + 2 * 3"), p("1 + (2 * 3)"));
        assert_eq!(p("a BETWEEN 1 AND 2 AND b"), p("(a BETWEEN 1 AND 2) AND b"));
        assert_eq!(p("((a > 0))"), p("a > 0"));
    }

    #[test]
    fn reads_what_the_catalogs_print() {
        for text in [
            "((n)::text = ANY ((ARRAY['a'::character varying, 'b'::character varying])::text[]))",
            "(((m >= '-1.5'::numeric) AND (m <= (10)::numeric)))",
            "((length((n)::text) > 0) AND (((n)::text <> 'x'::text) OR (n IS NULL)))",
            "(COALESCE(v, 'z'::text) <> 'y'::text)",
            "((v)::integer > 0)",
            "(v ~~* 'x%'::text)",
            "'2026-01-01 00:00:00'::timestamp without time zone",
            "`a` between -1.5 and 10",
            "case when `a` > 0 then `b` else 1 end > 0",
            "`a` MOD 2 = 0 and `a` DIV 2 > -3",
            "cast(`v` as signed) < 5",
            "x IS NOT DISTINCT FROM y",
            "lower('ABC'::text)",
        ] {
            let g = if text.contains('`') {
                Grammar {
                    lexicon: Lexicon::MYSQL,
                    pipes_are_or: true,
                }
            } else {
                Grammar::default()
            };
            parse(text, g).unwrap_or_else(|e| panic!("{text}: {e:?}"));
        }
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        assert!(parse("a >", Grammar::default()).is_err());
        assert!(parse("a b", Grammar::default()).is_err());
        assert!(parse("EXISTS (SELECT 1)", Grammar::default()).is_err());
    }
}
