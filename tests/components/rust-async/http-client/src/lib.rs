//! A WASI 0.3 HTTP client: sends requests to the authority given as its first argument
//! (`HOST:PORT`, the HTTP service of `tests/components/rust-async/http-service`) through
//! `wasi:http/client@0.3.0` and prints what came back: `GET /`, a `POST /echo` whose
//! body is written as a stream while the response streams back, `GET /missing`, and,
//! if a second argument names one, a request to an authority it may not reach, and if a
//! third does, a request to a server that never answers, given up after 200 ms (the
//! `send` in flight is cancelled).

wit_bindgen::generate!({ path: "wit", world: "client", generate_all });

use wasi::cli::environment::get_arguments;
use wasi::clocks::monotonic_clock::{now, wait_for};
use wasi::http::client::send;
use wasi::http::types::{ErrorCode, Fields, Method, Request, Response, Scheme};

struct Client;

/// How much one write of the request body, and one read of the response's, carries.
const CHUNK: usize = 8 * 1024;

impl exports::wasi::cli::run::Guest for Client {
    async fn run() -> Result<(), ()> {
        let args = get_arguments();
        let authority = args.get(1).cloned().unwrap_or_default();
        match get(&authority, "/").await {
            Ok((status, body)) => println!("GET / -> {status}: {}", String::from_utf8_lossy(&body).trim_end()),
            Err(e) => println!("GET / -> error {e:?}"),
        }
        let sent: Vec<u8> = (0..100_000u32).map(|i| (i * 31 + i / 7) as u8).collect();
        match post(&authority, "/echo", sent.clone()).await {
            Ok((status, body)) => println!(
                "POST /echo of {} bytes -> {status}: {} bytes back, the same: {}",
                sent.len(),
                body.len(),
                body == sent
            ),
            Err(e) => println!("POST /echo -> error {e:?}"),
        }
        match get(&authority, "/missing").await {
            Ok((status, body)) => println!("GET /missing -> {status}: {}", String::from_utf8_lossy(&body).trim_end()),
            Err(e) => println!("GET /missing -> error {e:?}"),
        }
        if let Some(other) = args.get(2) {
            match get(other, "/").await {
                Ok((status, _)) => println!("GET http://{other}/ -> {status}"),
                Err(e) => println!("GET http://{other}/ -> error {e:?}"),
            }
        }
        if let Some(silent) = args.get(3) {
            const MS: u64 = 1_000_000;
            let begin = now();
            let answered = race(get(silent, "/"), wait_for(200 * MS)).await;
            let took = now() - begin;
            println!(
                "GET of a silent server, 200 ms timeout -> answered: {}, gave up in time: {}",
                answered.is_some(),
                (200 * MS..5_000 * MS).contains(&took)
            );
        }
        Ok(())
    }
}

/// Awaits `a` unless `b` ends first (then `a` is dropped, and with it whatever it had
/// in flight): `a`'s output, if it won.
async fn race<T>(a: impl Future<Output = T>, b: impl Future<Output = ()>) -> Option<T> {
    let (mut a, mut b) = (Box::pin(a), Box::pin(b));
    std::future::poll_fn(|cx| {
        if let std::task::Poll::Ready(value) = a.as_mut().poll(cx) {
            std::task::Poll::Ready(Some(value))
        } else if b.as_mut().poll(cx).is_ready() {
            std::task::Poll::Ready(None)
        } else {
            std::task::Poll::Pending
        }
    })
    .await
}

/// A request of `method` to `http://AUTHORITY PATH` whose body is `body` (none if
/// `None`), written by a task of its own as the host reads it.
fn request(method: Method, authority: &str, path: &str, body: Option<Vec<u8>>) -> Request {
    let (trailers_writer, trailers) = wit_future::new(|| Ok(None));
    let contents = body.map(|body| {
        let (mut writer, reader) = wit_stream::new();
        wit_bindgen::spawn_local(async move {
            for piece in body.chunks(CHUNK) {
                if !writer.write_all(piece.to_vec()).await.is_empty() {
                    return;
                }
            }
            drop(writer);
            let _ = trailers_writer.write(Ok(None)).await;
        });
        reader
    });
    let (request, _sent) = Request::new(Fields::new(), contents, trailers, None);
    request.set_method(&method).expect("a method");
    request.set_scheme(Some(&Scheme::Http)).expect("a scheme");
    request.set_authority(Some(authority)).expect("an authority");
    request.set_path_with_query(Some(path)).expect("a path");
    request
}

/// Sends `request`; the response's status and whole body.
async fn exchange(request: Request) -> Result<(u16, Vec<u8>), ErrorCode> {
    let response = send(request).await?;
    let status = response.get_status_code();
    let (_done_writer, done) = wit_future::new(|| Ok(()));
    let (mut contents, _trailers) = Response::consume_body(response, done);
    let mut body = Vec::new();
    loop {
        let (result, chunk) = contents.read(Vec::with_capacity(CHUNK)).await;
        body.extend_from_slice(&chunk);
        match result {
            wit_bindgen::StreamResult::Complete(_) => {}
            wit_bindgen::StreamResult::Dropped | wit_bindgen::StreamResult::Cancelled => break,
        }
    }
    Ok((status, body))
}

async fn get(authority: &str, path: &str) -> Result<(u16, Vec<u8>), ErrorCode> {
    exchange(request(Method::Get, authority, path, None)).await
}

async fn post(authority: &str, path: &str, body: Vec<u8>) -> Result<(u16, Vec<u8>), ErrorCode> {
    exchange(request(Method::Post, authority, path, Some(body))).await
}

export!(Client);
