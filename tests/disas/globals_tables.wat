;; Globals live in the VM context (immutable constant ones fold away); table access
;; checks the index against the table's current length.
(module
  (global $c i32 (i32.const 42))
  (global $g (mut i64) (i64.const 0))
  (table $t 1 10 funcref)
  (func (result i32) (global.get $c))
  (func (param i64) (global.set $g (i64.add (global.get $g) (local.get 0))))
  (func (param i32) (result funcref) (table.get $t (local.get 0)))
  (func (param i32 funcref) (table.set $t (local.get 0) (local.get 1)))
  (func (param funcref i32) (result i32) (table.grow $t (local.get 0) (local.get 1)))
  (func (param funcref) (result i32) (ref.is_null (local.get 0))))
