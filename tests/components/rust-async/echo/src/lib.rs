//! A WASI 0.3 echo: reads stdin through its `stream<u8>` in pieces of up to 16 KiB and
//! writes each piece to stdout's stream as it arrives, then waits for both streams'
//! outcomes, and says how many bytes it echoed on stderr's stream. `run` fails if a
//! stream reports an error.

wit_bindgen::generate!({ path: "wit", world: "echo", generate_all });

use wasi::cli::{stderr, stdin, stdout};
use wit_bindgen::StreamResult;

struct Echo;

/// The most bytes one read asks for.
const PIECE: usize = 16 * 1024;

impl exports::wasi::cli::run::Guest for Echo {
    async fn run() -> Result<(), ()> {
        let (mut input, input_done) = stdin::read_via_stream();
        let (mut output, output_reader) = wit_stream::new::<u8>();
        let output_done = stdout::write_via_stream(output_reader);
        let mut piece = Vec::with_capacity(PIECE);
        let mut total = 0;
        loop {
            let (result, read) = input.read(piece).await;
            piece = read;
            match result {
                StreamResult::Complete(_) => {}
                StreamResult::Dropped | StreamResult::Cancelled => break,
            }
            if !piece.is_empty() {
                total += piece.len();
                let unwritten = output.write_all(piece).await;
                if !unwritten.is_empty() {
                    return Err(());
                }
                piece = Vec::with_capacity(PIECE);
            }
        }
        drop(output);
        output_done.await.map_err(|_| ())?;
        input_done.await.map_err(|_| ())?;
        let (mut note, note_reader) = wit_stream::new::<u8>();
        let note_done = stderr::write_via_stream(note_reader);
        if !note
            .write_all(format!("echoed {total} bytes\n").into_bytes())
            .await
            .is_empty()
        {
            return Err(());
        }
        drop(note);
        note_done.await.map_err(|_| ())
    }
}

export!(Echo);
