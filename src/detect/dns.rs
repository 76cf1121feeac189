//! `cloudflare.dns`: asks `whoami.cloudflare.` TXT in class CH (CHAOS) of Cloudflare's
//! resolvers (`[detect] dns_servers`, those of the family); the answer is one TXT string
//! holding the address the query came from. The family is forced by the server's address.
//! UDP first, TCP when the answer is truncated; the servers are asked hedged.
//!
//! The wire format ([`whoami_query`], [`parse_whoami`]) is pure and shared with `doh.rs`; no
//! resolver API is used because none asks class CH. The codec is ddflare's own (RFC 1035 §4):
//! hickory-proto, which did it before, cost ~110 KB of binary for one question and one TXT
//! answer (docs/shipping.md). It reads an answer as hickory-proto did: every record of every
//! section, names (compression pointers only backwards), the data of A, AAAA, TXT, OPT, NS,
//! CNAME and PTR records, empty records, OPT only once and in the additional section, the
//! extended RCODE; the data of rarer types (SVCB, CAA…), which hickory-proto parsed too, is
//! skipped by its length. The tests check it against hickory-proto, kept as a dev-dependency.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

use super::hedge::hedge;
use super::provider::{BoxFuture, DetectError, Found, IpProvider, ensure_family, failure, snippet};
use super::spec::Family;

/// The name Cloudflare's resolvers answer with the asker's address.
pub const WHOAMI: &str = "whoami.cloudflare.";

/// How long one server has before the next is asked as well.
pub const HEDGE_DELAY: Duration = Duration::from_millis(500);

/// The largest UDP answer read (no EDNS is sent, so a server keeps to 512 bytes).
const UDP_MAX: usize = 4096;

/// `whoami.cloudflare.` as wire labels.
const WHOAMI_LABELS: [&[u8]; 2] = [b"whoami", b"cloudflare"];
/// Record types and classes ddflare reads or writes.
const TYPE_A: u16 = 1;
const TYPE_TXT: u16 = 16;
const TYPE_AAAA: u16 = 28;
const TYPE_OPT: u16 = 41;
const CLASS_CH: u16 = 3;

/// A whoami query in wire format, with message id `id` (0 for DoH, RFC 8484 §4.1): no flag
/// set (recursion not desired), one question, no EDNS.
pub fn whoami_query(id: u16) -> Result<Vec<u8>, String> {
    let mut q = Vec::with_capacity(12 + 19 + 4);
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in WHOAMI_LABELS {
        q.push(label.len() as u8);
        q.extend_from_slice(label);
    }
    q.push(0);
    q.extend_from_slice(&TYPE_TXT.to_be_bytes());
    q.extend_from_slice(&CLASS_CH.to_be_bytes());
    Ok(q)
}

/// What a whoami answer says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Whoami {
    Addr(IpAddr),
    /// Too large for UDP: ask again over TCP.
    Truncated,
}

/// Reads a whoami answer to the query with id `id`: a response, no error, exactly one TXT
/// string for `whoami.cloudflare.` holding one IP address.
pub fn parse_whoami(wire: &[u8], id: u16) -> Result<Whoami, String> {
    let msg = Answer::read(wire).map_err(|e| {
        format!(
            "answered {} bytes that are not a DNS message ({e})",
            wire.len()
        )
    })?;
    if !msg.response {
        return Err("answered a DNS query, not a response".to_owned());
    }
    if msg.id != id {
        return Err(format!(
            "answered message id {}, not {id}: not an answer to this query",
            msg.id
        ));
    }
    if msg.truncated {
        return Ok(Whoami::Truncated);
    }
    if msg.rcode != 0 {
        return Err(format!(
            "answered {} to {WHOAMI} TXT CH: the server does not serve it (is it Cloudflare's resolver?)",
            rcode_text(msg.rcode)
        ));
    }
    let [one] = msg.strings.as_slice() else {
        return Err(format!(
            "answered {} TXT strings for {WHOAMI}, expected exactly one",
            msg.strings.len()
        ));
    };
    let text = String::from_utf8_lossy(one);
    text.trim()
        .parse::<IpAddr>()
        .map(Whoami::Addr)
        .map_err(|_| {
            format!(
                "answered the TXT string `{}`, which is not an IP address",
                snippet(&text)
            )
        })
}

/// What ddflare reads of a DNS message: the header's id, QR, TC and (extended) RCODE, and the
/// strings of the TXT records of the answer section named `whoami.cloudflare.`.
struct Answer<'a> {
    id: u16,
    response: bool,
    truncated: bool,
    rcode: u16,
    strings: Vec<&'a [u8]>,
}

impl<'a> Answer<'a> {
    fn read(wire: &'a [u8]) -> Result<Self, String> {
        let mut r = Reader { wire, at: 0 };
        let id = r.u16()?;
        let flags = r.u16()?;
        let counts = [r.u16()?, r.u16()?, r.u16()?, r.u16()?];
        // The opcode is QUERY unless a server says otherwise; UPDATE allows empty records.
        let update = (flags >> 11) & 0xf == 5;
        let mut msg = Answer {
            id,
            response: flags & 0x8000 != 0,
            truncated: flags & 0x0200 != 0,
            rcode: flags & 0xf,
            strings: Vec::new(),
        };
        for _ in 0..counts[0] {
            r.name()?;
            r.take(4)?;
        }
        let mut edns = false;
        for (section, count) in counts[1..].iter().enumerate() {
            let additional = section == 2;
            for _ in 0..*count {
                let name = r.name()?;
                let rtype = r.u16()?;
                if rtype == TYPE_OPT && !name.is_empty() {
                    return Err("an OPT record not named the root".to_owned());
                }
                let _class = r.u16()?;
                let ttl = r.u32()?;
                let len = usize::from(r.u16()?);
                let data_at = r.at;
                let data = r.take(len)?;
                if len > 0 && matches!(rtype, 251 | 252 | 255) {
                    return Err(format!("record type {rtype} in a message"));
                }
                if len == 0 && rtype != TYPE_OPT && !update {
                    return Err("an empty record".to_owned());
                }
                match rtype {
                    TYPE_A if len != 4 => return Err("an A record not of 4 bytes".to_owned()),
                    TYPE_AAAA if len != 16 => {
                        return Err("an AAAA record not of 16 bytes".to_owned());
                    }
                    TYPE_TXT if len > 0 => {
                        let strings = character_strings(data)?;
                        if section == 0 && is_whoami(&name) {
                            msg.strings.extend(strings);
                        }
                    }
                    TYPE_OPT if len > 0 => options(data)?,
                    // ZERO has no data; NS, CNAME and PTR hold exactly one name.
                    0 if len > 0 => return Err("a record of type 0 with data".to_owned()),
                    2 | 5 | 12 if len > 0 => {
                        let mut inner = Reader { wire, at: data_at };
                        inner.name()?;
                        if inner.at != data_at + len {
                            return Err(format!("a type {rtype} record that is not one name"));
                        }
                    }
                    _ => {}
                }
                // SIG, TSIG and OPT belong to the additional section alone.
                if matches!(rtype, 24 | 250 | TYPE_OPT) && !additional {
                    return Err(format!(
                        "a record of type {rtype} outside the additional section"
                    ));
                }
                if rtype == TYPE_OPT {
                    if edns {
                        return Err("two OPT records".to_owned());
                    }
                    edns = true;
                    // RFC 6891 §6.1.3: the upper 8 bits of the 12-bit RCODE.
                    msg.rcode |= ((ttl >> 24) as u16) << 4;
                }
            }
        }
        Ok(msg)
    }
}

/// True when `labels` are `whoami.cloudflare.`, in any case (names compare so, RFC 4343).
fn is_whoami(labels: &[&[u8]]) -> bool {
    labels.len() == WHOAMI_LABELS.len()
        && labels
            .iter()
            .zip(WHOAMI_LABELS)
            .all(|(a, b)| a.eq_ignore_ascii_case(b))
}

/// The <character-string>s that fill a TXT record's data exactly.
fn character_strings(mut data: &[u8]) -> Result<Vec<&[u8]>, String> {
    let mut out = Vec::new();
    while let Some((&len, rest)) = data.split_first() {
        let len = usize::from(len);
        if rest.len() < len {
            return Err("a TXT string longer than its record".to_owned());
        }
        out.push(&rest[..len]);
        data = &rest[len..];
    }
    Ok(out)
}

/// The EDNS options of an OPT record's data (code, length, value), each within it.
fn options(mut data: &[u8]) -> Result<(), String> {
    while !data.is_empty() {
        let [_, _, hi, lo, rest @ ..] = data else {
            return Err("an EDNS option cut short".to_owned());
        };
        let len = usize::from(u16::from_be_bytes([*hi, *lo]));
        if rest.len() < len {
            return Err("an EDNS option longer than its record".to_owned());
        }
        data = &rest[len..];
    }
    Ok(())
}

/// The words hickory-proto gave each RCODE (RFC 6895 §2.3), which ddflare has logged.
fn rcode_text(rcode: u16) -> &'static str {
    match rcode {
        0 => "No Error",
        1 => "Form Error",
        2 => "Server Failure",
        3 => "Non-Existent Domain",
        4 => "Not Implemented",
        5 => "Query Refused",
        6 => "Name should not exist",
        7 => "RR Set should not exist",
        8 => "RR Set does not exist",
        9 => "Not authorized",
        10 => "Name not in zone",
        16 => "TSIG Failure",
        17 => "Key not recognized",
        18 => "Signature out of time window",
        19 => "Bad TKEY mode",
        20 => "Duplicate key name",
        21 => "Algorithm not supported",
        22 => "Bad truncation",
        23 => "Bad server cookie",
        _ => "Unknown response code",
    }
}

/// A cursor over a message; every read is bounded by its end.
struct Reader<'a> {
    wire: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.wire.len());
        let Some(end) = end else {
            return Err(format!("cut short at byte {}", self.wire.len()));
        };
        let out = &self.wire[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn u16(&mut self) -> Result<u16, String> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, String> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A name's labels (RFC 1035 §4.1.4): each at most 63 bytes, the name at most 255; a
    /// compression pointer only to a place before the part of the name that holds it, so no
    /// name loops. The cursor moves past the name as written here.
    fn name(&mut self) -> Result<Vec<&'a [u8]>, String> {
        let mut labels = Vec::new();
        let mut encoded = 1;
        let mut at = self.at;
        let mut start = at;
        let mut limit = usize::MAX;
        let mut jumped = false;
        loop {
            if at >= limit {
                return Err("a name pointing into itself".to_owned());
            }
            let Some(&len) = self.wire.get(at) else {
                return Err(format!("cut short at byte {}", self.wire.len()));
            };
            match len & 0xc0 {
                0 if len == 0 => {
                    if !jumped {
                        self.at = at + 1;
                    }
                    return Ok(labels);
                }
                0 => {
                    let len = usize::from(len);
                    let Some(label) = self.wire.get(at + 1..at + 1 + len) else {
                        return Err(format!("cut short at byte {}", self.wire.len()));
                    };
                    encoded += len + 1;
                    if encoded > 255 {
                        return Err("a name longer than 255 bytes".to_owned());
                    }
                    labels.push(label);
                    at += 1 + len;
                }
                0xc0 => {
                    let Some(&low) = self.wire.get(at + 1) else {
                        return Err(format!("cut short at byte {}", self.wire.len()));
                    };
                    let to = usize::from(u16::from_be_bytes([len & 0x3f, low]));
                    if to >= start {
                        return Err(format!("a name pointer at byte {at} not to an earlier one"));
                    }
                    if !jumped {
                        self.at = at + 2;
                        jumped = true;
                    }
                    limit = start;
                    start = to;
                    at = to;
                }
                _ => return Err(format!("a label of unknown type {len:#04x}")),
            }
        }
    }
}

/// One UDP exchange with `server`, from a socket of the server's family.
async fn over_udp(server: SocketAddr, query: &[u8]) -> Result<Vec<u8>, String> {
    let local: SocketAddr = match server {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let socket = UdpSocket::bind(local)
        .await
        .map_err(|e| format!("cannot open a UDP socket: {e}"))?;
    // A connected socket only receives from the server.
    socket
        .connect(server)
        .await
        .map_err(|e| format!("cannot reach {server} over UDP: {e}"))?;
    socket
        .send(query)
        .await
        .map_err(|e| format!("cannot send to {server} over UDP: {e}"))?;
    let mut buf = vec![0u8; UDP_MAX];
    let n = socket
        .recv(&mut buf)
        .await
        .map_err(|e| format!("no answer from {server} over UDP: {e}"))?;
    buf.truncate(n);
    Ok(buf)
}

/// One TCP exchange (RFC 1035 §4.2.2: each message after its two-byte length).
async fn over_tcp(server: SocketAddr, query: &[u8]) -> Result<Vec<u8>, String> {
    let mut stream = TcpStream::connect(server)
        .await
        .map_err(|e| format!("cannot connect to {server} over TCP: {e}"))?;
    let len = u16::try_from(query.len()).map_err(|_| "query too long".to_owned())?;
    let mut out = len.to_be_bytes().to_vec();
    out.extend_from_slice(query);
    let io = |e: std::io::Error| format!("TCP exchange with {server} failed: {e}");
    stream.write_all(&out).await.map_err(io)?;
    let answer_len = stream.read_u16().await.map_err(io)?;
    let mut answer = vec![0u8; usize::from(answer_len)];
    stream.read_exact(&mut answer).await.map_err(io)?;
    Ok(answer)
}

/// Asks `server`, over TCP again when the UDP answer is truncated.
pub async fn ask(server: SocketAddr) -> Result<IpAddr, String> {
    let id = fastrand::u16(..);
    let query = whoami_query(id)?;
    let wire = over_udp(server, &query).await?;
    match parse_whoami(&wire, id)? {
        Whoami::Addr(addr) => Ok(addr),
        Whoami::Truncated => {
            let wire = over_tcp(server, &query).await?;
            match parse_whoami(&wire, id)? {
                Whoami::Addr(addr) => Ok(addr),
                Whoami::Truncated => Err(format!("{server} answered truncated over TCP too")),
            }
        }
    }
}

#[derive(Debug)]
pub struct DnsProvider {
    /// Only servers of `family`.
    servers: Vec<SocketAddr>,
    family: Family,
}

impl DnsProvider {
    /// `servers` of another family than `family` are ignored.
    pub fn new(servers: Vec<SocketAddr>, family: Family) -> Self {
        DnsProvider {
            servers: servers
                .into_iter()
                .filter(|s| family.matches(&s.ip()))
                .collect(),
            family,
        }
    }
}

impl IpProvider for DnsProvider {
    fn name(&self) -> String {
        "cloudflare.dns".to_owned()
    }

    fn detect(&self) -> BoxFuture<'_, Result<Found, DetectError>> {
        Box::pin(async move {
            let failed = failure(self.name());
            if self.servers.is_empty() {
                return Err(failed(format!(
                    "detect.dns_servers has no {} server",
                    self.family
                )));
            }
            let attempts = self
                .servers
                .iter()
                .map(|s| {
                    let s = *s;
                    Box::pin(async move { ask(s).await.map_err(|e| format!("{s}: {e}")) })
                        as BoxFuture<'_, _>
                })
                .collect();
            let addr = hedge(attempts, HEDGE_DELAY)
                .await
                .map_err(|errors| failed(errors.join("; ")))?;
            ensure_family(self.family, self.name(), addr).map(Found::from)
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
    use hickory_proto::rr::rdata::TXT;
    use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};
    use tokio::net::TcpListener;

    use super::*;

    /// An answer to `query` carrying `strings` in one TXT record, or with `truncated` set.
    pub(crate) fn answer(query: &[u8], strings: &[&str], truncated: bool) -> Vec<u8> {
        let q = Message::from_vec(query).unwrap();
        let mut msg = Message::response(q.metadata.id, OpCode::Query);
        msg.metadata.truncation = truncated;
        msg.add_queries(q.queries.clone());
        if !truncated && !strings.is_empty() {
            let mut rec = Record::from_rdata(
                Name::from_ascii(WHOAMI).unwrap(),
                0,
                RData::TXT(TXT::new(strings.iter().map(|s| (*s).to_owned()).collect())),
            );
            rec.dns_class = DNSClass::CH;
            msg.add_answer(rec);
        }
        msg.to_vec().unwrap()
    }

    /// A whoami server on UDP and TCP at the same loopback port, answering the peer's
    /// address like Cloudflare's (or `fixed` when given); `truncate_udp` forces TCP.
    pub(crate) struct WhoamiServer {
        pub addr: SocketAddr,
        pub udp_hits: Arc<AtomicUsize>,
        pub tcp_hits: Arc<AtomicUsize>,
        tasks: Vec<tokio::task::JoinHandle<()>>,
    }

    impl Drop for WhoamiServer {
        fn drop(&mut self) {
            for t in &self.tasks {
                t.abort();
            }
        }
    }

    impl WhoamiServer {
        pub(crate) async fn start(ip: IpAddr, fixed: Option<&str>, truncate_udp: bool) -> Self {
            // The port the kernel gives the UDP socket may be taken for TCP: try another.
            let mut tries = 0;
            let (udp, addr, tcp) = loop {
                let udp = UdpSocket::bind(SocketAddr::new(ip, 0)).await.unwrap();
                let addr = udp.local_addr().unwrap();
                match TcpListener::bind(addr).await {
                    Ok(tcp) => break (udp, addr, tcp),
                    Err(_) if tries < 20 => tries += 1,
                    Err(e) => panic!("no port free for both UDP and TCP: {e}"),
                }
            };
            let (udp_hits, tcp_hits) =
                (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
            let fixed = fixed.map(str::to_owned);
            let (f1, h1) = (fixed.clone(), udp_hits.clone());
            let t1 = tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                while let Ok((n, peer)) = udp.recv_from(&mut buf).await {
                    h1.fetch_add(1, Ordering::SeqCst);
                    let said = f1.clone().unwrap_or_else(|| peer.ip().to_string());
                    let out = answer(&buf[..n], &[&said], truncate_udp);
                    let _ = udp.send_to(&out, peer).await;
                }
            });
            let (f2, h2) = (fixed, tcp_hits.clone());
            let t2 = tokio::spawn(async move {
                while let Ok((mut s, peer)) = tcp.accept().await {
                    h2.fetch_add(1, Ordering::SeqCst);
                    let Ok(len) = s.read_u16().await else {
                        continue;
                    };
                    let mut q = vec![0u8; usize::from(len)];
                    if s.read_exact(&mut q).await.is_err() {
                        continue;
                    }
                    let said = f2.clone().unwrap_or_else(|| peer.ip().to_string());
                    let out = answer(&q, &[&said], false);
                    let mut framed = u16::try_from(out.len()).unwrap().to_be_bytes().to_vec();
                    framed.extend(out);
                    let _ = s.write_all(&framed).await;
                }
            });
            WhoamiServer {
                addr,
                udp_hits,
                tcp_hits,
                tasks: vec![t1, t2],
            }
        }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// The query as hickory-proto encoded it, byte for byte.
    #[test]
    fn the_query_is_hickorys() {
        let mut query =
            hickory_proto::op::Query::query(Name::from_ascii(WHOAMI).unwrap(), RecordType::TXT);
        query.set_query_class(DNSClass::CH);
        let mut msg = Message::new(0xbeef, MessageType::Query, OpCode::Query);
        msg.metadata.recursion_desired = false;
        msg.add_query(query);
        assert_eq!(whoami_query(0xbeef).unwrap(), msg.to_vec().unwrap());
    }

    /// What is read of a message: id, QR, TC, RCODE, the whoami TXT strings.
    type Read = (u16, bool, bool, u16, Vec<Vec<u8>>);

    /// What hickory-proto read of a message, in the terms of [`Answer`].
    fn hickory_reads(wire: &[u8]) -> Option<Read> {
        let msg = Message::from_vec(wire).ok()?;
        let whoami = Name::from_ascii(WHOAMI).unwrap();
        let mut strings = Vec::new();
        for record in &msg.answers {
            if record.name == whoami
                && let RData::TXT(txt) = &record.data
            {
                strings.extend(txt.txt_data.iter().map(|s| s.to_vec()));
            }
        }
        let m = &msg.metadata;
        Some((
            m.id,
            m.message_type == MessageType::Response,
            m.truncation,
            u16::from(m.response_code),
            strings,
        ))
    }

    fn ours(wire: &[u8]) -> Option<Read> {
        let a = Answer::read(wire).ok()?;
        let strings = a.strings.iter().map(|s| s.to_vec()).collect();
        Some((a.id, a.response, a.truncated, a.rcode, strings))
    }

    /// Answers as servers write them: compressed names, other records, EDNS with an
    /// extended RCODE, mixed case; and broken ones. The codec reads each as hickory-proto did.
    #[test]
    fn reads_answers_as_hickory_did() {
        let q = whoami_query(7).unwrap();
        let mut cases = vec![
            answer(&q, &["203.0.113.7"], false),
            answer(&q, &["a", "b"], false),
            answer(&q, &[], true),
            answer(&q, &[], false),
            q.clone(),
        ];
        let mut msg = Message::from_vec(&answer(&q, &["192.0.2.1"], false)).unwrap();
        let name = Name::from_ascii("WhoAmI.CloudFlare.").unwrap();
        msg.add_answer(Record::from_rdata(
            name.clone(),
            5,
            RData::A("192.0.2.9".parse().unwrap()),
        ));
        msg.add_answer(Record::from_rdata(
            name,
            5,
            RData::AAAA("2001:db8::9".parse().unwrap()),
        ));
        msg.add_answer(Record::from_rdata(
            Name::from_ascii("other.example.").unwrap(),
            5,
            RData::TXT(TXT::new(vec!["198.51.100.1".into()])),
        ));
        let mut edns = hickory_proto::op::Edns::new();
        edns.set_rcode_high(1);
        msg.set_edns(edns);
        cases.push(msg.to_vec().unwrap());
        msg.metadata.response_code = ResponseCode::Refused;
        cases.push(msg.to_vec().unwrap());
        // Every cut of a good answer.
        let good = cases[5].clone();
        for n in 0..good.len() {
            cases.push(good[..n].to_vec());
        }
        // Every byte of it changed, to values that matter: lengths, pointers, types, flags.
        for i in 0..good.len() {
            for v in [0u8, 1, 4, 5, 16, 28, 41, 0x3f, 0x40, 0xc0, 0xc5, 0xff] {
                let mut w = good.clone();
                w[i] = v;
                cases.push(w);
            }
        }
        let mut agree = 0;
        for wire in &cases {
            let theirs = hickory_reads(wire);
            if theirs.is_some() {
                assert_eq!(ours(wire), theirs, "{wire:?}");
                agree += 1;
            }
        }
        assert!(agree > 100, "{agree}");
    }

    #[test]
    fn the_query_is_txt_ch_for_whoami() {
        let wire = whoami_query(0x1234).unwrap();
        let msg = Message::from_vec(&wire).unwrap();
        assert_eq!(msg.metadata.id, 0x1234);
        assert_eq!(msg.metadata.message_type, MessageType::Query);
        let q = &msg.queries[0];
        assert_eq!(q.name().to_ascii(), WHOAMI);
        assert_eq!(q.query_type(), RecordType::TXT);
        assert_eq!(q.query_class(), DNSClass::CH);
    }

    #[test]
    fn parses_answers() {
        let q = whoami_query(7).unwrap();
        assert_eq!(
            parse_whoami(&answer(&q, &["203.0.113.7"], false), 7),
            Ok(Whoami::Addr(ip("203.0.113.7")))
        );
        assert_eq!(
            parse_whoami(&answer(&q, &["2001:db8::7"], false), 7),
            Ok(Whoami::Addr(ip("2001:db8::7")))
        );
        assert_eq!(
            parse_whoami(&answer(&q, &[], true), 7),
            Ok(Whoami::Truncated)
        );
    }

    #[test]
    fn refuses_bad_answers() {
        let q = whoami_query(7).unwrap();
        let cases: Vec<(Vec<u8>, u16, &str)> = vec![
            (answer(&q, &["203.0.113.7"], false), 8, "id 7, not 8"),
            (answer(&q, &[], false), 7, "0 TXT strings"),
            (
                answer(&q, &["203.0.113.7", "198.51.100.1"], false),
                7,
                "2 TXT strings",
            ),
            (answer(&q, &["<html>"], false), 7, "`<html>`"),
            (answer(&q, &["\u{1b}[2J"], false), 7, "\\u{1b}"),
            (q.clone(), 7, "a DNS query, not a response"),
            (vec![1, 2, 3], 7, "not a DNS message"),
            (vec![], 7, "not a DNS message"),
        ];
        for (wire, id, needle) in cases {
            let err = parse_whoami(&wire, id).unwrap_err();
            assert!(err.contains(needle), "{needle}: {err}");
        }
        let mut refused = Message::from_vec(&answer(&q, &[], false)).unwrap();
        refused.metadata.response_code = ResponseCode::Refused;
        let err = parse_whoami(&refused.to_vec().unwrap(), 7).unwrap_err();
        assert!(err.contains("Refused"), "{err}");
    }

    #[tokio::test]
    async fn echoes_the_source_over_udp_v4_and_v6() {
        let v4 = WhoamiServer::start(ip("127.0.0.1"), None, false).await;
        let p = DnsProvider::new(vec![v4.addr], Family::V4);
        assert_eq!(p.name(), "cloudflare.dns");
        assert_eq!(p.detect().await.unwrap().addr, ip("127.0.0.1"));
        assert_eq!(v4.tcp_hits.load(Ordering::SeqCst), 0);

        let v6 = WhoamiServer::start(ip("::1"), None, false).await;
        let p = DnsProvider::new(vec![v4.addr, v6.addr], Family::V6);
        assert_eq!(p.detect().await.unwrap().addr, ip("::1"));
        assert_eq!(
            v4.udp_hits.load(Ordering::SeqCst),
            1,
            "the v4 server is not asked for v6"
        );
    }

    #[tokio::test]
    async fn falls_back_to_tcp_on_truncation() {
        let s = WhoamiServer::start(ip("127.0.0.1"), Some("192.0.2.44"), true).await;
        let p = DnsProvider::new(vec![s.addr], Family::V4);
        assert_eq!(p.detect().await.unwrap().addr, ip("192.0.2.44"));
        assert_eq!(s.udp_hits.load(Ordering::SeqCst), 1);
        assert_eq!(s.tcp_hits.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_dead_server_is_passed_over() {
        // A bound UDP socket that never answers, then a live server.
        let dead = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let live = WhoamiServer::start(ip("127.0.0.1"), Some("192.0.2.45"), false).await;
        let p = DnsProvider::new(vec![dead.local_addr().unwrap(), live.addr], Family::V4);
        let t0 = tokio::time::Instant::now();
        assert_eq!(p.detect().await.unwrap().addr, ip("192.0.2.45"));
        assert!(t0.elapsed() < Duration::from_secs(2), "{:?}", t0.elapsed());
    }

    #[tokio::test]
    async fn no_server_of_the_family() {
        let p = DnsProvider::new(vec!["127.0.0.1:53".parse().unwrap()], Family::V6);
        let err = p.detect().await.unwrap_err().to_string();
        assert_eq!(err, "cloudflare.dns: detect.dns_servers has no IPv6 server");
    }

    #[tokio::test]
    async fn the_wrong_family_is_refused() {
        let s = WhoamiServer::start(ip("127.0.0.1"), Some("2001:db8::9"), false).await;
        let p = DnsProvider::new(vec![s.addr], Family::V4);
        assert!(matches!(
            p.detect().await,
            Err(DetectError::WrongFamily { .. })
        ));
    }
}
