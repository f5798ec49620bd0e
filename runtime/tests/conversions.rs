//! The type-conversion matrix, on SQLite, PostgreSQL and MariaDB: for every ordered pair of
//! portable types, the change is either refused at build time (the diff, and the renderer
//! for a hand-written migration, name the column and the fix), or converts — each probe
//! value that fits becomes the value a reference model says (compared in the database, in
//! the new type), the downgrade brings it back, and each probe value that does not fit stops
//! the migration naming the column, with nothing changed (the old type and the row stay).
//!
//! The reference model ([`convert`]) is this test's statement of what each conversion
//! means; `docs/type-conversions.md` shows the matrix the code decides (checked here).

mod support;

use retort::schema::convert::{
    conversion, extended_matrix_markdown, matrix_markdown, portable_types, Conversion,
};
use retort::schema::sql::{literal, render_ops, Dialect};
use retort::schema::{Column, ColumnType, Schema, Table};
use retort::{Graph, Options, Runner};
use support::{rev, TestDb};

/// A value of the reference model.
#[derive(Debug, Clone, PartialEq)]
enum V {
    Int(i128),
    /// A decimal as written (`1.25`, `-3`).
    Dec(&'static str),
    Float(f64),
    Bool(bool),
    Text(String),
    Date(&'static str),
    Time(&'static str),
    /// `YYYY-MM-DD HH:MM:SS` (UTC for an instant).
    Ts(String),
    Uuid(&'static str),
    Json(&'static str),
}

const UUID: &str = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11";

/// The probe values of a type.
fn probes(ty: &ColumnType) -> Vec<V> {
    use ColumnType as T;
    use V::{Bool, Dec, Float, Int, Ts};
    let texts = |list: &[&str]| {
        list.iter()
            .map(|s| V::Text(s.to_string()))
            .collect::<Vec<_>>()
    };
    match ty {
        T::SmallInt => vec![Int(7), Int(-3), Int(0), Int(1), Int(30000)],
        T::Integer => vec![
            Int(7),
            Int(0),
            Int(1),
            Int(100000),
            Int(16777217),
            Int(2000000000),
        ],
        T::BigInt => vec![Int(7), Int(1), Int(5000000000), Int(9007199254740993)],
        T::Real => vec![
            Float(1.5),
            Float(-2.0),
            Float(0.25),
            Float(1.0),
            Float(0.0),
            Float(100000.0),
        ],
        T::Double => vec![
            Float(1.5),
            Float(0.25),
            Float(1.0),
            Float(0.1),
            Float(16777217.0),
            Float(1e300),
            Float(-7.0),
        ],
        T::Numeric { .. } => vec![
            Dec("1.25"),
            Dec("-3"),
            Dec("0"),
            Dec("1"),
            Dec("12345678.12"),
            Dec("0.5"),
        ],
        T::Boolean => vec![Bool(true), Bool(false)],
        T::Text => texts(&[
            "42",
            "-7",
            "1.5",
            "0.1",
            "abc",
            "true",
            "1",
            "2026-01-02",
            "2026-01-02 03:04:05",
            "10:20:30",
            UUID,
            "{\"k\":1}",
            "a text longer than twenty",
            "ab ",
        ]),
        T::Varchar { .. } => texts(&["42", "1.5", "abc", "true", "1", "2026-01-02", "ab "]),
        T::Char { .. } => texts(&["abc", "42", "1"]),
        T::Date => vec![V::Date("2026-01-02")],
        T::Time => vec![V::Time("10:20:30")],
        T::Timestamp | T::TimestampTz => vec![
            Ts("2026-01-02 03:04:05".into()),
            Ts("2026-01-02 00:00:00".into()),
        ],
        T::Uuid => vec![V::Uuid(UUID)],
        T::Json => vec![V::Json("{\"k\": 1}"), V::Json("[1, 2]")],
        // Enums change by `alter_enum`; text ↔ enum is tested in `enums.rs`.
        T::Binary | T::Custom { .. } | T::Enum { .. } => vec![],
    }
}

/// Significant decimal digits of a number's shortest text.
fn significant(text: &str) -> usize {
    let mantissa = text.split(['e', 'E']).next().unwrap_or(text);
    mantissa
        .chars()
        .filter(char::is_ascii_digit)
        .collect::<String>()
        .trim_start_matches('0')
        .trim_end_matches('0')
        .len()
        .max(1)
}

/// The number a value stands for, if it is one.
fn as_number(v: &V) -> Option<f64> {
    match v {
        V::Int(i) => Some(*i as f64),
        V::Dec(s) => s.parse().ok(),
        V::Float(f) => Some(*f),
        V::Bool(b) => Some(f64::from(u8::from(*b))),
        V::Text(s) => {
            let ok = !s.is_empty()
                && s.trim() == s
                && s.chars()
                    .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+'));
            if ok {
                s.parse().ok()
            } else {
                None
            }
        }
        _ => None,
    }
}

/// The exact decimal of a value that is a number (its shortest text for a float).
fn decimal_text(v: &V) -> Option<String> {
    match v {
        V::Int(i) => Some(i.to_string()),
        V::Dec(s) => Some(s.to_string()),
        V::Float(f) => Some(format!("{f}")),
        V::Bool(b) => Some(u8::from(*b).to_string()),
        V::Text(_) => as_number(v).map(|_| match v {
            V::Text(s) => s.clone(),
            _ => unreachable!(),
        }),
        _ => None,
    }
}

/// Digits after the point in a decimal's text.
fn scale_of(text: &str) -> usize {
    match text.split_once('.') {
        Some((_, frac)) => frac.trim_end_matches('0').len(),
        None => 0,
    }
}

/// What a dialect writes a value of `ty` as, as text.
fn text_of(v: &V, ty: &ColumnType, d: Dialect) -> String {
    use ColumnType::*;
    match (v, d) {
        (V::Int(i), _) => i.to_string(),
        (V::Dec(s), Dialect::Sqlite) => {
            let f: f64 = s.parse().unwrap();
            if f.fract() == 0.0 {
                format!("{}", f as i64)
            } else {
                format!("{f}")
            }
        }
        (V::Dec(s), _) => {
            let f: f64 = s.parse().unwrap();
            format!("{f:.2}")
        }
        (V::Float(f), Dialect::Sqlite) => {
            if f.abs() >= 1e15 {
                format!("{f:e}").replace('e', ".0e+")
            } else if f.fract() == 0.0 {
                format!("{f:.1}")
            } else {
                format!("{f}")
            }
        }
        (V::Float(f), Dialect::Mysql) if *ty == Real => {
            let text = format!("{:.6e}", f);
            let back: f64 = text.parse().unwrap();
            format!("{back}")
        }
        (V::Float(f), Dialect::Postgres) if *ty == Real => format!("{}", *f as f32),
        (V::Float(f), Dialect::Mysql) if f.abs() >= 1e15 => format!("{f:e}"),
        (V::Float(f), Dialect::Postgres) if f.abs() >= 1e15 => format!("{f:e}").replace('e', "e+"),
        (V::Float(f), _) => format!("{f}"),
        (V::Bool(b), Dialect::Postgres) => b.to_string(),
        (V::Bool(b), _) => u8::from(*b).to_string(),
        (V::Text(s), _) => s.clone(),
        (V::Date(s), _) => s.to_string(),
        (V::Time(s), Dialect::Mysql) => format!("{s}.000000"),
        (V::Time(s), _) => s.to_string(),
        (V::Ts(s), Dialect::Mysql) => format!("{s}.000000"),
        (V::Ts(s), Dialect::Postgres) if *ty == TimestampTz => format!("{s}+00"),
        (V::Ts(s), Dialect::Sqlite) if *ty == TimestampTz => format!("{s}+00:00"),
        (V::Ts(s), _) => s.clone(),
        (V::Uuid(s), _) => s.to_string(),
        (V::Json(s), _) => s.to_string(),
    }
}

/// The reference model: what `v`, of type `from`, becomes as `to` on dialect `d`; `None`
/// when it does not fit and the change must stop.
fn convert(v: &V, from: &ColumnType, to: &ColumnType, d: Dialect) -> Option<V> {
    use ColumnType::*;
    let sqlite = d == Dialect::Sqlite;
    let mysql = d == Dialect::Mysql;
    let integer = |lo: i128, hi: i128| -> Option<V> {
        let i = match v {
            V::Int(i) => *i,
            V::Text(s) => {
                let ok = !s.is_empty()
                    && s.strip_prefix(['-', '+'])
                        .unwrap_or(s)
                        .chars()
                        .all(|c| c.is_ascii_digit());
                if !ok {
                    return None;
                }
                s.parse::<i128>().ok()?
            }
            _ => {
                let x = as_number(v)?;
                if x.fract() != 0.0 || !x.is_finite() || x.abs() > 1e30 {
                    return None;
                }
                x as i128
            }
        };
        (i >= lo && i <= hi).then_some(V::Int(i))
    };
    match to {
        SmallInt => integer(i16::MIN.into(), i16::MAX.into()),
        Integer => integer(i32::MIN.into(), i32::MAX.into()),
        BigInt => integer(i64::MIN.into(), i64::MAX.into()),
        Real | Double => {
            let text = decimal_text(v)?;
            let x: f64 = text.parse().ok()?;
            if let V::Int(i) = v {
                if (x as i128) != *i {
                    return None; // beyond a double's 53 bits
                }
            }
            // SQLite keeps every float in 8 bytes.
            if *to == Double || sqlite {
                return Some(V::Float(x));
            }
            let f = x as f32;
            if !f.is_finite() {
                return None;
            }
            // What it reads back as: PostgreSQL the shortest text, MySQL six digits.
            let back: f64 = format!("{f}").parse().ok()?;
            let exact = back == x || format!("{f}").parse::<f64>().ok() == text.parse().ok();
            let same_text = format!("{f}") == format!("{x}");
            if !(exact || same_text) {
                return None;
            }
            if mysql && significant(&format!("{x}")) > 6 {
                return None;
            }
            Some(V::Float(f64::from(f)))
        }
        Numeric {
            precision: Some(p),
            scale,
        } => {
            let s = scale.unwrap_or(0) as usize;
            let text = decimal_text(v)?;
            let x: f64 = text.parse().ok()?;
            let whole = (*p as usize).saturating_sub(s);
            (scale_of(&text) <= s && x.abs() < 10f64.powi(whole as i32)).then(|| {
                V::Dec(Box::leak(
                    if x.fract() == 0.0 {
                        format!("{}", x as i64)
                    } else {
                        format!("{x}")
                    }
                    .into_boxed_str(),
                ))
            })
        }
        Numeric { .. } => decimal_text(v).map(|t| V::Dec(Box::leak(t.into_boxed_str()))),
        Boolean => match v {
            V::Text(s) => match (d, s.as_str()) {
                (Dialect::Postgres, "true") | (Dialect::Mysql | Dialect::Sqlite, "1") => {
                    Some(V::Bool(true))
                }
                (Dialect::Postgres, "false") | (Dialect::Mysql | Dialect::Sqlite, "0") => {
                    Some(V::Bool(false))
                }
                _ => None,
            },
            _ => {
                let x = as_number(v)?;
                if x == 0.0 {
                    Some(V::Bool(false))
                } else if x == 1.0 {
                    Some(V::Bool(true))
                } else {
                    None
                }
            }
        },
        Text | Varchar { .. } | Char { .. } => {
            let t = text_of(v, from, d);
            let fits = match to {
                Varchar { length } => t.chars().count() <= *length as usize,
                Char { length } => t.chars().count() <= *length as usize && !t.ends_with(' '),
                _ => true,
            };
            fits.then_some(V::Text(t))
        }
        Date => match v {
            V::Date(s) => Some(V::Date(s)),
            V::Ts(s) if s.ends_with("00:00:00") => {
                Some(V::Date(Box::leak(s[..10].to_string().into_boxed_str())))
            }
            V::Text(s) if is_date(s) => Some(V::Date(Box::leak(s.clone().into_boxed_str()))),
            _ => None,
        },
        Time => match v {
            V::Time(s) => Some(V::Time(s)),
            V::Text(s) if s.len() == 8 && s.as_bytes()[2] == b':' => {
                Some(V::Time(Box::leak(s.clone().into_boxed_str())))
            }
            _ => None,
        },
        Timestamp | TimestampTz => match v {
            V::Date(s) => Some(V::Ts(format!("{s} 00:00:00"))),
            V::Ts(s) => Some(V::Ts(s.clone())),
            V::Text(s) if is_date(s) => Some(V::Ts(format!("{s} 00:00:00"))),
            V::Text(s) if s.len() == 19 && is_date(&s[..10]) && s.as_bytes()[10] == b' ' => {
                Some(V::Ts(s.clone()))
            }
            _ => None,
        },
        Uuid => match v {
            V::Uuid(s) => Some(V::Uuid(s)),
            V::Text(s) if s == UUID => Some(V::Uuid(UUID)),
            _ => None,
        },
        Json => match v {
            V::Json(s) => Some(V::Json(s)),
            V::Text(s) => {
                let value: serde_json::Value = serde_json::from_str(s).ok()?;
                // PostgreSQL's jsonb keeps the document, not the text: it prints its own.
                let text = if d == Dialect::Postgres {
                    jsonb_text(&value)
                } else {
                    s.clone()
                };
                Some(V::Json(Box::leak(text.into_boxed_str())))
            }
            _ => None,
        },
        Binary | Custom { .. } | Enum { .. } => None,
    }
}

/// How PostgreSQL prints a jsonb value: `", "` and `": "`, keys shortest first.
fn jsonb_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by(|a, b| (a.len(), a.as_bytes()).cmp(&(b.len(), b.as_bytes())));
            let parts: Vec<String> = keys
                .into_iter()
                .map(|k| {
                    format!(
                        "{}: {}",
                        serde_json::Value::String(k.clone()),
                        jsonb_text(&map[k])
                    )
                })
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        serde_json::Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(jsonb_text).collect();
            format!("[{}]", parts.join(", "))
        }
        other => other.to_string(),
    }
}

fn is_date(s: &str) -> bool {
    s.len() == 10
        && s.chars().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                c == '-'
            } else {
                c.is_ascii_digit()
            }
        })
}

/// `v` as an SQL literal of `ty` on `d`.
fn lit(v: &V, ty: &ColumnType, d: Dialect) -> String {
    match v {
        V::Int(i) => i.to_string(),
        V::Dec(s) => s.to_string(),
        V::Float(f) => format!("{f:?}"),
        V::Bool(b) => match d {
            Dialect::Sqlite => u8::from(*b).to_string(),
            _ => b.to_string().to_uppercase(),
        },
        _ => literal(&text_of(v, ty, d), d),
    }
}

/// A condition true when column `c` (of type `ty`) holds `v`, compared as the database
/// compares values of that type.
fn holds(c: &str, v: &V, ty: &ColumnType, d: Dialect) -> String {
    use ColumnType::*;
    let l = lit(v, ty, d);
    match (d, ty) {
        (Dialect::Postgres, _) => {
            format!(
                "{c} = CAST({l} AS {})",
                retort::schema::sql::postgres_type(ty)
            )
        }
        (Dialect::Mysql, Real) => format!("{c} = CAST({l} AS FLOAT)"),
        (Dialect::Mysql, Double) => format!("{c} = CAST({l} AS DOUBLE)"),
        (Dialect::Mysql, Text | Varchar { .. } | Char { .. } | Uuid) => {
            format!("CAST({c} AS BINARY) = CAST({l} AS BINARY)")
        }
        (Dialect::Mysql, Json) => format!("JSON_EQUALS({c}, {l})"),
        (Dialect::Mysql, _) => format!("{c} = {l}"),
        (Dialect::Sqlite, TimestampTz) => {
            format!("julianday({c}) = julianday({l}) AND {c} GLOB '????-??-?? ??:??*'")
        }
        (Dialect::Sqlite, Json) => format!("json({c}) = json({l})"),
        (Dialect::Sqlite, _) => format!("{c} = {l}"),
    }
}

/// The DSL spelling of a type.
fn dsl(ty: &ColumnType) -> String {
    match ty {
        ColumnType::Numeric {
            precision: Some(p),
            scale: Some(s),
        } => format!("numeric({p}, {s})"),
        other => other.to_string(),
    }
}

fn count(db: &TestDb, table: &str, cond: &str) -> i64 {
    db.count(&format!(
        "SELECT COUNT(*) AS n FROM {} WHERE {cond}",
        db.q(table)
    ))
}

#[test]
fn the_docs_show_the_matrix_the_code_decides() {
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/type-conversions.md"),
    )
    .unwrap();
    for table in [matrix_markdown(), extended_matrix_markdown()] {
        assert!(
            doc.contains(&table),
            "docs/type-conversions.md does not show the matrix; put this table in it:\n{table}"
        );
    }
}

#[test]
fn refused_changes_are_refused_at_build_time_naming_the_column() {
    let types = portable_types();
    let mut refused = 0;
    for from in &types {
        for to in &types {
            if !matches!(conversion(from, to), Conversion::Refused(_)) {
                continue;
            }
            refused += 1;
            let table = |ty: &ColumnType| {
                let mut t = Table::new("t");
                t.columns.push(Column::new("id", ColumnType::Integer));
                let mut c = Column::new("c", ty.clone());
                c.nullable = true;
                t.columns.push(c);
                t.primary_key = vec!["id".into()];
                Schema::from_tables([t])
            };
            let err = retort::schema::diff::diff(&table(from), &table(to)).unwrap_err();
            assert!(
                err.message.contains("`t.c` changes from") && err.message.contains("new column"),
                "{from} -> {to}: {}",
                err.message
            );
            // A hand-written migration is refused too, before anything runs.
            let op = retort::schema::ops::Op::AlterColumn {
                table: "t".into(),
                column: "c".into(),
                changes: retort::schema::ops::ColumnChanges {
                    ty: Some(to.clone()),
                    ..Default::default()
                },
                online: false,
            };
            for d in [Dialect::Sqlite, Dialect::Postgres, Dialect::Mysql] {
                let err = render_ops(std::slice::from_ref(&op), &mut table(from), d).unwrap_err();
                assert!(
                    err.message.contains("`t.c`"),
                    "{from} -> {to} on {d:?}: {err}"
                );
            }
        }
    }
    assert!(refused > 100, "{refused}");
}

/// Every convertible pair on one backend: the probes that fit, in one migration (one table
/// per pair), then each probe that does not, on its own.
fn run_matrix(template: &TestDb) {
    let d = template.dialect;
    let name = d.name();
    let types = portable_types();
    let pairs: Vec<(ColumnType, ColumnType)> = types
        .iter()
        .flat_map(|f| types.iter().map(move |t| (f.clone(), t.clone())))
        .filter(|(f, t)| matches!(conversion(f, t), Conversion::Widening | Conversion::Checked))
        .collect();
    // Fitting probes: converted by the upgrade, brought back by the downgrade.
    let db = template.another();
    let mut create = Vec::new();
    let mut up = Vec::new();
    let mut down = Vec::new();
    let mut rows: Vec<(String, String)> = Vec::new();
    let mut expectations: Vec<(String, String, String)> = Vec::new();
    for (i, (from, to)) in pairs.iter().enumerate() {
        let t = format!("p{i}");
        create.push(format!(
            r#"create_table("{t}", column("id", integer), column("c", {f}, nullable), column("orig", {f}, nullable), primary_key(["id"]))"#,
            f = dsl(from)
        ));
        up.push(format!(r#"alter_column("{t}", "c", type_ = {})"#, dsl(to)));
        down.push(format!(
            r#"alter_column("{t}", "c", type_ = {})"#,
            dsl(from)
        ));
        let mut values = Vec::new();
        for (k, v) in probes(from).iter().enumerate() {
            let Some(w) = convert(v, from, to, d) else {
                continue;
            };
            let Some(back) = convert(&w, to, from, d) else {
                continue;
            };
            let l = lit(v, from, d);
            values.push(format!("({k}, {l}, {l})"));
            expectations.push((
                t.clone(),
                format!("id = {k} AND {}", holds("c", &w, to, d)),
                format!("id = {k} AND {}", holds("c", &back, from, d)),
            ));
        }
        values.push("(100, NULL, NULL)".into());
        rows.push((t.clone(), values.join(", ")));
    }
    let graph = Graph::from_revisions([
        rev("r1", None, &create.join(", "), ""),
        rev("r2", Some("r1"), &up.join(", "), &down.join(", ")),
    ]);
    let mut runner = Runner::connect(&graph, &db.url, Options::default()).unwrap();
    runner.upgrade("r1").unwrap();
    for (t, values) in &rows {
        db.exec(&format!("INSERT INTO {t} (id, c, orig) VALUES {values}"));
    }
    runner
        .upgrade("head")
        .unwrap_or_else(|e| panic!("{name}: the fitting values did not convert: {e}"));
    for (t, after_up, _) in &expectations {
        assert_eq!(
            count(&db, t, after_up),
            1,
            "{name}: {t} after the upgrade: {after_up} ({:?})",
            db.texts(&format!("SELECT CAST(c AS {}) AS v FROM {t}", text_type(d)))
        );
    }
    assert_eq!(runner.check().unwrap(), Vec::<String>::new(), "{name}");
    runner.downgrade("r1").unwrap();
    for (t, _, after_down) in &expectations {
        assert_eq!(
            count(&db, t, after_down),
            1,
            "{name}: {t} after the downgrade: {after_down} ({:?})",
            db.texts(&format!("SELECT CAST(c AS {}) AS v FROM {t}", text_type(d)))
        );
    }
    // Probes that do not fit: each stops its migration, naming the column, changing nothing.
    let db = template.another();
    let mut refused = 0;
    for (from, to) in &pairs {
        for v in probes(from) {
            if convert(&v, from, to, d).is_some() {
                continue;
            }
            db.exec(&format!(
                "DROP TABLE IF EXISTS retort_versions; DROP TABLE IF EXISTS {}",
                db.q("m")
            ));
            let graph = Graph::from_revisions([
                rev(
                    "r1",
                    None,
                    &format!(
                        r#"create_table("m", column("id", integer), column("c", {}, nullable), primary_key(["id"]))"#,
                        dsl(from)
                    ),
                    "",
                ),
                rev(
                    "r2",
                    Some("r1"),
                    &format!(r#"alter_column("m", "c", type_ = {})"#, dsl(to)),
                    &format!(r#"alter_column("m", "c", type_ = {})"#, dsl(from)),
                ),
            ]);
            let mut runner = Runner::connect(&graph, &db.url, Options::default()).unwrap();
            runner.upgrade("r1").unwrap();
            db.exec(&format!(
                "INSERT INTO m (id, c) VALUES (1, {})",
                lit(&v, from, d)
            ));
            let err = match runner.upgrade("head") {
                Ok(_) => {
                    panic!("{name}: {v:?} went from {from} to {to}, which the reference refuses")
                }
                Err(e) => e.to_string(),
            };
            assert!(
                err.contains("m.c") || err.contains("\"c\"") || err.contains("`c`"),
                "{name}: {from} -> {to} refusing {v:?} does not name the column: {err}"
            );
            let live = Runner::connect(&graph, &db.url, Options::default())
                .unwrap()
                .introspect()
                .unwrap();
            assert_eq!(
                live.tables["m"].column("c").unwrap().ty,
                template_catalog(template).stored_type(from),
                "{name}: {from} -> {to} with {v:?}: the column changed type"
            );
            assert_eq!(
                count(&db, "m", &holds("c", &v, from, d)),
                1,
                "{name}: {from} -> {to}: {v:?} changed"
            );
            refused += 1;
        }
    }
    eprintln!(
        "{name}: {} pairs converted {} fitting probes both ways; {refused} misfits refused",
        pairs.len(),
        expectations.len()
    );
}

fn template_catalog(db: &TestDb) -> retort::schema::sql::Catalog {
    db.backend().catalog()
}

fn text_type(d: Dialect) -> &'static str {
    match d {
        Dialect::Mysql => "CHAR",
        _ => "TEXT",
    }
}

#[test]
fn every_convertible_pair_converts_what_fits_and_refuses_what_does_not() {
    for template in TestDb::all() {
        run_matrix(&template);
    }
}
