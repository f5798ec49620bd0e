//! Every table and column attribute in one model; the generated diesel DSL compiles.

use retort::Table as _;

/// Customers (doc comment, overridden by `comment`).
#[derive(retort::Table)]
#[table(
    name = "clients",
    renamed_from = "customers",
    comment = "People who place orders",
    primary_key(tenant_id, id),
    index(email, created_at, name = "ix_clients_recent", unique),
    index(tenant_id, email),
    unique(tenant_id, email, name = "uq_clients_email"),
    check(name = "positive_credit", expr = "credit >= 0")
)]
pub struct Client {
    pub tenant_id: i32,
    pub id: i64,
    /// Email address
    #[column(name = "email_address", max_length = 254, renamed_from = "mail")]
    pub email: String,
    #[column(sql_type = "numeric(12,2)", server_default = "0", comment = "Credit left")]
    pub credit: f64,
    #[column(custom_type = "citext", diesel_type = "diesel::sql_types::Text")]
    pub nickname: Option<String>,
    #[column(index = "ix_clients_kind", max_length = 16, server_default = "'person'")]
    pub kind: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    #[column(skip)]
    pub cached_orders: Vec<String>,
}

#[derive(retort::Table)]
pub struct Order {
    #[column(primary_key, autoincrement)]
    pub id: i64,
    #[column(unique, references = "clients(id)", on_delete = "cascade", on_update = "set null")]
    pub client_id: Option<i64>,
    pub note: Option<String>,
}

fn main() {
    let clients = Client::schema();
    assert_eq!(clients.name, "clients");
    assert_eq!(clients.renamed_from.as_deref(), Some("customers"));
    assert_eq!(clients.primary_key, ["tenant_id", "id"]);
    assert_eq!(clients.columns.len(), 7);
    let orders = Order::schema();
    assert_eq!(orders.foreign_keys[0].name, "fk_orders_client_id_clients");
    // The DSL modules exist with sql names.
    let _ = (clients::table, clients::email, orders::client_id);
}
