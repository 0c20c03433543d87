//! Record locking (reference §9.2): whether a patient-record function may run and what state
//! the record is left in (`LeaveRecordOpen`).

use nhs_identifiers::NhsNumber;

use crate::behaviour::refusal::Refusal;
use crate::organisation::{OrgState, RecordHolder};

/// `RecordState` after a patient-record function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RecordState {
    Open,
    Closed,
}

/// Decides whether a patient-record function may run and what state the record is left in.
/// Without `LeaveRecordOpen`: reads always go ahead; writes need the record not open anywhere.
/// With it: the record must be free or already open visibly in this gateway; it stays open.
pub(crate) fn access_record(
    state: &mut OrgState,
    gateway: u64,
    nhs: &NhsNumber,
    leave_open: bool,
    writes: bool,
) -> Result<RecordState, Refusal> {
    let holder = state.open_records.get(nhs).copied();
    if leave_open {
        let mine = RecordHolder::Gateway {
            id: gateway,
            visible: true,
        };
        match holder {
            Some(h) if h == mine => Ok(RecordState::Open),
            Some(_) => Err(Refusal::record_in_use()),
            None => {
                // The client shows one patient at a time: another record open here is saved
                // and closed first.
                if let Some(previous) = open_in(state, gateway) {
                    state.save_and_close(&previous);
                }
                state.open_records.insert(*nhs, mine);
                Ok(RecordState::Open)
            }
        }
    } else {
        match holder {
            None => Ok(RecordState::Closed),
            Some(_) if !writes => Ok(RecordState::Open),
            Some(_) => Err(Refusal::record_in_use()),
        }
    }
}

/// The patient open visibly in this gateway, if any.
pub(crate) fn open_in(state: &OrgState, gateway: u64) -> Option<NhsNumber> {
    state
        .open_records
        .iter()
        .find_map(|(nhs, holder)| match holder {
            RecordHolder::Gateway { id, visible: true } if *id == gateway => Some(*nhs),
            _ => None,
        })
}
