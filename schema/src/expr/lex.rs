//! Splitting an SQL expression into tokens, in the spelling rules of one dialect.

/// One token of an SQL expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// An unquoted word (keyword, identifier or function name), as written.
    Word(String),
    /// A quoted identifier (`"name"`, `` `name` `` or `[name]`), unquoted.
    QuotedIdent(String),
    /// A string literal, unquoted (`''` read as `'`, and on MySQL `\'` too).
    Str(String),
    /// A number, as written (`1`, `1.5`, `.5`, `1e-3`).
    Number(String),
    /// An operator or punctuation (`>=`, `(`, `,`, `::`).
    Punct(String),
}

/// How a dialect spells literals and identifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Lexicon {
    /// A backslash escapes the next character inside a string (MySQL's default mode).
    pub backslash_escapes: bool,
    /// `"…"` is a string, not an identifier (MySQL without `ANSI_QUOTES`).
    pub double_quotes_are_strings: bool,
}

impl Lexicon {
    /// Standard SQL: `''` inside strings, `"…"` identifiers (SQLite, PostgreSQL).
    pub const STANDARD: Lexicon = Lexicon {
        backslash_escapes: false,
        double_quotes_are_strings: false,
    };
    /// MySQL / MariaDB in their default mode.
    pub const MYSQL: Lexicon = Lexicon {
        backslash_escapes: true,
        double_quotes_are_strings: true,
    };
}

/// A token with where it starts and ends in the text (byte offsets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned {
    /// The token.
    pub token: Token,
    /// Byte offset of its first character.
    pub start: usize,
    /// Byte offset just past its last character.
    pub end: usize,
}

/// Two-character operators, longest first where they share a start.
const OPERATORS: [&str; 23] = [
    "<=>", "!~~*", "!~~", "~~*", "->>", "#>>", "<=", ">=", "<>", "!=", "==", "||", "&&", "::",
    "<<", ">>", "~~", "!~", "~*", "->", "#>", "@>", "<@",
];

/// Splits an expression into tokens (standard SQL spelling); whitespace and comments are
/// dropped.
pub fn tokens(expr: &str) -> Vec<Token> {
    lex(expr, Lexicon::STANDARD)
        .into_iter()
        .map(|s| s.token)
        .collect()
}

/// Splits an expression into tokens with their positions, in a dialect's spelling.
pub fn lex(expr: &str, lexicon: Lexicon) -> Vec<Spanned> {
    let chars: Vec<(usize, char)> = expr.char_indices().collect();
    let at = |i: usize| chars.get(i).map(|&(_, c)| c);
    let offset = |i: usize| chars.get(i).map_or(expr.len(), |&(o, _)| o);
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i].1;
        let start = i;
        let token = if c.is_whitespace() {
            i += 1;
            None
        } else if c == '-' && at(i + 1) == Some('-') {
            while i < chars.len() && chars[i].1 != '\n' {
                i += 1;
            }
            None
        } else if c == '/' && at(i + 1) == Some('*') {
            i += 2;
            while i < chars.len() && !(chars[i].1 == '*' && at(i + 1) == Some('/')) {
                i += 1;
            }
            i = (i + 2).min(chars.len());
            None
        } else if c == '\'' {
            let (s, next) = quoted(&chars, i, '\'', lexicon.backslash_escapes);
            i = next;
            Some(Token::Str(s))
        } else if (c == 'E' || c == 'e') && at(i + 1) == Some('\'') && !lexicon.backslash_escapes {
            // PostgreSQL's escape string: E'…' reads backslash escapes.
            let (s, next) = quoted(&chars, i + 1, '\'', true);
            i = next;
            Some(Token::Str(s))
        } else if c == '"' {
            let (s, next) = quoted(&chars, i, '"', lexicon.backslash_escapes);
            i = next;
            Some(if lexicon.double_quotes_are_strings {
                Token::Str(s)
            } else {
                Token::QuotedIdent(s)
            })
        } else if c == '`' {
            let (s, next) = quoted(&chars, i, '`', false);
            i = next;
            Some(Token::QuotedIdent(s))
        } else if c == '[' && !lexicon.backslash_escapes && bracket_ident(&chars, i) {
            let (s, next) = quoted(&chars, i, ']', false);
            i = next;
            Some(Token::QuotedIdent(s))
        } else if c.is_ascii_digit() || (c == '.' && at(i + 1).is_some_and(|d| d.is_ascii_digit()))
        {
            while i < chars.len() {
                let d = chars[i].1;
                let exponent_sign = matches!(d, '+' | '-')
                    && matches!(at(i.wrapping_sub(1)), Some('e' | 'E'))
                    && at(i + 1).is_some_and(|n| n.is_ascii_digit());
                if d.is_ascii_alphanumeric() || d == '.' || exponent_sign {
                    i += 1;
                } else {
                    break;
                }
            }
            Some(Token::Number(expr[offset(start)..offset(i)].to_string()))
        } else if c.is_alphanumeric() || c == '_' || c == '$' {
            while i < chars.len()
                && (chars[i].1.is_alphanumeric() || chars[i].1 == '_' || chars[i].1 == '$')
            {
                i += 1;
            }
            Some(Token::Word(expr[offset(start)..offset(i)].to_string()))
        } else {
            let rest = &expr[offset(i)..];
            let op = OPERATORS.iter().find(|op| rest.starts_with(*op));
            match op {
                Some(op) => {
                    i += op.chars().count();
                    Some(Token::Punct(op.to_string()))
                }
                None => {
                    i += 1;
                    Some(Token::Punct(c.to_string()))
                }
            }
        };
        if let Some(token) = token {
            out.push(Spanned {
                token,
                start: offset(start),
                end: offset(i),
            });
        }
    }
    out
}

/// Whether `[` at `i` opens an SQLite/SQL Server quoted identifier rather than PostgreSQL's
/// subscript or `ARRAY[`: it follows nothing that could be subscripted.
fn bracket_ident(chars: &[(usize, char)], i: usize) -> bool {
    let before = chars[..i]
        .iter()
        .rev()
        .find(|(_, c)| !c.is_whitespace())
        .map(|&(_, c)| c);
    let after_value =
        before.is_some_and(|c| c.is_alphanumeric() || matches!(c, '_' | ')' | ']' | '"'));
    !after_value && chars[i + 1..].iter().any(|&(_, c)| c == ']')
}

/// The body of a quoted token opening at `i` and the index after it: the closing quote
/// doubled stands for itself; with `backslash`, `\x` stands for `x` (and `\n`, `\t`, `\0`,
/// `\r`, `\Z` for their control characters).
fn quoted(chars: &[(usize, char)], i: usize, close: char, backslash: bool) -> (String, usize) {
    let mut s = String::new();
    let mut i = i + 1;
    while i < chars.len() {
        let c = chars[i].1;
        if backslash && c == '\\' && i + 1 < chars.len() {
            s.push(match chars[i + 1].1 {
                'n' => '\n',
                't' => '\t',
                'r' => '\r',
                '0' => '\0',
                'Z' => '\u{1a}',
                'b' => '\u{8}',
                other => other,
            });
            i += 2;
            continue;
        }
        if c == close {
            if chars.get(i + 1).map(|&(_, n)| n) == Some(close) && close != ']' {
                s.push(close);
                i += 2;
                continue;
            }
            return (s, i + 1);
        }
        s.push(c);
        i += 1;
    }
    (s, i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(expr: &str, lexicon: Lexicon) -> Vec<Token> {
        lex(expr, lexicon).into_iter().map(|s| s.token).collect()
    }

    #[test]
    fn numbers_keep_exponents_and_strings_their_escapes() {
        assert_eq!(
            tokens("a > -1.5e-3"),
            [
                Token::Word("a".into()),
                Token::Punct(">".into()),
                Token::Punct("-".into()),
                Token::Number("1.5e-3".into())
            ]
        );
        assert_eq!(tokens("'it''s'"), [Token::Str("it's".into())]);
        assert_eq!(
            words(r#"'it\'s' = "dq""#, Lexicon::MYSQL),
            [
                Token::Str("it's".into()),
                Token::Punct("=".into()),
                Token::Str("dq".into())
            ]
        );
        assert_eq!(tokens(r"E'a\nb'"), [Token::Str("a\nb".into())]);
        assert_eq!(tokens("x /* c */ -- d"), [Token::Word("x".into())]);
    }

    #[test]
    fn operators_and_brackets() {
        assert_eq!(
            tokens("a::text !~~* b <=> c"),
            [
                Token::Word("a".into()),
                Token::Punct("::".into()),
                Token::Word("text".into()),
                Token::Punct("!~~*".into()),
                Token::Word("b".into()),
                Token::Punct("<=>".into()),
                Token::Word("c".into()),
            ]
        );
        assert_eq!(
            tokens("[my col] > 0")[0],
            Token::QuotedIdent("my col".into())
        );
        assert_eq!(tokens("ARRAY['a']")[1], Token::Punct("[".into()));
    }

    #[test]
    fn spans_point_into_the_text() {
        let text = "length(\"Name\") > 0";
        let spans = lex(text, Lexicon::STANDARD);
        assert_eq!(&text[spans[2].start..spans[2].end], "\"Name\"");
    }
}
