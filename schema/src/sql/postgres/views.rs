//! Views around a type change: PostgreSQL refuses to change the type of a column a view
//! reads ("cannot alter type of a column used by a view or rule"). The views that depend on
//! the column, and the views on those, are kept from the catalog — each one's definition
//! (`pg_get_viewdef`), options (`security_barrier`, `check_option`), owner, grants, comments
//! and column defaults — dropped, dependents first, and made again the same way after the
//! change, in the migration's transaction. A materialized view (its rows and indexes) or a
//! view with triggers or rules of its own cannot be made again faithfully: the migration
//! stops before anything changes, naming the view and the fix.

use super::super::quote_literal;

/// The statement before the type change of `table.column` (both quoted identifiers as the
/// dialect writes them, unquoted names for messages): keeps and drops the dependent views.
pub(super) fn keep_and_drop(table_q: &str, column: &str, table: &str) -> String {
    let rel = quote_literal(table_q);
    let col = quote_literal(column);
    let fix = quote_literal(&format!(
        "drop it in an execute(\"DROP …\") before this operation and create it again after, or keep the type of `{table}.{column}`"
    ));
    format!(
        r#"DO $retort$
DECLARE
    v record;
    n integer := 0;
BEGIN
    FOR v IN
        WITH RECURSIVE dep(oid, depth) AS (
            SELECT r.ev_class, 1
            FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
            WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
              AND d.refobjid = {rel}::regclass
              AND d.refobjsubid = (SELECT attnum FROM pg_attribute WHERE attrelid = {rel}::regclass AND attname = {col})
              AND r.ev_class <> {rel}::regclass
            UNION
            SELECT r.ev_class, dep.depth + 1
            FROM dep JOIN pg_depend d ON d.refobjid = dep.oid
                AND d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
            JOIN pg_rewrite r ON r.oid = d.objid
            WHERE r.ev_class <> dep.oid AND dep.depth < 32
        )
        SELECT c.oid, c.relkind, format('%I.%I', ns.nspname, c.relname) AS name,
               pg_get_userbyid(c.relowner) AS owner, c.relowner, c.relacl, c.reloptions
        FROM (SELECT oid, max(depth) AS depth FROM dep GROUP BY oid) dd
        JOIN pg_class c ON c.oid = dd.oid JOIN pg_namespace ns ON ns.oid = c.relnamespace
        ORDER BY dd.depth DESC, c.oid
    LOOP
        IF v.relkind <> 'v' THEN
            RAISE EXCEPTION 'retort: column %.% changes type and materialized view % reads it, which cannot be made again with its rows and indexes here: %', {table_l}, {col}, v.name, {fix};
        END IF;
        IF EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = v.oid)
           OR EXISTS (SELECT 1 FROM pg_rewrite WHERE ev_class = v.oid AND rulename <> '_RETURN') THEN
            RAISE EXCEPTION 'retort: column %.% changes type and view % reads it, and its triggers or rules cannot be made again here: %', {table_l}, {col}, v.name, {fix};
        END IF;
        n := n + 1;
        IF n = 1 THEN
            -- Only when there is a view to keep: most type changes have none.
            CREATE TEMP TABLE IF NOT EXISTS retort_views (grp integer NOT NULL, seq serial, ddl text NOT NULL);
        END IF;
        INSERT INTO retort_views (grp, ddl)
        SELECT n, s.ddl FROM (
            SELECT 1 AS k, format('CREATE VIEW %s%s AS %s', v.name,
                   COALESCE(' WITH (' || array_to_string(v.reloptions, ', ') || ')', ''),
                   pg_get_viewdef(v.oid)) AS ddl
            UNION ALL SELECT 2, format('ALTER VIEW %s OWNER TO %I', v.name, v.owner)
                WHERE v.owner <> current_user
            UNION ALL SELECT 3, format('COMMENT ON VIEW %s IS %L', v.name, obj_description(v.oid, 'pg_class'))
                WHERE obj_description(v.oid, 'pg_class') IS NOT NULL
            UNION ALL SELECT 4, format('COMMENT ON COLUMN %s.%I IS %L', v.name, a.attname, col_description(v.oid, a.attnum))
                FROM pg_attribute a
                WHERE a.attrelid = v.oid AND a.attnum > 0 AND col_description(v.oid, a.attnum) IS NOT NULL
            UNION ALL SELECT 5, format('ALTER VIEW %s ALTER COLUMN %I SET DEFAULT %s', v.name, a.attname, pg_get_expr(ad.adbin, ad.adrelid))
                FROM pg_attrdef ad JOIN pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
                WHERE ad.adrelid = v.oid
            UNION ALL SELECT 6, format('GRANT %s ON %s TO %s%s', g.privilege_type, v.name,
                   CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(g.grantee)) END,
                   CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)
                FROM aclexplode(v.relacl) g WHERE g.grantee <> v.relowner
        ) s ORDER BY s.k;
        EXECUTE format('DROP VIEW %s', v.name);
    END LOOP;
END
$retort$"#,
        table_l = quote_literal(table),
    )
}

/// The statement after the type change: makes the kept views again, what a view reads
/// first, and forgets them.
pub(super) fn make_again() -> String {
    // The last dropped (what the others read) first; each view's statements in order.
    run_kept("retort_views", "grp DESC, seq")
}

/// Runs the statements a `keep_and_drop…` block kept in the temporary table `table`, in
/// `order`, and drops the table; nothing when no block kept anything.
fn run_kept(table: &str, order: &str) -> String {
    format!(
        r#"DO $retort$
DECLARE
    s record;
BEGIN
    IF to_regclass('pg_temp.{table}') IS NULL THEN
        RETURN;
    END IF;
    FOR s IN SELECT ddl FROM {table} ORDER BY {order} LOOP
        EXECUTE s.ddl;
    END LOOP;
    DROP TABLE {table};
END
$retort$"#
    )
}

/// Before an enum type is rebuilt: the indexes (not those of a constraint) and checks whose
/// expressions hold a value of the type (`WHERE status <> 'draft'`, which PostgreSQL keeps
/// as a constant of the old type and then cannot compare with the new one) are kept from the
/// catalog (`pg_get_indexdef`, `pg_get_constraintdef`, read while the type still has its
/// name and its renamed values) and dropped, to be made again by [`make_type_users_again`].
pub(super) fn keep_and_drop_type_users(type_q: &str) -> String {
    let ty = quote_literal(type_q);
    format!(
        r#"DO $retort$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT 1 AS k, pg_get_indexdef(i.indexrelid) AS ddl,
               format('DROP INDEX %s', i.indexrelid::regclass) AS undo
        FROM pg_index i
        WHERE EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                      AND d.objid = i.indexrelid AND d.refclassid = 'pg_type'::regclass
                      AND d.refobjid = {ty}::regtype)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        UNION ALL
        SELECT 2, format('ALTER TABLE %s ADD CONSTRAINT %I %s', c.conrelid::regclass, c.conname, pg_get_constraintdef(c.oid)),
               format('ALTER TABLE %s DROP CONSTRAINT %I', c.conrelid::regclass, c.conname)
        FROM pg_constraint c
        WHERE c.contype = 'c'
          AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_constraint'::regclass
                      AND d.objid = c.oid AND d.refclassid = 'pg_type'::regclass
                      AND d.refobjid = {ty}::regtype)
        ORDER BY 1, 2
    LOOP
        CREATE TEMP TABLE IF NOT EXISTS retort_type_users (seq serial, ddl text NOT NULL);
        INSERT INTO retort_type_users (ddl) VALUES (r.ddl);
        EXECUTE r.undo;
    END LOOP;
END
$retort$"#
    )
}

/// After the rebuild: the indexes and checks [`keep_and_drop_type_users`] kept, made again
/// (their constants now of the new type).
pub(super) fn make_type_users_again() -> String {
    run_kept("retort_type_users", "seq")
}
