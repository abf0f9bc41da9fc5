//! What a component sees of files and the network on a board: the baked read-only tree
//! (read, list, refused writes) and no network (every socket refused as a denied grant
//! is). The same program on Linux, with the same read-only grant and no network grant,
//! prints the same.

use std::net::{TcpListener, TcpStream, ToSocketAddrs, UdpSocket};

fn main() {
    let text = std::fs::read_to_string("/data/hello.txt");
    println!("read {text:?}");
    let mut names: Vec<String> = std::fs::read_dir("/data")
        .map(|dir| dir.map(|e| e.unwrap().file_name().into_string().unwrap()).collect())
        .unwrap_or_default();
    names.sort();
    println!("listing {names:?}");
    println!("write {:?}", std::fs::write("/data/new.txt", "x").map_err(|e| e.kind()));
    println!("mkdir {:?}", std::fs::create_dir("/data/sub").map_err(|e| e.kind()));
    println!("connect {:?}", TcpStream::connect("10.0.0.1:80").map(drop).map_err(|e| e.kind()));
    println!("listen {:?}", TcpListener::bind("0.0.0.0:8080").map(drop).map_err(|e| e.kind()));
    println!("udp {:?}", UdpSocket::bind("0.0.0.0:0").map(drop).map_err(|e| e.kind()));
    println!("lookup {:?}", ("example.com", 80).to_socket_addrs().map(drop).map_err(|e| e.kind()));
}
