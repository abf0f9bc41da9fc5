//! Sockets through Rust's std on WASI 0.2: what the grants refuse, name lookup, a TCP
//! client, a UDP exchange and a TCP server. Arguments: the address to listen on, a TCP
//! echo server's address, a UDP echo server's address, and names to look up. Ports are
//! never printed: they change from run to run.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream, ToSocketAddrs, UdpSocket};

fn show<T>(what: &str, result: std::io::Result<T>) -> Option<T> {
    match result {
        Ok(value) => {
            println!("{what:<44} ok");
            Some(value)
        }
        Err(e) => {
            println!("{what:<44} {:?}", e.kind());
            None
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (listen, tcp_echo, udp_echo) = (&args[0], &args[1], &args[2]);

    // Addresses nothing granted.
    show("connect to 127.0.0.1:9", TcpStream::connect("127.0.0.1:9"));
    show("listen on 127.0.0.1:9", TcpListener::bind("127.0.0.1:9"));
    show("udp send to 127.0.0.1:9", UdpSocket::bind("0.0.0.0:0").and_then(|s| s.send_to(b"x", "127.0.0.1:9")));

    // Name lookup: literals, then names.
    for name in ["127.0.0.1", "[::1]"].iter().map(|s| s.to_string()).chain(args[3..].iter().cloned()) {
        match (name.as_str(), 80).to_socket_addrs() {
            Ok(addrs) => {
                let mut ips: Vec<String> = addrs.map(|a| a.ip().to_string()).collect();
                ips.sort();
                println!("lookup {name:<37} {}", ips.join(" "));
            }
            Err(e) => println!("lookup {name:<37} {:?}", e.kind()),
        }
    }

    // A TCP client: send, half-close, read the reply.
    if let Some(mut stream) = show("connect to the echo server", TcpStream::connect(tcp_echo)) {
        println!("  peer is loopback: {}", stream.peer_addr().map(|a| a.ip().is_loopback()).unwrap_or(false));
        show("  write", stream.write_all(b"ping over tcp\n"));
        show("  shutdown(write)", stream.shutdown(Shutdown::Write));
        let mut reply = String::new();
        show("  read to the end", stream.read_to_string(&mut reply));
        println!("  reply {reply:?}");
    }

    // UDP: a datagram there and back.
    if let Some(socket) = show("udp bind 0.0.0.0:0", UdpSocket::bind("0.0.0.0:0")) {
        show("  send_to the echo server", socket.send_to(b"ping over udp", udp_echo));
        let mut buf = [0u8; 64];
        if let Some((n, from)) = show("  recv_from", socket.recv_from(&mut buf)) {
            println!("  got {:?} from loopback: {}", String::from_utf8_lossy(&buf[..n]), from.ip().is_loopback());
        }
        show("  connect", socket.connect(udp_echo));
        show("  send", socket.send(b"connected ping"));
        if let Some(n) = show("  recv", socket.recv(&mut buf)) {
            println!("  got {:?}", String::from_utf8_lossy(&buf[..n]));
        }
    }

    // A TCP server: one connection, answered in upper case.
    if let Some(listener) = show("listen on the granted address", TcpListener::bind(listen)) {
        println!("listening");
        if let Some((mut stream, peer)) = show("  accept", listener.accept()) {
            println!("  from loopback: {}", peer.ip().is_loopback());
            let mut request = String::new();
            show("  read to the end", stream.read_to_string(&mut request));
            println!("  request {request:?}");
            show("  write", stream.write_all(request.to_uppercase().as_bytes()));
        }
    }
}
