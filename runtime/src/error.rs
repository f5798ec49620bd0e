//! The one error type of the runtime; each message names the object and the fix.

/// What went wrong while connecting, planning or applying migrations.
///
/// Non-exhaustive: new backends bring new failures; match the variants you handle and keep a
/// wildcard arm. Underlying errors (the database's, the file system's) are kept as the
/// [`source`](std::error::Error::source) of a variant, not flattened into its message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No URL was given.
    #[error("no database URL: pass --database-url, or set DB_URL or DATABASE_URL (e.g. DB_URL=sqlite:///records.db)")]
    NoUrl,
    /// The URL cannot be used.
    #[error("cannot use database URL `{url}`: {problem}. Accepted: sqlite:///path/to/file.db, sqlite://file.db, a plain file path, sqlite::memory:, postgres://user:password@host/db[?schema=name], mysql://user:password@host/db (or mariadb://)")]
    BadUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The database refused a connection or a statement outside a migration.
    #[error("{context}: {source}")]
    Database {
        /// What retort was doing.
        context: String,
        /// What the database (or the system) said.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A revision argument names nothing.
    #[error("no revision matches `{0}`; see `db history` for the revisions this build knows")]
    NoSuchRevision(String),
    /// A revision prefix matches several revisions.
    #[error("`{prefix}` matches several revisions ({}); give more characters", matches.join(", "))]
    AmbiguousRevision {
        /// The prefix.
        prefix: String,
        /// What it matches.
        matches: Vec<String>,
    },
    /// The graph has several heads and no target was named.
    #[error("the migrations have several heads ({}); name the target (e.g. `upgrade {}`) or rebuild to let retort-build write a merge migration", heads.join(", "), heads.first().map(String::as_str).unwrap_or("<rev>"))]
    MultipleHeads {
        /// The heads.
        heads: Vec<String>,
    },
    /// The database has revisions the code does not know.
    #[error("the database is at revision {} which this build does not know: the database is ahead of the code (a newer version was deployed?). Nothing was changed. Run the code that has that migration, or downgrade with it first", revisions.join(", "))]
    DatabaseAhead {
        /// The unknown revisions.
        revisions: Vec<String>,
    },
    /// An applied migration changed after it was applied.
    #[error("migration {revision} was changed after it was applied (recorded checksum {recorded}, file now {current}). Nothing was changed. Restore the file as it was applied (e.g. from git); if the database already matches the edited file, record the new checksum with `db stamp {revision}`")]
    ChecksumMismatch {
        /// The revision.
        revision: String,
        /// Checksum in the version table.
        recorded: String,
        /// Checksum of the compiled migration.
        current: String,
    },
    /// A migration failed; everything since the last commit was rolled back.
    #[error("migration {revision} failed and was rolled back (the database stays at {at}).\noperation: {operation}\nstatement: {}\ndatabase said: {message}", shown_statement(.statement, .message))]
    MigrationFailed {
        /// The revision.
        revision: String,
        /// Where the database stays.
        at: Box<str>,
        /// The operation that failed, described (`alter column tasks.note (NOT NULL)`),
        /// then, when retort knows what to do, a line `fix: …`.
        operation: Box<str>,
        /// The statement that failed, whole (the message shows a long one trimmed around
        /// where the database says it failed; `RETORT_FULL_SQL=1` shows it whole).
        statement: String,
        /// The database's message (or the check's, or the data-migration function's).
        message: Box<str>,
        /// The error itself, where there is one: the database driver's, or the one the
        /// data-migration function returned.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The operations cannot be rendered for this database.
    #[error("migration {revision}: {source}")]
    Render {
        /// The revision.
        revision: String,
        /// Why: the renderer's error (`retort_schema::sql::RenderError`), the operation's
        /// (`retort_schema::ops::ApplyError`), or what the build lacks.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A database made before migrations matches no revision.
    #[error("the database has tables but no version table, and matches no revision of this build, so it was not adopted (nothing was changed). Differences from the head:\n{}\nBring the schema in line, or stamp it by hand with `db stamp <rev>` if you know where it stands", differences.iter().map(|d| format!("  - {d}")).collect::<Vec<_>>().join("\n"))]
    AdoptionRefused {
        /// Differences against the head schema.
        differences: Vec<String>,
    },
    /// `db adopt --from <tool>` found the other tool's state unfit to take over.
    #[error("cannot adopt the database from {tool}: {reason}. Nothing was changed")]
    AdoptFromRefused {
        /// The other tool.
        tool: String,
        /// What is wrong, and what to do.
        reason: String,
    },
    /// A database without retort's version table holds another tool's, and adoption from it
    /// was not asked for.
    #[error("the database has no retort version table but has `{table}`, so {tool} keeps it; nothing was changed. Take it over with `db adopt --from {tool}` (or RETORT_ADOPT_FROM={tool} at start-up), which checks {tool}'s state and the schema first")]
    ManagedByOtherTool {
        /// The other tool.
        tool: String,
        /// Its version table.
        table: String,
    },
    /// The database stopped part-way through the revisions a checkpoint replaced, and this
    /// build no longer has their files.
    #[error("the database went through {done} of the {total} revisions that checkpoint {checkpoint} replaces (up to {last}), and this build no longer has their files, so it cannot finish them; nothing was changed. Upgrade this database with a build that still has them (a release from before they were deleted), then run this one")]
    PartWayThroughCheckpoint {
        /// The checkpoint.
        checkpoint: String,
        /// How many of its revisions the database has.
        done: usize,
        /// How many it replaces.
        total: usize,
        /// The last of them the database has.
        last: String,
    },
    /// Another process held the migration lock for longer than the timeout.
    #[error("another process has held the migration lock for more than {}s ({holder}); nothing was changed. Wait for it to finish, or raise the lock timeout (--lock-timeout / Options::lock_timeout)", waited.as_secs())]
    LockTimeout {
        /// How long this process waited.
        waited: std::time::Duration,
        /// Who holds the lock, as the database reports it.
        holder: String,
    },
    /// Another process took over the migration lock while this one held it: the lock's
    /// heartbeat (a Galera cluster's lock row) did not move for the stale-lock time. The run
    /// stops before its next statement.
    #[error("another process took over the migration lock while this one held it (its heartbeat did not reach the cluster for {} s, RETORT_LOCK_STALE_AFTER), so this run stopped before its next statement. Check `db current` on the cluster before running again; if a single statement can hold the cluster's commits back for longer than that (a long ALTER on Galera), raise RETORT_LOCK_STALE_AFTER", stale_after.as_secs())]
    LockLost {
        /// The stale-lock time in force.
        stale_after: std::time::Duration,
    },
    /// The database takes no writes: a command that would write is refused before it
    /// takes the lock.
    #[error("the database is {reason}; `{command}` writes, so it was refused and nothing was changed. Point the URL at the primary (e.g. a separate migration URL); on a replica, `db current`, `db history` and `db check` work")]
    ReadOnly {
        /// Why, as the database says it.
        reason: String,
        /// The command refused (`upgrade`, `downgrade`, `stamp`, `resolve`).
        command: &'static str,
    },
    /// A migration's statement gave up waiting for a lock on what it changes (the DDL lock
    /// timeout), every time it was tried.
    #[error("migration {revision} could not get the lock its statement needs: each of {tries} tries waited {}, while other sessions held locks on what it changes, and gave up; {outcome}.\nstatement: {statement}\nin the way: {blockers}\nfix: end those sessions' transactions (or wait until they end) and run again; or allow a longer wait with --ddl-lock-timeout / --ddl-lock-retries (RETORT_DDL_LOCK_TIMEOUT / RETORT_DDL_LOCK_RETRIES, Options::ddl_lock_timeout)", seconds(waited))]
    LockWait {
        /// The revision.
        revision: String,
        /// The statement that waited.
        statement: String,
        /// How long each try waited.
        waited: std::time::Duration,
        /// How many times it was tried.
        tries: u32,
        /// The sessions holding locks in the way, as the database reports them.
        blockers: String,
        /// What became of the migration (`it was rolled back; the database stays at …`).
        outcome: String,
    },
    /// A migration stopped between two statements on a database whose DDL commits on its
    /// own (MySQL/MariaDB): part of it is applied.
    #[error("migration {revision} stopped part-way through its {direction}, which ran outside a transaction (the database cannot roll DDL back, or the migration says `atomic: false`): {done} of {total} statement(s) ran{cause}. Nothing more is run until it is resolved.\nran:\n{}\nnot run:\n{}\nfix: either run the statements that did not run by hand and then `db resolve {revision} --applied`, or undo those that ran and then `db resolve {revision} --reverted`", list(statements.get(..*done).unwrap_or(statements)), list(statements.get(*done..).unwrap_or_default()))]
    Interrupted {
        /// The revision.
        revision: String,
        /// `upgrade` or `downgrade`.
        direction: &'static str,
        /// Statements that ran.
        done: usize,
        /// Statements in all.
        total: usize,
        /// The migration's statements, rendered again: the first `done` ran, the rest did not.
        statements: Vec<String>,
        /// Why it stopped, when this run saw it stop (`; then … failed …`).
        cause: Box<str>,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// A command-line argument is not understood.
    #[error("{0}")]
    Usage(String),
    /// The call needs a part of retort that this build leaves out (a cargo feature that is
    /// off).
    #[error("this build of retort leaves out {what}: enable retort's `{feature}` feature (on by default; the `retort` CLI has it). Nothing was changed")]
    NotInBuild {
        /// What the call needed.
        what: &'static str,
        /// The feature that brings it.
        feature: &'static str,
    },
}

/// Whether this build reads the live schema (retort's `introspect` feature, on by default).
pub(crate) const INTROSPECTION: bool = cfg!(feature = "introspect");

/// `Ok` when this build reads the live schema ([`INTROSPECTION`]); otherwise the
/// [`Error::NotInBuild`] that names `what` needed it. A constant after inlining, so a build
/// without the feature links none of the code behind the check.
#[inline(always)]
pub(crate) fn introspection(what: &'static str) -> Result<()> {
    if INTROSPECTION {
        Ok(())
    } else {
        Err(Error::NotInBuild {
            what,
            feature: "introspect",
        })
    }
}

fn list(statements: &[String]) -> String {
    if statements.is_empty() {
        return "  (none)".into();
    }
    statements
        .iter()
        .map(|s| format!("  {};", s.trim_end_matches(';')))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A result with the runtime's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A duration as the messages give it: `5 s`, `0.3 s`.
fn seconds(d: &std::time::Duration) -> String {
    format!("{} s", crate::seconds::short(*d))
}

/// How many characters of a failing statement an error message shows before trimming it.
const SHOWN_CHARS: usize = 600;

/// The failing statement as an error message shows it: whole when short (or with
/// `RETORT_FULL_SQL=1`), else the part around where the database says it failed (SQLite's
/// and MySQL's `near "…"`, MySQL's `at line N`), or its start and end, with what was left
/// out counted.
pub(crate) fn shown_statement(statement: &str, message: &str) -> String {
    let chars: Vec<(usize, char)> = statement.char_indices().collect();
    let full = std::env::var("RETORT_FULL_SQL").is_ok_and(|v| v == "1" || v == "true");
    if chars.len() <= SHOWN_CHARS || full {
        return statement.to_string();
    }
    let char_at = |byte: usize| chars.partition_point(|(b, _)| *b < byte);
    let (from, to) = match failure_offset(statement, message).map(char_at) {
        Some(at) => {
            let from = at.saturating_sub(SHOWN_CHARS / 2);
            (from, (from + SHOWN_CHARS).min(chars.len()))
        }
        None => (0, SHOWN_CHARS * 2 / 3),
    };
    let byte = |c: usize| chars.get(c).map_or(statement.len(), |(b, _)| *b);
    let mut out = String::new();
    if from > 0 {
        out.push_str(&format!("[{from} characters left out] …"));
    }
    out.push_str(&statement[byte(from)..byte(to)]);
    let mut left = chars.len() - to;
    if from == 0 && left > SHOWN_CHARS / 3 {
        // No position known: the end too, where a long statement's mistake often is.
        let tail = chars.len() - SHOWN_CHARS / 3;
        out.push_str(&format!(" … [{} characters left out] … ", tail - to));
        out.push_str(&statement[byte(tail)..]);
        left = 0;
    }
    if left > 0 {
        out.push_str(&format!("… [{left} characters left out]"));
    }
    out.push_str(&format!(
        " ({} characters in all; RETORT_FULL_SQL=1 or `db --verbose` shows it whole)",
        chars.len()
    ));
    out
}

/// Where in `statement` the database's `message` says it failed, as a byte offset: the text
/// after `near` (a syntax error: SQLite, MySQL, PostgreSQL's `at or near`), else a name the
/// message quotes or ends with (`no such column: x`, `column "x" does not exist`, `Unknown
/// column 'x'`) where it stands as a word in the statement, else MySQL's `at line N`.
fn failure_offset(statement: &str, message: &str) -> Option<usize> {
    for open in ["near '", "near \""] {
        if let Some(rest) = message.split_once(open).map(|(_, r)| r) {
            let close = &open[open.len() - 1..];
            let snippet = rest
                .rsplit_once(&format!("{close} at line"))
                .map_or_else(|| rest.split(close).next().unwrap_or(""), |(s, _)| s);
            let probe: String = snippet.chars().take(40).collect();
            if !probe.trim().is_empty() {
                if let Some(at) = statement.find(&probe) {
                    return Some(at);
                }
            }
        }
    }
    let mut names: Vec<&str> = Vec::new();
    for quote in ['"', '\'', '`'] {
        names.extend(message.split(quote).skip(1).step_by(2));
    }
    if let Some((_, last)) = message.rsplit_once(": ") {
        names.push(last.trim());
    }
    for name in names {
        // `db.table` as MySQL names it: the last part is what the statement says.
        let name = name.rsplit('.').next().unwrap_or(name);
        if let Some(at) = word_at(statement, name) {
            return Some(at);
        }
    }
    let line: usize = message
        .split_once(" at line ")?
        .1
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()?;
    let mut offset = 0;
    for (i, l) in statement.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            return Some(offset);
        }
        offset += l.len();
    }
    None
}

/// The first place `word` stands in `text` as a whole identifier.
fn word_at(text: &str, word: &str) -> Option<usize> {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    if word.is_empty() || !word.chars().all(ident) {
        return None;
    }
    text.match_indices(word).map(|(at, _)| at).find(|&at| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(ident) && !after.is_some_and(ident)
    })
}

#[cfg(test)]
mod statement_tests {
    use super::shown_statement;

    #[test]
    fn a_long_failing_statement_is_trimmed_around_the_failure() {
        let short = "CREATE TABLE t (id INT)";
        assert_eq!(shown_statement(short, "boom"), short);

        let values: Vec<String> = (0..3000).map(|i| format!("({i})")).collect();
        let long = format!(
            "INSERT INTO t VALUES {}, (oops), {}",
            values[..1500].join(", "),
            values[1500..].join(", ")
        );
        // MySQL and SQLite name the text where they stopped.
        for message in [
            "You have an error in your SQL syntax; check the manual near 'oops), (1500), (1501), (1502), (1503), (1504), (1505), (' at line 1",
            "near \"oops\": syntax error",
        ] {
            let shown = shown_statement(&long, message);
            assert!(shown.contains("(oops)"), "{shown}");
            assert!(shown.len() < 900, "{} characters shown", shown.len());
            assert!(shown.starts_with('['), "{shown}");
            assert!(shown.contains("characters left out"), "{shown}");
            assert!(shown.contains(&format!("{} characters in all", long.len())), "{shown}");
        }
        // A name the message quotes or ends with, where it stands as a word.
        for message in [
            "no such column: oops",
            "column \"oops\" does not exist",
            "Unknown column 'oops' in 'field list'",
        ] {
            let shown = shown_statement(&long, message);
            assert!(shown.contains("(oops)"), "{message}: {shown}");
        }
        // No position: its start and its end.
        let shown = shown_statement(&long, "duplicate key value");
        assert!(shown.starts_with("INSERT INTO t VALUES (0)"), "{shown}");
        assert!(shown.contains("(2999)"), "{shown}");
        assert!(shown.len() < 900, "{}", shown.len());
        // MySQL's line number, on a statement of many lines.
        let lines: Vec<String> = (0..400).map(|i| format!("  c{i} INT,")).collect();
        let ddl = format!("CREATE TABLE t (\n{}\n  bad BAD\n)", lines.join("\n"));
        let shown = shown_statement(&ddl, "error near '' at line 402");
        assert!(shown.contains("bad BAD"), "{shown}");
    }
}
