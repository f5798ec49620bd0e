// With retort's `mysql` backend compiled in, an index MySQL/MariaDB cannot build (partial,
// or over an expression) is refused at compile time with the alternative.

/// Posts.
#[derive(retort::Table)]
#[table(name = "posts", index(hot_rank, where = "hot_rank <> 0", name = "ix_posts_hot"))]
pub struct Post {
    #[column(primary_key, autoincrement)]
    pub id: i32,
    pub hot_rank: i32,
}

/// People.
#[derive(retort::Table)]
#[table(name = "people", index("lower(email)", name = "ix_people_email"))]
pub struct Person {
    #[column(primary_key, autoincrement)]
    pub id: i32,
    #[column(max_length = 100)]
    pub email: String,
}

fn main() {}
