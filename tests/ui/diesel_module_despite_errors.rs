// A model with a wrong attribute still gives diesel's `table!` module: code that queries the
// table sees only the attribute's error, not "cannot find `tasks`" at every use.
use diesel::prelude::*;

#[derive(retort::Table)]
#[table(name = "tasks")]
pub struct Task {
    #[column(primary_key)]
    pub id: i32,
    #[column(max_length = "long")]
    pub name: String,
    pub done: bool,
}

fn main() {
    let _query = tasks::table
        .filter(tasks::name.eq("x").and(tasks::done.eq(false)))
        .select(tasks::id);
}
