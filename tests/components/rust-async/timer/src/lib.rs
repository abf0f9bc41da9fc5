//! A WASI 0.3 program: arguments, environment, random numbers and the clock's
//! resolution, then a timer that waits on the monotonic clock twice in sequence, then twice at once,
//! and checks each took as long as asked (and the two at once no longer than one), then
//! a timeout: a short wait racing a long one, which is cancelled when it loses.

wit_bindgen::generate!({ path: "wit", world: "timer", generate_all });

use wasi::cli::environment::{get_arguments, get_environment};
use wasi::clocks::monotonic_clock::{get_resolution, now, wait_for, wait_until};
use wasi::random::random::{get_random_bytes, get_random_u64};

struct Timer;

const MS: u64 = 1_000_000;

impl exports::wasi::cli::run::Guest for Timer {
    async fn run() -> Result<(), ()> {
        // The synchronous WASI 0.3 functions.
        println!("arguments: {}", get_arguments().len());
        println!("environment variables: {}", get_environment().len());
        println!("16 random bytes: {}", get_random_bytes(16).len() == 16);
        println!("two random u64 differ: {}", get_random_u64() != get_random_u64());
        println!("clock resolution under 1 ms: {}", (1..MS).contains(&get_resolution()));
        let start = now();
        wait_for(30 * MS).await;
        let first = now() - start;
        println!("waited 30 ms: {}", first >= 30 * MS);
        wait_until(now() + 20 * MS).await;
        let second = now() - start;
        println!("waited 20 ms more: {}", second >= 50 * MS);
        // Two 40 ms waits in flight at once end together: well before the 80 ms they
        // would take one after the other.
        let begin = now();
        futures_join(wait_for(40 * MS), wait_for(40 * MS)).await;
        let both = now() - begin;
        println!("two 40 ms waits at once: {}", (40 * MS..80 * MS).contains(&both));
        // A timeout: a 10 ms wait races a 10 s one, which is dropped (its subtask
        // cancelled) as soon as the short one ends.
        let begin = now();
        let short_won = race(wait_for(10 * MS), wait_for(10_000 * MS)).await;
        let took = now() - begin;
        println!("a 10 ms wait beat a 10 s one: {}", short_won && took < 5_000 * MS);
        Ok(())
    }
}

/// Awaits whichever of two futures ends first, dropping the other: whether `a` won.
async fn race(a: impl Future<Output = ()>, b: impl Future<Output = ()>) -> bool {
    let (mut a, mut b) = (Box::pin(a), Box::pin(b));
    std::future::poll_fn(|cx| {
        if a.as_mut().poll(cx).is_ready() {
            std::task::Poll::Ready(true)
        } else if b.as_mut().poll(cx).is_ready() {
            std::task::Poll::Ready(false)
        } else {
            std::task::Poll::Pending
        }
    })
    .await
}

/// Awaits two futures concurrently.
async fn futures_join(a: impl Future<Output = ()>, b: impl Future<Output = ()>) {
    let (mut a, mut b) = (Box::pin(a), Box::pin(b));
    let (mut a_done, mut b_done) = (false, false);
    std::future::poll_fn(|cx| {
        if !a_done {
            a_done = a.as_mut().poll(cx).is_ready();
        }
        if !b_done {
            b_done = b.as_mut().poll(cx).is_ready();
        }
        if a_done && b_done {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await
}

export!(Timer);
