//! The `protocol=cloudflare` entries of a `ddclient.conf`. ddclient's syntax: `#` starts a
//! comment (outside quotes), a line ending in `\` continues on the next, and a logical line is
//! `var=value` settings separated by commas or spaces, then the hosts they apply to. A line
//! without hosts sets defaults for the lines after it.

use super::out::{Toml, q, shown};

/// One logical line: its settings and its hosts.
#[derive(Debug, Default, PartialEq, Eq)]
struct Line {
    vars: Vec<(String, String)>,
    hosts: Vec<String>,
}

/// Logical lines: comments removed, continuations joined.
fn logical_lines(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for raw in text.lines() {
        let mut line = String::new();
        let mut quote = None;
        for c in raw.chars() {
            match (quote, c) {
                (None, '#') => break,
                (None, '\'' | '"') => quote = Some(c),
                (Some(qc), c) if c == qc => quote = None,
                _ => {}
            }
            line.push(c);
        }
        let trimmed = line.trim_end();
        if let Some(head) = trimmed.strip_suffix('\\') {
            cur.push_str(head);
            cur.push(' ');
            continue;
        }
        cur.push_str(trimmed);
        if !cur.trim().is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        cur.clear();
    }
    if !cur.trim().is_empty() {
        out.push(cur);
    }
    out
}

/// Splits a logical line into settings and hosts.
fn parse_line(line: &str) -> Line {
    let mut l = Line::default();
    let mut chars = line.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let mut word = String::new();
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() || c == ',' || c == '=' {
                break;
            }
            word.push(c);
            chars.next();
        }
        // `var = value` with spaces is allowed.
        while chars.peek().is_some_and(|c| *c == ' ' || *c == '\t') {
            chars.next();
        }
        if chars.peek() == Some(&'=') {
            chars.next();
            while chars.peek().is_some_and(|c| *c == ' ' || *c == '\t') {
                chars.next();
            }
            let mut value = String::new();
            if let Some(&qc) = chars.peek().filter(|c| **c == '\'' || **c == '"') {
                chars.next();
                for c in chars.by_ref() {
                    if c == qc {
                        break;
                    }
                    value.push(c);
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || c == ',' {
                        break;
                    }
                    value.push(c);
                    chars.next();
                }
            }
            l.vars
                .push((word.to_ascii_lowercase().replace('_', "-"), value));
        } else if !word.is_empty() {
            l.hosts.push(word);
        }
    }
    l
}

/// One host with the settings in force for it.
#[derive(Debug, Clone)]
struct Host {
    name: String,
    vars: Vec<(String, String)>,
}

impl Host {
    fn get(&self, k: &str) -> Option<&str> {
        self.vars
            .iter()
            .rev()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    }
}

fn hosts(text: &str) -> Vec<Host> {
    let mut globals: Vec<(String, String)> = Vec::new();
    let mut out = Vec::new();
    for line in logical_lines(text) {
        let l = parse_line(&line);
        if l.hosts.is_empty() {
            globals.extend(l.vars);
            continue;
        }
        let mut vars = globals.clone();
        vars.extend(l.vars);
        for h in l.hosts {
            out.push(Host {
                name: h,
                vars: vars.clone(),
            });
        }
    }
    out
}

/// Settings ddflare carries over (or deliberately ignores with a reason).
const HANDLED: &[&str] = &[
    "protocol",
    "zone",
    "ttl",
    "login",
    "password",
    "password-env",
    "daemon",
    "use",
    "usev4",
    "usev6",
    "web",
    "webv4",
    "webv6",
    "web-skip",
    "webv4-skip",
    "webv6-skip",
    "if",
    "ifv4",
    "ifv6",
    "ip",
    "ipv4",
    "ipv6",
];

/// A detection setting of ddclient as a ddflare provider, or why not.
fn detection(h: &Host, v6: bool) -> Option<Result<String, String>> {
    let (usekey, webkey, skipkey, ifkey, ipkey) = if v6 {
        ("usev6", "webv6", "webv6-skip", "ifv6", "ipv6")
    } else {
        ("usev4", "webv4", "webv4-skip", "ifv4", "ipv4")
    };
    let (method, legacy) = match (h.get(usekey), h.get("use")) {
        (Some(m), _) => (m, false),
        (None, Some(m)) if !v6 => (m, true),
        _ => return None,
    };
    let pick = |own: &str, old: &str| {
        h.get(own)
            .or_else(|| if legacy { h.get(old) } else { None })
    };
    Some(match method.trim() {
        "web" | "webv4" | "webv6" => {
            let web = pick(webkey, "web").unwrap_or("").trim();
            let skip = pick(skipkey, "web-skip").unwrap_or("");
            if web.contains("cloudflare.com/cdn-cgi/trace") && skip.trim() == "ip=" {
                Ok("cloudflare.trace".to_owned())
            } else if web.eq_ignore_ascii_case("ipify-ipv4") {
                Ok("url:https://api4.ipify.org".to_owned())
            } else if web.eq_ignore_ascii_case("ipify-ipv6") {
                Ok("url:https://api6.ipify.org".to_owned())
            } else if web.contains('.') && skip.is_empty() {
                let url = if web.contains("://") {
                    web.to_owned()
                } else {
                    format!("https://{web}")
                };
                Ok(format!("url:{url}"))
            } else if web.contains('.') {
                Err(format!(
                    "{usekey}/web={} with a skip pattern (ddflare's url: provider wants the address alone in the answer)",
                    shown(web)
                ))
            } else {
                Err(format!("web={} (a ddclient built-in)", shown(web)))
            }
        }
        "if" | "ifv4" | "ifv6" => match pick(ifkey, "if") {
            Some(name) if !name.trim().is_empty() => Ok(format!("interface:{}", name.trim())),
            _ => Err(format!("{usekey}={method} without an interface")),
        },
        "ip" | "ipv4" | "ipv6" => match pick(ipkey, "ip") {
            Some(a) if !a.trim().is_empty() => Ok(format!("static:{}", a.trim())),
            _ => Err(format!("{usekey}={method} without an address")),
        },
        other => Err(format!(
            "{}={} (a router or command source ddflare does not read)",
            if legacy { "use" } else { usekey },
            shown(other)
        )),
    })
}

pub fn convert(text: &str, inline: bool) -> Result<Toml, String> {
    let all = hosts(text);
    let (cf, other): (Vec<Host>, Vec<Host>) = all.into_iter().partition(|h| {
        h.get("protocol")
            .is_some_and(|p| p.eq_ignore_ascii_case("cloudflare"))
    });
    if cf.is_empty() {
        return Err("no host with protocol=cloudflare in this ddclient.conf".to_owned());
    }
    let mut t = Toml::default();
    t.note("ddflare.toml made by `ddflare import` from a ddclient.conf (its protocol=cloudflare hosts).");
    t.note("Check it with `ddflare check --config THIS_FILE`; docs/configuration.md explains each key.");
    for h in &other {
        t.skip(format!(
            "{} (protocol={}: ddflare updates Cloudflare only)",
            shown(&h.name),
            shown(h.get("protocol").unwrap_or("dyndns2"))
        ));
    }

    // Credentials: those of the first host; others that differ are named.
    let first = &cf[0];
    let login = first.get("login").map(str::trim).filter(|l| !l.is_empty());
    let global_key = login.is_some_and(|l| l != "token");
    if let Some(var) = first.get("password-env") {
        let want = if global_key {
            "CLOUDFLARE_API_KEY"
        } else {
            "CLOUDFLARE_API_TOKEN"
        };
        t.put(
            "[cloudflare]",
            format!(
                "# ddclient read the secret from ${}: give ddflare the same value as {want}.",
                shown(var)
            ),
        );
    } else if let Some(pw) = first.get("password") {
        match (global_key, inline) {
            (false, true) => t.put("[cloudflare]", format!("api_token = {}", q(pw))),
            (true, true) => t.put("[cloudflare]", format!("api_key = {}", q(pw))),
            (false, false) => {
                t.put("[cloudflare]", "# The token (ddclient's password) is not written here: set CLOUDFLARE_API_TOKEN in".to_owned());
                t.put("[cloudflare]", "# ddflare's environment, or write it to a file (chmod 600) and set api_token_file.".to_owned());
                t.put(
                    "[cloudflare]",
                    "# --inline-secrets writes it here.".to_owned(),
                );
                t.put(
                    "[cloudflare]",
                    "# api_token_file = \"/etc/ddflare/cloudflare_api_token\"".to_owned(),
                );
            }
            (true, false) => {
                t.put("[cloudflare]", "# A Global API Key (ddclient's login and password): set CLOUDFLARE_API_KEY in ddflare's".to_owned());
                t.put("[cloudflare]", "# environment, or api_key_file. A scoped API token is safer (README: creating the token).".to_owned());
            }
        }
    }
    if global_key && let Some(l) = login {
        t.put("[cloudflare]", format!("api_email = {}", q(l)));
    }
    for h in &cf[1..] {
        if h.get("login") != first.get("login") || h.get("password") != first.get("password") {
            t.skip(format!(
                "the credentials of {} (they differ from the first host's; ddflare uses one token: run a second ddflare for them)",
                shown(&h.name)
            ));
        }
    }

    // Schedule.
    if let Some(d) = first.get("daemon").map(str::trim).filter(|d| !d.is_empty()) {
        let interval = if d.chars().all(|c| c.is_ascii_digit()) {
            format!("{d}s")
        } else {
            d.to_owned()
        };
        t.put("[schedule]", format!("interval = {}", q(&interval)));
    }

    // Detection, from the first host (ddclient detects per host; ddflare once a round).
    let mut families = 0;
    for (family, v6) in [("ipv4", false), ("ipv6", true)] {
        match detection(first, v6) {
            Some(Ok(p)) => {
                families += 1;
                t.put("[detect]", format!("{family} = [{}]", q(&p)));
            }
            Some(Err(why)) => {
                families += 1;
                t.skip(why);
            }
            None => t.put("[detect]", format!("{family} = [\"none\"]")),
        }
    }
    if families == 0 {
        // ddclient's default is use=ip… of the first interface; ddflare's cloudflare.trace is
        // the closest safe default.
        t.sections.retain(|(n, _)| n != "[detect]");
        t.put("[detect]", "ipv4 = [\"cloudflare.trace\"]");
        t.put("[detect]", "ipv6 = [\"none\"]");
    }

    // Records.
    for h in &cf {
        let mut lines = vec![format!("name = {}", q(h.name.trim()))];
        if let Some(z) = h.get("zone").map(str::trim).filter(|z| !z.is_empty()) {
            lines.push(format!("zone = {}", q(z)));
        }
        match h.get("ttl").map(str::trim) {
            None | Some("") => {}
            Some("1") => lines.push("ttl = \"auto\"".to_owned()),
            Some(n) => match n.parse::<u32>() {
                Ok(n) if (30..=86400).contains(&n) => lines.push(format!("ttl = {n}")),
                _ => t.skip(format!(
                    "ttl={} of {} (expected 1 or 30..86400)",
                    shown(n),
                    shown(&h.name)
                )),
            },
        }
        t.table("[[record]]", lines);
    }

    // Every other setting, once.
    let mut seen: Vec<&str> = Vec::new();
    for h in &cf {
        for (k, v) in &h.vars {
            if HANDLED.contains(&k.as_str()) || seen.contains(&k.as_str()) {
                continue;
            }
            seen.push(k);
            let why = match k.as_str() {
                "ssl" => "ddflare always uses HTTPS",
                "syslog" | "verbose" | "debug" | "quiet" | "foreground" => {
                    "ddflare logs to stderr or the journal; see --log-level"
                }
                "pid" | "cache" => "ddflare keeps its cache in state.dir",
                "mail" | "mail-failure" => "ddflare sends messages through [[notify]]",
                "server" => "ddflare talks to api.cloudflare.com (cloudflare.api_url)",
                _ => "no ddflare equivalent",
            };
            t.skip(format!("{}={} ({why})", shown(k), shown(v)));
        }
    }
    Ok(t)
}

#[cfg(test)]
pub fn logical_lines_pub(text: &str) -> Vec<String> {
    logical_lines(text)
}
