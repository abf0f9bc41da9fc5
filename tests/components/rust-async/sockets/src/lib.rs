//! A WASI 0.3 sockets program, on loopback only: a TCP listener on `127.0.0.1:0`, a
//! connection to it accepted from its `stream<tcp-socket>`, 200 kB streamed to the
//! accepted side and echoed back by a task of the same program while the client is
//! still writing, addresses and options read back, the errors of refused and
//! out-of-order operations; a UDP round trip, one of its receives waiting before the
//! datagram is sent and one given up while it waits; and name lookup. Every line it prints is the same wherever it
//! runs: ports show only as whether they match, never as numbers. An operation the
//! grants refuse prints its error, and what depends on it is skipped.

wit_bindgen::generate!({
    path: "wit",
    world: "sockets",
    generate_all,
    additional_derives: [PartialEq],
});

use std::future::Future;
use std::pin::pin;
use std::task::Poll;

use wasi::sockets::ip_name_lookup::resolve_addresses;
use wasi::sockets::types::{
    ErrorCode, IpAddress, IpAddressFamily, IpSocketAddress, Ipv4SocketAddress, Ipv6SocketAddress,
    TcpSocket, UdpSocket,
};
use wit_bindgen::StreamResult;

struct Sockets;

/// The bytes streamed each way over the TCP connection.
const PAYLOAD: usize = 200_000;

/// How much one write hands the stream, and one read asks for.
const CHUNK: usize = 16 * 1024;

const LOOPBACK: (u8, u8, u8, u8) = (127, 0, 0, 1);

fn v4(address: (u8, u8, u8, u8), port: u16) -> IpSocketAddress {
    IpSocketAddress::Ipv4(Ipv4SocketAddress { port, address })
}

/// `addr` without its port, which differs from run to run.
fn host(addr: &IpSocketAddress) -> String {
    match addr {
        IpSocketAddress::Ipv4(a) => {
            let (b0, b1, b2, b3) = a.address;
            format!("{b0}.{b1}.{b2}.{b3}")
        }
        IpSocketAddress::Ipv6(_) => "an IPv6 address".to_string(),
    }
}

fn port(addr: &IpSocketAddress) -> u16 {
    match addr {
        IpSocketAddress::Ipv4(a) => a.port,
        IpSocketAddress::Ipv6(a) => a.port,
    }
}

/// `result` as `ok` or the error's name.
fn show<T>(result: &Result<T, ErrorCode>) -> String {
    match result {
        Ok(_) => "ok".to_string(),
        Err(code) => format!("error {}", code_name(code)),
    }
}

fn code_name(code: &ErrorCode) -> String {
    match code {
        ErrorCode::Other(message) => format!("other({message:?})"),
        code => format!("{code:?}"),
    }
}

/// `len` bytes of a sequence no simple pattern repeats.
fn pattern(len: usize) -> Vec<u8> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// Awaits two futures concurrently: both outputs.
async fn join<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let (mut a, mut b) = (pin!(a), pin!(b));
    let (mut a_out, mut b_out) = (None, None);
    std::future::poll_fn(|cx| {
        if a_out.is_none()
            && let Poll::Ready(out) = a.as_mut().poll(cx)
        {
            a_out = Some(out);
        }
        if b_out.is_none()
            && let Poll::Ready(out) = b.as_mut().poll(cx)
        {
            b_out = Some(out);
        }
        if a_out.is_some() && b_out.is_some() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
    (a_out.unwrap(), b_out.unwrap())
}

impl exports::wasi::cli::run::Guest for Sockets {
    async fn run() -> Result<(), ()> {
        // With the argument `ipv6`, IPv6 on `::1` instead (not every host has it).
        if std::env::args().nth(1).as_deref() == Some("ipv6") {
            ipv6().await;
            return Ok(());
        }
        tcp().await;
        udp().await;
        lookup().await;
        Ok(())
    }
}

const LOOPBACK6: (u16, u16, u16, u16, u16, u16, u16, u16) = (0, 0, 0, 0, 0, 0, 0, 1);

fn v6(address: (u16, u16, u16, u16, u16, u16, u16, u16), port: u16) -> IpSocketAddress {
    IpSocketAddress::Ipv6(Ipv6SocketAddress {
        port,
        flow_info: 0,
        address,
        scope_id: 0,
    })
}

/// `addr` without its port, for IPv6.
fn host6(addr: &IpSocketAddress) -> String {
    match addr {
        IpSocketAddress::Ipv6(a) => format!(
            "{:x?}, flow {}, scope {}",
            a.address, a.flow_info, a.scope_id
        ),
        IpSocketAddress::Ipv4(_) => "an IPv4 address".to_string(),
    }
}

/// TCP and UDP on `::1`: addresses of the IPv6 shape both ways, a short echo, and the
/// addresses an IPv6 socket refuses.
async fn ipv6() {
    let listener = TcpSocket::create(IpAddressFamily::Ipv6).expect("an IPv6 socket");
    println!("family: {:?}", listener.get_address_family());
    let mapped = (0, 0, 0, 0, 0, 0xffff, 0x7f00, 1);
    println!("bind ::ffff:127.0.0.1: {}", show(&listener.bind(v6(mapped, 0))));
    println!("bind 127.0.0.1: {}", show(&listener.bind(v4(LOOPBACK, 0))));
    println!("bind ::1: {}", show(&listener.bind(v6(LOOPBACK6, 0))));
    let mut accepts = listener.listen().expect("listening");
    let server_addr = listener.get_local_address().expect("an address");
    println!("listener: {}", host6(&server_addr));
    let client = TcpSocket::create(IpAddressFamily::Ipv6).expect("an IPv6 socket");
    println!(
        "connect to 127.0.0.1: {}",
        show(&client.connect(v4(LOOPBACK, port(&server_addr))).await)
    );
    let client = TcpSocket::create(IpAddressFamily::Ipv6).expect("an IPv6 socket");
    let (connected, accepted) = join(client.connect(server_addr), accepts.next()).await;
    println!("connect: {}", show(&connected));
    let server = accepted.expect("a connection");
    let client_local = client.get_local_address().expect("an address");
    println!(
        "client: {}, server's peer is the client: {}",
        host6(&client_local),
        server.get_remote_address().is_ok_and(|a| a == client_local)
    );
    let (mut server_in, _) = server.receive();
    let (mut out, reader) = wit_stream::new::<u8>();
    let sent = client.send(reader);
    let message = pattern(1000);
    let rest = out.write_all(message.clone()).await;
    drop(out);
    let (got, _) = read_all(&mut server_in).await;
    println!(
        "sent {} bytes: {}, received the same: {}",
        message.len() - rest.len(),
        show(&sent.await),
        got == message
    );
    let a = UdpSocket::create(IpAddressFamily::Ipv6).expect("an IPv6 UDP socket");
    let b = UdpSocket::create(IpAddressFamily::Ipv6).expect("an IPv6 UDP socket");
    println!("udp bind a: {}", show(&a.bind(v6(LOOPBACK6, 0))));
    println!("udp bind b: {}", show(&b.bind(v6(LOOPBACK6, 0))));
    let (a_addr, b_addr) = (a.get_local_address().unwrap(), b.get_local_address().unwrap());
    println!("udp send to 127.0.0.1: {}", show(&b.send(b"x".to_vec(), Some(v4(LOOPBACK, 9))).await));
    let (received, sent) = join(a.receive(), b.send(b"six".to_vec(), Some(a_addr))).await;
    println!("udp send: {}", show(&sent));
    match received {
        Ok((data, from)) => println!(
            "udp received {:?} from b: {}",
            String::from_utf8_lossy(&data),
            from == b_addr
        ),
        Err(code) => println!("udp received: error {}", code_name(&code)),
    }
    match resolve_addresses("::1".to_string()).await {
        Ok(found) => println!("::1: {:?}", found.iter().map(show_address).collect::<Vec<_>>()),
        Err(code) => println!("::1: error {code:?}"),
    }
}

/// Reads `stream` to its end: the bytes, and how many reads gave some.
async fn read_all(stream: &mut wit_bindgen::StreamReader<u8>) -> (Vec<u8>, usize) {
    let mut bytes = Vec::new();
    let mut reads = 0;
    loop {
        let (result, piece) = stream.read(Vec::with_capacity(CHUNK)).await;
        if !piece.is_empty() {
            reads += 1;
            bytes.extend_from_slice(&piece);
        }
        if let StreamResult::Dropped | StreamResult::Cancelled = result {
            return (bytes, reads);
        }
    }
}

async fn tcp() {
    let listener = match TcpSocket::create(IpAddressFamily::Ipv4) {
        Ok(socket) => socket,
        Err(code) => {
            println!("tcp create: error {}", code_name(&code));
            return;
        }
    };
    println!("tcp create: ok");
    println!("unbound local address: {}", show(&listener.get_local_address()));
    println!(
        "bind to an IPv6 address: {}",
        show(&listener.bind(IpSocketAddress::Ipv6(Ipv6SocketAddress {
            port: 0,
            flow_info: 0,
            address: (0, 0, 0, 0, 0, 0, 0, 1),
            scope_id: 0,
        })))
    );
    println!("backlog 0: {}", show(&listener.set_listen_backlog_size(0)));
    println!("backlog 32: {}", show(&listener.set_listen_backlog_size(32)));
    let bound = listener.bind(v4(LOOPBACK, 0));
    println!("bind 127.0.0.1:0: {}", show(&bound));
    if bound.is_err() {
        return;
    }
    println!("bind again: {}", show(&listener.bind(v4(LOOPBACK, 0))));
    let mut accepts = match listener.listen() {
        Ok(stream) => stream,
        Err(code) => {
            println!("listen: error {}", code_name(&code));
            return;
        }
    };
    println!("listen: ok");
    println!("listen again: {}", show(&listener.listen().map(drop)));
    println!(
        "listening: {}, family: {:?}",
        listener.get_is_listening(),
        listener.get_address_family()
    );
    let Ok(server_addr) = listener.get_local_address() else {
        println!("listener address: missing");
        return;
    };
    println!(
        "listener address: {}, a port: {}",
        host(&server_addr),
        port(&server_addr) != 0
    );
    println!("listener remote address: {}", show(&listener.get_remote_address()));
    let (rx, rx_done) = listener.receive();
    let (_, rx_reads) = read_all(&mut { rx }).await;
    println!("listener receive: {rx_reads} reads, {}", show(&rx_done.await));
    println!(
        "listener connect: {}",
        show(&listener.connect(v4(LOOPBACK, port(&server_addr))).await)
    );

    let client = TcpSocket::create(IpAddressFamily::Ipv4).expect("a second socket");
    println!("client is listening: {}", client.get_is_listening());
    println!("connect to port 0: {}", show(&client.connect(v4(LOOPBACK, 0)).await));
    let (reader, _writer_end) = {
        let (writer, reader) = wit_stream::new::<u8>();
        (reader, writer)
    };
    println!("send before connect: {}", show(&client.send(reader).await));
    let client = TcpSocket::create(IpAddressFamily::Ipv4).expect("a third socket");
    let (connected, accepted) = join(client.connect(server_addr), accepts.next()).await;
    println!("connect: {}", show(&connected));
    let Some(server) = accepted else {
        println!("accept: nothing");
        return;
    };
    if connected.is_err() {
        return;
    }
    println!("accept: ok, listening: {}", server.get_is_listening());
    let client_local = client.get_local_address().expect("the client's address");
    let client_remote = client.get_remote_address().expect("the client's peer");
    let server_local = server.get_local_address().expect("the server's address");
    let server_remote = server.get_remote_address().expect("the server's peer");
    println!(
        "client local: {}, remote is the listener: {}",
        host(&client_local),
        client_remote == server_addr
    );
    println!(
        "server local is the listener: {}, remote is the client: {}",
        server_local == server_addr,
        server_remote == client_local
    );
    println!("connect again: {}", show(&client.connect(server_addr).await));
    println!("listen on a connection: {}", show(&client.listen().map(drop)));
    options(&client);

    // The echo: the accepted side sends back what it receives, as it comes.
    let (mut server_in, server_in_done) = server.receive();
    let (mut server_out, server_out_reader) = wit_stream::new::<u8>();
    let server_out_done = server.send(server_out_reader);
    let echo = async move {
        let mut echoed = 0usize;
        loop {
            let (result, piece) = server_in.read(Vec::with_capacity(CHUNK)).await;
            if !piece.is_empty() {
                echoed += piece.len();
                if !server_out.write_all(piece).await.is_empty() {
                    break;
                }
            }
            if let StreamResult::Dropped | StreamResult::Cancelled = result {
                break;
            }
        }
        drop(server_out);
        (echoed, server_in_done.await, server_out_done.await)
    };
    let payload = pattern(PAYLOAD);
    let (mut client_out, client_out_reader) = wit_stream::new::<u8>();
    let client_out_done = client.send(client_out_reader);
    let (mut client_in, client_in_done) = client.receive();
    let sent = payload.clone();
    let write = async move {
        let mut written = 0;
        for piece in sent.chunks(CHUNK) {
            let rest = client_out.write_all(piece.to_vec()).await;
            written += piece.len() - rest.len();
            if !rest.is_empty() {
                break;
            }
        }
        drop(client_out);
        (written, client_out_done.await)
    };
    let read = async move {
        let (bytes, reads) = read_all(&mut client_in).await;
        (bytes, reads, client_in_done.await)
    };
    let ((echoed, server_in_end, server_out_end), ((written, sent_end), (back, reads, back_end))) =
        join(echo, join(write, read)).await;
    println!("client wrote {written} bytes: {}", show(&sent_end));
    println!(
        "server echoed {echoed} bytes: receive {}, send {}",
        show(&server_in_end),
        show(&server_out_end)
    );
    println!(
        "client read {} bytes back, the same: {}, in more than one read: {}, end {}",
        back.len(),
        back == payload,
        reads > 1,
        show(&back_end)
    );
    let (again, again_done) = client.receive();
    let (_, again_reads) = read_all(&mut { again }).await;
    println!("receive again: {again_reads} reads, {}", show(&again_done.await));
    let (_, reader) = wit_stream::new::<u8>();
    println!("send again: {}", show(&client.send(reader).await));
    drop((client, server));

    // A connection nobody accepts, and one the grants may refuse.
    let refused = TcpSocket::create(IpAddressFamily::Ipv4).expect("a socket");
    println!("connect to 127.0.0.1:1: {}", show(&refused.connect(v4(LOOPBACK, 1)).await));
    println!("after a failed connect, remote address: {}", show(&refused.get_remote_address()));
    let elsewhere = TcpSocket::create(IpAddressFamily::Ipv4).expect("a socket");
    println!(
        "connect to 127.0.0.2:1: {}",
        show(&elsewhere.connect(v4((127, 0, 0, 2), 1)).await)
    );
}

/// Sets and reads back the options of a connected socket.
fn options(socket: &TcpSocket) {
    println!("keep-alive on: {}", show(&socket.set_keep_alive_enabled(true)));
    println!("keep-alive: {:?}", socket.get_keep_alive_enabled());
    println!("idle time 0: {}", show(&socket.set_keep_alive_idle_time(0)));
    println!("idle time 10 s: {}", show(&socket.set_keep_alive_idle_time(10_000_000_000)));
    println!("idle time: {:?}", socket.get_keep_alive_idle_time());
    println!("interval 5 s: {}", show(&socket.set_keep_alive_interval(5_000_000_000)));
    println!("interval: {:?}", socket.get_keep_alive_interval());
    println!("count 0: {}", show(&socket.set_keep_alive_count(0)));
    println!("count 4: {}", show(&socket.set_keep_alive_count(4)));
    println!("count: {:?}", socket.get_keep_alive_count());
    println!("hop limit 0: {}", show(&socket.set_hop_limit(0)));
    println!("hop limit 42: {}", show(&socket.set_hop_limit(42)));
    println!("hop limit: {:?}", socket.get_hop_limit());
    println!("receive buffer 0: {}", show(&socket.set_receive_buffer_size(0)));
    println!("receive buffer 64 KiB: {}", show(&socket.set_receive_buffer_size(65536)));
    println!("receive buffer: {:?}", socket.get_receive_buffer_size());
    println!("send buffer 64 KiB: {}", show(&socket.set_send_buffer_size(65536)));
    println!("send buffer: {:?}", socket.get_send_buffer_size());
}

async fn udp() {
    let a = match UdpSocket::create(IpAddressFamily::Ipv4) {
        Ok(socket) => socket,
        Err(code) => {
            println!("udp create: error {}", code_name(&code));
            return;
        }
    };
    println!("udp create: ok, family: {:?}", a.get_address_family());
    println!("udp receive before bind: {}", show(&a.receive().await));
    println!("udp disconnect before connect: {}", show(&a.disconnect()));
    let bound = a.bind(v4(LOOPBACK, 0));
    println!("udp bind 127.0.0.1:0: {}", show(&bound));
    if bound.is_err() {
        return;
    }
    println!("udp bind again: {}", show(&a.bind(v4(LOOPBACK, 0))));
    let a_addr = a.get_local_address().expect("a's address");
    println!("udp remote address unconnected: {}", show(&a.get_remote_address()));
    let b = UdpSocket::create(IpAddressFamily::Ipv4).expect("a second UDP socket");
    println!("udp bind b: {}", show(&b.bind(v4(LOOPBACK, 0))));
    let b_addr = b.get_local_address().expect("b's address");
    println!("udp connect to port 0: {}", show(&b.connect(v4(LOOPBACK, 0))));
    println!("udp connect b to a: {}", show(&b.connect(a_addr)));
    println!(
        "udp b's remote is a: {}",
        b.get_remote_address().is_ok_and(|r| r == a_addr)
    );
    // a waits for a datagram before b sends it.
    let (received, sent) = join(a.receive(), b.send(b"ping".to_vec(), None)).await;
    println!("udp send ping: {}", show(&sent));
    match received {
        Ok((data, from)) => println!(
            "udp a received {:?} from b: {}",
            String::from_utf8_lossy(&data),
            from == b_addr
        ),
        Err(code) => println!("udp a received: error {}", code_name(&code)),
    }
    println!(
        "udp send to another address while connected: {}",
        show(&b.send(b"x".to_vec(), Some(v4(LOOPBACK, 9))).await)
    );
    println!("udp send pong: {}", show(&a.send(b"pong".to_vec(), Some(b_addr)).await));
    match b.receive().await {
        Ok((data, from)) => println!(
            "udp b received {:?} from a: {}",
            String::from_utf8_lossy(&data),
            from == a_addr
        ),
        Err(code) => println!("udp b received: error {}", code_name(&code)),
    }
    // A receive given up while it waits (its subtask cancelled): the datagram sent
    // next is the next one received.
    let waited = {
        let mut receive = pin!(a.receive());
        std::future::poll_fn(|cx| Poll::Ready(receive.as_mut().poll(cx).is_pending())).await
    };
    println!("udp receive given up while waiting: {waited}");
    println!("udp send again: {}", show(&b.send(b"again".to_vec(), None).await));
    match a.receive().await {
        Ok((data, _)) => println!("udp a received {:?}", String::from_utf8_lossy(&data)),
        Err(code) => println!("udp a received: error {}", code_name(&code)),
    }
    println!("udp send without an address: {}", show(&a.send(b"x".to_vec(), None).await));
    println!(
        "udp send 70000 bytes: {}",
        show(&a.send(vec![0; 70_000], Some(b_addr)).await)
    );
    println!("udp disconnect: {}", show(&b.disconnect()));
    println!("udp remote after disconnect: {}", show(&b.get_remote_address()));
    println!("udp hop limit 0: {}", show(&a.set_unicast_hop_limit(0)));
    println!("udp hop limit 10: {}", show(&a.set_unicast_hop_limit(10)));
    println!("udp hop limit: {:?}", a.get_unicast_hop_limit());
    println!("udp receive buffer 64 KiB: {}", show(&a.set_receive_buffer_size(65536)));
    println!("udp receive buffer: {:?}", a.get_receive_buffer_size());
    println!("udp send buffer 0: {}", show(&a.set_send_buffer_size(0)));
    println!("udp send buffer 64 KiB: {}", show(&a.set_send_buffer_size(65536)));
    println!("udp send buffer: {:?}", a.get_send_buffer_size());
    let c = UdpSocket::create(IpAddressFamily::Ipv4).expect("a third UDP socket");
    println!(
        "udp send to 127.0.0.2:9 unbound: {}",
        show(&c.send(b"x".to_vec(), Some(v4((127, 0, 0, 2), 9))).await)
    );
}

fn show_address(addr: &IpAddress) -> String {
    match addr {
        IpAddress::Ipv4((a, b, c, d)) => format!("{a}.{b}.{c}.{d}"),
        IpAddress::Ipv6(words) => format!("{words:x?}"),
    }
}

async fn lookup() {
    match resolve_addresses("localhost".to_string()).await {
        Ok(found) => println!(
            "localhost: has 127.0.0.1: {}",
            found.iter().any(|a| show_address(a) == "127.0.0.1")
        ),
        Err(code) => println!("localhost: error {code:?}"),
    }
    match resolve_addresses("192.0.2.7".to_string()).await {
        Ok(found) => println!(
            "192.0.2.7: {:?}",
            found.iter().map(show_address).collect::<Vec<_>>()
        ),
        Err(code) => println!("192.0.2.7: error {code:?}"),
    }
    match resolve_addresses("not a name".to_string()).await {
        Ok(found) => println!("'not a name': {} addresses", found.len()),
        Err(code) => println!("'not a name': error {code:?}"),
    }
}

export!(Sockets);
