#[derive(retort::DbEnum)]
#[db_enum(name = "task_status", schema = "x")]
enum Status {
    Draft,
    Running(u32),
    #[db_enum(name = "draft")]
    Done,
    #[db_enum(renamed_from = "")]
    Gone,
}

#[derive(retort::DbEnum)]
enum Empty {}

#[derive(retort::DbEnum)]
struct NotAnEnum;

fn main() {}
