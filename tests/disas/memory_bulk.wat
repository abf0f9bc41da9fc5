;; memory.size/grow call into the runtime or read the VM context; bulk operations check
;; their ranges, then call memmove/memset/memcpy.
(module
  (memory 1 10)
  (data $d "payload")
  (func (result i32) (memory.size))
  (func (param i32) (result i32) (memory.grow (local.get 0)))
  (func (param i32 i32 i32) (memory.copy (local.get 0) (local.get 1) (local.get 2)))
  (func (param i32 i32 i32) (memory.fill (local.get 0) (local.get 1) (local.get 2)))
  (func (param i32 i32 i32) (memory.init $d (local.get 0) (local.get 1) (local.get 2)))
  (func (data.drop $d)))
