//! `cloudflare.dns`: asks `whoami.cloudflare.` TXT in class CH (CHAOS) of Cloudflare's
//! resolvers (`[detect] dns_servers`, those of the family); the answer is one TXT string
//! holding the address the query came from. The family is forced by the server's address.
//! UDP first, TCP when the answer is truncated; the servers are asked hedged.
//!
//! The wire format ([`whoami_query`], [`parse_whoami`]) is pure and shared with `doh.rs`.
//! hickory-proto encodes and decodes; no resolver API is used because none asks class CH.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{DNSClass, Name, RData, RecordType};
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

/// A whoami query in wire format, with message id `id` (0 for DoH, RFC 8484 §4.1).
pub fn whoami_query(id: u16) -> Result<Vec<u8>, String> {
    let name = Name::from_ascii(WHOAMI).map_err(|e| e.to_string())?;
    let mut query = Query::query(name, RecordType::TXT);
    query.set_query_class(DNSClass::CH);
    let mut msg = Message::new(id, MessageType::Query, OpCode::Query);
    msg.metadata.recursion_desired = false;
    msg.add_query(query);
    msg.to_vec()
        .map_err(|e| format!("cannot encode the query: {e}"))
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
    let msg = Message::from_vec(wire).map_err(|e| {
        format!(
            "answered {} bytes that are not a DNS message ({e})",
            wire.len()
        )
    })?;
    if msg.metadata.message_type != MessageType::Response {
        return Err("answered a DNS query, not a response".to_owned());
    }
    if msg.metadata.id != id {
        return Err(format!(
            "answered message id {}, not {id}: not an answer to this query",
            msg.metadata.id
        ));
    }
    if msg.metadata.truncation {
        return Ok(Whoami::Truncated);
    }
    if msg.metadata.response_code != ResponseCode::NoError {
        return Err(format!(
            "answered {} to {WHOAMI} TXT CH: the server does not serve it (is it Cloudflare's resolver?)",
            msg.metadata.response_code
        ));
    }
    let whoami = Name::from_ascii(WHOAMI).map_err(|e| e.to_string())?;
    let mut strings: Vec<&[u8]> = Vec::new();
    for record in &msg.answers {
        if record.name != whoami {
            continue;
        }
        if let RData::TXT(txt) = &record.data {
            strings.extend(txt.txt_data.iter().map(|s| &s[..]));
        }
    }
    let [one] = strings.as_slice() else {
        return Err(format!(
            "answered {} TXT strings for {WHOAMI}, expected exactly one",
            strings.len()
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

    use hickory_proto::rr::Record;
    use hickory_proto::rr::rdata::TXT;
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
