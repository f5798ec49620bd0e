//! Indexes: their keys (columns or expressions, each with its order, null placement and
//! operator class) and the options a real schema gives them (method, predicate, `INCLUDE`,
//! storage parameters, `NULLS NOT DISTINCT`).
//!
//! A key has one text form shared by the `migration!` grammar, the attribute and the
//! catalogs: `<column or expression> [<operator class>] [ASC|DESC] [NULLS FIRST|LAST]`
//! (`"published DESC"`, `"lower(ap_id)"`, `"name gin_trgm_ops"`).

use std::collections::BTreeMap;
use std::fmt;

use crate::expr::lex::{self, Lexicon, Token};

/// An index over one or more keys.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct Index {
    /// Index name (`ix_<table>_<columns>` unless given).
    pub name: String,
    /// Keys, in order (serialized as `columns`: a plain ascending column is its name).
    #[cfg_attr(feature = "serde", serde(rename = "columns"))]
    pub keys: Vec<IndexKey>,
    /// Whether the index enforces uniqueness.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "std::ops::Not::not")
    )]
    pub unique: bool,
    /// Access method (`gin`, `gist`, `brin`, `hash`), lower case; `None` is the database's
    /// default (B-tree).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub method: Option<String>,
    /// The partial index's predicate (`WHERE …`), as written.
    #[cfg_attr(
        feature = "serde",
        serde(default, rename = "where", skip_serializing_if = "Option::is_none")
    )]
    pub predicate: Option<String>,
    /// Columns carried in the index but not part of its key (`INCLUDE (…)`).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Vec::is_empty")
    )]
    pub include: Vec<String>,
    /// Storage parameters (`WITH (fillfactor = 70)`), names lower case.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "BTreeMap::is_empty")
    )]
    pub with: BTreeMap<String, String>,
    /// A unique index where NULLs equal each other (`NULLS NOT DISTINCT`).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "std::ops::Not::not")
    )]
    pub nulls_not_distinct: bool,
}

impl Index {
    /// A plain ascending B-tree index over these columns.
    ///
    /// ```
    /// use retort_schema::Index;
    /// let ix = Index::on_columns("ix_tasks_done", ["done", "id"], false);
    /// assert_eq!(ix.column_names(), vec!["done", "id"]);
    /// ```
    pub fn on_columns<S: Into<String>>(
        name: impl Into<String>,
        columns: impl IntoIterator<Item = S>,
        unique: bool,
    ) -> Self {
        Index {
            name: name.into(),
            keys: columns.into_iter().map(IndexKey::column).collect(),
            unique,
            method: None,
            predicate: None,
            include: Vec::new(),
            with: BTreeMap::new(),
            nulls_not_distinct: false,
        }
    }

    /// The columns of its keys when every key is a plain ascending column with no options:
    /// the only form that can back a foreign key or stand for a unique constraint.
    pub fn plain_columns(&self) -> Option<Vec<String>> {
        if !self.is_plain_btree() {
            return None;
        }
        self.keys
            .iter()
            .map(|k| k.is_plain().then(|| k.target.clone()))
            .collect()
    }

    /// The columns of its leading column keys, in either direction, up to the first
    /// expression key or operator class: what InnoDB can use to back a foreign key over
    /// those columns (`(a, b DESC, lower(c))` backs one over `a` or `(a, b)`). Empty for an
    /// index that is not a full B-tree (another method, or a predicate).
    ///
    /// ```
    /// use retort_schema::{Index, IndexKey};
    /// let mut ix = Index::on_columns("ix_posts_top", ["community_id", "score"], false);
    /// ix.keys[1].descending = true;
    /// ix.keys.push(IndexKey::parse("lower(title)").unwrap());
    /// assert_eq!(ix.leading_columns(), ["community_id", "score"]);
    /// ```
    pub fn leading_columns(&self) -> Vec<String> {
        if self.method.is_some() || self.predicate.is_some() {
            return Vec::new();
        }
        self.keys
            .iter()
            .take_while(|k| !k.expression && k.opclass.is_none())
            .map(|k| k.target.clone())
            .collect()
    }

    /// Whether it is a B-tree with no predicate, `INCLUDE`, storage or null options.
    pub fn is_plain_btree(&self) -> bool {
        self.method.is_none()
            && self.predicate.is_none()
            && self.include.is_empty()
            && self.with.is_empty()
            && !self.nulls_not_distinct
    }

    /// The names of the column keys (expression keys left out), in key order.
    pub fn column_names(&self) -> Vec<&str> {
        self.keys
            .iter()
            .filter(|k| !k.expression)
            .map(|k| k.target.as_str())
            .collect()
    }

    /// Every column the index reads: column keys, columns named in expression keys and in
    /// the predicate, and `INCLUDE` columns.
    pub fn mentioned_columns(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for k in &self.keys {
            if k.expression {
                out.extend(crate::expr::column_names(&k.target));
            } else {
                out.push(k.target.clone());
            }
        }
        if let Some(p) = &self.predicate {
            out.extend(crate::expr::column_names(p));
        }
        out.extend(self.include.iter().cloned());
        out
    }

    /// The keys in their text form (`["published DESC", "lower(ap_id)"]`).
    pub fn key_texts(&self) -> Vec<String> {
        self.keys.iter().map(ToString::to_string).collect()
    }

    /// Renames column `from` to `to` wherever the index reads it.
    pub fn rename_column(&mut self, from: &str, to: &str) {
        for k in &mut self.keys {
            if k.expression {
                k.target = crate::expr::rename_column(&k.target, from, to);
            } else if k.target == from {
                k.target = to.to_string();
            }
        }
        if let Some(p) = &mut self.predicate {
            *p = crate::expr::rename_column(p, from, to);
        }
        for c in &mut self.include {
            if c == from {
                *c = to.to_string();
            }
        }
    }

    /// Reads storage parameters written as SQL (`fillfactor = 70, pages_per_range = 1`); names
    /// are lower-cased, quotes around a value dropped.
    ///
    /// ```
    /// use retort_schema::Index;
    /// let with = Index::parse_with("Fillfactor=70, pages_per_range = '1'").unwrap();
    /// assert_eq!(with.get("fillfactor").map(String::as_str), Some("70"));
    /// assert_eq!(with.get("pages_per_range").map(String::as_str), Some("1"));
    /// assert!(Index::parse_with("fillfactor").is_err());
    /// ```
    pub fn parse_with(text: &str) -> Result<BTreeMap<String, String>, String> {
        let mut out = BTreeMap::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((k, v)) = part.split_once('=') else {
                return Err(format!(
                    "storage parameter `{part}` has no value; write `name = value`, like `fillfactor = 70`"
                ));
            };
            let v = v.trim();
            let v = v
                .strip_prefix('\'')
                .and_then(|v| v.strip_suffix('\''))
                .unwrap_or(v);
            out.insert(k.trim().to_ascii_lowercase(), v.to_string());
        }
        Ok(out)
    }

    /// What follows the key list, in the order PostgreSQL reads it: ` INCLUDE (…)`,
    /// ` NULLS NOT DISTINCT`, ` WITH (…)`, ` WHERE …` (each when set), included columns
    /// written by `quote`.
    pub fn trailing_clauses(&self, quote: &dyn Fn(&str) -> String) -> String {
        let mut s = String::new();
        if !self.include.is_empty() {
            let inc: Vec<String> = self.include.iter().map(|c| quote(c)).collect();
            s.push_str(&format!(" INCLUDE ({})", inc.join(", ")));
        }
        if self.nulls_not_distinct {
            s.push_str(" NULLS NOT DISTINCT");
        }
        if !self.with.is_empty() {
            s.push_str(&format!(" WITH ({})", self.with_sql()));
        }
        if let Some(p) = &self.predicate {
            s.push_str(&format!(" WHERE {p}"));
        }
        s
    }

    /// The storage parameters as SQL (`fillfactor = 70, pages_per_range = 1`).
    pub fn with_sql(&self) -> String {
        self.with
            .iter()
            .map(|(k, v)| format!("{k} = {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Where NULLs sort in an index key, when it is not the direction's default (PostgreSQL:
/// last ascending, first descending).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum NullsOrder {
    /// `NULLS FIRST`.
    First,
    /// `NULLS LAST`.
    Last,
}

/// One key of an index.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(from = "KeyForm", into = "KeyForm"))]
pub struct IndexKey {
    /// The column's name, or the expression's SQL for an expression key.
    pub target: String,
    /// Whether `target` is an expression.
    pub expression: bool,
    /// `DESC`.
    pub descending: bool,
    /// Null placement when it differs from the direction's default.
    pub nulls: Option<NullsOrder>,
    /// Operator class (`gin_trgm_ops`) when not the type's default.
    pub opclass: Option<String>,
}

impl IndexKey {
    /// A plain ascending key on a column.
    pub fn column(name: impl Into<String>) -> Self {
        IndexKey {
            target: name.into(),
            expression: false,
            descending: false,
            nulls: None,
            opclass: None,
        }
    }

    /// Whether it is a plain ascending column with no operator class.
    pub fn is_plain(&self) -> bool {
        !self.expression && !self.descending && self.nulls.is_none() && self.opclass.is_none()
    }

    /// Reads the text form: `<column or expression> [<opclass>] [ASC|DESC] [NULLS FIRST|LAST]`.
    /// An expression may be written with or without its parentheses; an explicit null
    /// placement equal to the direction's default is dropped (it means the same).
    ///
    /// ```
    /// use retort_schema::model::{IndexKey, NullsOrder};
    /// let k = IndexKey::parse("hot_rank DESC NULLS LAST").unwrap();
    /// assert!(k.descending && k.nulls == Some(NullsOrder::Last) && !k.expression);
    /// let k = IndexKey::parse("(lower(ap_id))").unwrap();
    /// assert_eq!((k.target.as_str(), k.expression), ("lower(ap_id)", true));
    /// let k = IndexKey::parse("name gin_trgm_ops").unwrap();
    /// assert_eq!(k.opclass.as_deref(), Some("gin_trgm_ops"));
    /// assert_eq!(IndexKey::parse("a DESC NULLS FIRST").unwrap().nulls, None);
    /// assert!(IndexKey::parse("").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<IndexKey, String> {
        Self::parse_in(text, Lexicon::STANDARD)
    }

    /// [`IndexKey::parse`] in a dialect's spelling of quotes.
    pub fn parse_in(text: &str, lexicon: Lexicon) -> Result<IndexKey, String> {
        let spans = lex::lex(text, lexicon);
        let word = |i: usize, w: &str| {
            spans
                .get(i)
                .is_some_and(|s| matches!(&s.token, Token::Word(x) if x.eq_ignore_ascii_case(w)))
        };
        let mut end = spans.len();
        let mut nulls = None;
        if end >= 2 && word(end - 2, "NULLS") {
            nulls = Some(if word(end - 1, "FIRST") {
                NullsOrder::First
            } else if word(end - 1, "LAST") {
                NullsOrder::Last
            } else {
                return Err(format!(
                    "index key `{text}`: NULLS is followed by FIRST or LAST"
                ));
            });
            end -= 2;
        }
        let mut descending = false;
        if end >= 1 && (word(end - 1, "DESC") || word(end - 1, "ASC")) {
            descending = word(end - 1, "DESC");
            end -= 1;
        }
        // Two operands side by side: the second is an operator class.
        let mut opclass = None;
        if end >= 2 {
            let last = &spans[end - 1].token;
            let before = &spans[end - 2].token;
            let operand_end = matches!(before, Token::Word(_) | Token::QuotedIdent(_))
                || matches!(before, Token::Punct(p) if p == ")");
            if let (Token::Word(w), true) = (last, operand_end) {
                if !is_operator_word(w) && !is_operator_word_token(before) {
                    opclass = Some(w.to_ascii_lowercase());
                    end -= 1;
                }
            }
        }
        if end == 0 {
            return Err(format!(
                "index key `{text}` names no column or expression; write a column name or an expression like `lower(email)`"
            ));
        }
        let body = text[spans[0].start..spans[end - 1].end].trim();
        let (target, expression) = match &spans[..end] {
            [s] => match &s.token {
                Token::Word(w) => (w.clone(), false),
                Token::QuotedIdent(q) => (q.clone(), false),
                _ => (body.to_string(), true),
            },
            _ => match crate::expr::unwrap_parens(body) {
                Some(inner) => match lex::lex(inner, lexicon).as_slice() {
                    [s] if matches!(s.token, Token::Word(_) | Token::QuotedIdent(_)) => {
                        return Self::parse_in(
                            &format!("{inner}{}", &text[spans[end - 1].end..]),
                            lexicon,
                        )
                    }
                    _ => (inner.to_string(), true),
                },
                None => (body.to_string(), true),
            },
        };
        let nulls = match (descending, nulls) {
            (false, Some(NullsOrder::Last)) | (true, Some(NullsOrder::First)) => None,
            (_, n) => n,
        };
        Ok(IndexKey {
            target,
            expression,
            descending,
            nulls,
            opclass,
        })
    }
}

/// Whether a column name reads back as itself unquoted: lower case letters, digits and `_`,
/// not a word the key form gives a meaning.
fn is_bare_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !is_operator_word(name)
        && !["asc", "desc", "nulls", "first", "last"].contains(&name)
}

fn is_operator_word(w: &str) -> bool {
    [
        "AND", "OR", "NOT", "IS", "NULL", "IN", "LIKE", "COLLATE", "AS",
    ]
    .iter()
    .any(|k| w.eq_ignore_ascii_case(k))
}

fn is_operator_word_token(t: &Token) -> bool {
    matches!(t, Token::Word(w) if is_operator_word(w))
}

impl fmt::Display for IndexKey {
    /// The text form, expressions in parentheses (`(lower(ap_id)) DESC`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.expression {
            write!(f, "({})", self.target)?;
        } else if is_bare_identifier(&self.target) {
            f.write_str(&self.target)?;
        } else {
            write!(f, "\"{}\"", self.target.replace('"', "\"\""))?;
        }
        if let Some(o) = &self.opclass {
            write!(f, " {o}")?;
        }
        if self.descending {
            f.write_str(" DESC")?;
        }
        match self.nulls {
            Some(NullsOrder::First) => f.write_str(" NULLS FIRST"),
            Some(NullsOrder::Last) => f.write_str(" NULLS LAST"),
            None => Ok(()),
        }
    }
}

#[cfg(feature = "serde")]
/// How a key is stored: a plain ascending column as its name (so snapshots written before
/// keys had options read unchanged), anything else as its text form in an object.
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(untagged))]
enum KeyForm {
    Plain(String),
    Full { key: String },
}

#[cfg(feature = "serde")]
impl From<IndexKey> for KeyForm {
    fn from(k: IndexKey) -> Self {
        if k.is_plain() {
            KeyForm::Plain(k.target)
        } else {
            KeyForm::Full { key: k.to_string() }
        }
    }
}

#[cfg(feature = "serde")]
impl From<KeyForm> for IndexKey {
    fn from(f: KeyForm) -> Self {
        match f {
            KeyForm::Plain(name) => IndexKey::column(name),
            // Written by `Into<KeyForm>` from a parsed key, so it parses; anything else is
            // kept whole as an expression rather than lost.
            KeyForm::Full { key } => IndexKey::parse(&key).unwrap_or(IndexKey {
                target: key,
                expression: true,
                descending: false,
                nulls: None,
                opclass: None,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_text_round_trips() {
        for text in [
            "a",
            "a DESC",
            "a NULLS FIRST",
            "a DESC NULLS LAST",
            "name gin_trgm_ops",
            "name gin_trgm_ops DESC",
            "(lower(ap_id))",
            "(lower(ap_id)) DESC NULLS LAST",
            "(a + b)",
            "(coalesce(a, 0)) int4_ops",
            "\"Mixed Case\"",
            "\"desc\" DESC",
            "\"a \"\"b\"\"\"",
        ] {
            let k = IndexKey::parse(text).unwrap();
            let again = IndexKey::parse(&k.to_string()).unwrap();
            assert_eq!(k, again, "{text}");
        }
        let k = IndexKey::parse("a + b").unwrap();
        assert!(k.expression && k.opclass.is_none(), "{k:?}");
        let k = IndexKey::parse("a IS NOT NULL").unwrap();
        assert!(k.expression && k.opclass.is_none(), "{k:?}");
        let k = IndexKey::parse("(a)").unwrap();
        assert!(!k.expression, "{k:?}");
        for odd in ["my col", "Upper", "desc", "a\"b", "", "x\0y", "1st"] {
            let k = IndexKey::column(odd);
            assert_eq!(IndexKey::parse(&k.to_string()).unwrap(), k, "{odd:?}");
        }
        assert!(IndexKey::parse("a NULLS maybe").is_err());
    }

    #[test]
    fn plain_keys_serialize_as_names() {
        let mut ix = Index::on_columns("ix", ["a"], false);
        assert_eq!(
            serde_json::to_string(&ix.keys).unwrap(),
            r#"["a"]"#.to_string()
        );
        ix.keys.push(IndexKey::parse("lower(b) DESC").unwrap());
        let json = serde_json::to_string(&ix).unwrap();
        assert!(json.contains(r#"{"key":"(lower(b)) DESC"}"#), "{json}");
        let back: Index = serde_json::from_str(&json).unwrap();
        assert_eq!(back, ix);
    }
}
