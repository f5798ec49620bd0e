//! `?limit=&offset=` and the filters lists take, checked by name.

use std::collections::HashMap;

use super::ApiError;

/// The largest page a list answers.
pub const MAX_LIMIT: i64 = 500;
/// The page size when `limit` is not given.
pub const DEFAULT_LIMIT: i64 = 50;

/// A list request's query: the page and the filters it names.
pub struct ListQuery {
    /// Rows to return (1 to [`MAX_LIMIT`]).
    pub limit: i64,
    /// Rows to skip.
    pub offset: i64,
    filters: HashMap<String, String>,
}

impl ListQuery {
    /// Checks `query` against the filter names a list accepts.
    pub fn parse(query: HashMap<String, String>, filters: &[&str]) -> Result<Self, ApiError> {
        let mut limit = DEFAULT_LIMIT;
        let mut offset = 0;
        let mut kept = HashMap::new();
        for (key, value) in query {
            match key.as_str() {
                "limit" => {
                    limit = match value.parse::<i64>() {
                        Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                        _ => {
                            return Err(ApiError::field(
                                "limit",
                                format!(
                            "`limit` must be a whole number from 1 to {MAX_LIMIT}, not {value:?}"
                        ),
                            ))
                        }
                    }
                }
                "offset" => {
                    offset = match value.parse::<i64>() {
                        Ok(n) if n >= 0 => n,
                        _ => {
                            return Err(ApiError::field(
                                "offset",
                                format!(
                                    "`offset` must be a whole number, 0 or more, not {value:?}"
                                ),
                            ))
                        }
                    }
                }
                k if filters.contains(&k) => {
                    kept.insert(key, value);
                }
                _ => {
                    let mut known = vec!["limit", "offset"];
                    known.extend_from_slice(filters);
                    return Err(ApiError::field(
                        key.clone(),
                        format!(
                            "unknown query parameter `{key}`; this list takes {}",
                            known.join(", ")
                        ),
                    ));
                }
            }
        }
        Ok(ListQuery {
            limit,
            offset,
            filters: kept,
        })
    }

    /// The value of filter `name`, if given.
    pub fn filter(&self, name: &str) -> Option<String> {
        self.filters.get(name).cloned()
    }

    /// The page's JSON: the items, the page asked for, and where the next one starts
    /// (`null` on the last page).
    pub fn page<T: serde::Serialize>(&self, items: Vec<T>) -> serde_json::Value {
        let full = i64::try_from(items.len()).unwrap_or(i64::MAX) == self.limit;
        serde_json::json!({
            "items": items,
            "limit": self.limit,
            "offset": self.offset,
            "next_offset": full.then_some(self.offset + self.limit),
        })
    }
}
