//! The version rows keep what a migration says about itself, whatever its text holds: a
//! message with quotes, backslashes, percent signs, non-ASCII and line breaks is written
//! (one row at a time, and a batch's rows in one statement) and read back unchanged on
//! every backend, and a second run finds every checksum as recorded.

mod support;

use retort::{Graph, Runner};

/// Messages that need escaping in SQL somewhere (MySQL's backslash among them).
const MESSAGES: [&str; 5] = [
    "it's the users' table",
    r"a back\slash, two \\ and a trailing one \",
    "\"quoted\" — naïve ünïcode, 100% _like_ %",
    "two\nlines\tand a tab",
    "'; DROP TABLE retort_versions; --",
];

fn graph() -> Graph {
    let ids: Vec<String> = (0..MESSAGES.len()).map(|i| format!("m{i}")).collect();
    Graph::from_revisions(MESSAGES.iter().enumerate().map(|(i, message)| {
        let parent = i.checked_sub(1).map(|p| ids[p].as_str());
        let (up, down) = support::table_ops(&format!("t{i}"));
        support::rev_saying(&ids[i], parent, message, &up, &down)
    }))
}

#[test]
fn messages_that_need_escaping_are_recorded_as_written() {
    let graph = graph();
    support::on_each_fresh_database(|db, options, name| {
        let mut runner = Runner::connect(&graph, &db.url, options.clone()).unwrap();
        let done = runner.upgrade("head").unwrap();
        assert_eq!(done.len(), MESSAGES.len(), "{name}");
        let rows = runner.applied_rows().unwrap();
        for (i, message) in MESSAGES.iter().enumerate() {
            let row = rows
                .iter()
                .find(|r| r.revision == format!("m{i}"))
                .unwrap_or_else(|| panic!("{name}: m{i} recorded"));
            assert_eq!(&row.message, message, "{name}: m{i}");
        }
        drop(runner);
        // A second run checks every row against the code: nothing to do, nothing refused.
        let mut again = Runner::connect(&graph, &db.url, options).unwrap();
        assert_eq!(
            again.upgrade("head").unwrap(),
            Vec::<String>::new(),
            "{name}"
        );
        assert_eq!(
            again.applied_rows().unwrap().len(),
            MESSAGES.len(),
            "{name}"
        );
    });
}
