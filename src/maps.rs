//! Removing entries from a `BTreeMap` by rebuilding it.
//!
//! `BTreeMap`'s own removal (`remove`, `retain`: finding the leaf, stealing from and merging
//! nodes) is compiled once per key/value type, about 3.5 KB of binary each, and the cache, the
//! metrics and the push limit keep several such types (docs/shipping.md, "How the release
//! build is made small"). These maps hold tens of entries, a few thousand at most, and change
//! once a round: moving the kept entries into a new map by insertion, code every map has
//! anyway, costs microseconds and none of those bytes.

use std::borrow::Borrow;
use std::collections::BTreeMap;

/// Keeps the entries for which `keep` is true, as `BTreeMap::retain` does.
pub fn retain<K: Ord, V>(map: &mut BTreeMap<K, V>, mut keep: impl FnMut(&K, &mut V) -> bool) {
    for (k, mut v) in std::mem::take(map) {
        if keep(&k, &mut v) {
            map.insert(k, v);
        }
    }
}

/// Removes `key`'s entry and returns its value, as `BTreeMap::remove` does; a key that is not
/// there costs one lookup.
pub fn remove<K, V, Q>(map: &mut BTreeMap<K, V>, key: &Q) -> Option<V>
where
    K: Ord + Borrow<Q>,
    Q: Ord + ?Sized,
{
    if !map.contains_key(key) {
        return None;
    }
    let mut removed = None;
    for (k, v) in std::mem::take(map) {
        if removed.is_none() && k.borrow() == key {
            removed = Some(v);
        } else {
            map.insert(k, v);
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn behave_as_btreemaps_own(
            entries in proptest::collection::btree_map(0u16..300, 0u32..1000, 0..200),
            gone in 0u16..300,
            odd in any::<bool>(),
        ) {
            let (mut ours, mut std) = (entries.clone(), entries);
            prop_assert_eq!(remove(&mut ours, &gone), std.remove(&gone));
            prop_assert_eq!(&ours, &std);
            retain(&mut ours, |k, v| { *v += 1; (k % 2 == 1) == odd });
            std.retain(|k, v| { *v += 1; (k % 2 == 1) == odd });
            prop_assert_eq!(ours, std);
        }
    }
}
