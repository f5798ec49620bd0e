//! SQL expressions as the models hold them (check constraints, server defaults): a
//! tokenizer ([`lex`]), a parser ([`parse`]) and a canonical form ([`canon`]) under a
//! dialect's rules, enough to compare two expressions for meaning-preserving equality, to
//! find the column names an expression mentions and to follow a column rename. It does not
//! validate SQL.

pub mod canon;
mod json;
pub mod lex;
mod literal;
pub mod parse;

pub use lex::{tokens, Token};

/// Whether two expressions mean the same in every database: the same canonical form under
/// the dialect-neutral rules (whitespace, comments, parentheses, keyword case and the
/// spelling of numbers do not matter; a change inside a string literal does).
///
/// ```
/// use retort_schema::expr::same;
/// assert!(same("amount>0 AND  note <> 'a  b'", "(amount > 0) and note<>'a  b'"));
/// assert!(!same("note = 'a b'", "note = 'a  b'"));
/// ```
pub fn same(a: &str, b: &str) -> bool {
    a == b
        || canon::canonical(a, &canon::Rules::NEUTRAL)
            == canon::canonical(b, &canon::Rules::NEUTRAL)
}

/// Whether `text` is one literal value a `DEFAULT` takes without parentheses: a string, a
/// number (signed or not), or one of `words` (`NULL`, `TRUE`, …) — not an expression that
/// happens to start and end with a quote (`'a' || 'b'`).
///
/// ```
/// use retort_schema::expr::{is_literal, lex::Lexicon};
/// assert!(is_literal("'it''s'", Lexicon::STANDARD, &["NULL"]));
/// assert!(is_literal("-1.5", Lexicon::STANDARD, &[]));
/// assert!(!is_literal("'a' || 'b'", Lexicon::STANDARD, &[]));
/// assert!(!is_literal("lower('A')", Lexicon::STANDARD, &[]));
/// ```
pub fn is_literal(text: &str, lexicon: lex::Lexicon, words: &[&str]) -> bool {
    let tokens: Vec<Token> = lex::lex(text, lexicon)
        .into_iter()
        .map(|s| s.token)
        .collect();
    match tokens.as_slice() {
        [Token::Str(_)] | [Token::Number(_)] => true,
        [Token::Punct(sign), Token::Number(_)] => sign == "-" || sign == "+",
        [Token::Word(w)] => words.iter().any(|k| w.eq_ignore_ascii_case(k)),
        _ => false,
    }
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

/// The expression with every mention of column `from` renamed to `to`, as a database does
/// to a check on `RENAME COLUMN`: unquoted words compare without case, quoted names exactly;
/// function names, types after `::` and qualifiers before `.` are not columns. The rest of
/// the text stays as written.
///
/// ```
/// use retort_schema::expr::rename_column;
/// assert_eq!(rename_column("length(Code) > 0 AND code <> 'code'", "code", "sku"), "length(sku) > 0 AND sku <> 'code'");
/// assert_eq!(rename_column("\"a\" > 0", "a", "b c"), "\"b c\" > 0");
/// ```
pub fn rename_column(expr: &str, from: &str, to: &str) -> String {
    let spans = lex::lex(expr, lex::Lexicon::STANDARD);
    let mut out = String::with_capacity(expr.len());
    let mut last = 0;
    for (i, s) in spans.iter().enumerate() {
        let punct = |j: Option<usize>, p: &str| {
            j.and_then(|j| spans.get(j))
                .is_some_and(|t| matches!(&t.token, Token::Punct(x) if x == p))
        };
        let mentions = match &s.token {
            Token::Word(w) => w.to_lowercase() == from.to_lowercase(),
            Token::QuotedIdent(q) => q == from,
            _ => false,
        };
        let prev = i.checked_sub(1);
        if !mentions || punct(Some(i + 1), "(") || punct(prev, "::") || punct(Some(i + 1), ".") {
            continue;
        }
        let quote = expr[s.start..]
            .chars()
            .next()
            .filter(|c| matches!(c, '"' | '`' | '['));
        let plain = to
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
            && to
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            && !KEYWORDS.contains(&to);
        let replacement = match quote {
            Some('`') => format!("`{}`", to.replace('`', "``")),
            Some('[') => format!("[{to}]"),
            None if plain => to.to_string(),
            _ => format!("\"{}\"", to.replace('"', "\"\"")),
        };
        out.push_str(&expr[last..s.start]);
        out.push_str(&replacement);
        last = s.end;
    }
    out.push_str(&expr[last..]);
    out
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
