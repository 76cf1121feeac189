//! Linux rtnetlink, the little ddflare needs of it: the index of an interface by name, the
//! addresses on an interface with their flags and lifetimes (a dump, like `ip addr show`),
//! and a socket subscribed to address events (like `ip monitor address`). The dumps are
//! blocking and quick: callers run them on the blocking pool.

use std::io;
use std::net::IpAddr;

use netlink_packet_core::{
    NLM_F_DUMP, NLM_F_REQUEST, NetlinkHeader, NetlinkMessage, NetlinkPayload,
};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::address::{AddressAttribute, AddressFlags, AddressMessage};
use netlink_packet_route::link::{LinkAttribute, LinkMessage};
use netlink_sys::{AsyncSocket, Socket, SocketAddr, TokioSocket, protocols::NETLINK_ROUTE};

/// Multicast groups of address events (`RTMGRP_IPV4_IFADDR`, `RTMGRP_IPV6_IFADDR`).
const GROUPS_IFADDR: u32 = 0x10 | 0x100;

/// An address on an interface, as the kernel reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfAddr {
    pub addr: IpAddr,
    pub prefix_len: u8,
    /// `IFA_F_*`: tentative, deprecated, temporary (`secondary` on IPv6), …
    pub flags: AddressFlags,
    /// Preferred lifetime in seconds; `None` for forever.
    pub preferred: Option<u32>,
}

/// What an address event is about: the interface index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddrEvent {
    pub index: u32,
}

fn request(msg: RouteNetlinkMessage) -> Vec<u8> {
    let mut packet = NetlinkMessage::new(NetlinkHeader::default(), NetlinkPayload::from(msg));
    packet.header.flags = NLM_F_DUMP | NLM_F_REQUEST;
    packet.header.sequence_number = 1;
    packet.finalize();
    let mut buf = vec![0; packet.buffer_len()];
    packet.serialize(&mut buf);
    buf
}

/// Sends a dump request and collects every message of the answer.
fn dump(msg: RouteNetlinkMessage) -> io::Result<Vec<RouteNetlinkMessage>> {
    let mut socket = Socket::new(NETLINK_ROUTE)?;
    socket.bind_auto()?;
    socket.connect(&SocketAddr::new(0, 0))?;
    socket.send(&request(msg), 0)?;
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let size = socket.recv(&mut &mut buf[..], 0)?;
        let mut offset = 0;
        while offset < size {
            let packet: NetlinkMessage<RouteNetlinkMessage> =
                NetlinkMessage::deserialize(&buf[offset..size])
                    .map_err(|e| io::Error::other(format!("bad netlink message: {e}")))?;
            let len = packet.header.length as usize;
            match packet.payload {
                NetlinkPayload::Done(_) => return Ok(out),
                NetlinkPayload::Error(e) => {
                    return Err(io::Error::other(format!("netlink error: {e}")));
                }
                NetlinkPayload::InnerMessage(m) => out.push(m),
                _ => {}
            }
            if len == 0 {
                break;
            }
            offset += len;
        }
    }
}

/// Every interface: (index, name).
pub fn links() -> io::Result<Vec<(u32, String)>> {
    let answer = dump(RouteNetlinkMessage::GetLink(LinkMessage::default()))?;
    Ok(answer
        .into_iter()
        .filter_map(|m| match m {
            RouteNetlinkMessage::NewLink(link) => {
                let name = link.attributes.iter().find_map(|a| match a {
                    LinkAttribute::IfName(n) => Some(n.clone()),
                    _ => None,
                })?;
                Some((link.header.index, name))
            }
            _ => None,
        })
        .collect())
}

/// The index of the interface called `name`, if there is one.
pub fn index_of(name: &str) -> io::Result<Option<u32>> {
    Ok(links()?
        .into_iter()
        .find(|(_, n)| n == name)
        .map(|(i, _)| i))
}

fn if_addr(msg: &AddressMessage) -> Option<IfAddr> {
    let mut local = None;
    let mut address = None;
    let mut flags = AddressFlags::from_bits_retain(u32::from(msg.header.flags.bits()));
    let mut preferred = None;
    for attr in &msg.attributes {
        match attr {
            AddressAttribute::Local(a) => local = Some(*a),
            AddressAttribute::Address(a) => address = Some(*a),
            AddressAttribute::Flags(f) => flags = *f,
            AddressAttribute::CacheInfo(c) => {
                preferred = (c.ifa_preferred != u32::MAX).then_some(c.ifa_preferred);
            }
            _ => {}
        }
    }
    // On a point-to-point link IFA_ADDRESS is the peer; IFA_LOCAL is always ours.
    Some(IfAddr {
        addr: local.or(address)?,
        prefix_len: msg.header.prefix_len,
        flags,
        preferred,
    })
}

/// The addresses on the interface with index `index`, both families.
pub fn addresses(index: u32) -> io::Result<Vec<IfAddr>> {
    let answer = dump(RouteNetlinkMessage::GetAddress(AddressMessage::default()))?;
    Ok(answer
        .iter()
        .filter_map(|m| match m {
            RouteNetlinkMessage::NewAddress(a) if a.header.index == index => if_addr(a),
            _ => None,
        })
        .collect())
}

/// A socket subscribed to address events of both families, read with
/// `AsyncSocketExt::recv_from_full`. Needs a tokio runtime.
pub fn subscribe() -> io::Result<TokioSocket> {
    let mut socket = TokioSocket::new(NETLINK_ROUTE)?;
    socket
        .socket_mut()
        .bind(&SocketAddr::new(0, GROUPS_IFADDR))?;
    Ok(socket)
}

/// The address events in one datagram read from a [`subscribe`]d socket.
pub fn events(datagram: &[u8]) -> Vec<AddrEvent> {
    let mut out = Vec::new();
    let mut offset = 0;
    while offset < datagram.len() {
        let Ok(packet) = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&datagram[offset..])
        else {
            break;
        };
        let len = packet.header.length as usize;
        if let NetlinkPayload::InnerMessage(
            RouteNetlinkMessage::NewAddress(a) | RouteNetlinkMessage::DelAddress(a),
        ) = packet.payload
        {
            out.push(AddrEvent {
                index: a.header.index,
            });
        }
        if len == 0 {
            break;
        }
        offset += len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_found_with_its_addresses() {
        // Every network namespace has `lo`, even one without any other interface.
        let Some(index) = index_of("lo").unwrap() else {
            panic!("no lo in {:?}", links().unwrap());
        };
        let addrs = addresses(index).unwrap();
        if addrs.is_empty() {
            // `lo` may be down in a fresh namespace; nothing more to check then.
            return;
        }
        assert!(addrs.iter().all(|a| a.addr.is_loopback()), "{addrs:?}");
        assert!(index_of("no-such-interface-x").unwrap().is_none());
    }

    #[test]
    fn events_of_garbage_are_empty() {
        assert!(events(&[]).is_empty());
        assert!(events(&[1, 2, 3]).is_empty());
        assert!(events(&[0xff; 64]).is_empty());
    }
}
