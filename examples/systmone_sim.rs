//! Placeholder: the owning crate's issue fills this example in.
fn main() {
    println!("not implemented yet");
}
