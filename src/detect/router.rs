//! `router.natpmp`, `router.pcp` and `router.upnp`: ask the home router for its WAN address
//! (IPv4 only). The bytes are read in `router/wire.rs`, pure; this file does the asking.
//!
//! - NAT-PMP (RFC 6886): the external address request, over UDP to port 5351 of the gateway
//!   (the default route's, read over netlink, or the one in the spec).
//! - PCP (RFC 6887) has no address query: a MAP request for the UDP port of the asking
//!   socket, with a lifetime of one second, tells the external address; the mapping is deleted
//!   at once (the same request with lifetime 0).
//! - UPnP IGD: the description URL found by SSDP (an M-SEARCH to 239.255.255.250:1900, the
//!   answer's `LOCATION` on the answering address) or given in the spec; its
//!   WANIPConnection (else WANPPPConnection) control URL, on the same host; the SOAP action
//!   `GetExternalIPAddress`.
//!
//! UDP requests are sent again by RFC 6886's schedule (after 250 ms, then twice as long each
//! time) within the provider's timeout. A WAN address that is not public is refused here,
//! whatever `detect.allow_private` says: the router is behind another NAT (carrier-grade NAT
//! or a second router) and does not know the address the world sees.

mod wire;

use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::Duration;

use reqwest::Url;
use tokio::net::UdpSocket;
use tokio::time::{Instant, timeout_at};

use super::bogon::{self, Kind};
use super::fetch::{FetchError, Fetcher, parse_url};
use super::netlink;
use super::provider::{BoxFuture, DetectError, Found, IpProvider, failure, snippet};
use super::spec::{Family, NATPMP_PORT, Router};
use crate::http::{HttpSetupError, Tls};
use crate::text;

#[doc(hidden)]
pub use wire::parse_any;

/// The largest IGD description read (a Fritz!Box's is about 10 KB).
const DESCRIPTION_MAX: usize = 64 * 1024;
/// The largest SOAP answer read.
const SOAP_MAX: usize = 16 * 1024;
/// How long SSDP discovery waits for the router (the search asks for answers within 1 s).
const SSDP_WAIT: Duration = Duration::from_secs(2);
/// RFC 6886's first retransmission delay; each next one is twice as long.
const FIRST_RETRY: Duration = Duration::from_millis(250);
/// The PCP mapping's lifetime, in seconds: the shortest (the router may lengthen it).
const PCP_LIFETIME: u32 = 1;

#[derive(Debug)]
pub struct RouterProvider {
    router: Router,
    family: Family,
    timeout: Duration,
    /// `router.upnp` only.
    fetcher: Option<Fetcher>,
    /// `router.upnp:URL`: the description URL.
    description: Option<Url>,
}

impl RouterProvider {
    pub fn new(
        router: &Router,
        family: Family,
        tls: &Tls,
        timeout: Duration,
    ) -> Result<Self, HttpSetupError> {
        let (fetcher, description) = match router {
            Router::Upnp(url) => (
                Some(Fetcher::new(tls, Family::V4, timeout)?),
                url.as_deref()
                    .map(|u| parse_url(&router.to_string(), u))
                    .transpose()?,
            ),
            _ => (None, None),
        };
        Ok(RouterProvider {
            router: router.clone(),
            family,
            timeout,
            fetcher,
            description,
        })
    }

    /// What the provider's own waits may take: a little less than the detector's timeout,
    /// so its message (which says what was asked) wins over a bare timeout.
    fn budget(&self) -> Duration {
        self.timeout.saturating_sub(self.timeout / 10)
    }

    async fn ask(&self) -> Result<Ipv4Addr, String> {
        let (at, pcp) = match &self.router {
            Router::NatPmp(at) => (*at, false),
            Router::Pcp(at) => (*at, true),
            Router::Upnp(_) => return self.upnp().await,
        };
        let gw = gateway(at).await?;
        let asked = if pcp {
            self.pcp(gw).await
        } else {
            self.natpmp(gw).await
        };
        asked.map_err(|e| format!("{e} (asked {gw})"))
    }

    async fn natpmp(&self, gw: SocketAddrV4) -> Result<Ipv4Addr, String> {
        let socket = udp_to(gw).await?;
        let budget = self.budget();
        let (answer, _) = exchange(
            &socket,
            gw.into(),
            &wire::NATPMP_REQUEST,
            budget,
            &mut |_, from| from == gw.into(),
        )
        .await?
        .ok_or_else(|| silent("NAT-PMP", budget))?;
        wire::natpmp_answer(&answer)
    }

    async fn pcp(&self, gw: SocketAddrV4) -> Result<Ipv4Addr, String> {
        let socket = udp_to(gw).await?;
        let local = socket
            .local_addr()
            .map_err(|e| format!("cannot read the socket's address: {e}"))?;
        let IpAddr::V4(client) = local.ip() else {
            return Err(format!("the socket towards {gw} is not IPv4"));
        };
        let mut map = wire::PcpMap {
            nonce: std::array::from_fn(|_| fastrand::u8(..)),
            client,
            port: local.port(),
            lifetime: PCP_LIFETIME,
        };
        let budget = self.budget();
        let request = map.request();
        let (answer, _) = exchange(&socket, gw.into(), &request, budget, &mut |_, from| {
            from == gw.into()
        })
        .await?
        .ok_or_else(|| silent("PCP", budget))?;
        let external = map.answer(&answer)?;
        // Delete the mapping at once; its answer has lifetime 0 (or is an error).
        map.lifetime = 0;
        // Unconfirmed, it expires by itself.
        let _ = exchange(
            &socket,
            gw.into(),
            &map.request(),
            FIRST_RETRY * 4,
            &mut |b, from| {
                let done = b.get(3).is_some_and(|r| *r != 0) || b.get(4..8) == Some(&[0; 4][..]);
                from == gw.into() && done
            },
        )
        .await;
        Ok(external)
    }

    async fn upnp(&self) -> Result<Ipv4Addr, String> {
        let Some(fetcher) = &self.fetcher else {
            return Err("no HTTP client".to_owned());
        };
        let description = match &self.description {
            Some(url) => url.clone(),
            None => self.discover().await?,
        };
        let asked = |e: String, url: &Url| format!("{e} (asked `{}`)", text::url(url.as_str()));
        let body = fetcher
            .get(&description, DESCRIPTION_MAX)
            .await
            .map_err(|e| asked(self.fetch_error(e), &description))?;
        let control = std::str::from_utf8(&body)
            .map_err(|_| "answered a description that is not UTF-8".to_owned())
            .and_then(wire::igd_control)
            .map_err(|e| asked(e, &description))?;
        let base = match control.url_base.as_deref() {
            Some(base) => Url::parse(base).map_err(|_| {
                asked(
                    format!("answered the URLBase `{}`, not a URL", snippet(base)),
                    &description,
                )
            })?,
            None => description.clone(),
        };
        let control_url = base
            .join(&control.control_url)
            .ok()
            .filter(|u| u.scheme() == "http" && u.host_str() == description.host_str())
            .ok_or_else(|| {
                asked(
                    format!(
                        "answered the control URL `{}`, which is not an http URL on the router",
                        snippet(&control.control_url)
                    ),
                    &description,
                )
            })?;
        let action = format!("\"{}#GetExternalIPAddress\"", control.service_type);
        let (status, body) = fetcher
            .soap(
                &control_url,
                action,
                wire::soap_request(&control.service_type),
                SOAP_MAX,
            )
            .await
            .map_err(|e| asked(self.fetch_error(e), &control_url))?;
        let answer = std::str::from_utf8(&body)
            .map_err(|_| "answered SOAP that is not UTF-8".to_owned())
            .and_then(wire::soap_answer);
        match (status, answer) {
            (200, Ok(Some(addr))) => Ok(addr),
            (200, Ok(None)) => Err(asked(
                "answered no external address: the router has no public WAN address to give \
                 (miniupnpd, for one, withholds a private or carrier-grade NAT address): it is \
                 behind another NAT"
                    .to_owned(),
                &control_url,
            )),
            (_, Err(e)) => Err(asked(e, &control_url)),
            (status, Ok(_)) => Err(asked(format!("answered HTTP {status}"), &control_url)),
        }
    }

    /// The IGD's description URL, from the first SSDP answer whose `LOCATION` is on the
    /// answering address.
    async fn discover(&self) -> Result<Url, String> {
        let socket = UdpSocket::bind(SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)))
            .await
            .map_err(|e| format!("cannot open a UDP socket: {e}"))?;
        socket
            .set_multicast_ttl_v4(2)
            .map_err(|e| format!("cannot set the multicast TTL: {e}"))?;
        let group = SocketAddr::from(([239, 255, 255, 250], 1900));
        let wait = SSDP_WAIT.min(self.budget() / 2);
        let mut refused = None;
        let found = exchange(&socket, group, wire::SSDP_SEARCH, wait, &mut |b, from| {
            // Other devices may answer too: keep listening.
            located(b, from)
                .map_err(|e| refused = Some(format!("{}: {e}", from.ip())))
                .is_ok()
        })
        .await
        .map_err(|e| format!("cannot search by SSDP: {e}"))?;
        let found = found.map(|(b, from)| located(&b, from)).transpose()?;
        found.ok_or_else(|| match refused {
            Some(e) => format!("found no internet gateway by SSDP: {e}"),
            None => format!(
                "no internet gateway answered SSDP (an M-SEARCH to {group}) within {wait:?}: \
                 turn UPnP on in the router, or give its description URL \
                 (router.upnp:http://…)"
            ),
        })
    }

    fn fetch_error(&self, e: FetchError) -> String {
        match e {
            FetchError::Timeout => format!("no answer within {:?}", self.timeout),
            FetchError::Failed(message) => message,
        }
    }
}

impl IpProvider for RouterProvider {
    fn name(&self) -> String {
        self.router.to_string()
    }

    fn detect(&self) -> BoxFuture<'_, Result<Found, DetectError>> {
        Box::pin(async move {
            let failed = failure(self.name());
            if self.family != Family::V4 {
                return Err(failed(
                    "a router tells only its IPv4 address: use it in detect.ipv4".to_owned(),
                ));
            }
            let addr = self.ask().await.map_err(&failed)?;
            wan(self.name(), addr)
        })
    }
}

/// The router's WAN address if it is public. A carrier-grade NAT address gets the bogon
/// filter's explanation; another private one means a second router in front of this one.
fn wan(provider: String, addr: Ipv4Addr) -> Result<Found, DetectError> {
    match bogon::not_global_v4(addr) {
        None => Ok(Found::from(IpAddr::V4(addr))),
        Some(b) if b.kind == Kind::Private && !b.is_cgnat() => Err(DetectError::Failed {
            provider,
            message: format!(
                "answered {addr}, which is in {} ({}): the router's own WAN address is not \
                 public, so it is behind another router and does not know the address the \
                 world sees; ask the router in front of it, or use another provider such as \
                 cloudflare.trace",
                b.range, b.what
            ),
        }),
        Some(bogon) => Err(DetectError::NotGlobal {
            provider,
            addr: IpAddr::V4(addr),
            bogon,
        }),
    }
}

/// The gateway given in the spec, else the default route's.
async fn gateway(at: Option<SocketAddrV4>) -> Result<SocketAddrV4, String> {
    if let Some(at) = at {
        return Ok(at);
    }
    // On this thread: the read never waits (see `netlink`).
    netlink::default_gateway_v4()
        .map_err(|e| format!("cannot read the routing table over netlink: {e}"))?
        .map(|gw| SocketAddrV4::new(gw, NATPMP_PORT))
        .ok_or_else(|| {
            "this host has no IPv4 default route, so no gateway to ask: give the router's \
             address (e.g. router.natpmp:192.168.1.1)"
                .to_owned()
        })
}

/// A UDP socket connected to `gw`: only its answers arrive, and an ICMP refusal ends the wait.
async fn udp_to(gw: SocketAddrV4) -> Result<UdpSocket, String> {
    let socket = UdpSocket::bind(SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)))
        .await
        .map_err(|e| format!("cannot open a UDP socket: {e}"))?;
    socket
        .connect(gw)
        .await
        .map_err(|e| format!("no route to the gateway {gw}: {e}"))?;
    Ok(socket)
}

fn silent(protocol: &str, budget: Duration) -> String {
    format!(
        "no {protocol} answer within {budget:?}: the router does not speak {protocol} or has \
         it turned off"
    )
}

/// The description URL in an SSDP answer from `from`: its `LOCATION`, on that address.
fn located(b: &[u8], from: SocketAddr) -> Result<Url, String> {
    let loc = wire::ssdp_location(b)?;
    Url::parse(loc)
        .ok()
        .filter(|u| u.host_str() == Some(&from.ip().to_string()))
        .ok_or_else(|| {
            format!(
                "answered SSDP with the location `{}`, which is not on the answering address {}",
                snippet(loc),
                from.ip()
            )
        })
}

/// Sends `request` to `to` by RFC 6886's schedule (again after 250 ms, then twice as long
/// each time) until `accept` takes a datagram (`Some`: it and its sender) or `budget` is
/// spent (`Ok(None)`). One function for the four exchanges, not one copy each.
async fn exchange(
    socket: &UdpSocket,
    to: SocketAddr,
    request: &[u8],
    budget: Duration,
    accept: &mut (dyn FnMut(&[u8], SocketAddr) -> bool + Send),
) -> Result<Option<(Vec<u8>, SocketAddr)>, String> {
    let end = Instant::now() + budget;
    let mut wait = FIRST_RETRY;
    let mut buf = [0u8; wire::SSDP_MAX + 1];
    while Instant::now() < end {
        socket.send_to(request, to).await.map_err(refusal)?;
        let next = (Instant::now() + wait).min(end);
        while let Ok(received) = timeout_at(next, socket.recv_from(&mut buf)).await {
            let (len, from) = received.map_err(refusal)?;
            let datagram = buf.get(..len).unwrap_or_default();
            if accept(datagram, from) {
                return Ok(Some((datagram.to_vec(), from)));
            }
        }
        wait = wait.saturating_mul(2);
    }
    Ok(None)
}

fn refusal(e: std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::ConnectionRefused {
        "the router refused (nothing listens on its port: the protocol is turned off)".to_owned()
    } else {
        e.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    #[test]
    fn only_a_public_wan_address_is_taken() {
        assert_eq!(
            wan("p".into(), v4("198.51.101.2")).unwrap().addr,
            IpAddr::V4(v4("198.51.101.2"))
        );
        let cgnat = wan("router.natpmp".into(), v4("100.64.5.6"))
            .unwrap_err()
            .to_string();
        assert!(
            cgnat.starts_with("router.natpmp: answered 100.64.5.6, which is in 100.64.0.0/10")
                && cgnat.contains("behind carrier-grade NAT"),
            "{cgnat}"
        );
        let private = wan("router.pcp".into(), v4("192.168.0.7"))
            .unwrap_err()
            .to_string();
        assert!(private.contains("behind another router"), "{private}");
        let never = wan("router.upnp".into(), v4("127.0.0.1"))
            .unwrap_err()
            .to_string();
        assert!(never.contains("loopback"), "{never}");
    }

    /// A NAT-PMP "router" on loopback: drops the first `drop` requests, then answers.
    async fn router(answer: Vec<u8>, drop: usize) -> SocketAddrV4 {
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let SocketAddr::V4(addr) = socket.local_addr().unwrap() else {
            unreachable!()
        };
        tokio::spawn(async move {
            let mut buf = [0u8; 64];
            let mut seen = 0;
            while let Ok((_, peer)) = socket.recv_from(&mut buf).await {
                seen += 1;
                if seen > drop {
                    let _ = socket.send_to(&answer, peer).await;
                }
            }
        });
        addr
    }

    fn natpmp(at: SocketAddrV4, timeout: Duration) -> RouterProvider {
        let tls = Tls::new(None).unwrap();
        RouterProvider::new(&Router::NatPmp(Some(at)), Family::V4, &tls, timeout).unwrap()
    }

    #[tokio::test]
    async fn natpmp_retries_then_answers() {
        let at = router(vec![0, 128, 0, 0, 0, 0, 0, 9, 198, 51, 101, 2], 2).await;
        let p = natpmp(at, Duration::from_secs(5));
        assert_eq!(p.name(), format!("router.natpmp:{at}"));
        assert_eq!(
            p.detect().await.unwrap().addr,
            IpAddr::V4(v4("198.51.101.2"))
        );
        let at = router(vec![0, 128, 0, 0, 0, 0, 0, 9, 100, 64, 0, 1], 0).await;
        let err = natpmp(at, Duration::from_secs(5))
            .detect()
            .await
            .unwrap_err();
        assert!(err.to_string().contains("carrier-grade NAT"), "{err}");
    }

    #[tokio::test]
    async fn a_silent_or_closed_router_fails_in_time() {
        let at = router(Vec::new(), usize::MAX).await;
        let started = Instant::now();
        let err = natpmp(at, Duration::from_millis(900))
            .detect()
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("no NAT-PMP answer within 810ms"), "{err}");
        assert!(err.contains("(asked 127.0.0.1:"), "{err}");
        assert!(started.elapsed() < Duration::from_millis(900), "{err}");
        // Nothing listens: ICMP port unreachable ends the wait at once.
        let closed = {
            let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            let SocketAddr::V4(a) = s.local_addr().unwrap() else {
                unreachable!()
            };
            a
        };
        let err = natpmp(closed, Duration::from_secs(5))
            .detect()
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("refused"), "{err}");
        let tls = Tls::new(None).unwrap();
        let v6 = RouterProvider::new(&Router::Pcp(None), Family::V6, &tls, Duration::from_secs(1))
            .unwrap();
        assert!(
            v6.detect()
                .await
                .unwrap_err()
                .to_string()
                .contains("only its IPv4")
        );
    }
}
