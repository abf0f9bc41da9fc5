//! A WASI 0.3 HTTP service: `GET /` answers `hello from wasi:http 0.3\n`; `POST /echo`
//! streams the request's body back as the response's body, chunk by chunk as it
//! arrives (so neither side holds a whole body); anything else is a 404.

wit_bindgen::generate!({ path: "wit", world: "service", generate_all });

use exports::wasi::http::handler::Guest;
use wasi::http::types::{ErrorCode, Fields, Method, Request, Response};

struct Service;

/// How much of the request body one read asks for.
const CHUNK: usize = 16 * 1024;

impl Guest for Service {
    async fn handle(request: Request) -> Result<Response, ErrorCode> {
        let method = request.get_method();
        let path = request.get_path_with_query().unwrap_or_default();
        match (method, path.as_str()) {
            (Method::Get, "/") => Ok(respond(200, "text/plain", b"hello from wasi:http 0.3\n".to_vec())),
            (Method::Post, "/echo") => Ok(echo(request)),
            _ => Ok(respond(404, "text/plain", b"not found\n".to_vec())),
        }
    }
}

/// A response with `body`, written by a task of its own once the host reads it.
fn respond(status: u16, content_type: &str, body: Vec<u8>) -> Response {
    let (mut writer, reader) = wit_stream::new();
    let (trailers_writer, trailers_reader) = wit_future::new(|| Ok(None));
    let headers = Fields::from_list(&[
        ("content-type".to_string(), content_type.as_bytes().to_vec()),
        ("content-length".to_string(), body.len().to_string().into_bytes()),
    ])
    .expect("valid headers");
    let (response, _sent) = Response::new(headers, Some(reader), trailers_reader);
    let _ = response.set_status_code(status);
    wit_bindgen::spawn_local(async move {
        writer.write_all(body).await;
        drop(writer);
        let _ = trailers_writer.write(Ok(None)).await;
    });
    response
}

/// A response whose body is the request's, copied as it arrives.
fn echo(request: Request) -> Response {
    let (_request_done_writer, request_done) = wit_future::new(|| Ok(()));
    let (mut body, _trailers) = Request::consume_body(request, request_done);
    let (mut writer, reader) = wit_stream::new();
    let (trailers_writer, trailers_reader) = wit_future::new(|| Ok(None));
    let headers = Fields::from_list(&[(
        "content-type".to_string(),
        b"application/octet-stream".to_vec(),
    )])
    .expect("valid headers");
    let (response, _sent) = Response::new(headers, Some(reader), trailers_reader);
    wit_bindgen::spawn_local(async move {
        let mut buffer = Vec::with_capacity(CHUNK);
        loop {
            let (result, chunk) = body.read(buffer).await;
            match result {
                wit_bindgen::StreamResult::Complete(_) => {
                    let rest = writer.write_all(chunk).await;
                    if !rest.is_empty() {
                        break;
                    }
                    buffer = Vec::with_capacity(CHUNK);
                }
                wit_bindgen::StreamResult::Dropped | wit_bindgen::StreamResult::Cancelled => break,
            }
        }
        drop(writer);
        let _ = trailers_writer.write(Ok(None)).await;
    });
    response
}

export!(Service);
