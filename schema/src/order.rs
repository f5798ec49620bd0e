//! Stable sorting by a text key, with one sort for every item type.
//!
//! `slice::sort_by` is instantiated for each element type, about 6 KiB of code each, and the
//! model's constraints and indexes, the revisions and the graph's entries would link seven
//! of them into every app. Sorting (key, position) pairs instead takes one instantiation,
//! whatever the items are; each item type adds only the small loop that moves its items.

/// Sorts `items` by the text `key` gives, keeping items with equal keys in their order: the
/// same order as `items.sort_by(|a, b| key(a).cmp(key(b)))`.
///
/// ```
/// use retort_schema::order::sort_by_text;
/// let mut v = vec![("b", 1), ("a", 2), ("b", 0), ("a", 1)];
/// sort_by_text(&mut v, |(k, _)| k);
/// assert_eq!(v, [("a", 2), ("a", 1), ("b", 1), ("b", 0)]);
/// ```
pub fn sort_by_text<T>(items: &mut Vec<T>, key: impl Fn(&T) -> &str) {
    // Already in order (the usual case: compiled migrations, normalised tables): no work.
    if items.windows(2).all(|w| key(&w[0]) <= key(&w[1])) {
        return;
    }
    let order = positions_by_key(items.iter().map(key).collect());
    let mut slots: Vec<Option<T>> = std::mem::take(items).into_iter().map(Some).collect();
    items.extend(
        order
            .into_iter()
            .map(|i| slots[i].take().expect("each position is taken once")),
    );
}

/// The positions of `keys` in the keys' order, equal keys by position: the one sort.
fn positions_by_key(keys: Vec<&str>) -> Vec<usize> {
    let mut pairs: Vec<(&str, usize)> = keys.into_iter().zip(0..).collect();
    // Positions are distinct, so no two pairs are equal and an unstable sort of the pairs is
    // a stable sort by key.
    pairs.sort_unstable();
    pairs.into_iter().map(|(_, i)| i).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The same order as the standard library's stable sort, ties included (few distinct
        /// keys, so most draws have them).
        #[test]
        fn sorts_as_a_stable_sort_by_key(items in proptest::collection::vec(("[a-c]{0,2}", any::<u16>()), 0..40)) {
            let mut ours = items.clone();
            sort_by_text(&mut ours, |(k, _)| k.as_str());
            let mut theirs = items;
            theirs.sort_by(|a, b| a.0.cmp(&b.0));
            prop_assert_eq!(ours, theirs);
        }
    }
}
