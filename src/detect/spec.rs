//! The vocabulary of `[detect]`: an address [`Family`], a provider as written in the config
//! ([`ProviderSpec`]) and how a family's list gives one address ([`Strategy`]). Pure data and
//! parsing: every other detection file speaks these words.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddrV4};
use std::path::PathBuf;
use std::str::FromStr;

use crate::text;

/// An address family; each maps to one DNS record type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    pub const ALL: [Family; 2] = [Family::V4, Family::V6];

    /// `A` or `AAAA`.
    pub fn record_type(self) -> &'static str {
        match self {
            Family::V4 => "A",
            Family::V6 => "AAAA",
        }
    }

    pub fn matches(self, addr: &IpAddr) -> bool {
        matches!(
            (self, addr),
            (Family::V4, IpAddr::V4(_)) | (Family::V6, IpAddr::V6(_))
        )
    }

    /// 32 or 128.
    /// The family of an address.
    pub fn of(addr: std::net::IpAddr) -> Family {
        if addr.is_ipv4() {
            Family::V4
        } else {
            Family::V6
        }
    }

    pub fn bits(self) -> u8 {
        match self {
            Family::V4 => 32,
            Family::V6 => 128,
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Family::V4 => "IPv4",
            Family::V6 => "IPv6",
        })
    }
}

/// A provider as written in the config (`"static:203.0.113.7"`, `"url:https://…"`,
/// `"cloudflare.trace"`, …). `"none"` is not a provider: it is an empty list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderSpec {
    Static(IpAddr),
    /// `url:` (the connection uses the list's family), `url4:` or `url6:` (the connection
    /// uses that family, whatever the list: e.g. a router's status page reached over IPv4
    /// that shows the IPv6 address).
    Url {
        url: String,
        via: Option<Family>,
    },
    CloudflareTrace,
    CloudflareDns,
    CloudflareDoh,
    Interface(String),
    Local,
    File(PathBuf),
    /// `router.natpmp[:GATEWAY[:PORT]]`, `router.pcp[:…]` and `router.upnp[:URL]`: ask the
    /// router (IPv4 only).
    Router(Router),
}

/// How a `router.` provider reaches the router.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Router {
    /// NAT-PMP at this gateway, else the default route's.
    NatPmp(Option<SocketAddrV4>),
    /// PCP at this gateway, else the default route's.
    Pcp(Option<SocketAddrV4>),
    /// UPnP IGD with this description URL, else found by SSDP.
    Upnp(Option<String>),
}

/// NAT-PMP's and PCP's server port (RFC 6886, RFC 6887).
pub const NATPMP_PORT: u16 = 5351;

/// `ADDR` or `ADDR:PORT`, an IPv4 gateway.
fn gateway(prefix: &str, at: &str) -> Result<SocketAddrV4, String> {
    at.parse::<SocketAddrV4>()
        .or_else(|_| {
            at.parse::<Ipv4Addr>()
                .map(|a| SocketAddrV4::new(a, NATPMP_PORT))
        })
        .map_err(|_| {
            format!(
                "`{prefix}` followed by the router's IPv4 address (optionally `:PORT`), not `{}`",
                text::bounded(at, 60)
            )
        })
}

/// Every spelling, for the "expected" part of a message.
const PROVIDERS: &str = "a provider: `cloudflare.trace`, `cloudflare.dns`, `cloudflare.doh`, \
`interface:NAME`, `local`, `url:URL` (or `url4:`/`url6:`), `static:ADDR`, `file:PATH`, \
`router.natpmp`, `router.pcp`, `router.upnp` or `none`";

impl FromStr for ProviderSpec {
    type Err = String;

    /// The error is the "expected …" part of a config message.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        match s {
            "cloudflare.dns" | "cloudflare.doh" if cfg!(not(feature = "dns-detect")) => {
                return Err(format!(
                    "a provider this build has, found `{s}`: this build of ddflare has no \
                     DNS-based detection (built without the `dns-detect` feature, as the router \
                     builds are); use `cloudflare.trace`"
                ));
            }
            _ if s.starts_with("router.") && cfg!(not(feature = "router-query")) => {
                return Err(format!(
                    "a provider this build has, found `{s}`: this build of ddflare cannot ask a \
                     router (built without the `router-query` feature, as the router builds \
                     are, which run on the router itself); use `interface:wan` (the WAN \
                     interface's name) or `cloudflare.trace`"
                ));
            }
            "cloudflare.trace" => return Ok(ProviderSpec::CloudflareTrace),
            "cloudflare.dns" => return Ok(ProviderSpec::CloudflareDns),
            "cloudflare.doh" => return Ok(ProviderSpec::CloudflareDoh),
            "local" => return Ok(ProviderSpec::Local),
            "router.natpmp" => return Ok(ProviderSpec::Router(Router::NatPmp(None))),
            "router.pcp" => return Ok(ProviderSpec::Router(Router::Pcp(None))),
            "router.upnp" => return Ok(ProviderSpec::Router(Router::Upnp(None))),
            _ => {}
        }
        if let Some(at) = s.strip_prefix("router.natpmp:") {
            return gateway("router.natpmp:", at.trim())
                .map(|g| ProviderSpec::Router(Router::NatPmp(Some(g))));
        }
        if let Some(at) = s.strip_prefix("router.pcp:") {
            return gateway("router.pcp:", at.trim())
                .map(|g| ProviderSpec::Router(Router::Pcp(Some(g))));
        }
        if let Some(url) = s.strip_prefix("router.upnp:") {
            let url = url.trim();
            return if url.starts_with("http://") {
                Ok(ProviderSpec::Router(Router::Upnp(Some(url.to_owned()))))
            } else {
                Err(format!(
                    "`router.upnp:` followed by the router's description URL (http://…), not `{}`",
                    text::url(url)
                ))
            };
        }
        if let Some(addr) = s.strip_prefix("static:") {
            return addr
                .trim()
                .parse()
                .map(ProviderSpec::Static)
                .map_err(|_| format!("`static:` followed by an IP address, not `{addr}`"));
        }
        for (prefix, via) in [
            ("url:", None),
            ("url4:", Some(Family::V4)),
            ("url6:", Some(Family::V6)),
        ] {
            if let Some(url) = s.strip_prefix(prefix) {
                let url = url.trim();
                if url.starts_with("https://") || url.starts_with("http://") {
                    return Ok(ProviderSpec::Url {
                        url: url.to_owned(),
                        via,
                    });
                }
                return Err(format!(
                    "`{prefix}` followed by an http(s) URL, not `{}`",
                    text::url(url)
                ));
            }
        }
        if let Some(name) = s.strip_prefix("interface:") {
            let name = name.trim();
            // The kernel's rules: at most 15 bytes, no `/`, no whitespace, not `.` or `..`.
            let valid = !name.is_empty()
                && name.len() <= 15
                && name != "."
                && name != ".."
                && !name
                    .chars()
                    .any(|c| c == '/' || c == ':' || c.is_whitespace());
            return if valid {
                Ok(ProviderSpec::Interface(name.to_owned()))
            } else {
                Err(format!(
                    "`interface:` followed by an interface name such as `eth0` (at most 15 characters, no `/`, `:` or spaces), not `{name}`"
                ))
            };
        }
        if let Some(path) = s.strip_prefix("file:") {
            let path = path.trim();
            return if path.starts_with('/') {
                Ok(ProviderSpec::File(PathBuf::from(path)))
            } else {
                Err(format!(
                    "`file:` followed by an absolute path, not `{path}`"
                ))
            };
        }
        Err(format!("{PROVIDERS}, not `{s}`"))
    }
}

/// `url`, `url4` or `url6`: the spelling of a URL provider that connects over `via`.
pub(crate) fn url_prefix(via: Option<Family>) -> &'static str {
    match via {
        None => "url",
        Some(Family::V4) => "url4",
        Some(Family::V6) => "url6",
    }
}

/// As written in the config, except a URL's secrets (userinfo, query values, token-shaped
/// path words), which are redacted: this is what logs, `check`, `detect` and the reload diff
/// show.
impl fmt::Display for ProviderSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProviderSpec::Static(a) => write!(f, "static:{a}"),
            ProviderSpec::Url { url, via } => write!(f, "{}:{}", url_prefix(*via), text::url(url)),
            ProviderSpec::CloudflareTrace => f.write_str("cloudflare.trace"),
            ProviderSpec::CloudflareDns => f.write_str("cloudflare.dns"),
            ProviderSpec::CloudflareDoh => f.write_str("cloudflare.doh"),
            ProviderSpec::Interface(name) => write!(f, "interface:{name}"),
            ProviderSpec::Local => f.write_str("local"),
            ProviderSpec::File(p) => write!(f, "file:{}", p.display()),
            ProviderSpec::Router(r) => write!(f, "{r}"),
        }
    }
}

/// As written in the config, the URL redacted as [`ProviderSpec`]'s.
impl fmt::Display for Router {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (name, at) = match self {
            Router::NatPmp(g) => ("natpmp", g.map(|g| g.to_string())),
            Router::Pcp(g) => ("pcp", g.map(|g| g.to_string())),
            Router::Upnp(url) => ("upnp", url.as_deref().map(text::url)),
        };
        match at {
            Some(at) => write!(f, "router.{name}:{at}"),
            None => write!(f, "router.{name}"),
        }
    }
}

/// How a family's list of providers gives one address (`detect.strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    /// Try the providers in order; the first valid answer wins.
    #[default]
    Fallback,
    /// Ask every provider at once; publish only an address that at least two of them gave.
    Agree,
}

impl FromStr for Strategy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "fallback" => Ok(Strategy::Fallback),
            "agree" => Ok(Strategy::Agree),
            other => Err(format!(
                "\"fallback\" or \"agree\", not \"{}\"",
                other.escape_debug()
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(feature = "dns-detect")]
    fn provider_specs_round_trip() {
        for s in [
            "cloudflare.trace",
            "cloudflare.dns",
            "cloudflare.doh",
            "local",
            "interface:eth0",
            "interface:ppp0.100",
            "url:https://ip.example/",
            "url4:http://192.0.2.1/ip6",
            "url6:https://ip.example/",
            "static:203.0.113.7",
            "static:2001:db8::1",
            "file:/run/wan-ip",
            "router.natpmp",
            "router.pcp",
            "router.upnp",
            "router.natpmp:192.168.1.1:5351",
            "router.pcp:10.0.0.1:15351",
            "router.upnp:http://192.168.1.1:5000/rootDesc.xml",
        ] {
            let spec: ProviderSpec = s.parse().unwrap();
            assert_eq!(spec.to_string(), s);
        }
        for (s, needle) in [
            ("interface:", "`interface:` followed by an interface name"),
            ("interface:a/b", "not `a/b`"),
            ("interface:abcdefghijklmnop", "at most 15"),
            ("file:relative", "absolute path"),
            ("url4:ftp://x", "`url4:` followed by an http(s) URL"),
            ("ipify", "`cloudflare.dns`"),
            ("cloudflare", "not `cloudflare`"),
            ("router.natpmp:fe80::1", "the router's IPv4 address"),
            ("router.pcp:router.lan", "not `router.lan`"),
            ("router.upnp:https://r/", "description URL (http://…)"),
            ("router.igd", "`router.upnp`"),
        ] {
            let err = s.parse::<ProviderSpec>().unwrap_err();
            assert!(err.contains(needle), "{s}: {err}");
        }
        assert_eq!("agree".parse::<Strategy>(), Ok(Strategy::Agree));
        assert_eq!("fallback".parse::<Strategy>(), Ok(Strategy::Fallback));
        assert!("majority".parse::<Strategy>().is_err());
    }

    #[test]
    fn url_secrets_are_accepted_and_never_shown() {
        let spec: ProviderSpec = "url4:http://admin:PW@192.0.2.1/ip?sid=S3cret"
            .parse()
            .unwrap();
        // Kept whole, to be sent (basic auth) …
        assert_eq!(
            spec,
            ProviderSpec::Url {
                url: "http://admin:PW@192.0.2.1/ip?sid=S3cret".to_owned(),
                via: Some(Family::V4)
            }
        );
        // … and shown redacted.
        assert_eq!(
            spec.to_string(),
            "url4:http://[redacted]@192.0.2.1/ip?sid=[redacted]"
        );
        #[cfg(feature = "router-query")]
        assert_eq!(
            "router.natpmp:192.168.1.1"
                .parse::<ProviderSpec>()
                .unwrap()
                .to_string(),
            "router.natpmp:192.168.1.1:5351"
        );
        let err = "url:ftp://admin:PW@x/".parse::<ProviderSpec>().unwrap_err();
        assert!(!err.contains("PW"), "{err}");
    }
}
