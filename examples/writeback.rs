//! The README's main command: `cargo run --example writeback`.
//!
//! Until the SystmOne writeback crate lands this only shows the identifier layer it will use.
use nhs_integration::nhs_identifiers::{NhsNumber, scan};

fn main() {
    let patient = NhsNumber::fictitious(42);
    println!("writeback example (foundation stage)");
    println!("- fictitious patient NHS number, as logs show it: {patient}");
    let note = format!(
        "Link worker call; patient {} agreed a walking group.",
        patient.expose_spaced()
    );
    println!(
        "- a note with the number redacted for non-clinical channels: {}",
        scan::redact(&note)
    );
    println!(
        "- the SystmOne simulator, client and writeback engine are not built yet: nothing was filed"
    );
}
