//! Tells the build script of the app that depends on retort which backends this build
//! compiles (as `DEP_RETORT_BACKENDS`, through `links = "retort"`), so that `retort-build`
//! refuses what a compiled backend cannot run before it writes a migration — the same
//! refusals `#[derive(Table)]` makes at compile time.

fn main() {
    let backends: Vec<&str> = ["sqlite", "postgres", "mysql"]
        .into_iter()
        .filter(|b| std::env::var_os(format!("CARGO_FEATURE_{}", b.to_uppercase())).is_some())
        .collect();
    println!("cargo::metadata=backends={}", backends.join(","));
}
