//! The bytes of the three router protocols, pure: the NAT-PMP external address answer
//! (RFC 6886 §3.2), the PCP MAP request and answer (RFC 6887 §7, §11), the SSDP answer's
//! `LOCATION` (UPnP Device Architecture §1.3), and the few XML elements of an IGD
//! description and of a `GetExternalIPAddress` answer. Every field is checked; anything
//! malformed is an error whose text quotes the answer only through `snippet`.
//!
//! The XML is read by a scanner of tags and text, not a parser: no DOCTYPE (so no entity,
//! external or not), no CDATA, the five predefined entities and character references only,
//! namespace prefixes ignored (`<u:NewExternalIPAddress>` is `NewExternalIPAddress`).

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::detect::provider::snippet;

/// What a refusal may mean: NAT-PMP's 3, PCP's 7 and 8 are what miniupnpd answers when its
/// WAN address is not public (the other codes differ between the two protocols).
fn behind(result: impl Into<u16>) -> &'static str {
    match result.into() {
        3 | 7 | 8 => {
            " (miniupnpd, for one, says so when its WAN address is private or carrier-grade \
             NAT: the router is behind another NAT)"
        }
        _ => "",
    }
}

/// NAT-PMP's external address request: version 0, opcode 0.
pub const NATPMP_REQUEST: [u8; 2] = [0, 0];

/// The largest PCP message (RFC 6887 §7).
pub const PCP_MAX: usize = 1100;

/// The largest SSDP answer or XML document read.
pub const SSDP_MAX: usize = 2048;

/// What an answer said when it was not an address: the message for the provider's error.
pub type Refused = String;

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

/// A NAT-PMP answer to [`NATPMP_REQUEST`]: the router's WAN address.
pub fn natpmp_answer(b: &[u8]) -> Result<Ipv4Addr, Refused> {
    if b.len() < 4 {
        return Err(format!("answered {} bytes, too short for NAT-PMP", b.len()));
    }
    match b[0] {
        0 => {}
        2 => {
            return Err("answered in PCP (version 2), not NAT-PMP: use router.pcp".to_owned());
        }
        v => return Err(format!("answered version {v}, not NAT-PMP's 0")),
    }
    if b[1] != 128 {
        return Err(format!(
            "answered opcode {}, not 128 (external address)",
            b[1]
        ));
    }
    let result = be16(b, 2);
    if result != 0 {
        let why = match result {
            1 => "unsupported version",
            2 => "not authorized: NAT-PMP is turned off on the router",
            3 => "network failure: the router has no usable WAN address",
            4 => "out of resources",
            5 => "unsupported opcode",
            _ => "unknown result code",
        };
        return Err(format!("answered result {result}: {why}{}", behind(result)));
    }
    if b.len() != 12 {
        return Err(format!(
            "answered {} bytes, where NAT-PMP's external address answer has 12",
            b.len()
        ));
    }
    Ok(Ipv4Addr::new(b[8], b[9], b[10], b[11]))
}

/// A PCP MAP request for one UDP port of this host, which also tells the external address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PcpMap {
    pub nonce: [u8; 12],
    /// The request's source address, as the router sees it (no NAT between them).
    pub client: Ipv4Addr,
    /// The request's source port: the mapping is for it, so it maps nothing else.
    pub port: u16,
    /// 0 deletes the mapping.
    pub lifetime: u32,
}

const UDP: u8 = 17;
const MAP: u8 = 1;

impl PcpMap {
    /// The request's 60 bytes: the common header and the MAP opcode's data, no option.
    pub fn request(&self) -> [u8; 60] {
        let mut b = [0u8; 60];
        b[0] = 2;
        b[1] = MAP;
        b[4..8].copy_from_slice(&self.lifetime.to_be_bytes());
        b[8..24].copy_from_slice(&self.client.to_ipv6_mapped().octets());
        b[24..36].copy_from_slice(&self.nonce);
        b[36] = UDP;
        b[40..42].copy_from_slice(&self.port.to_be_bytes());
        // Suggested external port 0 and address ::ffff:0.0.0.0: no preference.
        b[44..60].copy_from_slice(&Ipv4Addr::UNSPECIFIED.to_ipv6_mapped().octets());
        b
    }

    /// The answer to [`request`](Self::request): the assigned external address.
    pub fn answer(&self, b: &[u8]) -> Result<Ipv4Addr, Refused> {
        if b.len() < 4 {
            return Err(format!("answered {} bytes, too short for PCP", b.len()));
        }
        match b[0] {
            2 => {}
            // A NAT-PMP-only server answers an unknown version with its own error.
            0 => {
                return Err(
                    "answered in NAT-PMP (version 0), not PCP: use router.natpmp".to_owned(),
                );
            }
            v => return Err(format!("answered version {v}, not PCP's 2")),
        }
        if b[1] != 0x80 | MAP {
            return Err(format!(
                "answered opcode {:#04x}, not a MAP answer ({:#04x})",
                b[1],
                0x80 | MAP
            ));
        }
        if b.len() < 24 || b.len() > PCP_MAX || !b.len().is_multiple_of(4) {
            return Err(format!(
                "answered {} bytes, not a PCP message (24 to 1100, a multiple of 4)",
                b.len()
            ));
        }
        let result = b[3];
        if result != 0 {
            let why = match result {
                1 => "unsupported version",
                2 => "not authorized: PCP is turned off on the router, or refuses this host",
                3 => "malformed request",
                4 => "unsupported opcode",
                5 => "unsupported option",
                6 => "malformed option",
                7 => "network failure: the router has no usable WAN address",
                8 => "no resources: the router could not make the mapping",
                9 => "unsupported protocol",
                10 => "user exceeded quota",
                11 => "cannot provide external",
                12 => "address mismatch: a NAT lies between this host and the router",
                13 => "excessive remote peers",
                _ => "unknown result code",
            };
            return Err(format!("answered result {result}: {why}{}", behind(result)));
        }
        if b.len() < 60 {
            return Err(format!(
                "answered {} bytes, too short for a MAP answer (60)",
                b.len()
            ));
        }
        if b[24..36] != self.nonce || b[36] != UDP || be16(b, 40) != self.port {
            return Err("answered a mapping this request did not ask for".to_owned());
        }
        options(&b[60..])?;
        let external = Ipv6Addr::from(<[u8; 16]>::try_from(&b[44..60]).unwrap_or_default());
        external.to_ipv4_mapped().ok_or_else(|| {
            format!("answered the external address {external}, which is not an IPv4 address")
        })
    }
}

/// PCP options (code, reserved, length, data padded to 4 bytes): well formed to the end.
fn options(mut b: &[u8]) -> Result<(), Refused> {
    while !b.is_empty() {
        let len = b.get(2..4).map_or(usize::MAX, |l| usize::from(be16(l, 0)));
        let padded = len.saturating_add(3) & !3;
        b = b
            .get(4..)
            .and_then(|rest| rest.get(padded..))
            .ok_or("answered a malformed PCP option")?;
    }
    Ok(())
}

/// The SSDP search for an Internet Gateway Device (MX 1: answers within a second).
pub const SSDP_SEARCH: &[u8] = b"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n\
MAN: \"ssdp:discover\"\r\nMX: 1\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n\r\n";

/// The description URL in an SSDP answer to [`SSDP_SEARCH`]: its `LOCATION`, an http URL.
pub fn ssdp_location(b: &[u8]) -> Result<&str, Refused> {
    if b.len() > SSDP_MAX {
        return Err(format!("answered SSDP longer than {SSDP_MAX} bytes"));
    }
    let text = std::str::from_utf8(b).map_err(|_| "answered SSDP that is not text".to_owned())?;
    let mut lines = text.split("\r\n");
    let status = lines.next().unwrap_or_default();
    if !(status.starts_with("HTTP/1.1 200") || status.starts_with("HTTP/1.0 200")) {
        return Err(format!("answered SSDP `{}`", snippet(status)));
    }
    let mut location = None;
    for line in lines.take_while(|l| !l.is_empty()) {
        let Some((name, value)) = line.split_once(':') else {
            return Err(format!("answered the SSDP header `{}`", snippet(line)));
        };
        if name.trim().eq_ignore_ascii_case("location") {
            location = Some(value.trim());
        }
    }
    match location {
        Some(url) if url.starts_with("http://") && url.len() <= 512 => Ok(url),
        Some(url) => Err(format!(
            "answered SSDP with the location `{}`, not an http URL",
            snippet(url)
        )),
        None => Err("answered SSDP without a location".to_owned()),
    }
}

/// One step of the XML scanner: an element opens (its local name) or closes, or text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Event<'a> {
    Open(&'a str),
    Close(&'a str),
    Text(&'a str),
}

/// `u:Name` → `Name`.
fn local(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

/// The events of `xml`, or why it is not the plain XML a router writes.
fn events(xml: &str) -> Result<Vec<Event<'_>>, Refused> {
    let malformed = |what: &str| format!("answered malformed XML ({what})");
    let mut out = Vec::new();
    let mut rest = xml;
    while !rest.is_empty() {
        let Some(lt) = rest.find('<') else {
            out.push(Event::Text(rest));
            break;
        };
        if lt > 0 {
            out.push(Event::Text(&rest[..lt]));
        }
        rest = &rest[lt..];
        if let Some(after) = rest.strip_prefix("<?") {
            let end = after
                .find("?>")
                .ok_or_else(|| malformed("an unclosed `<?`"))?;
            rest = &after[end + 2..];
        } else if let Some(after) = rest.strip_prefix("<!--") {
            let end = after
                .find("-->")
                .ok_or_else(|| malformed("an unclosed comment"))?;
            rest = &after[end + 3..];
        } else if rest.starts_with("<!") {
            return Err("answered XML with a DOCTYPE or CDATA, which a router never needs".into());
        } else {
            // A tag: up to the `>` outside quotes.
            let mut quote = None;
            let end = rest
                .char_indices()
                .find(|&(_, c)| match (quote, c) {
                    (None, '"' | '\'') => {
                        quote = Some(c);
                        false
                    }
                    (Some(q), c) if c == q => {
                        quote = None;
                        false
                    }
                    (None, '>') => true,
                    _ => false,
                })
                .map(|(i, _)| i)
                .ok_or_else(|| malformed("an unclosed tag"))?;
            let tag = &rest[1..end];
            rest = &rest[end + 1..];
            let (closing, tag) = match tag.strip_prefix('/') {
                Some(t) => (true, t),
                None => (false, tag),
            };
            let empty = tag.ends_with('/');
            let name = tag
                .split(|c: char| c.is_ascii_whitespace() || c == '/')
                .next()
                .unwrap_or_default();
            if name.is_empty() || name.contains(['<', '&', '"', '\'', '=']) {
                return Err(malformed("a tag without a name"));
            }
            let name = local(name);
            if closing {
                out.push(Event::Close(name));
            } else {
                out.push(Event::Open(name));
                if empty {
                    out.push(Event::Close(name));
                }
            }
        }
    }
    Ok(out)
}

/// Element text with its references resolved: the five predefined entities and `&#…;`.
fn unescape(text: &str) -> Result<String, Refused> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp + 1..];
        let semi = rest
            .find(';')
            .filter(|&i| i <= 10)
            .ok_or("answered XML with a bare `&`")?;
        let c = match &rest[..semi] {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            r => r
                .strip_prefix("#x")
                .map(|h| u32::from_str_radix(h, 16))
                .or_else(|| r.strip_prefix('#').map(str::parse))
                .and_then(Result::ok)
                .and_then(char::from_u32),
        };
        out.push(c.ok_or_else(|| {
            format!(
                "answered XML with the unknown entity `&{};`",
                snippet(&rest[..semi])
            )
        })?);
        rest = &rest[semi + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Where an IGD description says to ask: the service type and control URL of its first
/// `WANIPConnection` service, else of its first `WANPPPConnection`, and its `URLBase` if it
/// has one (UPnP 1.0; the control URL is relative to it, else to the description's URL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Control {
    pub service_type: String,
    pub control_url: String,
    pub url_base: Option<String>,
}

/// The WAN connection service of an IGD description.
pub fn igd_control(xml: &str) -> Result<Control, Refused> {
    let mut stack: Vec<&str> = Vec::new();
    let (mut service_type, mut control_url) = (String::new(), String::new());
    let (mut ip, mut ppp, mut url_base) = (None, None, None);
    for event in events(xml)? {
        match event {
            Event::Open(name) => {
                if stack.len() >= 32 {
                    return Err("answered XML nested deeper than 32 elements".to_owned());
                }
                if name == "service" {
                    service_type.clear();
                    control_url.clear();
                }
                stack.push(name);
            }
            Event::Close(name) => {
                if stack.pop() != Some(name) {
                    return Err(format!(
                        "answered malformed XML (`</{}>` closes no open element)",
                        snippet(name)
                    ));
                }
                if name == "service" {
                    let slot = if service_type
                        .starts_with("urn:schemas-upnp-org:service:WANIPConnection:")
                    {
                        &mut ip
                    } else if service_type
                        .starts_with("urn:schemas-upnp-org:service:WANPPPConnection:")
                    {
                        &mut ppp
                    } else {
                        continue;
                    };
                    if slot.is_none() && !control_url.is_empty() {
                        *slot = Some(Control {
                            service_type: service_type.clone(),
                            control_url: control_url.clone(),
                            url_base: None,
                        });
                    }
                }
            }
            Event::Text(text) => match stack.last() {
                Some(&"serviceType") => service_type = unescape(text)?.trim().to_owned(),
                Some(&"controlURL") => control_url = unescape(text)?.trim().to_owned(),
                Some(&"URLBase") => url_base = Some(unescape(text)?.trim().to_owned()),
                _ => {}
            },
        }
    }
    if !stack.is_empty() {
        return Err("answered XML that ends inside an element".to_owned());
    }
    let mut control = ip.or(ppp).ok_or(
        "answered a description without a WANIPConnection or WANPPPConnection service: \
         this device is not an internet gateway, or has UPnP IGD turned off",
    )?;
    control.url_base = url_base.filter(|u| !u.is_empty());
    Ok(control)
}

/// The `GetExternalIPAddress` request for `service_type`.
pub fn soap_request(service_type: &str) -> String {
    format!(
        "<?xml version=\"1.0\"?>\r\n<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" \
         s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body>\
         <u:GetExternalIPAddress xmlns:u=\"{service_type}\"></u:GetExternalIPAddress>\
         </s:Body></s:Envelope>\r\n"
    )
}

/// The address in a `GetExternalIPAddress` answer; `None` when the router left it empty
/// (it has none to give). A SOAP fault gives its code and description.
pub fn soap_answer(xml: &str) -> Result<Option<Ipv4Addr>, Refused> {
    let (mut current, mut address, mut code, mut description) = (None, None, None, None);
    for event in events(xml)? {
        match event {
            Event::Open(name) => {
                current = Some(name);
                if name == "NewExternalIPAddress" {
                    address.get_or_insert_with(String::new);
                }
            }
            Event::Close(_) => current = None,
            Event::Text(text) => match current {
                Some("NewExternalIPAddress") => address = Some(unescape(text)?),
                Some("errorCode") => code = Some(unescape(text)?),
                Some("errorDescription") => description = Some(unescape(text)?),
                _ => {}
            },
        }
    }
    if let Some(code) = code {
        return Err(format!(
            "answered the UPnP error {} ({})",
            snippet(code.trim()),
            snippet(description.as_deref().unwrap_or_default().trim())
        ));
    }
    let address = address.ok_or("answered without NewExternalIPAddress")?;
    let address = address.trim();
    if address.is_empty() || address == "0.0.0.0" {
        return Ok(None);
    }
    address
        .parse()
        .map(Some)
        .map_err(|_| format!("answered `{}`, not an IPv4 address", snippet(address)))
}

/// Every parser of this file on the same bytes: the fuzz target's entry point
/// (fuzz/fuzz_targets/router_answers.rs), which must never panic.
#[doc(hidden)]
pub fn parse_any(bytes: &[u8]) {
    let _ = natpmp_answer(bytes);
    let map = PcpMap {
        nonce: [0; 12],
        client: Ipv4Addr::UNSPECIFIED,
        port: 0,
        lifetime: 0,
    };
    let _ = map.answer(bytes);
    let _ = ssdp_location(bytes);
    let text = String::from_utf8_lossy(bytes);
    let _ = igd_control(&text);
    let _ = soap_answer(&text);
    let _ = unescape(&text);
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn v4(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    #[test]
    fn natpmp_answers() {
        let ok = [0, 128, 0, 0, 0, 0, 1, 2, 198, 51, 101, 2];
        assert_eq!(natpmp_answer(&ok), Ok(v4("198.51.101.2")));
        for (bytes, needle) in [
            (&[][..], "0 bytes"),
            (&[0, 128, 0][..], "too short"),
            (&[2, 128, 0, 0][..], "use router.pcp"),
            (&[1, 128, 0, 0][..], "version 1"),
            (&[0, 129, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4][..], "opcode 129"),
            (&[0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4][..], "opcode 0"),
            (&[0, 128, 0, 3, 0, 0, 0, 0][..], "result 3: network failure"),
            (&[0, 128, 0, 2, 0, 0, 0, 0][..], "turned off"),
            (&[0, 128, 1, 0, 0, 0, 0, 0][..], "result 256: unknown"),
            (&[0, 128, 0, 0, 0, 0, 0, 0, 1, 2, 3][..], "11 bytes"),
            (&[0, 128, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 0][..], "13 bytes"),
        ] {
            let err = natpmp_answer(bytes).unwrap_err();
            assert!(err.contains(needle), "{bytes:?}: {err}");
        }
    }

    fn map() -> PcpMap {
        PcpMap {
            nonce: *b"0123456789ab",
            client: v4("192.168.77.10"),
            port: 40000,
            lifetime: 1,
        }
    }

    /// The answer a server gives to `map()`, assigning `external`.
    fn pcp_ok(external: Ipv6Addr) -> Vec<u8> {
        let mut b = map().request().to_vec();
        b[1] = 0x81;
        b[3] = 0;
        b[4..8].copy_from_slice(&120u32.to_be_bytes());
        b[8..24].fill(0);
        b[42..44].copy_from_slice(&40000u16.to_be_bytes());
        b[44..60].copy_from_slice(&external.octets());
        b
    }

    #[test]
    fn pcp_request_is_a_udp_map_of_one_port() {
        let r = map().request();
        assert_eq!(&r[..8], &[2, 1, 0, 0, 0, 0, 0, 1]);
        assert_eq!(&r[8..24], &v4("192.168.77.10").to_ipv6_mapped().octets());
        assert_eq!(&r[24..36], b"0123456789ab");
        assert_eq!(&r[36..44], &[17, 0, 0, 0, 0x9c, 0x40, 0, 0]);
        assert_eq!(&r[44..], &Ipv4Addr::UNSPECIFIED.to_ipv6_mapped().octets());
    }

    #[test]
    fn pcp_answers() {
        let ext = v4("198.51.101.2").to_ipv6_mapped();
        assert_eq!(map().answer(&pcp_ok(ext)), Ok(v4("198.51.101.2")));
        // Options that end exactly are fine.
        let mut with_option = pcp_ok(ext);
        with_option.extend_from_slice(&[1, 0, 0, 4, 9, 9, 9, 9]);
        assert_eq!(map().answer(&with_option), Ok(v4("198.51.101.2")));

        let bad = |f: &dyn Fn(&mut Vec<u8>)| {
            let mut b = pcp_ok(ext);
            f(&mut b);
            map().answer(&b).unwrap_err()
        };
        for (err, needle) in [
            (bad(&|b| b.truncate(3)), "3 bytes"),
            (bad(&|b| b[0] = 0), "use router.natpmp"),
            (bad(&|b| b[0] = 1), "version 1"),
            (bad(&|b| b[1] = 0x01), "opcode 0x01"),
            (bad(&|b| b[1] = 0x82), "opcode 0x82"),
            (bad(&|b| b.truncate(22)), "22 bytes"),
            (bad(&|b| b.push(0)), "61 bytes"),
            (bad(&|b| b.resize(1104, 0)), "1104 bytes"),
            (bad(&|b| b[3] = 7), "result 7: network failure"),
            (bad(&|b| b[3] = 12), "a NAT lies between"),
            (bad(&|b| b[3] = 200), "result 200: unknown"),
            (bad(&|b| b.truncate(56)), "56 bytes, too short"),
            (bad(&|b| b[30] ^= 1), "did not ask for"),
            (bad(&|b| b[36] = 6), "did not ask for"),
            (bad(&|b| b[41] ^= 1), "did not ask for"),
            (
                bad(&|b| b.extend_from_slice(&[1, 0, 0, 8, 0, 0, 0, 0])),
                "malformed PCP option",
            ),
            (
                bad(&|b| {
                    b[44..60].copy_from_slice(&"2001:db8::1".parse::<Ipv6Addr>().unwrap().octets())
                }),
                "2001:db8::1, which is not an IPv4",
            ),
        ] {
            assert!(err.contains(needle), "{needle}: {err}");
        }
        // An error answer may be just the header.
        let mut short = pcp_ok(ext);
        short.truncate(24);
        short[3] = 2;
        assert!(map().answer(&short).unwrap_err().contains("not authorized"));
    }

    #[test]
    fn ssdp_answers() {
        let ok = b"HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\nlocation: http://192.168.77.1:5000/rootDesc.xml\r\n\r\n";
        assert_eq!(
            ssdp_location(ok),
            Ok("http://192.168.77.1:5000/rootDesc.xml")
        );
        for (bytes, needle) in [
            (&b"\xff\xfe"[..], "not text"),
            (&b"NOTIFY * HTTP/1.1\r\n\r\n"[..], "answered SSDP `NOTIFY"),
            (
                &b"HTTP/1.1 200 OK\r\nST: x\r\n\r\n"[..],
                "without a location",
            ),
            (&b"HTTP/1.1 200 OK\r\nbroken\r\n\r\n"[..], "header `broken`"),
            (
                &b"HTTP/1.1 200 OK\r\nLOCATION: https://x/\r\n\r\n"[..],
                "not an http URL",
            ),
            (
                &b"HTTP/1.1 200 OK\r\nLOCATION: file:///etc\x1b[2J\r\n\r\n"[..],
                "\\u{1b}",
            ),
        ] {
            let err = ssdp_location(bytes).unwrap_err();
            assert!(err.contains(needle), "{needle}: {err}");
        }
    }

    const MINIUPNPD: &str = include_str!("../testdata/miniupnpd-rootDesc.xml");

    #[test]
    fn finds_the_wan_connection_service() {
        assert_eq!(
            igd_control(MINIUPNPD),
            Ok(Control {
                service_type: "urn:schemas-upnp-org:service:WANIPConnection:2".into(),
                control_url: "/ctl/IPConn".into(),
                url_base: None,
            })
        );
        // UPnP 1.0 with a URLBase, prefixes, comments, entities, a PPP service first.
        let old = "<?xml version=\"1.0\"?><!-- a router --><d:root xmlns:d=\"urn:schemas-upnp-org:device-1-0\">\
            <d:URLBase>http://10.0.0.1:49000/</d:URLBase><d:device><d:serviceList>\
            <d:service><d:serviceType>urn:schemas-upnp-org:service:WANPPPConnection:1</d:serviceType>\
            <d:controlURL>/ppp?a=1&amp;b=2</d:controlURL></d:service>\
            <d:service><d:serviceType> urn:schemas-upnp-org:service:WANIPConnection:1 </d:serviceType>\
            <d:controlURL attr='>'>/ip</d:controlURL><d:empty/></d:service>\
            </d:serviceList></d:device></d:root>";
        let c = igd_control(old).unwrap();
        assert_eq!(c.control_url, "/ip");
        assert_eq!(c.url_base.as_deref(), Some("http://10.0.0.1:49000/"));
        let ppp_only = old.replace("WANIPConnection", "Other");
        let c = igd_control(&ppp_only).unwrap();
        assert_eq!(
            (c.service_type.as_str(), c.control_url.as_str()),
            (
                "urn:schemas-upnp-org:service:WANPPPConnection:1",
                "/ppp?a=1&b=2"
            )
        );
        for (xml, needle) in [
            ("<root></root>", "without a WANIPConnection"),
            (
                "<!DOCTYPE root [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><root>&x;</root>",
                "DOCTYPE",
            ),
            ("<root><![CDATA[x]]></root>", "DOCTYPE or CDATA"),
            ("<root><a></b></root>", "`</b>` closes no open element"),
            ("<root><a>", "ends inside an element"),
            ("<root", "unclosed tag"),
            ("<?xml", "unclosed `<?`"),
            ("<!-- x", "unclosed comment"),
            ("< >", "without a name"),
            (
                "<root><serviceType>&x;</serviceType></root>",
                "unknown entity `&x;`",
            ),
            ("<root><serviceType>a & b</serviceType></root>", "bare `&`"),
            (&"<a>".repeat(40), "deeper than 32"),
        ] {
            let err = igd_control(xml).unwrap_err();
            assert!(err.contains(needle), "{needle}: {err}");
        }
    }

    #[test]
    fn reads_the_soap_answer() {
        let ok = "<?xml version=\"1.0\"?>\r\n<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>\
            <u:GetExternalIPAddressResponse xmlns:u=\"urn:schemas-upnp-org:service:WANIPConnection:2\">\
            <NewExternalIPAddress>198.51.101.2</NewExternalIPAddress></u:GetExternalIPAddressResponse></s:Body></s:Envelope>";
        assert_eq!(soap_answer(ok), Ok(Some(v4("198.51.101.2"))));
        let empty = ok.replace("198.51.101.2", "");
        assert_eq!(soap_answer(&empty), Ok(None));
        assert_eq!(
            soap_answer(&ok.replace("198.51.101.2", "0.0.0.0")),
            Ok(None)
        );
        let fault = "<s:Envelope><s:Body><s:Fault><faultcode>s:Client</faultcode><detail><UPnPError>\
            <errorCode>401</errorCode><errorDescription>Invalid Action</errorDescription></UPnPError></detail></s:Fault></s:Body></s:Envelope>";
        assert_eq!(
            soap_answer(fault).unwrap_err(),
            "answered the UPnP error 401 (Invalid Action)"
        );
        assert!(
            soap_answer("<a/>")
                .unwrap_err()
                .contains("without NewExternalIPAddress")
        );
        let bad = ok.replace("198.51.101.2", "2001:db8::1\n");
        assert!(
            soap_answer(&bad)
                .unwrap_err()
                .contains("`2001:db8::1`, not an IPv4")
        );
        let bad = ok.replace("198.51.101.2", "1.2.3.04");
        assert!(soap_answer(&bad).is_err());
        let request = soap_request("urn:schemas-upnp-org:service:WANIPConnection:1");
        assert!(request.contains(
            "<u:GetExternalIPAddress xmlns:u=\"urn:schemas-upnp-org:service:WANIPConnection:1\">"
        ));
    }

    proptest! {
        /// Whatever the bytes, parsing never panics.
        #[test]
        fn parsing_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            parse_any(&bytes);
        }

        #[test]
        fn xml_scanning_never_panics(s in "[<>/!?a-z:=\"'&;# -]{0,64}") {
            parse_any(s.as_bytes());
        }
    }
}
