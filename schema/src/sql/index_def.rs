//! Reads a `CREATE INDEX` statement back into an [`Index`]: how PostgreSQL
//! (`pg_get_indexdef`) and SQLite (`sqlite_master.sql`) keep an index's definition. One
//! reader for both, so every part the renderer writes is read back the same way.

use std::collections::BTreeMap;

use crate::expr::lex::{self, Lexicon, Spanned, Token};
use crate::model::{Index, IndexKey};

/// An index read from its `CREATE INDEX` text, with the table it is on.
///
/// ```
/// use retort_schema::sql::read_create_index;
/// use retort_schema::expr::lex::Lexicon;
/// let (table, ix) = read_create_index(
///     "CREATE UNIQUE INDEX ix_a ON public.posts USING gin (title gin_trgm_ops, lower((slug)::text) DESC) INCLUDE (id) NULLS NOT DISTINCT WITH (fillfactor='70') WHERE (hot_rank <> 0)",
///     Lexicon::STANDARD,
/// ).unwrap();
/// assert_eq!(table, "posts");
/// assert_eq!(ix.method.as_deref(), Some("gin"));
/// assert_eq!(ix.key_texts(), ["title gin_trgm_ops", "(lower((slug)::text)) DESC"]);
/// assert_eq!(ix.include, ["id"]);
/// assert!(ix.unique && ix.nulls_not_distinct);
/// assert_eq!(ix.with.get("fillfactor").map(String::as_str), Some("70"));
/// assert_eq!(ix.predicate.as_deref(), Some("(hot_rank <> 0)"));
/// ```
pub fn read_create_index(sql: &str, lexicon: Lexicon) -> Result<(String, Index), String> {
    let spans = lex::lex(sql, lexicon);
    let mut r = Reader {
        sql,
        spans: &spans,
        at: 0,
    };
    let bad = |what: &str| format!("cannot read index definition `{sql}`: {what}");
    r.expect("CREATE").ok_or_else(|| bad("no CREATE"))?;
    let unique = r.word("UNIQUE");
    r.expect("INDEX").ok_or_else(|| bad("no INDEX"))?;
    r.word("CONCURRENTLY");
    if r.word("IF") {
        r.word("NOT");
        r.word("EXISTS");
    }
    let name = r.name().ok_or_else(|| bad("no index name"))?;
    r.expect("ON").ok_or_else(|| bad("no ON"))?;
    r.word("ONLY");
    let table = r.name().ok_or_else(|| bad("no table name"))?;
    let mut index = Index::on_columns(name, Vec::<String>::new(), unique);
    if r.word("USING") {
        let m = r.name().ok_or_else(|| bad("no method after USING"))?;
        index.method = Some(m.to_ascii_lowercase()).filter(|m| m != "btree");
    }
    let keys = r.group().ok_or_else(|| bad("no key list"))?;
    for k in split_top_level(keys) {
        index
            .keys
            .push(IndexKey::parse_in(k, lexicon).map_err(|e| bad(&e))?);
    }
    loop {
        if r.word("INCLUDE") {
            let inc = r.group().ok_or_else(|| bad("no list after INCLUDE"))?;
            index.include = split_top_level(inc).into_iter().map(unquote).collect();
        } else if r.word("NULLS") {
            index.nulls_not_distinct = r.word("NOT");
            r.word("DISTINCT");
        } else if r.word("WITH") {
            let with = r.group().ok_or_else(|| bad("no list after WITH"))?;
            index.with = Index::parse_with(with).map_err(|e| bad(&e))?;
        } else if r.word("TABLESPACE") {
            r.name();
        } else if r.word("WHERE") {
            index.predicate = Some(r.rest().to_string());
            break;
        } else if r.at >= spans.len() {
            break;
        } else {
            return Err(bad("unexpected text after the key list"));
        }
    }
    Ok((table, index))
}

struct Reader<'a> {
    sql: &'a str,
    spans: &'a [Spanned],
    at: usize,
}

impl<'a> Reader<'a> {
    fn word(&mut self, w: &str) -> bool {
        match self.spans.get(self.at) {
            Some(Spanned {
                token: Token::Word(x),
                ..
            }) if x.eq_ignore_ascii_case(w) => {
                self.at += 1;
                true
            }
            _ => false,
        }
    }

    fn expect(&mut self, w: &str) -> Option<()> {
        self.word(w).then_some(())
    }

    /// A possibly schema-qualified name; the last part, unquoted.
    fn name(&mut self) -> Option<String> {
        let mut last = None;
        loop {
            match self.spans.get(self.at).map(|s| &s.token) {
                Some(Token::Word(w)) => last = Some(w.clone()),
                Some(Token::QuotedIdent(q)) => last = Some(q.clone()),
                _ => return last,
            }
            self.at += 1;
            match self.spans.get(self.at).map(|s| &s.token) {
                Some(Token::Punct(p)) if p == "." => self.at += 1,
                _ => return last,
            }
        }
    }

    /// The text inside the parenthesized group that starts here.
    fn group(&mut self) -> Option<&'a str> {
        let open = self.spans.get(self.at)?;
        if !matches!(&open.token, Token::Punct(p) if p == "(") {
            return None;
        }
        let mut depth = 0usize;
        for (i, s) in self.spans.iter().enumerate().skip(self.at) {
            match &s.token {
                Token::Punct(p) if p == "(" => depth += 1,
                Token::Punct(p) if p == ")" => {
                    depth -= 1;
                    if depth == 0 {
                        self.at = i + 1;
                        return Some(&self.sql[open.end..s.start]);
                    }
                }
                _ => {}
            }
        }
        None
    }

    fn rest(&mut self) -> &'a str {
        let start = self.spans.get(self.at).map_or(self.sql.len(), |s| s.start);
        self.at = self.spans.len();
        self.sql[start..].trim()
    }
}

/// Splits a list at the commas outside parentheses and quotes.
pub(crate) fn split_top_level(list: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut start = 0;
    for (i, c) in list.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"' | '`') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => depth -= 1,
            (None, ',') if depth == 0 => {
                out.push(list[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    if !list[start..].trim().is_empty() {
        out.push(list[start..].trim());
    }
    out
}

fn unquote(name: &str) -> String {
    let n = name.trim();
    for (open, close) in [('"', '"'), ('`', '`')] {
        if let Some(inner) = n.strip_prefix(open).and_then(|n| n.strip_suffix(close)) {
            return inner.replace(&format!("{close}{close}"), &close.to_string());
        }
    }
    n.to_string()
}

/// Storage parameters read from a catalog's `name=value` list (PostgreSQL's `reloptions`).
pub fn read_storage(options: &[String]) -> BTreeMap<String, String> {
    Index::parse_with(&options.join(", ")).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::{create_index_sql, Dialect};

    #[test]
    fn reads_back_what_the_renderer_writes() {
        let mut ix = Index::on_columns("ix \"odd\"", ["a"], true);
        ix.keys
            .push(IndexKey::parse("lower(b) DESC NULLS LAST").unwrap());
        ix.keys.push(IndexKey::parse("c text_pattern_ops").unwrap());
        ix.method = Some("gist".into());
        ix.include = vec!["d e".into()];
        ix.with = Index::parse_with("fillfactor = 70").unwrap();
        ix.nulls_not_distinct = true;
        ix.predicate = Some("a > 0 AND b IS NOT NULL".into());
        for dialect in [Dialect::Postgres, Dialect::Sqlite] {
            let sql = create_index_sql(dialect, "my table", &ix);
            let (table, back) = read_create_index(&sql, Lexicon::STANDARD).unwrap();
            assert_eq!(table, "my table");
            assert_eq!(back, ix, "{sql}");
        }
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        for bad in [
            "CREATE TABLE t (a int)",
            "CREATE INDEX ON t (a)",
            "CREATE INDEX i ON t",
            "CREATE INDEX i ON t (a) GARBAGE",
        ] {
            assert!(read_create_index(bad, Lexicon::STANDARD).is_err(), "{bad}");
        }
    }
}
