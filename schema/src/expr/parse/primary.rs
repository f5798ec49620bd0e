//! The operands of an expression: literals, names, calls, `CASE`, `CAST`, arrays, typed
//! literals, and the type names of casts.

use super::{Expr, ParseError, Parser, NOT, RESERVED, UNARY, VALUE_KEYWORDS};
use crate::expr::lex::Token;

impl Parser {
    pub(super) fn prefix(&mut self) -> Result<Expr, ParseError> {
        let Some(token) = self.next() else {
            return Err(ParseError("unexpected end".into()));
        };
        match token {
            Token::Number(n) => Ok(Expr::Num(n)),
            Token::Str(s) => Ok(Expr::Str(s)),
            Token::QuotedIdent(q) => self.identifier(q, true),
            Token::Punct(p) => match p.as_str() {
                "(" => {
                    let items = self.list(")")?;
                    match items.len() {
                        1 => Ok(items.into_iter().next().unwrap_or(Expr::Null)),
                        _ => Ok(Expr::Row(items)),
                    }
                }
                "-" | "+" | "~" => {
                    let e = self.expr(UNARY)?;
                    Ok(Expr::Unary(p, Box::new(e)))
                }
                "!" => {
                    let e = self.expr(UNARY)?;
                    Ok(Expr::Unary("not".into(), Box::new(e)))
                }
                _ => Err(ParseError(format!("unexpected `{p}`"))),
            },
            Token::Word(w) => self.word(w),
        }
    }

    fn word(&mut self, w: String) -> Result<Expr, ParseError> {
        let lower = w.to_ascii_lowercase();
        match lower.as_str() {
            "null" => return Ok(Expr::Null),
            "true" => return Ok(Expr::Bool(true)),
            "false" => return Ok(Expr::Bool(false)),
            "not" => {
                let e = self.expr(NOT + 1)?;
                return Ok(Expr::Unary("not".into(), Box::new(e)));
            }
            "case" => return self.case(),
            "cast" if self.is_punct(0, "(") => {
                self.at += 1;
                let e = self.expr(0)?;
                self.expect_word("as")?;
                let ty = self.tokens_until_close()?;
                return Ok(Expr::Cast(Box::new(e), ty));
            }
            "array" if self.is_punct(0, "[") => {
                self.at += 1;
                let items = self.list("]")?;
                return Ok(Expr::Array(items));
            }
            "exists" => return Err(ParseError("EXISTS".into())),
            // A typed literal: DATE '2020-01-01'.
            "date" | "time" | "timestamp" | "interval" | "timestamptz"
                if matches!(self.peek(), Some(Token::Str(_))) =>
            {
                let Some(Token::Str(s)) = self.next() else {
                    unreachable!("peeked a string")
                };
                return Ok(Expr::Cast(Box::new(Expr::Str(s)), lower));
            }
            _ => {}
        }
        if self.is_punct(0, "(") {
            self.at += 1;
            return self.call(lower);
        }
        if VALUE_KEYWORDS.contains(&lower.as_str()) {
            return Ok(Expr::Keyword(lower));
        }
        if RESERVED.contains(&lower.as_str()) {
            return Err(ParseError(format!("unexpected `{w}`")));
        }
        self.identifier(w, false)
    }

    /// An identifier and its qualifiers (`s.t.c`).
    fn identifier(&mut self, first: String, quoted: bool) -> Result<Expr, ParseError> {
        let mut parts = vec![(first, quoted)];
        while self.is_punct(0, ".") {
            self.at += 1;
            match self.next() {
                Some(Token::Word(w)) => parts.push((w, false)),
                Some(Token::QuotedIdent(q)) => parts.push((q, true)),
                other => return Err(ParseError(format!("after `.`: {other:?}"))),
            }
        }
        if parts.len() == 1 && quoted && self.is_punct(0, "(") {
            self.at += 1;
            let name = parts.remove(0).0;
            return self.call(name);
        }
        Ok(Expr::Ident(parts))
    }

    fn call(&mut self, name: String) -> Result<Expr, ParseError> {
        let distinct = self.is_word(0, "distinct");
        if distinct {
            self.at += 1;
        }
        if self.is_punct(0, "*") && self.is_punct(1, ")") {
            self.at += 2;
            return Ok(Expr::Call {
                name,
                args: vec![Expr::Keyword("*".into())],
                distinct,
            });
        }
        let args = self.list(")")?;
        Ok(Expr::Call {
            name,
            args,
            distinct,
        })
    }

    fn case(&mut self) -> Result<Expr, ParseError> {
        let operand = if self.is_word(0, "when") {
            None
        } else {
            Some(Box::new(self.expr(0)?))
        };
        let mut whens = Vec::new();
        while self.is_word(0, "when") {
            self.at += 1;
            let cond = self.expr(0)?;
            self.expect_word("then")?;
            let value = self.expr(0)?;
            whens.push((cond, value));
        }
        let otherwise = if self.is_word(0, "else") {
            self.at += 1;
            Some(Box::new(self.expr(0)?))
        } else {
            None
        };
        self.expect_word("end")?;
        Ok(Expr::Case(operand, whens, otherwise))
    }

    /// A type name after `::`: words (`double precision`, `character varying`,
    /// `timestamp with time zone`), a qualifier, arguments and `[]`s, lower case.
    pub(super) fn type_name(&mut self) -> Result<String, ParseError> {
        let mut out = match self.next() {
            Some(Token::Word(w)) => w.to_ascii_lowercase(),
            Some(Token::QuotedIdent(q)) => format!("\"{q}\""),
            other => return Err(ParseError(format!("type name {other:?}"))),
        };
        while self.is_punct(0, ".") {
            self.at += 1;
            match self.next() {
                Some(Token::Word(w)) => out = format!("{out}.{}", w.to_ascii_lowercase()),
                Some(Token::QuotedIdent(q)) => out = format!("{out}.\"{q}\""),
                other => return Err(ParseError(format!("type name {other:?}"))),
            }
        }
        loop {
            let w = self.word_at(0);
            let follows = match (out.rsplit(' ').next().unwrap_or(""), w.as_deref()) {
                ("double", Some("precision")) => true,
                ("character" | "char" | "bit" | "national", Some("varying")) => true,
                (_, Some("with" | "without"))
                    if self.is_word(1, "time") && self.is_word(2, "zone") =>
                {
                    out.push_str(&format!(" {} time zone", w.unwrap_or_default()));
                    self.at += 3;
                    continue;
                }
                _ => false,
            };
            if follows {
                out.push(' ');
                out.push_str(&w.unwrap_or_default());
                self.at += 1;
                continue;
            }
            if self.is_punct(0, "(") {
                self.at += 1;
                out.push('(');
                out.push_str(&self.tokens_until_close()?);
                out.push(')');
                continue;
            }
            if self.is_punct(0, "[") && self.is_punct(1, "]") {
                self.at += 2;
                out.push_str("[]");
                continue;
            }
            return Ok(out);
        }
    }

    /// The tokens up to the parenthesis that closes the one just read (consumed), as
    /// lower-case text joined by single spaces (commas tight).
    fn tokens_until_close(&mut self) -> Result<String, ParseError> {
        let mut depth = 0usize;
        let mut parts: Vec<String> = Vec::new();
        loop {
            let Some(t) = self.next() else {
                return Err(ParseError("unclosed `(`".into()));
            };
            let text = match t {
                Token::Punct(p) if p == ")" && depth == 0 => {
                    return Ok(parts
                        .join(" ")
                        .replace(" ,", ",")
                        .replace(" ( ", "(")
                        .replace(" )", ")"));
                }
                Token::Punct(p) => {
                    if p == "(" {
                        depth += 1;
                    } else if p == ")" {
                        depth -= 1;
                    }
                    p
                }
                Token::Word(w) => w.to_ascii_lowercase(),
                Token::Number(n) => n,
                Token::QuotedIdent(q) => format!("\"{q}\""),
                Token::Str(s) => format!("'{}'", s.replace('\'', "''")),
            };
            parts.push(text);
        }
    }
}
