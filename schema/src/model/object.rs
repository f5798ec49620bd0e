//! The database's other objects, declared as code: extensions, sequences, functions, views,
//! materialized views and triggers. Each is its `CREATE` statement (one per dialect, or one
//! for all), read from the project's `sql/` folder; the build diffs them by definition and
//! writes their creation, replacement and removal.

use crate::expr::lex::{self, Lexicon, Token};
use crate::ops::DialectSql;

/// What kind of object; the order is the order of creation (an extension before the
/// functions that use it, functions before the triggers that call them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum ObjectKind {
    /// `CREATE EXTENSION` (PostgreSQL).
    Extension,
    /// `CREATE TYPE`: an enum or composite type (PostgreSQL).
    Type,
    /// `CREATE SEQUENCE`.
    Sequence,
    /// `CREATE FUNCTION`.
    Function,
    /// `CREATE VIEW`.
    View,
    /// `CREATE MATERIALIZED VIEW` (PostgreSQL).
    MaterializedView,
    /// `CREATE INDEX` on a materialized view (PostgreSQL); a table's indexes are its
    /// model's (`#[table(index(…))]`).
    Index,
    /// `CREATE TRIGGER`.
    Trigger,
}

impl ObjectKind {
    /// The words a reader uses: `materialized view`.
    pub fn word(self) -> &'static str {
        match self {
            ObjectKind::Extension => "extension",
            ObjectKind::Type => "type",
            ObjectKind::Sequence => "sequence",
            ObjectKind::Function => "function",
            ObjectKind::View => "view",
            ObjectKind::MaterializedView => "materialized view",
            ObjectKind::Index => "index",
            ObjectKind::Trigger => "trigger",
        }
    }

    /// The spelling in migration files (`materialized_view`).
    pub fn ident(self) -> &'static str {
        match self {
            ObjectKind::MaterializedView => "materialized_view",
            other => other.word(),
        }
    }

    /// The spelling in the `migration!` grammar: [`ObjectKind::ident`], but `type_` for a
    /// type (`type` is a Rust keyword).
    pub fn grammar_word(self) -> &'static str {
        match self {
            ObjectKind::Type => "type_",
            other => other.ident(),
        }
    }

    /// Whether objects of this kind come before the tables (a column's type, a default's
    /// sequence or function) rather than after them (what reads the tables).
    pub fn before_tables(self) -> bool {
        matches!(
            self,
            ObjectKind::Extension | ObjectKind::Type | ObjectKind::Sequence | ObjectKind::Function
        )
    }

    /// Every kind, in creation order.
    pub const ALL: [ObjectKind; 8] = [
        ObjectKind::Extension,
        ObjectKind::Type,
        ObjectKind::Sequence,
        ObjectKind::Function,
        ObjectKind::View,
        ObjectKind::MaterializedView,
        ObjectKind::Index,
        ObjectKind::Trigger,
    ];
}

/// One declared object.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct DbObject {
    /// What it is.
    pub kind: ObjectKind,
    /// Its name (unquoted).
    pub name: String,
    /// The table a trigger is on, or the materialized view an index is on.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub table: Option<String>,
    /// Its `CREATE` statement: one for every dialect, or one per dialect (a dialect without
    /// one does not have the object).
    pub sql: DialectSql,
}

impl DbObject {
    /// The key objects are stored under: kind and name (`view active_users`).
    pub fn key(&self) -> String {
        format!("{} {}", self.kind.ident(), self.name)
    }

    /// The statement for `dialect`, if the object exists there.
    pub fn sql_for(&self, dialect: crate::sql::Dialect) -> Option<&str> {
        use crate::sql::Dialect;
        match &self.sql {
            DialectSql::All(s) => Some(s),
            DialectSql::PerDialect {
                sqlite,
                postgres,
                mysql,
            } => match dialect {
                Dialect::Sqlite => sqlite.as_deref(),
                Dialect::Postgres => postgres.as_deref(),
                Dialect::Mysql => mysql.as_deref(),
            },
        }
    }
}

/// What a `CREATE` statement makes: its kind, name and (for a trigger) table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    /// The kind.
    pub kind: ObjectKind,
    /// The name, unquoted, without a schema.
    pub name: String,
    /// The table of a trigger, or the materialized view of an index.
    pub table: Option<String>,
}

/// Reads the kind and name a `CREATE` statement makes, or says what is wrong with it.
///
/// ```
/// use retort_schema::model::{read_create, ObjectKind};
/// let d = read_create("CREATE OR REPLACE FUNCTION touch() RETURNS trigger AS $$ … $$ LANGUAGE plpgsql").unwrap();
/// assert_eq!((d.kind, d.name.as_str()), (ObjectKind::Function, "touch"));
/// let d = read_create("create trigger post_touch before update on public.post for each row execute function touch()").unwrap();
/// assert_eq!((d.kind, d.table.as_deref()), (ObjectKind::Trigger, Some("post")));
/// let d = read_create("CREATE EXTENSION IF NOT EXISTS pg_trgm").unwrap();
/// assert_eq!((d.kind, d.name.as_str()), (ObjectKind::Extension, "pg_trgm"));
/// assert!(read_create("DROP VIEW x").is_err());
/// ```
pub fn read_create(sql: &str) -> Result<Declared, String> {
    let tokens: Vec<Token> = lex::lex(sql, Lexicon::STANDARD)
        .into_iter()
        .map(|s| s.token)
        .collect();
    read_header(&tokens).map(|(declared, _)| declared)
}

/// [`read_create`] on the statement's tokens, with the positions of the object's name: its
/// first token and the one just past it.
fn read_header(tokens: &[Token]) -> Result<(Declared, std::ops::Range<usize>), String> {
    let word = |i: usize| match tokens.get(i) {
        Some(Token::Word(w)) => w.to_ascii_uppercase(),
        _ => String::new(),
    };
    let bad = |what: &str| {
        format!("{what}; a file in sql/ holds one CREATE statement: an EXTENSION, TYPE, SEQUENCE, FUNCTION, VIEW, MATERIALIZED VIEW, INDEX (on a materialized view) or TRIGGER")
    };
    if word(0) != "CREATE" {
        return Err(bad("it does not start with CREATE"));
    }
    let mut i = 1;
    if word(i) == "OR" && word(i + 1) == "REPLACE" {
        i += 2;
    }
    while matches!(
        word(i).as_str(),
        "TEMP" | "TEMPORARY" | "RECURSIVE" | "CONSTRAINT" | "UNIQUE"
    ) {
        i += 1;
    }
    // MySQL's `ALGORITHM = …`, `DEFINER = user@host` and `SQL SECURITY …` before
    // FUNCTION/TRIGGER/VIEW.
    if matches!(word(i).as_str(), "ALGORITHM" | "DEFINER" | "SQL") {
        i += 1;
        while i < tokens.len() && !matches!(word(i).as_str(), "FUNCTION" | "TRIGGER" | "VIEW") {
            i += 1;
        }
    }
    let kind = match word(i).as_str() {
        "EXTENSION" => ObjectKind::Extension,
        "TYPE" => ObjectKind::Type,
        "SEQUENCE" => ObjectKind::Sequence,
        "FUNCTION" => ObjectKind::Function,
        "VIEW" => ObjectKind::View,
        "MATERIALIZED" if word(i + 1) == "VIEW" => {
            i += 1;
            ObjectKind::MaterializedView
        }
        "TRIGGER" => ObjectKind::Trigger,
        "INDEX" => ObjectKind::Index,
        other => return Err(bad(&format!("it creates `{other}`"))),
    };
    i += 1;
    if kind == ObjectKind::Index && word(i) == "CONCURRENTLY" {
        i += 1;
    }
    if word(i) == "IF" && word(i + 1) == "NOT" && word(i + 2) == "EXISTS" {
        i += 3;
    }
    let name_start = i;
    let name = qualified_name(tokens, &mut i).ok_or_else(|| bad("it names nothing"))?;
    let after_name = i;
    let table = if matches!(kind, ObjectKind::Trigger | ObjectKind::Index) {
        let on = (i..tokens.len())
            .find(|&j| word(j) == "ON")
            .ok_or_else(|| bad("it names no table (`ON <table>`)"))?;
        let mut j = on + 1;
        if word(j) == "ONLY" {
            j += 1;
        }
        Some(qualified_name(tokens, &mut j).ok_or_else(|| bad("it names no table"))?)
    } else {
        None
    };
    Ok((Declared { kind, name, table }, name_start..after_name))
}

/// The statement with the name of the object it makes replaced by `name`, the rest as
/// written (options, column list, query, `WITH CHECK OPTION`): what a probe runs to have
/// the database print a declared view without touching the view itself. `None` when the
/// statement is not a `CREATE` that [`read_create`] reads.
///
/// ```
/// use retort_schema::model::renamed_create;
/// assert_eq!(
///     renamed_create("CREATE ALGORITHM=MERGE VIEW `app`.`v` (a) AS SELECT 1 WITH CHECK OPTION", "probe").as_deref(),
///     Some("CREATE ALGORITHM=MERGE VIEW probe (a) AS SELECT 1 WITH CHECK OPTION"),
/// );
/// ```
pub fn renamed_create(sql: &str, name: &str) -> Option<String> {
    let spans = lex::lex(sql, Lexicon::STANDARD);
    let tokens: Vec<Token> = spans.iter().map(|s| s.token.clone()).collect();
    let (_, at) = read_header(&tokens).ok()?;
    let (first, last) = (spans.get(at.start)?, spans.get(at.end.checked_sub(1)?)?);
    Some(format!("{}{name}{}", &sql[..first.start], &sql[last.end..]))
}

/// A view's statement taken apart for a probe that makes the same view under another name:
/// its column list as written (with the parentheses) and its query, without a materialized
/// view's `WITH [NO] DATA` or a view's `WITH … CHECK OPTION`. `None` when the statement is
/// not a `CREATE [MATERIALIZED] VIEW … AS …`.
///
/// ```
/// use retort_schema::model::view_body;
/// let (columns, query) = view_body(
///     "CREATE MATERIALIZED VIEW IF NOT EXISTS stats (id, n) WITH (fillfactor = 70) AS SELECT 1, 2 WITH NO DATA;",
/// )
/// .unwrap();
/// assert_eq!((columns.as_deref(), query.as_str()), (Some("(id, n)"), "SELECT 1, 2"));
/// assert_eq!(view_body("CREATE VIEW v AS SELECT a FROM t").unwrap().1, "SELECT a FROM t");
/// assert!(view_body("CREATE TRIGGER t BEFORE INSERT ON x").is_none());
/// ```
pub fn view_body(sql: &str) -> Option<(Option<String>, String)> {
    let spans = lex::lex(sql, Lexicon::STANDARD);
    let word = |i: usize| match spans.get(i).map(|s| &s.token) {
        Some(Token::Word(w)) => w.to_ascii_uppercase(),
        _ => String::new(),
    };
    let punct = |i: usize, p: &str| matches!(spans.get(i).map(|s| &s.token), Some(Token::Punct(q)) if q == p);
    // Past the closing parenthesis of the group opening at `i`.
    let group_end = |mut i: usize| {
        let mut depth = 0;
        while i < spans.len() {
            if punct(i, "(") {
                depth += 1;
            } else if punct(i, ")") {
                depth -= 1;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            i += 1;
        }
        None
    };
    let tokens: Vec<Token> = spans.iter().map(|s| s.token.clone()).collect();
    let (declared, name) = read_header(&tokens).ok()?;
    let mut i = name.end;
    if !matches!(
        declared.kind,
        ObjectKind::View | ObjectKind::MaterializedView
    ) {
        return None;
    }
    let mut columns = None;
    if punct(i, "(") {
        let end = group_end(i)?;
        columns = Some(sql[spans[i].start..spans[end - 1].end].to_string());
        i = end;
    }
    loop {
        match word(i).as_str() {
            "WITH" if punct(i + 1, "(") => i = group_end(i + 1)?,
            "USING" | "TABLESPACE" => i += 2,
            _ => break,
        }
    }
    if word(i) != "AS" {
        return None;
    }
    let start = spans.get(i + 1)?.start;
    let mut last = spans.len();
    while last > i + 1 && punct(last - 1, ";") {
        last -= 1;
    }
    let tail: Vec<String> = (last.saturating_sub(4)..last).map(word).collect();
    let cut = match tail
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [.., "WITH", "NO", "DATA"] => 3,
        [.., "WITH", "DATA"] => 2,
        [.., "WITH", "CASCADED" | "LOCAL", "CHECK", "OPTION"] => 4,
        [.., "WITH", "CHECK", "OPTION"] => 3,
        _ => 0,
    };
    last -= cut;
    if last <= i + 1 {
        return None;
    }
    Some((columns, sql[start..spans[last - 1].end].trim().to_string()))
}

/// A possibly schema-qualified name at `i`: its last part, unquoted; `i` moves past it.
fn qualified_name(tokens: &[Token], i: &mut usize) -> Option<String> {
    let mut last = None;
    loop {
        match tokens.get(*i) {
            Some(Token::Word(w)) => last = Some(w.to_ascii_lowercase()),
            Some(Token::QuotedIdent(q)) => last = Some(q.clone()),
            _ => return last,
        }
        *i += 1;
        match tokens.get(*i) {
            Some(Token::Punct(p)) if p == "." => *i += 1,
            _ => return last,
        }
    }
}

/// A definition as compared between builds: line endings unified and trailing spaces and
/// blank lines dropped, so an editor's whitespace is not a change.
pub fn normalize_definition(sql: &str) -> String {
    sql.replace("\r\n", "\n")
        .lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .trim_end_matches(';')
        .trim_end()
        .to_string()
}
