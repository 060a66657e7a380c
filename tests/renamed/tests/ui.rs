//! Compile-and-run cases with the runtime renamed in Cargo.toml, in their own crates (trybuild),
//! so that the renamed dependency is the only name the runtime has there.

#[test]
fn renamed_runtime_without_crate_path() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
}
