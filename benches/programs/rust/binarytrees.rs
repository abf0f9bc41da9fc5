//! binary-trees: allocate and walk many short-lived perfect binary trees of `Box`es
//! (after the Computer Language Benchmarks Game). Allocator-bound.

const MAX_DEPTH: u32 = 16;
const MIN_DEPTH: u32 = 4;

struct Node {
    children: Option<(Box<Node>, Box<Node>)>,
}

fn make(depth: u32) -> Box<Node> {
    Box::new(Node {
        children: (depth > 0).then(|| (make(depth - 1), make(depth - 1))),
    })
}

fn check(node: &Node) -> u64 {
    1 + node
        .children
        .as_ref()
        .map_or(0, |(left, right)| check(left) + check(right))
}

fn main() {
    let stretch = make(MAX_DEPTH + 1);
    println!(
        "stretch tree of depth {}\t check: {}",
        MAX_DEPTH + 1,
        check(&stretch)
    );
    drop(stretch);
    let long_lived = make(MAX_DEPTH);
    for depth in (MIN_DEPTH..=MAX_DEPTH).step_by(2) {
        let iterations = 1u64 << (MAX_DEPTH - depth + MIN_DEPTH);
        let sum: u64 = (0..iterations).map(|_| check(&make(depth))).sum();
        println!("{iterations}\t trees of depth {depth}\t check: {sum}");
    }
    println!(
        "long lived tree of depth {MAX_DEPTH}\t check: {}",
        check(&long_lived)
    );
}
