//! A call in the grammar, `name(positional, …, key = value, …)`, with typed accessors
//! whose errors point at the offending token and say what was expected.

use syn::{Expr, ExprLit, Ident, Lit};

/// A parsed call expression.
pub(crate) struct Call<'a> {
    pub name: Ident,
    pub expr: &'a Expr,
    pub positional: Vec<&'a Expr>,
    pub keywords: Vec<(Ident, &'a Expr)>,
}

pub(crate) type Result<T> = std::result::Result<T, syn::Error>;

pub(crate) fn err<T>(tokens: impl quote::ToTokens, message: impl std::fmt::Display) -> Result<T> {
    Err(syn::Error::new_spanned(tokens, message))
}

impl<'a> Call<'a> {
    /// Reads `expr` as a call; `what` names the expected form in the error.
    pub fn read(expr: &'a Expr, what: &str) -> Result<Call<'a>> {
        let Expr::Call(call) = expr else {
            return err(expr, format!("expected {what}"));
        };
        let Expr::Path(p) = &*call.func else {
            return err(&call.func, format!("expected {what}"));
        };
        let Some(name) = p.path.get_ident().cloned() else {
            return err(&p.path, format!("expected {what}"));
        };
        let mut positional = Vec::new();
        let mut keywords = Vec::new();
        for arg in &call.args {
            match arg {
                Expr::Assign(a) => match &*a.left {
                    Expr::Path(k) if k.path.get_ident().is_some() => {
                        let key = k.path.get_ident().cloned().unwrap_or_else(|| name.clone());
                        if keywords.iter().any(|(k, _): &(Ident, &Expr)| *k == key) {
                            return err(&a.left, format!("`{key}` is given twice"));
                        }
                        keywords.push((key, &*a.right));
                    }
                    other => return err(other, "expected `name = value`"),
                },
                other => {
                    if !keywords.is_empty() {
                        return err(
                            other,
                            "positional arguments come before `key = value` arguments",
                        );
                    }
                    positional.push(other);
                }
            }
        }
        Ok(Call {
            name,
            expr,
            positional,
            keywords,
        })
    }

    /// Fails on keywords outside `allowed`.
    pub fn allow_keywords(&self, allowed: &[&str]) -> Result<()> {
        for (k, _) in &self.keywords {
            if !allowed.iter().any(|a| k == a) {
                let expected = if allowed.is_empty() {
                    "it takes none".to_string()
                } else {
                    format!("expected one of: {}", allowed.join(", "))
                };
                return err(
                    k,
                    format!("`{}` does not take `{k}`; {expected}", self.name),
                );
            }
        }
        Ok(())
    }

    /// Fails unless there are between `min` and `max` positional arguments.
    pub fn arity(&self, min: usize, max: usize, form: &str) -> Result<()> {
        let n = self.positional.len();
        if n < min || n > max {
            return err(self.expr, format!("`{}` takes {form}", self.name));
        }
        Ok(())
    }

    pub fn keyword(&self, key: &str) -> Option<&'a Expr> {
        self.keywords
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| *v)
    }

    pub fn str_at(&self, i: usize, what: &str) -> Result<String> {
        match self.positional.get(i) {
            Some(e) => string(e, what),
            None => err(self.expr, format!("`{}` is missing {what}", self.name)),
        }
    }

    pub fn strings_at(&self, i: usize, what: &str) -> Result<Vec<String>> {
        match self.positional.get(i) {
            Some(e) => strings(e, what),
            None => err(self.expr, format!("`{}` is missing {what}", self.name)),
        }
    }
}

/// A string literal.
pub(crate) fn string(e: &Expr, what: &str) -> Result<String> {
    match e {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Ok(s.value()),
        other => err(other, format!("expected {what} as a string literal")),
    }
}

/// `["a", "b"]`.
pub(crate) fn strings(e: &Expr, what: &str) -> Result<Vec<String>> {
    match e {
        Expr::Array(a) => a.elems.iter().map(|e| string(e, what)).collect(),
        other => err(other, format!("expected a list of {what}, like [\"id\"]")),
    }
}

/// `true` / `false`.
pub(crate) fn boolean(e: &Expr, what: &str) -> Result<bool> {
    match e {
        Expr::Lit(ExprLit {
            lit: Lit::Bool(b), ..
        }) => Ok(b.value),
        other => err(other, format!("expected {what} as `true` or `false`")),
    }
}

/// A string, or `None`.
pub(crate) fn optional_string(e: &Expr, what: &str) -> Result<Option<String>> {
    if let Expr::Path(p) = e {
        if p.path.is_ident("None") {
            return Ok(None);
        }
    }
    string(e, &format!("{what} (or None)")).map(Some)
}

/// A bare identifier (`integer`, `nullable`).
pub(crate) fn ident(e: &Expr) -> Option<&Ident> {
    match e {
        Expr::Path(p) => p.path.get_ident(),
        _ => None,
    }
}

/// The list elements of `[…]`.
pub(crate) fn list<'a>(e: &'a Expr, what: &str) -> Result<Vec<&'a Expr>> {
    match e {
        Expr::Array(a) => Ok(a.elems.iter().collect()),
        other => err(other, format!("expected a list of {what}: [ … ]")),
    }
}
