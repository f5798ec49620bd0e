//! The migration sets every contender runs: the same operations, rendered once to the same
//! SQL, so retort, diesel_migrations and the raw-SQL floor execute identical statements.

use retort::schema::sql::{render_ops, Dialect, Step};
use retort::schema::Schema;
use retort::{CompiledMigration, Migrations};
use retort_schema::migration::{parse_file, MigrationFile};

/// One migration: its file (ops) and the SQL its upgrade and downgrade render to.
pub struct Item {
    /// The migration file's text, as the build script reads it.
    pub text: String,
    pub file: MigrationFile,
    pub up_sql: String,
    pub down_sql: String,
}

/// A history of `n` ordinary migrations, four kinds in turn: create a table (with a
/// foreign key to the previous one), add a nullable column, create an index, add a NOT NULL
/// column with a default. All native on SQLite (no rebuilds): the cost measured is the
/// tool's, not the database's.
pub fn history(n: usize) -> Vec<Item> {
    history_of(n, Kind::Mixed)
}

/// Which migrations a history is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// Four kinds in turn: create table, add column, create index, add column with default.
    Mixed,
    /// Two kinds in turn: create table, create index. SQLite re-reads its whole schema after
    /// every `ALTER TABLE … ADD COLUMN`, so a mixed history costs SQLite itself more per
    /// migration as it grows; this one does not, which isolates the tool's own scaling.
    Create,
}

/// A history of `n` migrations of a kind, its SQL in SQLite's dialect.
pub fn history_of(n: usize, kind: Kind) -> Vec<Item> {
    history_in(n, kind, Dialect::Sqlite)
}

/// A history of `n` migrations of a kind, its SQL in `dialect`.
pub fn history_in(n: usize, kind: Kind, dialect: Dialect) -> Vec<Item> {
    let mut schema = Schema::new();
    let mut items = Vec::with_capacity(n);
    for i in 0..n {
        let (g, step) = match kind {
            Kind::Mixed => (i / 4, i % 4),
            // Steps 0 and 2 of the mixed cycle only.
            Kind::Create => (i / 2, (i % 2) * 2),
        };
        let (up, down) = match step {
            0 => {
                let fk = if g > 0 {
                    format!(
                        r#", column("parent_id", bigint, nullable), foreign_key("fk_t{g}_parent_id_t{p}", ["parent_id"], "t{p}", ["id"])"#,
                        p = g - 1
                    )
                } else {
                    String::new()
                };
                (
                    format!(
                        r#"create_table("t{g}", column("id", bigint, autoincrement), column("name", varchar(80)), column("created_at", timestamp, server_default = "CURRENT_TIMESTAMP"){fk}, primary_key(["id"]))"#
                    ),
                    format!(r#"drop_table("t{g}")"#),
                )
            }
            1 => (
                format!(r#"add_column("t{g}", column("note", text, nullable))"#),
                format!(r#"drop_column("t{g}", "note")"#),
            ),
            2 => (
                format!(r#"create_index("ix_t{g}_name", "t{g}", ["name"])"#),
                format!(r#"drop_index("ix_t{g}_name", "t{g}")"#),
            ),
            _ => (
                format!(r#"add_column("t{g}", column("score", integer, server_default = "0"))"#),
                format!(r#"drop_column("t{g}", "score")"#),
            ),
        };
        let parents = if i == 0 {
            String::new()
        } else {
            format!("\"{}\"", id(i - 1))
        };
        let text = format!(
            "retort::migration! {{ revision: \"{}\", parents: [{parents}], message: \"step {i}\", up: [{up}], down: [{down}] }}",
            id(i)
        );
        let file = parse_file(&text).unwrap_or_else(|e| panic!("workload {i}: {e}"));
        // Up from the schema before, down from the schema after, then forward again.
        let up_sql = sql(&file, &file.up, &mut schema, dialect);
        let down_sql = sql(&file, &file.down, &mut schema, dialect);
        for op in &file.up {
            op.apply(&mut schema).expect("replays");
        }
        items.push(Item {
            text,
            file,
            up_sql,
            down_sql,
        });
    }
    items
}

/// The revision id of the `i`th migration: sortable, and a valid diesel version.
pub fn id(i: usize) -> String {
    format!("{:014}_m", i + 1)
}

fn sql(
    file: &MigrationFile,
    ops: &[retort::schema::ops::Op],
    schema: &mut Schema,
    dialect: Dialect,
) -> String {
    render_ops(ops, schema, dialect)
        .unwrap_or_else(|e| panic!("{}: {}", file.revision, e.message))
        .into_iter()
        .flatten()
        .map(|step| match step {
            Step::Sql(s) => format!("{};\n", s.trim_end_matches(';')),
            other => panic!("the workload has only SQL steps, not {other:?}"),
        })
        .collect()
}

/// The history as the `migration!` macro would have compiled it: static migrations with
/// their checksums, and operations built by code when a migration runs (here a clone of the
/// parsed operations, which allocates what the compiled constructors allocate). Laid out as
/// a binary holds them: the strings side by side in one block (the binary's read-only data),
/// the migrations in one array; leaked, as statics live as long as the process.
pub fn compiled(items: &[Item]) -> Migrations {
    struct Texts {
        revision: String,
        parents: Vec<String>,
        message: String,
        checksum: String,
        up: Vec<retort::schema::ops::Op>,
        down: Vec<retort::schema::ops::Op>,
    }
    let texts: Vec<Texts> = items
        .iter()
        .map(|item| {
            let f = &item.file;
            Texts {
                revision: f.revision.clone(),
                parents: f.parents.clone(),
                message: f.message.clone(),
                checksum: f.checksum(),
                up: f.up.clone(),
                down: f.down.clone(),
            }
        })
        .collect();
    let mut block = String::new();
    for t in &texts {
        block.push_str(&t.revision);
        t.parents.iter().for_each(|p| block.push_str(p));
        block.push_str(&t.message);
        block.push_str(&t.checksum);
    }
    let block: &'static str = Box::leak(block.into_boxed_str());
    let mut at = 0;
    let mut take = |s: &str| -> &'static str {
        let out = &block[at..at + s.len()];
        at += s.len();
        out
    };
    let mut parent_lists: Vec<&'static str> = Vec::new();
    let mut spans = Vec::with_capacity(texts.len());
    let mut fields = Vec::with_capacity(texts.len());
    for t in texts {
        let revision = take(&t.revision);
        let start = parent_lists.len();
        for p in &t.parents {
            parent_lists.push(take(p));
        }
        spans.push((start, parent_lists.len()));
        fields.push((
            revision,
            take(&t.message),
            take(&t.checksum),
            ops(t.up),
            ops(t.down),
        ));
    }
    let parent_lists: &'static [&'static str] = Box::leak(parent_lists.into_boxed_slice());
    let migrations: Vec<CompiledMigration> = fields
        .into_iter()
        .zip(spans)
        .map(
            |((revision, message, checksum, upgrade, downgrade), (a, b))| CompiledMigration {
                revision,
                parents: &parent_lists[a..b],
                message,
                checksum,
                earlier_checksums: &[],
                upgrade,
                downgrade,
                functions: &[],
                atomic: true,
                replaces: &[],
            },
        )
        .collect();
    let migrations: &'static [CompiledMigration] = Box::leak(migrations.into_boxed_slice());
    let list: Vec<&'static CompiledMigration> = migrations.iter().collect();
    // As the build's index records it: the last migration of the chain is the head.
    let head: &'static [&'static str] = match migrations.last() {
        Some(m) => Box::leak(Box::new([m.revision])),
        None => &[],
    };
    Migrations::new(Box::leak(list.into_boxed_slice())).with_heads(head)
}

/// Operations made at run time, as a compiled migration's builder.
fn ops(list: Vec<retort::schema::ops::Op>) -> retort::OpsFn {
    Box::leak(Box::new(move || list.clone()))
}

/// The same history as diesel_migrations embeds it (`embed_migrations!` builds exactly
/// these values at compile time).
pub fn diesel_embedded(items: &[Item]) -> &'static [diesel_migrations::EmbeddedMigration] {
    use diesel_migrations::{EmbeddedMigration, EmbeddedName, TomlMetadataWrapper};
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    let list: Vec<EmbeddedMigration> = items
        .iter()
        .map(|item| {
            EmbeddedMigration::new(
                leak(item.up_sql.clone()),
                Some(leak(item.down_sql.clone())),
                EmbeddedName::new(leak(item.file.revision.clone())),
                TomlMetadataWrapper::new(true),
            )
        })
        .collect();
    Box::leak(list.into_boxed_slice())
}
