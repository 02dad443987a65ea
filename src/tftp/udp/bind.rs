//! Creating and binding the TFTP shell's UDP sockets: the listener
//! (non-blocking, for the runtime) and the blocking transfer sockets, on a
//! port from `--port-range` when one is given.

use std::io;
use std::net::{SocketAddr, UdpSocket as StdUdpSocket};

use socket2::{Domain, Protocol, Socket, Type};

/// Socket buffer size asked for: a few windows of the largest blocks.
const BUFFER_BYTES: usize = 4 << 20;

fn new_socket(addr: SocketAddr, only_v6: bool) -> io::Result<Socket> {
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if addr.is_ipv6() {
        socket.set_only_v6(only_v6)?;
    }
    // Bigger buffers only help; failing to get them is not fatal.
    let _ = socket.set_send_buffer_size(BUFFER_BYTES);
    let _ = socket.set_recv_buffer_size(BUFFER_BYTES);
    Ok(socket)
}

/// Binds a listening socket, non-blocking and ready for the runtime (it
/// needs none yet: privileges are dropped in between), the IPv6 socket
/// serving IPv6 alone when `only_v6` (ignored for IPv4). Datagrams come
/// with their arrival time where the kernel stamps them.
pub fn bind_with(addr: SocketAddr, only_v6: bool) -> io::Result<StdUdpSocket> {
    let socket = new_socket(addr, only_v6)?;
    socket.set_nonblocking(true)?;
    // Only helps (see `stamped`); a kernel without it is served as before.
    let _ = super::stamped::enable_timestamps(&socket);
    socket.bind(&addr.into())?;
    Ok(socket.into())
}

fn bind_blocking(addr: SocketAddr) -> io::Result<StdUdpSocket> {
    // A transfer socket is bound to the address the request came to.
    let socket = new_socket(addr, !addr.ip().is_unspecified())?;
    socket.bind(&addr.into())?;
    Ok(socket.into())
}

/// Binds a (blocking) transfer socket on `ip`, on a port from `range` when
/// given.
pub fn bind_transfer(
    local: SocketAddr,
    range: Option<(u16, u16)>,
    seed: u64,
) -> io::Result<StdUdpSocket> {
    let Some((low, high)) = range else {
        return bind_blocking(SocketAddr::new(local.ip(), 0));
    };
    let span = u64::from(high - low) + 1;
    let mut last_err = io::Error::new(io::ErrorKind::AddrInUse, "no free port in --port-range");
    for attempt in 0..span.min(64) {
        let port = low + ((seed.wrapping_add(attempt.wrapping_mul(7919))) % span) as u16;
        match bind_blocking(SocketAddr::new(local.ip(), port)) {
            Ok(socket) => return Ok(socket),
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => last_err = e,
            Err(e) => return Err(e),
        }
    }
    Err(last_err)
}
