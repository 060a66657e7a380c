//! The runtime's layers hold: every import between its files points down the layer list, and
//! no files of the runtime or of the macros crate import each other in a cycle.
//!
//! The test reads the sources with `syn`, builds the module tree (`mod` items, `#[path]`,
//! inline modules; `#[cfg(test)]` modules are left out), and resolves every `use crate::..`,
//! `use super::..` and `crate::..` path, through re-exports, to the file that defines what it
//! names. A re-export alone is not a dependency; a re-exported name the file also uses is. The
//! layers are the table below, documented in `ARCHITECTURE.md`.
#![deny(warnings, clippy::all)]
#![forbid(unsafe_code)]

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use syn::visit::Visit;

/// The runtime's layers, lowest first: each top-level module (a folder or file under `src/`)
/// sits in one, and imports only from its own layer and the ones before it.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "record: the span record, its values and their names",
        &["record", "semconv"],
    ),
    ("hand-off: the per-thread rings", &["handoff"]),
    ("state: what the hot path reads", &["state"]),
    (
        "hot path: the guard, context, capture, streams",
        &[
            "span",
            "context",
            "evaluation",
            "capture",
            "stream",
            "usage",
            "message",
            "schema",
            "propagation",
        ],
    ),
    (
        "stages: cost, roll-up, tail sampling, content and redaction",
        &["stages"],
    ),
    ("mapper: a record to attributes and `SpanData`", &["mapper"]),
    ("sinks: export worker, host modes, exporters", &["sinks"]),
    (
        "installation: builder, environment, exporter selection",
        &["install"],
    ),
    (
        "facade: the public surface and the expansions' entry points",
        &[
            "lib.rs",
            "private",
            "step",
            "testing",
            "tracing",
            "integrations",
        ],
    ),
];

/// Modules only the facade may import: nothing below installs llmtrace.
const IMPORTED_BY_FACADE_ONLY: &[&str] = &["install"];

#[test]
fn runtime_imports_point_down_the_layers_without_cycles() {
    let graph = Graph::of_crate(&workspace().join("llmtrace-runtime/src"));
    assert!(graph.files.len() > 60, "{} files read", graph.files.len());
    let mut problems = graph.cycles();
    problems.extend(layer_violations(&graph));
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
fn macros_crate_has_no_import_cycles() {
    let graph = Graph::of_crate(&workspace().join("llmtrace-macros/src"));
    assert!(graph.files.len() > 8, "{} files read", graph.files.len());
    let cycles = graph.cycles();
    assert!(cycles.is_empty(), "{}", cycles.join("\n\n"));
}

#[test]
fn every_runtime_module_has_a_layer() {
    let graph = Graph::of_crate(&workspace().join("llmtrace-runtime/src"));
    let unplaced: BTreeSet<String> = graph
        .files
        .iter()
        .map(|f| top_module(f))
        .filter(|m| layer_of(m).is_none())
        .collect();
    assert!(
        unplaced.is_empty(),
        "give these modules a layer in `LAYERS` and in ARCHITECTURE.md: {unplaced:?}"
    );
}

/// The checker itself: a cycle, an upward import and a re-export that is not a dependency, in a
/// crate written to a temporary folder.
#[test]
fn the_checks_catch_a_cycle_and_an_upward_import() {
    let dir = std::env::temp_dir().join(format!("llmtrace-layering-{}", std::process::id()));
    let files: &[(&str, &str)] = &[
        (
            "lib.rs",
            "mod record; mod state; mod sinks; pub use record::Value;",
        ),
        (
            "record/mod.rs",
            "mod value; pub use value::Value; pub(crate) use value::helper;",
        ),
        ("record/value.rs", "pub struct Value; pub fn helper() {}"),
        (
            // Upward (state is above record) and, with `sinks`, a cycle.
            "state/mod.rs",
            "use crate::sinks::Worker; pub(crate) fn get() -> Option<Worker> { None }",
        ),
        (
            "sinks/mod.rs",
            "use crate::record::Value; pub struct Worker(Value); \
             fn f() { crate::state::get(); crate::record::helper(); }",
        ),
    ];
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let graph = Graph::of_crate(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    let edges: BTreeSet<(String, String)> = graph
        .edges
        .iter()
        .map(|e| (e.from.clone(), e.to.clone()))
        .collect();
    let edge = |a: &str, b: &str| (a.to_owned(), b.to_owned());
    // Resolved through the re-exports to the defining file.
    assert!(edges.contains(&edge("sinks/mod.rs", "record/value.rs")));
    assert!(edges.contains(&edge("sinks/mod.rs", "state/mod.rs")));
    assert!(edges.contains(&edge("state/mod.rs", "sinks/mod.rs")));
    // Re-exports only: not dependencies.
    assert!(
        !edges.contains(&edge("lib.rs", "record/value.rs")),
        "{edges:?}"
    );
    assert!(!edges.contains(&edge("record/mod.rs", "record/value.rs")));
    let cycles = graph.cycles();
    assert_eq!(cycles.len(), 1, "{cycles:?}");
    assert!(cycles[0].contains("state/mod.rs") && cycles[0].contains("sinks/mod.rs"));
    let upward = layer_violations(&graph);
    assert!(
        upward
            .iter()
            .any(|p| p.contains("state/mod.rs") && p.contains("sinks/mod.rs")),
        "{upward:?}"
    );
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace holds the tests package")
        .to_path_buf()
}

/// The top-level module a file belongs to: `state/counters.rs` -> `state`, `lib.rs` ->
/// `lib.rs`, `clock.rs` -> `clock`.
fn top_module(file: &str) -> String {
    match file.split_once('/') {
        Some((dir, _)) => dir.to_owned(),
        None if file == "lib.rs" => file.to_owned(),
        None => file.trim_end_matches(".rs").to_owned(),
    }
}

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|(_, mods)| mods.contains(&module))
}

fn layer_violations(graph: &Graph) -> Vec<String> {
    let facade = LAYERS.len() - 1;
    let mut out = Vec::new();
    for e in &graph.edges {
        let (from, to) = (top_module(&e.from), top_module(&e.to));
        let (Some(lf), Some(lt)) = (layer_of(&from), layer_of(&to)) else {
            continue;
        };
        if lt > lf {
            out.push(format!(
                "{} (layer \"{}\") imports {} (layer \"{}\", above it): `{}`",
                e.from, LAYERS[lf].0, e.to, LAYERS[lt].0, e.path
            ));
        } else if IMPORTED_BY_FACADE_ONLY.contains(&to.as_str()) && lf != facade && from != to {
            out.push(format!(
                "{} imports {}, which only the facade may import: `{}`",
                e.from, e.to, e.path
            ));
        }
    }
    out
}

/// One import: `from` depends on `to` through `path`.
#[derive(Debug)]
struct Edge {
    from: String,
    to: String,
    path: String,
}

/// Files (relative to `src/`) and the imports between them.
#[derive(Debug)]
struct Graph {
    files: Vec<String>,
    edges: Vec<Edge>,
}

impl Graph {
    fn of_crate(src: &Path) -> Graph {
        let tree = Tree::read(src);
        let mut edges: Vec<Edge> = Vec::new();
        let mut seen = HashSet::new();
        for (id, module) in tree.modules.iter().enumerate() {
            if module.inline_in.is_some() {
                continue; // its items were collected with its file's
            }
            let file = &tree.files[module.file];
            let mut collect = Collector {
                tree: &tree,
                module: id,
                found: Vec::new(),
                used: None,
            };
            collect.visit_file(&file.ast);
            for (target, path) in collect.found {
                if target != module.file && seen.insert((module.file, target)) {
                    edges.push(Edge {
                        from: tree.files[module.file].rel.clone(),
                        to: tree.files[target].rel.clone(),
                        path,
                    });
                }
            }
        }
        Graph {
            files: tree.files.iter().map(|f| f.rel.clone()).collect(),
            edges,
        }
    }

    /// Every cycle between files (strongly connected components of more than one file), with
    /// the imports that close it.
    fn cycles(&self) -> Vec<String> {
        let index: HashMap<&str, usize> = self
            .files
            .iter()
            .enumerate()
            .map(|(i, f)| (f.as_str(), i))
            .collect();
        let n = self.files.len();
        let mut next = vec![Vec::new(); n];
        for e in &self.edges {
            next[index[e.from.as_str()]].push(index[e.to.as_str()]);
        }
        let mut out = Vec::new();
        for component in strongly_connected(&next) {
            if component.len() < 2 {
                continue;
            }
            let members: BTreeSet<usize> = component.iter().copied().collect();
            let mut text = format!(
                "import cycle between {} files: {}",
                members.len(),
                members
                    .iter()
                    .map(|&i| self.files[i].as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            for e in &self.edges {
                let (a, b) = (index[e.from.as_str()], index[e.to.as_str()]);
                if members.contains(&a) && members.contains(&b) {
                    let _ = write!(text, "\n  {} -> {}: `{}`", e.from, e.to, e.path);
                }
            }
            out.push(text);
        }
        out
    }
}

/// Tarjan's algorithm, iterative.
fn strongly_connected(next: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let n = next.len();
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut out = Vec::new();
    let mut counter = 0;
    for start in 0..n {
        if index[start] != usize::MAX {
            continue;
        }
        let mut work = vec![(start, 0usize)];
        while let Some(&mut (v, ref mut i)) = work.last_mut() {
            if *i == 0 && index[v] == usize::MAX {
                index[v] = counter;
                low[v] = counter;
                counter += 1;
                stack.push(v);
                on_stack[v] = true;
            }
            if let Some(&w) = next[v].get(*i) {
                *i += 1;
                if index[w] == usize::MAX {
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                let mut component = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    component.push(w);
                    if w == v {
                        break;
                    }
                }
                out.push(component);
            }
        }
    }
    out
}

// ---- the module tree and name resolution ------------------------------------------------

struct File {
    rel: String,
    ast: syn::File,
}

struct Module {
    file: usize,
    parent: Option<usize>,
    /// For an inline `mod x { .. }`: the module whose file holds it.
    inline_in: Option<usize>,
    children: BTreeMap<String, usize>,
    items: Vec<syn::Item>,
}

struct Tree {
    files: Vec<File>,
    modules: Vec<Module>,
}

/// What a path names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    Module(usize),
    /// An item defined in this file.
    Item(usize),
}

impl Tree {
    fn read(src: &Path) -> Tree {
        let mut tree = Tree {
            files: Vec::new(),
            modules: Vec::new(),
        };
        tree.load(src, &src.join("lib.rs"), None, true);
        tree
    }

    /// Loads the module in `path` (a file that owns its directory when `dir_owner`) and its
    /// submodules; returns its id.
    fn load(&mut self, src: &Path, path: &Path, parent: Option<usize>, dir_owner: bool) -> usize {
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let ast = syn::parse_file(&text)
            .unwrap_or_else(|e| panic!("cannot parse {}: {e}", path.display()));
        let rel = path
            .strip_prefix(src)
            .expect("under src")
            .to_string_lossy()
            .replace('\\', "/");
        let file = self.files.len();
        let items = ast.items.clone();
        self.files.push(File { rel, ast });
        // Submodules of `a.rs` live in `a/`; of `a/mod.rs` and `lib.rs`, beside it.
        let dir = if dir_owner {
            path.parent().unwrap().to_path_buf()
        } else {
            path.with_extension("")
        };
        self.module(src, file, parent, None, items, &dir)
    }

    fn module(
        &mut self,
        src: &Path,
        file: usize,
        parent: Option<usize>,
        inline_in: Option<usize>,
        items: Vec<syn::Item>,
        dir: &Path,
    ) -> usize {
        let id = self.modules.len();
        self.modules.push(Module {
            file,
            parent,
            inline_in,
            children: BTreeMap::new(),
            items: items.clone(),
        });
        for item in &items {
            let syn::Item::Mod(m) = item else { continue };
            if is_test_only(&m.attrs) {
                continue;
            }
            let name = m.ident.to_string();
            let child = match &m.content {
                Some((_, inner)) => self.module(
                    src,
                    file,
                    Some(id),
                    Some(id),
                    inner.clone(),
                    &dir.join(&name),
                ),
                None => {
                    let (path, owner) = match path_attr(&m.attrs) {
                        Some(p) => {
                            let owner = p.ends_with("mod.rs");
                            (dir.join(p), owner)
                        }
                        None if dir.join(format!("{name}.rs")).exists() => {
                            (dir.join(format!("{name}.rs")), false)
                        }
                        None => (dir.join(&name).join("mod.rs"), true),
                    };
                    self.load(src, &path, Some(id), owner)
                }
            };
            self.modules[id].children.insert(name, child);
        }
        id
    }

    fn root(&self) -> usize {
        0
    }

    /// What `name` means inside `module`, following `use` items (depth-bounded).
    fn lookup(&self, module: usize, name: &str, depth: usize) -> Option<Target> {
        if depth > 24 {
            return None;
        }
        let m = &self.modules[module];
        if let Some(&child) = m.children.get(name) {
            return Some(Target::Module(child));
        }
        if m.items.iter().any(|item| defines(item, name)) {
            return Some(Target::Item(m.file));
        }
        for item in &m.items {
            if let syn::Item::Use(u) = item {
                if let Some(t) = self.lookup_in_use(module, &u.tree, &mut Vec::new(), name, depth) {
                    return Some(t);
                }
            }
        }
        // `#[macro_export]` macros live at the crate root whatever their module.
        if module == self.root() {
            for (i, f) in self.files.iter().enumerate() {
                if f.ast.items.iter().any(|item| exports_macro(item, name)) {
                    return Some(Target::Item(i));
                }
            }
        }
        None
    }

    fn lookup_in_use(
        &self,
        module: usize,
        tree: &syn::UseTree,
        prefix: &mut Vec<String>,
        name: &str,
        depth: usize,
    ) -> Option<Target> {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                let t = self.lookup_in_use(module, &p.tree, prefix, name, depth);
                prefix.pop();
                t
            }
            syn::UseTree::Name(n) => {
                let ident = n.ident.to_string();
                if ident == "self" {
                    (prefix.last().map(String::as_str) == Some(name))
                        .then(|| self.resolve(module, prefix, depth + 1))
                        .flatten()
                } else if ident == name {
                    let mut full = prefix.clone();
                    full.push(ident);
                    self.resolve(module, &full, depth + 1)
                } else {
                    None
                }
            }
            syn::UseTree::Rename(r) => {
                if r.rename == name {
                    let mut full = prefix.clone();
                    if r.ident != "self" {
                        full.push(r.ident.to_string());
                    }
                    self.resolve(module, &full, depth + 1)
                } else {
                    None
                }
            }
            syn::UseTree::Glob(_) => match self.resolve(module, prefix, depth + 1) {
                Some(Target::Module(m)) if m != module => self.lookup(m, name, depth + 1),
                _ => None,
            },
            syn::UseTree::Group(g) => g
                .items
                .iter()
                .find_map(|t| self.lookup_in_use(module, t, prefix, name, depth)),
        }
    }

    /// What the path `segments`, written in `module`, names inside this crate (`None` for
    /// other crates and the prelude).
    fn resolve(&self, module: usize, segments: &[String], depth: usize) -> Option<Target> {
        let (first, rest) = segments.split_first()?;
        let mut at = match first.as_str() {
            "crate" => Target::Module(self.root()),
            "self" => Target::Module(module),
            "super" => Target::Module(self.modules[module].parent?),
            name => self.lookup(module, name, depth)?,
        };
        for seg in rest {
            let Target::Module(m) = at else {
                break; // an associated item or variant: the item's file
            };
            at = match seg.as_str() {
                "super" => Target::Module(self.modules[m].parent?),
                "self" => Target::Module(m),
                name => match self.lookup(m, name, depth) {
                    Some(t) => t,
                    // Declared by a macro, or in a module left out: the module's file.
                    None => break,
                },
            };
        }
        Some(at)
    }

    fn file_of(&self, target: Target) -> usize {
        match target {
            Target::Module(m) => self.modules[m].file,
            Target::Item(file) => file,
        }
    }
}

/// Whether an item is compiled only for tests (`#[cfg(test)]`, `#[cfg(all(test, ..))]`).
fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.meta.require_list().is_ok_and(|l| {
                l.tokens
                    .to_string()
                    .split(|c: char| !c.is_alphanumeric() && c != '_')
                    .any(|w| w == "test")
            })
    })
}

fn path_attr(attrs: &[syn::Attribute]) -> Option<String> {
    attrs.iter().find_map(|a| {
        if !a.path().is_ident("path") {
            return None;
        }
        match &a.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        }
    })
}

fn defines(item: &syn::Item, name: &str) -> bool {
    let ident = match item {
        syn::Item::Const(i) => &i.ident,
        syn::Item::Enum(i) => &i.ident,
        syn::Item::Fn(i) => &i.sig.ident,
        syn::Item::Static(i) => &i.ident,
        syn::Item::Struct(i) => &i.ident,
        syn::Item::Trait(i) => &i.ident,
        syn::Item::TraitAlias(i) => &i.ident,
        syn::Item::Type(i) => &i.ident,
        syn::Item::Union(i) => &i.ident,
        syn::Item::Macro(m) => match &m.ident {
            Some(ident) => ident,
            None => return macro_defines(m, name),
        },
        _ => return false,
    };
    ident == name
}

/// Items declared by a macro call at module level (`thread_local! { static NAME .. }`).
fn macro_defines(m: &syn::ItemMacro, name: &str) -> bool {
    m.mac.path.is_ident("thread_local")
        && m.mac
            .tokens
            .to_string()
            .split_whitespace()
            .any(|w| w == name)
}

fn exports_macro(item: &syn::Item, name: &str) -> bool {
    matches!(item, syn::Item::Macro(m)
        if m.ident.as_ref().is_some_and(|i| i == name)
            && m.attrs.iter().any(|a| a.path().is_ident("macro_export")))
}

// ---- collecting the imports of one file -------------------------------------------------

struct Collector<'a> {
    tree: &'a Tree,
    /// The module being visited (changes inside inline modules).
    module: usize,
    found: Vec<(usize, String)>,
    /// Identifiers the file uses outside its `use` items.
    used: Option<HashSet<String>>,
}

impl Collector<'_> {
    fn add(&mut self, segments: &[String]) {
        if let Some(t) = self.tree.resolve(self.module, segments, 0) {
            let file = self.tree.file_of(t);
            self.found.push((file, segments.join("::")));
        }
    }

    /// The leaves of a `use` tree: each full path, with the name it binds.
    fn use_leaves(
        tree: &syn::UseTree,
        prefix: &mut Vec<String>,
        out: &mut Vec<(Vec<String>, String)>,
    ) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                Self::use_leaves(&p.tree, prefix, out);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                let mut full = prefix.clone();
                let bound = if n.ident == "self" {
                    prefix.last().cloned().unwrap_or_default()
                } else {
                    full.push(n.ident.to_string());
                    n.ident.to_string()
                };
                out.push((full, bound));
            }
            syn::UseTree::Rename(r) => {
                let mut full = prefix.clone();
                if r.ident != "self" {
                    full.push(r.ident.to_string());
                }
                out.push((full, r.rename.to_string()));
            }
            syn::UseTree::Glob(_) => out.push((prefix.clone(), "*".into())),
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    Self::use_leaves(t, prefix, out);
                }
            }
        }
    }
}

/// Every name a file uses in a path outside its `use` items (types, functions, constants; in
/// macro calls, every identifier), to tell a re-export that is also used from one that is not.
struct Idents(HashSet<String>);

impl<'ast> Visit<'ast> for Idents {
    fn visit_item_use(&mut self, _: &'ast syn::ItemUse) {}

    fn visit_path(&mut self, p: &'ast syn::Path) {
        self.0
            .extend(p.segments.iter().map(|s| s.ident.to_string()));
        syn::visit::visit_path(self, p);
    }

    // A one-segment path in an expression is most often a local variable (`scope` in
    // `Ctx { scope, .. }`), named like a re-exported function by chance: only a call counts.
    fn visit_expr_path(&mut self, e: &'ast syn::ExprPath) {
        if e.path.segments.len() > 1 {
            self.visit_path(&e.path);
        }
    }

    fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
        if let syn::Expr::Path(p) = &*c.func {
            self.visit_path(&p.path);
        }
        syn::visit::visit_expr_call(self, c);
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        syn::visit::visit_macro(self, m);
        // Names inside macro calls (`format_args!(.., x)`, `matches!(v, Kind::A)`).
        collect_token_idents(m.tokens.clone(), &mut self.0);
    }
}

fn collect_token_idents(tokens: proc_macro2::TokenStream, out: &mut HashSet<String>) {
    for t in tokens {
        match t {
            proc_macro2::TokenTree::Ident(i) => {
                out.insert(i.to_string());
            }
            proc_macro2::TokenTree::Group(g) => collect_token_idents(g.stream(), out),
            _ => {}
        }
    }
}

impl<'ast> Visit<'ast> for Collector<'_> {
    fn visit_file(&mut self, file: &'ast syn::File) {
        let mut idents = Idents(HashSet::new());
        idents.visit_file(file);
        self.used = Some(idents.0);
        syn::visit::visit_file(self, file);
    }

    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        if is_test_only(&m.attrs) || m.content.is_none() {
            return;
        }
        let outer = self.module;
        if let Some(&child) = self.tree.modules[outer].children.get(&m.ident.to_string()) {
            self.module = child;
            syn::visit::visit_item_mod(self, m);
            self.module = outer;
        }
    }

    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        if !is_test_only(&f.attrs) {
            syn::visit::visit_item_fn(self, f);
        }
    }

    fn visit_item_impl(&mut self, i: &'ast syn::ItemImpl) {
        if !is_test_only(&i.attrs) {
            syn::visit::visit_item_impl(self, i);
        }
    }

    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        if is_test_only(&u.attrs) {
            return;
        }
        let reexport = !matches!(u.vis, syn::Visibility::Inherited);
        let mut leaves = Vec::new();
        Self::use_leaves(&u.tree, &mut Vec::new(), &mut leaves);
        for (path, bound) in leaves {
            let local = matches!(
                path.first().map(String::as_str),
                Some("crate" | "self" | "super")
            ) || self.tree.modules[self.module]
                .children
                .contains_key(&path[0]);
            if !local {
                continue;
            }
            // A re-export is a dependency only when the file uses the name itself.
            if reexport && bound != "*" && !self.used.as_ref().is_some_and(|u| u.contains(&bound)) {
                continue;
            }
            self.add(&path);
        }
    }

    fn visit_path(&mut self, p: &'ast syn::Path) {
        let segments: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
        if segments.len() > 1 {
            let first = segments[0].as_str();
            let local = matches!(first, "crate" | "self" | "super")
                || matches!(
                    self.tree.lookup(self.module, first, 0),
                    Some(Target::Module(_))
                );
            if local {
                self.add(&segments);
            }
        }
        syn::visit::visit_path(self, p);
    }
}
