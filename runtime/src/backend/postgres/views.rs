//! How PostgreSQL prints the models' views, for `check` to compare with the catalog's print.

use std::collections::BTreeMap;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::Text;

use retort_schema::model::view_body;
use retort_schema::sql::Dialect;
use retort_schema::{ObjectKind, Schema};

/// Each expected view's query as the server prints it back (`pg_get_viewdef`), by object
/// key: a temporary view of the same query made and rolled back. A view whose probe fails
/// (a read-only server) is left out, and compared by name only.
pub(super) fn view_prints(conn: &mut PgConnection, expected: &Schema) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for o in expected.objects.values() {
        if !matches!(o.kind, ObjectKind::View | ObjectKind::MaterializedView) {
            continue;
        }
        let Some((columns, query)) = o.sql_for(Dialect::Postgres).and_then(view_body) else {
            continue;
        };
        // A temporary view prints the query as the declared one does (same search path);
        // a materialized view's query prints the same way in a plain view.
        let probe = format!(
            "CREATE TEMP VIEW retort_view_probe {} AS {query}",
            columns.unwrap_or_default()
        );
        let printed = diesel::Connection::transaction::<(), Probe, _>(conn, |c| {
            c.batch_execute(&probe)?;
            let rows: Vec<Print> = diesel::sql_query(
                "SELECT pg_get_viewdef('pg_temp.retort_view_probe'::regclass) AS v",
            )
            .load(c)?;
            Err(Probe::Printed(rows.into_iter().next().map(|r| r.v)))
        });
        if let Err(Probe::Printed(Some(print))) = printed {
            out.insert(o.key(), print);
        }
    }
    out
}

/// How a view probe ends: always rolled back, with the print or the database's refusal.
enum Probe {
    Printed(Option<String>),
    Refused,
}

impl From<diesel::result::Error> for Probe {
    fn from(_: diesel::result::Error) -> Self {
        Probe::Refused
    }
}

#[derive(QueryableByName)]
struct Print {
    #[diesel(sql_type = Text)]
    v: String,
}
