//! The statements of the online forms (concurrent index builds, `NOT VALID` constraints),
//! recognised so an interrupted run can tell what is done and clear what is left.

use retort_schema::expr::lex::Lexicon;
use retort_schema::sql::{quote_ident, read_create_index, Dialect};

/// The statements of the online forms, which run outside a transaction and can be run
/// again after an interruption.
pub(super) enum ConcurrentIndex {
    /// `CREATE [UNIQUE] INDEX CONCURRENTLY`: done when the index is there and valid; an
    /// `INVALID` one left by an interrupted build is dropped first.
    Create(IndexName),
    /// `DROP INDEX CONCURRENTLY`: done when the index is gone.
    Drop(IndexName),
    /// `ALTER TABLE t ADD CONSTRAINT n … NOT VALID` or `… USING INDEX`: a moment's catalog
    /// change, done when the constraint is there.
    AddConstraint {
        /// The table, quoted as written.
        table: String,
        /// The constraint's name.
        name: String,
    },
    /// A statement whose second run does nothing more than its first: `VALIDATE
    /// CONSTRAINT`, `SET NOT NULL`, `DROP CONSTRAINT IF EXISTS`, `SET DEFAULT`.
    Again,
}

/// An index's name, and its schema where the statement gives one.
pub(super) struct IndexName {
    pub(super) schema: Option<String>,
    pub(super) name: String,
}

impl IndexName {
    pub(super) fn from(qualified: &str) -> IndexName {
        match qualified.split_once('.') {
            Some((s, n)) => IndexName {
                schema: Some(s.to_string()),
                name: n.to_string(),
            },
            None => IndexName {
                schema: None,
                name: qualified.to_string(),
            },
        }
    }

    pub(super) fn quoted(&self) -> String {
        let name = quote_ident(&self.name, Dialect::Postgres);
        match &self.schema {
            Some(s) => format!("{}.{name}", quote_ident(s, Dialect::Postgres)),
            None => name,
        }
    }
}

pub(super) fn concurrent_index(statement: &str) -> Option<ConcurrentIndex> {
    if let Some(alter) = online_alter(statement) {
        return Some(alter);
    }
    let words: Vec<String> = statement
        .split_whitespace()
        .take(6)
        .map(str::to_ascii_uppercase)
        .collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    match words.as_slice() {
        ["CREATE", "INDEX", "CONCURRENTLY", ..]
        | ["CREATE", "UNIQUE", "INDEX", "CONCURRENTLY", ..] => {
            let (_, index) = read_create_index(statement, Lexicon::STANDARD).ok()?;
            Some(ConcurrentIndex::Create(IndexName::from(&index.name)))
        }
        ["DROP", "INDEX", "CONCURRENTLY", rest @ ..] => {
            // `DROP INDEX CONCURRENTLY [IF EXISTS] name`, one index.
            let after = match rest {
                ["IF", "EXISTS", ..] => 5,
                _ => 3,
            };
            let name = statement.split_whitespace().nth(after)?;
            let name = name.trim_end_matches(';').replace('"', "");
            Some(ConcurrentIndex::Drop(IndexName::from(&name)))
        }
        _ => None,
    }
}

/// The `ALTER TABLE` statements of the online forms of constraints and `NOT NULL` (as
/// `retort_schema::sql::postgres` writes them), read token by token.
pub(super) fn online_alter(statement: &str) -> Option<ConcurrentIndex> {
    use retort_schema::expr::lex::{lex, Token};
    let tokens: Vec<Token> = lex(statement, Lexicon::STANDARD)
        .into_iter()
        .map(|s| s.token)
        .collect();
    let word = |t: &Token, w: &str| matches!(t, Token::Word(x) if x.eq_ignore_ascii_case(w));
    let ident = |t: &Token| match t {
        Token::Word(x) => Some(x.to_ascii_lowercase()),
        Token::QuotedIdent(x) => Some(x.clone()),
        _ => None,
    };
    if tokens.len() < 4 || !word(&tokens[0], "ALTER") || !word(&tokens[1], "TABLE") {
        return None;
    }
    // The table: `t` or `s.t`.
    let (table, rest) = match tokens.get(3) {
        Some(Token::Punct(p)) if p == "." => (
            format!(
                "{}.{}",
                quote_ident(&ident(&tokens[2])?, Dialect::Postgres),
                quote_ident(&ident(tokens.get(4)?)?, Dialect::Postgres)
            ),
            &tokens[5..],
        ),
        _ => (
            quote_ident(&ident(&tokens[2])?, Dialect::Postgres),
            &tokens[3..],
        ),
    };
    let says = |words: &[&str]| {
        rest.len() >= words.len() && words.iter().zip(rest).all(|(w, t)| word(t, w))
    };
    let ends_with = |words: &[&str]| {
        rest.len() >= words.len()
            && words
                .iter()
                .zip(&rest[rest.len() - words.len()..])
                .all(|(w, t)| word(t, w))
    };
    let names_using_index = rest
        .windows(2)
        .any(|w| word(&w[0], "USING") && word(&w[1], "INDEX"));
    if says(&["ADD", "CONSTRAINT"]) && (ends_with(&["NOT", "VALID"]) || names_using_index) {
        return Some(ConcurrentIndex::AddConstraint {
            table,
            name: ident(rest.get(2)?)?,
        });
    }
    // `ALTER COLUMN c SET DEFAULT …` / `DROP DEFAULT`: the default of a column a backfill
    // fills, set before it.
    let sets_default = says(&["ALTER", "COLUMN"])
        && rest.len() > 4
        && (word(&rest[3], "SET") || word(&rest[3], "DROP"))
        && word(&rest[4], "DEFAULT");
    let again = says(&["VALIDATE", "CONSTRAINT"])
        || says(&["DROP", "CONSTRAINT", "IF", "EXISTS"])
        || (says(&["ALTER", "COLUMN"]) && ends_with(&["SET", "NOT", "NULL"]))
        || sets_default;
    again.then_some(ConcurrentIndex::Again)
}
