fn main() {
    if let Err(e) = retort_build::generate() {
        eprintln!("{e}");
        std::process::exit(1);
    }
}
