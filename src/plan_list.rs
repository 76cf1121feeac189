//! PURE: one IP list (`[[list]]`): its settings ([`ListConfig`]) and the plan that keeps it
//! holding exactly the current address of each enabled family: the items to add and the ids
//! of the items to delete. Only items whose comment is ddflare's (the list's `comment`) are
//! ever deleted; a family whose detection failed leaves its items alone; an address some
//! item already holds (ours or not) is not added again.
//!
//! IPv6 is written as the whole address (`2001:db8::7`): the API accepts addresses and CIDRs
//! from /12 to /128 since 2025-07 (it took CIDRs up to /64 only before; docs/lists.md gives
//! the sources). An item equals an address when it holds it exactly (`/32` or `/128`, or no
//! prefix), whatever its spelling.

use std::net::IpAddr;

use crate::cloudflare::ListItem;

/// The item comment ddflare writes (and owns items by) when `comment` is not set.
pub const DEFAULT_LIST_COMMENT: &str = "managed by ddflare";

/// One `[[list]]`, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListConfig {
    /// The account's id (32 hex).
    pub account_id: String,
    /// `[a-z0-9_]+`, at most 50 characters.
    pub name: String,
    /// Written when ddflare creates the list (and by `check`'s harmless write).
    pub description: String,
    pub ipv4: bool,
    pub ipv6: bool,
    /// The item comment: ddflare's items are those that carry exactly this one.
    pub comment: String,
    /// `[[credentials]]` name; `None`: `[cloudflare]`'s.
    pub credentials: Option<String>,
}

/// What one family asks of a list this round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// This address, and no other of ours of the family.
    Addr(IpAddr),
    /// Off for this list: none of ours of the family.
    Off,
    /// Detection failed: leave the family's items as they are.
    Unknown,
}

/// What to change in a list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListPlan {
    /// Addresses to add, written as [`written`] says.
    pub add: Vec<IpAddr>,
    /// Ids of our items to delete (an old address, a duplicate, a family turned off).
    pub delete: Vec<String>,
    /// What we deleted, for the report: (id, the item's `ip`).
    pub removed: Vec<(String, String)>,
}

impl ListPlan {
    pub fn is_empty(&self) -> bool {
        self.add.is_empty() && self.delete.is_empty()
    }
}

/// An item's `ip`: an address, or an address with a prefix length.
pub fn item_net(ip: &str) -> Option<(IpAddr, u8)> {
    match ip.split_once('/') {
        None => {
            let a: IpAddr = ip.trim().parse().ok()?;
            Some((a, full(a)))
        }
        Some((a, len)) => {
            let a: IpAddr = a.trim().parse().ok()?;
            let len: u8 = len.trim().parse().ok()?;
            (len <= full(a)).then_some((a, len))
        }
    }
}

fn full(a: IpAddr) -> u8 {
    if a.is_ipv4() { 32 } else { 128 }
}

/// The `ip` ddflare writes for an address.
pub fn written(a: IpAddr) -> String {
    a.to_string()
}

/// Whether `item` holds exactly `addr`.
pub fn holds(item: &str, addr: IpAddr) -> bool {
    item_net(item).is_some_and(|(a, len)| a == addr && len == full(addr))
}

/// The plan for one list: `v4` and `v6` are what each family asks, `items` what the list
/// holds, `comment` ddflare's item comment.
pub fn plan_list(v4: Want, v6: Want, items: &[ListItem], comment: &str) -> ListPlan {
    let mut plan = ListPlan::default();
    for want in [v4, v6] {
        let Want::Addr(addr) = want else { continue };
        if !items.iter().any(|i| holds(&i.ip, addr)) {
            plan.add.push(addr);
        }
    }
    let mut kept: Vec<IpAddr> = Vec::new();
    for item in items {
        if item.comment.as_deref() != Some(comment) {
            continue; // not ours: never touched
        }
        let Some((a, _)) = item_net(&item.ip) else {
            continue; // not an address we could have written
        };
        let want = if a.is_ipv4() { v4 } else { v6 };
        let delete = match want {
            Want::Unknown => false,
            Want::Off => true,
            Want::Addr(addr) => {
                if holds(&item.ip, addr) && !kept.contains(&addr) {
                    kept.push(addr);
                    false
                } else {
                    true
                }
            }
        };
        if delete {
            plan.delete.push(item.id.clone());
            plan.removed.push((item.id.clone(), item.ip.clone()));
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const OURS: &str = "managed by ddflare";

    fn item(id: &str, ip: &str, comment: Option<&str>) -> ListItem {
        ListItem {
            id: id.into(),
            ip: ip.into(),
            comment: comment.map(str::to_owned),
        }
    }

    fn a(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_empty_list_gets_both_addresses() {
        let p = plan_list(
            Want::Addr(a("203.0.113.7")),
            Want::Addr(a("2001:db8::7")),
            &[],
            OURS,
        );
        assert_eq!(p.add, vec![a("203.0.113.7"), a("2001:db8::7")]);
        assert!(p.delete.is_empty());
        assert_eq!(written(a("2001:DB8:0::7")), "2001:db8::7");
    }

    #[test]
    fn an_address_change_replaces_ours_and_leaves_foreign_items() {
        let items = [
            item("1", "203.0.113.7", Some(OURS)),
            item("2", "198.51.100.0/24", Some("office")),
            item("3", "203.0.113.7", None),
            item("4", "2001:db8::7/128", Some(OURS)),
        ];
        let p = plan_list(
            Want::Addr(a("203.0.113.8")),
            Want::Addr(a("2001:db8:0:0::7")),
            &items,
            OURS,
        );
        assert_eq!(p.add, vec![a("203.0.113.8")]);
        assert_eq!(p.delete, vec!["1".to_owned()]);
    }

    #[test]
    fn a_failed_family_is_left_alone_and_an_off_one_emptied() {
        let items = [
            item("1", "203.0.113.7", Some(OURS)),
            item("2", "2001:db8::7", Some(OURS)),
        ];
        let p = plan_list(Want::Unknown, Want::Off, &items, OURS);
        assert_eq!(p.delete, vec!["2".to_owned()]);
        assert!(p.add.is_empty());
        let p = plan_list(Want::Unknown, Want::Unknown, &items, OURS);
        assert!(p.is_empty());
    }

    #[test]
    fn duplicates_of_ours_go_and_a_foreign_item_holding_the_address_is_enough() {
        let items = [
            item("1", "203.0.113.7", Some(OURS)),
            item("2", "203.0.113.7", Some(OURS)),
            item("3", "2001:db8::7", Some("mine, by hand")),
        ];
        let p = plan_list(
            Want::Addr(a("203.0.113.7")),
            Want::Addr(a("2001:db8::7")),
            &items,
            OURS,
        );
        assert!(p.add.is_empty());
        assert_eq!(p.delete, vec!["2".to_owned()]);
    }

    #[test]
    fn a_prefix_of_ours_is_not_the_address() {
        let items = [item("1", "2001:db8::/64", Some(OURS))];
        let p = plan_list(Want::Unknown, Want::Addr(a("2001:db8::7")), &items, OURS);
        assert_eq!(p.add, vec![a("2001:db8::7")]);
        assert_eq!(p.delete, vec!["1".to_owned()]);
        assert_eq!(item_net("2001:db8::/129"), None);
        assert_eq!(item_net("nonsense"), None);
    }

    fn any_item() -> impl Strategy<Value = ListItem> {
        (
            0u8..4,
            0u8..3,
            prop::bool::ANY,
            prop_oneof![Just(None), Just(Some(OURS)), Just(Some("other"))],
        )
            .prop_map(|(host, fam, prefix, comment)| {
                let ip = match (fam, prefix) {
                    (0, false) => format!("203.0.113.{host}"),
                    (0, true) => format!("203.0.113.{host}/32"),
                    (1, false) => format!("2001:db8::{host}"),
                    (1, true) => format!("2001:db8::{host}/64"),
                    _ => "not an ip".to_owned(),
                };
                item("", &ip, comment)
            })
    }

    fn any_want(v6: bool) -> impl Strategy<Value = Want> {
        prop_oneof![
            Just(Want::Off),
            Just(Want::Unknown),
            (0u8..4).prop_map(move |h| Want::Addr(if v6 {
                a(&format!("2001:db8::{h}"))
            } else {
                a(&format!("203.0.113.{h}"))
            })),
        ]
    }

    proptest! {
        #[test]
        fn the_plan_keeps_its_promises(
            items in prop::collection::vec(any_item(), 0..8),
            v4 in any_want(false),
            v6 in any_want(true),
        ) {
            let items: Vec<ListItem> = items
                .into_iter()
                .enumerate()
                .map(|(n, mut i)| {
                    i.id = n.to_string();
                    i
                })
                .collect();
            let p = plan_list(v4, v6, &items, OURS);
            // Only our items are deleted, and none of a family whose detection failed.
            for id in &p.delete {
                let it = items.iter().find(|i| &i.id == id).unwrap();
                prop_assert_eq!(it.comment.as_deref(), Some(OURS));
                let (addr, _) = item_net(&it.ip).unwrap();
                let want = if addr.is_ipv4() { v4 } else { v6 };
                prop_assert!(want != Want::Unknown);
            }
            // After the plan, each wanted address is held exactly once among the items of
            // ours kept plus those added, unless a foreign item holds it.
            for want in [v4, v6] {
                if let Want::Addr(addr) = want {
                    let kept = items.iter().filter(|i| {
                        !p.delete.contains(&i.id) && holds(&i.ip, addr)
                    }).count();
                    let added = p.add.iter().filter(|x| **x == addr).count();
                    prop_assert!(kept + added >= 1);
                    prop_assert!(added <= 1);
                    let ours_kept = items.iter().filter(|i| {
                        !p.delete.contains(&i.id) && holds(&i.ip, addr)
                            && i.comment.as_deref() == Some(OURS)
                    }).count();
                    prop_assert!(ours_kept <= 1);
                }
            }
            // Applying the plan and planning again changes nothing.
            let mut after: Vec<ListItem> = items
                .iter()
                .filter(|i| !p.delete.contains(&i.id))
                .cloned()
                .collect();
            for (n, x) in p.add.iter().enumerate() {
                after.push(item(&format!("new{n}"), &written(*x), Some(OURS)));
            }
            prop_assert!(plan_list(v4, v6, &after, OURS).is_empty());
        }
    }
}
