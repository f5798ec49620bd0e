//! Finds the `#[derive(Table)]` models of a crate by reading its sources the way
//! the compiler does: from the crate root, through every `mod` declaration.

use std::path::{Path, PathBuf};

use retort_schema::Model;

use crate::error::Error;
use retort_schema::naming::Convention;

/// A model found in the sources, with where it lives.
#[derive(Debug, Clone)]
pub struct FoundModel {
    /// Module path from the crate root (`["models"]` for `src/models.rs`).
    pub module: Vec<String>,
    /// The file that holds it.
    pub file: PathBuf,
    /// The model as `retort-schema` reads it (the derive reads it identically).
    pub model: Model,
}

/// A `#[derive(DbEnum)]` enum found in the sources.
#[derive(Debug, Clone)]
pub struct FoundEnum {
    /// Module path from the crate root.
    pub module: Vec<String>,
    /// The file that holds it.
    pub file: PathBuf,
    /// The enum as `retort-schema` reads it (the derive reads it identically).
    pub model: retort_schema::EnumModel,
}

/// A model the parser refused; the derive reports the same errors with spans at compile time.
#[derive(Debug, Clone)]
pub struct RefusedModel {
    /// The struct's name.
    pub ident: String,
    /// The file that holds it.
    pub file: PathBuf,
    /// The errors, one per line, each with its line and column.
    pub message: String,
}

/// What a scan of the sources found.
#[derive(Debug, Default)]
pub struct Sources {
    /// Models that parsed.
    pub models: Vec<FoundModel>,
    /// Models (and enums) with attribute errors.
    pub refused: Vec<RefusedModel>,
    /// `#[derive(DbEnum)]` enums that parsed.
    pub enums: Vec<FoundEnum>,
    /// Every file read (for `rerun-if-changed`).
    pub files: Vec<PathBuf>,
    /// The crate's naming convention for derived names (as the derive reads it).
    pub naming: Convention,
}

/// The naming convention the crate in `manifest_dir` chose in its Cargo.toml.
pub(crate) fn naming_of(manifest_dir: &Path) -> Result<Convention, Error> {
    Convention::of_crate(manifest_dir).map_err(|message| Error::Model {
        location: manifest_dir.join("Cargo.toml").display().to_string(),
        message,
    })
}

/// Reads the models of the crate in `manifest_dir`: from `src/lib.rs` when it has a
/// library (a binary then reaches the models through it), else from `src/main.rs`.
pub fn scan_crate(manifest_dir: &Path) -> Result<Sources, Error> {
    let root = ["src/lib.rs", "src/main.rs"]
        .iter()
        .map(|p| manifest_dir.join(p))
        .find(|p| p.exists())
        .ok_or_else(|| Error::NoCrateRoot {
            dir: manifest_dir.to_path_buf(),
        })?;
    let mut sources = Sources {
        naming: naming_of(manifest_dir)?,
        ..Sources::default()
    };
    scan_file(&root, &[], true, &mut sources)?;
    Ok(sources)
}

/// Reads model files named explicitly (relative to the crate folder), each with the modules
/// it declares. Each file's module path comes from where it sits below `src/`
/// (`src/db/models.rs` → `crate::db::models`), as the compiler would place it.
pub fn scan_files(manifest_dir: &Path, files: &[PathBuf]) -> Result<Sources, Error> {
    let mut sources = Sources {
        naming: naming_of(manifest_dir)?,
        ..Sources::default()
    };
    let src = manifest_dir.join("src");
    for file in files {
        let path = manifest_dir.join(file);
        if !path.exists() {
            return Err(Error::Io {
                path,
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "model file named in build.rs does not exist",
                ),
            });
        }
        let (module, mod_rs) = module_of(&src, &path);
        scan_file(&path, &module, mod_rs, &mut sources)?;
    }
    Ok(sources)
}

/// The module path of a file below `src/`, and whether it is a mod-rs file.
fn module_of(src: &Path, path: &Path) -> (Vec<String>, bool) {
    let rel = path.strip_prefix(src).unwrap_or(path);
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap_or_default();
    match last.as_str() {
        "lib.rs" | "main.rs" if parts.is_empty() => (parts, true),
        "mod.rs" => (parts, true),
        other => {
            parts.push(other.trim_end_matches(".rs").to_string());
            (parts, false)
        }
    }
}

/// Reads models from source text (`label` names it in messages), under `naming`: for
/// checking a models file before it is written.
pub fn scan_text(text: &str, label: &Path, naming: Convention) -> Result<Sources, Error> {
    let mut sources = Sources {
        naming,
        ..Sources::default()
    };
    let file = syn::parse_file(text).map_err(|e| Error::RustSyntax {
        path: label.to_path_buf(),
        line: e.span().start().line,
        message: e.to_string(),
    })?;
    scan_items(&file.items, label, Path::new(""), &[], &mut sources)?;
    Ok(sources)
}

/// Reads the crate rooted at `root` (a `lib.rs` or `main.rs`) and every module file it declares.
pub fn scan(root: &Path) -> Result<Sources, Error> {
    let mut sources = Sources::default();
    scan_file(root, &[], true, &mut sources)?;
    Ok(sources)
}

fn scan_file(path: &Path, module: &[String], mod_rs: bool, out: &mut Sources) -> Result<(), Error> {
    if out.files.iter().any(|f| f == path) {
        return Ok(());
    }
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    out.files.push(path.to_path_buf());
    let file = syn::parse_file(&text).map_err(|e| Error::RustSyntax {
        path: path.to_path_buf(),
        line: e.span().start().line,
        message: e.to_string(),
    })?;
    // Where `mod x;` looks for x.rs: beside a mod-rs file, in a folder named after any other file.
    let dir = match (mod_rs, path.parent()) {
        (true, Some(parent)) => parent.to_path_buf(),
        (false, Some(parent)) => parent.join(path.file_stem().unwrap_or_default()),
        (_, None) => PathBuf::new(),
    };
    scan_items(&file.items, path, &dir, module, out)
}

fn scan_items(
    items: &[syn::Item],
    path: &Path,
    dir: &Path,
    module: &[String],
    out: &mut Sources,
) -> Result<(), Error> {
    for item in items {
        match item {
            syn::Item::Enum(e) if derives(&e.attrs, "DbEnum") => {
                let input = syn::DeriveInput::from(e.clone());
                match retort_schema::parse_enum(&input) {
                    Ok(model) => out.enums.push(FoundEnum {
                        module: module.to_vec(),
                        file: path.to_path_buf(),
                        model,
                    }),
                    Err(errors) => out.refused.push(refused(&e.ident, path, errors)),
                }
            }
            syn::Item::Struct(s) if derives(&s.attrs, "Table") => {
                let input = syn::DeriveInput::from(s.clone());
                match retort_schema::parse_model_with(&input, out.naming) {
                    Ok(model) => out.models.push(FoundModel {
                        module: module.to_vec(),
                        file: path.to_path_buf(),
                        model,
                    }),
                    Err(errors) => out.refused.push(refused(&s.ident, path, errors)),
                }
            }
            syn::Item::Mod(m) => {
                let name = m.ident.to_string();
                let mut inner = module.to_vec();
                inner.push(name.clone());
                let explicit = path_attr(&m.attrs);
                match &m.content {
                    Some((_, items)) => {
                        let sub = match &explicit {
                            Some(p) => dir.join(p),
                            None => dir.join(&name),
                        };
                        scan_items(items, path, &sub, &inner, out)?;
                    }
                    None => {
                        let (file, mod_rs) = match explicit {
                            Some(p) => (dir.join(p), true),
                            None => {
                                let flat = dir.join(format!("{name}.rs"));
                                if flat.exists() {
                                    (flat, false)
                                } else {
                                    (dir.join(&name).join("mod.rs"), true)
                                }
                            }
                        };
                        if file.exists() {
                            scan_file(&file, &inner, mod_rs, out)?;
                        }
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// An item the parser refused, with each error at its line and column.
fn refused(ident: &syn::Ident, path: &Path, errors: syn::Error) -> RefusedModel {
    RefusedModel {
        ident: ident.to_string(),
        file: path.to_path_buf(),
        message: errors
            .into_iter()
            .map(|e| {
                let at = e.span().start();
                format!("{}:{}:{}: {e}", path.display(), at.line, at.column + 1)
            })
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

/// Whether the attributes hold `#[derive(…<name>…)]` (`Table` or `retort::Table`).
fn derives(attrs: &[syn::Attribute], name: &str) -> bool {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("derive"))
        .any(|a| {
            let mut found = false;
            let _ = a.parse_nested_meta(|meta| {
                if meta.path.segments.last().is_some_and(|s| s.ident == name) {
                    found = true;
                }
                Ok(())
            });
            found
        })
}

fn path_attr(attrs: &[syn::Attribute]) -> Option<String> {
    attrs
        .iter()
        .find(|a| a.path().is_ident("path"))
        .and_then(|a| match &a.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_mod_declarations_like_the_compiler() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path();
        std::fs::create_dir_all(src.join("db/nested")).unwrap();
        std::fs::write(src.join("main.rs"), "mod db; mod inline { #[derive(retort::Table)] struct Tag { #[column(primary_key)] id: i32 } }").unwrap();
        std::fs::write(src.join("db/mod.rs"), "pub mod nested;").unwrap();
        std::fs::write(src.join("db/nested.rs"), "pub mod deeper;").unwrap();
        std::fs::write(src.join("db/nested/deeper.rs"), "#[derive(Debug, Table)] pub struct Task { #[column(primary_key)] id: i32 }\n#[derive(Table)] struct Bad { id: u64 }").unwrap();
        std::fs::write(
            src.join("unused.rs"),
            "#[derive(Table)] struct NotCompiled { #[column(primary_key)] id: i32 }",
        )
        .unwrap();
        let found = scan(&src.join("main.rs")).unwrap();
        let mut names: Vec<(String, String)> = found
            .models
            .iter()
            .map(|m| (m.module.join("::"), m.model.table.name.clone()))
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                ("db::nested::deeper".into(), "tasks".into()),
                ("inline".into(), "tags".into())
            ]
        );
        assert_eq!(found.refused.len(), 1);
        assert!(
            found.refused[0].message.contains("deeper.rs:2:"),
            "{}",
            found.refused[0].message
        );
        assert_eq!(found.files.len(), 4);
    }
}
