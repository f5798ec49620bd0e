retort::migration! {
    revision: "20261126_101010_abcd",
    parents: [],
    message: "data",
    up: [run(backfill_missing)],
    down: [],
}

fn main() {}
