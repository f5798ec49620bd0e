#!/usr/bin/env bash
# Build cost of retort for an application, beside diesel_migrations: three minimal apps on
# diesel + bundled SQLite, each built from clean (its own target folder) in release mode.
#
#   app_base               diesel with SQLite: opens the database and runs a query
#   app_diesel_migrations  base + diesel_migrations: embeds one migration, runs it at start
#   app_retort             base + retort (default features) and retort-build in build.rs:
#                          one model, its migration, the startup upgrade at start
#   app_retort_lean        app_retort with `default-features = false, features = ["sqlite"]`:
#                          without `introspect` (check, adoption), which diesel_migrations
#                          does not do either
#
# Prints each clean build's wall time and binary size, and each app's ratio to the base.
# Usage: bash bench/build-cost.sh [rounds]   (default 1; each round builds every app)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
rounds="${1:-1}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

app() { # name, extra dependencies, main body, [build-dependencies]
    local dir="$work/$1"
    mkdir -p "$dir/src"
    cat > "$dir/Cargo.toml" <<TOML
[package]
name = "$1"
version = "0.1.0"
edition = "2021"
publish = false

[workspace]

[dependencies]
diesel = { version = "2.3", default-features = false, features = ["sqlite"] }
libsqlite3-sys = { version = ">=0.17, <0.40", features = ["bundled"] }
$2

[build-dependencies]
${4:-}

[profile.release]
strip = true
TOML
    printf '%s\n' "$3" > "$dir/src/main.rs"
}

app app_base "" '
use diesel::prelude::*;
fn main() {
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| ":memory:".into());
    let mut conn = SqliteConnection::establish(&url).expect("opens");
    diesel::sql_query("CREATE TABLE IF NOT EXISTS tasks (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
        .execute(&mut conn)
        .expect("runs");
}'

app app_diesel_migrations 'diesel_migrations = { version = "2.3", features = ["sqlite"] }' '
use diesel::prelude::*;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");
fn main() {
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| ":memory:".into());
    let mut conn = SqliteConnection::establish(&url).expect("opens");
    conn.run_pending_migrations(MIGRATIONS).expect("migrates");
}'
mkdir -p "$work/app_diesel_migrations/migrations/2026-11-26-000000_initial"
echo 'CREATE TABLE tasks (id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, name TEXT NOT NULL);' \
    > "$work/app_diesel_migrations/migrations/2026-11-26-000000_initial/up.sql"
echo 'DROP TABLE tasks;' > "$work/app_diesel_migrations/migrations/2026-11-26-000000_initial/down.sql"

app app_retort "retort = { path = \"$root/runtime\" }" '
retort::include_migrations!();
#[derive(retort::Table)]
#[table(name = "tasks")]
pub struct Task {
    #[column(primary_key, autoincrement)]
    pub id: i32,
    pub name: String,
}
fn main() {
    retort::Startup::new(&MIGRATIONS)
        .url(std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite::memory:".into()))
        .run()
        .expect("migrates");
}' "retort-build = { path = \"$root/autogen\" }"
printf 'fn main() {\n    retort_build::generate().unwrap();\n}\n' > "$work/app_retort/build.rs"
rm -rf "$work/app_retort_lean"
cp -r "$work/app_retort" "$work/app_retort_lean"
sed -i "s/^name = \"app_retort\"/name = \"app_retort_lean\"/; s|^retort = { path = \"$root/runtime\" }|retort = { path = \"$root/runtime\", default-features = false, features = [\"sqlite\"] }|" \
    "$work/app_retort_lean/Cargo.toml"
grep -q 'default-features = false' "$work/app_retort_lean/Cargo.toml"

# The same dependency versions as the workspace, resolved without the network.
for a in app_base app_diesel_migrations app_retort app_retort_lean; do
    cp "$root/Cargo.lock" "$work/$a/Cargo.lock"
done
# app_retort's first build writes its migration (from the model) and compiles it in the same
# build, as in a real project's first `cargo build`.

declare -A total size
for r in $(seq "$rounds"); do
    for a in app_base app_diesel_migrations app_retort app_retort_lean; do
        target="$work/target-$a"
        rm -rf "$target"
        start=$(date +%s.%N)
        (cd "$work/$a" && cargo build --release --offline -q --target-dir "$target")
        end=$(date +%s.%N)
        t=$(echo "$end - $start" | bc)
        total[$a]=$(echo "${total[$a]:-0} + $t" | bc)
        size[$a]=$(stat -c %s "$target/release/$a")
        echo "round $r: $a built in ${t} s" >&2
    done
done
echo "clean release build (mean of $rounds round(s)) and stripped binary size, on $(nproc) cores"
for a in app_base app_diesel_migrations app_retort app_retort_lean; do
    mean=$(echo "scale=2; ${total[$a]} / $rounds" | bc)
    base_mean=$(echo "scale=4; ${total[app_base]} / $rounds" | bc)
    printf '  %-22s %7.1f s  (%+.0f %% vs base)   binary %5.2f MiB (%.2f× base, %.2f× diesel_migrations)\n' \
        "$a" "$mean" "$(echo "($mean - $base_mean) * 100 / $base_mean" | bc -l)" \
        "$(echo "${size[$a]} / 1048576" | bc -l)" "$(echo "${size[$a]} / ${size[app_base]}" | bc -l)" \
        "$(echo "${size[$a]} / ${size[app_diesel_migrations]}" | bc -l)"
done
