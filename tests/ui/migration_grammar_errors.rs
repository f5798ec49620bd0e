retort::migration! {
    revision: "20261126_101010_abcd",
    parents: [],
    message: "broken",
    up: [
        add_colum("tasks", column("status", text)),
        add_column("tasks", column("status", txt)),
    ],
    down: [],
}

fn main() {}
