//! The macros an application calls (`include_migrations!`) and the ones the derive's
//! expansion calls to refuse, at compile time, what a compiled-in backend cannot build.

/// Includes what the build script wrote into `OUT_DIR`: the diesel relations
/// between the models (`joinable!`, `allow_tables_to_appear_in_same_query!`), every
/// migration file, and `pub static MIGRATIONS: retort::Migrations`.
///
/// Call it once, at the crate root, in the crate whose `build.rs` calls
/// `retort_build::generate()`.
#[macro_export]
macro_rules! include_migrations {
    () => {
        include!(concat!(env!("OUT_DIR"), "/retort_migrations.rs"));
    };
}

/// What the `mysql` backend cannot build, refused at compile time when it is compiled in.
#[cfg(feature = "mysql")]
#[doc(hidden)]
#[macro_export]
macro_rules! __unsupported_on_mysql {
    ($message:literal) => {
        ::core::compile_error!($message);
    };
}

/// Without the `mysql` backend, nothing MySQL/MariaDB lacks is refused.
#[cfg(not(feature = "mysql"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __unsupported_on_mysql {
    ($message:literal) => {};
}

/// What the `postgres` backend cannot build, refused at compile time when it is compiled in.
#[cfg(feature = "postgres")]
#[doc(hidden)]
#[macro_export]
macro_rules! __unsupported_on_postgres {
    ($message:literal) => {
        ::core::compile_error!($message);
    };
}

/// Without the `postgres` backend, nothing PostgreSQL lacks is refused.
#[cfg(not(feature = "postgres"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __unsupported_on_postgres {
    ($message:literal) => {};
}

/// What the `sqlite` backend cannot build, refused at compile time when it is compiled in.
#[cfg(feature = "sqlite")]
#[doc(hidden)]
#[macro_export]
macro_rules! __unsupported_on_sqlite {
    ($message:literal) => {
        ::core::compile_error!($message);
    };
}

/// Without the `sqlite` backend, nothing SQLite lacks is refused.
#[cfg(not(feature = "sqlite"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __unsupported_on_sqlite {
    ($message:literal) => {};
}
