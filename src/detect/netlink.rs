//! Linux rtnetlink, the little ddflare needs of it: the interfaces by index and name, the
//! addresses on an interface with their flags and lifetimes (a dump, like `ip addr show`),
//! the IPv4 default route's gateway (for `router.natpmp` and `router.pcp`, like
//! `ip -4 route show default`), and a socket subscribed to address events (like
//! `ip monitor address`).
//!
//! The socket comes from `netlink-sys`; the few message layouts (`nlmsghdr`, `ifinfomsg`,
//! `ifaddrmsg`, `rtattr`, from `linux/netlink.h`, `rtnetlink.h`, `if_addr.h`) are read and
//! written here, in safe code that never trusts a length: a general rtnetlink crate costs
//! about 400 KB of binary for the same four messages. A socket is non-blocking: the kernel
//! answers a request while it is sent (and queues a dump's next part as the last is read), so
//! an answer is there to read at once, and an interface is read on the runtime's own thread,
//! without a hand-off to the blocking pool (a thread started, after an idle 10 s, every
//! round), on a socket kept from one round to the next ([`Reader`]). Never waiting, a read cannot hang the daemon.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::BitOr;

use netlink_sys::{AsyncSocket, Socket, SocketAddr, TokioSocket, protocols::NETLINK_ROUTE};

use super::Family;

const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const RTM_NEWLINK: u16 = 16;
const RTM_GETLINK: u16 = 18;
const RTM_NEWADDR: u16 = 20;
const RTM_DELADDR: u16 = 21;
const RTM_GETADDR: u16 = 22;
const RTM_NEWROUTE: u16 = 24;
const RTM_GETROUTE: u16 = 26;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_MULTI: u16 = 0x2;
const NLM_F_ACK: u16 = 0x4;
const NLM_F_DUMP: u16 = 0x300;
const IFLA_IFNAME: u16 = 3;
const IFLA_EXT_MASK: u16 = 29;
/// `RTEXT_FILTER_SKIP_STATS`: a link's counters are not filled in (older kernels ignore it).
const RTEXT_FILTER_SKIP_STATS: u32 = 1 << 3;
/// `IFNAMSIZ` less the terminating NUL: no interface has a longer name.
const IFNAME_MAX: usize = 15;
const ENODEV: i32 = 19;
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const IFA_CACHEINFO: u16 = 6;
const IFA_FLAGS: u16 = 8;
const RTA_GATEWAY: u16 = 5;
const RTA_PRIORITY: u16 = 6;
const RTA_TABLE: u16 = 15;
const RT_TABLE_MAIN: u32 = 254;
const RTN_UNICAST: u8 = 1;
const AF_INET: u8 = 2;
const AF_INET6: u8 = 10;
/// Multicast groups of address events (`RTMGRP_IPV4_IFADDR`, `RTMGRP_IPV6_IFADDR`).
const GROUP_IPV4_IFADDR: u32 = 0x10;
const GROUP_IPV6_IFADDR: u32 = 0x100;

const NLMSG_HDRLEN: usize = 16;
const IFINFOMSG_LEN: usize = 16;
const IFADDRMSG_LEN: usize = 8;
const RTMSG_LEN: usize = 12;

/// `IFA_F_*` address flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AddrFlags(pub u32);

impl AddrFlags {
    /// On IPv4 a secondary address; on IPv6 the same bit is `IFA_F_TEMPORARY` (privacy).
    pub const SECONDARY: AddrFlags = AddrFlags(0x01);
    pub const NODAD: AddrFlags = AddrFlags(0x02);
    pub const OPTIMISTIC: AddrFlags = AddrFlags(0x04);
    pub const DADFAILED: AddrFlags = AddrFlags(0x08);
    pub const DEPRECATED: AddrFlags = AddrFlags(0x20);
    pub const TENTATIVE: AddrFlags = AddrFlags(0x40);
    pub const PERMANENT: AddrFlags = AddrFlags(0x80);
    pub const MANAGETEMPADDR: AddrFlags = AddrFlags(0x100);

    pub const fn empty() -> Self {
        AddrFlags(0)
    }

    pub fn contains(self, other: AddrFlags) -> bool {
        self.0 & other.0 == other.0
    }
}

impl BitOr for AddrFlags {
    type Output = AddrFlags;

    fn bitor(self, rhs: AddrFlags) -> AddrFlags {
        AddrFlags(self.0 | rhs.0)
    }
}

/// An address on an interface, as the kernel reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfAddr {
    pub addr: IpAddr,
    pub prefix_len: u8,
    pub flags: AddrFlags,
    /// Preferred lifetime in seconds; `None` for forever.
    pub preferred: Option<u32>,
}

/// An address event: which interface it is about, and the address's family (`None` for
/// another family than IPv4 and IPv6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddrEvent {
    pub index: u32,
    pub family: Option<Family>,
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn align4(n: usize) -> usize {
    n.saturating_add(3) & !3
}

/// One message of a datagram: its header's type, flags and sequence number, and its payload.
struct Part<'a> {
    kind: u16,
    flags: u16,
    seq: u32,
    payload: &'a [u8],
}

/// The messages in a datagram, in order. Stops at the first malformed header.
struct Parts<'a> {
    datagram: &'a [u8],
    at: usize,
}

impl<'a> Iterator for Parts<'a> {
    type Item = Part<'a>;

    fn next(&mut self) -> Option<Part<'a>> {
        let (d, at) = (self.datagram, self.at);
        let (len, kind) = (u32_at(d, at)? as usize, u16_at(d, at + 4)?);
        let (flags, seq) = (u16_at(d, at + 6)?, u32_at(d, at + 8)?);
        if len < NLMSG_HDRLEN {
            return None;
        }
        // Checked: on a 32-bit router a hostile length must not wrap `at` back to the start.
        let payload = d.get(at.checked_add(NLMSG_HDRLEN)?..at.checked_add(len)?)?;
        self.at = at.checked_add(align4(len)).unwrap_or(d.len());
        Some(Part {
            kind,
            flags,
            seq,
            payload,
        })
    }
}

fn parts(datagram: &[u8]) -> Parts<'_> {
    Parts { datagram, at: 0 }
}

/// The messages in a datagram: (type, payload). Stops at the first malformed header.
fn messages(datagram: &[u8]) -> Vec<(u16, &[u8])> {
    parts(datagram).map(|p| (p.kind, p.payload)).collect()
}

/// The attributes after a fixed header: (type, value).
fn attributes(b: &[u8]) -> Vec<(u16, &[u8])> {
    let mut out = Vec::new();
    let mut at = 0;
    while let (Some(len), Some(kind)) = (u16_at(b, at), u16_at(b, at + 2)) {
        let len = usize::from(len);
        if len < 4 {
            break;
        }
        let Some(value) = b.get(at + 4..at + len) else {
            break;
        };
        // The top two bits are NLA_F_NESTED and NLA_F_NET_BYTEORDER.
        out.push((kind & 0x3fff, value));
        at += align4(len);
    }
    out
}

/// A request: a netlink header (`flags` besides `NLM_F_REQUEST`), a zeroed family header of
/// `body_len` bytes, then `attrs` (type, value), each padded to 4 bytes.
fn message(kind: u16, flags: u16, body_len: usize, attrs: &[(u16, &[u8])]) -> Vec<u8> {
    let len = NLMSG_HDRLEN
        + body_len
        + attrs
            .iter()
            .map(|(_, v)| align4(4 + v.len()))
            .sum::<usize>();
    let mut buf = Vec::with_capacity(len);
    buf.extend_from_slice(&u32::try_from(len).unwrap_or(0).to_ne_bytes());
    buf.extend_from_slice(&kind.to_ne_bytes());
    buf.extend_from_slice(&(NLM_F_REQUEST | flags).to_ne_bytes());
    buf.extend_from_slice(&1u32.to_ne_bytes()); // sequence number
    buf.extend_from_slice(&0u32.to_ne_bytes()); // port: the kernel
    buf.resize(NLMSG_HDRLEN + body_len, 0);
    for (t, v) in attrs {
        buf.extend_from_slice(&u16::try_from(4 + v.len()).unwrap_or(0).to_ne_bytes());
        buf.extend_from_slice(&t.to_ne_bytes());
        buf.extend_from_slice(v);
        buf.resize(align4(buf.len()), 0);
    }
    buf
}

/// A dump request: a netlink header and a zeroed family header of `body_len` bytes.
fn request(kind: u16, body_len: usize) -> Vec<u8> {
    message(kind, NLM_F_DUMP, body_len, &[])
}

/// A route socket, asked one request after the other.
struct Route {
    socket: Socket,
    buf: Vec<u8>,
    /// The sequence number of the last request: the kernel echoes it in each message of the
    /// answer.
    seq: u32,
}

impl Route {
    fn open() -> io::Result<Route> {
        let mut socket = Socket::new(NETLINK_ROUTE)?;
        socket.bind_auto()?;
        socket.connect(&SocketAddr::new(0, 0))?;
        socket.set_non_blocking(true)?;
        // Not zeroed: `recv` writes into the spare capacity and sets the length to what the
        // kernel wrote, so a read touches the pages of its answer (a few KB), not 64 KB.
        Ok(Route {
            socket,
            buf: Vec::with_capacity(64 * 1024),
            seq: 0,
        })
    }

    /// Sends `request` under the next sequence number and hands `each` the payload of every
    /// message of type `want` in the answer, to its end: `NLMSG_DONE` after a dump, an error,
    /// the acknowledgement of a request with `NLM_F_ACK`, or else a request's one reply (a
    /// message without `NLM_F_MULTI`). A message of another sequence number is left from an
    /// earlier request, never part of this answer: it is skipped.
    fn ask(
        &mut self,
        request: &mut [u8],
        want: u16,
        each: &mut dyn FnMut(&[u8]),
    ) -> io::Result<()> {
        self.seq = self.seq.wrapping_add(1).max(1);
        if let Some(seq) = request.get_mut(8..12) {
            seq.copy_from_slice(&self.seq.to_ne_bytes());
        }
        let acked = u16_at(request, 6).is_some_and(|f| f & NLM_F_ACK != 0);
        self.socket.send(request, 0)?;
        loop {
            self.buf.clear();
            let size = match self.socket.recv(&mut self.buf, 0) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    return Err(io::Error::other("the kernel's answer ended early"));
                }
                r => r?,
            };
            let datagram = self.buf.get(..size.min(self.buf.len())).unwrap_or_default();
            if datagram.is_empty() {
                return Ok(());
            }
            for m in parts(datagram).filter(|m| m.seq == self.seq) {
                match m.kind {
                    NLMSG_DONE => return Ok(()),
                    NLMSG_ERROR => {
                        let errno = m
                            .payload
                            .get(..4)
                            .and_then(|b| b.try_into().ok())
                            .map_or(0, i32::from_ne_bytes);
                        if errno != 0 {
                            return Err(io::Error::from_raw_os_error(-errno));
                        }
                        return Ok(());
                    }
                    t if t == want => each(m.payload),
                    _ => {}
                }
                if m.flags & NLM_F_MULTI == 0 && !acked {
                    return Ok(());
                }
            }
        }
    }
}

/// Sends a dump request and collects the payloads of the messages of type `want`.
fn dump(kind: u16, body_len: usize, want: u16) -> io::Result<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    Route::open()?.ask(&mut request(kind, body_len), want, &mut |p| {
        out.push(p.to_vec());
    })?;
    Ok(out)
}

/// The index and name in a `RTM_NEWLINK` payload.
fn link(payload: &[u8]) -> Option<(u32, String)> {
    let (index, name) = link_name(payload)?;
    Some((index, String::from_utf8_lossy(name).into_owned()))
}

/// The index and name (its bytes, to the NUL) in a `RTM_NEWLINK` payload.
fn link_name(payload: &[u8]) -> Option<(u32, &[u8])> {
    let index = u32_at(payload, 4)?;
    let name = attributes(payload.get(IFINFOMSG_LEN..)?)
        .into_iter()
        .find(|(t, _)| *t == IFLA_IFNAME)
        .map(|(_, v)| v.split(|b| *b == 0).next().unwrap_or_default())?;
    Some((index, name))
}

/// Every interface: (index, name).
pub fn links() -> io::Result<Vec<(u32, String)>> {
    Ok(dump(RTM_GETLINK, IFINFOMSG_LEN, RTM_NEWLINK)?
        .iter()
        .filter_map(|p| link(p))
        .collect())
}

/// The index of the interface called `name`, if there is one.
pub fn index_of(name: &str) -> io::Result<Option<u32>> {
    index_by_name(&mut Route::open()?, name)
}

/// The request for the link called `name` (`None`: no interface can have that name), its
/// counters left out. Without `NLM_F_ACK`: the reply (`RTM_NEWLINK`, or an error such as
/// `ENODEV`) is the whole answer, read in one `recv`.
fn link_request(name: &str) -> Option<Vec<u8>> {
    if name.is_empty() || name.len() > IFNAME_MAX || name.contains('\0') {
        return None;
    }
    let mut ifname = [0u8; IFNAME_MAX + 1];
    ifname
        .get_mut(..name.len())?
        .copy_from_slice(name.as_bytes());
    let mask = RTEXT_FILTER_SKIP_STATS.to_ne_bytes();
    Some(message(
        RTM_GETLINK,
        0,
        IFINFOMSG_LEN,
        &[
            (IFLA_IFNAME, ifname.get(..=name.len())?),
            (IFLA_EXT_MASK, &mask),
        ],
    ))
}

/// The index of the interface called `name`: the kernel is asked for that one link (not a
/// dump of every link, each with its counters, which cost a quarter of an idle round).
fn index_by_name(route: &mut Route, name: &str) -> io::Result<Option<u32>> {
    let Some(mut ask) = link_request(name) else {
        return Ok(None);
    };
    let mut index = None;
    let found = route.ask(&mut ask, RTM_NEWLINK, &mut |p| {
        if let Some((i, n)) = link_name(p)
            && n == name.as_bytes()
        {
            index = index.or(Some(i));
        }
    });
    match found {
        Ok(()) => Ok(index),
        Err(e) if e.raw_os_error() == Some(ENODEV) => Ok(None),
        Err(e) => Err(e),
    }
}

/// A route socket kept from one read of an interface to the next (an interface provider's):
/// opened at the first read, closed after a failed one, so that the next starts clean.
#[derive(Default)]
pub struct Reader {
    route: Option<Route>,
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.route.is_some() {
            "Reader(open)"
        } else {
            "Reader"
        })
    }
}

impl Reader {
    /// The addresses on the interface called `name` (`None`: there is none), both families:
    /// the link asked for by name, then the addresses.
    pub fn interface_addresses(&mut self, name: &str) -> io::Result<Option<Vec<IfAddr>>> {
        let route = match &mut self.route {
            Some(route) => route,
            None => self.route.insert(Route::open()?),
        };
        let read = index_by_name(route, name).and_then(|index| match index {
            None => Ok(None),
            Some(index) => {
                let mut addrs = Vec::new();
                route.ask(
                    &mut request(RTM_GETADDR, IFADDRMSG_LEN),
                    RTM_NEWADDR,
                    &mut |p| addrs.extend(address_of(p, index)),
                )?;
                Ok(Some(addrs))
            }
        });
        if read.is_err() {
            self.route = None;
        }
        read
    }
}

/// The address in a `RTM_NEWADDR` payload when it is on the interface with index `index`.
fn address_of(payload: &[u8], index: u32) -> Option<IfAddr> {
    if_addr(payload)
        .filter(|(i, _)| *i == index)
        .map(|(_, a)| a)
}

fn ip(family: u8, v: &[u8]) -> Option<IpAddr> {
    match family {
        AF_INET => Some(IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(v).ok()?))),
        AF_INET6 => Some(IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(v).ok()?))),
        _ => None,
    }
}

/// The interface index and the address in a `RTM_NEWADDR` payload.
fn if_addr(payload: &[u8]) -> Option<(u32, IfAddr)> {
    let family = *payload.first()?;
    let prefix_len = *payload.get(1)?;
    let mut flags = AddrFlags(u32::from(*payload.get(2)?));
    let index = u32_at(payload, 4)?;
    let (mut local, mut address, mut preferred) = (None, None, None);
    for (t, v) in attributes(payload.get(IFADDRMSG_LEN..)?) {
        match t {
            IFA_LOCAL => local = ip(family, v),
            IFA_ADDRESS => address = ip(family, v),
            IFA_FLAGS => flags = AddrFlags(u32_at(v, 0)?),
            IFA_CACHEINFO => preferred = u32_at(v, 0).filter(|p| *p != u32::MAX),
            _ => {}
        }
    }
    // On a point-to-point link IFA_ADDRESS is the peer; IFA_LOCAL is always ours.
    Some((
        index,
        IfAddr {
            addr: local.or(address)?,
            prefix_len,
            flags,
            preferred,
        },
    ))
}

/// The addresses on the interface with index `index`, both families.
pub fn addresses(index: u32) -> io::Result<Vec<IfAddr>> {
    Ok(dump(RTM_GETADDR, IFADDRMSG_LEN, RTM_NEWADDR)?
        .iter()
        .filter_map(|p| address_of(p, index))
        .collect())
}

/// The gateway and metric of an IPv4 default route of the main table in a `RTM_NEWROUTE`
/// payload (`rtmsg`: family, dst_len, src_len, tos, table, protocol, scope, type, flags).
fn default_route(payload: &[u8]) -> Option<(Ipv4Addr, u32)> {
    let (family, dst_len, table, kind) = (
        *payload.first()?,
        *payload.get(1)?,
        *payload.get(4)?,
        *payload.get(7)?,
    );
    if family != AF_INET || dst_len != 0 || kind != RTN_UNICAST {
        return None;
    }
    let (mut table, mut gateway, mut metric) = (u32::from(table), None, 0);
    for (t, v) in attributes(payload.get(RTMSG_LEN..)?) {
        match t {
            RTA_GATEWAY => gateway = Some(Ipv4Addr::from(<[u8; 4]>::try_from(v).ok()?)),
            RTA_PRIORITY => metric = u32_at(v, 0)?,
            RTA_TABLE => table = u32_at(v, 0)?,
            _ => {}
        }
    }
    (table == RT_TABLE_MAIN).then_some((gateway?, metric))
}

/// The gateway of the IPv4 default route with the lowest metric, if there is one.
pub fn default_gateway_v4() -> io::Result<Option<Ipv4Addr>> {
    Ok(dump(RTM_GETROUTE, RTMSG_LEN, RTM_NEWROUTE)?
        .iter()
        .filter_map(|p| default_route(p))
        .min_by_key(|(_, metric)| *metric)
        .map(|(gateway, _)| gateway))
}

/// A socket subscribed to the address events of `families` (the kernel sends no others),
/// read with `AsyncSocketExt::recv_from_full`. Needs a tokio runtime.
pub fn subscribe(families: &[Family]) -> io::Result<TokioSocket> {
    let groups = families.iter().fold(0, |g, f| {
        g | match f {
            Family::V4 => GROUP_IPV4_IFADDR,
            Family::V6 => GROUP_IPV6_IFADDR,
        }
    });
    let mut socket = TokioSocket::new(NETLINK_ROUTE)?;
    socket.socket_mut().bind(&SocketAddr::new(0, groups))?;
    Ok(socket)
}

/// Everything the parsers read from one datagram, as dump replies and as events: the fuzz
/// target's entry point (fuzz/fuzz_targets/netlink.rs), which must never panic or loop.
#[doc(hidden)]
pub fn parse_any(datagram: &[u8]) -> Parsed {
    let mut parsed = Parsed {
        events: events(datagram),
        ..Parsed::default()
    };
    for (_, payload) in messages(datagram) {
        parsed.links.extend(link(payload));
        parsed.addresses.extend(if_addr(payload));
        parsed
            .gateways
            .extend(default_route(payload).map(|(g, _)| g));
    }
    parsed
}

/// What [`parse_any`] read.
#[doc(hidden)]
#[derive(Debug, Default)]
pub struct Parsed {
    pub links: Vec<(u32, String)>,
    pub addresses: Vec<(u32, IfAddr)>,
    pub events: Vec<AddrEvent>,
    pub gateways: Vec<Ipv4Addr>,
}

/// The address events in one datagram read from a [`subscribe`]d socket.
pub fn events(datagram: &[u8]) -> Vec<AddrEvent> {
    messages(datagram)
        .into_iter()
        .filter(|(t, _)| *t == RTM_NEWADDR || *t == RTM_DELADDR)
        .filter_map(|(_, p)| {
            Some(AddrEvent {
                index: u32_at(p, 4)?,
                family: match *p.first()? {
                    AF_INET => Some(Family::V4),
                    AF_INET6 => Some(Family::V6),
                    _ => None,
                },
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// A `RTM_NEWADDR` message as the kernel writes it.
    fn newaddr(index: u32, addr: &[u8], len: u8, flags: u32, preferred: u32) -> Vec<u8> {
        let family = if addr.len() == 4 { AF_INET } else { AF_INET6 };
        let mut body = vec![family, len, (flags & 0xff) as u8, 0];
        body.extend_from_slice(&index.to_ne_bytes());
        let mut attr = |t: u16, v: &[u8]| {
            body.extend_from_slice(&u16::try_from(4 + v.len()).unwrap().to_ne_bytes());
            body.extend_from_slice(&t.to_ne_bytes());
            body.extend_from_slice(v);
            body.resize(align4(body.len()), 0);
        };
        attr(IFA_ADDRESS, addr);
        attr(IFA_FLAGS, &flags.to_ne_bytes());
        let mut cache = preferred.to_ne_bytes().to_vec();
        cache.extend_from_slice(&[0xff; 12]);
        attr(IFA_CACHEINFO, &cache);
        let mut msg = u32::try_from(NLMSG_HDRLEN + body.len())
            .unwrap()
            .to_ne_bytes()
            .to_vec();
        msg.extend_from_slice(&RTM_NEWADDR.to_ne_bytes());
        msg.extend_from_slice(&[0; 10]);
        msg.extend(body);
        msg
    }

    #[test]
    fn reads_an_address_message() {
        let v6 = "2001:db8::5".parse::<Ipv6Addr>().unwrap().octets();
        let mut datagram = newaddr(7, &v6, 64, 0x100 | 0x40, 3600);
        datagram.extend(newaddr(3, &[192, 0, 2, 1], 24, 0x80, u32::MAX));
        let msgs = messages(&datagram);
        assert_eq!(msgs.len(), 2);
        let (index, a) = if_addr(msgs[0].1).unwrap();
        assert_eq!(index, 7);
        assert_eq!(a.addr.to_string(), "2001:db8::5");
        assert_eq!(a.prefix_len, 64);
        assert!(a.flags.contains(AddrFlags::TENTATIVE));
        assert!(a.flags.contains(AddrFlags::MANAGETEMPADDR));
        assert!(!a.flags.contains(AddrFlags::PERMANENT));
        assert_eq!(a.preferred, Some(3600));
        let (index, a) = if_addr(msgs[1].1).unwrap();
        assert_eq!((index, a.addr.to_string()), (3, "192.0.2.1".to_owned()));
        assert_eq!(a.preferred, None);
        assert_eq!(
            events(&datagram),
            [
                AddrEvent {
                    index: 7,
                    family: Some(Family::V6)
                },
                AddrEvent {
                    index: 3,
                    family: Some(Family::V4)
                }
            ]
        );
    }

    #[test]
    fn a_request_for_one_link_carries_its_name_padded_and_asks_no_ack() {
        let m = link_request("eth0").unwrap();
        // 16 header + 16 ifinfomsg + 4 attribute header + 5 name, padded to 12, + 8 mask.
        assert_eq!(m.len(), 52);
        assert_eq!(u32_at(&m, 0), Some(52));
        assert_eq!(u16_at(&m, 4), Some(RTM_GETLINK));
        // No NLM_F_ACK (by design since issue 17): the reply, or an error, ends the answer.
        assert_eq!(u16_at(&m, 6), Some(NLM_F_REQUEST));
        let mask = RTEXT_FILTER_SKIP_STATS.to_ne_bytes();
        assert_eq!(
            attributes(&m[32..]),
            [(IFLA_IFNAME, &b"eth0\0"[..]), (IFLA_EXT_MASK, &mask[..])]
        );
        let longest = link_request("abcdefghijklmno").unwrap();
        assert_eq!(attributes(&longest[32..])[0].1, b"abcdefghijklmno\0");
        for bad in ["", "abcdefghijklmnop", "a\0b"] {
            assert!(link_request(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn an_answer_left_on_the_socket_is_not_read_as_the_next_one() {
        let mut route = Route::open().unwrap();
        let lo = index_by_name(&mut route, "lo").unwrap().unwrap();
        // A request sent and never read (as if a read had stopped half-way): its answers,
        // under an older sequence number, are skipped by the next requests.
        let mut stale = request(RTM_GETADDR, IFADDRMSG_LEN);
        stale[8..12].copy_from_slice(&7u32.to_ne_bytes());
        route.socket.send(&stale, 0).unwrap();
        let mut link = link_request("lo").unwrap();
        link[6..8].copy_from_slice(&(NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
        link[8..12].copy_from_slice(&8u32.to_ne_bytes());
        route.socket.send(&link, 0).unwrap();
        route.seq = 6;
        assert_eq!(index_by_name(&mut route, "lo").unwrap(), Some(lo));
        assert_eq!(index_by_name(&mut route, "no-such-iface").unwrap(), None);
        let mut n = 0;
        route
            .ask(
                &mut request(RTM_GETADDR, IFADDRMSG_LEN),
                RTM_NEWADDR,
                &mut |_| n += 1,
            )
            .unwrap();
        assert_eq!(
            n,
            addresses_of_every_interface(),
            "the whole dump, to its own NLMSG_DONE"
        );
        // Nothing is left behind: the socket has no more to read.
        route.buf.clear();
        let left = route.socket.recv(&mut route.buf, 0);
        assert!(
            left.as_ref()
                .is_err_and(|e| e.kind() == io::ErrorKind::WouldBlock),
            "{left:?}"
        );
    }

    fn addresses_of_every_interface() -> usize {
        dump(RTM_GETADDR, IFADDRMSG_LEN, RTM_NEWADDR).unwrap().len()
    }

    #[test]
    fn requests_are_well_formed() {
        let r = request(RTM_GETADDR, IFADDRMSG_LEN);
        assert_eq!(r.len(), 24);
        assert_eq!(u32_at(&r, 0), Some(24));
        assert_eq!(u16_at(&r, 4), Some(RTM_GETADDR));
        assert_eq!(u16_at(&r, 6), Some(0x301));
    }

    #[test]
    fn loopback_is_found_with_its_addresses() {
        // Every network namespace has `lo`, even one without any other interface.
        let Some(index) = index_of("lo").unwrap() else {
            panic!("no lo in {:?}", links().unwrap());
        };
        let addrs = addresses(index).unwrap();
        // `lo` may be down in a fresh namespace; then it has no address.
        assert!(addrs.iter().all(|a| a.addr.is_loopback()), "{addrs:?}");
        let mut reader = Reader::default();
        assert_eq!(
            reader.interface_addresses("lo").unwrap(),
            Some(addrs.clone())
        );
        assert!(index_of("no-such-iface").unwrap().is_none());
        assert!(
            reader
                .interface_addresses("no-such-iface")
                .unwrap()
                .is_none()
        );
        // The same socket, again: the answers before left nothing behind.
        assert_eq!(reader.interface_addresses("lo").unwrap(), Some(addrs));
        assert!(
            index_of("no-such-interface-x").unwrap().is_none(),
            "longer than IFNAMSIZ"
        );
        assert!(index_of("").unwrap().is_none());
    }

    /// A `RTM_NEWROUTE` payload: an IPv4 route to `dst_len` with a gateway, in `table`.
    fn newroute(dst_len: u8, table: u8, kind: u8, gateway: [u8; 4], metric: u32) -> Vec<u8> {
        let mut p = vec![AF_INET, dst_len, 0, 0, table, 3, 0, kind, 0, 0, 0, 0];
        for (t, v) in [
            (RTA_GATEWAY, &gateway[..]),
            (RTA_PRIORITY, &metric.to_ne_bytes()),
        ] {
            p.extend_from_slice(&u16::try_from(4 + v.len()).unwrap().to_ne_bytes());
            p.extend_from_slice(&t.to_ne_bytes());
            p.extend_from_slice(v);
        }
        p
    }

    #[test]
    fn reads_the_default_route() {
        let main = u8::try_from(RT_TABLE_MAIN).unwrap();
        assert_eq!(
            default_route(&newroute(0, main, RTN_UNICAST, [192, 168, 1, 1], 100)),
            Some((Ipv4Addr::new(192, 168, 1, 1), 100))
        );
        // Not a default route, another table, not unicast, or cut short: none.
        assert_eq!(
            default_route(&newroute(24, main, 1, [10, 0, 0, 1], 0)),
            None
        );
        assert_eq!(default_route(&newroute(0, 100, 1, [10, 0, 0, 1], 0)), None);
        assert_eq!(default_route(&newroute(0, main, 2, [10, 0, 0, 1], 0)), None);
        assert_eq!(
            default_route(&newroute(0, main, 1, [10, 0, 0, 1], 0)[..14]),
            None
        );
        assert_eq!(default_route(&[AF_INET, 0]), None);
        // The routing table is readable here, whatever it holds.
        default_gateway_v4().unwrap();
    }

    #[test]
    fn garbage_is_no_event() {
        assert!(events(&[]).is_empty());
        assert!(events(&[1, 2, 3]).is_empty());
        assert!(events(&[0xff; 64]).is_empty());
        assert!(if_addr(&[]).is_none());
        assert!(link(&[0; 3]).is_none());
    }

    proptest! {
        /// Whatever the bytes, parsing never panics.
        #[test]
        fn parsing_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            for (_, p) in messages(&bytes) {
                let _ = if_addr(p);
                let _ = link(p);
                let _ = attributes(p);
                let _ = default_route(p);
            }
            let _ = events(&bytes);
        }
    }
}
