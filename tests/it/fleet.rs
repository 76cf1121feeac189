//! Fleet mode through the real binary: one config shared by every node, each node publishing
//! `${NODE_NAME}.example.com` (docs/kubernetes.md). Two "nodes" share the config file and the
//! zone; each creates its own record and leaves the other's alone; a node without NODE_NAME
//! refuses the config (exit 78) before any API call.

use crate::support::{Harness, assert_exit};

const FLEET: &str = "[defaults]\nownership = \"comment\"\n\n\
    [[record]]\nname = \"${NODE_NAME}.example.com\"\nipv6 = false\n";

#[test]
fn each_node_publishes_its_own_name_from_one_shared_config() {
    let h = Harness::new(&["example.com"]);
    h.write_config(Some("203.0.113.7"), None, FLEET);
    let mut a = h.ddflare(&["once"]);
    a.env("NODE_NAME", "node-a");
    let log = assert_exit(&a.output().unwrap(), 0);
    assert!(
        log.contains("node-a.example.com A 203.0.113.7 created"),
        "{log}"
    );

    // The second node has its own state dir (its own pod) and address.
    h.write_config(Some("203.0.113.8"), None, FLEET);
    let state_b = h.state_dir().with_file_name("state-b");
    let mut b = h.ddflare(&["once"]);
    b.env("NODE_NAME", "node-b")
        .env("DDFLARE_STATE_DIR", &state_b);
    let log = assert_exit(&b.output().unwrap(), 0);
    assert!(
        log.contains("node-b.example.com A 203.0.113.8 created"),
        "{log}"
    );

    let records = h.records("example.com");
    let want = |n: &str, ip: &str| (n.to_owned(), "A".to_owned(), ip.to_owned());
    assert!(
        records.contains(&want("node-a.example.com", "203.0.113.7")),
        "{records:?}"
    );
    assert!(
        records.contains(&want("node-b.example.com", "203.0.113.8")),
        "{records:?}"
    );
    assert_eq!(records.len(), 2, "{records:?}");
}

#[test]
fn a_node_without_the_variable_refuses_the_config_before_any_request() {
    let h = Harness::new(&["example.com"]);
    h.write_config(Some("203.0.113.7"), None, FLEET);
    let before = h.requests().len();
    let out = h.ddflare(&["once"]).output().unwrap();
    let log = assert_exit(&out, 78);
    assert!(log.contains("record[1].name"), "{log}");
    assert!(log.contains("NODE_NAME"), "{log}");
    assert!(log.contains("is not set"), "{log}");
    // `:LINE:` of the name key: the file written by the harness puts it after its own header.
    let config = std::fs::read_to_string(h.config_path()).unwrap();
    let line = config
        .lines()
        .position(|l| l.contains("${NODE_NAME}"))
        .unwrap()
        + 1;
    assert!(log.contains(&format!(":{line}: record[1].name")), "{log}");
    assert_eq!(h.requests().len(), before, "no API call on a config error");
}
