//! Turning a `.wast` script into a plan: the instances of one harness image (the
//! `spectest` module first) and the steps to run against it in order. Assertions about
//! modules that must not compile (`assert_invalid`, `assert_malformed`) are decided
//! while planning.

use std::collections::HashMap;

use wafer::codegen::ImportSource;
use wafer::environ::{ExportKind, ModuleInfo};
use wast::{QuoteWat, WastDirective, WastExecute, WastInvoke};

use crate::values::{self, Expected};

/// The `spectest` host module of the spec interpreter, as a wasm module: instance 0.
pub const SPECTEST: &str = r#"(module
  (global (export "global_i32") i32 (i32.const 666))
  (global (export "global_i64") i64 (i64.const 666))
  (global (export "global_f32") f32 (f32.const 666.6))
  (global (export "global_f64") f64 (f64.const 666.6))
  (table (export "table") 10 20 funcref)
  (table (export "table64") i64 10 20 funcref)
  (memory (export "memory") 1 2)
  (func (export "print"))
  (func (export "print_i32") (param i32))
  (func (export "print_i64") (param i64))
  (func (export "print_f32") (param f32))
  (func (export "print_f64") (param f64))
  (func (export "print_i32_f32") (param i32 f32))
  (func (export "print_f64_f64") (param f64 f64)))"#;

/// One instance of the image.
pub struct Instance {
    pub wasm: Vec<u8>,
    pub imports: HashMap<String, ImportSource>,
    /// Exports: name, kind, and result count for functions.
    pub exports: Vec<(String, ExportKind, usize)>,
}

/// What a step expects.
#[derive(Debug, Clone)]
pub enum Expect {
    /// Success, results unchecked.
    Success,
    /// Success with these results.
    Values(Vec<Expected>),
    /// A trap whose message starts like this.
    Trap(String),
    /// Stack exhaustion.
    Exhaustion,
    /// An exception escaping the call.
    Exception,
    /// A link failure.
    Unlinkable,
}

/// One step of the script.
#[derive(Debug, Clone)]
pub enum Step {
    /// Instantiate an instance; `assertion` is false for plain `module` directives.
    Instantiate {
        instance: usize,
        expect: Expect,
        assertion: bool,
        line: usize,
    },
    /// Call a function export.
    Call {
        instance: usize,
        export: usize,
        args: Vec<u128>,
        results: usize,
        expect: Expect,
        line: usize,
    },
    /// Read a global export.
    Get {
        instance: usize,
        export: usize,
        expect: Expect,
        line: usize,
    },
    /// An assertion decided while planning.
    Decided {
        result: Result<(), String>,
        line: usize,
    },
    /// An assertion this runner does not execute.
    Skipped {
        #[allow(dead_code, reason = "documents the skip in the plan")]
        why: String,
        line: usize,
    },
    /// A command that could not be planned (its module is missing or broken).
    Broken { why: String, line: usize },
}

/// The plan for one script.
pub struct Plan {
    pub instances: Vec<Instance>,
    pub steps: Vec<Step>,
}

/// The exports of a module (name, kind, result count) and the import module names it
/// uses.
type Interface = (Vec<(String, ExportKind, usize)>, Vec<String>);

fn interface_of(wasm: &[u8]) -> Result<Interface, String> {
    let module = ModuleInfo::parse(wasm).map_err(|e| e.to_string())?;
    let imports = module
        .funcs
        .iter()
        .filter_map(|f| f.import.as_ref())
        .chain(module.tables.iter().filter_map(|t| t.import.as_ref()))
        .chain(module.memories.iter().filter_map(|m| m.import.as_ref()))
        .chain(module.globals.iter().filter_map(|g| g.import.as_ref()))
        .chain(module.tags.iter().filter_map(|t| t.import.as_ref()))
        .map(|import| import.module.clone())
        .collect();
    let exports = module
        .exports
        .iter()
        .map(|e| {
            let results = match e.kind {
                ExportKind::Func => module.func_sig(e.index).results.len(),
                _ => 1,
            };
            (e.name.clone(), e.kind, results)
        })
        .collect();
    Ok((exports, imports))
}

struct Planner {
    plan: Plan,
    /// `register`ed names.
    registry: HashMap<String, usize>,
    /// Module and instance ids.
    names: HashMap<String, usize>,
    /// `module definition`s by id.
    definitions: HashMap<String, Vec<u8>>,
    current: Option<usize>,
    line_of: Box<dyn Fn(wast::token::Span) -> usize>,
    features: wasmparser::WasmFeatures,
}

impl Planner {
    /// Where the import modules `names` come from now: registered instances, and
    /// `spectest`. Unknown names are left out (the build then reports them).
    fn imports(&self, names: &[String]) -> HashMap<String, ImportSource> {
        names
            .iter()
            .filter_map(|name| {
                let instance = match name.as_str() {
                    "spectest" => Some(0),
                    other => self.registry.get(other).copied(),
                }?;
                Some((name.clone(), ImportSource::Instance(instance)))
            })
            .collect()
    }

    /// Adds an instance of `wasm`; `Err` when the module does not even parse.
    fn add_instance(&mut self, wasm: Vec<u8>, line: usize) -> Result<usize, String> {
        let (exports, used) = interface_of(&wasm)?;
        let imports = self.imports(&used);
        let _ = line;
        self.plan.instances.push(Instance {
            wasm,
            imports,
            exports,
        });
        Ok(self.plan.instances.len() - 1)
    }

    fn instance_named(&self, id: Option<wast::token::Id<'_>>) -> Option<usize> {
        match id {
            Some(id) => self.names.get(id.name()).copied(),
            None => self.current,
        }
    }

    fn export(&self, instance: usize, name: &str) -> Option<(usize, &(String, ExportKind, usize))> {
        self.plan.instances[instance]
            .exports
            .iter()
            .enumerate()
            .find(|(_, e)| e.0 == name)
    }

    fn invoke(&self, invoke: &WastInvoke<'_>, expect: Expect, line: usize) -> Step {
        let Some(instance) = self.instance_named(invoke.module) else {
            return Step::Broken {
                why: "the module to invoke was not instantiated".into(),
                line,
            };
        };
        let Some((export, (_, kind, results))) = self.export(instance, invoke.name) else {
            return Step::Broken {
                why: format!("no export `{}`", invoke.name),
                line,
            };
        };
        if *kind != ExportKind::Func {
            return Step::Broken {
                why: format!("`{}` is not a function", invoke.name),
                line,
            };
        }
        let args: Result<Vec<u128>, String> = invoke.args.iter().map(values::argument).collect();
        match args {
            Ok(args) => Step::Call {
                instance,
                export,
                args,
                results: *results,
                expect,
                line,
            },
            Err(why) => Step::Skipped { why, line },
        }
    }

    fn execute(&mut self, exec: &mut WastExecute<'_>, expect: Expect, line: usize) -> Step {
        match exec {
            WastExecute::Invoke(invoke) => self.invoke(invoke, expect, line),
            WastExecute::Get { module, global, .. } => {
                let Some(instance) = self.instance_named(*module) else {
                    return Step::Broken {
                        why: "the module was not instantiated".into(),
                        line,
                    };
                };
                match self.export(instance, global) {
                    Some((export, (_, ExportKind::Global, _))) => Step::Get {
                        instance,
                        export,
                        expect,
                        line,
                    },
                    _ => Step::Broken {
                        why: format!("no global export `{global}`"),
                        line,
                    },
                }
            }
            WastExecute::Wat(wat) => match wat.encode() {
                Ok(wasm) => match self.add_instance(wasm, line) {
                    Ok(instance) => Step::Instantiate {
                        instance,
                        expect,
                        assertion: true,
                        line,
                    },
                    Err(why) => Step::Decided {
                        result: Err(format!("module does not compile: {why}")),
                        line,
                    },
                },
                Err(e) => Step::Broken {
                    why: format!("cannot encode module: {e}"),
                    line,
                },
            },
        }
    }

    /// `assert_invalid` / `assert_malformed`: the module must not get past wafer's
    /// front-end (or, for text, the text parser).
    fn must_not_compile(&self, module: &mut QuoteWat<'_>, line: usize) -> Step {
        let result = match module.encode() {
            Err(_) => Ok(()), // malformed text is rejected before wafer sees it
            Ok(wasm) => match wafer::environ::validate_with(&wasm, self.features) {
                Err(wafer::error::CompileError::InvalidWasm { .. }) => Ok(()),
                Err(other) => Err(format!("rejected for the wrong reason: {other}")),
                Ok(_) => Err("the module was accepted".into()),
            },
        };
        Step::Decided { result, line }
    }

    fn directive(&mut self, directive: WastDirective<'_>) {
        let line = (self.line_of)(directive.span());
        let step = match directive {
            WastDirective::Module(mut module) => {
                let name = module.name().map(|id| id.name().to_string());
                match module
                    .encode()
                    .map_err(|e| e.to_string())
                    .and_then(|wasm| self.add_instance(wasm, line))
                {
                    Ok(instance) => {
                        self.current = Some(instance);
                        if let Some(name) = name {
                            self.names.insert(name, instance);
                        }
                        Step::Instantiate {
                            instance,
                            expect: Expect::Success,
                            assertion: false,
                            line,
                        }
                    }
                    Err(why) => {
                        self.current = None;
                        Step::Broken {
                            why: format!("module does not compile: {why}"),
                            line,
                        }
                    }
                }
            }
            WastDirective::ModuleDefinition(mut module) => {
                let name = module.name().map(|id| id.name().to_string());
                match (module.encode(), name) {
                    (Ok(wasm), Some(name)) => {
                        self.definitions.insert(name, wasm);
                        return;
                    }
                    (Ok(_), None) => return,
                    (Err(e), _) => Step::Broken {
                        why: format!("cannot encode module: {e}"),
                        line,
                    },
                }
            }
            WastDirective::ModuleInstance {
                instance, module, ..
            } => {
                let wasm = module.and_then(|m| self.definitions.get(m.name()).cloned());
                match wasm.map(|wasm| self.add_instance(wasm, line)) {
                    Some(Ok(index)) => {
                        self.current = Some(index);
                        if let Some(id) = instance {
                            self.names.insert(id.name().to_string(), index);
                        }
                        Step::Instantiate {
                            instance: index,
                            expect: Expect::Success,
                            assertion: false,
                            line,
                        }
                    }
                    _ => Step::Broken {
                        why: "unknown module definition".into(),
                        line,
                    },
                }
            }
            WastDirective::Register { name, module, .. } => {
                if let Some(instance) = self.instance_named(module) {
                    self.registry.insert(name.to_string(), instance);
                }
                return;
            }
            WastDirective::Invoke(invoke) => self.invoke(&invoke, Expect::Success, line),
            WastDirective::AssertReturn {
                mut exec, results, ..
            } => {
                match results
                    .iter()
                    .map(values::expected)
                    .collect::<Result<Vec<_>, _>>()
                {
                    Ok(expected) => self.execute(&mut exec, Expect::Values(expected), line),
                    Err(why) => Step::Skipped { why, line },
                }
            }
            WastDirective::AssertTrap {
                mut exec, message, ..
            } => self.execute(&mut exec, Expect::Trap(message.to_string()), line),
            WastDirective::AssertExhaustion { call, .. } => {
                self.invoke(&call, Expect::Exhaustion, line)
            }
            WastDirective::AssertUnlinkable { mut module, .. } => match module.encode() {
                Ok(wasm) => match self.add_instance(wasm, line) {
                    Ok(instance) => Step::Instantiate {
                        instance,
                        expect: Expect::Unlinkable,
                        assertion: true,
                        line,
                    },
                    Err(why) => Step::Decided {
                        result: Err(format!("module does not compile: {why}")),
                        line,
                    },
                },
                Err(e) => Step::Broken {
                    why: format!("cannot encode module: {e}"),
                    line,
                },
            },
            WastDirective::AssertInvalid { mut module, .. }
            | WastDirective::AssertMalformed { mut module, .. } => {
                self.must_not_compile(&mut module, line)
            }
            WastDirective::AssertMalformedCustom { mut module, .. } => Step::Decided {
                // A malformed annotation is rejected by the text parser.
                result: match module.encode() {
                    Err(_) => Ok(()),
                    Ok(_) => Err("the malformed annotation was accepted".into()),
                },
                line,
            },
            WastDirective::AssertInvalidCustom { .. } => Step::Skipped {
                why: "wafer ignores custom sections, so their contents are never invalid".into(),
                line,
            },
            WastDirective::AssertException { mut exec, .. } => {
                self.execute(&mut exec, Expect::Exception, line)
            }
            WastDirective::AssertSuspension { .. } => Step::Skipped {
                why: "stack switching".into(),
                line,
            },
            WastDirective::Thread(_) | WastDirective::Wait { .. } => Step::Skipped {
                why: "threads".into(),
                line,
            },
        };
        self.plan.steps.push(step);
    }
}

/// Plans the script `text`; `features` are those of the suite version it belongs to
/// (Wasm 2.0 scripts expect 3.0 features to be invalid).
pub fn plan(text: &str, features: wasmparser::WasmFeatures) -> Result<Plan, String> {
    // names.wast deliberately uses bidirectional-override characters in names.
    let mut lexer = wast::lexer::Lexer::new(text);
    lexer.allow_confusing_unicode(true);
    let buffer = wast::parser::ParseBuffer::new_with_lexer(lexer).map_err(|e| e.to_string())?;
    let script = wast::parser::parse::<wast::Wast<'_>>(&buffer).map_err(|e| e.to_string())?;
    let spectest = wat::parse_str(SPECTEST).expect("the spectest module is valid");
    let owned = text.to_string();
    let mut planner = Planner {
        plan: Plan {
            instances: Vec::new(),
            steps: Vec::new(),
        },
        registry: HashMap::new(),
        names: HashMap::new(),
        definitions: HashMap::new(),
        current: None,
        line_of: Box::new(move |span| span.linecol_in(&owned).0 + 1),
        features,
    };
    planner
        .add_instance(spectest, 0)
        .expect("the spectest module compiles");
    planner.plan.steps.push(Step::Instantiate {
        instance: 0,
        expect: Expect::Success,
        assertion: false,
        line: 0,
    });
    for directive in script.directives {
        planner.directive(directive);
    }
    Ok(planner.plan)
}
