// A Rust guest for the debugger tests (tests/debug.rs): built with -g (no
// optimisation), then driven by gdb. The tests name lines by the markers in comments.

struct Point {
    x: i32,
    y: i32,
}

static mut COUNTER: i32 = 5;

fn square(x: i32) -> i32 {
    let y = x * x; // LINE_SQUARE
    y + unsafe { COUNTER }
}

fn main() {
    let origin = Point { x: 3, y: 4 };
    let words = vec!["alpha", "beta"];
    let name = "wafer";
    let owned = String::from("owned");
    let boxed = Box::new(Point { x: 5, y: 6 });
    let mut total = 0;
    for i in 0..3 {
        total += square(i); // LINE_LOOP
    }
    unsafe { COUNTER += total };
    println!(
        "total {total}, point {},{}, {} words, {name} {owned} {}",
        origin.x,
        origin.y,
        words.len(),
        boxed.x + boxed.y
    );
}
