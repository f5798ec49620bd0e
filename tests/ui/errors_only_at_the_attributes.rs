// A model with an attribute error is still usable by the rest of the crate: the only error
// is the attribute's, not "the trait `Table` is not implemented" at every use.
use retort::Table;

#[derive(retort::Table)]
#[table(name = "tasks")]
pub struct Task {
    #[column(primary_key, autoincrement = "yes")]
    pub id: i32,
    pub name: String,
}

fn describe<T: Table>() -> &'static str {
    T::NAME
}

fn main() {
    let _ = Task::schema();
    let _ = describe::<Task>();
}
