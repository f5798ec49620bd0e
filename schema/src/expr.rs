//! SQL expressions as the models hold them (check constraints, server defaults): a light
//! tokenizer, enough to compare two expressions for meaning-preserving equality and to
//! find the column names an expression mentions. It does not validate SQL.

/// One token of an SQL expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// An unquoted word (keyword, identifier or function name), as written.
    Word(String),
    /// A quoted identifier (`"name"`, `` `name` `` or `[name]`), unquoted.
    QuotedIdent(String),
    /// A string literal, unquoted (`''` read as `'`).
    Str(String),
    /// A number, as written.
    Number(String),
    /// An operator or punctuation (`>=`, `(`, `,`).
    Punct(String),
}

/// Splits an expression into tokens; whitespace and comments are dropped.
pub fn tokens(expr: &str) -> Vec<Token> {
    let chars: Vec<char> = expr.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let quoted = |i: &mut usize, close: char| -> String {
        let mut s = String::new();
        *i += 1;
        while *i < chars.len() {
            if chars[*i] == close {
                if chars.get(*i + 1) == Some(&close) && close != ']' {
                    s.push(close);
                    *i += 2;
                    continue;
                }
                *i += 1;
                return s;
            }
            s.push(chars[*i]);
            *i += 1;
        }
        s
    };
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '-' && chars.get(i + 1) == Some(&'-') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '\'' {
            out.push(Token::Str(quoted(&mut i, '\'')));
        } else if c == '"' {
            out.push(Token::QuotedIdent(quoted(&mut i, '"')));
        } else if c == '`' {
            out.push(Token::QuotedIdent(quoted(&mut i, '`')));
        } else if c == '[' {
            out.push(Token::QuotedIdent(quoted(&mut i, ']')));
        } else if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()))
        {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
            out.push(Token::Number(chars[start..i].iter().collect()));
        } else if c.is_alphanumeric() || c == '_' || c == '$' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$')
            {
                i += 1;
            }
            out.push(Token::Word(chars[start..i].iter().collect()));
        } else {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            if ["<=", ">=", "<>", "!=", "==", "||", "::", "<<", ">>"].contains(&two.as_str()) {
                out.push(Token::Punct(two));
                i += 2;
            } else {
                out.push(Token::Punct(c.to_string()));
                i += 1;
            }
        }
    }
    out
}

/// A canonical spelling: tokens joined by single spaces, unquoted words lower-cased,
/// literals kept exactly. Two expressions that differ only in whitespace, comments or the
/// case of keywords normalize equal; a change inside a string literal does not.
///
/// ```
/// use retort_schema::expr::normalize;
/// assert_eq!(normalize("amount>0 AND  note <> 'a  b'"), normalize("amount > 0 and note<>'a  b'"));
/// assert_ne!(normalize("note = 'a b'"), normalize("note = 'a  b'"));
/// ```
pub fn normalize(expr: &str) -> String {
    let parts: Vec<String> = tokens(expr)
        .into_iter()
        .map(|t| match t {
            Token::Word(w) => w.to_lowercase(),
            Token::QuotedIdent(q) => format!("\"{}\"", q.replace('"', "\"\"")),
            Token::Str(s) => format!("'{}'", s.replace('\'', "''")),
            Token::Number(n) => n.to_ascii_lowercase(),
            Token::Punct(p) => p,
        })
        .collect();
    parts.join(" ")
}

/// Whether two expressions mean the same after [`normalize`].
pub fn same(a: &str, b: &str) -> bool {
    a == b || normalize(a) == normalize(b)
}

/// The text inside the parenthesis that opens `s` (after spaces) and the one that closes
/// it, and the rest after it. Parentheses inside quotes (`'`, `"`, `` ` ``) do not count.
///
/// ```
/// use retort_schema::expr::parenthesized;
/// assert_eq!(parenthesized(" (a, (b)) rest"), Some(("a, (b)", " rest")));
/// assert_eq!(parenthesized("(a = ')') x"), Some(("a = ')'", " x")));
/// assert_eq!(parenthesized("a (b)"), None);
/// ```
pub fn parenthesized(s: &str) -> Option<(&str, &str)> {
    let s = s.trim_start();
    if !s.starts_with('(') {
        return None;
    }
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"' | '`') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => {
                depth -= 1;
                if depth == 0 {
                    return Some((&s[1..i], &s[i + 1..]));
                }
            }
            _ => {}
        }
    }
    None
}

/// The expression inside the parentheses around all of it, if they are there: `(a + b)` →
/// `a + b`, but `(a) + (b)` stays (its first parenthesis closes early).
///
/// ```
/// use retort_schema::expr::unwrap_parens;
/// assert_eq!(unwrap_parens(" (1 + 2) "), Some("1 + 2"));
/// assert_eq!(unwrap_parens("(1) + (2)"), None);
/// assert_eq!(unwrap_parens("(a = ')')"), Some("a = ')'"));
/// ```
pub fn unwrap_parens(expr: &str) -> Option<&str> {
    match parenthesized(expr) {
        Some((inner, rest)) if rest.trim().is_empty() => Some(inner.trim()),
        _ => None,
    }
}

/// Whether two optional expressions (defaults) mean the same.
pub fn same_opt(a: &Option<String>, b: &Option<String>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => same(a, b),
        (None, None) => true,
        _ => false,
    }
}

/// Words that are SQL syntax, not column names, in the expressions models hold.
const KEYWORDS: &[&str] = &[
    "and",
    "or",
    "not",
    "null",
    "is",
    "in",
    "like",
    "glob",
    "regexp",
    "match",
    "ilike",
    "between",
    "case",
    "when",
    "then",
    "else",
    "end",
    "true",
    "false",
    "exists",
    "escape",
    "collate",
    "nocase",
    "rtrim",
    "binary",
    "as",
    "cast",
    "current_timestamp",
    "current_date",
    "current_time",
    "localtimestamp",
    "localtime",
    "distinct",
    "all",
    "any",
    "some",
    "similar",
    "to",
    "isnull",
    "notnull",
    "interval",
    "at",
    "time",
    "zone",
    "date",
    "timestamp",
    "array",
    "unknown",
    "with",
    "without",
    "integer",
    "int",
    "bigint",
    "smallint",
    "text",
    "real",
    "double",
    "precision",
    "numeric",
    "decimal",
    "varchar",
    "char",
    "character",
    "varying",
    "boolean",
    "bool",
    "blob",
    "bytea",
    "json",
    "jsonb",
    "uuid",
    "float",
    "signed",
    "unsigned",
    "year",
    "month",
    "day",
    "hour",
    "minute",
    "second",
    "leading",
    "trailing",
    "both",
    "from",
    "for",
    "using",
    "session_user",
    "current_user",
    "user",
];

/// The column names an expression mentions: unquoted words that are not SQL keywords and
/// not function names (followed by `(`), plus quoted identifiers. Deliberately generous
/// about what is a keyword, so a valid check is never refused; used to catch a check over
/// a column that does not exist.
///
/// ```
/// use retort_schema::expr::column_names;
/// assert_eq!(column_names("length(code) <= 10 AND status IN ('a', 'b') OR \"Note\" IS NULL"),
///            ["code", "status", "Note"]);
/// ```
pub fn column_names(expr: &str) -> Vec<String> {
    let toks = tokens(expr);
    let mut out = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        let next_is_call = matches!(toks.get(i + 1), Some(Token::Punct(p)) if p == "(");
        let after_dot = i > 0 && matches!(&toks[i - 1], Token::Punct(p) if p == ".");
        let before_dot = matches!(toks.get(i + 1), Some(Token::Punct(p)) if p == ".");
        let after_cast = i > 0 && matches!(&toks[i - 1], Token::Punct(p) if p == "::");
        match t {
            Token::Word(w)
                if !next_is_call
                    && !after_dot
                    && !before_dot
                    && !after_cast
                    && !KEYWORDS.contains(&w.to_lowercase().as_str()) =>
            {
                out.push(w.clone())
            }
            Token::QuotedIdent(q) if !next_is_call && !before_dot => out.push(q.clone()),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_comments_and_keyword_case_do_not_matter() {
        assert!(same("a > 0", "a>0"));
        assert!(same("a > 0 AND b IS NULL", "a>0\n  and b is null -- why"));
        assert!(same("length(x) <= 3", "LENGTH( x )<=3"));
        assert!(!same("a > 0", "a >= 0"));
        assert!(!same("x = 'A'", "x = 'a'"));
        assert!(!same("x = 'a b'", "x = 'ab'"));
        assert!(same_opt(&Some("'x'".into()), &Some(" 'x' ".into())));
        assert!(!same_opt(&Some("0".into()), &None));
    }

    #[test]
    fn finds_columns_not_keywords_functions_or_literals() {
        assert_eq!(
            column_names("CAST(amount AS integer) > 0 AND kind NOT IN ('x')"),
            ["amount", "kind"]
        );
        assert_eq!(column_names("x::text <> ''"), ["x"]);
        assert_eq!(column_names("CASE WHEN a THEN 1 ELSE 2 END = 1"), ["a"]);
        assert!(column_names("1 = 1").is_empty());
    }
}
