//! One function per request: the dispatch from a decoded [`Request`] to the group of
//! functions that answers it ([`super::session`], [`super::record`], [`super::diary`]).

use systmone_api as api;
use systmone_api::{Request, Response};

use crate::behaviour::{Refusal, WriteContext};
use crate::gateway::Gateway;
use crate::handler::{diary, record, session};

/// Answers one request; `exit` is set by `ExitClient` (whether to restart).
pub(super) fn run(
    gateway: &Gateway,
    request: &Request,
    ctx: WriteContext,
    exit: &mut Option<bool>,
) -> Result<Response, Refusal> {
    match request {
        Request::GetFunctions(_) => session::get_functions(),
        Request::GetOrganisationMetaData(r) => Ok(session::organisation_meta_data(
            gateway,
            &gateway.org.lock(),
            r.logged_on_user_only,
        )
        .into()),
        Request::GetCurrentActivity(_) => session::get_current_activity(gateway),
        Request::GetCurrentSelection(_) => session::get_current_selection(gateway),
        Request::PatientSearch(r) => record::patient_search(gateway, r),
        Request::GetPatientRecord(r) => record::get_patient_record(gateway, r),
        Request::UpdatePatientRecord(r) => record::update_patient_record(gateway, r, ctx),
        Request::GetDocument(r) => record::get_document(gateway, r),
        Request::DeletePatientRecord(r) => record::delete_patient_record(gateway, r, ctx),
        Request::GetAppointmentSlots(r) => diary::get_appointment_slots(gateway, r),
        Request::GetDiary(r) => diary::get_diary(gateway, r),
        Request::ExitClient(r) => {
            *exit = Some(r.restart);
            Ok(api::exit_client::v1::Response::default().into())
        }
        Request::DataExtract(r) => session::data_extract(r),
        Request::LaunchFunctionality(r) => record::launch_functionality(gateway, r),
        Request::GetXSDFiles(r) => session::get_xsd_files(r),
        Request::GetReferenceData(_) => session::get_reference_data(gateway),
        Request::IsPatientRetrieved(_) => session::is_patient_retrieved(gateway),
        other => Err(Refusal::permanent(format!(
            "Function {} is not supported by this client",
            other.function()
        ))),
    }
}
