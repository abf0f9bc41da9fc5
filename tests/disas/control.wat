;; Structured control flow becomes blocks with parameters; br_table a jump table. A
;; construct whose end only falling through reaches (a `loop`, a `block` nothing leaves by
;; branching, an `if` whose arm ends in a branch) gets no block of its own: code goes on in
;; the current one.
(module
  (func (param i32) (result i32)
    (block $b (result i32) (i32.const 1) (local.get 0) (br_if $b) (drop) (i32.const 2)))
  (func (param i32) (result i32)
    (local $acc i32)
    (loop $l (local.set $acc (i32.add (local.get $acc) (local.get 0)))
      (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
    (local.get $acc))
  (func (param i32) (result i32)
    (block $a (block $b (br_table $a $b $a (local.get 0))) (return (i32.const 1))) (i32.const 0))
  (func (param i32 i32) (result i32 i32) (if (result i32 i32) (local.get 0)
    (then (local.get 1) (i32.const 1)) (else (i32.const 0) (local.get 1))))
  (func (param i32) (result i32) (select (i32.const 7) (i32.const 9) (local.get 0)))
  (func unreachable)
  (func (param i32) (result i32)
    (block (result i32)
      (if (result i32) (local.get 0)
        (then (return (i32.const 3)))
        (else (loop (result i32) (i32.const 4)))))
    (i32.const 5)
    (i32.add)))
