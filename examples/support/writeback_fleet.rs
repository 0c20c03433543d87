//! What the writeback example adds to run as one worker of a fleet: generated fictitious notes
//! (`--generate`), and the gateways the engine files through (the example's own pool, or
//! gateway leases on a shared PostgreSQL outbox), printing a line as each write is answered.

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use nhs_integration::systmone_writeback::client::PoolGateways;
use nhs_integration::systmone_writeback::{
    Author, CaseNote, EntriesQuery, FleetGateways, GatewayError, Gateways, JournalEntries,
    JournalWrite, NhsNumber, PatientIdentity, RecordDemographics, Sex, SystmOneUsername,
    WriteReceipt,
};

type Error = Box<dyn std::error::Error>;

/// A fictitious patient: NHS number, surname, date of birth (year, month, day), sex.
type Patient = (&'static str, &'static str, (i32, u32, u32), Sex);

/// The built-in organisation's fictitious patients the generated notes go to.
const PATIENTS: [Patient; 5] = [
    ("9990001006", "Example", (1970, 5, 14), Sex::Female),
    ("9990001014", "Sample", (1985, 11, 2), Sex::Male),
    ("9990001022", "Testcase", (1992, 1, 30), Sex::Female),
    ("9990001030", "Example", (2001, 7, 9), Sex::Male),
    ("9990001049", "Fictional", (1958, 3, 21), Sex::Indeterminate),
];

/// `count` fictitious notes labelled with `tag`, spread over five patients, authored in turn by
/// a link worker with a SystmOne username and by one without (named in `Event@DoneBy`).
pub fn generated_notes(tag: &str, count: usize) -> Result<Vec<CaseNote>, Error> {
    let with_username = Author::with_username(
        "Lee Worker (Link worker)",
        SystmOneUsername::try_from("lworker0042")?,
    )?;
    let named = Author::named("Sam Patel (Link worker, Example Social Prescribing)")?;
    (0..count)
        .map(|i| {
            let (nhs, surname, (y, m, d), sex) = &PATIENTS[i % PATIENTS.len()];
            let patient = PatientIdentity::new(
                nhs.parse::<NhsNumber>()?,
                surname,
                NaiveDate::from_ymd_opt(*y, *m, *d).ok_or("bad date")?,
                sex.clone(),
            )?;
            let author = if i % 2 == 0 {
                with_username.clone()
            } else {
                named.clone()
            };
            Ok(CaseNote::new(
                patient,
                author,
                &format!("Generated note {i} from {tag}: telephone review, no concerns."),
            )?)
        })
        .collect()
}

/// Where the example's engine files: its own pool of Gateway PCs, or the gateways this worker
/// holds leases on (a shared outbox).
pub enum ExampleGateways {
    /// Every gateway, owned by this process alone.
    Pool(PoolGateways),
    /// Gateway leases shared with the other workers on the same PostgreSQL outbox.
    Fleet(Arc<FleetGateways>),
}

impl ExampleGateways {
    /// Stops the clients (and gives gateway leases up).
    pub async fn shutdown(&self) {
        match self {
            Self::Pool(pool) => pool.pool().shutdown().await,
            Self::Fleet(fleet) => fleet.shutdown().await,
        }
    }
}

/// [`ExampleGateways`] that print a line when a write is answered, then wait `stall` before
/// the engine may record it (`--stall-after-write-ms`: a crash window for kill tests).
pub struct Announced {
    /// The gateways.
    pub inner: ExampleGateways,
    /// The wait after each answered write.
    pub stall: Duration,
}

impl Gateways for Announced {
    async fn read_demographics(
        &self,
        nhs_number: &NhsNumber,
    ) -> Result<RecordDemographics, GatewayError> {
        match &self.inner {
            ExampleGateways::Pool(pool) => pool.read_demographics(nhs_number).await,
            ExampleGateways::Fleet(fleet) => fleet.read_demographics(nhs_number).await,
        }
    }

    async fn write_note(&self, write: &JournalWrite) -> Result<WriteReceipt, GatewayError> {
        let receipt = match &self.inner {
            ExampleGateways::Pool(pool) => pool.write_note(write).await,
            ExampleGateways::Fleet(fleet) => fleet.write_note(write).await,
        }?;
        // The last narrative line is the note's reference (no patient details).
        println!(
            "  write answered by {}: {}",
            receipt.gateway,
            write.narrative_lines.last().map_or("", String::as_str)
        );
        if !self.stall.is_zero() {
            tokio::time::sleep(self.stall).await;
        }
        Ok(receipt)
    }

    async fn read_entries(&self, query: &EntriesQuery) -> Result<JournalEntries, GatewayError> {
        match &self.inner {
            ExampleGateways::Pool(pool) => pool.read_entries(query).await,
            ExampleGateways::Fleet(fleet) => fleet.read_entries(query).await,
        }
    }
}
